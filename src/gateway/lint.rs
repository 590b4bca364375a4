//! Build checks over the gateway: the `frontend.lint` subrequest (`docker buildx build
//! --check`), and a build's findings sent as `Warn` calls, or failing it with `error=true`.
//!
//! Only the official rules go through the gateway, so that clients see what the official
//! frontend would show; stager's advice is for `stager check`.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use crate::check::{self, BuildError};
use crate::lint::{CheckConfig, Finding, Origin, Sink};
use crate::options::BuildOptions;
use crate::pipeline::{self, Parsed};
use crate::proto::moby::buildkit::v1::frontend as gw;
use crate::proto::pb;

use super::client::{Client, Daemon};
use super::frontend::{Failure, resolve_images};

/// The subrequest name.
pub(super) const REQUEST: &str = "frontend.lint";

/// The gateway capability `Warn` needs.
const WARNINGS_CAP: &str = "gateway.warnings";

/// Answers `frontend.lint`: the findings of every stage (or of the target and what it needs),
/// with base images resolved as for a build; a build error is part of the answer.
pub(super) async fn answer(
    client: &Client,
    opts: &BuildOptions,
    bytes: &[u8],
    definition: &pb::Definition,
) -> Result<gw::Result, Failure> {
    let mut resolve_error = None;
    let mut bases = BTreeMap::new();
    if let Ok(mut plan) = pipeline::parse(bytes)
        .and_then(|p| pipeline::plan(&p, opts).map(crate::plan::Plan::into_owned))
    {
        if opts.target.is_none() {
            plan.reachable = vec![true; plan.stages.len()];
        }
        match resolve_images(client, &plan.base_images(), opts).await {
            Ok(resolved) => bases = resolved,
            Err(failure) => resolve_error = Some(failure.message),
        }
    }
    let mut report = check::run(bytes, opts, &bases, false);
    if let (None, Some(message)) = (&report.error, resolve_error) {
        report.error = Some(BuildError {
            message,
            ranges: Vec::new(),
        });
    }
    let (answer, failed) = check::lint_answer(&report, &opts.filename, bytes, Some(definition));
    let mut metadata = answer.metadata();
    metadata.insert(
        "result.statuscode".into(),
        if failed { b"1".to_vec() } else { b"0".to_vec() },
    );
    Ok(gw::Result {
        result: None,
        metadata,
        attestations: BTreeMap::new(),
    })
}

/// The checks of one build: its options and the findings reported so far.
pub(super) struct BuildChecks {
    config: CheckConfig,
    /// Instructions' own `# check=` comments.
    inline: Vec<((u32, u32), CheckConfig)>,
    /// Where parse-level and dispatch-level checks report.
    pub(super) sink: Sink,
}

impl BuildChecks {
    /// Reads the check options and runs the parse-level rules.
    pub(super) fn start(parsed: &Parsed, opts: &BuildOptions) -> Result<BuildChecks, String> {
        let config = check::config(parsed, opts)?;
        let sink = Sink::default();
        check::official::report(parsed, opts, &sink);
        let inline = check::inline_configs(parsed);
        Ok(BuildChecks {
            config,
            inline,
            sink,
        })
    }

    /// For a Dockerfile that does not parse: the findings of the instructions before the bad
    /// one, which the official frontend has already sent as warnings when it fails.
    pub(super) fn before_parse_error(bytes: &[u8], opts: &BuildOptions) -> BuildChecks {
        let sink = Sink::default();
        let mut config = CheckConfig::default();
        check::report_until(bytes, opts, &sink, &mut config);
        let inline = crate::syntax::parse(bytes)
            .map(|dockerfile| {
                check::inline_configs(&Parsed {
                    dockerfile,
                    instructions: Vec::new(),
                })
            })
            .unwrap_or_default();
        BuildChecks {
            config,
            inline,
            sink,
        }
    }

    /// After the first platform's conversion: sends the findings as warnings when the daemon
    /// takes them, and fails with BuildKit's message under `error=true`.
    pub(super) async fn finish(
        self,
        client: &mut Client,
        daemon: &Daemon,
        source: &pb::SourceInfo,
    ) -> Result<(), Failure> {
        let findings: Vec<Finding> = (self
            .config
            .filter_inline(self.sink.into_findings(), &self.inline))
        .into_iter()
        .filter(|f| f.rule.origin == Origin::Official)
        .collect();
        if daemon.api_caps.has(WARNINGS_CAP) {
            let digest = definition_vertex(source.definition.as_ref());
            for f in &findings {
                // A lost warning must not fail the build, as in the official frontend.
                let _ = client.warn(warn_request(f, &digest, source)).await;
            }
        }
        match self.config.violation(&findings) {
            Some(message) => Err(Failure::plain(message)),
            None => Ok(()),
        }
    }
}

/// The digest of the op that loaded the Dockerfile (the vertex warnings attach to): the last
/// op before the definition's terminal one.
fn definition_vertex(def: Option<&pb::Definition>) -> String {
    let ops = def.map(|d| d.def.as_slice()).unwrap_or_default();
    let op = match ops {
        [.., op, _terminal] => op,
        [op] => op,
        [] => return String::new(),
    };
    let sum = Sha256::digest(op);
    let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn warn_request(f: &Finding, digest: &str, source: &pb::SourceInfo) -> gw::WarnRequest {
    gw::WarnRequest {
        digest: digest.to_string(),
        level: 1,
        short: f.short().into_bytes(),
        detail: vec![f.rule.description.as_bytes().to_vec()],
        url: f.rule.url.to_string(),
        info: Some(source.clone()),
        ranges: f
            .ranges
            .iter()
            .map(|&(start, end)| pb::Range {
                start: Some(pb::Position {
                    line: i32::try_from(start).unwrap_or(i32::MAX),
                    character: 0,
                }),
                end: Some(pb::Position {
                    line: i32::try_from(end).unwrap_or(i32::MAX),
                    character: 0,
                }),
            })
            .collect(),
    }
}
