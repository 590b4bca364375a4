//! BuildKit's cache map of one op, as its solver computes it (moby/buildkit v0.32.2,
//! `solver/llbsolver/ops/{exec,file}.go`): the op's own key and, per input, the selector paths
//! and whether the input may also match by the content of those paths.
//!
//! The key is not BuildKit's digest, only something equal exactly when BuildKit's is: the op
//! with the fields BuildKit drops before hashing dropped here too (mount selectors, extra host
//! IPs, proxy variables, custom cache mount ids, the lone default root mount, a copy source's
//! directory, which moves into the selector), and without its inputs, which are keyed apart.

use std::collections::BTreeSet;

use crate::proto::pb;
use pb::file_action::Action;

/// Whose cache rules to follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rules {
    /// moby/buildkit v0.32.2 (Docker 29, buildx, `docker/dockerfile:1` = 1.26).
    #[default]
    Current,
    /// BuildKit v0.8 (Docker 20.10): a cache mount's custom id and sharing stay in RUN keys.
    V0_8,
}

/// What BuildKit keys one op on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CacheMap {
    /// Equal for two ops exactly when BuildKit's cache map digests are.
    pub key: String,
    /// One per input, in input order.
    pub deps: Vec<Dep>,
}

/// How one input enters the key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Dep {
    /// The paths read from the input (copy sources, mount sources); part of the key.
    pub selectors: Vec<Selector>,
    /// Whether a record also matches when the selected content is the same although the input
    /// itself was rebuilt (`ComputeDigestFunc`).
    pub content: bool,
}

/// A selected path of an input: a copy source with its wildcard and filters, or a mount source.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Selector {
    /// Absolute, cleaned.
    pub path: String,
    /// The path holds glob characters BuildKit expands.
    pub wildcard: bool,
    /// `COPY --parents`/include patterns, relative to the path.
    pub include: Vec<String>,
    /// `COPY --exclude` patterns, relative to the path.
    pub exclude: Vec<String>,
}

impl Selector {
    fn plain(path: &str) -> Selector {
        Selector {
            path: clean_abs(path),
            wildcard: false,
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// The cache map of `op`.
pub(crate) fn cache_map(op: &pb::Op, rules: Rules) -> CacheMap {
    let inputs = op.inputs.len();
    match &op.op {
        Some(pb::op::Op::Exec(exec)) => exec_map(exec, op.platform.as_ref(), inputs, rules),
        Some(pb::op::Op::File(file)) => file_map(file, inputs),
        Some(pb::op::Op::Source(src)) => CacheMap {
            key: format!(
                "source {:?} {:?} {:?}",
                src.identifier, src.attrs, op.platform
            ),
            deps: Vec::new(),
        },
        Some(pb::op::Op::Merge(_)) => CacheMap {
            key: format!("merge {inputs}"),
            deps: vec![Dep::default(); inputs],
        },
        other => CacheMap {
            key: format!("other {other:?}"),
            deps: vec![Dep::default(); inputs],
        },
    }
}

const BIND: i32 = pb::MountType::Bind as i32;
const SECRET: i32 = pb::MountType::Secret as i32;
const SSH: i32 = pb::MountType::Ssh as i32;
const TMPFS: i32 = pb::MountType::Tmpfs as i32;

fn exec_map(
    exec: &pb::ExecOp,
    platform: Option<&pb::Platform>,
    inputs: usize,
    rules: Rules,
) -> CacheMap {
    let mut e = exec.clone();
    if let Some(meta) = e.meta.as_mut() {
        for h in &mut meta.extra_hosts {
            h.ip.clear();
        }
        meta.proxy_env = None;
    }
    for m in &mut e.mounts {
        m.selector.clear();
        if let Some(c) = m.cache_opt.as_mut()
            && rules == Rules::Current
            && custom_cache_id(c, &m.dest)
        {
            c.id.clear();
            c.sharing = 0;
        }
    }
    // BuildKit keeps the key of a plain RUN what it was before mounts entered keys at all.
    if let [m] = e.mounts.as_slice()
        && m.dest == "/"
        && !m.readonly
        && m.mount_type == BIND
        && m.cache_opt.is_none()
        && m.ssh_opt.is_none()
        && m.secret_opt.is_none()
        && m.result_id.is_empty()
    {
        e.mounts.clear();
    }
    let platform = platform.map_or("default".to_string(), |p| {
        format!(
            "{}/{}/{}/{}/{:?}",
            p.os, p.architecture, p.variant, p.os_version, p.os_features
        )
    });
    let mut deps = vec![Dep::default(); inputs];
    for m in &exec.mounts {
        if matches!(m.mount_type, SECRET | SSH | TMPFS) || m.input < 0 {
            continue;
        }
        let Some(dep) = usize::try_from(m.input).ok().and_then(|i| deps.get_mut(i)) else {
            continue;
        };
        let sel = clean_abs(&m.selector);
        // Content may stand in for the input only where the step cannot have changed files
        // outside the selection that a later step would see; never for the root filesystem.
        let safe = m.output == -1 || m.readonly || sel == "/";
        dep.content = safe && m.dest != "/";
        dep.selectors.push(Selector::plain(&sel));
    }
    CacheMap {
        key: format!("exec {e:?} {platform}"),
        deps,
    }
}

/// BuildKit v0.32 leaves a cache mount's id out of the key unless it is the Dockerfile
/// default (the target path, maybe behind a namespace) with shared sharing.
fn custom_cache_id(c: &pb::CacheOpt, dest: &str) -> bool {
    if c.sharing != 0 {
        return true;
    }
    if c.id == dest {
        return false;
    }
    !matches!(c.id.split_once('/'), Some((_, rest)) if rest == dest)
}

fn file_map(file: &pb::FileOp, inputs: usize) -> CacheMap {
    let mut selectors: Vec<Vec<Selector>> = vec![Vec::new(); inputs];
    let mut invalid = BTreeSet::new();
    let mut actions = Vec::new();
    for action in &file.actions {
        if action.input >= 0 {
            invalid.insert(action.input);
        }
        let mut a = action.clone();
        match a.action.as_mut() {
            Some(Action::Copy(copy)) => {
                owner(copy.owner.as_ref(), &mut selectors);
                let secondary = usize::try_from(action.secondary_input).ok();
                if let Some(list) = secondary.and_then(|i| selectors.get_mut(i)) {
                    list.push(Selector {
                        path: copy.src.clone(),
                        wildcard: copy.allow_wildcard && has_wildcard(&copy.src),
                        include: copy.include_patterns.clone(),
                        exclude: copy.exclude_patterns.clone(),
                    });
                    copy.src = base(&copy.src);
                }
            }
            Some(Action::Mkdir(mkdir)) => owner(mkdir.owner.as_ref(), &mut selectors),
            Some(Action::Mkfile(mkfile)) => owner(mkfile.owner.as_ref(), &mut selectors),
            _ => {}
        }
        actions.push(a);
    }
    let deps = selectors
        .into_iter()
        .enumerate()
        .map(|(i, mut sels)| {
            let usable = !sels.is_empty() && !invalid.contains(&(i as i64));
            sels.sort();
            sels.dedup();
            Dep {
                selectors: if usable { sels } else { Vec::new() },
                content: usable,
            }
        })
        .collect();
    CacheMap {
        key: format!("file {actions:?}"),
        deps,
    }
}

/// A user or group named in another input reads that input's `/etc/passwd` or `/etc/group`.
fn owner(chown: Option<&pb::ChownOpt>, selectors: &mut [Vec<Selector>]) {
    let Some(chown) = chown else { return };
    for (opt, file) in [(&chown.user, "/etc/passwd"), (&chown.group, "/etc/group")] {
        if let Some(pb::UserOpt {
            user: Some(pb::user_opt::User::ByName(named)),
        }) = opt
            && let Some(list) = usize::try_from(named.input)
                .ok()
                .and_then(|i| selectors.get_mut(i))
        {
            list.push(Selector::plain(file));
        }
    }
}

/// Go's `path.Base`.
fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// BuildKit's `containsWildcards`: `*`, `?` or `[` not escaped.
pub(crate) fn has_wildcard(p: &str) -> bool {
    let mut escaped = false;
    for c in p.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if matches!(c, '*' | '?' | '[') {
            return true;
        }
    }
    false
}

/// `path.Join("/", p)`: absolute, cleaned.
pub(crate) fn clean_abs(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(mounts: Vec<pb::Mount>, args: &[&str]) -> pb::Op {
        pb::Op {
            inputs: vec![pb::Input::default(); 2],
            op: Some(pb::op::Op::Exec(pb::ExecOp {
                meta: Some(pb::Meta {
                    args: args.iter().map(|s| s.to_string()).collect(),
                    ..Default::default()
                }),
                mounts,
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    fn root() -> pb::Mount {
        pb::Mount {
            dest: "/".into(),
            input: 0,
            output: 0,
            ..Default::default()
        }
    }

    #[test]
    fn read_only_mounts_match_by_content_the_root_never() {
        let bind = pb::Mount {
            dest: "/src".into(),
            input: 1,
            selector: "app/".into(),
            readonly: true,
            output: -1,
            ..Default::default()
        };
        let m = cache_map(&exec(vec![root(), bind], &["make"]), Rules::Current);
        assert!(!m.deps[0].content);
        assert!(m.deps[1].content);
        assert_eq!(m.deps[1].selectors[0].path, "/app");
    }

    #[test]
    fn mount_selectors_and_default_cache_ids_stay_out_of_the_key() {
        let with = |sel: &str, id: &str| {
            let cache = pb::Mount {
                dest: "/root/.cache".into(),
                input: -1,
                output: -1,
                mount_type: pb::MountType::Cache as i32,
                cache_opt: Some(pb::CacheOpt {
                    id: id.into(),
                    sharing: 0,
                }),
                ..Default::default()
            };
            let bind = pb::Mount {
                dest: "/src".into(),
                input: 1,
                selector: sel.into(),
                readonly: true,
                output: -1,
                ..Default::default()
            };
            let op = exec(vec![root(), bind, cache], &["make"]);
            (
                cache_map(&op, Rules::Current).key,
                cache_map(&op, Rules::V0_8).key,
            )
        };
        assert_eq!(with("a", "/root/.cache"), with("b", "/root/.cache"));
        // A custom id is dropped from the key by v0.32, not by v0.8.
        assert_eq!(with("a", "mine").0, with("a", "other").0);
        assert_ne!(with("a", "mine").1, with("a", "other").1);
        // A namespaced default id (`BUILDKIT_CACHE_MOUNT_NS`) stays in it.
        assert_ne!(
            with("a", "ns//root/.cache").0,
            with("a", "nt//root/.cache").0
        );
        assert_ne!(with("a", "/root/.cache").0, with("a", "mine").0);
    }

    #[test]
    fn copy_source_directory_moves_into_the_selector() {
        let copy = |src: &str| pb::Op {
            inputs: vec![pb::Input::default(); 2],
            op: Some(pb::op::Op::File(pb::FileOp {
                actions: vec![pb::FileAction {
                    input: 0,
                    secondary_input: 1,
                    output: 0,
                    action: Some(Action::Copy(pb::FileActionCopy {
                        src: src.into(),
                        dest: "/app/".into(),
                        allow_wildcard: true,
                        ..Default::default()
                    })),
                }],
            })),
            ..Default::default()
        };
        let (a, b) = (
            cache_map(&copy("/x/pkg.json"), Rules::Current),
            cache_map(&copy("/y/pkg.json"), Rules::Current),
        );
        assert_eq!(a.key, b.key);
        assert_ne!(a.deps[1], b.deps[1]);
        assert!(!a.deps[0].content && a.deps[1].content);
        assert!(cache_map(&copy("/src/*.js"), Rules::Current).deps[1].selectors[0].wildcard);
    }

    #[test]
    fn paths() {
        assert_eq!(base("/a/b/"), "b");
        assert_eq!(base("/"), "/");
        assert_eq!(clean_abs("./a/../b/"), "/b");
        assert!(has_wildcard("/src/*.js") && !has_wildcard("/a\\*"));
    }
}
