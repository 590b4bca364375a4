//! `RUN --mount` -> the exec's extra mounts, its secret environment variables, and the names
//! shown as `****` in its progress name.
//!
//! Follows BuildKit's `dispatchRunMounts`, `dispatchSecret` and `dispatchSSH`: values are
//! expanded against the stage environment first (never `from`), bind and tmpfs mounts without
//! `from` count as reads of the build context, and only secret IDs reach the LLB.

use crate::instructions::{Instruction, Mount, MountKind, Run, Sharing};
use crate::llb;
use crate::plan::Base;
use crate::proto::pb;

use super::Dispatcher;
use super::paths::{clean, copy_source};
use super::stage::StageState;

/// What the mounts of one RUN add to its exec.
#[derive(Debug, Default)]
pub(super) struct RunMounts {
    /// Bind, cache and tmpfs mounts, then secret files, then SSH sockets (the Go client's order).
    pub mounts: Vec<llb::Mount>,
    /// Secrets exposed as environment variables.
    pub secret_env: Vec<pb::SecretEnv>,
    /// Variable names whose value the progress name shows as `****`.
    pub masked_env: Vec<String>,
}

impl Dispatcher<'_> {
    /// Expands, validates and converts the mounts of `run`; `sources` are the plan's `from`s.
    pub(super) fn run_mounts(
        &mut self,
        st: &StageState,
        ins: &Instruction,
        run: &Run,
        sources: &[Option<Base>],
    ) -> Result<RunMounts, String> {
        let mut out = RunMounts::default();
        let (mut secrets, mut sockets) = (Vec::new(), Vec::new());
        for (i, spec) in run.mounts.iter().enumerate() {
            let lexer = &self.lexer;
            let mut expand =
                |word: &str| lexer.process_word(word, &st.env).map_err(|e| e.to_string());
            let m = spec.resolve(&mut expand)?;
            match m.kind {
                MountKind::Secret => {
                    let (mount, env) = self.secret(&m)?;
                    secrets.extend(mount);
                    if let Some(env) = env {
                        out.masked_env.push(env.name.clone());
                        out.secret_env.push(env);
                    }
                }
                MountKind::Ssh => sockets.push(ssh(&m)?),
                _ => {
                    let from = sources.get(i).and_then(Option::as_ref);
                    let mount = self.fs_mount(st, ins, &m, from)?;
                    out.mounts.push(mount);
                }
            }
        }
        out.mounts.extend(secrets);
        out.mounts.extend(sockets);
        Ok(out)
    }

    /// A bind, cache or tmpfs mount.
    fn fs_mount(
        &mut self,
        st: &StageState,
        ins: &Instruction,
        m: &Mount,
        from: Option<&Base>,
    ) -> Result<llb::Mount, String> {
        let caps = &self.ctx.llb_caps;
        let mut source = match (m.kind, from) {
            (MountKind::Tmpfs, _) | (MountKind::Cache, None) => llb::State::scratch(),
            (_, Some(base)) => {
                let read = copy_source(&m.source);
                if let Base::Stage(i) = base {
                    self.stage_read(*i, &read);
                }
                self.base_state(base, st, ins, &read)?
            }
            (_, None) => self.context.clone(),
        };
        // BuildKit records a context path for every mount without `from` except caches: a
        // tmpfs records `/`, which turns `local.followpaths` off. Kept for identical LLB.
        if from.is_none() && m.kind != MountKind::Cache {
            self.context_paths.insert(copy_source(&m.source));
        }
        let target = if m.target.starts_with('/') {
            m.target.clone()
        } else {
            clean(&format!("/{}/{}", st.workdir, m.target))
        };
        if target == "/" {
            return Err(format!("invalid mount target {target:?}"));
        }
        let mut selector = copy_source(&m.source);
        if selector == "/" {
            selector.clear();
            if m.uid.is_some() || m.gid.is_some() || m.mode.is_some() {
                source = cache_dir(&source, m);
                selector = "/cache".into();
            }
        }
        let kind = match m.kind {
            MountKind::Cache => {
                let ns = (self.ctx.options.build_args)
                    .get("BUILDKIT_CACHE_MOUNT_NS")
                    .map_or("", String::as_str);
                let id = if m.id.is_empty() {
                    clean(&m.target)
                } else {
                    m.id.clone()
                };
                llb::MountKind::Cache {
                    id: format!("{ns}/{id}"),
                    sharing: match m.sharing {
                        None | Some(Sharing::Shared) => pb::CacheSharingOpt::Shared,
                        Some(Sharing::Private) => pb::CacheSharingOpt::Private,
                        Some(Sharing::Locked) => pb::CacheSharingOpt::Locked,
                    },
                    base: source,
                }
            }
            MountKind::Tmpfs => {
                if m.size > 0 && !caps.contains("exec.mount.tmpfs.size") {
                    return Err(
                        "RUN --mount=type=tmpfs,size= needs a BuildKit with exec.mount.tmpfs.size (v0.10 or later)"
                            .into(),
                    );
                }
                llb::MountKind::Tmpfs { size: m.size }
            }
            _ => llb::MountKind::Bind(source),
        };
        let no_output = !m.readonly
            && m.kind == MountKind::Bind
            && caps.contains("exec.mount.bind.readwrite-nooutput");
        Ok(llb::Mount {
            dest: target,
            kind,
            readonly: m.readonly,
            selector,
            no_output,
        })
    }

    /// The state of a mount's `from`: an earlier stage, scratch, an image or a named context
    /// (of which only `read` is sent, when it is local).
    fn base_state(
        &self,
        base: &Base,
        st: &StageState,
        ins: &Instruction,
        read: &str,
    ) -> Result<llb::State, String> {
        match base {
            Base::Stage(i) => self
                .stage_output(*i)
                .ok_or_else(|| format!("stage {i} was not converted before use")),
            Base::Scratch => Ok(llb::State::scratch()),
            Base::Image(r) => self
                .image_source(&r.to_string(), &st.platform, None, ins)
                .map(|(state, _)| state)
                .map_err(|e| e.message),
            Base::Context(named) => {
                let read = std::collections::BTreeSet::from([read.to_string()]);
                self.context_source(named, &st.platform, ins, Some(&read))
                    .map(|(state, _)| state)
            }
        }
    }

    /// A secret file mount (unless only `env` was asked for) and its environment variable.
    fn secret(&self, m: &Mount) -> Result<(Option<llb::Mount>, Option<pb::SecretEnv>), String> {
        let mut id = if m.source.is_empty() {
            m.id.clone()
        } else {
            m.source.clone()
        };
        if id.is_empty() {
            if m.target.is_empty() {
                return Err("one of source, target required".into());
            }
            id = go_base(&m.target);
        }
        let optional = !m.required;
        let env = match &m.env {
            None => None,
            Some(_) if !self.ctx.llb_caps.contains("exec.secretenv") => {
                return Err(
                    "RUN --mount=type=secret,env= needs a BuildKit with exec.secretenv (v0.10 or later)"
                        .into(),
                );
            }
            Some(name) => Some(pb::SecretEnv {
                id: id.clone(),
                name: name.clone(),
                optional,
            }),
        };
        let dest = match (&m.env, m.target.as_str()) {
            (Some(_), "") => None,
            (None, "") => Some(format!("/run/secrets/{}", go_base(&id))),
            (_, target) => Some(target.to_string()),
        };
        let mount = dest.map(|dest| {
            let opt = pb::SecretOpt {
                id,
                uid: m.uid.unwrap_or(0),
                gid: m.gid.unwrap_or(0),
                mode: m.mode.unwrap_or(0o400),
                optional,
            };
            llb::Mount::new(&dest, llb::MountKind::Secret(opt))
        });
        Ok((mount, env))
    }
}

/// An SSH agent socket; an empty target gets `/run/buildkit/ssh_agent.N` from `llb`.
fn ssh(m: &Mount) -> Result<llb::Mount, String> {
    if !m.source.is_empty() {
        return Err("ssh does not support source".into());
    }
    // BuildKit writes the ID as given; the daemon reads an empty one as `default`.
    let opt = pb::SshOpt {
        id: m.id.clone(),
        uid: m.uid.unwrap_or(0),
        gid: m.gid.unwrap_or(0),
        mode: m.mode.unwrap_or(0o600),
        optional: !m.required,
    };
    Ok(llb::Mount::new(&m.target, llb::MountKind::Ssh(opt)))
}

/// `base` with a `/cache` directory owned and moded as the cache mount asks.
fn cache_dir(base: &llb::State, m: &Mount) -> llb::State {
    let owner = llb::Chown {
        user: llb::UserSpec::Id(m.uid.unwrap_or(0)),
        group: Some(llb::UserSpec::Id(m.gid.unwrap_or(0))),
    };
    let mode = i32::try_from(m.mode.unwrap_or(0o755) & 0o7777).unwrap_or(0o755);
    let actions = llb::FileActions::new().mkdir(
        "/cache",
        mode,
        llb::MkdirOpts {
            owner: Some(owner),
            ..llb::MkdirOpts::default()
        },
    );
    let meta = llb::OpMeta {
        name: Some("[internal] setting cache mount permissions".into()),
        ..llb::OpMeta::default()
    };
    base.file(actions, meta)
}

/// Go's `path.Base`.
fn go_base(p: &str) -> String {
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return if p.is_empty() { ".".into() } else { "/".into() };
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

#[cfg(test)]
#[path = "mounts_tests.rs"]
mod tests;
