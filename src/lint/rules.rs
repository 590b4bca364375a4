//! The rule catalogue: the official frontend's rules (names, descriptions and URLs as in its
//! `ruleset.go`) and stager's multi-stage advice.

use super::{Origin, Rule, Severity};

const fn official(
    name: &'static str,
    description: &'static str,
    url: &'static str,
    severity: Severity,
) -> Rule {
    Rule {
        name,
        description,
        url,
        experimental: false,
        severity,
        origin: Origin::Official,
    }
}

const fn advice(name: &'static str, description: &'static str, severity: Severity) -> Rule {
    Rule {
        name,
        description,
        url: "",
        experimental: false,
        severity,
        origin: Origin::Stager,
    }
}

const DOCS: &str = "https://docs.docker.com/go/dockerfile/rule/";

macro_rules! url {
    ($page:literal) => {
        concat!("https://docs.docker.com/go/dockerfile/rule/", $page, "/")
    };
}

/// `FROM a AS Build`.
pub static STAGE_NAME_CASING: Rule = official(
    "StageNameCasing",
    "Stage names should be lowercase",
    url!("stage-name-casing"),
    Severity::Warning,
);
/// `FROM a as b` with an upper-case FROM.
pub static FROM_AS_CASING: Rule = official(
    "FromAsCasing",
    "The 'as' keyword should match the case of the 'from' keyword",
    url!("from-as-casing"),
    Severity::Warning,
);
/// A blank line inside a continued instruction.
pub static NO_EMPTY_CONTINUATION: Rule = official(
    "NoEmptyContinuation",
    "Empty continuation lines will become errors in a future release",
    url!("no-empty-continuation"),
    Severity::Error,
);
/// `from a` then `RUN x`.
pub static CONSISTENT_INSTRUCTION_CASING: Rule = official(
    "ConsistentInstructionCasing",
    "All commands within the Dockerfile should use the same casing (either upper or lower)",
    url!("consistent-instruction-casing"),
    Severity::Warning,
);
/// Two stages with one name.
pub static DUPLICATE_STAGE_NAME: Rule = official(
    "DuplicateStageName",
    "Stage names should be unique",
    url!("duplicate-stage-name"),
    Severity::Error,
);
/// `AS scratch`, `AS context`.
pub static RESERVED_STAGE_NAME: Rule = official(
    "ReservedStageName",
    "Reserved words should not be used as stage names",
    url!("reserved-stage-name"),
    Severity::Error,
);
/// Shell-form CMD or ENTRYPOINT.
pub static JSON_ARGS_RECOMMENDED: Rule = official(
    "JSONArgsRecommended",
    "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
    url!("json-args-recommended"),
    Severity::Info,
);
/// `MAINTAINER`.
pub static MAINTAINER_DEPRECATED: Rule = official(
    "MaintainerDeprecated",
    "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
    url!("maintainer-deprecated"),
    Severity::Warning,
);
/// `FROM alpine:$TAGG` with TAGG undeclared.
pub static UNDEFINED_ARG_IN_FROM: Rule = official(
    "UndefinedArgInFrom",
    "FROM command must use declared ARGs",
    url!("undefined-arg-in-from"),
    Severity::Warning,
);
/// The first WORKDIR of a build is relative.
pub static WORKDIR_RELATIVE_PATH: Rule = official(
    "WorkdirRelativePath",
    "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
    url!("workdir-relative-path"),
    Severity::Warning,
);
/// `ENV X=$Y` with Y undefined.
pub static UNDEFINED_VAR: Rule = official(
    "UndefinedVar",
    "Variables should be defined before their use",
    url!("undefined-var"),
    Severity::Warning,
);
/// Two CMDs in a stage.
pub static MULTIPLE_INSTRUCTIONS_DISALLOWED: Rule = official(
    "MultipleInstructionsDisallowed",
    "Multiple instructions of the same type should not be used in the same stage",
    url!("multiple-instructions-disallowed"),
    Severity::Warning,
);
/// `ENV a b`.
pub static LEGACY_KEY_VALUE_FORMAT: Rule = official(
    "LegacyKeyValueFormat",
    "Legacy key/value format with whitespace separator should not be used",
    url!("legacy-key-value-format"),
    Severity::Warning,
);
/// A base image of another platform than the stage's.
pub static INVALID_BASE_IMAGE_PLATFORM: Rule = official(
    "InvalidBaseImagePlatform",
    "Base image platform does not match expected target platform",
    "",
    Severity::Error,
);
/// `FROM --platform=$TARGETPLATFORM`.
pub static REDUNDANT_TARGET_PLATFORM: Rule = official(
    "RedundantTargetPlatform",
    "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
    url!("redundant-target-platform"),
    Severity::Info,
);
/// `ARG GITHUB_TOKEN`.
pub static SECRETS_USED_IN_ARG_OR_ENV: Rule = official(
    "SecretsUsedInArgOrEnv",
    "Sensitive data should not be used in the ARG or ENV commands",
    url!("secrets-used-in-arg-or-env"),
    Severity::Warning,
);
/// `ARG IMG` then `FROM $IMG`.
pub static INVALID_DEFAULT_ARG_IN_FROM: Rule = official(
    "InvalidDefaultArgInFrom",
    "Default value for global ARG results in an empty or invalid base image name",
    url!("invalid-default-arg-in-from"),
    Severity::Error,
);
/// `FROM --platform=linux/amd64 a AS build`.
pub static FROM_PLATFORM_FLAG_CONST_DISALLOWED: Rule = official(
    "FromPlatformFlagConstDisallowed",
    "FROM --platform flag should not use a constant value",
    url!("from-platform-flag-const-disallowed"),
    Severity::Warning,
);
/// Copying a path the `.dockerignore` excludes (experimental until Dockerfile 1.21, on since).
pub static COPY_IGNORED_FILE: Rule = official(
    "CopyIgnoredFile",
    "Attempting to Copy file that is excluded by .dockerignore",
    url!("copy-ignored-file"),
    Severity::Warning,
);
/// A comment above FROM/ARG that does not start with the name (experimental).
pub static INVALID_DEFINITION_DESCRIPTION: Rule = Rule {
    experimental: true,
    ..official(
        "InvalidDefinitionDescription",
        "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.",
        url!("invalid-definition-description"),
        Severity::Info,
    )
};
/// `EXPOSE 80/TCP`.
pub static EXPOSE_PROTO_CASING: Rule = official(
    "ExposeProtoCasing",
    "Protocol in EXPOSE instruction should be lowercase",
    url!("expose-proto-casing"),
    Severity::Warning,
);
/// `EXPOSE 127.0.0.1:80:80`.
pub static EXPOSE_INVALID_FORMAT: Rule = official(
    "ExposeInvalidFormat",
    "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
    url!("expose-invalid-format"),
    Severity::Warning,
);

/// The target is based on a compiler or SDK image.
pub static FINAL_STAGE_TOOLCHAIN: Rule = advice(
    "FinalStageToolchain",
    "The final image should not be based on a toolchain image; build in a builder stage and copy the result into a small runtime stage",
    Severity::Warning,
);
/// The whole context is copied before dependencies are installed.
pub static COPY_CONTEXT_BEFORE_INSTALL: Rule = advice(
    "CopyContextBeforeInstall",
    "Copy the dependency manifests and install dependencies before copying the rest of the sources, so that source edits keep the dependency layer cached",
    Severity::Warning,
);
/// Compilers or package-manager caches end up in the final image.
pub static BUILD_TOOLS_IN_FINAL_STAGE: Rule = advice(
    "BuildToolsInFinalStage",
    "Compilers and package-manager caches belong in a builder stage, not in the final image",
    Severity::Warning,
);
/// A stage no buildable target uses.
pub static UNUSED_STAGE: Rule = advice(
    "UnusedStage",
    "A stage that no target uses is never built",
    Severity::Warning,
);
/// A stage waits for all of another only through FROM.
pub static SERIAL_FROM_STAGE: Rule = advice(
    "SerialFromStage",
    "A stage that starts FROM another waits for all of it; COPY --from lets independent work run in parallel",
    Severity::Info,
);

/// Every official rule, in the catalogue's order.
pub static OFFICIAL: [&Rule; 22] = [
    &STAGE_NAME_CASING,
    &FROM_AS_CASING,
    &NO_EMPTY_CONTINUATION,
    &CONSISTENT_INSTRUCTION_CASING,
    &DUPLICATE_STAGE_NAME,
    &RESERVED_STAGE_NAME,
    &JSON_ARGS_RECOMMENDED,
    &MAINTAINER_DEPRECATED,
    &UNDEFINED_ARG_IN_FROM,
    &WORKDIR_RELATIVE_PATH,
    &UNDEFINED_VAR,
    &MULTIPLE_INSTRUCTIONS_DISALLOWED,
    &LEGACY_KEY_VALUE_FORMAT,
    &INVALID_BASE_IMAGE_PLATFORM,
    &REDUNDANT_TARGET_PLATFORM,
    &SECRETS_USED_IN_ARG_OR_ENV,
    &INVALID_DEFAULT_ARG_IN_FROM,
    &FROM_PLATFORM_FLAG_CONST_DISALLOWED,
    &COPY_IGNORED_FILE,
    &INVALID_DEFINITION_DESCRIPTION,
    &EXPOSE_PROTO_CASING,
    &EXPOSE_INVALID_FORMAT,
];

/// stager's own rules.
pub static ADVICE: [&Rule; 5] = [
    &FINAL_STAGE_TOOLCHAIN,
    &COPY_CONTEXT_BEFORE_INSTALL,
    &BUILD_TOOLS_IN_FINAL_STAGE,
    &UNUSED_STAGE,
    &SERIAL_FROM_STAGE,
];

/// The documentation base every official URL starts with.
pub fn docs_base() -> &'static str {
    DOCS
}

/// Whether `key` names sensitive data as BuildKit's `SecretsUsedInArgOrEnv` sees it: one of
/// its `_`-separated words is a secret word and none is an allowed one.
pub fn is_secret_key(key: &str) -> bool {
    const DENY: [&str; 10] = [
        "apikey",
        "auth",
        "credential",
        "credentials",
        "key",
        "password",
        "pword",
        "passwd",
        "secret",
        "token",
    ];
    const ALLOW: [&str; 3] = ["public", "file", "version"];
    let has = |words: &[&str]| {
        key.split('_')
            .any(|w| words.iter().any(|d| d.eq_ignore_ascii_case(w)))
    };
    has(&DENY) && !has(&ALLOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_official_pattern() {
        for rule in OFFICIAL {
            assert!(
                rule.url.is_empty() || rule.url.starts_with(docs_base()),
                "{}",
                rule.name
            );
        }
        assert_eq!(
            UNDEFINED_VAR.url,
            "https://docs.docker.com/go/dockerfile/rule/undefined-var/"
        );
    }

    #[test]
    fn secret_keys() {
        for k in [
            "GITHUB_TOKEN",
            "api_key",
            "DATABASE_PASSWORD",
            "AUTH",
            "secret_MESSAGE",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "PUBLIC_KEY",
            "KEY_FILE",
            "TOKEN_VERSION",
            "MONKEY",
            "TOKENS",
            "PATH",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
