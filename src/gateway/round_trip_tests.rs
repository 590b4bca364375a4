//! The round trip's overlaps against the fake daemon: calls that do not need each other's
//! answers are under way at the same time, and errors still come in the sequential order.

use std::sync::Arc;

use super::frontend::build_with;
use super::tests::{Together, attrs, connect, daemon, failing_build, run_build};

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
async fn inputs_are_asked_for_with_ping_and_not_again() {
    let fake = super::tests::FakeDaemon {
        // An input the build does not use: the daemon announces `frontend.inputs`.
        inputs: [("unused".to_string(), Default::default())].into(),
        together: together(&["Ping", "Inputs"]),
        ..daemon("FROM busybox\nRUN true\n")
    };
    let mut client = connect(fake).await;
    let pong = client.ping_and_inputs().await.expect("ping");
    // A second Inputs call would wait for a partner that never comes, and fail.
    build_with(
        &mut client,
        &pong,
        attrs(&[("cmdline", "x")]),
        String::new(),
    )
    .await
    .unwrap_or_else(|f| panic!("build failed: {}", f.message));
}
