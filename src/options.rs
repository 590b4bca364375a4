//! What a build was asked for, independent of where the request came from.
//!
//! `gateway::options` fills [`BuildOptions`] from BuildKit's frontend attributes; the CLI fills it
//! from its flags. `plan` and `convert` read it and never see raw attributes.

use std::collections::{BTreeMap, BTreeSet};

use crate::image::Platform;

/// Options of one build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Name of the Dockerfile inside the `dockerfile` local (`filename`), for messages and source maps.
    pub filename: String,
    /// Stage to build (`target`); the last stage when `None`.
    pub target: Option<String>,
    /// `build-arg:NAME` values.
    pub build_args: BTreeMap<String, String>,
    /// `label:NAME` values, added to the final image only.
    pub labels: BTreeMap<String, String>,
    /// Target platform (`platform`); the build platform when `None`.
    pub target_platform: Option<Platform>,
    /// The platform of the worker (first platform of the first worker).
    pub build_platform: Platform,
    /// Several platforms were asked for (or `multi-platform=true`): progress names then start
    /// with the platform, as 1.26's do.
    pub multi_platform: bool,
    /// `no-cache`: which stages ignore the cache.
    pub no_cache: NoCache,
    /// `image-resolve-mode` (`default`, `pull` or `local`).
    pub image_resolve_mode: ResolveMode,
    /// `hostname`, or `BUILDKIT_SANDBOX_HOSTNAME`.
    pub hostname: Option<String>,
    /// `add-hosts`: host name and IP pairs, in the order given.
    pub extra_hosts: Vec<(String, String)>,
    /// `force-network-mode`.
    pub network: NetworkMode,
    /// `shm-size`: bytes of the `/dev/shm` tmpfs of every RUN (0: the daemon's default).
    pub shm_size: i64,
    /// `ulimit`: name, soft and hard limit of every RUN.
    pub ulimits: Vec<Ulimit>,
    /// `memory`, `memswap`, `cpushares`, `cpuperiod`, `cpuquota`, `cpusetcpus`, `cpusetmems`:
    /// cgroup limits of every RUN (dockerfile 1.25+), when any is set.
    pub linux_resources: Option<LinuxResources>,
    /// BuildKit session that owns the client's local directories.
    pub session_id: String,
    /// `local-sessionid:NAME` overrides of the session per local.
    pub local_sessions: BTreeMap<String, String>,
    /// Name of the local holding the build context (`context`; the gateway's `contextkey` only
    /// names the attribute of a remote context, as in 1.26).
    pub context_name: String,
    /// Patterns from `.dockerignore`.
    pub excludes: Vec<String>,
    /// `context:NAME[::PLATFORM]` named contexts: the key after `context:` and its source
    /// (`docker-image://REF`, `local:NAME`, `input:NAME`, a git or http(s) URL, ...).
    pub named_contexts: BTreeMap<String, String>,
    /// `sharedkey:localdir:KEY`: the client's cache-sharing key of a `local:` named context.
    pub context_shared_keys: BTreeMap<String, String>,
    /// `.dockerignore` patterns of the `local:` named contexts, by local name.
    pub context_excludes: BTreeMap<String, Vec<String>>,
    /// Stages that ONBUILD triggers of base images read (found after resolving them): needed
    /// besides the target's own dependencies, like BuildKit's second resolve round.
    pub trigger_stages: BTreeSet<usize>,
    /// Frontend inputs read for `input:` named contexts, by input name.
    pub inputs: BTreeMap<String, FrontendInput>,
    /// The main build context when it is not the client's local directory.
    pub main_context: Option<MainContext>,
    /// `contextsubdir`: the directory of the main context to build from (remote contexts only).
    pub context_subdir: Option<String>,
    /// The time the daemon reported for SOURCE_DATE_EPOCH's remote source (`=context`,
    /// `=<stage or named context>`): `None` before it is asked, `Some(None)` when the source
    /// has no time (SOURCE_DATE_EPOCH is then dropped, as in 1.26).
    pub source_epoch: Option<Option<i64>>,
}

/// Where a main build context that is not a local directory comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MainContext {
    /// A git repository: the `context` attribute as given (`URL#ref:subdir`, `?ref=`...).
    Git(String),
    /// A file downloaded over HTTP(S); `archive`: a tarball unpacked as the context, else the
    /// Dockerfile itself (and nothing else) is the context.
    Http {
        /// The URL.
        url: String,
        /// Whether its first bytes are a (compressed) tar archive.
        archive: bool,
    },
    /// A frontend input (`Inputs`), as its marshalled definition.
    Input(Vec<u8>),
}

/// A frontend input (`Inputs` RPC): an LLB definition and, from `input-metadata:NAME`, the
/// image config that comes with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrontendInput {
    /// The encoded `pb.Definition`.
    pub definition: Vec<u8>,
    /// The `containerimage.config` JSON, when the metadata has one.
    pub image_config: Option<Vec<u8>>,
}

/// Cgroup resource limits of RUN steps (BuildKit's `pb.LinuxResources`); zero or empty: unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinuxResources {
    /// Bytes.
    pub memory: i64,
    /// Memory plus swap in bytes, -1 for unlimited.
    pub memory_swap: i64,
    /// Relative CPU weight.
    pub cpu_shares: u64,
    /// CFS period in microseconds.
    pub cpu_period: u64,
    /// CFS quota in microseconds.
    pub cpu_quota: i64,
    /// CPUs, e.g. `0-3`.
    pub cpuset_cpus: String,
    /// Memory nodes, e.g. `0,1`.
    pub cpuset_mems: String,
}

/// One `ulimit` entry, e.g. `nofile=1024:2048`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ulimit {
    /// Resource name (`nofile`, `nproc`, ...).
    pub name: String,
    /// Soft limit.
    pub soft: i64,
    /// Hard limit.
    pub hard: i64,
}

/// Which stages `no-cache` applies to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NoCache {
    /// Use the cache everywhere.
    #[default]
    None,
    /// `no-cache=` with no value: every stage.
    All,
    /// `no-cache=a,b`: the named stages.
    Stages(BTreeSet<String>),
}

impl NoCache {
    /// Whether the stage named `name` (if any) ignores the cache.
    pub fn applies_to(&self, name: Option<&str>) -> bool {
        match self {
            NoCache::None => false,
            NoCache::All => true,
            NoCache::Stages(names) => name.is_some_and(|n| names.contains(n)),
        }
    }
}

/// How base images are resolved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResolveMode {
    /// Prefer what the daemon has (Docker) or the registry.
    #[default]
    Default,
    /// Always ask the registry.
    Pull,
    /// Only what the daemon has.
    Local,
}

impl ResolveMode {
    /// The value BuildKit uses in `image.resolvemode` and `ResolveImageConfig`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResolveMode::Default => "default",
            ResolveMode::Pull => "pull",
            ResolveMode::Local => "local",
        }
    }
}

/// The default network of RUN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// The daemon's sandbox network.
    #[default]
    Sandbox,
    /// The host's network (needs the `network.host` entitlement).
    Host,
    /// No network.
    None,
}

impl BuildOptions {
    /// Options for a build on `platform` with nothing else set.
    pub fn new(build_platform: Platform) -> BuildOptions {
        BuildOptions {
            filename: "Dockerfile".into(),
            build_platform,
            context_name: "context".into(),
            ..BuildOptions::default()
        }
    }

    /// The platform the image is built for.
    pub fn target_platform(&self) -> &Platform {
        self.target_platform
            .as_ref()
            .unwrap_or(&self.build_platform)
    }

    /// The session that owns local `name`.
    pub fn session_for(&self, name: &str) -> &str {
        self.local_sessions
            .get(name)
            .map_or(self.session_id.as_str(), String::as_str)
    }
}
