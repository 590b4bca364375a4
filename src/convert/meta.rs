//! Instructions that change the image config and the stage's variables, plus WORKDIR's mkdir.

use std::collections::BTreeMap;

use crate::image::{Empty, HealthConfig};
use crate::instructions::{Instruction, Kind};
use crate::llb;
use crate::plan::Stage;

use super::Dispatcher;
use super::checks::Once;
use super::copy::parse_chown;
use super::gofmt;
use super::run::with_shell;
use super::stage::{StageState, uppercase_cmd};

impl Dispatcher<'_> {
    pub(super) fn meta_step(
        &mut self,
        st: &mut StageState,
        _stage: &Stage,
        ins: &Instruction,
    ) -> Result<(), String> {
        let result = self.meta_kind(st, ins);
        if st.env.byte_len() > super::MAX_DEFINITION {
            return Err(format!(
                "the environment of this stage exceeds {} MiB, more than BuildKit accepts",
                super::MAX_DEFINITION >> 20
            ));
        }
        result
    }

    /// The instruction's effect on the config and the variables.
    fn meta_kind(&mut self, st: &mut StageState, ins: &Instruction) -> Result<(), String> {
        let expand = |word: &str, st: &StageState| self.expand_checked(word, st, ins);
        match &ins.kind {
            Kind::Env(pairs) => {
                // Every pair sees the environment from before the instruction.
                let expanded = pairs
                    .iter()
                    .map(|kv| Ok((expand(&kv.key, st)?, expand(&kv.value, st)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                let mut history = String::from("ENV");
                for ((k, v), kv) in expanded.iter().zip(pairs) {
                    if k.is_empty() {
                        return Err("ENV names can not be blank".into());
                    }
                    self.check_pair("ENV", k, kv.legacy, ins);
                    st.env.add(k, v);
                    st.config_env.set(&mut st.image, k, v);
                    history.push_str(&format!(" {k}={v}"));
                }
                st.image.add_history(history, false);
            }
            Kind::Label(pairs) => {
                let mut history = String::from("LABEL");
                for kv in pairs {
                    let (k, v) = (expand(&kv.key, st)?, expand(&kv.value, st)?);
                    if k.is_empty() {
                        return Err("LABEL names can not be blank".into());
                    }
                    self.check_pair("LABEL", &k, kv.legacy, ins);
                    history.push_str(&format!(" {k}={v}"));
                    st.image
                        .config
                        .labels
                        .get_or_insert_with(BTreeMap::new)
                        .insert(k, v);
                }
                st.image.add_history(history, false);
            }
            Kind::Arg(decls) => {
                let mut shown = Vec::new();
                for decl in decls {
                    self.check_arg_key(&decl.key, ins);
                    let build_arg = self.plan.build_arg(self.ctx.options, &decl.key);
                    let value = match (build_arg, &decl.default) {
                        (Some(v), _) => Some(v.to_string()),
                        (None, Some(d)) => Some(expand(d, st)?),
                        (None, None) => self
                            .plan
                            .global_args
                            .value_for_stage(&decl.key)
                            .map(str::to_string),
                    };
                    if let Some(v) = &value {
                        if !matches!(
                            decl.key.as_str(),
                            "BUILDKIT_SBOM_SCAN_CONTEXT" | "BUILDKIT_SBOM_SCAN_STAGE"
                        ) {
                            st.env.add(&decl.key, v);
                        }
                        shown.push(format!("{}={v}", decl.key));
                    } else {
                        shown.push(decl.key.clone());
                    }
                    st.build_args.declare(&decl.key, value);
                }
                st.image
                    .add_history(format!("ARG {}", shown.join(" ")), false);
            }
            Kind::Workdir(path) => {
                let path = expand(path, st)?;
                self.check_workdir(st, &path, ins);
                let wd = super::paths::workdir(&st.image.config.working_dir, &path);
                st.image.config.working_dir = wd.clone();
                st.workdir = wd.clone();
                let with_layer = wd != "/";
                if with_layer {
                    let owner = (!st.image.config.user.is_empty())
                        .then(|| parse_chown(&st.image.config.user));
                    let actions = llb::FileActions::new().mkdir(
                        &super::paths::clean(&wd),
                        0o755,
                        llb::MkdirOpts {
                            make_parents: true,
                            owner,
                            // SOURCE_DATE_EPOCH dates the directory, as in 1.23+.
                            timestamp: self
                                .plan
                                .epoch
                                .unix
                                .map(|t| t.saturating_mul(1_000_000_000)),
                        },
                    );
                    // The progress name is not an expansion BuildKit checks.
                    let shown = (self.lexer.process_word(ins.original.trim(), &st.env))
                        .unwrap_or_else(|_| ins.original.trim().to_string());
                    let name = st.progress_name(&uppercase_cmd(&shown));
                    let mut meta = self.op_meta(st, ins, name);
                    meta.ignore_cache = false;
                    meta.platform = Some(st.llb_platform());
                    st.state = st.state.file(actions, meta);
                }
                st.image.add_history(format!("WORKDIR {wd}"), with_layer);
            }
            Kind::User(user) => {
                let user = expand(user, st)?;
                st.user = user.clone();
                st.image.config.user = user.clone();
                st.image.add_history(format!("USER {user}"), false);
            }
            Kind::Cmd(cmd) => {
                self.check_once(st, Once::Cmd, ins);
                if cmd.prepend_shell {
                    self.check_shell_form(st, ins);
                }
                let args = if cmd.prepend_shell {
                    with_shell(st, &cmd.args)
                } else {
                    cmd.args.clone()
                };
                st.image
                    .add_history(format!("CMD {}", gofmt::quote_list(&args)), false);
                st.image.config.cmd = Some(args);
                st.image.config.args_escaped = true;
                st.cmd_set = true;
            }
            Kind::Entrypoint(cmd) => {
                self.check_once(st, Once::Entrypoint, ins);
                if cmd.prepend_shell {
                    self.check_shell_form(st, ins);
                }
                let args = if cmd.prepend_shell {
                    with_shell(st, &cmd.args)
                } else {
                    cmd.args.clone()
                };
                st.image
                    .add_history(format!("ENTRYPOINT {}", gofmt::quote_list(&args)), false);
                st.image.config.entrypoint = Some(args);
                if !st.cmd_set {
                    st.image.config.cmd = None;
                }
            }
            Kind::Shell(args) => {
                st.image.config.shell = Some(args.clone());
                st.image
                    .add_history(format!("SHELL {}", gofmt::plain_list(args)), false);
            }
            Kind::Expose(raw) => {
                let mut raw = raw.clone();
                raw.sort();
                let mut ports = Vec::new();
                for word in &raw {
                    for spec in self
                        .lexer
                        .process_words(word, &st.env)
                        .map_err(|e| e.to_string())?
                    {
                        self.check_expose(&spec, ins);
                        ports.extend(parse_port_spec(&spec)?);
                    }
                }
                let exposed = st
                    .image
                    .config
                    .exposed_ports
                    .get_or_insert_with(BTreeMap::new);
                for p in &ports {
                    exposed.insert(p.clone(), Empty {});
                }
                st.image
                    .add_history(format!("EXPOSE {}", gofmt::plain_list(&ports)), false);
            }
            Kind::Volume(paths) => {
                let mut expanded = Vec::new();
                for p in paths {
                    let v = expand(p, st)?;
                    if v.trim().is_empty() {
                        return Err("VOLUME specified can not be an empty string".into());
                    }
                    expanded.push(v);
                }
                let volumes = st.image.config.volumes.get_or_insert_with(BTreeMap::new);
                for v in &expanded {
                    volumes.insert(v.clone(), Empty {});
                }
                st.image
                    .add_history(format!("VOLUME {}", gofmt::plain_list(&expanded)), false);
            }
            Kind::StopSignal(sig) => {
                let sig = expand(sig, st)?;
                validate_signal(&sig)?;
                st.image.config.stop_signal = sig.clone();
                st.image.add_history(format!("STOPSIGNAL {sig}"), false);
            }
            Kind::Healthcheck(h) => {
                self.check_once(st, Once::Healthcheck, ins);
                let hc = HealthConfig {
                    test: h.test.clone(),
                    interval: h.interval,
                    timeout: h.timeout,
                    start_period: h.start_period,
                    start_interval: h.start_interval,
                    retries: h.retries,
                };
                // Go's `%+v` of the HealthcheckConfig, as 1.24+ writes it.
                let history = format!(
                    "HEALTHCHECK {{Test:{} Interval:{} Timeout:{} StartPeriod:{} StartInterval:{} Retries:{}}}",
                    gofmt::plain_list(&hc.test),
                    gofmt::duration(hc.interval),
                    gofmt::duration(hc.timeout),
                    gofmt::duration(hc.start_period),
                    gofmt::duration(hc.start_interval),
                    hc.retries
                );
                st.image.config.healthcheck = Some(hc);
                st.image.add_history(history, false);
            }
            Kind::Maintainer(name) => {
                st.image.author = name.clone();
                st.image.add_history(format!("MAINTAINER {name}"), false);
            }
            Kind::OnBuild(trigger) => {
                st.image
                    .config
                    .on_build
                    .get_or_insert_with(Vec::new)
                    .push(trigger.clone());
            }
            Kind::From(_) | Kind::Run(_) | Kind::Copy(_) | Kind::Add(_) => {
                return Err(format!("{} is not a metadata instruction", ins.keyword()));
            }
        }
        Ok(())
    }
}

/// `80`, `53/udp`, `8000-8002`, `127.0.0.1:80:80/tcp` -> `port/proto` keys.
fn parse_port_spec(spec: &str) -> Result<Vec<String>, String> {
    let (ports, proto) = match spec.rsplit_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    // With an IP or host port, the container port is the last part.
    let container = ports.rsplit(':').next().unwrap_or(ports);
    let bad = || format!("invalid containerPort: {container}");
    let (start, end) = match container.split_once('-') {
        Some((a, b)) => (
            a.parse::<u16>().map_err(|_| bad())?,
            b.parse::<u16>().map_err(|_| bad())?,
        ),
        None => {
            let p = container.parse::<u16>().map_err(|_| bad())?;
            (p, p)
        }
    };
    if end < start {
        return Err(format!(
            "invalid range specified for container port: {container}"
        ));
    }
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

fn validate_signal(sig: &str) -> Result<(), String> {
    const NAMES: &[&str] = &[
        "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
        "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
        "TRAP", "TSTP", "TTIN", "TTOU", "UNUSED", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU",
        "XFSZ",
    ];
    if let Ok(n) = sig.parse::<u32>() {
        return if n == 0 {
            Err(format!("invalid signal: {sig}"))
        } else {
            Ok(())
        };
    }
    let upper = sig.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let rt = name
        .strip_prefix("RTMIN")
        .or_else(|| name.strip_prefix("RTMAX"))
        .is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix(['+', '-'])
                    .is_some_and(|n| n.parse::<u8>().is_ok())
        });
    if NAMES.contains(&name) || rt {
        Ok(())
    } else {
        Err(format!("invalid signal: {sig}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_port_spec("80").unwrap(), ["80/tcp"]);
        assert_eq!(parse_port_spec("53/UDP").unwrap(), ["53/udp"]);
        assert_eq!(
            parse_port_spec("8000-8002").unwrap(),
            ["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert_eq!(parse_port_spec("127.0.0.1:8080:80").unwrap(), ["80/tcp"]);
        assert!(parse_port_spec("http").is_err());
    }

    /// As in 1.26, only CMD marks its arguments escaped: an image with just an ENTRYPOINT
    /// (here from scratch) must not say so, or its digest differs from the official's.
    #[test]
    fn only_cmd_marks_args_escaped() {
        let escaped = |src: &str| {
            let opts = crate::options::BuildOptions::new(crate::image::Platform::new(
                "linux", "amd64", None,
            ));
            let parsed = crate::pipeline::parse(src.as_bytes()).unwrap();
            let plan = crate::pipeline::plan(&parsed, &opts).unwrap();
            let ctx = super::super::Context {
                options: &opts,
                llb_caps: Default::default(),
                source_info: None,
            };
            let converted = super::super::convert(&plan, '\\', &Default::default(), &ctx).unwrap();
            converted.image.config.args_escaped
        };
        assert!(!escaped("FROM scratch\nENTRYPOINT [\"/app\"]\n"));
        assert!(escaped(
            "FROM scratch\nENTRYPOINT [\"/app\"]\nCMD [\"x\"]\n"
        ));
    }

    #[test]
    fn signals() {
        for ok in ["SIGTERM", "TERM", "sigkill", "9", "SIGRTMIN+3"] {
            assert!(validate_signal(ok).is_ok(), "{ok}");
        }
        for bad in ["SIGNOPE", "0", ""] {
            assert!(validate_signal(bad).is_err(), "{bad}");
        }
    }
}
