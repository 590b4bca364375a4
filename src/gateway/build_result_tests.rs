//! What a build sends and returns, against the fake daemon of `tests.rs`: the result's
//! metadata, progress names, source maps and errors.

use std::collections::BTreeSet;

use super::frontend::build_with;
use super::tests::{FakeDaemon, attrs, connect, daemon, main_names, run_build};
use crate::proto::moby::buildkit::v1::frontend as gw;
use crate::proto::pb;

#[tokio::test]
async fn the_base_image_config_of_the_target_is_returned() {
    // Through a FROM-stage chain, as the official frontend's baseImg.
    let fake = daemon("FROM busybox AS base\nRUN make\nFROM base\nCMD [\"/app\"]\n");
    let mut client = connect(fake).await;
    let pong = client.ping().await.expect("ping");
    let result = build_with(&mut client, &pong, attrs(&[]), "s1".into())
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
    let base: serde_json::Value =
        serde_json::from_slice(&result.metadata["containerimage.base.config"]).expect("json");
    let target: serde_json::Value =
        serde_json::from_slice(&result.metadata["containerimage.config"]).expect("json");
    assert_ne!(base, target);
    assert_eq!(base["rootfs"]["type"], "layers");
    assert!(base["config"]["Cmd"] != serde_json::json!(["/app"]));
}

#[tokio::test]
async fn stages_read_by_triggers_of_a_named_context_image_are_planned() {
    // BuildKit's TestOnBuildNamedContext: `FROM base` where base is a named context whose
    // image has an ONBUILD trigger reading a stage nothing else needs.
    let config = r#"{"architecture":"amd64","os":"linux","config":{"OnBuild":["COPY --from=otherstage /testfile /out/foo"]},"rootfs":{"type":"layers","diff_ids":["sha256:00"]}}"#;
    let fake = FakeDaemon {
        image_config: Some(config.as_bytes().to_vec()),
        ..daemon(
            // (The fake daemon answers every image with this config: otherstage starts from
            // scratch so that it has no trigger of its own.)
            "FROM scratch AS otherstage\nCOPY testfile /testfile\nFROM base AS inputstage\nFROM scratch\nCOPY --from=inputstage /out/foo /bar\n",
        )
    };
    let solves = fake.solves.clone();
    let mut client = connect(fake).await;
    let pong = client.ping().await.expect("ping");
    let opts = attrs(&[("context:base", "docker-image://example.com/base:1")]);
    build_with(&mut client, &pong, opts, "s1".into())
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
    let names = main_names(&solves, 1);
    assert!(
        names.iter().any(|n| n.ends_with("COPY testfile /testfile")),
        "{names:?}"
    );
}

#[tokio::test]
async fn names_of_a_multi_platform_build_start_with_the_platform() {
    // As 1.26 names them: `[linux/arm64 internal] load metadata for …`, `[linux/arm64 1/2] FROM
    // …`, and `->arch` where a stage on the build platform has TARGET* args.
    let fake = daemon(
        "FROM --platform=$BUILDPLATFORM busybox AS b\nARG TARGETARCH\nRUN echo $TARGETARCH\nFROM busybox\nCOPY --from=b /x /x\n",
    );
    let (solves, resolves) = (fake.solves.clone(), fake.resolves.clone());
    let mut client = connect(fake).await;
    let pong = client.ping().await.expect("ping");
    let opts = attrs(&[("platform", "linux/amd64,linux/arm64")]);
    build_with(&mut client, &pong, opts, "s1".into())
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
    let logs: BTreeSet<String> = (resolves.lock().expect("lock").iter())
        .map(|r| r.log_name.clone())
        .collect();
    assert!(
        logs.contains("[linux/arm64 internal] load metadata for docker.io/library/busybox:latest"),
        "{logs:?}"
    );
    let names = main_names(&solves, 2);
    let busybox = format!(
        "docker.io/library/busybox:latest@sha256:{}",
        "ab".repeat(32)
    );
    for name in [
        format!("[linux/amd64 b 1/2] FROM {busybox}"),
        "[linux/amd64->arm64 b 2/2] RUN echo arm64".into(),
        "[linux/amd64 b 2/2] RUN echo amd64".into(),
        format!("[linux/arm64 stage-1 1/2] FROM {busybox}"),
        "[linux/arm64 stage-1 2/2] COPY --from=b /x /x".into(),
    ] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
}

#[tokio::test]
async fn a_target_os_version_reaches_the_image_and_the_result_ids() {
    // BuildKit's TestMaintainBaseOSVersion, first half.
    let fake =
        daemon("FROM scratch\nARG TARGETPLATFORM\nCOPY <<EOF /platform\n${TARGETPLATFORM}\nEOF\n");
    let mut client = connect(fake).await;
    let pong = client.ping().await.expect("ping");
    let opts = attrs(&[
        ("platform", "windows(10.0.20348.1006)/amd64"),
        ("multi-platform", "true"),
    ]);
    let result = build_with(&mut client, &pong, opts, "s1".into())
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
    let id = "windows(10.0.20348.1006)/amd64";
    let config: serde_json::Value =
        serde_json::from_slice(&result.metadata[&format!("containerimage.config/{id}")])
            .expect("json");
    assert_eq!(config["os.version"], "10.0.20348.1006");
    let platforms: serde_json::Value =
        serde_json::from_slice(&result.metadata["refs.platforms"]).expect("json");
    assert_eq!(platforms["Platforms"][0]["ID"], id);
    assert_eq!(
        platforms["Platforms"][0]["Platform"]["os.version"],
        "10.0.20348.1006"
    );
}

#[tokio::test]
async fn errors_carry_the_dockerfile_and_its_loading_definition() {
    // BuildKit's TestErrorsSourceMap: a frontend error names its line and carries the
    // definition that loaded the Dockerfile; a failing `# syntax=` frontend points at line 1.
    for (df, line) in [
        ("from alpine\nenv", 2),
        ("#syntax=nosuchfrontend\nfrom alpine", 1),
    ] {
        let mut client = connect(daemon(df)).await;
        let pong = client.ping().await.expect("ping");
        let Err(failure) = build_with(&mut client, &pong, attrs(&[]), "s1".into()).await else {
            panic!("{df:?} built")
        };
        assert_eq!(failure.ranges, [(line, line)], "{df:?}");
        let status = failure.into_status();
        let detail: serde_json::Value =
            serde_json::from_slice(&status.details[0].value).expect("json");
        assert!(detail["info"]["definition"]["def"].is_array(), "{df:?}");
    }
    // An image that cannot be resolved: the instruction naming it.
    let fake = FakeDaemon {
        image_config: None,
        ..daemon("from scratch\nenv foo=bar\ncopy --from=invalid foo bar\nenv bar=baz")
    };
    let mut client = connect(fake).await;
    let pong = client.ping().await.expect("ping");
    let Err(failure) = build_with(&mut client, &pong, attrs(&[]), "s1".into()).await else {
        panic!("built")
    };
    assert_eq!(failure.ranges, [(3, 3)], "{}", failure.message);
}

#[tokio::test]
async fn a_source_policy_can_turn_a_named_context_image_into_a_local_directory() {
    use prost::Message as _;
    let mut fake = daemon("FROM scratch AS replace\nFROM scratch\nCOPY --from=replace /foo /\n");
    fake.policy = Some(("docker.io/library/alpine:latest", "local://test"));
    let solves = fake.solves.clone();
    let context = (
        "context:replace",
        "docker-image:docker.io/library/alpine:latest",
    );
    if let Err(f) = run_build(fake, &[context]).await {
        panic!("build failed: {}", f.message);
    }
    let solves = solves.lock().expect("lock");
    let sources = |req: &gw::SolveRequest| -> Vec<(String, Option<String>)> {
        let def = req.definition.as_ref().expect("definition");
        (def.def.iter())
            .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
            .filter_map(|op| match op.op {
                Some(pb::op::Op::Source(s)) => {
                    Some((s.identifier, s.attrs.get("local.followpaths").cloned()))
                }
                _ => None,
            })
            .collect()
    };
    // Its .dockerignore is read, then the build copies from the directory.
    let ignore = Some(r#"[".dockerignore"]"#.to_string());
    assert!(
        solves
            .iter()
            .any(|r| sources(r) == [("local://test".to_string(), ignore.clone())])
    );
    let main = sources(solves.last().expect("main solve"));
    assert_eq!(
        main,
        [("local://test".to_string(), Some(r#"["foo"]"#.into()))]
    );
}

#[tokio::test]
async fn empty_source_locations_reach_the_daemon_with_their_value() {
    // Every op has an entry, as Go writes them, and an empty one carries its (empty) value:
    // BuildKit's Go decoder makes a missing value nil, which buildkitd dereferences when that
    // op fails. The fake daemon decodes entries as proto/ declares them, so a left-out value
    // shows as `None`.
    let fake = daemon("FROM busybox\nRUN true\n");
    let solves = fake.solves.clone();
    run_build(fake, &[])
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message));
    let solves = solves.lock().expect("lock");
    assert!(solves.len() >= 3, "{}", solves.len());
    let mut empty = 0;
    for req in solves.iter() {
        let def = req.definition.as_ref().expect("definition");
        let source = def.source.as_ref().expect("a source map");
        for entry in &source.locations {
            let value = entry.value.as_ref().expect("every entry has its value");
            empty += usize::from(value.locations.is_empty());
        }
    }
    // The Dockerfile's and .dockerignore's local sources have no lines.
    assert!(empty >= 2, "{empty}");
}
