//! Rule names and the longer details the tables share.

pub const IDD: &str = "InvalidDefinitionDescription";
pub const CIF: &str = "CopyIgnoredFile";
pub const SECRETS: &str = "SecretsUsedInArgOrEnv";
pub const UV: &str = "UndefinedVar";
pub const FAC: &str = "FromAsCasing";
pub const SNC: &str = "StageNameCasing";
pub const CIC: &str = "ConsistentInstructionCasing";
pub const UAIF: &str = "UndefinedArgInFrom";
pub const MID: &str = "MultipleInstructionsDisallowed";
pub const LKVF: &str = "LegacyKeyValueFormat";
pub const IDAIF: &str = "InvalidDefaultArgInFrom";

pub const LEGACY_ENV: &str =
    "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format";
pub const LEGACY_LABEL: &str =
    "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format";
pub const TARGET_PLATFORM: &str = "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior";
pub const MAINTAINER: &str = "Maintainer instruction is deprecated in favor of using label";

pub const MULTIPLE_ENTRYPOINT: &str = "Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used";
pub const MULTIPLE_CMD: &str = "Multiple CMD instructions should not be used in the same stage because only the last one will be used";
pub const MULTIPLE_HEALTHCHECK: &str = "Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used";

pub const NEC: &str = "NoEmptyContinuation";
pub const DSN: &str = "DuplicateStageName";
pub const RSN: &str = "ReservedStageName";
pub const JAR: &str = "JSONArgsRecommended";
pub const MD: &str = "MaintainerDeprecated";
pub const WRP: &str = "WorkdirRelativePath";
pub const RTP: &str = "RedundantTargetPlatform";
pub const FPFCD: &str = "FromPlatformFlagConstDisallowed";
pub const EPC: &str = "ExposeProtoCasing";
pub const EIF: &str = "ExposeInvalidFormat";
