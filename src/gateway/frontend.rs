//! The build sequence, in the official frontend's order (gateway-protocol.md §14):
//! Ping -> options -> load the Dockerfile -> forward on `# syntax` -> `.dockerignore` ->
//! plan -> resolve base images concurrently -> convert -> Solve -> Return -> exit.

use std::collections::BTreeMap;

use futures::future::join_all;

use crate::image::Platform;
use crate::pipeline::{self, BaseImage, ConvertContext};
use crate::proto::moby::buildkit::v1::frontend::{self as gw, ResolveImageConfigRequest};
use crate::proto::pb;

use super::client::{Client, Daemon, PendingDaemon};
use super::errors::{self, SourceLocation};
use super::load::{load_context_dockerignore, load_context_files, load_dockerfile, source_info};
use super::options::{GatewayOptions, attrs_from_env};
use super::result::{Solved, assemble_result};
use super::stats;
use super::stdio;

/// Runs the frontend over stdio, then exits the process; `started` is the start of `main`.
///
/// It exits without dropping the runtime: tokio's stdin reader thread is blocked in `read`,
/// dropping the runtime would wait for it, and BuildKit waits for the exit.
pub fn serve(started: std::time::Instant) -> ! {
    stats::init(started);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stager: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(run());
    stats::report();
    std::process::exit(code)
}

async fn run() -> i32 {
    let span = stats::span("connect");
    let connected = stdio::connect().await;
    span.end();
    let channel = match connected {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stager: {}", super::Error::from(e));
            return 1;
        }
    };
    let mut client = Client::new(channel);
    // Ping goes out first; its answer is awaited where caps are needed. The inputs, which
    // decide where the Dockerfile comes from, are asked for meanwhile.
    let daemon = PendingDaemon::start(&client);
    client.prefetch_inputs().await;
    let outcome = build(&mut client, &daemon).await;
    let returned = match outcome {
        Ok(result) => with_deadline(client.return_result(result))
            .await
            .map(|()| 0),
        Err(failure) => {
            eprintln!("stager: {}", failure.message);
            with_deadline(client.return_error(failure.into_status()))
                .await
                .map(|()| 1)
        }
    };
    returned.unwrap_or_else(|e| {
        eprintln!("stager: {e}");
        1
    })
}

/// `Return` must not keep the process alive if the daemon never answers: once the result is
/// sent the daemon only waits for the exit.
async fn with_deadline(
    call: impl std::future::Future<Output = Result<(), super::Error>>,
) -> Result<(), super::Error> {
    match tokio::time::timeout(std::time::Duration::from_secs(10), call).await {
        Ok(result) => result,
        Err(_) => {
            eprintln!("stager: no answer to Return after 10s; exiting");
            Ok(())
        }
    }
}

/// A build error on its way to `Return`, with the Dockerfile when it names a line.
pub(super) struct Failure {
    pub(super) message: String,
    filename: String,
    dockerfile: Box<[u8]>,
    pub(super) ranges: Vec<(u32, u32)>,
    /// Typed details besides the source location.
    pub(super) details: Vec<prost_types::Any>,
    /// The definition that loaded the Dockerfile (for the source detail) and the image an
    /// image-resolution error is about; boxed, as failures travel in every `Result`.
    context: Option<Box<FailureContext>>,
}

/// What some failures know besides their message and location.
#[derive(Default)]
struct FailureContext {
    definition: Option<pb::Definition>,
    image: Option<String>,
}

impl Failure {
    /// A pipeline error with the Dockerfile it names lines of.
    fn located(e: pipeline::Error, filename: &str, dockerfile: &[u8]) -> Failure {
        Failure {
            message: e.located_message(filename),
            filename: filename.to_string(),
            dockerfile: dockerfile.into(),
            ranges: e.ranges(),
            details: Vec::new(),
            context: None,
        }
    }

    /// [`Failure::located`], with the definition that loaded the Dockerfile.
    fn located_in(
        e: pipeline::Error,
        filename: &str,
        dockerfile: &[u8],
        definition: &pb::Definition,
    ) -> Failure {
        Failure {
            context: Some(Box::new(FailureContext {
                definition: Some(definition.clone()),
                image: None,
            })),
            ..Failure::located(e, filename, dockerfile)
        }
    }

    pub(super) fn plain(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            filename: String::new(),
            dockerfile: Box::default(),
            ranges: Vec::new(),
            details: Vec::new(),
            context: None,
        }
    }

    pub(super) fn into_status(self) -> crate::proto::google::rpc::Status {
        let location = (!self.ranges.is_empty()).then(|| SourceLocation {
            filename: &self.filename,
            data: &self.dockerfile,
            ranges: self.ranges.clone(),
            definition: self.context.as_ref().and_then(|c| c.definition.as_ref()),
        });
        let mut status = errors::status(self.message, location);
        status.details.extend(self.details);
        status
    }
}

impl From<super::Error> for Failure {
    fn from(e: super::Error) -> Failure {
        match e {
            super::Error::Rpc { status, .. } => Failure::plain(status.message()),
            other => Failure::plain(other.to_string()),
        }
    }
}

async fn build(client: &mut Client, daemon: &PendingDaemon) -> Result<gw::Result, Failure> {
    let attrs = attrs_from_env(std::env::vars());
    let session = std::env::var("BUILDKIT_SESSION_ID").unwrap_or_default();
    let workers = std::env::var("BUILDKIT_WORKERS").ok();
    let platform = workers
        .as_deref()
        .and_then(super::options::first_worker_platform);
    build_pending(client, daemon, attrs, session, platform).await
}

/// The build, given the frontend attributes and the session, with Ping answered (tests).
#[cfg(test)]
pub(super) async fn build_with(
    client: &mut Client,
    daemon: &Daemon,
    attrs: BTreeMap<String, String>,
    session: String,
) -> Result<gw::Result, Failure> {
    let daemon = PendingDaemon::ready(daemon.clone());
    build_pending(client, &daemon, attrs, session, None).await
}

/// The daemon's answer to Ping, or the error that it did not answer.
pub(super) async fn answered(daemon: &PendingDaemon) -> Result<Daemon, Failure> {
    daemon.get().await.map_err(Failure::plain)
}

/// [`build_with`] while Ping may be under way; `build_platform` is the first worker's first
/// platform when the environment names it (else Ping's answer is awaited for it).
pub(super) async fn build_pending(
    client: &mut Client,
    daemon: &PendingDaemon,
    attrs: BTreeMap<String, String>,
    session: String,
    build_platform: Option<Platform>,
) -> Result<gw::Result, Failure> {
    let build_platform = match build_platform {
        Some(platform) => platform,
        None => answered(daemon)
            .await?
            .worker_platforms
            .first()
            .map(|p| {
                Platform::new(
                    &p.os,
                    &p.architecture,
                    (!p.variant.is_empty()).then_some(p.variant.as_str()),
                )
            })
            .unwrap_or_else(Platform::host),
    };
    let mut opts = GatewayOptions::from_attrs(attrs, build_platform, session)
        .map_err(|e| Failure::plain(e.to_string()))?;

    let missing: Vec<(String, bool)> = (opts.missing_caps().into_iter())
        .map(|(cap, forwardable)| (cap.to_string(), forwardable))
        .collect();
    if let Some((cap, _)) = missing.iter().find(|(_, forwardable)| !forwardable) {
        return Err(Failure::plain(format!(
            "unsupported frontend capability {cap}"
        )));
    }
    let dockerfile_source = super::remote::init(client, daemon, &mut opts).await?;
    let span = stats::span("load-dockerfile");
    let loaded = load_dockerfile(client, &opts, dockerfile_source.as_ref()).await?;
    span.end();
    if opts.cmdline.is_none() {
        if let Some(syntax) = opts.syntax_arg.clone() {
            return forward(client, &opts, &syntax).await;
        }
        if let Some((syntax, line)) = crate::syntax::detect_syntax(&loaded.bytes) {
            // A failure of the named frontend points at the directive, as in 1.26.
            return forward(client, &opts, &syntax).await.map_err(|f| {
                if !f.ranges.is_empty() {
                    return f;
                }
                let line = u32::try_from(line).unwrap_or(1);
                Failure {
                    filename: opts.build.filename.clone(),
                    dockerfile: loaded.bytes.clone().into(),
                    ranges: vec![(line, line)],
                    context: Some(Box::new(FailureContext {
                        definition: Some(loaded.definition.clone()),
                        image: None,
                    })),
                    ..f
                }
            });
        }
    }
    if let Some(request) = &opts.request_id {
        if request == super::lint::REQUEST {
            let ignore = match &loaded.dockerignore {
                _ if opts.build.main_context.is_some() => None,
                Some(bytes) => Some(bytes.clone()),
                None => load_context_dockerignore(client, &opts).await?,
            };
            let mut lint_opts = opts.build.clone();
            if let Some(bytes) = ignore {
                lint_opts.excludes = pipeline::dockerignore_patterns(&bytes);
            }
            return super::lint::answer(client, &lint_opts, &loaded.bytes, &loaded.definition)
                .await;
        }
        if request == "frontend.outline" {
            return outline_answer(client, &loaded.bytes, &opts.build).await;
        }
        if request != CONVERT_LLB {
            return subrequest(request, &loaded.bytes, &opts.build);
        }
    }
    // `--call=convertllb` converts as a build does and answers with the LLB instead of solving.
    let convert_only = opts.request_id.as_deref() == Some(CONVERT_LLB);
    // Not forwarded: whatever the client needs must be implemented here, or the build
    // would silently ignore it (a --build-context, for example).
    if let Some((cap, _)) = missing.first() {
        return Err(Failure::plain(format!(
            "unsupported frontend capability {cap}: stager does not implement it yet"
        )));
    }
    let platforms: Vec<Option<Platform>> = if opts.platforms.is_empty() {
        vec![None]
    } else {
        opts.platforms.iter().cloned().map(Some).collect()
    };
    // The files conversion needs besides the Dockerfile (the main context's `.dockerignore`,
    // the named contexts' inputs and `.dockerignore`s) are read while the first platform's
    // base images resolve: each is a round trip (the `.dockerignore` one to the client), and
    // neither needs the other. The official frontend does them one after the other. Their
    // errors still come first, as when they were read first.
    let context_files = load_context_files(client.clone(), daemon, &opts, &loaded);
    let span = stats::span("parse");
    let parsed = pipeline::parse(&loaded.bytes);
    span.end();
    let (build_opts, parsed, mut first) = match parsed {
        Ok(parsed) => {
            let mut platform_opts = opts.build.clone();
            platform_opts.target_platform = platforms.first().cloned().flatten();
            let span = stats::span("plan");
            // Owned: it travels with the parsed Dockerfile.
            let plan = pipeline::plan(&parsed, &platform_opts).map(crate::plan::Plan::into_owned);
            span.end();
            let images = match &plan {
                Ok(plan) if plan.epoch.remote.is_none() => plan.base_images(),
                _ => Vec::new(),
            };
            let resolving = async {
                if images.is_empty() {
                    return None;
                }
                Some(resolve_images(client, &images, &platform_opts).await)
            };
            let (build_opts, bases) = futures::future::join(context_files, resolving).await;
            (build_opts?, parsed, Some((plan, bases)))
        }
        Err(e) => {
            let build_opts = context_files.await?;
            // Warnings found before the error are still reported, as in 1.26.
            let checks = super::lint::BuildChecks::before_parse_error(&loaded.bytes, &build_opts);
            if let Ok(daemon) = answered(daemon).await {
                let source = source_info(&build_opts, &loaded);
                let _ = checks.finish(client, &daemon, &source).await;
            }
            return Err(Failure::located_in(
                e,
                &build_opts.filename,
                &loaded.bytes,
                &loaded.definition,
            ));
        }
    };

    let with_location = |e: pipeline::Error| {
        Failure::located_in(e, &build_opts.filename, &loaded.bytes, &loaded.definition)
    };
    let source_info = source_info(&build_opts, &loaded);
    let mut checks =
        Some(super::lint::BuildChecks::start(&parsed, &build_opts).map_err(Failure::plain)?);
    // One conversion and one (lazy) Solve per platform, as the official frontend does.
    let mut solved = Vec::new();
    let mut scans = Vec::new();
    for platform in platforms {
        let mut platform_opts = build_opts.clone();
        platform_opts.target_platform = platform;
        let (plan, first_bases) = match first.take() {
            Some((plan, bases)) => (plan, bases),
            None => {
                let span = stats::span("plan");
                let plan = pipeline::plan(&parsed, &platform_opts);
                span.end();
                (plan, None)
            }
        };
        let mut plan = match plan {
            Ok(plan) => plan,
            Err(e) => {
                if let Some(checks) = checks.take()
                    && let Ok(daemon) = answered(daemon).await
                {
                    let _ = checks.finish(client, &daemon, &source_info).await;
                }
                return Err(with_location(e));
            }
        };
        // SOURCE_DATE_EPOCH from a remote source's time: ask the daemon, then plan with it.
        if let Some(remote) = plan.epoch.remote.clone() {
            let pong = answered(daemon).await?;
            let time = super::source_meta::epoch(client, &pong, &platform_opts, &remote).await?;
            platform_opts.source_epoch = Some(time);
            plan = pipeline::plan(&parsed, &platform_opts).map_err(with_location)?;
        }
        // An image that cannot be resolved is reported at the instruction that names it.
        let at_image = |f: Failure, plan: &crate::plan::Plan| match f
            .context
            .as_ref()
            .and_then(|c| c.image.as_deref())
        {
            Some(reference) if f.ranges.is_empty() => match plan.image_lines(reference) {
                Some(lines) => Failure {
                    filename: build_opts.filename.clone(),
                    dockerfile: loaded.bytes.clone().into(),
                    ranges: vec![lines],
                    context: Some(Box::new(FailureContext {
                        definition: Some(loaded.definition.clone()),
                        image: None,
                    })),
                    ..f
                },
                None => f,
            },
            _ => f,
        };
        // A source policy may turn the image of a named context into another source (a local
        // directory, say): the context then is that source, and the plan is made again.
        let mut redirects = 0;
        let mut answer = match first_bases {
            Some(bases) => Some(bases),
            None => Some(resolve_images(client, &plan.base_images(), &platform_opts).await),
        };
        let mut bases = loop {
            let resolved = match answer.take() {
                Some(resolved) => resolved,
                None => resolve_images(client, &plan.base_images(), &platform_opts).await,
            };
            let failure = match resolved {
                Ok(bases) => break bases,
                Err(f) => f,
            };
            let Some((reference, updated)) = super::contexts::policy_redirect(&failure.message)
            else {
                return Err(at_image(failure, &plan));
            };
            let (reference, updated) = (reference.to_string(), updated.to_string());
            if !super::contexts::redirect(
                client,
                &mut platform_opts,
                &reference,
                &updated,
                redirects,
            )
            .await?
            {
                return Err(at_image(failure, &plan));
            }
            redirects += 1;
            plan = pipeline::plan(&parsed, &platform_opts).map_err(with_location)?;
        };
        // Base images' ONBUILD triggers may read stages the target does not: plan again with
        // them, as BuildKit resolves again when triggers bring new dependencies. Each round
        // adds unreached stages, so it ends.
        loop {
            let extra = plan.stages_for_triggers(&platform_opts, |r, p| {
                let key = crate::plan::image_key(&r.to_string(), p);
                let base = bases.get(&key);
                base.and_then(|b| b.config.config.on_build.clone())
                    .unwrap_or_default()
            });
            if extra.is_empty() {
                break;
            }
            platform_opts.trigger_stages.extend(extra);
            plan = pipeline::plan(&parsed, &platform_opts).map_err(with_location)?;
            bases = resolve_images(client, &plan.base_images(), &platform_opts)
                .await
                .map_err(|f| at_image(f, &plan))?;
        }
        // Conversion is the first step that needs the daemon's caps.
        let pong = answered(daemon).await?;
        let ctx = ConvertContext {
            options: &platform_opts,
            llb_caps: pong.llb_caps.ids().map(str::to_string).collect(),
            source_info: Some(source_info.clone()),
        };
        // Checks run for the first platform only, as in the official frontend.
        let sink = checks.as_ref().map(|c| &c.sink);
        let span = stats::span("convert");
        let converted =
            crate::convert::convert_checked(&plan, parsed.dockerfile.escape, &bases, &ctx, sink);
        span.end();
        let converted = match converted {
            Ok(converted) => converted,
            Err(e) => {
                // The findings before the failing instruction still go out as warnings.
                if let Some(checks) = checks.take()
                    && let Ok(daemon) = answered(daemon).await
                {
                    let _ = checks.finish(client, &daemon, &source_info).await;
                }
                return Err(with_location(e.into()));
            }
        };
        if let Some(checks) = checks.take() {
            checks.finish(client, &pong, &source_info).await?;
        }
        if convert_only {
            let json = crate::llb::protojson::convertllb_json(&converted.definition);
            return Ok(gw::Result {
                result: None,
                metadata: BTreeMap::from([
                    ("result.json".to_string(), json.into_bytes()),
                    ("version".to_string(), b"0.1.0".to_vec()),
                ]),
                attestations: BTreeMap::new(),
            });
        }
        let result = client
            .solve(gw::SolveRequest {
                definition: Some(converted.definition.clone()),
                cache_imports: opts.cache_imports.clone(),
                ..gw::SolveRequest::default()
            })
            .await?;
        let id = match result.result {
            Some(gw::result::Result::Ref(r)) => r.id,
            Some(gw::result::Result::RefDeprecated(id)) => id,
            _ => String::new(),
        };
        let reference = gw::Ref {
            id,
            def: Some(converted.definition),
        };
        let base_config = plan
            .target_base_image()
            .and_then(|request| bases.get(&request.key()))
            .map(|base| base.config.to_json());
        let one = Solved {
            platform: platform_opts.target_platform().clone(),
            reference,
            image: converted.image,
            base_config,
            epoch: plan.epoch.unix,
        };
        if opts.sbom.is_some() {
            scans.push(super::sbom::Target {
                id: super::result::export_platform(&one).format_all(),
                core: one.reference.def.clone().unwrap_or_default(),
                extras: converted.sbom_extras,
            });
        }
        solved.push(one);
    }
    let mut result = assemble_result(solved, opts.returns_ref_map());
    if let Some(sbom) = &opts.sbom {
        result.attestations = super::sbom::attest(client, sbom, &opts.build, scans).await?;
    }
    Ok(result)
}

/// The subrequest that returns the converted LLB as JSON (dockerfile 1.20+).
const CONVERT_LLB: &str = "frontend.convertllb";

/// Answers `requestid` after loading (and not forwarding), as the official frontend does:
/// a `Result` with no ref and `result.json`, `result.txt`, `version` metadata.
fn subrequest(
    name: &str,
    bytes: &[u8],
    opts: &crate::options::BuildOptions,
) -> Result<gw::Result, Failure> {
    use crate::outline::{self, Request};
    let Some(request) = Request::from_name(name) else {
        let mut failure = Failure::plain(format!("unsupported request {name}"));
        failure.details.push(errors::subrequest_detail(name));
        return Err(failure);
    };
    let failure = |e: pipeline::Error| Failure::located(e, &opts.filename, bytes);
    let answer = match request {
        Request::Describe => outline::describe(),
        _ => {
            let parsed = pipeline::parse(bytes).map_err(failure)?;
            outline::answer(
                request,
                &parsed.dockerfile,
                &parsed.instructions,
                bytes,
                opts,
            )
            .map_err(|e| failure(e.into()))?
        }
    };
    Ok(gw::Result {
        result: None,
        metadata: answer.metadata(),
        attestations: BTreeMap::new(),
    })
}

/// `frontend.outline` with the target's base images resolved, as the official frontend does:
/// stage ARG defaults expand against their base image's ENV.
async fn outline_answer(
    client: &Client,
    bytes: &[u8],
    opts: &crate::options::BuildOptions,
) -> Result<gw::Result, Failure> {
    let failure = |e: pipeline::Error| Failure::located(e, &opts.filename, bytes);
    let parsed = pipeline::parse(bytes).map_err(failure)?;
    let plan = pipeline::plan(&parsed, opts).map_err(failure)?;
    let resolved = resolve_images(client, &plan.base_images(), opts).await?;
    let configs: BTreeMap<String, crate::image::Image> =
        (resolved.into_iter()).map(|(k, b)| (k, b.config)).collect();
    let outline = crate::outline::outline(
        &plan,
        &parsed.dockerfile,
        &parsed.instructions,
        opts,
        bytes,
        &configs,
    );
    Ok(gw::Result {
        result: None,
        metadata: outline.answer().metadata(),
        attestations: BTreeMap::new(),
    })
}

/// Resolves every base image concurrently; tonic multiplexes the calls on one connection.
pub(super) async fn resolve_images(
    client: &Client,
    images: &[pipeline::ImageRequest],
    opts: &crate::options::BuildOptions,
) -> Result<BTreeMap<String, BaseImage>, Failure> {
    let calls = images.iter().map(|image| {
        let mut client = client.clone();
        let request = ResolveImageConfigRequest {
            r#ref: image.reference.clone(),
            platform: Some(pb::Platform {
                architecture: image.platform.architecture.clone(),
                os: image.platform.os.clone(),
                variant: image.platform.variant.clone().unwrap_or_default(),
                os_version: image.platform.os_version.clone().unwrap_or_default(),
                ..pb::Platform::default()
            }),
            resolve_mode: opts.image_resolve_mode.as_str().into(),
            log_name: if opts.multi_platform {
                let platform = image.platform.format_all();
                format!(
                    "[{platform} internal] load metadata for {}",
                    image.reference
                )
            } else {
                format!("[internal] load metadata for {}", image.reference)
            },
            ..super::contexts::oci_resolve(image, opts)
        };
        let reference = image.reference.clone();
        async move {
            let answer = client.resolve_image_config(request).await;
            (image.key(), reference, answer)
        }
    });
    let mut bases = BTreeMap::new();
    for (key, reference, answer) in join_all(calls).await {
        // Like the official frontend, the error names the image it was about.
        let resolved = answer.map_err(|e| {
            let Failure { message, .. } = Failure::from(e);
            Failure {
                context: Some(Box::new(FailureContext {
                    definition: None,
                    image: Some(reference.clone()),
                })),
                ..Failure::plain(format!("{reference}: {message}"))
            }
        })?;
        let config = crate::image::Image::from_json(&resolved.config)
            .map_err(|e| Failure::plain(format!("invalid image config for {key}: {e}")))?;
        bases.insert(
            key,
            BaseImage {
                digest: resolved.digest,
                config,
            },
        );
    }
    Ok(bases)
}

/// Hands the whole build to the frontend named by `# syntax` (or `BUILDKIT_SYNTAX`).
async fn forward(
    client: &mut Client,
    opts: &GatewayOptions,
    syntax: &str,
) -> Result<gw::Result, Failure> {
    let source = syntax
        .split_whitespace()
        .next()
        .unwrap_or(syntax)
        .to_string();
    let mut frontend_opt = opts.attrs.clone();
    frontend_opt.insert("source".into(), source);
    frontend_opt.insert("cmdline".into(), syntax.to_string());
    Ok(client
        .solve(gw::SolveRequest {
            frontend: "gateway.v0".into(),
            frontend_opt,
            ..gw::SolveRequest::default()
        })
        .await?)
}
