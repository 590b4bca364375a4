//! The round trip's overlaps against the fake daemon: calls that do not need each other's
//! answers are under way at the same time, and errors still come in the sequential order.

use std::sync::Arc;

use super::client::PendingDaemon;
use super::frontend::{build_pending, build_with};
use super::options::first_worker_platform;
use super::tests::{Together, attrs, connect, daemon, failing_build, run_build};
use crate::image::Platform;

fn together(calls: &[&'static str]) -> Option<Arc<Together>> {
    Some(Arc::new(Together {
        calls: calls.to_vec(),
        barrier: tokio::sync::Barrier::new(calls.len()),
    }))
}

#[tokio::test]
async fn the_context_dockerignore_is_read_while_base_images_resolve() {
    let fake = super::tests::FakeDaemon {
        dockerignore: Some(b"*.tmp\n".to_vec()),
        together: together(&["ResolveImageConfig", "ReadFile .dockerignore"]),
        ..daemon("FROM busybox\nCOPY . /app\n")
    };
    let solves = fake.solves.clone();
    run_build(fake, &[])
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
    // The patterns still reach the context source of the main build.
    use prost::Message as _;
    let solves = solves.lock().expect("lock");
    let main = solves.last().and_then(|s| s.definition.as_ref());
    let excludes: Vec<String> = (main.iter().flat_map(|d| &d.def))
        .filter_map(|bytes| crate::proto::pb::Op::decode(bytes.as_slice()).ok())
        .filter_map(|op| match op.op {
            Some(crate::proto::pb::op::Op::Source(s)) => {
                s.attrs.get("local.excludepatterns").cloned()
            }
            _ => None,
        })
        .collect();
    assert_eq!(excludes, [r#"["*.tmp"]"#]);
}

#[tokio::test]
async fn the_dockerfile_and_its_own_dockerignore_are_read_at_once() {
    let fake = super::tests::FakeDaemon {
        together: together(&["ReadFile Dockerfile", "ReadFile Dockerfile.dockerignore"]),
        ..daemon("FROM busybox\nRUN true\n")
    };
    run_build(fake, &[])
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
}

#[tokio::test]
async fn a_bad_dockerignore_is_reported_before_a_failed_image_resolution() {
    let fake = super::tests::FakeDaemon {
        dockerignore: Some(b"[abc\n".to_vec()),
        image_config: None,
        ..daemon("FROM busybox\nCOPY . /app\n")
    };
    let failure = failing_build(fake, &[]).await;
    assert_eq!(failure.message, "syntax error in pattern");
}

#[tokio::test]
async fn inputs_are_asked_for_while_ping_is_under_way_and_not_again() {
    let fake = super::tests::FakeDaemon {
        // An input the build does not use: the daemon announces `frontend.inputs`.
        // (Not an empty definition: that is a nil input, which fails them all.)
        inputs: [("unused".to_string(), unused_input())].into(),
        together: together(&["Ping", "Inputs"]),
        ..daemon("FROM busybox\nRUN true\n")
    };
    let mut client = connect(fake).await;
    let pending = PendingDaemon::start(&client);
    client.prefetch_inputs().await;
    assert!(client.has_inputs());
    // A second Inputs call would wait for a partner that never comes, and fail.
    let pong = pending.get().await.expect("ping");
    build_with(
        &mut client,
        &pong,
        attrs(&[("cmdline", "x")]),
        String::new(),
    )
    .await
    .unwrap_or_else(|f| panic!("build failed: {}", f.message));
}

#[tokio::test]
async fn base_images_resolve_while_ping_is_under_way() {
    let fake = super::tests::FakeDaemon {
        together: together(&["Ping", "ResolveImageConfig"]),
        ..daemon("FROM busybox\nRUN true\n")
    };
    let mut client = connect(fake).await;
    let pending = PendingDaemon::start(&client);
    client.prefetch_inputs().await;
    let amd64 = Some(Platform::new("linux", "amd64", None));
    build_pending(
        &mut client,
        &pending,
        attrs(&[("cmdline", "x")]),
        String::new(),
        amd64,
    )
    .await
    .unwrap_or_else(|f| panic!("build failed: {}", f.message));
}

#[test]
fn the_build_platform_is_the_first_worker_s_first() {
    // BuildKit's []client.WorkerInfo as json.Marshal writes it (no json tags on the struct).
    let workers = r#"[{"ID":"w1","Labels":{"org.mobyproject.buildkit.worker.executor":"oci"},
        "Platforms":[{"architecture":"arm64","os":"linux","variant":"v8"},
                     {"architecture":"amd64","os":"linux"}]},
        {"ID":"w2","Labels":{},"Platforms":[{"architecture":"amd64","os":"linux"}]}]"#;
    assert_eq!(
        first_worker_platform(workers),
        Some(Platform::new("linux", "arm64", Some("v8")))
    );
    assert_eq!(first_worker_platform("[]"), None);
    assert_eq!(
        first_worker_platform(r#"[{"ID":"w","Platforms":null}]"#),
        None
    );
    assert_eq!(first_worker_platform("not json"), None);
}

/// A frontend input the build does not use: one image source.
fn unused_input() -> crate::proto::pb::Definition {
    let image = crate::llb::State::image(
        "docker.io/library/alpine:latest",
        Default::default(),
        crate::llb::OpMeta::default(),
    );
    crate::llb::marshal(&image, None)
}
