use std::collections::BTreeSet;

use super::*;
use crate::image::Platform;
use crate::options::BuildOptions;
use crate::pipeline::{self, ConvertContext};

struct Build<'a> {
    dockerfile: &'a str,
    args: &'a [(&'a str, &'a str)],
    ignore: &'a [&'a str],
    named: &'a [(&'a str, &'a str)],
}

fn build(dockerfile: &str) -> Build<'_> {
    Build {
        dockerfile,
        args: &[],
        ignore: &[],
        named: &[],
    }
}

fn llb(b: &Build<'_>) -> pb::Definition {
    let mut opts = BuildOptions::new(Platform::parse("linux/amd64").expect("platform"));
    for (k, v) in b.args {
        opts.build_args.insert(k.to_string(), v.to_string());
    }
    opts.excludes = b.ignore.iter().map(|s| s.to_string()).collect();
    for (k, v) in b.named {
        opts.named_contexts.insert(k.to_string(), v.to_string());
    }
    let bytes = b.dockerfile.as_bytes().to_vec();
    let parsed = pipeline::parse(&bytes).expect("parse");
    let plan = pipeline::plan(&parsed, &opts).expect("plan");
    let ctx = ConvertContext {
        options: &opts,
        llb_caps: crate::convert::QUERIED_CAPS.map(String::from).into(),
        source_info: Some(pb::SourceInfo {
            filename: "Dockerfile".into(),
            data: bytes.clone(),
            definition: None,
            language: "Dockerfile".into(),
        }),
    };
    pipeline::convert(&plan, parsed.dockerfile.escape, &Default::default(), &ctx)
        .expect("convert")
        .definition
}

fn predict_with(old: &Build<'_>, new: &Build<'_>, changed: &[&str], files: &[&str]) -> Report {
    predict_rules(old, new, changed, files, Rules::Current)
}

fn predict_rules(
    old: &Build<'_>,
    new: &Build<'_>,
    changed: &[&str],
    files: &[&str],
    rules: Rules,
) -> Report {
    let (old, new) = (llb(old), llb(new));
    let changes = ChangeSet::new(changed);
    let listed: Vec<String> = files.iter().map(|s| s.to_string()).collect();
    let list = move || listed.clone();
    predict(&Request {
        old: &old,
        new: &new,
        changes: &changes,
        list_context: &list,
        build_args: BTreeSet::from(["V".to_string()]),
        rules,
    })
    .expect("predict")
}

fn predict_same(dockerfile: &str, changed: &[&str]) -> Report {
    predict_with(&build(dockerfile), &build(dockerfile), changed, &[])
}

/// `name -> verdict` for every step.
fn verdicts(r: &Report) -> Vec<(String, &'static str)> {
    (r.steps.iter())
        .map(|s| (s.name.clone(), s.verdict.as_str()))
        .collect()
}

fn step<'r>(r: &'r Report, name: &str) -> &'r Step {
    r.steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name} in {:#?}", r.steps))
}

const NODE: &str = "FROM busybox AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
";

#[test]
fn source_edit_keeps_the_install_cached() {
    let r = predict_same(NODE, &["src/app.js"]);
    assert_eq!(
        verdicts(&r),
        [
            ("[2/6] WORKDIR /app".into(), "cached"),
            (
                "[3/6] COPY package.json package-lock.json ./".into(),
                "cached"
            ),
            ("[4/6] RUN npm ci".into(), "cached"),
            ("[5/6] COPY . .".into(), "rebuilt"),
            ("[6/6] RUN npm run build".into(), "rebuilt"),
        ]
    );
    assert_eq!(
        step(&r, "[5/6] COPY . .").reason,
        "copies changed file src/app.js"
    );
    assert_eq!(
        step(&r, "[6/6] RUN npm run build").reason,
        "follows `[5/6] COPY . .`, which is rebuilt"
    );
    assert_eq!(r.stages[0].first.map(|f| r.steps[f].number), Some(5));
    assert_eq!(r.stages[0].after, 1);
    assert!(r.advice.is_empty());
}

#[test]
fn manifest_edit_reruns_the_install() {
    let r = predict_same(NODE, &["./package-lock.json"]);
    assert_eq!(
        step(&r, "[3/6] COPY package.json package-lock.json ./").verdict,
        Verdict::Rebuilt
    );
    assert_eq!(step(&r, "[4/6] RUN npm ci").verdict, Verdict::Rebuilt);
    assert_eq!(step(&r, "[2/6] WORKDIR /app").verdict, Verdict::Cached);
    // Manifests changing is what an install is for: no advice.
    assert!(r.advice.is_empty());
}

#[test]
fn whole_context_before_install_gets_advice() {
    let df = "FROM busybox\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let r = predict_same(df, &["src/app.js"]);
    assert_eq!(step(&r, "[4/4] RUN npm ci").verdict, Verdict::Rebuilt);
    assert_eq!(r.advice.len(), 1);
    assert_eq!(r.advice[0].rule, "CopyContextBeforeInstall");
    assert_eq!(r.advice[0].line, Some(3));
    assert!(
        r.advice[0].message.contains("src/app.js"),
        "{}",
        r.advice[0].message
    );
}

#[test]
fn ignored_files_do_not_count() {
    let b = Build {
        dockerfile: NODE,
        args: &[],
        ignore: &["*.log", "!keep.log"],
        named: &[],
    };
    let r = predict_with(&b, &b, &["debug.log"], &[]);
    assert_eq!(r.count(Verdict::Cached), 5, "{:#?}", r.steps);
    let r = predict_with(&b, &b, &["keep.log"], &[]);
    assert_eq!(step(&r, "[5/6] COPY . .").verdict, Verdict::Rebuilt);
}

#[test]
fn dockerignore_edit_counts_files_that_enter_the_context() {
    let old = Build {
        dockerfile: NODE,
        args: &[],
        ignore: &["docs"],
        named: &[],
    };
    let r = predict_with(&old, &build(NODE), &[], &["docs/a.md", "package.json"]);
    assert_eq!(step(&r, "[5/6] COPY . .").verdict, Verdict::Rebuilt);
    assert_eq!(
        step(&r, "[5/6] COPY . .").reason,
        "copies changed file docs/a.md"
    );
    assert_eq!(step(&r, "[4/6] RUN npm ci").verdict, Verdict::Cached);
}

#[test]
fn build_args_reach_run_only_after_their_arg_line() {
    let df = "FROM busybox\nRUN echo one\nARG V\nRUN echo two\nRUN echo $V\n";
    let old = Build {
        dockerfile: df,
        args: &[("V", "1")],
        ignore: &[],
        named: &[],
    };
    let new = Build {
        args: &[("V", "2")],
        ..build(df)
    };
    let r = predict_with(&old, &new, &[], &[]);
    assert_eq!(
        verdicts(&r),
        [
            ("[2/4] RUN echo one".into(), "cached"),
            ("[3/4] RUN echo two".into(), "rebuilt"),
            ("[4/4] RUN echo 2".into(), "rebuilt"),
        ]
    );
    assert_eq!(
        step(&r, "[3/4] RUN echo two").reason,
        "build arg V changed (\"1\" -> \"2\")"
    );
    // An arg no stage declares reaches nothing.
    let new = Build {
        args: &[("V", "1"), ("OTHER", "x")],
        ..build(df)
    };
    assert_eq!(
        predict_with(&old, &new, &[], &[]).count(Verdict::Rebuilt),
        0
    );
}

#[test]
fn edited_line_and_steps_before_it() {
    let old = "FROM busybox\nRUN echo a\nRUN echo b\nRUN echo c\n";
    let new = "FROM busybox\nRUN echo a\nRUN echo B\nRUN echo c\n";
    let r = predict_with(&build(old), &build(new), &[], &[]);
    assert_eq!(
        verdicts(&r),
        [
            ("[2/4] RUN echo a".into(), "cached"),
            ("[3/4] RUN echo B".into(), "rebuilt"),
            ("[4/4] RUN echo c".into(), "rebuilt"),
        ]
    );
    assert_eq!(
        step(&r, "[3/4] RUN echo B").reason,
        "its instruction changed (was `RUN echo b`)"
    );
    // A step inserted later only renames the ones before it: names are not keys.
    let longer = "FROM busybox\nRUN echo a\nRUN echo b\nRUN echo c\nRUN echo d\n";
    let r = predict_with(&build(old), &build(longer), &[], &[]);
    assert_eq!(r.count(Verdict::Cached), 3);
    assert_eq!(
        step(&r, "[5/5] RUN echo d").reason,
        "a new step: the last build had no such step"
    );
}

const STAGES: &str = "FROM busybox AS a
COPY a.txt /a/
FROM busybox AS b
COPY b.txt /b/
FROM busybox AS build
COPY src /src
RUN make
FROM busybox
COPY --from=a /a /a
COPY --from=b /b/b.txt /b.txt
COPY --from=build /out /out
RUN ls /out
";

#[test]
fn a_file_read_by_one_stage_leaves_the_others_cached() {
    let r = predict_same(STAGES, &["b.txt"]);
    assert_eq!(step(&r, "[a 2/2] COPY a.txt /a/").verdict, Verdict::Cached);
    assert_eq!(step(&r, "[b 2/2] COPY b.txt /b/").verdict, Verdict::Rebuilt);
    assert_eq!(
        step(&r, "[stage-3 2/5] COPY --from=a /a /a").verdict,
        Verdict::Cached
    );
    let from_b = step(&r, "[stage-3 3/5] COPY --from=b /b/b.txt /b.txt");
    assert_eq!(from_b.verdict, Verdict::Rebuilt);
    assert_eq!(
        from_b.reason,
        "copies from `[b 2/2] COPY b.txt /b/`, changed by file b.txt"
    );
    assert_eq!(
        step(&r, "[stage-3 5/5] RUN ls /out").verdict,
        Verdict::Rebuilt
    );
}

#[test]
fn copy_from_a_stage_that_reruns_depends() {
    let r = predict_same(STAGES, &["src/main.c"]);
    assert_eq!(step(&r, "[build 3/3] RUN make").verdict, Verdict::Rebuilt);
    assert_eq!(
        step(&r, "[stage-3 3/5] COPY --from=b /b/b.txt /b.txt").verdict,
        Verdict::Cached
    );
    let out = step(&r, "[stage-3 4/5] COPY --from=build /out /out");
    assert_eq!(out.verdict, Verdict::Depends);
    assert!(
        out.reason.contains("`[build 3/3] RUN make`"),
        "{}",
        out.reason
    );
    let after = step(&r, "[stage-3 5/5] RUN ls /out");
    assert_eq!(after.verdict, Verdict::Depends);
    assert_eq!(r.stages.last().map(|s| s.after), Some(1));
}

#[test]
fn copy_from_a_rebuilt_copy_of_other_files_is_cached() {
    let df = "FROM busybox AS src
COPY . /src/
FROM busybox
COPY --from=src /src/package.json /app/
RUN echo install
";
    let r = predict_same(df, &["lib/x.js"]);
    assert_eq!(step(&r, "[src 2/2] COPY . /src/").verdict, Verdict::Rebuilt);
    let copy = step(&r, "[stage-1 2/3] COPY --from=src /src/package.json /app/");
    assert_eq!(copy.verdict, Verdict::Cached);
    assert!(copy.reason.contains("come out the same"), "{}", copy.reason);
    assert_eq!(
        step(&r, "[stage-1 3/3] RUN echo install").verdict,
        Verdict::Cached
    );
    let r = predict_same(df, &["package.json"]);
    assert_eq!(
        step(&r, "[stage-1 2/3] COPY --from=src /src/package.json /app/").verdict,
        Verdict::Rebuilt
    );
}

#[test]
fn bind_mounts_count_only_the_mounted_files() {
    let df = "FROM busybox AS tool
RUN echo tool > /out
FROM busybox
RUN --mount=type=bind,source=go.mod,target=/go.mod cat /go.mod
RUN --mount=from=tool,source=/out,target=/t cat /t
";
    let r = predict_same(df, &["main.go"]);
    assert_eq!(r.count(Verdict::Cached), 3, "{:#?}", r.steps);
    let r = predict_same(df, &["go.mod"]);
    let run = step(
        &r,
        "[stage-1 2/3] RUN --mount=type=bind,source=go.mod,target=/go.mod cat /go.mod",
    );
    assert_eq!(
        (run.verdict, run.reason.as_str()),
        (Verdict::Rebuilt, "mounts changed file go.mod")
    );
    let edited = df.replace("echo tool", "echo tool2");
    let r = predict_with(&build(df), &build(&edited), &[], &[]);
    let mounted = step(
        &r,
        "[stage-1 3/3] RUN --mount=from=tool,source=/out,target=/t cat /t",
    );
    assert_eq!(mounted.verdict, Verdict::Depends);
}

#[test]
fn wildcards_and_exclude_patterns_select() {
    let df = "FROM busybox\nCOPY src/*.js /app/\nCOPY --exclude=*.md docs /docs\n";
    let r = predict_same(df, &["src/a.ts", "docs/README.md"]);
    assert_eq!(r.count(Verdict::Cached), 2, "{:#?}", r.steps);
    let r = predict_same(df, &["src/a.js", "docs/guide.txt"]);
    assert_eq!(r.count(Verdict::Rebuilt), 2);
}

#[test]
fn json_has_steps_totals_and_first_invalidated_steps() {
    let r = predict_same(NODE, &["src/app.js"]);
    let j = r.json();
    assert_eq!(j["steps"][3]["verdict"], "rebuilt");
    assert_eq!(j["steps"][3]["line"], 5);
    assert_eq!(j["totals"]["rebuilt"], 2);
    assert_eq!(
        j["stages"][0]["first_invalidated"]["name"],
        "[5/6] COPY . ."
    );
    let text = r.text();
    assert!(
        text.starts_with("stage-0  rebuilt [5/6] COPY . .: copies changed file src/app.js; then 1 more step after it\n"),
        "{text}"
    );
    assert!(
        text.contains("5 steps: 3 cached, 2 rebuilt, 0 depend"),
        "{text}"
    );
}

#[test]
fn custom_cache_mount_ids_are_keys_only_on_buildkit_0_8() {
    let old = "FROM busybox\nRUN --mount=type=cache,id=a,target=/c true\n";
    let new = "FROM busybox\nRUN --mount=type=cache,id=b,target=/c true\n";
    let name = "[stage-0 2/2] RUN --mount=type=cache,id=b,target=/c true";
    let r = predict_rules(&build(old), &build(new), &[], &[], Rules::Current);
    assert_eq!(step(&r, name).verdict, Verdict::Cached);
    let r = predict_rules(&build(old), &build(new), &[], &[], Rules::V0_8);
    assert_eq!(step(&r, name).verdict, Verdict::Rebuilt);
    assert_eq!(
        step(&r, name).reason,
        "its instruction changed (was `RUN --mount=type=cache,id=a,target=/c true`)"
    );
    // The target is in the key under both rules.
    let moved = "FROM busybox\nRUN --mount=type=cache,id=a,target=/d true\n";
    let r = predict_rules(&build(old), &build(moved), &[], &[], Rules::Current);
    assert_eq!(r.count(Verdict::Rebuilt), 1);
}

#[test]
fn no_cache_stages_rebuild() {
    let df = "FROM busybox\nRUN true\n";
    let old = llb(&build(df));
    let mut new = old.clone();
    for meta in new.metadata.values_mut() {
        meta.ignore_cache = true;
    }
    let list = Vec::new;
    let r = predict(&Request {
        old: &old,
        new: &new,
        changes: &ChangeSet::default(),
        list_context: &list,
        build_args: BTreeSet::new(),
        rules: Rules::Current,
    })
    .expect("predict");
    assert_eq!(
        step(&r, "[2/2] RUN true").reason,
        "its stage is built with --no-cache"
    );
}

#[test]
fn remote_sources_are_assumed_to_serve_the_same_content() {
    let df = "FROM busybox\nADD https://example.com/a.tgz /a.tgz\n";
    let r = predict_same(df, &[]);
    let add = step(&r, "[2/2] ADD https://example.com/a.tgz /a.tgz");
    assert_eq!(add.verdict, Verdict::Cached);
    assert_eq!(
        add.reason,
        "same instruction, if https://example.com/a.tgz still serves the same content"
    );
}

#[test]
fn malformed_definitions_are_errors_not_panics() {
    use prost::Message;
    let source = pb::Op {
        op: Some(pb::op::Op::Source(pb::SourceOp {
            identifier: "docker-image://busybox".into(),
            attrs: Default::default(),
        })),
        ..Default::default()
    };
    let bytes = source.encode_to_vec();
    let digest = {
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256:{hex}")
    };
    // A source op with an input, and an op whose input is missing.
    let odd = pb::Op {
        inputs: vec![pb::Input { digest, index: 0 }],
        ..source.clone()
    };
    let def = pb::Definition {
        def: vec![bytes, odd.encode_to_vec()],
        ..Default::default()
    };
    let list = Vec::new;
    let changes = ChangeSet::default();
    let request = |old: &pb::Definition, new: &pb::Definition| {
        predict(&Request {
            old,
            new,
            changes: &changes,
            list_context: &list,
            build_args: BTreeSet::new(),
            rules: Rules::Current,
        })
        .map(|r| r.steps.len())
    };
    assert_eq!(request(&def, &def).ok(), Some(0));
    let missing = pb::Definition {
        def: vec![odd.encode_to_vec()],
        ..Default::default()
    };
    assert!(request(&def, &missing).is_err());
    let garbage = pb::Definition {
        def: vec![vec![0xff, 0xff, 0xff]],
        ..Default::default()
    };
    assert!(request(&garbage, &def).is_err());
}

#[test]
fn copy_from_a_wildcard_copy_follows_each_match() {
    let df = "FROM busybox AS src
COPY *.json /src/
FROM busybox
COPY --from=src /src/package.json /app/
";
    let r = predict_same(df, &["tsconfig.json"]);
    assert_eq!(
        step(&r, "[src 2/2] COPY *.json /src/").verdict,
        Verdict::Rebuilt
    );
    let copy = "[stage-1 2/2] COPY --from=src /src/package.json /app/";
    assert_eq!(step(&r, copy).verdict, Verdict::Cached);
    let r = predict_same(df, &["package.json"]);
    assert_eq!(step(&r, copy).verdict, Verdict::Rebuilt);
}

#[test]
fn a_link_copy_and_its_merge_are_one_step() {
    let old = "FROM busybox\nRUN echo one\nCOPY --link a.txt /a/\n";
    let new = "FROM busybox\nRUN echo two\nCOPY --link a.txt /a/\n";
    let r = predict_with(&build(old), &build(new), &[], &[]);
    assert_eq!(
        verdicts(&r),
        [
            ("[2/3] RUN echo two".into(), "rebuilt"),
            ("[3/3] COPY --link a.txt /a/".into(), "rebuilt"),
        ]
    );
    assert!(
        step(&r, "[3/3] COPY --link a.txt /a/")
            .reason
            .starts_with("its --link layer is cached"),
        "{:?}",
        r.steps
    );
    let r = predict_same(new, &["a.txt"]);
    assert_eq!(
        step(&r, "[3/3] COPY --link a.txt /a/").reason,
        "copies changed file a.txt"
    );
}

#[test]
fn local_named_contexts_count_their_own_changes() {
    let df = "FROM busybox\nCOPY --from=assets logo.png /www/\nRUN --mount=from=assets,source=fonts,target=/f true\n";
    let b = Build {
        named: &[("assets", "local:assets")],
        ..build(df)
    };
    let (old, new) = (llb(&b), llb(&b));
    let run = |changes: &ChangeSet| {
        let list = Vec::new;
        predict(&Request {
            old: &old,
            new: &new,
            changes,
            list_context: &list,
            build_args: BTreeSet::new(),
            rules: Rules::Current,
        })
        .expect("predict")
    };
    // A file of the build context with the same name is another file.
    let r = run(&ChangeSet::new(["logo.png"]));
    assert_eq!(r.count(Verdict::Cached), 2, "{:#?}", r.steps);
    let mut changes = ChangeSet::default();
    changes.insert_named("assets", "fonts/a.ttf");
    let r = run(&changes);
    assert_eq!(
        verdicts(&r),
        [
            (
                "[stage-0 2/3] COPY --from=assets logo.png /www/".into(),
                "cached"
            ),
            (
                "[stage-0 3/3] RUN --mount=from=assets,source=fonts,target=/f true".into(),
                "rebuilt"
            ),
        ]
    );
}

#[test]
fn padded_step_numbers_keep_one_stage() {
    let mut df = String::from("FROM busybox AS app\n");
    for i in 0..11 {
        df.push_str(&format!("RUN echo {i}\n"));
    }
    let r = predict_with(
        &build(&df),
        &build(&df.replace("echo 9", "echo nine")),
        &[],
        &[],
    );
    assert_eq!(r.stages.len(), 1, "{:#?}", r.stages);
    let first = r.stages[0].first.map(|f| r.steps[f].name.clone());
    assert_eq!(first.as_deref(), Some("[11/12] RUN echo nine"));
    assert_eq!(r.stages[0].after, 1);
    assert!(
        r.steps.iter().all(|s| s.stage == "stage-0"),
        "{:#?}",
        r.steps
    );
}
