//! Build checks end to end: what `frontend.lint`, `stager check` and a build's warnings show.
//!
//! In: the Dockerfile bytes, the build options and whatever base image configs are known.
//! Out: a [`Report`]: the findings the `# check=` options let through, in the order BuildKit
//! reports them (parser, instructions, stage names, casing, FROM lines, then dispatch stage by
//! stage), stager's advice after them, and the error that stopped the build if one did.
//! The official rules live where BuildKit runs them: parse-level ones in [`official`],
//! dispatch-level ones in `convert` (reported into a [`Sink`]); ours in [`advice`].

pub mod advice;
pub mod official;
mod report;

use std::collections::{BTreeMap, BTreeSet};

pub use report::{lint_answer, text, to_json};

use crate::convert::BaseImage;
use crate::lint::{CheckConfig, Finding, Sink};
use crate::options::BuildOptions;
use crate::pipeline::{self, Parsed};

/// The build arg that overrides the `# check=` directive, as in the official frontend.
pub const CHECK_BUILD_ARG: &str = "BUILDKIT_DOCKERFILE_CHECK";

/// What a check run found.
#[derive(Clone, Debug)]
pub struct Report {
    /// Findings, filtered by the check options.
    pub findings: Vec<Finding>,
    /// Why the Dockerfile would not build, with its lines.
    pub error: Option<BuildError>,
    /// The options in force.
    pub config: CheckConfig,
}

/// A failure that stopped the checks, as the official `buildError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    /// The message.
    pub message: String,
    /// Line ranges, one per line.
    pub ranges: Vec<(u32, u32)>,
}

impl Report {
    /// `stager check`'s verdict: an error, an error-level finding, or any finding under
    /// `error=true`.
    pub fn fails(&self) -> bool {
        self.error.is_some()
            || self
                .findings
                .iter()
                .any(|f| f.rule.severity == crate::lint::Severity::Error)
            || (self.config.error && !self.findings.is_empty())
    }
}

/// The check options: the `BUILDKIT_DOCKERFILE_CHECK` build arg, else the `# check=` directive.
pub fn config(parsed: &Parsed, opts: &BuildOptions) -> Result<CheckConfig, String> {
    let text = match opts.build_args.get(CHECK_BUILD_ARG) {
        Some(v) => v.clone(),
        None => (parsed.dockerfile.directives.check.as_ref())
            .map(|d| d.value.clone())
            .unwrap_or_default(),
    };
    CheckConfig::parse(&text).map_err(|e| format!("failed to parse check options: {e}"))
}

/// Each instruction's own `# check=` comment (dockerfile 1.21+) with the lines it covers.
pub fn inline_configs(parsed: &Parsed) -> Vec<((u32, u32), CheckConfig)> {
    let line = |l: usize| u32::try_from(l).unwrap_or(u32::MAX);
    (parsed.dockerfile.nodes.iter())
        .filter_map(|n| {
            let config = CheckConfig::from_comments(&n.prev_comment)?;
            Some(((line(n.start_line), line(n.end_line)), config))
        })
        .collect()
}

/// Runs every check. With no target every stage is dispatched, as the official `frontend.lint`
/// does; `advice` adds stager's own rules.
pub fn run(
    bytes: &[u8],
    opts: &BuildOptions,
    bases: &BTreeMap<String, BaseImage>,
    advice: bool,
) -> Report {
    let sink = Sink::default();
    let mut config = CheckConfig::default();
    let error = check_into(bytes, opts, bases, advice, &sink, &mut config).err();
    let inline = crate::syntax::parse(bytes)
        .map(|dockerfile| {
            inline_configs(&Parsed {
                dockerfile,
                instructions: Vec::new(),
            })
        })
        .unwrap_or_default();
    Report {
        findings: config.filter_inline(sink.into_findings(), &inline),
        error,
        config,
    }
}

fn check_into(
    bytes: &[u8],
    opts: &BuildOptions,
    bases: &BTreeMap<String, BaseImage>,
    advice: bool,
    sink: &Sink,
    config: &mut CheckConfig,
) -> Result<(), BuildError> {
    let failed = |e: pipeline::Error| BuildError {
        message: e.to_string(),
        ranges: e.ranges(),
    };
    let parsed = match pipeline::parse(bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            report_until(bytes, opts, sink, config);
            return Err(failed(e));
        }
    };
    *config = self::config(&parsed, opts).map_err(|message| BuildError {
        message,
        ranges: Vec::new(),
    })?;
    official::report(&parsed, opts, sink);
    let mut plan = pipeline::plan(&parsed, opts).map_err(failed)?;
    if opts.target.is_none() {
        plan.reachable = vec![true; plan.stages.len()];
    }
    let ctx = crate::convert::Context {
        options: opts,
        llb_caps: every_cap(),
        source_info: None,
    };
    let converted =
        crate::convert::convert_checked(&plan, parsed.dockerfile.escape, bases, &ctx, Some(sink));
    if advice {
        advice::report(&plan, sink);
    }
    converted.map(|_| ()).map_err(|e| failed(e.into()))
}

/// An instruction that does not parse stops BuildKit's checks where it is: what the
/// instructions before it showed is still reported, under the file's `# check=` options.
pub fn report_until(bytes: &[u8], opts: &BuildOptions, sink: &Sink, config: &mut CheckConfig) {
    let Ok(dockerfile) = crate::syntax::parse(bytes) else {
        return;
    };
    let instructions = (dockerfile.nodes.iter())
        .map_while(|n| crate::instructions::parse_node(n).ok())
        .collect();
    let partial = Parsed {
        dockerfile,
        instructions,
    };
    if let Ok(c) = self::config(&partial, opts) {
        *config = c;
        official::report_instructions(&partial, sink);
    }
}

/// Checks judge the Dockerfile, not a daemon: every capability conversion asks about.
fn every_cap() -> BTreeSet<String> {
    crate::convert::QUERIED_CAPS.map(String::from).into()
}

#[cfg(test)]
mod docs_tests;
#[cfg(test)]
mod tests;
