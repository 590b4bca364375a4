//! RUN -> ExecOp.

use crate::instructions::{Instruction, Run};
use crate::llb;
use crate::options::NetworkMode;
use crate::plan::{Base, Stage};
use crate::proto::pb;
use crate::shell::{EnvGetter, Lexer};

use super::env::EnvList;

use super::Dispatcher;
use super::stage::{StageState, uppercase_cmd_in_place};

/// The shell of shell-form commands when SHELL was not used.
fn default_shell(os: &str) -> &'static [&'static str] {
    if os == "windows" {
        &["cmd", "/S", "/C"]
    } else {
        &["/bin/sh", "-c"]
    }
}

/// `[shell..., joined args]` for shell form, as BuildKit's `withShell`.
pub(super) fn with_shell(st: &StageState, args: &[String]) -> Vec<String> {
    let joined = args.join(" ");
    match st.image.config.shell.as_deref() {
        Some(shell) if !shell.is_empty() => {
            let mut out = Vec::with_capacity(shell.len() + 1);
            out.extend_from_slice(shell);
            out.push(joined);
            out
        }
        _ => {
            let shell = default_shell(&st.platform.os);
            let mut out = Vec::with_capacity(shell.len() + 1);
            out.extend(shell.iter().map(|w| (*w).to_owned()));
            out.push(joined);
            out
        }
    }
}

impl Dispatcher<'_> {
    pub(super) fn run_step(
        &mut self,
        st: &mut StageState,
        stage: &Stage,
        ins: &Instruction,
        run: &Run,
        mount_from: &[Option<Base>],
    ) -> Result<(), String> {
        // A RUN can read anything of its stage.
        self.stage_read(stage.index, "/");
        let (args, pipes, summary) = heredoc_command(st, run)?;
        let extra = self.run_mounts(st, ins, run, mount_from)?;
        let opts = self.ctx.options;
        let network = match run.network.as_deref() {
            None | Some("default") => match opts.network {
                NetworkMode::Sandbox => pb::NetMode::Unset,
                NetworkMode::Host => pb::NetMode::Host,
                NetworkMode::None => pb::NetMode::None,
            },
            Some("none") => pb::NetMode::None,
            Some("host") => pb::NetMode::Host,
            Some(other) => return Err(format!("unsupported network mode {other:?}")),
        };
        let security = match run.security.as_deref() {
            None | Some("sandbox") => pb::SecurityMode::Sandbox,
            Some("insecure") => pb::SecurityMode::Insecure,
            Some(other) => return Err(format!("unsupported security mode {other:?}")),
        };
        let name_lexer = Lexer {
            raw_quotes: true,
            skip_unset_env: true,
            ..self.lexer.clone()
        };
        // Secrets read into variables show as `****` (BuildKit's `withSecretEnvMask`).
        let name_env = Masked {
            env: &st.env,
            masked: &extra.masked_env,
        };
        // The here-document's summary is part of what is expanded, as in the official frontend.
        let code: std::borrow::Cow<str> = match summary {
            Some(first) => format!("{} ({first})", ins.original.trim()).into(),
            None => ins.original.trim().into(),
        };
        let mut shown =
            (name_lexer.process_word(&code, &name_env)).unwrap_or_else(|_| code.into_owned());
        uppercase_cmd_in_place(&mut shown);
        let name = st.progress_name(&shown);
        let mut meta = self.op_meta(st, ins, name);
        // An inherited trigger is described by its own text, without the ONBUILD of its name.
        let code = ins.original.trim();
        meta.description.push((
            "com.docker.dockerfile.v1.command",
            code.strip_prefix("ONBUILD ").unwrap_or(code).to_string(),
        ));
        meta.platform = Some(st.llb_platform());
        // The Go client records this cap on every exec when the daemon has it (metadata only).
        if self.ctx.llb_caps.contains("exec.meta.setsdefaultpath") {
            meta.caps.push("exec.meta.setsdefaultpath");
        }
        // Resource limits (1.25+) where the daemon applies them; older daemons run without, as
        // with the official frontend.
        if let Some(r) = &opts.linux_resources
            && self.ctx.llb_caps.contains("exec.meta.linux.resources")
        {
            meta.caps.push("exec.meta.linux.resources");
            meta.linux_resources = Some(pb::LinuxResources {
                memory: r.memory,
                memory_swap: r.memory_swap,
                cpu_shares: r.cpu_shares,
                cpu_period: r.cpu_period,
                cpu_quota: r.cpu_quota,
                cpuset_cpus: r.cpuset_cpus.clone(),
                cpuset_mems: r.cpuset_mems.clone(),
            });
        }
        self.emitted += st.env.byte_len() + args.iter().map(String::len).sum::<usize>();
        if self.emitted > super::MAX_DEFINITION {
            return Err(format!(
                "the build definition would exceed {} MiB, the most BuildKit accepts (the environment of this RUN is {} bytes)",
                super::MAX_DEFINITION >> 20,
                st.env.byte_len()
            ));
        }
        let mut mounts: Vec<llb::Mount> = pipes.into_iter().chain(extra.mounts).collect();
        // Like the official frontend: shm-size only where the daemon can size a tmpfs.
        if opts.shm_size > 0 && self.ctx.llb_caps.contains("exec.mount.tmpfs.size") {
            mounts.push(llb::Mount {
                dest: "/dev/shm".into(),
                kind: llb::MountKind::Tmpfs {
                    size: opts.shm_size,
                },
                readonly: false,
                selector: String::new(),
                no_output: false,
            });
        }
        if !opts.ulimits.is_empty() && !self.ctx.llb_caps.contains("exec.meta.ulimit") {
            return Err("ulimit needs a BuildKit with exec.meta.ulimit (v0.10 or later)".into());
        }
        let ulimits = opts
            .ulimits
            .iter()
            .map(|u| pb::Ulimit {
                name: u.name.clone(),
                soft: u.soft,
                hard: u.hard,
            })
            .collect();
        let history = run_history(&args, st);
        let exec = llb::Exec {
            args,
            env: st.env.to_strings(),
            cwd: st.workdir.clone(),
            user: st.user.clone(),
            hostname: opts.hostname.clone().unwrap_or_default(),
            network,
            security,
            proxy_env: proxy_env(&opts.build_args),
            extra_hosts: opts.extra_hosts.clone(),
            mounts,
            secret_env: extra.secret_env,
            ulimits,
            ..llb::Exec::default()
        };
        st.state = st.state.run(exec, meta).root();
        st.image.add_history(history, true);
        Ok(())
    }
}

/// The stage's environment with the variables secrets are read into shown as `****`, without
/// copying the environment for every RUN.
struct Masked<'a> {
    env: &'a EnvList,
    masked: &'a [String],
}

impl EnvGetter for Masked<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        if self.masked.iter().any(|m| m == name) {
            Some("****")
        } else {
            self.env.value(name)
        }
    }

    fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = (self.env.iter())
            .map(|(k, _)| k)
            .filter(|k| !self.masked.iter().any(|m| m == k))
            .map(str::to_string)
            .collect();
        keys.extend(self.masked.iter().cloned());
        keys
    }
}

/// Exec args, the `/dev/pipes/` mount of a script, and the first line of a lone here-document.
type RunCommand = (Vec<String>, Option<llb::Mount>, Option<String>);

/// The exec args of a RUN, BuildKit's way with here-documents: a lone `<<EOF` whose body
/// starts with `#!` runs as a script mounted under `/dev/pipes/`; a lone one without runs
/// through the shell; anything else passes the command and all bodies to the shell.
/// Also returns the `/dev/pipes/` mount and the first line shown in the progress name.
fn heredoc_command(st: &StageState, run: &Run) -> Result<RunCommand, String> {
    let cmd = &run.command;
    if run.heredocs.is_empty() {
        let args = if cmd.prepend_shell {
            with_shell(st, &cmd.args)
        } else {
            cmd.args.clone()
        };
        return Ok((args, None, None));
    }
    let [line] = cmd.args.as_slice() else {
        return Err(format!(
            "parsing produced an invalid run command: {:?}",
            cmd.args
        ));
    };
    if !cmd.prepend_shell {
        return Err("here-documents cannot be used with the exec form of RUN".into());
    }
    let lone = crate::syntax::parse_heredoc(line.trim()).ok().flatten();
    if let (Some(_), [doc]) = (lone, run.heredocs.as_slice()) {
        let body = if doc.chomp {
            doc.chomped_content()
        } else {
            doc.content.clone()
        };
        let summary = summarize(&body);
        if body.starts_with("#!") && st.platform.os != "windows" {
            let script = llb::State::scratch().file(
                llb::FileActions::new().mkfile(&doc.name, 0o755, body.into_bytes(), None),
                llb::OpMeta {
                    name: Some("[internal] preparing inline document".into()),
                    ..llb::OpMeta::default()
                },
            );
            let mount = llb::Mount {
                dest: "/dev/pipes/".into(),
                kind: llb::MountKind::Bind(script),
                readonly: true,
                selector: "/".into(),
                no_output: false,
            };
            // Still through the shell: the official frontend wraps the script path like any
            // shell-form command (seen in BuildKit's provenance of its builds).
            return Ok((
                with_shell(st, &[format!("/dev/pipes/{}", doc.name)]),
                Some(mount),
                Some(summary),
            ));
        }
        return Ok((with_shell(st, &[body]), None, Some(summary)));
    }
    // BuildKit hands the shell the command and the bodies as written (no chomping, the shell
    // does that for `<<-`), each body followed by its terminator.
    let mut script = line.clone();
    for doc in &run.heredocs {
        script.push('\n');
        script.push_str(&doc.content);
        script.push_str(&doc.name);
    }
    Ok((with_shell(st, &[script]), None, None))
}

/// The first line of a here-document, with `...` when more follow.
fn summarize(body: &str) -> String {
    let trimmed = body.trim();
    let mut lines = trimmed.lines();
    let first = lines.next().unwrap_or_default().to_string();
    if lines.next().is_some() {
        format!("{first}...")
    } else {
        first
    }
}

/// `RUN |N K=V ... args # buildkit`: a RUN's history entry, the stage's ARGs as BuildKit
/// writes them.
fn run_history(args: &[String], st: &StageState) -> String {
    use std::fmt::Write as _;
    // Sized once: this runs for every RUN.
    let args_len: usize = args.iter().map(|a| a.len() + 1).sum();
    let mut out = String::with_capacity("RUN  # buildkit".len() + args_len + 16);
    out.push_str("RUN ");
    if !st.build_args.is_empty() {
        let _ = write!(out, "|{}", st.build_args.len());
        for (key, value) in st.build_args.iter() {
            let v = st.env.value(key).or(value).unwrap_or_default();
            let _ = write!(out, " {key}={v}");
        }
    }
    for (i, arg) in args.iter().enumerate() {
        if i > 0 || !st.build_args.is_empty() {
            out.push(' ');
        }
        out.push_str(arg);
    }
    out.push_str(" # buildkit");
    out
}

/// Proxy build-args go to the daemon as `proxy_env`, never into the env or the cache key.
fn proxy_env(build_args: &std::collections::BTreeMap<String, String>) -> Option<pb::ProxyEnv> {
    let mut pe = pb::ProxyEnv::default();
    let mut any = false;
    // BTreeMap order puts upper-case names first, so a lower-case one wins, deterministically.
    for (k, v) in build_args {
        // Compared in place: this runs for every build arg of every RUN.
        let is = |name: &str| k.eq_ignore_ascii_case(name);
        let slot = if is("http_proxy") {
            &mut pe.http_proxy
        } else if is("https_proxy") {
            &mut pe.https_proxy
        } else if is("ftp_proxy") {
            &mut pe.ftp_proxy
        } else if is("no_proxy") {
            &mut pe.no_proxy
        } else if is("all_proxy") {
            &mut pe.all_proxy
        } else {
            continue;
        };
        *slot = v.clone();
        any = true;
    }
    any.then_some(pe)
}
