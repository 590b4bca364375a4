//! Build checks through the fake daemon: the `frontend.lint` answer, `Warn` calls, and
//! `check=error=true` failing the build.

use crate::proto::moby::buildkit::v1::frontend as gw;

use super::tests::{FakeDaemon, daemon, failing_build, run_build};

async fn build(fake: FakeDaemon, extra: &[(&str, &str)]) -> gw::Result {
    run_build(fake, extra)
        .await
        .unwrap_or_else(|f| panic!("build failed: {}", f.message))
}

#[tokio::test]
async fn lint_subrequest_answers_with_the_official_shape() {
    let fake =
        daemon("FROM busybox AS Build\nENV A=$NOPE\nCMD run\nFROM busybox AS unused\nCMD x y\n");
    let result = build(fake, &[("requestid", "frontend.lint")]).await;
    assert!(result.result.is_none());
    assert_eq!(result.metadata["version"], b"1.0.0");
    assert_eq!(result.metadata["result.statuscode"], b"1");
    let json: serde_json::Value =
        serde_json::from_slice(&result.metadata["result.json"]).expect("json");
    let found: Vec<(String, i64)> = json["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| {
            (
                w["ruleName"].as_str().unwrap_or_default().to_string(),
                w["location"]["ranges"][0]["start"]["line"]
                    .as_i64()
                    .unwrap_or(0),
            )
        })
        .collect();
    // Every stage is checked, the base image's PATH is known, stager's advice is left out.
    let want = [
        ("StageNameCasing", 1),
        ("UndefinedVar", 2),
        ("JSONArgsRecommended", 3),
        ("JSONArgsRecommended", 5),
    ];
    let want: Vec<(String, i64)> = want.iter().map(|(r, l)| (r.to_string(), *l)).collect();
    assert_eq!(found, want);
    assert_eq!(json["sources"][0]["filename"], "Dockerfile");
    assert!(json["sources"][0]["definition"]["def"].is_array());
    assert!(json.get("buildError").is_none());
    let text = String::from_utf8_lossy(&result.metadata["result.txt"]).into_owned();
    assert!(text.starts_with("\nWARNING: StageNameCasing - https://docs.docker.com/go/dockerfile/rule/stage-name-casing/\nStage name 'Build' should be lowercase\nDockerfile:1\n"), "{text}");
}

#[tokio::test]
async fn lint_subrequest_reports_a_build_error_without_failing() {
    let fake = daemon("FROM busybox\nSTOPSIGNAL NOPE\n");
    let result = build(fake, &[("requestid", "frontend.lint")]).await;
    assert_eq!(result.metadata["result.statuscode"], b"1");
    let json: serde_json::Value =
        serde_json::from_slice(&result.metadata["result.json"]).expect("json");
    assert_eq!(
        json["buildError"]["location"]["ranges"][0]["start"]["line"],
        2
    );
    let clean = build(
        daemon("FROM busybox\nCMD [\"sh\"]\n"),
        &[("requestid", "frontend.lint")],
    )
    .await;
    assert_eq!(clean.metadata["result.statuscode"], b"0");
}

#[tokio::test]
async fn builds_send_warnings_when_the_daemon_takes_them() {
    let df = "FROM busybox\nCMD echo hi\n";
    let mut fake = daemon(df);
    fake.extra_caps = vec!["gateway.warnings"];
    let warns = fake.warns.clone();
    build(fake, &[]).await;
    let warns = warns.lock().expect("lock").clone();
    assert_eq!(warns.len(), 1);
    let w = &warns[0];
    assert_eq!(
        String::from_utf8_lossy(&w.short),
        "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 2)"
    );
    assert_eq!(w.level, 1);
    assert_eq!(
        w.url,
        "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"
    );
    assert!(w.digest.starts_with("sha256:"));
    assert_eq!(
        w.info.as_ref().map(|i| i.data.as_slice()),
        Some(df.as_bytes())
    );
    assert_eq!(w.ranges.len(), 1);
    // Without the cap nothing is sent, and the build still succeeds.
    let fake = daemon(df);
    let warns = fake.warns.clone();
    build(fake, &[]).await;
    assert!(warns.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn check_error_true_fails_the_build() {
    let failure = failing_build(
        daemon("# check=error=true\nFROM busybox\nCMD echo hi\n"),
        &[],
    )
    .await;
    assert_eq!(
        failure.message,
        "lint violation found for rules: JSONArgsRecommended"
    );
    // The build arg overrides the directive.
    build(
        daemon("# check=error=true\nFROM busybox\nCMD echo hi\n"),
        &[(
            "build-arg:BUILDKIT_DOCKERFILE_CHECK",
            "skip=JSONArgsRecommended;error=true",
        )],
    )
    .await;
    let failure = failing_build(daemon("# check=bogus\nFROM busybox\n"), &[]).await;
    assert_eq!(
        failure.message,
        "failed to parse check options: invalid check option \"bogus\""
    );
}

#[tokio::test]
async fn unknown_subrequests_carry_the_typed_detail_buildx_retries_on() {
    let failure = failing_build(daemon("FROM busybox\n"), &[("requestid", "frontend.nope")]).await;
    assert_eq!(failure.message, "unsupported request frontend.nope");
    assert_eq!(
        failure.details[0].type_url,
        "github.com/moby/buildkit/errdefs.Subrequest+json"
    );
}

#[tokio::test]
async fn outline_expands_stage_args_against_the_resolved_base_image() {
    let fake = daemon("FROM busybox\n# P where to look\nARG P=$PATH:/x\nRUN echo $P\n");
    let result = build(fake, &[("requestid", "frontend.outline")]).await;
    let json: serde_json::Value =
        serde_json::from_slice(&result.metadata["result.json"]).expect("json");
    assert_eq!(json["args"][0]["name"], "P");
    // busybox's config (the fake daemon's) sets PATH=/bin.
    assert_eq!(json["args"][0]["value"], "/bin:/x");
    assert_eq!(json["args"][0]["description"], "where to look");
}

#[tokio::test]
async fn warnings_before_a_build_error_are_still_sent() {
    // BuildKit's testWarningsBeforeError: a parse error after two findings.
    let df = "\nFROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n";
    let mut fake = daemon(df);
    fake.extra_caps = vec!["gateway.warnings"];
    let warns = fake.warns.clone();
    let failure = failing_build(fake, &[]).await;
    assert!(
        failure.message.contains("unknown instruction: BADCMD"),
        "{}",
        failure.message
    );
    let rules: Vec<String> = warns
        .lock()
        .expect("lock")
        .iter()
        .map(|w| {
            String::from_utf8_lossy(&w.short)
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(rules, ["StageNameCasing", "MaintainerDeprecated"]);
    // A conversion error: the finding above it is sent too.
    let mut fake = daemon("FROM busybox\nCMD echo hi\nCOPY --chmod=99999 a /a\n");
    fake.extra_caps = vec!["gateway.warnings"];
    let warns = fake.warns.clone();
    failing_build(fake, &[]).await;
    assert_eq!(warns.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn an_inline_check_comment_skips_its_instruction_only() {
    let df = "FROM busybox\n# check=skip=JSONArgsRecommended\nCMD echo hi\nENTRYPOINT echo x\n";
    let mut fake = daemon(df);
    fake.extra_caps = vec!["gateway.warnings"];
    let warns = fake.warns.clone();
    build(fake, &[]).await;
    let warns = warns.lock().expect("lock").clone();
    assert_eq!(warns.len(), 1);
    assert!(String::from_utf8_lossy(&warns[0].short).ends_with("(line 4)"));
}

#[tokio::test]
async fn an_invalid_dockerignore_fails_the_build() {
    let mut fake = daemon("FROM busybox\nCOPY . /src\n");
    fake.dockerignore = Some(b"*.log\n!\n".to_vec());
    let failure = failing_build(fake, &[]).await;
    assert_eq!(failure.message, "illegal exclusion pattern: \"!\"");
}

#[tokio::test]
async fn convertllb_answers_with_the_llb_as_json() {
    let fake = daemon("FROM busybox\nRUN echo hi\n");
    let solves = fake.solves.clone();
    let result = build(fake, &[("requestid", "frontend.convertllb")]).await;
    assert!(result.result.is_none());
    assert_eq!(result.metadata["version"], b"0.1.0");
    let json: serde_json::Value =
        serde_json::from_slice(&result.metadata["result.json"]).expect("json");
    let ops = json["def"].as_object().expect("def");
    assert!(
        ops.values()
            .any(|op| op["exec"]["meta"]["args"][2] == "echo hi")
    );
    assert!(
        json["metadata"]
            .as_object()
            .is_some_and(|m| m.len() == ops.len())
    );
    assert_eq!(json["source"]["infos"][0]["filename"], "Dockerfile");
    // Nothing was solved but the Dockerfile's load.
    assert!(solves.lock().expect("lock").iter().all(|r| {
        let def = r.definition.as_ref().expect("definition");
        !def.def.iter().any(|b| {
            use prost::Message as _;
            matches!(
                crate::proto::pb::Op::decode(b.as_slice()).map(|o| o.op),
                Ok(Some(crate::proto::pb::op::Op::Exec(_)))
            )
        })
    }));
}
