//! The `stager` binary: a BuildKit frontend when BuildKit starts it, an offline tool otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use stager::image::{Image, Platform, Reference};
use stager::options::BuildOptions;
use stager::pipeline::{self, BaseImage, ConvertContext};

mod impact_cmd;

#[derive(Parser)]
#[command(
    name = "stager",
    version,
    about = "A BuildKit frontend for Dockerfiles"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve BuildKit's gateway API over stdin/stdout (what BuildKit runs; the default).
    Serve,
    /// Parse a Dockerfile.
    Parse {
        /// Print BuildKit's AST dump.
        #[arg(long)]
        dump: bool,
        /// The Dockerfile.
        file: PathBuf,
    },
    /// Print the LLB of a Dockerfile (pipe into `buildctl build`).
    Llb {
        /// Stage to build.
        #[arg(long)]
        target: Option<String>,
        /// `NAME=VALUE` build argument.
        #[arg(long = "build-arg")]
        build_args: Vec<String>,
        /// Target platform, e.g. linux/arm64.
        #[arg(long)]
        platform: Option<String>,
        /// `REF=FILE`: the config JSON of a base image (FROM stays unpinned without one).
        #[arg(long = "image-config")]
        image_configs: Vec<String>,
        /// Convert for the LLB caps this BuildKit release announces (v0.8 = Docker 20.10).
        #[arg(long, default_value = "v0.32", conflicts_with = "caps")]
        daemon: String,
        /// Convert for exactly these comma-separated LLB caps (empty: a daemon with none).
        #[arg(long)]
        caps: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Pb)]
        format: Format,
        /// The Dockerfile.
        file: PathBuf,
    },
    /// List the stages one can build (what `docker buildx build --call=targets` shows).
    Targets {
        /// Output format.
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
        /// The Dockerfile.
        file: PathBuf,
    },
    /// The build args, secrets and SSH sockets a target uses (`--call=outline`).
    Outline {
        /// Stage to outline.
        #[arg(long)]
        target: Option<String>,
        /// `NAME=VALUE` build argument.
        #[arg(long = "build-arg")]
        build_args: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
        /// The Dockerfile.
        file: PathBuf,
    },
    /// Run the build checks (the official rules and stager's multi-stage advice) offline;
    /// exits 1 when a finding reaches the error level or `# check=error=true` has findings.
    Check {
        /// Check only this stage and what it needs (default: every stage).
        #[arg(long)]
        target: Option<String>,
        /// `NAME=VALUE` build argument.
        #[arg(long = "build-arg")]
        build_args: Vec<String>,
        /// `REF=FILE`: the config JSON of a base image (variables of bases without one are
        /// not checked).
        #[arg(long = "image-config")]
        image_configs: Vec<String>,
        /// Only the official frontend's rules.
        #[arg(long)]
        official: bool,
        /// The build context, for its `.dockerignore` (default: the Dockerfile's directory).
        #[arg(long)]
        context: Option<PathBuf>,
        /// Output format: linter lines, or the official lint result JSON.
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
        /// The Dockerfile.
        file: PathBuf,
    },
    /// Predict which steps a change will rebuild, and why, before building.
    Impact {
        /// Stage to build.
        #[arg(long)]
        target: Option<String>,
        /// `NAME=VALUE` build argument of the next build.
        #[arg(long = "build-arg")]
        build_args: Vec<String>,
        /// Target platform, e.g. linux/arm64.
        #[arg(long)]
        platform: Option<String>,
        /// The build context, with its `.dockerignore` (default: the Dockerfile's directory).
        #[arg(long)]
        context: Option<PathBuf>,
        /// A file added, edited or removed since the last build, relative to the context
        /// (`NAME:PATH` for a file of a `--build-context NAME=DIR`).
        #[arg(long = "changed")]
        changed: Vec<String>,
        /// `NAME=VALUE` named context of both builds, as buildx takes it: a directory, or
        /// `docker-image://REF`, a git or http(s) URL.
        #[arg(long = "build-context")]
        build_contexts: Vec<String>,
        /// Changed files from `git diff --name-only REV` and untracked files in the context;
        /// the Dockerfile and `.dockerignore` of the last build from REV too.
        #[arg(long)]
        since: Option<String>,
        /// The Dockerfile of the last build (default: unchanged, or as of --since).
        #[arg(long = "old-dockerfile")]
        old_dockerfile: Option<PathBuf>,
        /// `NAME=VALUE` build argument of the last build (default: the --build-arg values).
        #[arg(long = "old-build-arg")]
        old_build_args: Vec<String>,
        /// Whose cache rules to follow: BuildKit v0.32.2, or v0.8 (Docker 20.10).
        #[arg(long, value_enum, default_value_t = BuildKit::Current)]
        buildkit: BuildKit,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ImpactFormat::Text)]
        format: ImpactFormat,
        /// The Dockerfile.
        file: PathBuf,
    },
    /// The stage graph: edges by kind, pruned stages, parallel width, critical path.
    Graph {
        /// Stage to build.
        #[arg(long)]
        target: Option<String>,
        /// `NAME=VALUE` build argument.
        #[arg(long = "build-arg")]
        build_args: Vec<String>,
        /// Output format.
        #[arg(long, value_enum)]
        format: GraphFormat,
        /// The Dockerfile.
        file: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TextFormat {
    /// The table the official frontend prints.
    Text,
    /// The subrequest's result.json.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    /// Graphviz.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// Machine-readable.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ImpactFormat {
    /// Per stage the first step not cached, totals, advice.
    Text,
    /// Every step with its verdict, reason and line; totals; stages; advice.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum BuildKit {
    /// v0.32.2 and the releases around it.
    Current,
    /// v0.8, embedded in Docker 20.10.
    #[value(name = "v0.8")]
    V0_8,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// A marshaled pb.Definition, as `buildctl build` reads it.
    Pb,
    /// A readable JSON dump.
    Json,
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    // BuildKit starts the frontend with no arguments: serve without building clap's parser.
    if std::env::args_os().len() <= 1 {
        stager::gateway::serve(started)
    }
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => stager::gateway::serve(started),
        Command::Parse { dump, file } => finish(parse(&file, dump)),
        Command::Llb {
            target,
            build_args,
            platform,
            image_configs,
            daemon,
            caps,
            format,
            file,
        } => finish(llb_caps(&daemon, caps.as_deref()).and_then(|llb_caps| {
            llb(
                &file,
                target,
                &build_args,
                platform.as_deref(),
                &image_configs,
                llb_caps,
                format,
            )
        })),
        Command::Check {
            target,
            build_args,
            image_configs,
            official,
            context,
            format,
            file,
        } => match check(
            &file,
            context.as_deref(),
            target,
            &build_args,
            &image_configs,
            !official,
            format,
        ) {
            Ok(true) => ExitCode::FAILURE,
            other => finish(other.map(|_| ())),
        },
        Command::Impact {
            target,
            build_args,
            platform,
            context,
            changed,
            build_contexts,
            since,
            old_dockerfile,
            old_build_args,
            buildkit,
            format,
            file,
        } => finish(impact_cmd::run(&impact_cmd::Args {
            target,
            build_args,
            platform,
            context,
            changed,
            build_contexts,
            since,
            old_dockerfile,
            old_build_args,
            rules: match buildkit {
                BuildKit::Current => stager::impact::Rules::Current,
                BuildKit::V0_8 => stager::impact::Rules::V0_8,
            },
            json: matches!(format, ImpactFormat::Json),
            file,
        })),
        Command::Targets { format, file } => finish(introspect(&file, None, &[], |p| {
            let answer =
                stager::outline::targets(&p.parsed.dockerfile, &p.parsed.instructions, &p.bytes)?;
            Ok(pick(&answer, format))
        })),
        Command::Outline {
            target,
            build_args,
            format,
            file,
        } => finish(introspect(&file, target, &build_args, |p| {
            let plan = pipeline::plan(&p.parsed, &p.opts)?;
            let outline = stager::outline::outline(
                &plan,
                &p.parsed.dockerfile,
                &p.parsed.instructions,
                &p.opts,
                &p.bytes,
                &BTreeMap::new(),
            );
            Ok(pick(&outline.answer(), format))
        })),
        Command::Graph {
            target,
            build_args,
            format,
            file,
        } => finish(introspect(&file, target, &build_args, |p| {
            let graph = stager::outline::Graph::new(&pipeline::plan(&p.parsed, &p.opts)?);
            Ok(match format {
                GraphFormat::Dot => stager::outline::dot(&graph),
                GraphFormat::Mermaid => stager::outline::mermaid(&graph),
                GraphFormat::Json => stager::outline::json(&graph),
            })
        })),
    }
}

/// A parsed Dockerfile with the options of an introspection command.
struct Input {
    bytes: Vec<u8>,
    opts: BuildOptions,
    parsed: pipeline::Parsed,
}

fn pick(answer: &stager::outline::Answer, format: TextFormat) -> String {
    match format {
        TextFormat::Text => answer.text.clone(),
        TextFormat::Json => format!("{}\n", answer.json),
    }
}

/// Runs `show` on a parsed Dockerfile and prints what it returns.
fn introspect(
    file: &Path,
    target: Option<String>,
    build_args: &[String],
    show: impl FnOnce(&Input) -> Result<String, pipeline::Error>,
) -> anyhow::Result<()> {
    let bytes = read(file)?;
    let mut opts = BuildOptions::new(Platform::host());
    opts.target = target;
    for arg in build_args {
        let (k, v) = arg.split_once('=').unwrap_or((arg, ""));
        opts.build_args.insert(k.to_string(), v.to_string());
    }
    let parsed = pipeline::parse(&bytes).map_err(|e| located(file, e))?;
    let input = Input {
        bytes,
        opts,
        parsed,
    };
    let out = show(&input).map_err(|e| located(file, e))?;
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`stager llb ... | head`) is not an error.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("stager: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn read(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

/// `FILE:LINE: message` for pipeline errors.
fn located(file: &Path, e: pipeline::Error) -> anyhow::Error {
    match e.line() {
        Some(line) => anyhow::anyhow!("{}:{line}: {e}", file.display()),
        None => anyhow::anyhow!("{}: {e}", file.display()),
    }
}

fn parse(file: &Path, dump: bool) -> anyhow::Result<()> {
    let bytes = read(file)?;
    let df = stager::syntax::parse(&bytes).map_err(|e| located(file, e.into()))?;
    let mut out = std::io::stdout().lock();
    if dump {
        writeln!(out, "{}", df.dump())?;
    } else {
        writeln!(out, "{} instructions", df.nodes.len())?;
    }
    Ok(())
}

/// The LLB caps `stager llb` converts for: `--caps`, else those of the `--daemon` release.
fn llb_caps(daemon: &str, caps: Option<&str>) -> anyhow::Result<BTreeSet<String>> {
    if let Some(list) = caps {
        return Ok(list
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect());
    }
    match stager::llb::caps::parse_version(daemon) {
        Some(minor) => Ok(stager::llb::caps::announced_by(minor)),
        None => bail!("--daemon wants a BuildKit version such as v0.8 or v0.32.2, got {daemon:?}"),
    }
}

fn llb(
    file: &Path,
    target: Option<String>,
    build_args: &[String],
    platform: Option<&str>,
    image_configs: &[String],
    llb_caps: BTreeSet<String>,
    format: Format,
) -> anyhow::Result<()> {
    let bytes = read(file)?;
    let mut opts = cli_options(file, target, build_args);
    if let Some(p) = platform {
        opts.target_platform = Some(Platform::parse(p)?);
    }
    let parsed = pipeline::parse(&bytes).map_err(|e| located(file, e))?;
    // The plan borrows the instructions; the syntax tree would only add to the peak.
    let pipeline::Parsed {
        dockerfile,
        instructions,
    } = parsed;
    let escape = dockerfile.escape;
    drop(dockerfile);
    let plan = stager::plan::plan(&instructions, escape, &opts)
        .map_err(|e| located(file, pipeline::Error::from(e)))?;
    let bases = image_configs_for(&plan, image_configs)?;
    let ctx = ConvertContext {
        options: &opts,
        llb_caps,
        source_info: Some(stager::proto::pb::SourceInfo {
            filename: opts.filename.clone(),
            data: bytes.clone(),
            definition: None,
            language: "Dockerfile".into(),
        }),
    };
    let graph =
        pipeline::convert_graph(&plan, escape, &bases, &ctx).map_err(|e| located(file, e))?;
    // Freed before the Definition is written, which then reuses their memory: the peak is the
    // plan and its instructions or the written parts, not both.
    drop(plan);
    drop(instructions);
    let mut out = std::io::stdout().lock();
    match format {
        Format::Pb => {
            let mut out = std::io::BufWriter::new(out);
            stager::llb::write_graph(graph.state, ctx.source_info, &mut out)?;
            out.flush()?;
        }
        Format::Json => {
            let definition = stager::llb::marshal_owned(graph.state, ctx.source_info);
            let dump = serde_json::json!({
                "definition": stager::llb::dump(&definition),
                "image": serde_json::to_value(&graph.image)?,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&dump)?)?;
        }
    }
    Ok(())
}

/// `--image-config REF=FILE` values as the base images of `plan`.
fn image_configs_for(
    plan: &stager::plan::Plan,
    image_configs: &[String],
) -> anyhow::Result<BTreeMap<String, BaseImage>> {
    let mut bases = BTreeMap::new();
    for spec in image_configs {
        let Some((reference, path)) = spec.split_once('=') else {
            bail!("--image-config wants REF=FILE, got {spec:?}");
        };
        let reference = Reference::parse(reference)?;
        let config = Image::from_json(&read(Path::new(path))?)
            .with_context(|| format!("invalid image config in {path}"))?;
        for request in plan.base_images() {
            if request.reference == reference.to_string() {
                bases.insert(
                    request.key(),
                    BaseImage {
                        digest: String::new(),
                        config: config.clone(),
                    },
                );
            }
        }
    }
    Ok(bases)
}

/// `stager check`: prints the findings; `Ok(true)` when they fail the check.
fn check(
    file: &Path,
    context: Option<&Path>,
    target: Option<String>,
    build_args: &[String],
    image_configs: &[String],
    advice: bool,
    format: TextFormat,
) -> anyhow::Result<bool> {
    let bytes = read(file)?;
    let mut opts = cli_options(file, target, build_args);
    // The Dockerfile's own ignore file wins over the context's, as in the official frontend.
    let own = PathBuf::from(format!("{}.dockerignore", file.display()));
    let dir = context
        .map(Path::to_path_buf)
        .or_else(|| file.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    for ignore in [own, dir.join(".dockerignore")] {
        if let Ok(bytes) = std::fs::read(&ignore) {
            opts.excludes = pipeline::dockerignore_patterns(&bytes);
            break;
        }
    }
    // Base image configs are matched against every stage's base, as every stage is checked.
    let bases = match pipeline::parse(&bytes)
        .and_then(|p| pipeline::plan(&p, &opts).map(stager::plan::Plan::into_owned))
    {
        Ok(mut plan) => {
            plan.reachable = vec![true; plan.stages.len()];
            image_configs_for(&plan, image_configs)?
        }
        Err(_) => BTreeMap::new(),
    };
    let report = stager::check::run(&bytes, &opts, &bases, advice);
    let mut out = std::io::stdout().lock();
    let shown = file.display();
    match format {
        TextFormat::Json => {
            writeln!(
                out,
                "{}",
                stager::check::to_json(&report, &opts.filename, &bytes)
            )?;
        }
        TextFormat::Text => {
            for f in &report.findings {
                writeln!(out, "{shown}:{} {}: {}", f.line(), f.rule.name, f.message)?;
            }
            if let Some(e) = &report.error {
                let line = e.ranges.first().map_or(0, |r| r.0);
                writeln!(out, "{shown}:{line} error: {}", e.message)?;
            }
            let errors = (report.findings.iter())
                .filter(|f| f.rule.severity == stager::lint::Severity::Error)
                .count();
            writeln!(
                out,
                "{} finding(s), {errors} at error level{}",
                report.findings.len(),
                if report.error.is_some() {
                    "; the build fails"
                } else {
                    ""
                }
            )?;
        }
    }
    Ok(report.fails())
}

/// The build options of a CLI command: the file's name, `--target`, `--build-arg`s.
fn cli_options(file: &Path, target: Option<String>, build_args: &[String]) -> BuildOptions {
    let mut opts = BuildOptions::new(Platform::host());
    opts.filename = file
        .file_name()
        .map_or("Dockerfile".into(), |n| n.to_string_lossy().into_owned());
    opts.target = target;
    for arg in build_args {
        let (k, v) = arg.split_once('=').unwrap_or((arg, ""));
        opts.build_args.insert(k.to_string(), v.to_string());
    }
    opts
}
