//! Plan + base image configs -> LLB + the image config of the target.
//!
//! In: an immutable [`Plan`], the resolved base images, and a [`Context`] (options, the daemon's
//! LLB caps, the Dockerfile for source maps). Out: [`Converted`]: a deterministic
//! `pb.Definition` and the target's [`Image`]. One file per instruction family: `from`
//! (stage start), `run`, `copy`, `meta` (everything that only changes the config). `convert`
//! never re-reads Dockerfile text and does no I/O.

mod checks;
mod chmod;
mod context;
mod copy;
mod env;
pub mod epoch_source;
mod from;
mod gitref;
mod gofmt;
pub mod main_context;
mod meta;
mod mounts;
mod paths;
mod run;
mod stage;

use std::collections::{BTreeMap, BTreeSet};

use crate::image::Image;
use crate::instructions::Kind;
use crate::llb;
use crate::options::BuildOptions;
use crate::plan::{Base, Plan, Stage};
use crate::proto::pb;
use crate::shell::Lexer;

pub use env::EnvList;
use stage::StageState;

/// BuildKit takes a definition in one gRPC message of at most 16 MiB; doubling variables can
/// ask for far more (every RUN carries the whole environment), so conversion stops there
/// with an error instead of building gigabytes that could never be sent.
pub const MAX_DEFINITION: usize = 16 << 20;

/// Every LLB capability conversion asks the daemon's set about (what a check run, which judges
/// the Dockerfile rather than a daemon, assumes present).
pub const QUERIED_CAPS: [&str; 13] = [
    "exec.meta.ulimit",
    "exec.mount.bind.readwrite-nooutput",
    "exec.mount.tmpfs.size",
    "exec.secretenv",
    "exec.validexitcode",
    "file.copy.includeexcludepatterns",
    "file.copy.modestring",
    "file.copy.requiredpaths",
    "mergeop",
    "source.git.checksum",
    "source.git.skipsubmodules",
    "source.git.subdir",
    "source.ocilayout",
];

/// A base image as the daemon resolved it.
#[derive(Clone, Debug)]
pub struct BaseImage {
    /// Manifest digest, pins the image source when not empty.
    pub digest: String,
    /// Its config.
    pub config: Image,
}

/// What conversion needs besides the plan.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    /// The build's options.
    pub options: &'a BuildOptions,
    /// LLB capabilities of the daemon.
    pub llb_caps: BTreeSet<String>,
    /// The Dockerfile, for `Definition.source`.
    pub source_info: Option<pb::SourceInfo>,
}

/// The result of a conversion.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The LLB of the target stage.
    pub definition: pb::Definition,
    /// The target's image config.
    pub image: Image,
    /// What an SBOM scan covers besides the target, by name (`context` and stage names), as
    /// `BUILDKIT_SBOM_SCAN_CONTEXT` / `BUILDKIT_SBOM_SCAN_STAGE` ask.
    pub sbom_extras: Vec<(String, llb::State)>,
}

/// An instruction that cannot be converted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// What is wrong, BuildKit's text where it has one.
    pub message: String,
    /// The instruction's lines.
    pub lines: (u32, u32),
}

/// Converts the reachable stages and returns the target's LLB and config.
pub fn convert(
    plan: &Plan,
    escape: char,
    bases: &BTreeMap<String, BaseImage>,
    ctx: &Context<'_>,
) -> Result<Converted, Error> {
    convert_checked(plan, escape, bases, ctx, None)
}

/// A converted build before it is marshalled: the target's LLB graph and image config.
pub struct Graph {
    /// The target's filesystem: the root of the Definition.
    pub state: llb::State,
    /// The target's image config.
    pub image: Image,
}

/// [`convert`] without making the `pb::Definition`: for a caller that writes the definition
/// straight from the graph (`llb::write_graph`, with `ctx.source_info`).
pub fn convert_graph(
    plan: &Plan,
    escape: char,
    bases: &BTreeMap<String, BaseImage>,
    ctx: &Context<'_>,
) -> Result<Graph, Error> {
    let mut out = dispatch(plan, escape, bases, ctx, None)?;
    finalize_image(&mut out.image, ctx.options);
    Ok(Graph {
        state: out.state,
        image: out.image,
    })
}

/// [`convert`], reporting the build checks of dispatch into `lint`.
pub fn convert_checked(
    plan: &Plan,
    escape: char,
    bases: &BTreeMap<String, BaseImage>,
    ctx: &Context<'_>,
    lint: Option<&crate::lint::Sink>,
) -> Result<Converted, Error> {
    Ok(finish(dispatch(plan, escape, bases, ctx, lint)?, ctx))
}

/// The dispatch passes of a build: its graph with the final context source.
fn dispatch(
    plan: &Plan,
    escape: char,
    bases: &BTreeMap<String, BaseImage>,
    ctx: &Context<'_>,
    lint: Option<&crate::lint::Sink>,
) -> Result<Dispatched, Error> {
    let reported = lint.map_or(0, crate::lint::Sink::len);
    // The context source's followpaths depend on every COPY of every stage, which are only known
    // after dispatch: dispatch once to learn them, then swap the final context source into the
    // graph (or, where the swap cannot give the same bytes, dispatch again with it). Stages that
    // start from a local named context get theirs the same way (by dispatching again).
    let remote = match &ctx.options.main_context {
        // A remote context is taken whole: there is no client directory to filter.
        Some(main) => Some(
            main_context::scoped_context(main, ctx.options, &ctx.llb_caps).map_err(|message| {
                Error {
                    message,
                    lines: (0, 0),
                }
            })?,
        ),
        None => None,
    };
    let provisional = remote.clone().unwrap_or_else(|| context_source(ctx, None));
    let none = BTreeMap::new();
    let first =
        Dispatcher::new(plan, escape, bases, ctx, provisional.clone(), lint, &none).run()?;
    let named = named_follow(plan, &first.stage_paths);
    let follow = &first.context_paths;
    // With no context path, or with `/` among them, the first pass's source was already right.
    let filtered = remote.is_none() && !follow.is_empty() && !follow.contains("/");
    let out = if !named.is_empty() {
        let last = if filtered {
            context_source(ctx, Some(follow))
        } else {
            provisional
        };
        // The second pass reports the same findings again.
        if let Some(sink) = lint {
            sink.truncate(reported);
        }
        Dispatcher::new(plan, escape, bases, ctx, last, lint, &named).run()?
    } else if !filtered {
        first
    } else {
        let last = context_source(ctx, Some(follow));
        let Dispatched {
            state: provisional_state,
            image,
            context_paths,
            stage_paths,
            sbom_extras,
        } = first;
        // The provisional graph goes as soon as the final one exists: its ops are all copied.
        let extras: Option<Vec<(String, llb::State)>> = (sbom_extras.into_iter())
            .map(|(name, s)| Some((name, s.replace(&provisional, &last)?)))
            .collect();
        match (provisional_state.replace(&provisional, &last), extras) {
            (Some(state), Some(sbom_extras)) => Dispatched {
                state,
                image,
                context_paths,
                stage_paths,
                sbom_extras,
            },
            _ => {
                if let Some(sink) = lint {
                    sink.truncate(reported);
                }
                Dispatcher::new(plan, escape, bases, ctx, last, lint, &none).run()?
            }
        }
    };
    Ok(out)
}

/// The definition and image config of a dispatched build.
fn finish(out: Dispatched, ctx: &Context<'_>) -> Converted {
    let mut image = out.image;
    finalize_image(&mut image, ctx.options);
    Converted {
        definition: llb::marshal_owned(out.state, ctx.source_info.clone()),
        image,
        sbom_extras: out.sbom_extras,
    }
}

/// The paths each stage that starts from a local named context reads of it, where they are
/// not the whole context: what the source's `local.followpaths` become, as in 1.26.
fn named_follow(
    plan: &Plan,
    stage_paths: &BTreeMap<usize, BTreeSet<String>>,
) -> BTreeMap<usize, BTreeSet<String>> {
    (plan.reachable_stages())
        .filter(|s| matches!(&s.base, Base::Context(c) if c.source.starts_with("local:")))
        .filter_map(|s| {
            let paths = stage_paths.get(&s.index)?;
            (!paths.is_empty() && !paths.contains("/")).then(|| (s.index, paths.clone()))
        })
        .collect()
}

/// `local.followpaths` of a set of absolute paths (none when `/` is among them).
fn follow_paths_attr(paths: &BTreeSet<String>) -> Option<String> {
    if paths.is_empty() || paths.contains("/") {
        return None;
    }
    let rel: Vec<&str> = paths.iter().map(|p| p.trim_start_matches('/')).collect();
    Some(serde_json::to_string(&rel).unwrap_or_default())
}

/// The main build context, loaded lazily by the daemon only when an op reads it.
fn context_source(ctx: &Context<'_>, follow: Option<&BTreeSet<String>>) -> llb::State {
    let opts = ctx.options;
    let name = &opts.context_name;
    let mut attrs = BTreeMap::from([
        (
            "local.session".to_string(),
            opts.session_for(name).to_string(),
        ),
        ("local.sharedkeyhint".to_string(), name.clone()),
    ]);
    if !opts.excludes.is_empty() {
        attrs.insert(
            "local.excludepatterns".into(),
            serde_json::to_string(&opts.excludes).unwrap_or_default(),
        );
    }
    if let Some(paths) = follow.and_then(follow_paths_attr) {
        attrs.insert("local.followpaths".into(), paths);
    }
    let meta = llb::OpMeta {
        name: Some("[internal] load build context".into()),
        ..llb::OpMeta::default()
    };
    llb::State::local(name, attrs, meta)
}

fn finalize_image(image: &mut Image, opts: &BuildOptions) {
    image.created = None;
    if !opts.labels.is_empty() {
        let labels = image.config.labels.get_or_insert_with(BTreeMap::new);
        for (k, v) in &opts.labels {
            labels.insert(k.clone(), v.clone());
        }
    }
    if let Some(p) = &opts.target_platform {
        let os_arch_changed = image.os != p.os || image.architecture != p.architecture;
        image.os = p.os.clone();
        image.architecture = p.architecture.clone();
        if p.variant.is_some() || os_arch_changed {
            image.variant = p.variant.clone().unwrap_or_default();
        }
        // As 1.26: the target's OS version when it names one, none when the OS or
        // architecture changed, else the base image's.
        if p.os_version.is_some() || os_arch_changed {
            image.os_version = p.os_version.clone().unwrap_or_default();
        }
    }
}

/// What one dispatch pass produced.
struct Dispatched {
    state: llb::State,
    image: Image,
    context_paths: BTreeSet<String>,
    /// What each stage chain reads of itself, by the index of the chain's first stage.
    stage_paths: BTreeMap<usize, BTreeSet<String>>,
    /// The SBOM scan extras: the build context (when asked for) and the stages asked for.
    sbom_extras: Vec<(String, llb::State)>,
}

/// One pass over the reachable stages, in Dockerfile order.
struct Dispatcher<'p> {
    plan: &'p Plan<'p>,
    bases: &'p BTreeMap<String, BaseImage>,
    ctx: &'p Context<'p>,
    lexer: Lexer,
    context: llb::State,
    context_paths: BTreeSet<String>,
    /// The first stage of each stage's chain of `FROM <stage>`: they share one set of paths
    /// read from them (`COPY --from`, mounts, `/` for a RUN or the target), as in 1.26.
    roots: Vec<usize>,
    stage_paths: BTreeMap<usize, BTreeSet<String>>,
    /// Given: the followpaths of the local named contexts stages start from (second pass).
    named_follow: &'p BTreeMap<usize, BTreeSet<String>>,
    /// The stages an SBOM scan covers besides the target, by stage name.
    sbom_stages: Vec<(String, llb::State)>,
    /// Dispatched stages by index, kept while a later stage still starts FROM them.
    done: Vec<Option<StageState>>,
    /// The filesystem of every dispatched stage, for COPY --from and RUN --mount from.
    outputs: Vec<Option<llb::State>>,
    /// How many reachable stages still start FROM each stage: the last one takes the state
    /// instead of cloning it, so a chain of stages stays linear in time and memory.
    base_users: Vec<usize>,
    /// Bytes of environment and arguments written into ExecOps so far (see [`MAX_DEFINITION`]).
    emitted: usize,
    /// Whether progress names carry the stage name (more than one state in the build).
    named: bool,
    /// Where build checks report, when they are wanted.
    lint: Option<&'p crate::lint::Sink>,
    /// The `.dockerignore` patterns, for `CopyIgnoredFile` (checks only).
    ignore: Option<crate::lint::IgnoreMatcher>,
}

impl<'p> Dispatcher<'p> {
    fn new(
        plan: &'p Plan,
        escape: char,
        bases: &'p BTreeMap<String, BaseImage>,
        ctx: &'p Context<'p>,
        context: llb::State,
        lint: Option<&'p crate::lint::Sink>,
        named_follow: &'p BTreeMap<usize, BTreeSet<String>>,
    ) -> Self {
        let mut roots: Vec<usize> = (0..plan.stages.len()).collect();
        for stage in &plan.stages {
            if let Base::Stage(parent) = stage.base {
                roots[stage.index] = roots.get(parent).copied().unwrap_or(parent);
            }
        }
        let implicit: BTreeSet<String> = plan
            .stages
            .iter()
            .flat_map(|s| s.steps.iter())
            .flat_map(crate::plan::Step::sources)
            .filter_map(|b| match b {
                Base::Image(r) => Some(r.to_string()),
                // A named context read by COPY --from or a mount is a dispatch state of its own
                // too, so names carry the stage (`[stage-0 1/2]`), as in 1.26.
                Base::Context(c) => Some(format!("context:{}", c.key)),
                _ => None,
            })
            .collect();
        // BuildKit adds a source stage for every RUN --mount (scratch when it has no `from`).
        let mounts =
            (plan.stages.iter().flat_map(|s| s.steps.iter())).any(|s| !s.mount_from.is_empty());
        Dispatcher {
            plan,
            bases,
            ctx,
            lexer: Lexer::new(escape),
            context,
            context_paths: BTreeSet::new(),
            roots,
            stage_paths: BTreeMap::new(),
            named_follow,
            sbom_stages: Vec::new(),
            done: vec![None; plan.stages.len()],
            emitted: 0,
            outputs: vec![None; plan.stages.len()],
            base_users: {
                let mut users = vec![0; plan.stages.len()];
                for stage in plan.reachable_stages() {
                    if let Base::Stage(parent) = stage.base {
                        users[parent] += 1;
                    }
                }
                users
            },
            named: plan.stages.len() + implicit.len() > 1 || mounts,
            ignore: lint.and_then(|_| crate::lint::IgnoreMatcher::new(&ctx.options.excludes)),
            lint,
        }
    }

    fn run(mut self) -> Result<Dispatched, Error> {
        // Whether the target asks for its context to be scanned.
        let mut scan_context = false;
        for stage in self.plan.reachable_stages() {
            let (mut st, triggers) = self.start(stage)?;
            let inherited = st.image.history.len();
            // At most one entry a step: sized once instead of doubling (a 10,000-step stage
            // kept 40% of its history's memory as spare capacity).
            (st.image.history).reserve_exact(triggers.len() + stage.steps.len());
            for trigger in &triggers {
                let step = self.trigger_step(trigger, stage)?;
                self.dispatch(&mut st, stage, &step)?;
            }
            for step in &stage.steps {
                self.dispatch(&mut st, stage, step)?;
            }
            // With SOURCE_DATE_EPOCH, the entries this stage wrote carry it as their time.
            if let Some(unix) = self.plan.epoch.unix {
                let created = crate::plan::epoch::rfc3339(unix);
                for entry in st.image.history.iter_mut().skip(inherited) {
                    entry.created = Some(created.clone());
                }
            }
            if stage.index != self.plan.target && self.sbom_scan(stage, &st, SCAN_STAGE) {
                self.sbom_stages.push((sbom_name(stage), st.state.clone()));
            }
            if stage.index == self.plan.target {
                scan_context = self.sbom_scan(stage, &st, SCAN_CONTEXT);
            }
            self.outputs[stage.index] = Some(st.state.clone());
            self.done[stage.index] = Some(st);
        }
        let target = self.done[self.plan.target].take().ok_or_else(|| Error {
            message: "target stage was not converted".into(),
            lines: (0, 0),
        })?;
        // The whole target is used.
        self.stage_read(self.plan.target, "/");
        let mut sbom_extras = Vec::new();
        if scan_context {
            sbom_extras.push(("context".to_string(), self.context.clone()));
        }
        sbom_extras.extend(self.sbom_stages);
        sbom_extras.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Dispatched {
            state: target.state,
            image: target.image,
            context_paths: self.context_paths,
            stage_paths: self.stage_paths,
            sbom_extras,
        })
    }

    fn dispatch(
        &mut self,
        st: &mut StageState,
        stage: &Stage,
        step: &crate::plan::Step,
    ) -> Result<(), Error> {
        let ins = &step.instruction;
        let at = |message: String| Error {
            message,
            lines: ins.lines,
        };
        match &ins.kind {
            Kind::Run(run) => self
                .run_step(st, stage, ins, run, &step.mount_from)
                .map_err(at),
            Kind::Copy(c) | Kind::Add(c) => {
                let is_add = matches!(ins.kind, Kind::Add(_));
                self.copy_step(st, stage, ins, c, is_add, step.copy_from.as_ref())
                    .map_err(at)
            }
            Kind::From(_) => Err(at("unexpected FROM inside a stage".into())),
            _ => self.meta_step(st, stage, ins).map_err(at),
        }
    }

    /// Whether `arg` (a stage list or a boolean) covers `stage`: its global value, then the
    /// stage's own declarations, the last one winning (1.26's `isEnabledForStage`).
    fn sbom_scan(&self, stage: &Stage, st: &StageState, arg: &str) -> bool {
        let name = sbom_name(stage);
        let enabled = |value: &str| match value {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
            list => list.split(',').any(|s| s == name),
        };
        let mut on = (self.plan.global_args.value_for_stage(arg)).is_some_and(enabled);
        for (key, value) in st.build_args.iter() {
            if let (true, Some(value)) = (key == arg, value) {
                on = enabled(value);
            }
        }
        on
    }

    /// Records that `path` of stage `index` is read (by a later stage, a RUN, or as the target).
    fn stage_read(&mut self, index: usize, path: &str) {
        let root = self.roots.get(index).copied().unwrap_or(index);
        let paths = self.stage_paths.entry(root).or_default();
        // A copy only for a path not read yet: every RUN reads `/` of its stage.
        if !paths.contains(path) {
            paths.insert(path.to_owned());
        }
    }

    /// The filesystem a dispatched stage produced.
    fn stage_output(&self, index: usize) -> Option<llb::State> {
        self.outputs.get(index).cloned().flatten()
    }

    /// The full state of a dispatched stage for a stage starting FROM it: moved out to the
    /// last such stage (unless it is the target), cloned for the others.
    fn take_base(&mut self, index: usize) -> Option<StageState> {
        let users = self.base_users.get_mut(index)?;
        *users = users.saturating_sub(1);
        if *users == 0 && index != self.plan.target {
            self.done.get_mut(index)?.take()
        } else {
            self.done.get(index)?.clone()
        }
    }

    /// Op metadata shared by every op an instruction makes.
    fn op_meta(
        &self,
        st: &StageState,
        ins: &crate::instructions::Instruction,
        name: String,
    ) -> llb::OpMeta {
        llb::OpMeta {
            name: Some(name),
            ignore_cache: st.ignore_cache,
            locations: (ins.lines.0..=ins.lines.1).map(|l| (l, l)).collect(),
            ..llb::OpMeta::default()
        }
    }
}

/// The build arg that asks for stages to be scanned with the target.
const SCAN_STAGE: &str = "BUILDKIT_SBOM_SCAN_STAGE";
/// The build arg that asks for the build context to be scanned with the target.
const SCAN_CONTEXT: &str = "BUILDKIT_SBOM_SCAN_CONTEXT";

/// A stage's name in SBOM scans (`stage-N` when it has none).
fn sbom_name(stage: &Stage) -> String {
    (stage.name.clone()).unwrap_or_else(|| format!("stage-{}", stage.index))
}

/// A `.dockerignore` pattern cleaned as BuildKit's `ignorefile` does.
pub fn clean_pattern(pattern: &str) -> String {
    let cleaned = paths::clean(pattern);
    match cleaned.strip_prefix('/') {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => cleaned,
    }
}
