//! An exec op's bytes, written straight from the [`Exec`] it is made of.
//!
//! A RUN is the most common op, and building its `pb::ExecOp` copied every argument, variable
//! and mount path into owned strings only to encode and drop them (a tenth of converting
//! 10,000 RUN lines). These writers give the bytes prost writes for the same message (fields
//! in number order, proto3 defaults left out, the `op` oneof after `platform` and
//! `constraints`, as `marshal::encode_op` orders it); a unit test holds them to that.

use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};

use super::Platform;
use super::exec::{Exec, Mount, MountKind};
use crate::proto::pb;

/// Writes a length-delimited field whose body `body` appends, then puts its length in front.
pub(super) fn nested(buf: &mut Vec<u8>, tag: u32, body: impl FnOnce(&mut Vec<u8>)) {
    encode_key(tag, WireType::LengthDelimited, buf);
    let start = buf.len();
    body(buf);
    let len = (buf.len() - start) as u64;
    let width = encoded_len_varint(len);
    encode_varint(len, buf);
    buf[start..].rotate_right(width);
}

/// A string field, written even when empty (repeated fields keep their empty elements).
pub(super) fn string_field(buf: &mut Vec<u8>, tag: u32, s: &str) {
    bytes_field(buf, tag, s.as_bytes());
}

/// A string field given as its bytes (a digest: no text check needed).
pub(super) fn bytes_field(buf: &mut Vec<u8>, tag: u32, s: &[u8]) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(s.len() as u64, buf);
    buf.extend_from_slice(s);
}

/// A singular string field: left out when empty, as proto3 does.
fn string_if_set(buf: &mut Vec<u8>, tag: u32, s: &str) {
    if !s.is_empty() {
        string_field(buf, tag, s);
    }
}

/// A singular integer field (int32, int64, enum, bool): left out when zero.
pub(super) fn varint_if_set(buf: &mut Vec<u8>, tag: u32, value: i64) {
    if value != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(value as u64, buf);
    }
}

/// `Op.platform`.
pub(super) fn platform(buf: &mut Vec<u8>, p: &Platform) {
    nested(buf, 10, |b| {
        string_if_set(b, 1, &p.architecture);
        string_if_set(b, 2, &p.os);
        string_if_set(b, 3, p.variant.as_deref().unwrap_or_default());
        string_if_set(b, 4, p.os_version.as_deref().unwrap_or_default());
    });
}

/// `Op.constraints`: the empty `WorkerConstraints` Go always writes.
pub(super) fn constraints(buf: &mut Vec<u8>) {
    encode_key(11, WireType::LengthDelimited, buf);
    buf.push(0);
}

/// `ExecOp.meta`. `ssh_auth_sock` is the socket added to the environment, when there is one.
pub(super) fn meta(buf: &mut Vec<u8>, exec: &Exec, ssh_auth_sock: Option<&str>) {
    nested(buf, 1, |b| {
        for arg in &exec.args {
            string_field(b, 1, arg);
        }
        for entry in exec.env.iter() {
            string_field(b, 2, entry);
        }
        if let Some(sock) = ssh_auth_sock {
            const KEY: &str = "SSH_AUTH_SOCK=";
            encode_key(2, WireType::LengthDelimited, b);
            encode_varint((KEY.len() + sock.len()) as u64, b);
            b.extend_from_slice(KEY.as_bytes());
            b.extend_from_slice(sock.as_bytes());
        }
        string_if_set(b, 3, &exec.cwd);
        string_if_set(b, 4, &exec.user);
        if let Some(proxy) = &exec.proxy_env {
            prost::encoding::message::encode(5, proxy, b);
        }
        for (host, ip) in &exec.extra_hosts {
            nested(b, 6, |b| {
                string_if_set(b, 1, host);
                string_if_set(b, 2, ip);
            });
        }
        string_if_set(b, 7, &exec.hostname);
        for ulimit in &exec.ulimits {
            prost::encoding::message::encode(9, ulimit, b);
        }
        string_if_set(b, 10, &exec.cgroup_parent);
        // removeMountStubsRecursive: always true, as the Go client sets it.
        varint_if_set(b, 11, 1);
    });
}

/// One `ExecOp.mounts` entry for a filesystem mount (bind, cache or tmpfs).
pub(super) fn fs_mount(buf: &mut Vec<u8>, m: &Mount, input: i64, output: i64) {
    nested(buf, 2, |b| {
        varint_if_set(b, 1, input);
        string_if_set(b, 2, &m.selector);
        string_if_set(b, 3, &m.dest);
        varint_if_set(b, 4, output);
        varint_if_set(b, 5, i64::from(m.readonly));
        let mount_type = match &m.kind {
            MountKind::Bind(_) => pb::MountType::Bind,
            MountKind::Cache { .. } => pb::MountType::Cache,
            _ => pb::MountType::Tmpfs,
        };
        varint_if_set(b, 6, mount_type as i64);
        match &m.kind {
            MountKind::Tmpfs { size } => nested(b, 19, |b| varint_if_set(b, 1, *size)),
            MountKind::Cache { id, sharing, .. } => nested(b, 20, |b| {
                string_if_set(b, 1, id);
                varint_if_set(b, 2, *sharing as i64);
            }),
            _ => {}
        }
    });
}

/// One `ExecOp.mounts` entry for a secret or SSH socket: no input (`-1`, as the official
/// frontend writes it since 1.10), mounted at `dest`.
pub(super) fn socket_mount(buf: &mut Vec<u8>, dest: &str, kind: &MountKind) {
    nested(buf, 2, |b| {
        varint_if_set(b, 1, -1);
        string_if_set(b, 3, dest);
        match kind {
            MountKind::Secret(opt) => {
                varint_if_set(b, 6, pb::MountType::Secret as i64);
                prost::encoding::message::encode(21, opt, b);
            }
            MountKind::Ssh(opt) => {
                varint_if_set(b, 6, pb::MountType::Ssh as i64);
                prost::encoding::message::encode(22, opt, b);
            }
            _ => {}
        }
    });
}

/// The rest of `ExecOp` after its mounts.
pub(super) fn modes_and_secrets(buf: &mut Vec<u8>, exec: &Exec) {
    varint_if_set(buf, 3, exec.network as i64);
    varint_if_set(buf, 4, exec.security as i64);
    for secret in &exec.secret_env {
        prost::encoding::message::encode(5, secret, buf);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::marshal::encode_op;
    use super::super::{Exec, Mount, MountKind, OpMeta, Platform, State};
    use crate::proto::pb;
    use prost::Message;

    fn img(r: &str) -> State {
        State::image(r, BTreeMap::new(), OpMeta::default())
    }

    /// Execs that use every field the writers know, and the plainest one.
    fn execs() -> Vec<Exec> {
        let plain = Exec {
            args: vec!["/bin/sh".into(), "-c".into(), "true".into()],
            ..Exec::default()
        };
        let mut bind = Mount::new("/src", MountKind::Bind(img("src")));
        bind.readonly = true;
        bind.selector = "/sub".into();
        let mut scratch_out = Mount::new("/out", MountKind::Bind(State::scratch()));
        scratch_out.no_output = true;
        let full = Exec {
            args: vec!["sh".into(), String::new(), "é".repeat(100)],
            env: vec!["PATH=/bin".to_owned(), String::new(), "A=".into()].into(),
            cwd: "/w".into(),
            user: "1000:1000".into(),
            hostname: "h".into(),
            network: pb::NetMode::Host,
            security: pb::SecurityMode::Insecure,
            proxy_env: Some(pb::ProxyEnv {
                http_proxy: "http://p".into(),
                ..pb::ProxyEnv::default()
            }),
            extra_hosts: vec![("a".into(), "1.2.3.4".into()), ("b".into(), String::new())],
            mounts: vec![
                Mount::new("/tmp", MountKind::Tmpfs { size: 0 }),
                Mount::new("/dev/shm", MountKind::Tmpfs { size: 1 << 20 }),
                bind,
                scratch_out,
                Mount::new(
                    "/cache",
                    MountKind::Cache {
                        id: "c".into(),
                        sharing: pb::CacheSharingOpt::Locked,
                        base: img("base"),
                    },
                ),
                Mount::new(
                    "/run/secrets/s",
                    MountKind::Secret(pb::SecretOpt {
                        id: "s".into(),
                        mode: 0o400,
                        ..pb::SecretOpt::default()
                    }),
                ),
                Mount::new("", MountKind::Ssh(pb::SshOpt::default())),
                Mount::new("/ssh", MountKind::Ssh(pb::SshOpt::default())),
            ],
            secret_env: vec![pb::SecretEnv {
                id: "t".into(),
                name: "TOKEN".into(),
                optional: true,
            }],
            ulimits: vec![pb::Ulimit {
                name: "nofile".into(),
                soft: 1024,
                hard: -1,
            }],
            cgroup_parent: "cg".into(),
        };
        vec![plain, full]
    }

    /// The bytes written directly are the bytes prost writes for the message they decode to,
    /// field order and left-out defaults included.
    #[test]
    fn the_bytes_prost_writes_for_the_same_op() {
        let platforms = [
            None,
            Some(Platform {
                os: "linux".into(),
                architecture: "arm64".into(),
                variant: Some("v8".into()),
                os_version: Some("10.0".into()),
            }),
        ];
        for exec in execs() {
            for platform in &platforms {
                let meta = OpMeta {
                    platform: platform.clone().map(std::sync::Arc::new),
                    ..OpMeta::default()
                };
                let out = img("root").run(exec.clone(), meta).root();
                let vertex = &out.output().unwrap().vertex;
                let op = pb::Op::decode(vertex.bytes.as_slice()).unwrap();
                assert_eq!(vertex.bytes, encode_op(&op), "{exec:?}");
                let inputs_len: usize = (op.inputs.iter())
                    .map(|i| prost::encoding::message::encoded_len(1, i))
                    .sum();
                assert_eq!(vertex.inputs_len, inputs_len);
                assert_eq!(
                    op.platform.is_some(),
                    platform.is_some(),
                    "platform written"
                );
                let Some(pb::op::Op::Exec(e)) = &op.op else {
                    panic!("not an exec: {op:?}");
                };
                let meta = e.meta.as_ref().unwrap();
                assert_eq!(meta.args, exec.args);
                assert!(meta.remove_mount_stubs_recursive);
            }
        }
    }

    /// The socket added for an SSH mount is in the environment unless one is set there.
    #[test]
    fn ssh_auth_sock_follows_the_first_ssh_mount() {
        let [_, full] = <[Exec; 2]>::try_from(execs()).unwrap();
        let env = |exec: Exec| {
            let out = img("root").run(exec, OpMeta::default()).root();
            let op = pb::Op::decode(out.output().unwrap().vertex.bytes.as_slice()).unwrap();
            let Some(pb::op::Op::Exec(e)) = op.op else {
                panic!("not an exec");
            };
            e.meta.unwrap().env
        };
        let got = env(full.clone());
        assert_eq!(
            got.last().unwrap(),
            "SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0"
        );
        let mut own = full;
        let mut with_sock = own.env.to_vec();
        with_sock.push("SSH_AUTH_SOCK=/mine".into());
        own.env = with_sock.into();
        assert_eq!(*env(own.clone()), *own.env);
    }
}
