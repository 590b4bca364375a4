use std::collections::BTreeMap;

use super::*;
use crate::image::{Image, Platform};
use crate::plan::ImageRequest;

fn options() -> BuildOptions {
    BuildOptions::new(Platform::new("linux", "amd64", None))
}

/// `(rule, first line, message)` of every finding, advice included.
fn found_with(
    df: &str,
    opts: &BuildOptions,
    bases: &BTreeMap<String, BaseImage>,
) -> Vec<(String, u32, String)> {
    let report = run(df.as_bytes(), opts, bases, true);
    assert_eq!(report.error, None, "{df}");
    report
        .findings
        .iter()
        .map(|f| (f.rule.name.to_string(), f.line(), f.message.clone()))
        .collect()
}

fn found(df: &str) -> Vec<(String, u32, String)> {
    found_with(df, &options(), &BTreeMap::new())
}

/// The rules that fired, in order.
fn rules(df: &str) -> Vec<String> {
    found(df).into_iter().map(|f| f.0).collect()
}

fn has(df: &str, rule: &str, line: u32, message: &str) {
    let all = found(df);
    assert!(
        all.iter()
            .any(|f| f.0 == rule && f.1 == line && f.2 == message),
        "{rule} at {line} not in {all:#?}\nfor:\n{df}"
    );
}

fn lacks(df: &str, rule: &str) {
    let all = rules(df);
    assert!(
        !all.iter().any(|r| r == rule),
        "{rule} in {all:?}\nfor:\n{df}"
    );
}

#[test]
fn parse_level_rules() {
    has(
        "FROM scratch AS Build\n",
        "StageNameCasing",
        1,
        "Stage name 'Build' should be lowercase",
    );
    lacks("FROM scratch AS build\n", "StageNameCasing");
    has(
        "FROM scratch as b\n",
        "FromAsCasing",
        1,
        "'as' and 'FROM' keywords' casing do not match",
    );
    lacks("from scratch as b\n", "FromAsCasing");
    lacks("FROM scratch AS b\n", "FromAsCasing");
    lacks("From scratch as b\n", "FromAsCasing");
    has(
        "FROM scratch\nRUN a \\\n\n  b\n",
        "NoEmptyContinuation",
        4,
        "Empty continuation line",
    );
    lacks("FROM scratch\nRUN a \\\n  b\n", "NoEmptyContinuation");
    has(
        "FROM scratch\nMAINTAINER me\n",
        "MaintainerDeprecated",
        2,
        "Maintainer instruction is deprecated in favor of using label",
    );
}

#[test]
fn stage_names_and_casing() {
    has(
        "FROM scratch AS a\nFROM scratch AS a\n",
        "DuplicateStageName",
        2,
        "Duplicate stage name \"a\", stage names should be unique",
    );
    lacks(
        "FROM scratch AS a\nFROM scratch AS b\n",
        "DuplicateStageName",
    );
    has(
        "FROM scratch AS context\n",
        "ReservedStageName",
        1,
        "Stage name should not use the same name as reserved stage \"context\"",
    );
    has(
        "FROM scratch\nrun x\nrun y\n",
        "ConsistentInstructionCasing",
        1,
        "Command 'FROM' should match the case of the command majority (lowercase)",
    );
    has(
        "FROM scratch\nRUN x\nrun y\n",
        "ConsistentInstructionCasing",
        3,
        "Command 'run' should match the case of the command majority (uppercase)",
    );
    // A tie goes to upper case; global ARGs are not counted.
    has(
        "arg A\nFROM scratch\nrun y\n",
        "ConsistentInstructionCasing",
        3,
        "Command 'run' should match the case of the command majority (uppercase)",
    );
    lacks("FROM scratch\nRUN x\n", "ConsistentInstructionCasing");
}

#[test]
fn from_line_rules() {
    has(
        "ARG TAG=1\nFROM alpine:${TAGG:-3}\n",
        "UndefinedArgInFrom",
        2,
        "FROM argument 'TAGG' is not declared (did you mean TAG?)",
    );
    lacks("ARG TAG\nFROM alpine:latest$TAG\n", "UndefinedArgInFrom");
    lacks(
        "FROM --platform=$BUILDPLATFORM alpine\n",
        "UndefinedArgInFrom",
    );
    // Valid with the build arg given, invalid with the default alone.
    let mut opts = options();
    opts.build_args.insert("IMG".into(), "alpine".into());
    let f = found_with("ARG IMG\nFROM $IMG\n", &opts, &BTreeMap::new());
    assert!(
        f.contains(&(
            "InvalidDefaultArgInFrom".into(),
            2,
            "Default value for ARG $IMG results in empty or invalid base image name".into()
        )),
        "{f:?}"
    );
    lacks("ARG IMG=alpine\nFROM $IMG\n", "InvalidDefaultArgInFrom");
    has(
        "FROM --platform=$TARGETPLATFORM scratch\n",
        "RedundantTargetPlatform",
        1,
        "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
    );
    lacks(
        "FROM --platform=$BUILDPLATFORM scratch\n",
        "RedundantTargetPlatform",
    );
    has(
        "FROM --platform=linux/amd64 scratch AS build\n",
        "FromPlatformFlagConstDisallowed",
        1,
        "FROM --platform flag should not use constant value \"linux/amd64\"",
    );
    lacks(
        "FROM --platform=linux/amd64 scratch AS build-amd64\n",
        "FromPlatformFlagConstDisallowed",
    );
    lacks(
        "FROM --platform=$BUILDPLATFORM scratch AS build\n",
        "FromPlatformFlagConstDisallowed",
    );
}

#[test]
fn undefined_variables() {
    has(
        "FROM scratch\nENV A=$B\n",
        "UndefinedVar",
        2,
        "Usage of undefined variable '$B'",
    );
    has(
        "FROM scratch\nENV PATH=$PAHT:/x\n",
        "UndefinedVar",
        2,
        "Usage of undefined variable '$PAHT' (did you mean $PATH?)",
    );
    lacks("FROM scratch\nARG B\nENV A=$B\n", "UndefinedVar");
    lacks("FROM scratch\nENV B=1\nCOPY $B /\n", "UndefinedVar");
    // Once per expansion, not again for the progress name.
    assert_eq!(rules("FROM scratch\nWORKDIR /a/$X\n"), ["UndefinedVar"]);
    // A global ARG must be declared again in the stage.
    has(
        "ARG V=1\nFROM scratch\nLABEL v=$V\n",
        "UndefinedVar",
        3,
        "Usage of undefined variable '$V'",
    );
    // RUN is left to the shell; an unresolved base image may define anything.
    lacks("FROM scratch\nRUN echo $X\n", "UndefinedVar");
    lacks("FROM alpine\nENV A=$GOPATH\n", "UndefinedVar");
    // Known base config: its ENV counts.
    let mut bases = BTreeMap::new();
    let req = ImageRequest {
        reference: "docker.io/library/alpine:latest".into(),
        platform: Platform::new("linux", "amd64", None),
        oci_store: None,
    };
    let config = Image::from_json(br#"{"architecture":"amd64","os":"linux","config":{"Env":["GOPATH=/go"]},"rootfs":{"type":"layers","diff_ids":["sha256:00"]}}"#).unwrap();
    bases.insert(
        req.key(),
        BaseImage {
            digest: String::new(),
            config,
        },
    );
    let f = found_with("FROM alpine\nENV A=$GOPATH B=$GOPAT\n", &options(), &bases);
    let undefined: Vec<_> = f.iter().filter(|f| f.0 == "UndefinedVar").collect();
    assert_eq!(undefined.len(), 1, "{f:?}");
    assert_eq!(
        undefined[0].2,
        "Usage of undefined variable '$GOPAT' (did you mean $GOPATH?)"
    );
}

#[test]
fn dispatch_rules() {
    has(
        "FROM scratch\nWORKDIR app\n",
        "WorkdirRelativePath",
        2,
        "Relative workdir \"app\" can have unexpected results if the base image changes",
    );
    lacks(
        "FROM scratch\nWORKDIR /app\nWORKDIR sub\n",
        "WorkdirRelativePath",
    );
    lacks(
        "FROM scratch AS a\nWORKDIR /app\nFROM a\nWORKDIR sub\n",
        "WorkdirRelativePath",
    );
    has(
        "FROM scratch\nCMD a\n",
        "JSONArgsRecommended",
        2,
        "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
    );
    has(
        "FROM scratch\nENTRYPOINT a\n",
        "JSONArgsRecommended",
        2,
        "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals",
    );
    lacks("FROM scratch\nCMD [\"a\"]\n", "JSONArgsRecommended");
    lacks(
        "FROM scratch\nSHELL [\"/bin/bash\", \"-c\"]\nCMD a\n",
        "JSONArgsRecommended",
    );
    has(
        "FROM scratch\nCMD [\"a\"]\nCMD [\"b\"]\n",
        "MultipleInstructionsDisallowed",
        2,
        "Multiple CMD instructions should not be used in the same stage because only the last one will be used",
    );
    has(
        "FROM scratch\nHEALTHCHECK NONE\nHEALTHCHECK NONE\n",
        "MultipleInstructionsDisallowed",
        2,
        "Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used",
    );
    lacks(
        "FROM scratch AS a\nCMD [\"a\"]\nFROM a\nCMD [\"b\"]\n",
        "MultipleInstructionsDisallowed",
    );
    has(
        "FROM scratch\nENV a b\n",
        "LegacyKeyValueFormat",
        2,
        "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format",
    );
    has(
        "FROM scratch\nLABEL a b\n",
        "LegacyKeyValueFormat",
        2,
        "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format",
    );
    lacks("FROM scratch\nENV a=b\n", "LegacyKeyValueFormat");
    has(
        "FROM scratch\nARG GITHUB_TOKEN\n",
        "SecretsUsedInArgOrEnv",
        2,
        "Do not use ARG or ENV instructions for sensitive data (ARG \"GITHUB_TOKEN\")",
    );
    has(
        "FROM scratch\nENV DB_PASSWORD=x\n",
        "SecretsUsedInArgOrEnv",
        2,
        "Do not use ARG or ENV instructions for sensitive data (ENV \"DB_PASSWORD\")",
    );
    lacks("FROM scratch\nARG PUBLIC_KEY\n", "SecretsUsedInArgOrEnv");
    has(
        "FROM scratch\nEXPOSE 80/TCP\n",
        "ExposeProtoCasing",
        2,
        "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase",
    );
    has(
        "FROM scratch\nEXPOSE 8080:80\n",
        "ExposeInvalidFormat",
        2,
        "EXPOSE instruction should not define an IP address or host-port mapping, found '8080:80'",
    );
    lacks("FROM scratch\nEXPOSE 80/udp 443\n", "ExposeProtoCasing");
    lacks("FROM scratch\nEXPOSE 80/udp 443\n", "ExposeInvalidFormat");
}

#[test]
fn base_image_platform() {
    let req = ImageRequest {
        reference: "docker.io/library/alpine:latest".into(),
        platform: Platform::new("linux", "amd64", None),
        oci_store: None,
    };
    let config = Image::from_json(br#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:00"]}}"#).unwrap();
    let bases = BTreeMap::from([(
        req.key(),
        BaseImage {
            digest: String::new(),
            config,
        },
    )]);
    let f = found_with("FROM alpine\n", &options(), &bases);
    assert!(f.contains(&(
        "InvalidBaseImagePlatform".into(),
        1,
        "Base image alpine was pulled with platform \"linux/arm64\", expected \"linux/amd64\" for current build".into()
    )), "{f:?}");
}

#[test]
fn check_options_filter_and_fail() {
    let df = "# check=skip=JSONArgsRecommended\nFROM scratch\nCMD a\nMAINTAINER me\n";
    assert_eq!(rules(df), ["MaintainerDeprecated"]);
    let df =
        "# check=experimental=InvalidDefinitionDescription\n# nothing to see\nFROM scratch AS b\n";
    has(
        df,
        "InvalidDefinitionDescription",
        3,
        "Comment for FROM should follow the format: `# b <description>`",
    );
    lacks(
        "# nothing to see\nFROM scratch AS b\n",
        "InvalidDefinitionDescription",
    );
    lacks(
        "# check=experimental=all\n# b builds\nFROM scratch AS b\n",
        "InvalidDefinitionDescription",
    );
    let report = run(
        b"# check=error=true\nFROM scratch\nCMD a\n",
        &options(),
        &BTreeMap::new(),
        false,
    );
    assert!(report.fails());
    assert_eq!(
        report.config.violation(&report.findings).unwrap(),
        "lint violation found for rules: JSONArgsRecommended"
    );
    // The build arg wins over the directive.
    let mut opts = options();
    opts.build_args
        .insert(CHECK_BUILD_ARG.into(), "skip=all".into());
    assert!(
        run(
            b"# check=error=true\nFROM scratch\nCMD a\n",
            &opts,
            &BTreeMap::new(),
            false
        )
        .findings
        .is_empty()
    );
    let bad = run(
        b"# check=nope\nFROM scratch\n",
        &options(),
        &BTreeMap::new(),
        false,
    );
    assert_eq!(
        bad.error.unwrap().message,
        "failed to parse check options: invalid check option \"nope\""
    );
}

#[test]
fn build_errors_keep_the_findings_so_far() {
    let report = run(
        b"FROM scratch\nMAINTAINER me\nSTOPSIGNAL BOGUS\n",
        &options(),
        &BTreeMap::new(),
        false,
    );
    assert!(report.error.is_some());
    assert!(report.fails());
    assert_eq!(report.findings[0].rule.name, "MaintainerDeprecated");
}

#[test]
fn advice_toolchain_final_stage() {
    has(
        "FROM golang:1.22\nRUN go build -o /app .\nCMD [\"/app\"]\n",
        "FinalStageToolchain",
        1,
        "The final stage 'stage-0' is based on the Go toolchain image golang:1.22: compile in a builder stage and COPY --from it only the build output into a small runtime stage (distroless, alpine or a -slim image)",
    );
    lacks(
        "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM alpine\nCOPY --from=build /app /app\n",
        "FinalStageToolchain",
    );
    lacks(
        "FROM python:3.12-slim\nCMD [\"python\"]\n",
        "FinalStageToolchain",
    );
    lacks(
        "FROM golang:1.22 AS dev\nCMD [\"go\"]\n",
        "FinalStageToolchain",
    );
    // Through a chain of stages.
    has(
        "FROM rust:1 AS base\nFROM base AS final\nCMD [\"x\"]\n",
        "FinalStageToolchain",
        2,
        "The final stage 'final' is based on the Rust toolchain image rust:1: compile in a builder stage and COPY --from it only the build output into a small runtime stage (distroless, alpine or a -slim image)",
    );
}

#[test]
fn advice_copy_before_install() {
    has(
        "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        "CopyContextBeforeInstall",
        3,
        "COPY . brings the whole context in before `npm ci` (line 4): every source edit re-runs the install; COPY package.json and package-lock.json first, install, then COPY the rest",
    );
    lacks(
        "FROM node:20-slim\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
        "CopyContextBeforeInstall",
    );
    lacks(
        "FROM node:20-slim\nCOPY . .\nRUN npm install -g pm2\n",
        "CopyContextBeforeInstall",
    );
    has(
        "FROM python:3.12-slim\nCOPY . /src\nRUN pip install --no-cache-dir -r /src/requirements.txt\n",
        "CopyContextBeforeInstall",
        2,
        "COPY . brings the whole context in before `pip install --no-cache-dir -r /src/requirements.txt` (line 3): every source edit re-runs the install; COPY the requirements files first, install, then COPY the rest",
    );
    lacks(
        "FROM golang:1.22 AS b\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build\nFROM scratch\nCOPY --from=b /x /x\n",
        "CopyContextBeforeInstall",
    );
}

#[test]
fn advice_build_tools_in_final_stage() {
    let df = "FROM debian:12\nRUN apt-get update && apt-get install -y gcc make\nCMD [\"sh\"]\n";
    lacks(
        "FROM debian:12\nRUN apt-get update && apt-get install -y gcc make\n",
        "BuildToolsInFinalStage",
    );
    has(
        df,
        "BuildToolsInFinalStage",
        2,
        "This RUN of the final image (stage 'stage-0') installs gcc, make: compile in a builder stage and COPY --from it only what the image needs at run time; it leaves the apt package lists (add `&& rm -rf /var/lib/apt/lists/*`)",
    );
    lacks(
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        "BuildToolsInFinalStage",
    );
    lacks(
        "FROM alpine AS b\nRUN apk add gcc\nFROM alpine\nRUN apk add --no-cache curl\n",
        "BuildToolsInFinalStage",
    );
    has(
        "FROM alpine\nRUN apk add curl\nENTRYPOINT [\"curl\"]\n",
        "BuildToolsInFinalStage",
        2,
        "This RUN of the final image (stage 'stage-0') leaves the apk cache (use `apk add --no-cache`)",
    );
}

#[test]
fn advice_unused_and_serial_stages() {
    has(
        "FROM alpine\nRUN echo dead\nFROM alpine AS app\n",
        "UnusedStage",
        1,
        "Stage 0 is unnamed and no stage uses it, so no build ever runs it: remove it, use it with COPY --from=0, or name it (FROM ... AS name) to build it with --target",
    );
    lacks(
        "FROM alpine\nRUN echo x\nFROM alpine\nCOPY --from=0 /x /x\n",
        "UnusedStage",
    );
    lacks("FROM alpine AS test\nFROM alpine AS app\n", "UnusedStage");
    has(
        "FROM alpine AS build\nRUN make\nFROM build AS final\nRUN apk add --no-cache curl\n",
        "SerialFromStage",
        4,
        "Stage 'final' starts FROM 'build', so this package install waits for all of 'build': start it FROM 'build''s base image and COPY --from=build only what it needs, and both stages run in parallel",
    );
    lacks(
        "FROM alpine AS build\nRUN make\nFROM build AS final\nRUN ./configure-runtime\n",
        "SerialFromStage",
    );
}

#[test]
fn lint_answer_shape() {
    let df = b"FROM scratch\nCMD a\n";
    let report = run(df, &options(), &BTreeMap::new(), true);
    let (answer, failed) = lint_answer(&report, "Dockerfile", df, None);
    assert!(failed);
    assert_eq!(
        answer.json,
        r#"{
  "warnings": [
    {
      "ruleName": "JSONArgsRecommended",
      "description": "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
      "url": "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
      "detail": "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
      "location": {
        "ranges": [
          {
            "start": {
              "line": 2
            },
            "end": {
              "line": 2
            }
          }
        ]
      }
    }
  ],
  "sources": [
    {
      "filename": "Dockerfile",
      "data": "RlJPTSBzY3JhdGNoCkNNRCBhCg==",
      "language": "Dockerfile"
    }
  ]
}"#
    );
    assert_eq!(
        answer.text,
        "\nWARNING: JSONArgsRecommended - https://docs.docker.com/go/dockerfile/rule/json-args-recommended/\n\
         JSON arguments recommended for CMD to prevent unintended behavior related to OS signals\n\
         Dockerfile:2\n\
         --------------------\n   \
         1 |     FROM scratch\n   \
         2 | >>> CMD a\n   \
         3 |     \n\
         --------------------\n"
    );
    let clean = run(b"FROM scratch\n", &options(), &BTreeMap::new(), true);
    assert!(!lint_answer(&clean, "Dockerfile", b"FROM scratch\n", None).1);
}

/// Reporting findings must not change the LLB: every golden Dockerfile converts to the same
/// bytes with and without a sink.
#[test]
fn checks_leave_the_conversion_alone() {
    use prost::Message as _;
    let mut seen = 0;
    let mut entries: Vec<_> = std::fs::read_dir("tests/golden")
        .expect("tests/golden")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    entries.sort();
    for path in entries {
        let bytes = std::fs::read(&path).expect("read");
        let opts = options();
        let Ok(parsed) = pipeline::parse(&bytes) else {
            continue;
        };
        let Ok(plan) = pipeline::plan(&parsed, &opts) else {
            continue;
        };
        let ctx = crate::convert::Context {
            options: &opts,
            llb_caps: every_cap(),
            source_info: None,
        };
        let bases = BTreeMap::new();
        let plain = crate::convert::convert(&plan, parsed.dockerfile.escape, &bases, &ctx);
        let sink = Sink::default();
        let checked = crate::convert::convert_checked(
            &plan,
            parsed.dockerfile.escape,
            &bases,
            &ctx,
            Some(&sink),
        );
        match (plain, checked) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    a.definition.encode_to_vec(),
                    b.definition.encode_to_vec(),
                    "{}",
                    path.display()
                );
                seen += 1;
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!("{}: one conversion failed", path.display()),
        }
    }
    assert!(seen > 40, "only {seen} golden files converted");
}

#[test]
fn copy_ignored_file() {
    let mut opts = options();
    opts.excludes = vec!["secret.txt".into(), "build".into()];
    let f = found_with(
        "FROM scratch\nCOPY secret.txt build/out ok /\nADD ./secret.txt /\n",
        &opts,
        &BTreeMap::new(),
    );
    let hits: Vec<_> = f.iter().filter(|f| f.0 == "CopyIgnoredFile").collect();
    assert_eq!(hits.len(), 3, "{f:?}");
    assert_eq!(
        hits[0].2,
        "Attempting to Copy file \"secret.txt\" that is excluded by .dockerignore"
    );
    assert_eq!(
        hits[1].2,
        "Attempting to Copy file \"build/out\" that is excluded by .dockerignore"
    );
    assert_eq!(
        hits[2].2,
        "Attempting to Add file \"secret.txt\" that is excluded by .dockerignore"
    );
    // Exceptions make the rule give up; other stages' files and `.` are not the context's.
    opts.excludes.push("!build/keep".into());
    lacks_with(
        "FROM scratch\nCOPY secret.txt /\n",
        &opts,
        "CopyIgnoredFile",
    );
    opts.excludes.pop();
    lacks_with(
        "FROM scratch AS a\nFROM scratch\nCOPY --from=a secret.txt /\nCOPY . /\n",
        &opts,
        "CopyIgnoredFile",
    );
}

fn lacks_with(df: &str, opts: &BuildOptions, rule: &str) {
    let all = found_with(df, opts, &BTreeMap::new());
    assert!(!all.iter().any(|f| f.0 == rule), "{rule} in {all:?}");
}

/// Checks assume a daemon that has every capability: features newer than some daemon are not
/// build errors here.
#[test]
fn checks_do_not_fail_on_daemon_capabilities() {
    let df = "FROM scratch\nCOPY --parents a/./b /x/\nCOPY --chmod=u+x run.sh /run.sh\nCOPY --link --exclude=*.tmp src /src\nADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 https://example.com/r.git#main:sub /repo\nRUN --mount=type=secret,id=t,env=T --mount=type=tmpfs,target=/t,size=1m true\n";
    let report = run(df.as_bytes(), &options(), &BTreeMap::new(), false);
    assert_eq!(report.error, None);
}
