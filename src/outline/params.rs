//! `frontend.outline`: the build args, secrets and SSH sockets a target uses, captured the way
//! BuildKit's `outlineCapture` does.
//!
//! Each stage starts with the global ARGs and the names its FROM line (and its parent stage's)
//! expands; the reachable stages then add their own ARGs and `RUN --mount` secrets and SSH
//! sockets. The outline walks the target, its parent chain, then its COPY/mount sources; the
//! first definition of a name wins, and the result is sorted by line. Values of stage ARG
//! defaults are expanded against the stage's own ARG/ENV values (base image ENV is not known here).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Location, doc_comment, sources};
use crate::image::{DEFAULT_PATH, Image};
use crate::instructions::{Instruction, Kind, MountKind};
use crate::options::BuildOptions;
use crate::plan::{Base, Plan, Vars, automatic_args, image_key};
use crate::shell::Lexer;
use crate::syntax::Dockerfile;

/// `outline.Outline` (the `cache` list is never filled by BuildKit, so it is left out).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outline {
    /// The target stage's name (empty for an unnamed stage).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The target stage's doc comment.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Build args the target uses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Arg>,
    /// Secrets its RUN mounts ask for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Secret>,
    /// SSH sockets its RUN mounts ask for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh: Vec<Secret>,
    /// The Dockerfile, base64.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// `outline.Arg`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Arg {
    /// The ARG name.
    pub name: String,
    /// Its doc comment (`# NAME text` above the ARG).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Its value for this build.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// The ARG instruction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// `outline.Secret` and `outline.SSH` (same fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Secret {
    /// The secret or SSH id.
    pub name: String,
    /// `required=true` on the mount.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// The RUN instruction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

#[derive(Clone, Debug)]
struct ArgInfo {
    key: String,
    value: String,
    comment: String,
    lines: (u32, u32),
    deps: BTreeSet<String>,
}

#[derive(Clone, Debug, Default)]
struct Capture {
    all: BTreeMap<String, ArgInfo>,
    used: BTreeSet<String>,
    secrets: Vec<(String, bool, (u32, u32))>,
    ssh: Vec<(String, bool, (u32, u32))>,
}

/// The outline of the plan's target. `instructions` are the Dockerfile's, for the global ARGs;
/// `base_configs` the resolved base image configs by [`image_key`](crate::plan::image_key)
/// (their ENV is what stage ARG defaults expand against; missing ones count as empty).
pub fn outline(
    plan: &Plan,
    dockerfile: &Dockerfile,
    instructions: &[Instruction],
    opts: &BuildOptions,
    source: &[u8],
    base_configs: &BTreeMap<String, Image>,
) -> Outline {
    let comments: BTreeMap<u32, &[String]> = dockerfile
        .nodes
        .iter()
        .map(|n| {
            (
                u32::try_from(n.start_line).unwrap_or(0),
                n.prev_comment.as_slice(),
            )
        })
        .collect();
    let comment = |lines: (u32, u32), key: &str| {
        doc_comment(comments.get(&lines.0).copied().unwrap_or(&[]), key)
    };
    let lexer = Lexer::new(dockerfile.escape);
    let target_name = plan.stages.get(plan.target).and_then(|s| s.name.clone());
    let mut globals = automatic_args(
        &opts.build_platform,
        opts.target_platform(),
        target_name.as_deref().unwrap_or("default"),
    );
    for (k, v) in &opts.build_args {
        if globals.value(k).is_some() {
            globals.set(k, v);
        }
    }
    let mut global_all: BTreeMap<String, ArgInfo> = BTreeMap::new();
    let before_from = instructions
        .iter()
        .take_while(|i| !matches!(i.kind, Kind::From(_)));
    for ins in before_from {
        let Kind::Arg(decls) = &ins.kind else {
            continue;
        };
        for decl in decls {
            let mut info = ArgInfo {
                key: decl.key.clone(),
                value: String::new(),
                comment: comment(ins.lines, &decl.key),
                lines: ins.lines,
                deps: BTreeSet::new(),
            };
            let mut has_value = true;
            match (opts.build_args.get(&decl.key), &decl.default) {
                (Some(v), _) => info.value = v.clone(),
                (None, Some(default)) => {
                    let expanded = lexer.process_word_with_matches(default, &globals);
                    let expanded = expanded.unwrap_or_default();
                    info.value = expanded.word;
                    info.deps = expanded.matched;
                    if info.deps.remove(&decl.key)
                        && let Some(old) = global_all.get(&decl.key)
                    {
                        info.deps.extend(old.deps.iter().cloned());
                    }
                }
                (None, None) => has_value = false,
            }
            if has_value {
                globals.set(&decl.key, &info.value);
            }
            global_all.insert(decl.key.clone(), info);
        }
    }

    let mut caps: Vec<Capture> = Vec::with_capacity(plan.stages.len());
    let mut from_used: Vec<BTreeSet<String>> = Vec::with_capacity(plan.stages.len());
    let mut envs: Vec<Vars> = Vec::with_capacity(plan.stages.len());
    for stage in &plan.stages {
        let mut used = match stage.base {
            Base::Stage(j) => from_used.get(j).cloned().unwrap_or_default(),
            _ => BTreeSet::new(),
        };
        if let Kind::From(from) = &stage.from.kind {
            for word in std::iter::once(&from.image).chain(from.platform.as_ref()) {
                if let Ok(e) = lexer.process_word_with_matches(word, &globals) {
                    used.extend(e.matched);
                }
            }
        }
        from_used.push(used.clone());
        let mut cap = Capture {
            all: global_all.clone(),
            used,
            ..Capture::default()
        };
        let mut env = match &stage.base {
            Base::Stage(j) => envs.get(*j).cloned().unwrap_or_default(),
            Base::Image(r) => {
                base_env(base_configs.get(&image_key(&r.to_string(), &stage.platform)))
            }
            Base::Context(c) => base_env(
                c.image()
                    .and_then(|r| base_configs.get(&image_key(&r.to_string(), &stage.platform))),
            ),
            Base::Scratch => base_env(None),
        };
        if plan.reachable.get(stage.index).copied().unwrap_or(false) {
            for step in &stage.steps {
                let ins = &step.instruction;
                dispatch(ins, &lexer, &globals, opts, &mut env, &mut cap, &comment);
            }
        }
        caps.push(cap);
        envs.push(env);
    }
    collect(plan, &caps, target_name, &comment, source)
}

/// A stage's starting variables: its base image's ENV, with PATH always set as BuildKit does.
fn base_env(config: Option<&Image>) -> Vars {
    let mut env = Vars::default();
    for entry in config.map(Image::env).unwrap_or_default() {
        let (k, v) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
        env.set(k, v);
    }
    if env.value("PATH").is_none() {
        env.set("PATH", DEFAULT_PATH);
    }
    env
}

/// What one instruction of a reachable stage adds to the capture.
fn dispatch(
    ins: &Instruction,
    lexer: &Lexer,
    globals: &Vars,
    opts: &BuildOptions,
    env: &mut Vars,
    cap: &mut Capture,
    comment: &dyn Fn((u32, u32), &str) -> String,
) {
    match &ins.kind {
        Kind::Arg(decls) => {
            for decl in decls {
                let build_arg = opts.build_args.get(&decl.key);
                let inherited = (build_arg.is_none() && decl.default.is_none())
                    .then(|| globals.value(&decl.key))
                    .flatten();
                let value = match (build_arg, &decl.default, inherited) {
                    (Some(v), _, _) => Some(v.clone()),
                    (None, Some(d), _) => Some(lexer.process_word(d, env).unwrap_or(d.clone())),
                    (None, None, inherited) => inherited.map(str::to_string),
                };
                if let Some(v) = &value {
                    env.set(&decl.key, v);
                }
                if inherited.is_none() {
                    let info = ArgInfo {
                        key: decl.key.clone(),
                        value: value.unwrap_or_default(),
                        comment: comment(ins.lines, &decl.key),
                        lines: ins.lines,
                        deps: BTreeSet::new(),
                    };
                    cap.all.insert(decl.key.clone(), info);
                }
                cap.used.insert(decl.key.clone());
            }
        }
        Kind::Env(pairs) => {
            for kv in pairs {
                let v = lexer
                    .process_word(&kv.value, env)
                    .unwrap_or(kv.value.clone());
                env.set(&kv.key, &v);
            }
        }
        Kind::Run(run) => {
            for spec in &run.mounts {
                let mut expand = |w: &str| lexer.process_word(w, env).map_err(|e| e.to_string());
                let Ok(mount) = spec.resolve(&mut expand) else {
                    continue;
                };
                let (list, id) = match mount.kind {
                    MountKind::Secret => {
                        let id = [&mount.source, &mount.id]
                            .into_iter()
                            .find(|s| !s.is_empty())
                            .cloned()
                            .unwrap_or_else(|| go_base(&mount.target));
                        (&mut cap.secrets, id)
                    }
                    MountKind::Ssh if mount.id.is_empty() => (&mut cap.ssh, "default".into()),
                    MountKind::Ssh => (&mut cap.ssh, mount.id.clone()),
                    _ => continue,
                };
                if !list.iter().any(|(name, _, _)| *name == id) {
                    list.push((id, mount.required, ins.lines));
                }
            }
        }
        _ => {}
    }
}

/// Walks the target, its parent chain, then its sources (first definition wins), and sorts.
fn collect(
    plan: &Plan,
    caps: &[Capture],
    target_name: Option<String>,
    comment: &dyn Fn((u32, u32), &str) -> String,
    source: &[u8],
) -> Outline {
    let mut args: Vec<Arg> = Vec::new();
    let mut secrets: Vec<Secret> = Vec::new();
    let mut ssh: Vec<Secret> = Vec::new();
    let (mut seen_args, mut seen_secrets, mut seen_ssh) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut visited = vec![false; plan.stages.len()];
    let mut todo = vec![plan.target];
    while let Some(i) = todo.pop() {
        let (Some(stage), Some(cap)) = (plan.stages.get(i), caps.get(i)) else {
            continue;
        };
        if std::mem::replace(&mut visited[i], true) {
            continue;
        }
        for key in mark_all_used(cap) {
            if let Some(info) = cap.all.get(&key)
                && seen_args.insert(key)
            {
                args.push(Arg {
                    name: info.key.clone(),
                    description: info.comment.clone(),
                    value: info.value.clone(),
                    location: Some(Location::lines(info.lines)),
                });
            }
        }
        for (list, seen, out) in [
            (&cap.secrets, &mut seen_secrets, &mut secrets),
            (&cap.ssh, &mut seen_ssh, &mut ssh),
        ] {
            for (name, required, lines) in list {
                if seen.insert(name.clone()) {
                    out.push(Secret {
                        name: name.clone(),
                        required: *required,
                        location: Some(Location::lines(*lines)),
                    });
                }
            }
        }
        let deps: BTreeSet<usize> = stage
            .steps
            .iter()
            .flat_map(|s| s.sources())
            .filter_map(|b| match b {
                Base::Stage(d) => Some(*d),
                _ => None,
            })
            .collect();
        todo.extend(deps.into_iter().rev());
        if let Base::Stage(j) = stage.base {
            todo.push(j);
        }
    }
    let line = |l: &Option<Location>| l.as_ref().map_or(0, Location::first_line);
    args.sort_by_key(|a| line(&a.location));
    secrets.sort_by_key(|s| line(&s.location));
    ssh.sort_by_key(|s| line(&s.location));
    let name = target_name.unwrap_or_default();
    let description = plan
        .stages
        .get(plan.target)
        .map(|s| comment(s.from.lines, &name))
        .unwrap_or_default();
    Outline {
        name,
        description,
        args,
        secrets,
        ssh,
        sources: sources(source),
    }
}

/// The used names plus, transitively, the global ARGs their defaults reference.
fn mark_all_used(cap: &Capture) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut todo: Vec<&String> = cap.used.iter().collect();
    while let Some(key) = todo.pop() {
        if used.insert(key.clone())
            && let Some(info) = cap.all.get(key)
        {
            todo.extend(info.deps.iter());
        }
    }
    used
}

/// Go's `path.Base`.
fn go_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}
