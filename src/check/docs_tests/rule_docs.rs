//! The ❌ and ✅ examples of the official rule pages (`frontend/dockerfile/linter/docs/*.md`)
//! and stager's advice on the ✅ ones.

use super::names::*;
use super::{Case, check_all, doc, run};
use crate::lint::Origin;

/// The ❌ and ✅ examples of the rule pages, page by page. A fragment without FROM gets
/// `FROM alpine` in front (its lines move down by one).
fn docs_cases() -> Vec<Case> {
    vec![
        doc(SNC, "StageNameCasing bad", "FROM alpine AS BuilderBase\n")
            .warns(&[(SNC, 1, "Stage name 'BuilderBase' should be lowercase")]),
        doc(SNC, "StageNameCasing good", "FROM alpine AS builder-base\n"),
        doc(FAC, "FromAsCasing bad", "FROM debian:latest as builder\n")
            .warns(&[(FAC, 1, "'as' and 'FROM' keywords' casing do not match")]),
        doc(FAC, "FromAsCasing good 1", "FROM debian:latest AS deb-builder\n"),
        doc(FAC, "FromAsCasing good 2", "from debian:latest as deb-builder\n"),
        doc(
            NEC,
            "NoEmptyContinuation description",
            "FROM alpine\nRUN apk add \\\n\n    gnupg \\\n\n    curl\n",
        )
        .warns(&[(NEC, 6, "Empty continuation line")]),
        doc(NEC, "NoEmptyContinuation bad", "FROM alpine\nEXPOSE \\\n\n80\n")
            .warns(&[(NEC, 4, "Empty continuation line")]),
        doc(NEC, "NoEmptyContinuation good", "FROM alpine\nEXPOSE \\\n# Port\n80\n"),
        doc(
            CIC,
            "ConsistentInstructionCasing bad",
            "From alpine\nRun echo hello > /greeting.txt\nEntRYpOiNT [\"cat\", \"/greeting.txt\"]\n",
        )
        .warns(&[
            (CIC, 1, "Command 'From' should match the case of the command majority (uppercase)"),
            (CIC, 2, "Command 'Run' should match the case of the command majority (uppercase)"),
            (CIC, 3, "Command 'EntRYpOiNT' should match the case of the command majority (uppercase)"),
        ]),
        doc(
            CIC,
            "ConsistentInstructionCasing good 1",
            "FROM alpine\nRUN echo hello > /greeting.txt\nENTRYPOINT [\"cat\", \"/greeting.txt\"]\n",
        ),
        doc(
            CIC,
            "ConsistentInstructionCasing good 2",
            "from alpine\nrun echo hello > /greeting.txt\nentrypoint [\"cat\", \"/greeting.txt\"]\n",
        ),
        // The older page (FileConsistentCommandCasing): a tie goes to upper case.
        doc(
            CIC,
            "FileConsistentCommandCasing bad",
            "FROM alpine:latest AS builder\nrun apk --no-cache add build-base\n\nFROM builder AS build1\ncopy source1.cpp source.cpp\n",
        )
        .warns(&[
            (CIC, 2, "Command 'run' should match the case of the command majority (uppercase)"),
            (CIC, 5, "Command 'copy' should match the case of the command majority (uppercase)"),
        ]),
        doc(
            CIC,
            "FileConsistentCommandCasing good 1",
            "FROM alpine:latest AS builder\nRUN apk --no-cache add build-base\n\nFROM builder AS build1\nCOPY source1.cpp source.cpp\n",
        ),
        doc(
            CIC,
            "FileConsistentCommandCasing good 2",
            "from alpine:latest as builder\nrun apk --no-cache add build-base\n\nfrom builder as build1\ncopy source1.cpp source.cpp\n",
        ),
        doc(
            DSN,
            "DuplicateStageName bad",
            "FROM debian:latest AS builder\nRUN apt-get update; apt-get install -y curl\n\nFROM golang:latest AS builder\n",
        )
        .warns(&[(DSN, 4, "Duplicate stage name \"builder\", stage names should be unique")]),
        doc(
            DSN,
            "DuplicateStageName good",
            "FROM debian:latest AS deb-builder\nRUN apt-get update; apt-get install -y curl\n\nFROM golang:latest AS go-builder\n",
        ),
        doc(RSN, "ReservedStageName bad", "FROM alpine AS scratch\nFROM alpine AS context\n").warns(&[
            (RSN, 1, "Stage name should not use the same name as reserved stage \"scratch\""),
            (RSN, 2, "Stage name should not use the same name as reserved stage \"context\""),
        ]),
        doc(RSN, "ReservedStageName good", "FROM alpine AS builder\n"),
        doc(
            JAR,
            "JSONArgsRecommended bad",
            "FROM alpine\nENTRYPOINT my-program start\n# entrypoint becomes: /bin/sh -c my-program start\n",
        )
        .warns(&[(
            JAR,
            2,
            "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals",
        )]),
        doc(
            JAR,
            "JSONArgsRecommended good exec form",
            "FROM alpine\nENTRYPOINT [\"my-program\", \"start\"]\n# entrypoint becomes: my-program start\n",
        ),
        doc(
            JAR,
            "JSONArgsRecommended good wrapper script",
            "FROM alpine\nRUN apk add bash\nCOPY --chmod=755 <<EOT /entrypoint.sh\n#!/usr/bin/env bash\nset -e\nmy-background-process &\nmy-program start\nEOT\nENTRYPOINT [\"/entrypoint.sh\"]\n",
        ),
        doc(
            JAR,
            "JSONArgsRecommended good explicit shell",
            "FROM alpine\nRUN apk add bash\nSHELL [\"/bin/bash\", \"-c\"]\nENTRYPOINT echo \"hello world\"\n",
        ),
        doc(MD, "MaintainerDeprecated bad", "FROM alpine\nMAINTAINER moby@example.com\n")
            .warns(&[(MD, 2, MAINTAINER)]),
        doc(
            MD,
            "MaintainerDeprecated good",
            "FROM alpine\nLABEL org.opencontainers.image.authors=\"moby@example.com\"\n",
        ),
        doc(UAIF, "UndefinedArgInFrom bad", "FROM node:22${VARIANT} AS jsbuilder\n")
            .warns(&[(UAIF, 1, "FROM argument 'VARIANT' is not declared")]),
        doc(
            UAIF,
            "UndefinedArgInFrom good",
            "ARG VARIANT=\"-alpine3.20\"\nFROM node:22${VARIANT} AS jsbuilder\n",
        ),
        doc(
            UAIF,
            "UndefinedArgInFrom description",
            "ARG ALPINE_VERSION=3.20\n\nFROM alpine:${ALPINE_VERSION}\n",
        ),
        doc(
            WRP,
            "WorkdirRelativePath bad",
            "FROM nginx AS web\nWORKDIR usr/share/nginx/html\nCOPY public .\n",
        )
        .warns(&[(
            WRP,
            2,
            "Relative workdir \"usr/share/nginx/html\" can have unexpected results if the base image changes",
        )]),
        doc(
            WRP,
            "WorkdirRelativePath good",
            "FROM nginx AS web\nWORKDIR /usr/share/nginx/html\nCOPY public .\n",
        ),
        doc(UV, "UndefinedVar description", "FROM alpine\nENV PATH=$PAHT:/app/bin\n")
            .warns(&[(UV, 2, "Usage of undefined variable '$PAHT' (did you mean $PATH?)")]),
        doc(UV, "UndefinedVar bad 1", "FROM alpine AS base\nCOPY $foo .\n")
            .warns(&[(UV, 2, "Usage of undefined variable '$foo'")]),
        doc(UV, "UndefinedVar good 1", "FROM alpine AS base\nARG foo\nCOPY $foo .\n"),
        doc(UV, "UndefinedVar bad 2", "FROM alpine AS base\nARG VERSION=$foo\n")
            .warns(&[(UV, 2, "Usage of undefined variable '$foo'")]),
        doc(UV, "UndefinedVar good 2", "FROM python AS base\nARG VERSION=$PYTHON_VERSION\n")
            .env(&[("python", "PYTHON_VERSION=3.13.0")]),
        doc(
            MID,
            "MultipleInstructionsDisallowed bad",
            "FROM alpine\nCMD echo \"Hello, Norway!\"\nCMD echo \"Hello, Sweden!\"\n# Only \"Hello, Sweden!\" will be printed\n",
        )
        .warns(&[(MID, 2, MULTIPLE_CMD)]),
        doc(
            MID,
            "MultipleInstructionsDisallowed good 1",
            "FROM alpine\nCMD echo \"Hello, Norway!\"; echo \"Hello, Sweden!\"\n",
        ),
        doc(
            MID,
            "MultipleInstructionsDisallowed good 2",
            "FROM python:alpine\nRUN apk add curl\nHEALTHCHECK --interval=1s --timeout=3s \\\n  CMD curl -f http://localhost:8080 || exit 1\nCMD python -m http.server 8080\n",
        ),
        // The page's first ❌ is `ARG foo bar`, but the official frontend checks only ENV and
        // LABEL (`dispatchEnv`, `dispatchLabel`): ARG takes several names, so this declares
        // `foo` and `bar` and nothing fires.
        doc(LKVF, "LegacyKeyValueFormat bad 1 (ARG: no warning)", "FROM alpine\nARG foo bar\n"),
        doc(LKVF, "LegacyKeyValueFormat good 1", "FROM alpine\nARG foo=bar\n"),
        doc(
            LKVF,
            "LegacyKeyValueFormat bad 2",
            "FROM alpine\nENV DEPS \\\n    curl \\\n    git \\\n    make\n",
        )
        .warns(&[(LKVF, 2, LEGACY_ENV)]),
        doc(
            LKVF,
            "LegacyKeyValueFormat good 2",
            "FROM alpine\nENV DEPS=\"\\\n    curl \\\n    git \\\n    make\"\n",
        ),
        doc(SECRETS, "SecretsUsedInArgOrEnv bad", "FROM scratch\nARG AWS_SECRET_ACCESS_KEY\n").warns(&[(
            SECRETS,
            2,
            "Do not use ARG or ENV instructions for sensitive data (ARG \"AWS_SECRET_ACCESS_KEY\")",
        )]),
        doc(
            SECRETS,
            "SecretsUsedInArgOrEnv bad (older page)",
            "FROM alpine\nARG AWS_ACCESS_KEY_ID\nARG AWS_SECRET_ACCESS_KEY\nRUN aws s3 cp s3://my-bucket/file .\n",
        )
        .warns(&[
            (SECRETS, 2, "Do not use ARG or ENV instructions for sensitive data (ARG \"AWS_ACCESS_KEY_ID\")"),
            (SECRETS, 3, "Do not use ARG or ENV instructions for sensitive data (ARG \"AWS_SECRET_ACCESS_KEY\")"),
        ]),
        doc(
            SECRETS,
            "SecretsUsedInArgOrEnv good (older page)",
            "FROM alpine\nRUN --mount=type=secret,id=aws_key_id,env=AWS_ACCESS_KEY_ID \\\n    --mount=type=secret,id=aws_secret_key,env=AWS_SECRET_ACCESS_KEY \\\n    aws s3 cp s3://my-bucket/file .\n",
        ),
        doc(
            RTP,
            "RedundantTargetPlatform bad",
            "FROM --platform=$TARGETPLATFORM alpine AS builder\nRUN apk add --no-cache git\n",
        )
        .warns(&[(RTP, 1, TARGET_PLATFORM)]),
        doc(
            RTP,
            "RedundantTargetPlatform good",
            "FROM alpine AS builder\nRUN apk add --no-cache git\n",
        ),
        doc(
            FPFCD,
            "FromPlatformFlagConstDisallowed bad",
            "FROM --platform=linux/amd64 alpine AS base\nRUN apk add --no-cache git\n",
        )
        .warns(&[(FPFCD, 1, "FROM --platform flag should not use constant value \"linux/amd64\"")]),
        doc(
            FPFCD,
            "FromPlatformFlagConstDisallowed good 1",
            "FROM alpine AS base\nRUN apk add --no-cache git\n",
        ),
        doc(
            FPFCD,
            "FromPlatformFlagConstDisallowed good 2",
            "FROM --platform=${BUILDPLATFORM} alpine AS base\nRUN apk add --no-cache git\n",
        ),
        // The page's `...` lines stand for instructions: `RUN true` here.
        doc(
            FPFCD,
            "FromPlatformFlagConstDisallowed good 3",
            "FROM --platform=linux/amd64 alpine AS build_amd64\nRUN true\n\nFROM --platform=linux/arm64 alpine AS build_arm64\nRUN true\n\nFROM build_${TARGETARCH} AS build\nRUN true\n",
        ),
        // The page's `.dockerignore` is `*/tmp/*`, which does not match `tmp/helloworld.txt`
        // (moby's matcher needs a directory before `tmp`): the official rule stays quiet on
        // the page's ❌. With `tmp/*` it fires, naming the cleaned path.
        doc(
            CIF,
            "CopyIgnoredFile bad (page's ignore file: no warning)",
            "FROM scratch\nCOPY ./tmp/helloworld.txt /helloworld.txt\n",
        )
        .ignore(&["*/tmp/*"]),
        doc(
            CIF,
            "CopyIgnoredFile bad (tmp/*)",
            "FROM scratch\nCOPY ./tmp/helloworld.txt /helloworld.txt\n",
        )
        .ignore(&["tmp/*"])
        .warns(&[(
            CIF,
            2,
            "Attempting to Copy file \"tmp/helloworld.txt\" that is excluded by .dockerignore",
        )]),
        doc(
            CIF,
            "CopyIgnoredFile good",
            "FROM scratch\nCOPY ./forever/helloworld.txt /helloworld.txt\n",
        )
        .ignore(&["*/tmp/*"]),
        doc(EPC, "ExposeProtoCasing bad", "FROM alpine\nEXPOSE 80/TcP\n")
            .warns(&[(EPC, 2, "Defined protocol '80/TcP' in EXPOSE instruction should be lowercase")]),
        doc(EPC, "ExposeProtoCasing good", "FROM alpine\nEXPOSE 80/tcp\n"),
        doc(EIF, "ExposeInvalidFormat bad 1", "FROM alpine\nEXPOSE 127.0.0.1:80:80\n").warns(&[(
            EIF,
            2,
            "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'",
        )]),
        doc(EIF, "ExposeInvalidFormat good", "FROM alpine\nEXPOSE 80\n"),
        doc(EIF, "ExposeInvalidFormat bad 2", "FROM alpine\nEXPOSE 80:80\n").warns(&[(
            EIF,
            2,
            "EXPOSE instruction should not define an IP address or host-port mapping, found '80:80'",
        )]),
        // InvalidDefinitionDescription (experimental): enabled by the directive, one line
        // more in front.
        doc(
            IDD,
            "InvalidDefinitionDescription bad",
            "# check=experimental=InvalidDefinitionDescription\n# a non-descriptive comment\nFROM scratch AS base\n\n# another non-descriptive comment\nARG VERSION=1\n",
        )
        .warns(&[
            (IDD, 3, "Comment for FROM should follow the format: `# base <description>`"),
            (IDD, 6, "Comment for ARG should follow the format: `# VERSION <description>`"),
        ]),
        // Left out: the page's first ✅ separates the comments with a blank line, but the
        // official parser (`parser.Parse`) keeps collecting comments across blank lines and
        // only an empty `#` line or an instruction resets them, so BuildKit warns there too;
        // stager's parser does the same.
        doc(
            IDD,
            "InvalidDefinitionDescription good 2",
            "# check=experimental=InvalidDefinitionDescription\n# base is a stage for compiling source\nFROM scratch AS base\n# VERSION This is the version number.\nARG VERSION=1\n",
        ),
        doc(
            IDD,
            "InvalidDefinitionDescription description",
            "# check=experimental=InvalidDefinitionDescription\n# build-cli builds the CLI binary\nFROM alpine AS build-cli\n# VERSION controls the version of the program\nARG VERSION=1\n",
        ),
        doc(
            IDAIF,
            "InvalidDefaultArgInFrom bad",
            "ARG TAG\nFROM busybox:${TAG}\n",
        )
        // As the official test does: with the default alone the build itself would fail.
        .args(&[("TAG", "latest")])
        .warns(&[(IDAIF, 2, "Default value for ARG busybox:${TAG} results in empty or invalid base image name")]),
        doc(
            IDAIF,
            "InvalidDefaultArgInFrom good 1",
            "ARG TAG=latest\nFROM busybox:${TAG}\n",
        ),
        doc(
            IDAIF,
            "InvalidDefaultArgInFrom good 2",
            "ARG VARIANT\nFROM busybox:stable${VARIANT}\n",
        ),
    ]
}

#[test]
fn official_documentation_examples() {
    check_all(&docs_cases());
}

/// stager's own advice on the documentation's ✅ examples: only the apk cache that
/// `apk add` without `--no-cache` leaves in a final image (a real cost, hadolint's DL3019),
/// nothing about stages in these one-stage fragments.
#[test]
fn advice_on_the_good_examples() {
    let mut said = Vec::new();
    for c in docs_cases().iter().filter(|c| c.warnings.is_empty()) {
        let opts = c.options();
        let report = run(c.dockerfile.as_bytes(), &opts, &c.bases(&opts), true);
        for f in (report.findings.iter()).filter(|f| f.rule.origin == Origin::Stager) {
            said.push((c.name, f.rule.name, f.line()));
        }
    }
    let apk_cache = "BuildToolsInFinalStage";
    assert_eq!(
        said,
        [
            ("JSONArgsRecommended good wrapper script", apk_cache, 2),
            ("JSONArgsRecommended good explicit shell", apk_cache, 2),
            ("MultipleInstructionsDisallowed good 2", apk_cache, 2),
        ]
    );
}
