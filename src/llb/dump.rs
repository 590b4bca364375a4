//! A readable, stable JSON view of a `pb::Definition`, for golden tests and
//! `stager llb --format json`.
//!
//! Ops appear in definition order, each decoded and labelled with its digest, metadata and source
//! lines. Object keys have a fixed order; zero values (empty strings, `false`, unset options) are
//! left out so that a dump shows what an op actually says.

use prost::Message;
use serde_json::{Map, Value, json};

use super::state::digest_of;
use crate::proto::pb;

/// Readable, stable JSON of a Definition (ops decoded, keyed and ordered deterministically).
pub fn dump(def: &pb::Definition) -> Value {
    let locations = def.source.as_ref().map(pb::Source::locations_by_digest);
    let ops: Vec<Value> = (def.def.iter())
        .map(|bytes| {
            let digest = digest_of(bytes);
            let mut obj = Map::new();
            obj.insert("digest".into(), json!(digest));
            match pb::Op::decode(bytes.as_slice()) {
                Ok(op) => op_fields(&op, &mut obj),
                Err(e) => {
                    obj.insert("error".into(), json!(e.to_string()));
                }
            }
            if let Some(md) = def.metadata.get(&digest) {
                obj.insert("metadata".into(), metadata(md));
            }
            // Every op has an entry; one without lines says nothing worth a key.
            if let Some(locs) = (locations.as_ref())
                .and_then(|l| l.get(digest.as_str()))
                .filter(|l| !l.is_empty())
            {
                obj.insert("locations".into(), source_locations(locs));
            }
            Value::Object(obj)
        })
        .collect();
    let sources: Vec<Value> = (def.source.iter().flat_map(|s| &s.infos))
        .map(|info| {
            let mut obj = Map::new();
            put(&mut obj, "filename", &info.filename);
            put(&mut obj, "language", &info.language);
            obj.insert("data".into(), bytes_value(&info.data));
            if let Some(d) = &info.definition {
                obj.insert("definition".into(), dump(d));
            }
            Value::Object(obj)
        })
        .collect();
    let mut out = Map::new();
    out.insert("ops".into(), Value::Array(ops));
    if !sources.is_empty() {
        out.insert("sources".into(), Value::Array(sources));
    }
    Value::Object(out)
}

fn op_fields(op: &pb::Op, obj: &mut Map<String, Value>) {
    let inputs: Vec<Value> = (op.inputs.iter())
        .map(|i| json!({"digest": i.digest, "index": i.index}))
        .collect();
    if !inputs.is_empty() {
        obj.insert("inputs".into(), Value::Array(inputs));
    }
    if let Some(p) = &op.platform {
        let mut s = format!("{}/{}", p.os, p.architecture);
        if !p.variant.is_empty() {
            s = format!("{s}/{}", p.variant);
        }
        obj.insert("platform".into(), json!(s));
    }
    if let Some(c) = &op.constraints
        && !c.filter.is_empty()
    {
        obj.insert("constraints".into(), json!(c.filter));
    }
    let (key, value) = match &op.op {
        None => ("terminal", json!(true)),
        Some(pb::op::Op::Source(s)) => (
            "source",
            json!({"identifier": s.identifier, "attrs": s.attrs}),
        ),
        Some(pb::op::Op::Exec(e)) => ("exec", exec(e)),
        Some(pb::op::Op::File(f)) => (
            "file",
            Value::Array(f.actions.iter().map(file_action).collect()),
        ),
        Some(pb::op::Op::Merge(m)) => (
            "merge",
            json!(m.inputs.iter().map(|i| i.input).collect::<Vec<_>>()),
        ),
        Some(pb::op::Op::Diff(d)) => (
            "diff",
            json!({"lower": d.lower.map(|l| l.input), "upper": d.upper.map(|u| u.input)}),
        ),
    };
    obj.insert(key.into(), value);
}

fn exec(e: &pb::ExecOp) -> Value {
    let mut obj = Map::new();
    if let Some(m) = &e.meta {
        obj.insert("args".into(), json!(m.args));
        obj.insert("env".into(), json!(m.env));
        obj.insert("cwd".into(), json!(m.cwd));
        put(&mut obj, "user", &m.user);
        put(&mut obj, "hostname", &m.hostname);
        if let Some(p) = &m.proxy_env {
            obj.insert(
                "proxy_env".into(),
                json!({"http": p.http_proxy, "https": p.https_proxy, "ftp": p.ftp_proxy,
                       "no": p.no_proxy, "all": p.all_proxy}),
            );
        }
        if !m.extra_hosts.is_empty() {
            let hosts: Vec<Value> = (m.extra_hosts.iter())
                .map(|h| json!(format!("{}={}", h.host, h.ip)))
                .collect();
            obj.insert("extra_hosts".into(), Value::Array(hosts));
        }
        if !m.ulimit.is_empty() {
            let limits: Vec<Value> = (m.ulimit.iter())
                .map(|u| json!({"name": u.name, "soft": u.soft, "hard": u.hard}))
                .collect();
            obj.insert("ulimits".into(), Value::Array(limits));
        }
        put(&mut obj, "cgroup_parent", &m.cgroup_parent);
        if m.remove_mount_stubs_recursive {
            obj.insert("remove_mount_stubs_recursive".into(), json!(true));
        }
        if !m.valid_exit_codes.is_empty() {
            obj.insert("valid_exit_codes".into(), json!(m.valid_exit_codes));
        }
    }
    if e.network != 0 {
        let name = pb::NetMode::try_from(e.network).map_or("?", |n| n.as_str_name());
        obj.insert("network".into(), json!(name));
    }
    if e.security != 0 {
        let name = pb::SecurityMode::try_from(e.security).map_or("?", |s| s.as_str_name());
        obj.insert("security".into(), json!(name));
    }
    obj.insert(
        "mounts".into(),
        Value::Array(e.mounts.iter().map(mount).collect()),
    );
    if !e.secretenv.is_empty() {
        let envs: Vec<Value> = (e.secretenv.iter())
            .map(|s| json!({"id": s.id, "name": s.name, "optional": s.optional}))
            .collect();
        obj.insert("secret_env".into(), Value::Array(envs));
    }
    Value::Object(obj)
}

fn mount(m: &pb::Mount) -> Value {
    let mut obj = Map::new();
    obj.insert("dest".into(), json!(m.dest));
    let kind = pb::MountType::try_from(m.mount_type).map_or("?", |t| t.as_str_name());
    obj.insert("type".into(), json!(kind));
    obj.insert("input".into(), json!(m.input));
    obj.insert("output".into(), json!(m.output));
    if m.readonly {
        obj.insert("readonly".into(), json!(true));
    }
    put(&mut obj, "selector", &m.selector);
    if let Some(c) = &m.cache_opt {
        let sharing = pb::CacheSharingOpt::try_from(c.sharing).map_or("?", |s| s.as_str_name());
        obj.insert("cache".into(), json!({"id": c.id, "sharing": sharing}));
    }
    if let Some(t) = &m.tmpfs_opt {
        obj.insert("tmpfs".into(), json!({"size": t.size}));
    }
    if let Some(s) = &m.secret_opt {
        let v = json!({"id": s.id, "uid": s.uid, "gid": s.gid, "mode": format!("{:o}", s.mode), "optional": s.optional});
        obj.insert("secret".into(), v);
    }
    if let Some(s) = &m.ssh_opt {
        let v = json!({"id": s.id, "uid": s.uid, "gid": s.gid, "mode": format!("{:o}", s.mode), "optional": s.optional});
        obj.insert("ssh".into(), v);
    }
    put(&mut obj, "result_id", &m.result_id);
    Value::Object(obj)
}

fn file_action(a: &pb::FileAction) -> Value {
    use pb::file_action::Action as A;
    let mut obj = Map::new();
    obj.insert("input".into(), json!(a.input));
    obj.insert("secondary_input".into(), json!(a.secondary_input));
    obj.insert("output".into(), json!(a.output));
    let mut body = Map::new();
    let key = match &a.action {
        None => "none",
        Some(A::Copy(c)) => {
            body.insert("src".into(), json!(c.src));
            body.insert("dest".into(), json!(c.dest));
            owner(&mut body, c.owner.as_ref());
            if c.mode != -1 {
                body.insert("mode".into(), json!(format!("{:o}", c.mode)));
            }
            put(&mut body, "mode_str", &c.mode_str);
            let flags = [
                ("follow_symlink", c.follow_symlink),
                ("dir_copy_contents", c.dir_copy_contents),
                ("attempt_unpack", c.attempt_unpack_docker_compatibility),
                ("create_dest_path", c.create_dest_path),
                ("allow_wildcard", c.allow_wildcard),
                ("allow_empty_wildcard", c.allow_empty_wildcard),
                (
                    "always_replace_existing_dest_paths",
                    c.always_replace_existing_dest_paths,
                ),
            ];
            for (name, set) in flags {
                if set {
                    body.insert(name.into(), json!(true));
                }
            }
            for (name, list) in [
                ("include_patterns", &c.include_patterns),
                ("exclude_patterns", &c.exclude_patterns),
                ("required_paths", &c.required_paths),
            ] {
                if !list.is_empty() {
                    body.insert(name.into(), json!(list));
                }
            }
            timestamp(&mut body, c.timestamp);
            "copy"
        }
        Some(A::Mkdir(m)) => {
            body.insert("path".into(), json!(m.path));
            body.insert("mode".into(), json!(format!("{:o}", m.mode)));
            if m.make_parents {
                body.insert("make_parents".into(), json!(true));
            }
            owner(&mut body, m.owner.as_ref());
            timestamp(&mut body, m.timestamp);
            "mkdir"
        }
        Some(A::Mkfile(f)) => {
            body.insert("path".into(), json!(f.path));
            body.insert("mode".into(), json!(format!("{:o}", f.mode)));
            body.insert("data".into(), bytes_value(&f.data));
            owner(&mut body, f.owner.as_ref());
            timestamp(&mut body, f.timestamp);
            "mkfile"
        }
        Some(A::Rm(r)) => {
            body.insert("path".into(), json!(r.path));
            if r.allow_not_found {
                body.insert("allow_not_found".into(), json!(true));
            }
            if r.allow_wildcard {
                body.insert("allow_wildcard".into(), json!(true));
            }
            "rm"
        }
    };
    obj.insert(key.into(), Value::Object(body));
    Value::Object(obj)
}

fn owner(obj: &mut Map<String, Value>, chown: Option<&pb::ChownOpt>) {
    let Some(c) = chown else { return };
    let user = |u: &Option<pb::UserOpt>| match u.as_ref().and_then(|u| u.user.as_ref()) {
        None => Value::Null,
        Some(pb::user_opt::User::ById(id)) => json!(id),
        Some(pb::user_opt::User::ByName(n)) => json!({"name": n.name, "input": n.input}),
    };
    obj.insert(
        "owner".into(),
        json!({"user": user(&c.user), "group": user(&c.group)}),
    );
}

fn timestamp(obj: &mut Map<String, Value>, ts: i64) {
    if ts != -1 {
        obj.insert("timestamp".into(), json!(ts));
    }
}

fn metadata(md: &pb::OpMetadata) -> Value {
    let mut obj = Map::new();
    if md.ignore_cache {
        obj.insert("ignore_cache".into(), json!(true));
    }
    if !md.description.is_empty() {
        obj.insert("description".into(), json!(md.description));
    }
    if let Some(e) = &md.export_cache {
        obj.insert("export_cache".into(), json!(e.value));
    }
    if let Some(g) = &md.progress_group {
        obj.insert(
            "progress_group".into(),
            json!({"id": g.id, "name": g.name, "weak": g.weak}),
        );
    }
    if let Some(r) = &md.linux_resources {
        obj.insert(
            "linux_resources".into(),
            json!({
                "memory": r.memory, "memorySwap": r.memory_swap, "cpuShares": r.cpu_shares,
                "cpuPeriod": r.cpu_period, "cpuQuota": r.cpu_quota,
                "cpusetCpus": r.cpuset_cpus, "cpusetMems": r.cpuset_mems,
            }),
        );
    }
    let caps: Vec<&String> = md
        .caps
        .iter()
        .filter(|(_, on)| **on)
        .map(|(c, _)| c)
        .collect();
    if !caps.is_empty() {
        obj.insert("caps".into(), json!(caps));
    }
    Value::Object(obj)
}

/// Each location as `{"source": i, "ranges": [[start_line, start_char, end_line, end_char]]}`.
fn source_locations(locs: &[pb::Location]) -> Value {
    let pos = |p: &Option<pb::Position>| p.map_or((0, 0), |p| (p.line, p.character));
    let all: Vec<Value> = (locs.iter())
        .map(|l| {
            let ranges: Vec<Value> = (l.ranges.iter())
                .map(|r| {
                    let ((sl, sc), (el, ec)) = (pos(&r.start), pos(&r.end));
                    json!([sl, sc, el, ec])
                })
                .collect();
            json!({"source": l.source_index, "ranges": ranges})
        })
        .collect();
    Value::Array(all)
}

fn bytes_value(data: &[u8]) -> Value {
    match std::str::from_utf8(data) {
        Ok(s) => json!(s),
        Err(_) => json!({"hex": data.iter().map(|b| format!("{b:02x}")).collect::<String>()}),
    }
}

fn put(obj: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        obj.insert(key.into(), json!(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{
        CopyOpts, Exec, FileActions, MkdirOpts, Mount, MountKind, OpMeta, State, marshal,
    };
    use std::collections::BTreeMap;

    fn graph() -> State {
        let base = State::image(
            "alpine",
            BTreeMap::new(),
            OpMeta {
                name: Some("FROM alpine".into()),
                locations: vec![(1, 1)],
                ..OpMeta::default()
            },
        );
        let ctx = State::local(
            "context",
            BTreeMap::from([("local.sharedkeyhint".into(), "context".into())]),
            OpMeta::default(),
        );
        let run = base.run(
            Exec {
                args: vec!["true".into()],
                cwd: "/".into(),
                mounts: vec![Mount::new(
                    "/cache",
                    MountKind::Cache {
                        id: "//go".into(),
                        sharing: pb::CacheSharingOpt::Shared,
                        base: State::scratch(),
                    },
                )],
                ..Exec::default()
            },
            OpMeta::default(),
        );
        run.root().file(
            FileActions::new()
                .mkdir(
                    "/app",
                    0o755,
                    MkdirOpts {
                        make_parents: true,
                        ..MkdirOpts::default()
                    },
                )
                .copy(
                    &ctx,
                    ".",
                    "/app/",
                    CopyOpts {
                        mode: Some(0o644),
                        ..CopyOpts::default()
                    },
                )
                .mkfile("/app/bin", 0o600, vec![0xff, 0x00], None),
            OpMeta::default(),
        )
    }

    #[test]
    fn dump_is_stable_and_readable() {
        let info = pb::SourceInfo {
            filename: "Dockerfile".into(),
            data: b"FROM alpine\n".to_vec(),
            ..pb::SourceInfo::default()
        };
        let def = marshal(&graph(), Some(info));
        let v = dump(&def);
        assert_eq!(v, dump(&def));
        let ops = v["ops"].as_array().unwrap();
        assert_eq!(ops.len(), 5);
        assert_eq!(ops[0]["source"]["identifier"], "docker-image://alpine");
        assert_eq!(
            ops[0]["metadata"]["description"]["llb.customname"],
            "FROM alpine"
        );
        assert_eq!(
            ops[0]["locations"],
            json!([{"source": 0, "ranges": [[1, 0, 1, 0]]}])
        );
        assert_eq!(
            ops[1]["exec"]["mounts"][1]["cache"],
            json!({"id": "//go", "sharing": "SHARED"})
        );
        assert_eq!(ops[2]["source"]["attrs"]["local.sharedkeyhint"], "context");
        let file = &ops[3]["file"];
        assert_eq!(
            file[0]["mkdir"],
            json!({"path": "/app", "mode": "755", "make_parents": true})
        );
        assert_eq!(
            file[1]["copy"],
            json!({"src": "/", "dest": "/app/", "mode": "644"})
        );
        assert_eq!(file[2]["mkfile"]["data"], json!({"hex": "ff00"}));
        assert_eq!(ops[4]["terminal"], true);
        assert_eq!(v["sources"][0]["filename"], "Dockerfile");
        let keys: Vec<&String> = ops[1].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["digest", "inputs", "exec", "metadata"]);
    }

    #[test]
    fn undecodable_op_is_reported() {
        let def = pb::Definition {
            def: vec![vec![0xff]],
            ..pb::Definition::default()
        };
        let v = dump(&def);
        assert!(v["ops"][0]["error"].is_string());
        assert_eq!(v["ops"][0]["digest"], json!(digest_of(&[0xff])));
    }
}
