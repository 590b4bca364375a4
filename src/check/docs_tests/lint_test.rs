//! The cases of BuildKit's lint integration test (`frontend/dockerfile/dockerfile_lint_test.go`).

use super::names::*;
use super::{Case, case, check_all};

/// `dockerfile_lint_test.go`, in its order. Where the progress stream (a build of the last
/// stage) and the lint subrequest differ, the subrequest's list is used: `stager check`
/// dispatches every stage as `frontend.lint` does.
fn lint_test_cases() -> Vec<Case> {
    vec![
        case(
            "testDefinitionDescription 1",
            "# check=experimental=InvalidDefinitionDescription\n# foo this is the foo\nARG foo=bar\n\n# base this is the base image\nFROM scratch AS base\n\n# version this is the version number\nARG version=latest\n\n# baz this is the baz\nARG foo=baz bar=qux baz=quux\n#\nARG bit=bat\n\n# comment for something other than ARG or FROM\nCOPY Dockerfile .\n",
        ),
        case(
            "testDefinitionDescription 2",
            "# check=experimental=InvalidDefinitionDescription\n# bar this is the bar\nARG foo=bar\n# BasE this is the BasE image\nFROM scratch AS base\n# definitely a bad comment\nARG version=latest\n# definitely a bad comment\nARG foo=baz bar=qux baz=quux\n",
        )
        .warns(&[
            (IDD, 3, "Comment for ARG should follow the format: `# foo <description>`"),
            (IDD, 5, "Comment for FROM should follow the format: `# base <description>`"),
            (IDD, 7, "Comment for ARG should follow the format: `# version <description>`"),
            (IDD, 9, "Comment for ARG should follow the format: `# <arg_key> <description>`"),
        ]),
        // The test file predates Dockerfile 1.21, where CopyIgnoredFile was experimental and
        // this case had no warning; stager follows 1.21, where the rule is on by default.
        case(
            "testCopyIgnoredFiles 1 (1.21: on by default)",
            "\nFROM scratch\nCOPY Dockerfile .\nADD Dockerfile /windy\n",
        )
        .ignore(&["Dockerfile"])
        .warns(&[
            (CIF, 3, "Attempting to Copy file \"Dockerfile\" that is excluded by .dockerignore"),
            (CIF, 4, "Attempting to Add file \"Dockerfile\" that is excluded by .dockerignore"),
        ]),
        case(
            "testCopyIgnoredFiles 2",
            "# check=experimental=CopyIgnoredFile\nFROM scratch\nCOPY Dockerfile .\nADD Dockerfile /windy\n",
        )
        .ignore(&["Dockerfile"])
        .warns(&[
            (CIF, 3, "Attempting to Copy file \"Dockerfile\" that is excluded by .dockerignore"),
            (CIF, 4, "Attempting to Add file \"Dockerfile\" that is excluded by .dockerignore"),
        ]),
        // Also 1.21: a rule that is no longer experimental is skipped by skip=all, whatever
        // experimental= says (the official linter's Run).
        case(
            "testCopyIgnoredFiles 3 (1.21: skip=all wins)",
            "# check=skip=all;experimental=CopyIgnoredFile\nFROM scratch\nCOPY Dockerfile .\nADD Dockerfile /windy\n",
        )
        .ignore(&["Dockerfile"]),
        case(
            "testCopyIgnoredFiles 4",
            "\nFROM scratch AS base\nCOPY Dockerfile /foobar\nADD Dockerfile /windy\n\nFROM base\nCOPY --from=base /foobar /Dockerfile\n",
        )
        .ignore(&["foobar"]),
        // The 1.26 version: an instruction's own `# check=` comment applies to it alone.
        case(
            "testSecretsUsedInArgOrEnv",
            "# check=skip=InvalidDefinitionDescription\n\nFROM scratch\nARG SECRET_PASSPHRASE\nENV SUPER_Secret=foo\nENV password=bar secret=baz\nARG super_duper_secret_token=foo auth=bar\nENV apikey=bar sunflower=foo\nENV git_key=\nENV PUBLIC_KEY=\nARG public_token\nARG SECRET_PASSPHRASE_FILE\nENV password_file=bar secret_File=baz\nARG AUTH_MODULE_VERSION\n# check=skip=SecretsUsedInArgOrEnv // allow secret in environment\nENV password=bar\n# check=skip=SecretsUsedInArgOrEnv // allow secret in arg\nARG password\n# check=skip=all // is local to only this instruction\nENV alternate_password=bar\n# check=skip=all // is local to only this instruction\nARG alternate_password\n",
        )
        .warns(&[
            (SECRETS, 4, "Do not use ARG or ENV instructions for sensitive data (ARG \"SECRET_PASSPHRASE\")"),
            (SECRETS, 5, "Do not use ARG or ENV instructions for sensitive data (ENV \"SUPER_Secret\")"),
            (SECRETS, 6, "Do not use ARG or ENV instructions for sensitive data (ENV \"password\")"),
            (SECRETS, 6, "Do not use ARG or ENV instructions for sensitive data (ENV \"secret\")"),
            (SECRETS, 7, "Do not use ARG or ENV instructions for sensitive data (ARG \"auth\")"),
            (SECRETS, 7, "Do not use ARG or ENV instructions for sensitive data (ARG \"super_duper_secret_token\")"),
            (SECRETS, 8, "Do not use ARG or ENV instructions for sensitive data (ENV \"apikey\")"),
            (SECRETS, 9, "Do not use ARG or ENV instructions for sensitive data (ENV \"git_key\")"),
        ]),
        case(
            "testJSONArgsRecommended inline skip CMD",
            "\nFROM scratch\n# check=skip=JSONArgsRecommended\nCMD mycommand\n",
        ),
        case(
            "testJSONArgsRecommended inline skip ENTRYPOINT",
            "\nFROM scratch\n# check=skip=JSONArgsRecommended\nENTRYPOINT mycommand\n",
        ),
        case(
            "testMaintainerDeprecated inline skip",
            "\nFROM scratch\n# check=skip=MaintainerDeprecated\nMAINTAINER me@example.org\n",
        ),
        case(
            "testAllTargetUnmarshal",
            "\nFROM scratch AS first\nCOPY $foo .\n\nFROM scratch AS second\nCOPY $bar .\n",
        )
        .warns(&[
            (UV, 3, "Usage of undefined variable '$foo'"),
            (UV, 6, "Usage of undefined variable '$bar'"),
        ]),
        case(
            "testRuleCheckOption 1",
            "#check=skip=all\nFROM scratch as base\ncopy Dockerfile .\n",
        ),
        case(
            "testRuleCheckOption 2",
            "#check=skip=all;error=true\nFROM scratch as base\ncopy Dockerfile .\n",
        ),
        case(
            "testRuleCheckOption 3",
            "#check=skip=ConsistentInstructionCasing,FromAsCasing\nFROM scratch as base\ncopy Dockerfile .\n",
        ),
        case(
            "testRuleCheckOption 4",
            "#check=skip=ConsistentInstructionCasing,FromAsCasing;error=true\nFROM scratch as base\ncopy Dockerfile .\n",
        ),
        case(
            "testRuleCheckOption 5",
            "#check=skip=ConsistentInstructionCasing\nFROM scratch as base\ncopy Dockerfile .\n",
        )
        .warns(&[(FAC, 2, "'as' and 'FROM' keywords' casing do not match")]),
        case(
            "testRuleCheckOption 6",
            "#check=skip=ConsistentInstructionCasing;error=true\nFROM scratch as base\ncopy Dockerfile .\n",
        )
        .warns(&[(FAC, 2, "'as' and 'FROM' keywords' casing do not match")])
        .fails("lint violation found for rules: FromAsCasing"),
        case(
            "testRuleCheckOption 7",
            "#check=skip=all\nFROM scratch as base\ncopy Dockerfile .\n",
        )
        .args(&[(
            "BUILDKIT_DOCKERFILE_CHECK",
            "skip=ConsistentInstructionCasing;error=true",
        )])
        .warns(&[(FAC, 2, "'as' and 'FROM' keywords' casing do not match")])
        .fails("lint violation found for rules: FromAsCasing"),
        case(
            "testRuleCheckOption 8",
            "#check=error=true\nFROM scratch as base\ncopy Dockerfile .\n",
        )
        .args(&[("BUILDKIT_DOCKERFILE_CHECK", "skip=all")]),
        case(
            "testStageName 1",
            "\n# warning: stage name should be lowercase\n#\nFROM scratch AS BadStageName\n\n# warning: 'as' should match 'FROM' cmd casing.\n#\nFROM scratch as base2\n\nFROM scratch AS base3\n",
        )
        .warns(&[
            (SNC, 4, "Stage name 'BadStageName' should be lowercase"),
            (FAC, 8, "'as' and 'FROM' keywords' casing do not match"),
        ]),
        case(
            "testStageName 2",
            "\n# warning: 'AS' should match 'from' cmd casing.\n#\nfrom scratch AS base\n\nfrom scratch as base2\n",
        )
        .warns(&[(FAC, 4, "'AS' and 'from' keywords' casing do not match")]),
        case(
            "testNoEmptyContinuation",
            "\nFROM scratch\n# warning: empty continuation line\nCOPY Dockerfile \\\n\n.\nCOPY Dockerfile \\\n.\n",
        )
        .warns(&[("NoEmptyContinuation", 6, "Empty continuation line")]),
        case(
            "testConsistentInstructionCasing 1",
            "\n# warning: 'FROM' should be either lowercased or uppercased\n#\nFrom scratch as base\nFROM scratch AS base2\n",
        )
        .warns(&[(CIC, 4, "Command 'From' should match the case of the command majority (uppercase)")]),
        case(
            "testConsistentInstructionCasing 2",
            "\nFROM scratch\n# warning: 'copy' should match command majority's casing (uppercase)\ncopy Dockerfile /foo\nCOPY Dockerfile /bar\n",
        )
        .warns(&[(CIC, 4, "Command 'copy' should match the case of the command majority (uppercase)")]),
        case(
            "testConsistentInstructionCasing 3",
            "\n# warning: 'frOM' should be either lowercased or uppercased\n#\nfrOM scratch as base\nfrom scratch as base2\n",
        )
        .warns(&[(CIC, 4, "Command 'frOM' should match the case of the command majority (lowercase)")]),
        case(
            "testConsistentInstructionCasing 4",
            "\nfrom scratch\n# warning: 'COPY' should match command majority's casing (lowercase)\nCOPY Dockerfile /foo\ncopy Dockerfile /bar\n",
        )
        .warns(&[(CIC, 4, "Command 'COPY' should match the case of the command majority (lowercase)")]),
        case(
            "testConsistentInstructionCasing 5",
            "\n# warning: 'from' should match command majority's casing (uppercase)\n#\nfrom scratch\nCOPY Dockerfile /foo\nCOPY Dockerfile /bar\nCOPY Dockerfile /baz\n",
        )
        .warns(&[(CIC, 4, "Command 'from' should match the case of the command majority (uppercase)")]),
        case(
            "testConsistentInstructionCasing 6",
            "\n# warning: 'FROM' should match command majority's casing (lowercase)\n#\nFROM scratch\ncopy Dockerfile /foo\ncopy Dockerfile /bar\ncopy Dockerfile /baz\n",
        )
        .warns(&[(CIC, 4, "Command 'FROM' should match the case of the command majority (lowercase)")]),
        case(
            "testConsistentInstructionCasing 7",
            "\nfrom scratch\ncopy Dockerfile /foo\ncopy Dockerfile /bar\n",
        ),
        case(
            "testConsistentInstructionCasing 8",
            "\nFROM scratch\nCOPY Dockerfile /foo\nCOPY Dockerfile /bar\n",
        ),
        case(
            "testConsistentInstructionCasing 9",
            "\nFROM alpine\nRUN <<'EOT'\nenv\nEOT\n",
        ),
        case(
            "testDuplicateStageName 1",
            "\nFROM scratch AS b\nFROM scratch AS b\n",
        )
        .warns(&[("DuplicateStageName", 3, "Duplicate stage name \"b\", stage names should be unique")]),
        case(
            "testDuplicateStageName 2",
            "\nFROM scratch AS b1\nFROM scratch AS b2\n",
        ),
        case(
            "testReservedStageName 1",
            "\nFROM scratch AS scratch\nFROM scratch AS context\n",
        )
        .warns(&[
            ("ReservedStageName", 2, "Stage name should not use the same name as reserved stage \"scratch\""),
            ("ReservedStageName", 3, "Stage name should not use the same name as reserved stage \"context\""),
        ]),
        case("testReservedStageName 2", "\nFROM scratch\nFROM scratch AS a\n"),
        case("testJSONArgsRecommended 1", "\nFROM scratch\nCMD mycommand\n").warns(&[(
            "JSONArgsRecommended",
            3,
            "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
        )]),
        case("testJSONArgsRecommended 2", "\nFROM scratch\nENTRYPOINT mycommand\n").warns(&[(
            "JSONArgsRecommended",
            3,
            "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals",
        )]),
        case(
            "testJSONArgsRecommended 3",
            "\nFROM scratch\nSHELL [\"/usr/bin/customshell\"]\nCMD mycommand\n",
        ),
        case(
            "testJSONArgsRecommended 4",
            "\nFROM scratch\nSHELL [\"/usr/bin/customshell\"]\nENTRYPOINT mycommand\n",
        ),
        case(
            "testJSONArgsRecommended 5",
            "\nFROM scratch AS base\nSHELL [\"/usr/bin/customshell\"]\n\nFROM base\nCMD mycommand\n",
        ),
        case(
            "testJSONArgsRecommended 6",
            "\nFROM scratch AS base\nSHELL [\"/usr/bin/customshell\"]\n\nFROM base\nENTRYPOINT mycommand\n",
        ),
        case(
            "testMaintainerDeprecated 1",
            "\nFROM scratch\nMAINTAINER me@example.org\n",
        )
        .warns(&[("MaintainerDeprecated", 3, MAINTAINER)]),
        case(
            "testMaintainerDeprecated 2",
            "\nFROM scratch\nLABEL org.opencontainers.image.authors=\"me@example.org\"\n",
        ),
        case(
            "testWarningsBeforeError",
            "\nFROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n",
        )
        .warns(&[
            (SNC, 2, "Stage name 'BadStageName' should be lowercase"),
            ("MaintainerDeprecated", 3, MAINTAINER),
        ])
        .fails("dockerfile parse error on line 4: unknown instruction: BADCMD"),
        case(
            "testUndeclaredArg 1",
            "\nARG base=scratch\nFROM $base\nCOPY Dockerfile .\n",
        ),
        case(
            "testUndeclaredArg 2",
            "\nARG BUILDPLATFORM=linux/amd64\nFROM --platform=$BUILDPLATFORM scratch\nCOPY Dockerfile .\n",
        ),
        case(
            "testUndeclaredArg 3",
            "\nFROM --platform=$BUILDPLATFORM scratch\nCOPY Dockerfile .\n",
        ),
        case(
            "testUndeclaredArg 4",
            "\nARG DEBUG\nFROM scratch${DEBUG}\nCOPY Dockerfile .\n",
        ),
        case(
            "testUndeclaredArg 5",
            "\nARG DEBUG\nFROM scra${DEBUG:-tch}\nCOPY Dockerfile .\n",
        ),
        case(
            "testUndeclaredArg 6",
            "\nARG DEBUG=\"\"\nFROM scratch${DEBUG-@bogus}\nCOPY Dockerfile .\n",
        ),
        case(
            "testUndeclaredArg 7",
            "\nFROM --platform=$BULIDPLATFORM scratch\nCOPY Dockerfile .\n",
        )
        .warns(&[(UAIF, 2, "FROM argument 'BULIDPLATFORM' is not declared (did you mean BUILDPLATFORM?)")])
        .fails("empty platform value from expression $BULIDPLATFORM (did you mean BUILDPLATFORM?)"),
        case(
            "testUndeclaredArg 8",
            "\nARG MY_OS=linux\nARG MY_ARCH=amd64\nFROM --platform=linux/${MYARCH} busybox\nCOPY Dockerfile .\n\t",
        )
        .warns(&[(UAIF, 4, "FROM argument 'MYARCH' is not declared (did you mean MY_ARCH?)")])
        // BuildKit quotes containerd here, and so does stager.
        .fails("failed to parse platform linux/${MYARCH}: \"\" is an invalid component of \"linux/\": platform specifier component must match \"^[A-Za-z0-9_.-]+$\": invalid argument (did you mean MY_ARCH?)"),
        case(
            "testUndeclaredArg 9",
            "\nARG tag=latest\nFROM busybox:${tag}${version} AS b\nCOPY Dockerfile .\n",
        )
        .warns(&[(UAIF, 3, "FROM argument 'version' is not declared")]),
        case("testWorkdirRelativePath 1", "\nFROM scratch\nWORKDIR app/\n").warns(&[(
            "WorkdirRelativePath",
            3,
            "Relative workdir \"app/\" can have unexpected results if the base image changes",
        )]),
        case(
            "testWorkdirRelativePath 2",
            "\nFROM scratch AS a\nWORKDIR /app\n\nFROM a AS b\nWORKDIR subdir/\n",
        ),
        case(
            "testUnmatchedVars 1",
            "\nFROM scratch\nARG foo\nCOPY Dockerfile${foo} .\n",
        ),
        case(
            "testUnmatchedVars 2",
            "\nFROM alpine AS base\nARG foo=Dockerfile\n\nFROM base\nCOPY $foo .\n",
        ),
        case("testUnmatchedVars 3", "\nFROM alpine\nRUN echo $PATH\n"),
        case(
            "testUnmatchedVars 4",
            "\nFROM alpine\nCOPY $foo .\nARG foo=bar\nRUN echo $foo\n",
        )
        .warns(&[(UV, 3, "Usage of undefined variable '$foo'")]),
        case(
            "testUnmatchedVars 5",
            "\nFROM alpine\nARG DIR_BINARIES=binaries/\nARG DIR_ASSETS=assets/\nARG DIR_CONFIG=config/\nCOPY $DIR_ASSET .\n\t",
        )
        .warns(&[(UV, 6, "Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?)")]),
        case("testUnmatchedVars 6", "\nFROM alpine\nENV PATH=$PAHT:/tmp/bin\n\t\t").warns(&[(
            UV,
            3,
            "Usage of undefined variable '$PAHT' (did you mean $PATH?)",
        )]),
        case(
            "testMultipleInstructionsDisallowed 1",
            "\nFROM scratch\nENTRYPOINT [\"/myapp\"]\nENTRYPOINT [\"/myotherapp\"]\nCMD [\"/myapp\"]\nCMD [\"/myotherapp\"]\nHEALTHCHECK CMD [\"/myapp\"]\nHEALTHCHECK CMD [\"/myotherapp\"]\n",
        )
        .warns(&[
            (MID, 3, MULTIPLE_ENTRYPOINT),
            (MID, 5, MULTIPLE_CMD),
            (MID, 7, MULTIPLE_HEALTHCHECK),
        ]),
        case(
            "testMultipleInstructionsDisallowed 2",
            "\nFROM scratch\nENTRYPOINT [\"/myapp\"]\nCMD [\"/myapp\"]\nHEALTHCHECK CMD [\"/myapp\"]\nCOPY <<EOF /a.txt\nHello, World!\nEOF\nENTRYPOINT [\"/myotherapp\"]\nCMD [\"/myotherapp\"]\nHEALTHCHECK CMD [\"/myotherapp\"]\n",
        )
        .warns(&[
            (MID, 3, MULTIPLE_ENTRYPOINT),
            (MID, 4, MULTIPLE_CMD),
            (MID, 5, MULTIPLE_HEALTHCHECK),
        ]),
        case(
            "testMultipleInstructionsDisallowed 3",
            "\nFROM scratch AS a\nENTRYPOINT [\"/myapp\"]\nCMD [\"/myapp\"]\nHEALTHCHECK CMD [\"/myapp\"]\n\nFROM a AS b\nENTRYPOINT [\"/myotherapp\"]\nCMD [\"/myotherapp\"]\nHEALTHCHECK CMD [\"/myotherapp\"]\n",
        ),
        case(
            "testLegacyKeyValueFormat 1",
            "\nFROM scratch\nENV testkey value\nLABEL key value\n",
        )
        .warns(&[(LKVF, 3, LEGACY_ENV), (LKVF, 4, LEGACY_LABEL)]),
        case(
            "testLegacyKeyValueFormat 2",
            "\nFROM scratch\nENV testkey=value\nLABEL key=value\n",
        ),
        // The official test lists lines 3 and 4 here but never compares the subrequest's
        // lines; the instructions are on lines 5 and 6.
        case(
            "testLegacyKeyValueFormat 3",
            "\nFROM scratch AS a\n\nFROM a AS b\nENV testkey value\nLABEL key value\n\nFROM a AS c\n",
        )
        .warns(&[(LKVF, 5, LEGACY_ENV), (LKVF, 6, LEGACY_LABEL)]),
        case(
            "testRedundantTargetPlatform 1",
            "\nFROM --platform=$TARGETPLATFORM scratch\n",
        )
        .warns(&[("RedundantTargetPlatform", 2, TARGET_PLATFORM)]),
        case(
            "testRedundantTargetPlatform 2",
            "\nFROM --platform=${TARGETPLATFORM} scratch\n",
        )
        .warns(&[(
            "RedundantTargetPlatform",
            2,
            "Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior",
        )]),
        case(
            "testInvalidDefaultArgInFrom 1",
            "\nARG VERSION\nFROM busybox:$VERSION\n",
        )
        .args(&[("VERSION", "latest")])
        .warns(&[(IDAIF, 3, "Default value for ARG busybox:$VERSION results in empty or invalid base image name")]),
        case("testInvalidDefaultArgInFrom 2", "\nARG IMAGE\nFROM $IMAGE\n")
            .args(&[("IMAGE", "busybox:latest")])
            .warns(&[(IDAIF, 3, "Default value for ARG $IMAGE results in empty or invalid base image name")]),
        case(
            "testInvalidDefaultArgInFrom 3",
            "\nARG SFX=\"box:\"\nFROM busy${SFX}\n",
        )
        .args(&[("SFX", "box:latest")])
        .warns(&[(IDAIF, 3, "Default value for ARG busy${SFX} results in empty or invalid base image name")]),
        case(
            "testInvalidDefaultArgInFrom 4",
            "\nARG VERSION=\"latest\"\nFROM busybox:${VERSION}\n",
        )
        .args(&[("VERSION", "latest")]),
        case(
            "testInvalidDefaultArgInFrom 5",
            "\nARG BUSYBOX_VARIANT=\"\"\nFROM busybox:stable${BUSYBOX_VARIANT}\n",
        )
        .args(&[("BUSYBOX_VARIANT", "-musl")]),
        case(
            "testInvalidDefaultArgInFrom 6",
            "\n\tARG BUSYBOX_VARIANT\n\tFROM busybox:stable${BUSYBOX_VARIANT}\n\t",
        )
        .args(&[("BUSYBOX_VARIANT", "-musl")]),
        case(
            "testFromPlatformFlagConstDisallowed 1",
            "\nFROM --platform=linux/amd64 scratch\n",
        )
        .warns(&[(
            "FromPlatformFlagConstDisallowed",
            2,
            "FROM --platform flag should not use constant value \"linux/amd64\"",
        )]),
        case(
            "testFromPlatformFlagConstDisallowed 2",
            "\nFROM --platform=linux/amd64 scratch AS my_amd64_stage\n",
        ),
        case(
            "testFromPlatformFlagConstDisallowed 3",
            "\nFROM --platform=linux/amd64 scratch AS linux\n",
        ),
    ]
}

#[test]
fn official_lint_test_cases() {
    check_all(&lint_test_cases());
}

/// The same test's progress-stream lists: a build of the last stage reports only what that
/// stage and its dependencies dispatch.
#[test]
fn official_lint_test_build_warnings() {
    check_all(&[
        case(
            "testAllTargetUnmarshal (build of 'second')",
            "\nFROM scratch AS first\nCOPY $foo .\n\nFROM scratch AS second\nCOPY $bar .\n",
        )
        .target("second")
        .warns(&[(UV, 6, "Usage of undefined variable '$bar'")]),
        case(
            "testLegacyKeyValueFormat 3 (build of 'c')",
            "\nFROM scratch AS a\n\nFROM a AS b\nENV testkey value\nLABEL key value\n\nFROM a AS c\n",
        )
        .target("c"),
    ]);
}

/// Every rule's description and URL as the official test expects them.
#[test]
fn official_descriptions_and_urls() {
    let expected = [
        (
            IDD,
            "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.",
            "invalid-definition-description",
        ),
        (
            CIF,
            "Attempting to Copy file that is excluded by .dockerignore",
            "copy-ignored-file",
        ),
        (
            SECRETS,
            "Sensitive data should not be used in the ARG or ENV commands",
            "secrets-used-in-arg-or-env",
        ),
        (
            UV,
            "Variables should be defined before their use",
            "undefined-var",
        ),
        (
            FAC,
            "The 'as' keyword should match the case of the 'from' keyword",
            "from-as-casing",
        ),
        (SNC, "Stage names should be lowercase", "stage-name-casing"),
        (
            NEC,
            "Empty continuation lines will become errors in a future release",
            "no-empty-continuation",
        ),
        (
            CIC,
            "All commands within the Dockerfile should use the same casing (either upper or lower)",
            "consistent-instruction-casing",
        ),
        (DSN, "Stage names should be unique", "duplicate-stage-name"),
        (
            RSN,
            "Reserved words should not be used as stage names",
            "reserved-stage-name",
        ),
        (
            JAR,
            "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
            "json-args-recommended",
        ),
        (
            MD,
            "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
            "maintainer-deprecated",
        ),
        (
            UAIF,
            "FROM command must use declared ARGs",
            "undefined-arg-in-from",
        ),
        (
            WRP,
            "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
            "workdir-relative-path",
        ),
        (
            MID,
            "Multiple instructions of the same type should not be used in the same stage",
            "multiple-instructions-disallowed",
        ),
        (
            LKVF,
            "Legacy key/value format with whitespace separator should not be used",
            "legacy-key-value-format",
        ),
        (
            RTP,
            "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
            "redundant-target-platform",
        ),
        (
            IDAIF,
            "Default value for global ARG results in an empty or invalid base image name",
            "invalid-default-arg-in-from",
        ),
        (
            FPFCD,
            "FROM --platform flag should not use a constant value",
            "from-platform-flag-const-disallowed",
        ),
        // These two from their documentation pages (the test file predates them).
        (
            EPC,
            "Protocol in EXPOSE instruction should be lowercase",
            "expose-proto-casing",
        ),
        (
            EIF,
            "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
            "expose-invalid-format",
        ),
    ];
    for (name, description, page) in expected {
        let rule = (crate::lint::OFFICIAL.iter())
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("{name} not in the catalogue"));
        assert_eq!(rule.description, description, "{name}");
        assert_eq!(
            rule.url,
            format!("https://docs.docker.com/go/dockerfile/rule/{page}/"),
            "{name}"
        );
    }
}
