//! SOURCE_DATE_EPOCH from a remote source's time against the fake daemon: what stager asks
//! `ResolveSourceMeta`, and the time the build then uses.

use prost::Message as _;

use crate::proto::moby::buildkit::v1::frontend as gw;
use crate::proto::pb;

use super::source_meta::tests::tar;
use super::tests::{FakeDaemon, daemon, run_build};

/// A daemon that announces `ResolveSourceMeta` and the git features the URLs use.
fn meta_daemon(dockerfile: &str, meta: gw::ResolveSourceMetaResponse) -> FakeDaemon {
    let mut fake = daemon(dockerfile);
    fake.extra_caps = vec!["source.metaresolver"];
    fake.extra_llb_caps = vec!["source.git.mtime"];
    fake.source_meta = meta;
    fake
}

/// Builds; returns the `source.date.epoch` metadata, the metadata requests and the last Solve.
async fn build(
    fake: FakeDaemon,
    extra: &[(&str, &str)],
) -> (
    Option<String>,
    Vec<gw::ResolveSourceMetaRequest>,
    gw::SolveRequest,
) {
    let (requests, solves) = (fake.source_meta_requests.clone(), fake.solves.clone());
    let result = match run_build(fake, extra).await {
        Ok(r) => r,
        Err(f) => panic!("build failed: {}", f.message),
    };
    let epoch =
        (result.metadata.get("source.date.epoch")).map(|v| String::from_utf8_lossy(v).into_owned());
    let requests = requests.lock().expect("lock").clone();
    let last = solves
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .expect("a solve");
    (epoch, requests, last)
}

/// The env of every exec op of a Solve.
fn exec_env(req: &gw::SolveRequest) -> Vec<String> {
    let def = req.definition.as_ref().expect("definition");
    def.def
        .iter()
        .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
        .filter_map(|op| match op.op {
            Some(pb::op::Op::Exec(e)) => e.meta.map(|m| m.env),
            _ => None,
        })
        .flatten()
        .collect()
}

fn git_commit(time: i64) -> gw::ResolveSourceMetaResponse {
    let object = format!(
        "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor t <t@x> 1 +0000\ncommitter t <t@x> {time} +0000\n\nmsg\n"
    );
    gw::ResolveSourceMetaResponse {
        git: Some(gw::ResolveSourceGitResponse {
            commit_object: object.into_bytes(),
            ..gw::ResolveSourceGitResponse::default()
        }),
        ..gw::ResolveSourceMetaResponse::default()
    }
}

fn last_modified(time: Option<i64>) -> gw::ResolveSourceMetaResponse {
    gw::ResolveSourceMetaResponse {
        http: Some(gw::ResolveSourceHttpResponse {
            last_modified: time.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
            ..gw::ResolveSourceHttpResponse::default()
        }),
        ..gw::ResolveSourceMetaResponse::default()
    }
}

const RUN_EPOCH: &str = "FROM busybox\nARG SOURCE_DATE_EPOCH\nRUN echo $SOURCE_DATE_EPOCH\n";

#[tokio::test]
async fn a_git_context_is_dated_by_its_commit() {
    let fake = meta_daemon(RUN_EPOCH, git_commit(1_700_000_101));
    let url = "https://example.com/o/r.git#main";
    let extra = [("context", url), ("build-arg:SOURCE_DATE_EPOCH", "context")];
    let (epoch, requests, last) = build(fake, &extra).await;
    assert_eq!(epoch.as_deref(), Some("1700000101"));
    assert_eq!(requests.len(), 1);
    let source = requests[0].source.as_ref().expect("source");
    assert_eq!(source.identifier, "git://example.com/o/r.git#main");
    assert_eq!(source.attrs["git.mtime"], "commit");
    assert!(requests[0].git.as_ref().is_some_and(|g| g.return_object));
    assert_eq!(
        requests[0].log_name,
        "[internal] resolve main build context metadata"
    );
    assert!(exec_env(&last).contains(&"SOURCE_DATE_EPOCH=1700000101".to_string()));
}

#[tokio::test]
async fn an_http_context_is_dated_by_last_modified_else_its_newest_file() {
    let archive = tar(&[
        ("Dockerfile", b'0', RUN_EPOCH.as_bytes(), 1_700_000_000),
        ("foo", b'0', b"bar", 1_700_000_302),
    ]);
    let url = "https://example.com/context.tar";
    let extra = [("context", url), ("build-arg:SOURCE_DATE_EPOCH", "context")];
    let mut fake = meta_daemon(RUN_EPOCH, last_modified(Some(1_700_000_201)));
    fake.files.insert("context".into(), archive.clone());
    let (epoch, requests, _) = build(fake, &extra).await;
    assert_eq!(epoch.as_deref(), Some("1700000201"));
    assert_eq!(
        requests[0].source.as_ref().map(|s| s.identifier.as_str()),
        Some(url)
    );
    assert!(requests[0].git.is_none());
    let mut fake = meta_daemon(RUN_EPOCH, last_modified(None));
    fake.files.insert("context".into(), archive);
    let (epoch, _, last) = build(fake, &extra).await;
    assert_eq!(epoch.as_deref(), Some("1700000302"));
    assert!(exec_env(&last).contains(&"SOURCE_DATE_EPOCH=1700000302".to_string()));
}

#[tokio::test]
async fn a_source_stage_and_a_named_context_are_dated_by_their_download() {
    let df = "ARG SOURCE_DATE_EPOCH=mysource\nFROM scratch AS mysource\nADD https://example.com/src.tar /\nFROM busybox\nARG SOURCE_DATE_EPOCH\nRUN echo $SOURCE_DATE_EPOCH\n";
    let mut fake = meta_daemon(df, last_modified(None));
    fake.files.insert(
        "src.tar".into(),
        tar(&[("foo", b'0', b"bar", 1_700_000_402)]),
    );
    let (epoch, requests, last) = build(fake, &[]).await;
    assert_eq!(epoch.as_deref(), Some("1700000402"));
    let source = requests[0].source.as_ref().expect("source");
    assert_eq!(source.attrs["http.filename"], "src.tar");
    assert_eq!(
        requests[0].log_name,
        "[internal] resolve SOURCE_DATE_EPOCH source stage mysource"
    );
    assert!(exec_env(&last).contains(&"SOURCE_DATE_EPOCH=1700000402".to_string()));

    let fake = meta_daemon(RUN_EPOCH, last_modified(Some(1_700_000_501)));
    let extra = [
        ("context:mysource", "https://example.com/named.tar"),
        ("build-arg:SOURCE_DATE_EPOCH", "mysource"),
    ];
    let (epoch, requests, _) = build(fake, &extra).await;
    assert_eq!(epoch.as_deref(), Some("1700000501"));
    assert_eq!(
        requests[0].log_name,
        "[internal] resolve SOURCE_DATE_EPOCH named context mysource"
    );
}

#[tokio::test]
async fn a_source_without_a_time_drops_the_epoch() {
    let url = "https://example.com/Dockerfile";
    let mut fake = meta_daemon("not read", last_modified(None));
    fake.files
        .insert("context".into(), RUN_EPOCH.as_bytes().to_vec());
    let extra = [("context", url), ("build-arg:SOURCE_DATE_EPOCH", "context")];
    let (epoch, requests, last) = build(fake, &extra).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(epoch, None);
    assert!(
        !exec_env(&last)
            .iter()
            .any(|e| e.starts_with("SOURCE_DATE_EPOCH"))
    );
}

#[tokio::test]
async fn daemons_that_cannot_tell_the_time_are_refused() {
    let url = "https://example.com/o/r.git#main";
    let extra = [("context", url), ("build-arg:SOURCE_DATE_EPOCH", "context")];
    let mut fake = meta_daemon(RUN_EPOCH, git_commit(1));
    fake.extra_caps = Vec::new();
    let requests = fake.source_meta_requests.clone();
    let failure = run_build(fake, &extra).await.expect_err("refused");
    assert_eq!(
        failure.message,
        "SOURCE_DATE_EPOCH from the time of the main context (a git or HTTP source) needs a BuildKit with source.metaresolver (v0.13 or later); pass the time as a number"
    );
    assert!(requests.lock().expect("lock").is_empty());
    // A daemon before v0.26 answers without the commit object.
    let fake = meta_daemon(
        RUN_EPOCH,
        gw::ResolveSourceMetaResponse {
            git: Some(gw::ResolveSourceGitResponse::default()),
            ..gw::ResolveSourceMetaResponse::default()
        },
    );
    let failure = run_build(fake, &extra).await.expect_err("refused");
    assert!(
        failure.message.contains("did not report the commit"),
        "{}",
        failure.message
    );
}
