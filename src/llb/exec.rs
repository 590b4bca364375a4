//! `ExecOp`: run a command with a root filesystem and extra mounts.
//!
//! The layout follows the Go client, because the daemon's view of outputs depends on it: the
//! root, bind, cache and tmpfs mounts are sorted by destination (stable), inputs are numbered in
//! that order, and each writable, output-producing bind mount gets the next output index. Secret
//! and SSH mounts follow in the order given, with no input.

use std::sync::Arc;

use super::OpMeta;
use super::exec_encode;
use super::state::{Inputs, State, push_dep, vertex_from_bytes, with_scratch};
use crate::proto::pb;

/// A process to run. `Default` gives an empty command in the sandbox network and security mode.
#[derive(Clone, Debug, Default)]
pub struct Exec {
    pub args: Vec<String>,
    /// `KEY=value` entries, in order (shared: the RUNs of a stage often have the same).
    pub env: Arc<[String]>,
    pub cwd: String,
    pub user: String,
    pub hostname: String,
    pub network: pb::NetMode,
    pub security: pb::SecurityMode,
    pub proxy_env: Option<pb::ProxyEnv>,
    /// `(host, ip)` pairs for `/etc/hosts`.
    pub extra_hosts: Vec<(String, String)>,
    /// Mounts besides the root filesystem.
    pub mounts: Vec<Mount>,
    pub secret_env: Vec<pb::SecretEnv>,
    pub ulimits: Vec<pb::Ulimit>,
    pub cgroup_parent: String,
}

/// One mount of an exec.
#[derive(Clone, Debug)]
pub struct Mount {
    pub dest: String,
    pub kind: MountKind,
    pub readonly: bool,
    /// Path inside the source to mount (`Mount.selector`).
    pub selector: String,
    /// A writable bind mount whose changes are thrown away.
    pub no_output: bool,
}

/// What is mounted.
#[derive(Clone, Debug)]
pub enum MountKind {
    Bind(State),
    /// A persistent cache directory, first filled from `base` (scratch for an empty one).
    Cache {
        id: String,
        sharing: pb::CacheSharingOpt,
        base: State,
    },
    Tmpfs {
        size: i64,
    },
    Secret(pb::SecretOpt),
    /// An SSH agent socket; an empty `dest` becomes `/run/buildkit/ssh_agent.<n>`.
    Ssh(pb::SshOpt),
}

impl Mount {
    /// A mount with no selector, writable and producing an output where the kind allows it.
    pub fn new(dest: &str, kind: MountKind) -> Mount {
        Mount {
            dest: dest.to_owned(),
            kind,
            readonly: false,
            selector: String::new(),
            no_output: false,
        }
    }
}

/// The results of an exec: its root filesystem and the states behind its other mounts.
#[derive(Clone, Debug)]
pub struct ExecOutput {
    root: State,
    mounts: Vec<(String, State)>,
}

impl ExecOutput {
    /// The root filesystem after the command ran.
    pub fn root(&self) -> State {
        self.root.clone()
    }

    /// The state at `dest` after the command ran: the exec's output for a writable bind mount,
    /// the unchanged source for a read-only one, `None` for mounts without a result (cache,
    /// tmpfs, secret, SSH, no-output).
    pub fn mount(&self, dest: &str) -> Option<State> {
        if dest == "/" {
            return Some(self.root());
        }
        self.mounts
            .iter()
            .find(|(d, _)| d == dest)
            .map(|(_, s)| s.clone())
    }
}

impl State {
    /// Runs `exec` with this state mounted read-write at `/`.
    pub fn run(&self, mut exec: Exec, meta: OpMeta) -> ExecOutput {
        let root = Mount::new("/", MountKind::Bind(self.clone()));
        // Each fs mount with its input and output index, filled in once they are sorted.
        let (mut fs, rest): (Vec<Slotted>, Vec<Slotted>) = std::iter::once(root)
            .chain(std::mem::take(&mut exec.mounts))
            .map(|m| (m, (-1, -1)))
            .partition(|(m, _)| !matches!(m.kind, MountKind::Secret(_) | MountKind::Ssh(_)));
        fs.sort_by(|(a, _), (b, _)| a.dest.cmp(&b.dest));

        let mut caps = ExecCaps::default();
        caps.add(ExecCaps::BASE);
        let mut inputs = Inputs::default();
        let mut deps = Vec::with_capacity(fs.len());
        let mut next_output = 0;
        for (m, slot) in &mut fs {
            let source = match &m.kind {
                MountKind::Bind(s) => Some(s),
                MountKind::Cache { base, .. } => Some(base),
                _ => None,
            };
            let input = source.map_or(-1, |s| inputs.add(s));
            if let Some(s) = source {
                push_dep(&mut deps, s);
            }
            let writes = matches!(m.kind, MountKind::Bind(_)) && !m.readonly && !m.no_output;
            let output = if writes {
                next_output += 1;
                next_output - 1
            } else {
                -1
            };
            *slot = (input, output);
            if !m.selector.is_empty() {
                caps.add(ExecCaps::SELECTOR);
            }
            match &m.kind {
                MountKind::Cache { .. } => caps.add(ExecCaps::CACHE | ExecCaps::CACHE_SHARING),
                MountKind::Tmpfs { size } => {
                    caps.add(ExecCaps::TMPFS);
                    if *size > 0 {
                        caps.add(ExecCaps::TMPFS_SIZE);
                    }
                }
                // A read-write mount without an output needs the daemon's
                // `exec.mount.bind.readwrite-nooutput`, but Go's client checks that cap before
                // and does not list it in the op's metadata: neither do we.
                _ if input >= 0 => caps.add(ExecCaps::BIND),
                _ => {}
            }
        }

        // Secret and SSH mounts follow in the order given; an SSH socket without a path gets
        // the next `/run/buildkit/ssh_agent.<n>`.
        let mut ssh_index = 0;
        let sockets: Vec<(String, MountKind)> = (rest.into_iter())
            .map(|(m, _)| {
                let dest = if matches!(m.kind, MountKind::Ssh(_)) && m.dest.is_empty() {
                    format!("/run/buildkit/ssh_agent.{ssh_index}")
                } else {
                    m.dest
                };
                if matches!(m.kind, MountKind::Ssh(_)) {
                    ssh_index += 1;
                    caps.add(ExecCaps::SSH);
                } else {
                    caps.add(ExecCaps::SECRET);
                }
                (dest, m.kind)
            })
            .collect();
        let first_ssh = (sockets.iter())
            .find(|(_, kind)| matches!(kind, MountKind::Ssh(_)))
            .map(|(dest, _)| dest.as_str());
        let ssh_auth_sock = first_ssh
            .filter(|_| !(exec.env.iter()).any(|e| e.split('=').next() == Some("SSH_AUTH_SOCK")));
        if !exec.secret_env.is_empty() {
            caps.add(ExecCaps::SECRET | ExecCaps::SECRET_ENV);
        }
        if !exec.ulimits.is_empty() {
            caps.add(ExecCaps::ULIMIT);
        }
        if !exec.cgroup_parent.is_empty() {
            caps.add(ExecCaps::CGROUP_PARENT);
        }
        if exec.network != pb::NetMode::Unset {
            caps.add(ExecCaps::NETWORK);
        }
        if exec.security != pb::SecurityMode::Sandbox {
            caps.add(ExecCaps::SECURITY);
        }
        if exec.proxy_env.is_some() {
            caps.add(ExecCaps::PROXY_ENV);
        }

        let mut inputs_len = 0;
        let bytes = with_scratch(|bytes| {
            inputs.encode(bytes);
            inputs_len = bytes.len();
            if let Some(platform) = &meta.platform {
                exec_encode::platform(bytes, platform);
            }
            exec_encode::constraints(bytes);
            exec_encode::nested(bytes, 2, |b| {
                exec_encode::meta(b, &exec, ssh_auth_sock);
                for (m, (input, output)) in &fs {
                    exec_encode::fs_mount(b, m, *input, *output);
                }
                for (dest, kind) in &sockets {
                    exec_encode::socket_mount(b, dest, kind);
                }
                exec_encode::modes_and_secrets(b, &exec);
            });
        });
        let (names, count) = caps.names();
        let vertex = vertex_from_bytes(bytes, inputs_len, deps, meta, &names[..count]);

        // What each fs mount holds afterwards: the exec's output for the ones it writes, the
        // unchanged source for read-only ones. The root is kept apart, so that the usual RUN,
        // with no other mount, lists none.
        let mut root = None;
        let mut mounts: Vec<(String, State)> = Vec::new();
        for (m, (_, output)) in fs {
            let state = if output >= 0 {
                match vertex.output() {
                    Some(out) => State::from_vertex(out.vertex.clone(), output),
                    None => State::scratch(),
                }
            } else if m.readonly {
                match m.kind {
                    MountKind::Bind(s) | MountKind::Cache { base: s, .. } => s,
                    _ => continue,
                }
            } else {
                continue;
            };
            if root.is_none() && m.dest == "/" {
                root = Some(state);
            } else {
                mounts.push((m.dest, state));
            }
        }
        ExecOutput {
            root: root.unwrap_or_else(State::scratch),
            mounts,
        }
    }
}

/// A mount with its input and output index (`-1`: none).
type Slotted = (Mount, (i64, i64));

/// The caps an exec op needs, as a set over the ones `State::run` can add: no list to
/// allocate and deduplicate per RUN.
#[derive(Default)]
struct ExecCaps(u16);

impl ExecCaps {
    const BASE: u16 = 1;
    const SELECTOR: u16 = 1 << 1;
    const CACHE: u16 = 1 << 2;
    const CACHE_SHARING: u16 = 1 << 3;
    const TMPFS: u16 = 1 << 4;
    const TMPFS_SIZE: u16 = 1 << 5;
    const BIND: u16 = 1 << 6;
    const SSH: u16 = 1 << 7;
    const SECRET: u16 = 1 << 8;
    const SECRET_ENV: u16 = 1 << 9;
    const ULIMIT: u16 = 1 << 10;
    const CGROUP_PARENT: u16 = 1 << 11;
    const NETWORK: u16 = 1 << 12;
    const SECURITY: u16 = 1 << 13;
    const PROXY_ENV: u16 = 1 << 14;
    /// The cap of each bit, lowest bit first.
    const NAMES: [&'static str; 15] = [
        "exec.meta.base",
        "exec.mount.selector",
        "exec.mount.cache",
        "exec.mount.cache.sharing",
        "exec.mount.tmpfs",
        "exec.mount.tmpfs.size",
        "exec.mount.bind",
        "exec.mount.ssh",
        "exec.mount.secret",
        "exec.secretenv",
        "exec.meta.ulimit",
        "exec.meta.cgroup.parent",
        "exec.meta.network",
        "exec.meta.security",
        "exec.meta.proxyenv",
    ];

    fn add(&mut self, bits: u16) {
        self.0 |= bits;
    }

    /// The caps in the set: the first `count` names of the array.
    fn names(&self) -> ([&'static str; 15], usize) {
        let mut out = [""; 15];
        let mut count = 0;
        for (bit, name) in Self::NAMES.iter().enumerate() {
            if self.0 & (1 << bit) != 0 {
                out[count] = name;
                count += 1;
            }
        }
        (out, count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::marshal;
    use prost::Message;
    use std::collections::BTreeMap;

    fn img(r: &str) -> State {
        State::image(r, BTreeMap::new(), OpMeta::default())
    }

    fn sh() -> Exec {
        Exec {
            args: vec!["sh".into()],
            cwd: "/".into(),
            ..Exec::default()
        }
    }

    /// The exec op behind `s`, and the Definition's caps for it.
    fn exec_of(s: &State) -> (pb::Op, pb::ExecOp, Vec<String>) {
        let def = marshal(s, None);
        let bytes = &def.def[def.def.len() - 2];
        let op = pb::Op::decode(bytes.as_slice()).unwrap();
        let caps = def.metadata[&s.digest().unwrap()]
            .caps
            .keys()
            .cloned()
            .collect();
        match op.op.clone() {
            Some(pb::op::Op::Exec(e)) => (op, e, caps),
            other => panic!("not an exec: {other:?}"),
        }
    }

    #[test]
    fn mounts_sorted_inputs_deduped_outputs_numbered() {
        let (base, src, cache_base) = (img("base"), img("src"), img("cache"));
        let mut ro = Mount::new("/ro", MountKind::Bind(src.clone()));
        ro.readonly = true;
        let mut noout = Mount::new("/a-noout", MountKind::Bind(src.clone()));
        noout.no_output = true;
        let exec = Exec {
            mounts: vec![
                Mount::new("/w", MountKind::Bind(src.clone())),
                ro,
                Mount::new("/tmp", MountKind::Tmpfs { size: 0 }),
                Mount::new(
                    "/run/secrets/s",
                    MountKind::Secret(pb::SecretOpt::default()),
                ),
                Mount::new(
                    "/cache",
                    MountKind::Cache {
                        id: "c".into(),
                        sharing: pb::CacheSharingOpt::Locked,
                        base: cache_base.clone(),
                    },
                ),
                Mount::new("/b-scratch", MountKind::Bind(State::scratch())),
                noout,
            ],
            ..sh()
        };
        let out = base.run(exec, OpMeta::default());
        let (op, e, caps) = exec_of(&out.root());
        let inputs: Vec<String> = op.inputs.iter().map(|i| i.digest.clone()).collect();
        assert_eq!(
            inputs,
            [base.digest(), src.digest(), cache_base.digest()].map(Option::unwrap)
        );
        let got: Vec<(&str, i64, i64, bool, i32)> = e
            .mounts
            .iter()
            .map(|m| (m.dest.as_str(), m.input, m.output, m.readonly, m.mount_type))
            .collect();
        let (bind, cache, tmpfs, secret) = (0, 3, 4, 1);
        assert_eq!(
            got,
            [
                ("/", 0, 0, false, bind),
                ("/a-noout", 1, -1, false, bind),
                ("/b-scratch", -1, 1, false, bind),
                ("/cache", 2, -1, false, cache),
                ("/ro", 1, -1, true, bind),
                ("/tmp", -1, -1, false, tmpfs),
                ("/w", 1, 2, false, bind),
                ("/run/secrets/s", -1, 0, false, secret),
            ]
        );
        assert_eq!(e.mounts[3].cache_opt.as_ref().unwrap().sharing, 2);
        assert_eq!(
            out.root(),
            State::from_vertex(out.root().output().unwrap().vertex.clone(), 0)
        );
        assert_eq!(out.mount("/w").unwrap().input().unwrap().index, 2);
        assert_eq!(out.mount("/ro"), Some(src));
        for none in ["/tmp", "/cache", "/a-noout", "/run/secrets/s", "/nope"] {
            assert_eq!(out.mount(none), None, "{none}");
        }
        assert!(!caps.contains(&"exec.mount.bind.readwrite-nooutput".to_owned()));
        for cap in [
            "exec.meta.base",
            "exec.mount.bind",
            "exec.mount.cache",
            "exec.mount.cache.sharing",
            "exec.mount.secret",
            "exec.mount.tmpfs",
        ] {
            assert!(caps.contains(&cap.to_owned()), "{cap} in {caps:?}");
        }
        assert!(!caps.contains(&"exec.mount.tmpfs.size".to_owned()));
    }

    #[test]
    fn scratch_root_has_no_input() {
        let out = State::scratch().run(sh(), OpMeta::default());
        let (op, e, caps) = exec_of(&out.root());
        assert!(op.inputs.is_empty());
        assert_eq!((e.mounts[0].input, e.mounts[0].output), (-1, 0));
        assert_eq!(caps, ["exec.meta.base"]);
        assert!(e.meta.unwrap().remove_mount_stubs_recursive);
    }

    #[test]
    fn ssh_default_target_and_auth_sock() {
        let cases: &[(&[&str], &[&str], &str)] = &[
            (&[""], &[], "SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0"),
            (&["/s", ""], &[], "SSH_AUTH_SOCK=/s"),
            (&[""], &["SSH_AUTH_SOCK=/mine"], "SSH_AUTH_SOCK=/mine"),
        ];
        for (dests, env, want) in cases {
            let mounts = dests
                .iter()
                .map(|d| Mount::new(d, MountKind::Ssh(pb::SshOpt::default())))
                .collect();
            let exec = Exec {
                env: env
                    .iter()
                    .map(|e| (*e).to_owned())
                    .collect::<Vec<_>>()
                    .into(),
                mounts,
                ..sh()
            };
            let (_, e, caps) = exec_of(&img("a").run(exec, OpMeta::default()).root());
            let env = e.meta.unwrap().env;
            assert_eq!(
                env.iter()
                    .filter(|e| e.starts_with("SSH_AUTH_SOCK="))
                    .count(),
                1
            );
            assert!(env.contains(&(*want).to_owned()), "{env:?}");
            assert!(caps.contains(&"exec.mount.ssh".to_owned()));
            let ssh_dests: Vec<&str> = e.mounts[1..].iter().map(|m| m.dest.as_str()).collect();
            assert!(ssh_dests.iter().all(|d| !d.is_empty()), "{ssh_dests:?}");
        }
    }

    #[test]
    fn meta_fields_and_their_caps() {
        let exec = Exec {
            network: pb::NetMode::Host,
            security: pb::SecurityMode::Insecure,
            proxy_env: Some(pb::ProxyEnv::default()),
            extra_hosts: vec![("h".into(), "10.0.0.1".into())],
            secret_env: vec![pb::SecretEnv {
                id: "tok".into(),
                name: "TOKEN".into(),
                optional: false,
            }],
            ulimits: vec![pb::Ulimit {
                name: "nofile".into(),
                soft: 1,
                hard: 2,
            }],
            cgroup_parent: "cg".into(),
            ..sh()
        };
        let (_, e, caps) = exec_of(&img("a").run(exec, OpMeta::default()).root());
        assert_eq!((e.network, e.security), (1, 1));
        let meta = e.meta.unwrap();
        assert_eq!(meta.extra_hosts[0].ip, "10.0.0.1");
        assert_eq!(meta.cgroup_parent, "cg");
        assert_eq!(e.secretenv[0].name, "TOKEN");
        assert_eq!(
            caps,
            [
                "exec.meta.base",
                "exec.meta.cgroup.parent",
                "exec.meta.network",
                "exec.meta.proxyenv",
                "exec.meta.security",
                "exec.meta.ulimit",
                "exec.mount.bind",
                "exec.mount.secret",
                "exec.secretenv",
            ]
        );
    }
}
