//! Instructions + options -> [`Plan`].

use super::args::{GlobalArgs, Vars, automatic_args};
use super::{Base, Error, InstructionRef, Plan, Stage, StageNames, Step, epoch, named_context};
use crate::image::{Platform, Reference};
use crate::instructions::{Instruction, Kind};
use crate::options::BuildOptions;
use crate::shell::{EnvGetter, Lexer};

/// Makes the plan. `escape` is the Dockerfile's escape token (for expansion in FROM).
pub fn plan<'a>(
    instructions: &'a [Instruction],
    escape: char,
    opts: &BuildOptions,
) -> Result<Plan<'a>, Error> {
    let (globals, groups) = split_stages(instructions)?;
    let names = StageNames::new(
        groups
            .iter()
            .map(|(from, _)| match &from.kind {
                Kind::From(f) => f.name.clone(),
                _ => None,
            })
            .collect(),
    );
    let target = find_target(names.as_slice(), opts.target.as_deref())?;
    let target_stage = names.get(target).unwrap_or("default").to_string();
    let lexer = Lexer::new(escape);
    let mut global_args = resolve_global_args(globals, &lexer, opts, &target_stage)?;
    let (epoch, epoch_build_arg) = resolve_epoch(&groups, &mut global_args, opts, &lexer)?;

    let mut stages: Vec<Stage> = Vec::with_capacity(groups.len());
    for (index, (from_ins, body)) in groups.into_iter().enumerate() {
        let Kind::From(from) = &from_ins.kind else {
            continue;
        };
        let at = |message: String| Error {
            message,
            lines: vec![from_ins.lines],
        };
        let image = lexer
            .process_word(&from.image, &global_args.vars)
            .map_err(|e| at(e.to_string()))?;
        if image.is_empty() {
            return Err(at(format!(
                "base name ({}) should not be blank",
                from.image
            )));
        }
        let platform = match &from.platform {
            None => opts.target_platform().clone(),
            Some(expr) => {
                let expanded = lexer
                    .process_word_with_matches(expr, &global_args.vars)
                    .map_err(|e| at(e.to_string()))?;
                let hint = misspelt_arg_hint(&expanded.unmatched, &global_args);
                if expanded.word.is_empty() {
                    return Err(at(format!(
                        "empty platform value from expression {expr}{hint}"
                    )));
                }
                Platform::parse(&expanded.word)
                    .map_err(|e| at(format!("failed to parse platform {expr}: {e}{hint}")))?
            }
        };
        let lower = image.to_ascii_lowercase();
        let earlier = names.position(&lower).filter(|&i| i < index);
        let (base, platform) = if let Some(i) = earlier {
            // BuildKit ignores --platform on a FROM that names a stage (moby/buildkit#2946).
            (Base::Stage(i), stages[i].platform.clone())
        } else if lower == "scratch" {
            (Base::Scratch, platform)
        } else {
            let reference = Reference::parse(&image)
                .map_err(|e| at(format!("failed to parse stage name {image:?}: {e}")))?;
            (Base::Image(reference), platform)
        };
        // Named contexts replace images, and whole stages (whose instructions are then skipped).
        let stage_context = names
            .get(index)
            .and_then(|n| named_context(opts, n, &platform));
        let (base, body) = match stage_context {
            Some(c) => (Base::Context(c), Vec::new()),
            None => (with_context(base, opts, &platform), body),
        };
        // Sized once: collecting through `Result` would grow the list by doubling, and steps
        // are large (a third of the peak memory of a 10,000-line stage was spare capacity).
        let mut steps = Vec::with_capacity(body.len());
        for instruction in body {
            let (copy_from, mount_from) =
                step_sources(instruction, index, &names, opts, &platform)?;
            steps.push(Step {
                instruction: InstructionRef::Borrowed(instruction),
                copy_from,
                mount_from,
            });
        }
        stages.push(Stage {
            index,
            name: from.name.clone(),
            base,
            platform,
            from: InstructionRef::Borrowed(from_ins),
            steps,
        });
    }
    let triggers = trigger_stage_deps(&stages, &names, opts);
    let reachable = reachability(&stages, target, &triggers, &opts.trigger_stages);
    Ok(Plan {
        global_args,
        stages,
        names,
        target,
        reachable,
        epoch,
        epoch_build_arg,
    })
}

/// Resolves SOURCE_DATE_EPOCH and, as 1.26 does, gives the build arg and a declared global ARG
/// the resolved number (or drops them when it resolved to nothing).
fn resolve_epoch(
    groups: &Groups<'_>,
    global_args: &mut GlobalArgs,
    opts: &BuildOptions,
    lexer: &Lexer,
) -> Result<(epoch::Resolved, Option<Option<String>>), Error> {
    let Some(value) = epoch::requested(opts, global_args) else {
        return Ok((epoch::Resolved::default(), None));
    };
    let resolved = epoch::resolve(&value, groups, global_args, opts, lexer)?;
    let number = resolved.value();
    if global_args.vars.value(epoch::NAME).is_some() {
        match &number {
            Some(v) => global_args.vars.set(epoch::NAME, v),
            None => global_args.vars.remove(epoch::NAME),
        }
        for (key, v) in &mut global_args.declared {
            if key == epoch::NAME {
                v.clone_from(&number);
            }
        }
    }
    let build_arg = opts
        .build_args
        .contains_key(epoch::NAME)
        .then(|| number.clone());
    Ok((resolved, build_arg))
}

/// `base`, or the named context that replaces it when it is an image.
fn with_context(base: Base, opts: &BuildOptions, platform: &Platform) -> Base {
    match &base {
        Base::Image(r) => named_context(opts, &r.to_string(), platform).map_or(base, Base::Context),
        _ => base,
    }
}

/// The `COPY --from` and `RUN --mount from` bases of an instruction of stage `current` (named
/// contexts applied). Conversion uses it too, for ONBUILD triggers.
pub(crate) fn step_sources(
    ins: &Instruction,
    current: usize,
    names: &StageNames,
    opts: &BuildOptions,
    platform: &Platform,
) -> Result<(Option<Base>, Vec<Option<Base>>), Error> {
    let copy_from = copy_source(ins, current, names)?.map(|b| with_context(b, opts, platform));
    let mount_from = mount_sources(ins, current, names)?
        .into_iter()
        .map(|m| m.map(|b| with_context(b, opts, platform)))
        .collect();
    Ok((copy_from, mount_from))
}

/// ` (did you mean X?)` for the first unset name in a FROM --platform that looks like a
/// known ARG, as BuildKit appends to the platform errors; empty when none does.
fn misspelt_arg_hint(
    unmatched: &std::collections::BTreeSet<String>,
    globals: &super::GlobalArgs,
) -> String {
    let mut known = globals.vars.keys();
    for (k, _) in &globals.declared {
        if !known.contains(k) {
            known.push(k.clone());
        }
    }
    known.retain(|k| !unmatched.contains(k));
    (unmatched.iter())
        .find_map(|name| crate::suggest::search(name, &known, true))
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default()
}

type Groups<'a> = Vec<(&'a Instruction, Vec<&'a Instruction>)>;

fn split_stages(instructions: &[Instruction]) -> Result<(Vec<&Instruction>, Groups<'_>), Error> {
    let mut globals = Vec::new();
    let mut groups: Groups<'_> = Vec::new();
    for ins in instructions {
        match (&ins.kind, groups.last_mut()) {
            (Kind::From(_), _) => groups.push((ins, Vec::new())),
            (_, Some((_, body))) => body.push(ins),
            (Kind::Arg(_), None) => globals.push(ins),
            (_, None) => {
                return Err(Error {
                    message: "no build stage in current context".into(),
                    lines: vec![ins.lines],
                });
            }
        }
    }
    if groups.is_empty() {
        return Err(Error {
            message: "dockerfile contains no stages to build".into(),
            lines: Vec::new(),
        });
    }
    Ok((globals, groups))
}

fn find_target(names: &[Option<String>], target: Option<&str>) -> Result<usize, Error> {
    let Some(target) = target else {
        return Ok(names.len() - 1);
    };
    let lower = target.to_ascii_lowercase();
    names
        .iter()
        .position(|n| n.as_deref() == Some(lower.as_str()))
        .ok_or_else(|| {
            let known: Vec<&str> = names.iter().flatten().map(String::as_str).collect();
            let message = match crate::suggest::closest(target, &known) {
                Some(s) => {
                    format!("target stage {target:?} could not be found (did you mean {s}?)")
                }
                None => format!("target stage {target:?} could not be found"),
            };
            Error {
                message,
                lines: Vec::new(),
            }
        })
}

/// The global ARG scope alone (automatic args, build args, ARGs before the first FROM), for
/// checks that look at FROM lines without a full plan.
pub fn global_args(
    instructions: &[Instruction],
    escape: char,
    opts: &BuildOptions,
) -> Result<GlobalArgs, Error> {
    let (globals, groups) = split_stages(instructions)?;
    let last_name = groups.last().and_then(|(from, _)| match &from.kind {
        Kind::From(f) => f.name.clone(),
        _ => None,
    });
    let target_stage = (opts.target.clone().map(|t| t.to_ascii_lowercase()))
        .or(last_name)
        .unwrap_or_else(|| "default".into());
    resolve_global_args(globals, &Lexer::new(escape), opts, &target_stage)
}

fn resolve_global_args(
    globals: Vec<&Instruction>,
    lexer: &Lexer,
    opts: &BuildOptions,
    target_stage: &str,
) -> Result<GlobalArgs, Error> {
    let mut vars: Vars = automatic_args(&opts.build_platform, opts.target_platform(), target_stage);
    for (k, v) in &opts.build_args {
        if vars.value(k).is_some() {
            vars.set(k, v);
        }
    }
    let mut declared = Vec::new();
    for ins in globals {
        let Kind::Arg(decls) = &ins.kind else {
            continue;
        };
        for decl in decls {
            let value = match (opts.build_args.get(&decl.key), &decl.default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(default)) => {
                    Some(lexer.process_word(default, &vars).map_err(|e| Error {
                        message: e.to_string(),
                        lines: vec![ins.lines],
                    })?)
                }
                (None, None) => None,
            };
            // A global ARG without a value leaves an automatic arg of the same name alone.
            if let Some(v) = &value {
                vars.set(&decl.key, v);
            }
            declared.push((decl.key.clone(), value));
        }
    }
    Ok(GlobalArgs { vars, declared })
}

fn copy_source(
    ins: &Instruction,
    current: usize,
    names: &StageNames,
) -> Result<Option<Base>, Error> {
    let Kind::Copy(copy) = &ins.kind else {
        return Ok(None);
    };
    let Some(from) = &copy.from else {
        return Ok(None);
    };
    let at = |message: String| Error {
        message,
        lines: vec![ins.lines],
    };
    if from.contains('$') {
        return Err(at(
            "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround".into(),
        ));
    }
    let lower = from.to_ascii_lowercase();
    let by_name = names.position(&lower);
    let by_index = match (by_name, from.parse::<i64>()) {
        (None, Ok(i)) => match usize::try_from(i).ok().filter(|i| *i < names.len()) {
            Some(i) => Some(i),
            None => return Err(at(format!("invalid stage index {from}"))),
        },
        _ => None,
    };
    if let Some(i) = by_name.or(by_index) {
        if i >= current {
            let current_name = (names.get(current).map(str::to_string))
                .unwrap_or_else(|| format!("stage-{current}"));
            return Err(at(format!(
                "cannot copy from stage {from:?}, it needs to be defined before current stage {current_name:?}"
            )));
        }
        return Ok(Some(Base::Stage(i)));
    }
    if lower == "scratch" {
        return Ok(Some(Base::Scratch));
    }
    let reference = Reference::parse(from)
        .map_err(|e| at(format!("failed to parse stage name {from:?}: {e}")))?;
    Ok(Some(Base::Image(reference)))
}

/// The `from` of each `RUN --mount`: a stage name (never an index, as in BuildKit), `scratch`,
/// or an image.
fn mount_sources(
    ins: &Instruction,
    current: usize,
    names: &StageNames,
) -> Result<Vec<Option<Base>>, Error> {
    let Kind::Run(run) = &ins.kind else {
        return Ok(Vec::new());
    };
    let at = |message: String| Error {
        message,
        lines: vec![ins.lines],
    };
    let mut out = Vec::with_capacity(run.mounts.len());
    for spec in &run.mounts {
        let Some(from) = spec.from.as_deref().filter(|f| !f.is_empty()) else {
            out.push(None);
            continue;
        };
        let lower = from.to_ascii_lowercase();
        let base = match names.position(&lower) {
            Some(i) if i >= current => {
                let target = spec.raw(&["target", "dst", "destination"]).unwrap_or("");
                return Err(at(format!(
                    "cannot mount from stage {from:?} to {target:?}, stage needs to be defined before current command"
                )));
            }
            Some(i) => Base::Stage(i),
            None if lower == "scratch" => Base::Scratch,
            None => Base::Image(
                Reference::parse(from)
                    .map_err(|e| at(format!("failed to parse stage name {from:?}: {e}")))?,
            ),
        };
        out.push(Some(base));
    }
    Ok(out)
}

/// The stages read by `triggers` when they run in stage `current` (unparsable triggers and
/// other sources are left to conversion).
pub(crate) fn trigger_reads(
    triggers: &[String],
    current: usize,
    names: &StageNames,
    opts: &BuildOptions,
    platform: &Platform,
) -> Vec<usize> {
    let mut deps = Vec::new();
    for text in triggers {
        let Ok(df) = crate::syntax::parse(text.as_bytes()) else {
            continue;
        };
        let Some(Ok(ins)) = df.nodes.first().map(crate::instructions::parse_node) else {
            continue;
        };
        if let Ok((copy, mounts)) = step_sources(&ins, current, names, opts, platform) {
            for base in copy.iter().chain(mounts.iter().flatten()) {
                if let Base::Stage(d) = base {
                    deps.push(*d);
                }
            }
        }
    }
    deps
}

/// For each stage, the stages read by the ONBUILD triggers it inherits from a parent stage
/// (`ONBUILD COPY --from=x`): they run in this stage, so it needs them. Triggers that do not
/// parse are left to conversion, which reports them at the FROM line.
fn trigger_stage_deps(
    stages: &[Stage],
    names: &StageNames,
    opts: &BuildOptions,
) -> Vec<Vec<usize>> {
    stages
        .iter()
        .map(|stage| {
            let Base::Stage(parent) = stage.base else {
                return Vec::new();
            };
            let triggers: Vec<String> = stages[parent]
                .steps
                .iter()
                .filter_map(|s| match &s.instruction.kind {
                    Kind::OnBuild(text) => Some(text.clone()),
                    _ => None,
                })
                .collect();
            trigger_reads(&triggers, stage.index, names, opts, &stage.platform)
        })
        .collect()
}

fn reachability(
    stages: &[Stage],
    target: usize,
    triggers: &[Vec<usize>],
    extra: &std::collections::BTreeSet<usize>,
) -> Vec<bool> {
    let mut reachable = vec![false; stages.len()];
    let mut todo = vec![target];
    todo.extend(extra.iter().copied());
    while let Some(i) = todo.pop() {
        if i >= stages.len() || std::mem::replace(&mut reachable[i], true) {
            continue;
        }
        let stage = &stages[i];
        let deps = std::iter::once(&stage.base).chain(stage.steps.iter().flat_map(Step::sources));
        for dep in deps {
            if let Base::Stage(d) = dep {
                todo.push(*d);
            }
        }
        todo.extend(triggers.get(i).into_iter().flatten().copied());
    }
    reachable
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(src: &str, target: Option<&str>) -> Result<Plan<'static>, Error> {
        let df = crate::syntax::parse(src.as_bytes()).expect("parses");
        let ins = crate::instructions::parse(&df.nodes).expect("typed");
        let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
        opts.target = target.map(str::to_string);
        opts.build_args.insert("V".into(), "3".into());
        plan(&ins, df.escape, &opts).map(Plan::into_owned)
    }

    #[test]
    fn named_contexts_replace_images_and_stages() {
        let df = crate::syntax::parse(
            b"FROM alpine:latest AS build\nRUN exit 1\nFROM docker.io/library/debian\nCOPY --from=build /a /a\nCOPY --from=tools /t /t\nRUN --mount=from=scratch,target=/s true\n",
        )
        .expect("parses");
        let ins = crate::instructions::parse(&df.nodes).expect("typed");
        let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
        for (k, v) in [
            ("build", "local:b"),
            ("debian", "docker-image://busybox"),
            ("tools", "local:t"),
            ("tools::linux/amd64", "local:t-amd64"),
            ("scratch", "local:never"),
        ] {
            opts.named_contexts.insert(k.into(), v.into());
        }
        let p = plan(&ins, df.escape, &opts).unwrap();
        let ctx = |key: &str, source: &str| {
            Base::Context(super::super::NamedContext {
                key: key.into(),
                source: source.into(),
            })
        };
        // The stage's own FROM and instructions give way to the context.
        assert_eq!(p.stages[0].base, ctx("build", "local:b"));
        assert!(p.stages[0].steps.is_empty());
        assert_eq!(p.stages[1].base, ctx("debian", "docker-image://busybox"));
        assert_eq!(p.stages[1].steps[0].copy_from, Some(Base::Stage(0)));
        assert_eq!(
            p.stages[1].steps[1].copy_from,
            Some(ctx("tools::linux/amd64", "local:t-amd64"))
        );
        assert_eq!(p.stages[1].steps[2].mount_from, [Some(Base::Scratch)]);
        // Only the docker-image context needs a resolved config.
        let images: Vec<String> = p.base_images().into_iter().map(|r| r.reference).collect();
        assert_eq!(images, ["docker.io/library/busybox:latest"]);
    }

    #[test]
    fn bases_and_reachability() {
        let p = make(
            "ARG BASE=busybox V\nFROM ${BASE} AS a\nFROM scratch AS unused\nRUN exit 1\nFROM a AS b\nCOPY --from=0 /x /x\nFROM busybox:1.$V\nCOPY --from=b /y /y\nCOPY --from=alpine /z /z\n",
            None,
        )
        .unwrap();
        assert_eq!(
            p.stages[0].base,
            Base::Image(Reference::parse("busybox").unwrap())
        );
        assert_eq!(p.stages[2].base, Base::Stage(0));
        assert_eq!(p.reachable, [true, false, true, true]);
        let images: Vec<String> = p.base_images().into_iter().map(|r| r.reference).collect();
        assert_eq!(
            images,
            [
                "docker.io/library/alpine:latest",
                "docker.io/library/busybox:1.3",
                "docker.io/library/busybox:latest"
            ]
        );
    }

    #[test]
    fn mount_sources_are_dependencies() {
        let p = make(
            "FROM busybox AS a\nFROM busybox AS unused\nFROM scratch AS b\nRUN --mount=from=A,target=/a --mount=type=cache,target=/c --mount=from=alpine,target=/i --mount=from=scratch,target=/s x\n",
            None,
        )
        .unwrap();
        assert_eq!(p.reachable, [true, false, true]);
        assert_eq!(
            p.stages[2].steps[0].mount_from,
            [
                Some(Base::Stage(0)),
                None,
                Some(Base::Image(Reference::parse("alpine").unwrap())),
                Some(Base::Scratch),
            ]
        );
        let images: Vec<String> = p.base_images().into_iter().map(|r| r.reference).collect();
        assert_eq!(
            images,
            [
                "docker.io/library/alpine:latest",
                "docker.io/library/busybox:latest"
            ]
        );
        // Stage indexes are image names for mounts, as in BuildKit.
        let p = make("FROM busybox\nRUN --mount=from=0,target=/x x\n", None).unwrap();
        assert!(matches!(
            &p.stages[0].steps[0].mount_from[0],
            Some(Base::Image(_))
        ));
    }

    #[test]
    fn target_prunes() {
        let p = make(
            "FROM busybox AS a\nFROM busybox AS b\nFROM busybox AS c\n",
            Some("B"),
        )
        .unwrap();
        assert_eq!(p.target, 1);
        assert_eq!(p.reachable, [false, true, false]);
    }

    #[test]
    fn errors() {
        let cases = [
            ("RUN x\nFROM a\n", None, "no build stage in current context"),
            (
                "FROM a\n",
                Some("nope"),
                "target stage \"nope\" could not be found",
            ),
            (
                "FROM a AS build\n",
                Some("biuld"),
                "target stage \"biuld\" could not be found (did you mean build?)",
            ),
            (
                "FROM a\nCOPY --from=later /a /a\nFROM b AS later\n",
                None,
                "cannot copy from stage \"later\", it needs to be defined before current stage \"stage-0\"",
            ),
            (
                "ARG X\nFROM $X\n",
                None,
                "base name ($X) should not be blank",
            ),
            (
                "FROM a\nCOPY --from=$X /a /a\n",
                None,
                "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
            ),
            (
                "FROM a AS x\nRUN --mount=from=later,dst=/m true\nFROM b AS later\n",
                None,
                "cannot mount from stage \"later\" to \"/m\", stage needs to be defined before current command",
            ),
            (
                "FROM a AS x\nRUN --mount=from=x,target=/m true\n",
                None,
                "cannot mount from stage \"x\" to \"/m\", stage needs to be defined before current command",
            ),
        ];
        for (src, target, want) in cases {
            assert_eq!(make(src, target).unwrap_err().message, want, "{src}");
        }
    }
}
