use std::collections::{BTreeMap, BTreeSet};

use prost::Message;

use super::go_base;
use crate::image::Platform;
use crate::options::BuildOptions;
use crate::proto::pb;

const ALL_CAPS: &[&str] = &[
    "exec.mount.bind.readwrite-nooutput",
    "exec.mount.tmpfs.size",
    "exec.secretenv",
];

/// Converts `src` with the given daemon caps and build args.
fn convert(src: &str, caps: &[&str], args: &[(&str, &str)]) -> Result<pb::Definition, String> {
    let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
    opts.context_name = "context".into();
    for (k, v) in args {
        opts.build_args.insert((*k).into(), (*v).into());
    }
    let parsed = crate::pipeline::parse(src.as_bytes()).map_err(|e| e.to_string())?;
    let plan = crate::pipeline::plan(&parsed, &opts).map_err(|e| e.to_string())?;
    let ctx = super::super::Context {
        options: &opts,
        llb_caps: caps
            .iter()
            .map(|c| (*c).to_string())
            .collect::<BTreeSet<_>>(),
        source_info: None,
    };
    super::super::convert(&plan, '\\', &BTreeMap::new(), &ctx)
        .map(|c| c.definition)
        .map_err(|e| e.message)
}

/// Every op of a definition by digest, and the digests in order.
fn ops(def: &pb::Definition) -> (BTreeMap<String, pb::Op>, Vec<String>) {
    let mut by_digest = BTreeMap::new();
    let mut order = Vec::new();
    let dump = crate::llb::dump(def);
    for (i, bytes) in def.def.iter().enumerate() {
        let digest = dump["ops"][i]["digest"].as_str().unwrap().to_string();
        by_digest.insert(digest.clone(), pb::Op::decode(bytes.as_slice()).unwrap());
        order.push(digest);
    }
    (by_digest, order)
}

/// The last exec op, with its inputs' ops and its progress name.
fn last_exec(def: &pb::Definition) -> (pb::ExecOp, Vec<pb::Op>, String) {
    let (by_digest, order) = ops(def);
    for digest in order.iter().rev() {
        let op = &by_digest[digest];
        if let Some(pb::op::Op::Exec(e)) = &op.op {
            let inputs = (op.inputs.iter())
                .map(|i| by_digest[&i.digest].clone())
                .collect();
            let name = def.metadata[digest].description["llb.customname"].clone();
            return (e.clone(), inputs, name);
        }
    }
    panic!("no exec op")
}

fn mount<'a>(e: &'a pb::ExecOp, dest: &str) -> &'a pb::Mount {
    e.mounts.iter().find(|m| m.dest == dest).expect(dest)
}

/// `local.followpaths` of the context source, if any.
fn followpaths(def: &pb::Definition) -> Option<String> {
    ops(def).0.values().find_map(|op| match &op.op {
        Some(pb::op::Op::Source(s)) if s.identifier.starts_with("local://") => Some(
            s.attrs
                .get("local.followpaths")
                .cloned()
                .unwrap_or_default(),
        ),
        _ => None,
    })
}

#[test]
fn cache_ids_sharing_and_namespace() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str, i32);
    let cases: &[Case] = &[
        (
            "type=cache,target=/root/.cache",
            &[],
            "/root/.cache",
            "//root/.cache",
            0,
        ),
        (
            "type=cache,target=/root/.cache/",
            &[],
            "/root/.cache/",
            "//root/.cache",
            0,
        ),
        (
            "type=cache,target=/go,id=mod,sharing=locked",
            &[("BUILDKIT_CACHE_MOUNT_NS", "proj")],
            "/go",
            "proj/mod",
            2,
        ),
        (
            "type=cache,target=c,sharing=private",
            &[],
            "/app/c",
            "/c",
            1,
        ),
        ("type=cache,target=$D", &[], "/env", "//env", 0),
    ];
    for (spec, args, dest, id, sharing) in cases {
        let src = format!("FROM busybox\nENV D=/env\nWORKDIR /app\nRUN --mount={spec} x\n");
        let def = convert(&src, &[], args).unwrap();
        let (e, _, _) = last_exec(&def);
        let m = mount(&e, dest);
        assert_eq!(
            (m.mount_type, m.input, m.output, m.readonly),
            (3, -1, -1, false),
            "{spec}"
        );
        let opt = m.cache_opt.as_ref().unwrap();
        assert_eq!((opt.id.as_str(), opt.sharing), (*id, *sharing), "{spec}");
        assert_eq!(m.selector, "");
    }
}

#[test]
fn cache_permissions_make_a_directory() {
    let def = convert(
        "FROM busybox\nRUN --mount=type=cache,target=/c,uid=1000,mode=0750 x\n",
        &[],
        &[],
    )
    .unwrap();
    let (e, inputs, _) = last_exec(&def);
    let m = mount(&e, "/c");
    assert_eq!((m.input, m.selector.as_str()), (1, "/cache"));
    let Some(pb::op::Op::File(f)) = &inputs[1].op else {
        panic!("not a file op: {:?}", inputs[1]);
    };
    let Some(pb::file_action::Action::Mkdir(mk)) = &f.actions[0].action else {
        panic!("not a mkdir");
    };
    assert_eq!(
        (mk.path.as_str(), mk.mode, mk.make_parents),
        ("/cache", 0o750, false)
    );
    let owner = format!("{:?}", mk.owner);
    assert!(
        owner.contains("1000") && owner.contains("ById(0)"),
        "{owner}"
    );
    let names: Vec<&String> = (def.metadata.values())
        .filter_map(|m| m.description.get("llb.customname"))
        .collect();
    assert!(
        names
            .iter()
            .any(|n| *n == "[internal] setting cache mount permissions")
    );
}

#[test]
fn bind_mounts() {
    let src = "FROM busybox AS build\nRUN make\nFROM busybox\nWORKDIR /app\nCOPY a.txt /\nRUN --mount=source=./src/,target=in --mount=from=build,src=/out,dst=/o --mount=type=bind,target=/w,rw x\n";
    let def = convert(src, ALL_CAPS, &[]).unwrap();
    let (e, inputs, name) = last_exec(&def);
    assert!(name.starts_with("[stage-1 4/4] RUN --mount="), "{name}");
    let ctx_in = mount(&e, "/app/in");
    assert_eq!(
        (ctx_in.selector.as_str(), ctx_in.readonly, ctx_in.output),
        ("/src", true, -1)
    );
    let ctx_op = &inputs[usize::try_from(ctx_in.input).unwrap()];
    assert!(matches!(&ctx_op.op, Some(pb::op::Op::Source(s)) if s.identifier == "local://context"));
    let from = mount(&e, "/o");
    assert_eq!((from.selector.as_str(), from.readonly), ("/out", true));
    let stage_op = &inputs[usize::try_from(from.input).unwrap()];
    assert!(matches!(&stage_op.op, Some(pb::op::Op::Exec(_))));
    let rw = mount(&e, "/w");
    assert_eq!(
        (rw.readonly, rw.output, rw.selector.as_str()),
        (false, -1, "")
    );
    // `/w` binds the whole context, so there are no followpaths.
    assert_eq!(followpaths(&def).as_deref(), Some(""));
    let src = "FROM busybox\nCOPY a.txt /\nRUN --mount=source=src,target=/s x\n";
    let def = convert(src, &[], &[]).unwrap();
    assert_eq!(followpaths(&def).as_deref(), Some("[\"a.txt\",\"src\"]"));

    // Without the no-output cap a writable bind mount gets an output, as in BuildKit.
    let def = convert("FROM busybox\nRUN --mount=target=/w,rw x\n", &[], &[]).unwrap();
    let (e, _, _) = last_exec(&def);
    assert_eq!((mount(&e, "/w").output, mount(&e, "/").output), (1, 0));
}

#[test]
fn tmpfs_size_and_context_paths() {
    let src = "FROM busybox\nCOPY a.txt /\nRUN --mount=type=tmpfs,target=/t,size=64m x\n";
    let def = convert(src, ALL_CAPS, &[]).unwrap();
    let (e, _, _) = last_exec(&def);
    let t = mount(&e, "/t");
    assert_eq!((t.mount_type, t.input, t.output), (4, -1, -1));
    assert_eq!(t.tmpfs_opt.as_ref().unwrap().size, 64 << 20);
    // BuildKit records `/` for a tmpfs, which drops followpaths.
    assert_eq!(followpaths(&def).as_deref(), Some(""));
    let err = convert(src, &[], &[]).unwrap_err();
    assert!(err.contains("exec.mount.tmpfs.size"), "{err}");
    assert!(
        convert(
            "FROM busybox\nRUN --mount=type=tmpfs,target=/t x\n",
            &[],
            &[]
        )
        .is_ok()
    );
}

#[test]
fn secrets_and_ssh() {
    let src = "FROM busybox\nRUN --mount=type=ssh --mount=type=secret,target=/root/.npmrc,required --mount=type=secret,id=tok,env=TOKEN --mount=type=secret,id=a/b,uid=5 echo $TOKEN\n";
    let def = convert(src, ALL_CAPS, &[]).unwrap();
    let (e, _, name) = last_exec(&def);
    assert!(
        name.ends_with("--mount=type=secret,id=a/b,uid=5 echo ****"),
        "{name}"
    );
    let tail: Vec<(&str, i32)> = e.mounts[1..]
        .iter()
        .map(|m| (m.dest.as_str(), m.mount_type))
        .collect();
    assert_eq!(
        tail,
        [
            ("/root/.npmrc", 1),
            ("/run/secrets/b", 1),
            ("/run/buildkit/ssh_agent.0", 2)
        ]
    );
    let npmrc = e.mounts[1].secret_opt.as_ref().unwrap();
    assert_eq!(
        (npmrc.id.as_str(), npmrc.mode, npmrc.optional),
        (".npmrc", 0o400, false)
    );
    let ab = e.mounts[2].secret_opt.as_ref().unwrap();
    assert_eq!((ab.id.as_str(), ab.uid, ab.optional), ("a/b", 5, true));
    let ssh = e.mounts[3].ssh_opt.as_ref().unwrap();
    assert_eq!((ssh.id.as_str(), ssh.mode, ssh.optional), ("", 0o600, true));
    assert_eq!(e.secretenv.len(), 1);
    assert_eq!(
        (e.secretenv[0].id.as_str(), e.secretenv[0].name.as_str()),
        ("tok", "TOKEN")
    );
    let env = e.meta.unwrap().env;
    assert!(env.contains(&"SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0".to_string()));
    assert!(!env.iter().any(|v| v.starts_with("TOKEN=")));

    let err = convert(src, &[], &[]).unwrap_err();
    assert!(err.contains("exec.secretenv"), "{err}");
}

#[test]
fn conversion_errors() {
    let cases = [
        ("RUN --mount=target=/ x", "invalid mount target \"/\""),
        ("RUN --mount=type=cache x", "invalid mount target \"/\""),
        (
            "RUN --mount=type=ssh,src=x x",
            "ssh does not support source",
        ),
        ("RUN --mount=type=nope x", "unsupported mount type \"nope\""),
        (
            "RUN --mount=type=$T,target=/x x",
            "unsupported mount type \"\"",
        ),
    ];
    for (run, want) in cases {
        let src = format!("FROM busybox\n{run}\n");
        assert_eq!(convert(&src, ALL_CAPS, &[]).unwrap_err(), want, "{run}");
    }
    // Bad mounts in a stage the target does not need are not looked at.
    assert!(
        convert(
            "FROM busybox AS x\nRUN --mount=type=nope x\nFROM busybox\n",
            &[],
            &[]
        )
        .is_ok()
    );
}

#[test]
fn go_path_base() {
    for (p, want) in [
        ("/a/b", "b"),
        ("a/b/", "b"),
        ("", "."),
        ("/", "/"),
        ("x", "x"),
    ] {
        assert_eq!(go_base(p), want, "{p}");
    }
}
