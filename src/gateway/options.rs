//! Frontend attributes (`BUILDKIT_FRONTEND_OPT_*`) -> typed options, in one place.
//!
//! Two levels, as ripgrep's LowArgs/HiArgs: [`attrs_from_env`] only collects `key=value` pairs;
//! [`GatewayOptions::from_attrs`] validates them and derives [`BuildOptions`] plus what only the
//! gateway needs (which local holds the Dockerfile, cache imports, forwarding state).

use std::collections::{BTreeMap, BTreeSet};

use crate::image::Platform;
use crate::options::{BuildOptions, NetworkMode, NoCache, ResolveMode, Ulimit};
use crate::proto::moby::buildkit::v1::frontend::CacheOptionsEntry;

/// Everything the gateway entry point needs to know about the request.
#[derive(Clone, Debug, Default)]
pub struct GatewayOptions {
    /// Options that shape the conversion.
    pub build: BuildOptions,
    /// The local holding the Dockerfile (`dockerfilekey`, default `dockerfile`).
    pub dockerfile_local: String,
    /// `dockerfilekey` was given: the Dockerfile comes from that local even when the context
    /// is remote or a frontend input.
    pub force_local_dockerfile: bool,
    /// The value of the context attribute (`context`, or the one `contextkey` names): a git
    /// or HTTP(S) URL makes the main context remote.
    pub context_spec: Option<String>,
    /// Cache sources for the main Solve (`cache-imports`, legacy `cache-from`).
    pub cache_imports: Vec<CacheOptionsEntry>,
    /// Set when we were reached through `# syntax` forwarding; disables forwarding again.
    pub cmdline: Option<String>,
    /// `build-arg:BUILDKIT_SYNTAX`.
    pub syntax_arg: Option<String>,
    /// `requestid`: a subrequest instead of a build.
    pub request_id: Option<String>,
    /// `platform`: the target platforms in the order given (empty: the build platform).
    pub platforms: Vec<Platform>,
    /// `multi-platform` / `BUILDKIT_MULTI_PLATFORM`: return a ref per platform even for one.
    pub multi_platform: Option<bool>,
    /// `frontend.caps`: capabilities the client needs, `+forward` suffix kept.
    pub frontend_caps: Vec<String>,
    /// `input-metadata:NAME`: JSON maps of base64 values that come with frontend inputs.
    pub input_metadata: BTreeMap<String, String>,
    /// `attest:sbom`: the frontend scans the result (and the extras asked for) itself.
    pub sbom: Option<super::sbom::Sbom>,
    /// All attributes as received, for forwarding.
    pub attrs: BTreeMap<String, String>,
}

/// Frontend capabilities stager implements (`moby.buildkit.frontend.*`).
const SUPPORTED_CAPS: &[&str] = &[
    "moby.buildkit.frontend.contexts",
    "moby.buildkit.frontend.gitquerystring",
    "moby.buildkit.frontend.inputs",
    "moby.buildkit.frontend.subrequests",
];

impl GatewayOptions {
    /// Capabilities asked for that stager lacks and that forwarding would not excuse:
    /// `(cap, forwardable)`.
    pub fn missing_caps(&self) -> Vec<(&str, bool)> {
        self.frontend_caps
            .iter()
            .map(|c| match c.strip_suffix("+forward") {
                Some(name) => (name, true),
                None => (c.as_str(), false),
            })
            .filter(|(name, _)| !SUPPORTED_CAPS.contains(name))
            .collect()
    }
}

/// An attribute that cannot be understood.
/// Shown as `invalid frontend option KEY="VALUE": REASON`, or as REASON alone when `key` is
/// empty (an error BuildKit words itself, such as the resource limits').
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", if key.is_empty() { reason.clone() } else { format!("invalid frontend option {key}={value:?}: {reason}") })]
pub struct OptionError {
    /// The attribute name.
    pub key: String,
    /// Its value.
    pub value: String,
    /// What is wrong.
    pub reason: String,
}

/// Collects `BUILDKIT_FRONTEND_OPT_<n>=key=value` variables (numbering is arbitrary).
pub fn attrs_from_env(vars: impl Iterator<Item = (String, String)>) -> BTreeMap<String, String> {
    vars.filter(|(k, _)| k.starts_with("BUILDKIT_FRONTEND_OPT_"))
        .map(|(_, v)| match v.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (v, String::new()),
        })
        .collect()
}

/// The first platform of the first worker in `BUILDKIT_WORKERS` (the JSON list of worker
/// infos BuildKit gives a gateway frontend, the same list Ping answers with), as the official
/// frontend takes its build platform.
pub fn first_worker_platform(workers: &str) -> Option<Platform> {
    let workers: serde_json::Value = serde_json::from_str(workers).ok()?;
    let platform = workers.get(0)?.get("Platforms")?.get(0)?;
    let field = |name: &str| platform.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let (os, architecture, variant) = (field("os"), field("architecture"), field("variant"));
    if os.is_empty() || architecture.is_empty() {
        return None;
    }
    Some(Platform::new(
        os,
        architecture,
        (!variant.is_empty()).then_some(variant),
    ))
}

impl GatewayOptions {
    /// Validates attributes. `build_platform` comes from the daemon's workers.
    pub fn from_attrs(
        attrs: BTreeMap<String, String>,
        build_platform: Platform,
        session_id: String,
    ) -> Result<GatewayOptions, OptionError> {
        let mut build = BuildOptions::new(build_platform);
        build.session_id = session_id;
        let mut out = GatewayOptions {
            dockerfile_local: "dockerfile".into(),
            ..GatewayOptions::default()
        };
        for (key, value) in &attrs {
            let err = |reason: &str| OptionError {
                key: key.clone(),
                value: value.clone(),
                reason: reason.to_string(),
            };
            if let Some(name) = key.strip_prefix("build-arg:") {
                build.build_args.insert(name.to_string(), value.clone());
            } else if let Some(name) = key.strip_prefix("label:") {
                build.labels.insert(name.to_string(), value.clone());
            } else if let Some(name) = key.strip_prefix("context:") {
                build.named_contexts.insert(name.to_string(), value.clone());
            } else if let Some(name) = key.strip_prefix("sharedkey:localdir:") {
                build
                    .context_shared_keys
                    .insert(name.to_string(), value.clone());
            } else if let Some(name) = key.strip_prefix("input-metadata:") {
                out.input_metadata.insert(name.to_string(), value.clone());
            } else if let Some(name) = key.strip_prefix("local-sessionid:") {
                build.local_sessions.insert(name.to_string(), value.clone());
            } else {
                match key.as_str() {
                    "filename" if !value.is_empty() => build.filename = value.clone(),
                    "target" if !value.is_empty() => build.target = Some(value.clone()),
                    "dockerfilekey" => {
                        out.force_local_dockerfile = true;
                        if !value.is_empty() {
                            out.dockerfile_local = value.clone();
                        }
                    }
                    "contextsubdir" => build.context_subdir = Some(value.clone()),
                    "platform" if !value.is_empty() => {
                        for spec in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                            let p = Platform::parse(spec).map_err(|e| err(&e.to_string()))?;
                            if !out.platforms.contains(&p) {
                                out.platforms.push(p);
                            }
                        }
                        build.target_platform = out.platforms.first().cloned();
                    }
                    "multi-platform" => {
                        out.multi_platform = Some(parse_bool(value).map_err(|r| err(&r))?)
                    }
                    "no-cache" => build.no_cache = parse_no_cache(value),
                    "image-resolve-mode" => {
                        build.image_resolve_mode = match value.as_str() {
                            "" | "default" => ResolveMode::Default,
                            "pull" => ResolveMode::Pull,
                            "local" => ResolveMode::Local,
                            _ => return Err(err("expected default, pull or local")),
                        }
                    }
                    "hostname" => build.hostname = Some(value.clone()),
                    "add-hosts" => {
                        build.extra_hosts = parse_extra_hosts(value).map_err(|r| err(&r))?
                    }
                    "force-network-mode" => {
                        build.network = match value.as_str() {
                            "" | "sandbox" => NetworkMode::Sandbox,
                            "host" => NetworkMode::Host,
                            "none" => NetworkMode::None,
                            _ => return Err(err("expected sandbox, host or none")),
                        }
                    }
                    "cache-imports" if !value.is_empty() => {
                        // Ahead of the `cache-from` entries, as the official frontend orders them.
                        let mut imports = parse_cache_imports(value).map_err(|r| err(&r))?;
                        imports.append(&mut out.cache_imports);
                        out.cache_imports = imports;
                    }
                    "cache-from" => {
                        out.cache_imports
                            .extend(value.split(',').filter(|r| !r.is_empty()).map(|r| {
                                CacheOptionsEntry {
                                    r#type: "registry".into(),
                                    attrs: BTreeMap::from([("ref".into(), r.to_string())]),
                                }
                            }));
                    }
                    "shm-size" if !value.is_empty() => {
                        build.shm_size = value
                            .parse::<i64>()
                            .ok()
                            .filter(|n| *n >= 0)
                            .ok_or_else(|| err("expected a size in bytes"))?
                    }
                    "ulimit" if !value.is_empty() => {
                        build.ulimits = parse_ulimits(value).map_err(|r| err(&r))?
                    }
                    "cmdline" => out.cmdline = Some(value.clone()),
                    "frontend.caps" => {
                        out.frontend_caps = value
                            .split(',')
                            .map(str::trim)
                            .filter(|c| !c.is_empty())
                            .map(str::to_string)
                            .collect()
                    }
                    "requestid" if !value.is_empty() => out.request_id = Some(value.clone()),
                    _ => {}
                }
            }
        }
        // `contextkey` names the attribute holding a remote context; the client's context
        // folder stays the local `context`, as in 1.26.
        let context_key = attrs.get("contextkey").map_or("context", String::as_str);
        out.context_spec = attrs.get(context_key).cloned();
        out.sbom = super::sbom::parse(&attrs).map_err(|reason| OptionError {
            key: String::new(),
            value: String::new(),
            reason,
        })?;
        build.linux_resources = super::resources::parse(&attrs).map_err(|reason| OptionError {
            key: String::new(),
            value: String::new(),
            reason,
        })?;
        if let Some(h) = build.build_args.get("BUILDKIT_SANDBOX_HOSTNAME") {
            build.hostname.get_or_insert_with(|| h.clone());
        }
        out.syntax_arg = build.build_args.get("BUILDKIT_SYNTAX").cloned();
        if let Some(v) = build.build_args.get("BUILDKIT_MULTI_PLATFORM") {
            out.multi_platform = Some(parse_bool(v).map_err(|reason| OptionError {
                key: "build-arg:BUILDKIT_MULTI_PLATFORM".into(),
                value: v.clone(),
                reason,
            })?);
        }
        if out.multi_platform == Some(false) && out.platforms.len() > 1 {
            return Err(OptionError {
                key: "multi-platform".into(),
                value: "false".into(),
                reason: "conflicting config: returning multiple target platforms is not allowed"
                    .into(),
            });
        }
        // dockerui's MultiPlatformRequested: also what decides the names' platform prefix.
        build.multi_platform = out.multi_platform.unwrap_or(false) || out.platforms.len() > 1;
        out.build = build;
        out.attrs = attrs;
        Ok(out)
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(value: &str) -> Result<bool, String> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("invalid boolean {value:?}")),
    }
}

impl GatewayOptions {
    /// Whether the result is a map of refs by platform (several platforms, or asked for).
    pub fn returns_ref_map(&self) -> bool {
        self.multi_platform.unwrap_or(false) || self.platforms.len() > 1
    }
}

fn parse_no_cache(value: &str) -> NoCache {
    let names: BTreeSet<String> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if names.is_empty() {
        NoCache::All
    } else {
        NoCache::Stages(names)
    }
}

fn parse_extra_hosts(value: &str) -> Result<Vec<(String, String)>, String> {
    value
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|entry| {
            entry
                .split_once(['=', ':'])
                .map(|(h, ip)| (h.to_string(), ip.to_string()))
                .ok_or_else(|| format!("invalid host {entry}"))
        })
        .collect()
}

/// `nofile=1024:2048,nproc=512` (docker's `--ulimit` syntax; hard defaults to soft).
fn parse_ulimits(value: &str) -> Result<Vec<Ulimit>, String> {
    const NAMES: &[&str] = &[
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    ];
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (name, limits) = entry
                .split_once('=')
                .ok_or_else(|| format!("invalid ulimit argument: {entry}"))?;
            if !NAMES.contains(&name) {
                return Err(format!("invalid ulimit type: {name}"));
            }
            let number = |s: &str| {
                s.parse::<i64>()
                    .map_err(|_| format!("invalid ulimit value: {entry}"))
            };
            let (soft, hard) = match limits.split_once(':') {
                Some((s, h)) => (number(s)?, number(h)?),
                None => (number(limits)?, number(limits)?),
            };
            if soft > hard {
                return Err(format!(
                    "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
                ));
            }
            Ok(Ulimit {
                name: name.to_string(),
                soft,
                hard,
            })
        })
        .collect()
}

fn parse_cache_imports(value: &str) -> Result<Vec<CacheOptionsEntry>, String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(rename = "Type", alias = "type")]
        kind: String,
        #[serde(rename = "Attrs", alias = "attrs", default)]
        attrs: BTreeMap<String, String>,
    }
    let entries: Vec<Entry> = serde_json::from_str(value).map_err(|e| e.to_string())?;
    Ok(entries
        .into_iter()
        .map(|e| CacheOptionsEntry {
            r#type: e.kind,
            attrs: e.attrs,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Result<GatewayOptions, OptionError> {
        let attrs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        GatewayOptions::from_attrs(attrs, Platform::new("linux", "amd64", None), "s1".into())
    }

    #[test]
    fn env_values_split_at_first_equals() {
        let attrs = attrs_from_env(
            [
                (
                    "BUILDKIT_FRONTEND_OPT_1".to_string(),
                    "build-arg:A=b=c".to_string(),
                ),
                (
                    "BUILDKIT_FRONTEND_OPT_0".to_string(),
                    "no-cache".to_string(),
                ),
                ("PATH".to_string(), "/bin".to_string()),
            ]
            .into_iter(),
        );
        assert_eq!(attrs.get("build-arg:A").map(String::as_str), Some("b=c"));
        assert_eq!(attrs.get("no-cache").map(String::as_str), Some(""));
        assert_eq!(attrs.len(), 2);
    }

    #[test]
    fn typed_options() {
        let o = opts(&[
            ("target", "build"),
            ("build-arg:V", "1"),
            ("label:l", "x"),
            ("platform", "linux/arm64"),
            ("no-cache", "a,B"),
            ("add-hosts", "h1=1.2.3.4,h2=::1"),
            ("image-resolve-mode", "pull"),
            ("dockerfilekey", "df"),
            ("cache-from", "r/c:1"),
        ])
        .unwrap();
        assert_eq!(o.build.target.as_deref(), Some("build"));
        assert_eq!(o.build.build_args["V"], "1");
        assert_eq!(o.build.labels["l"], "x");
        assert_eq!(o.build.target_platform().to_string(), "linux/arm64");
        assert!(o.build.no_cache.applies_to(Some("b")));
        assert!(!o.build.no_cache.applies_to(None));
        assert_eq!(
            o.build.extra_hosts[1],
            ("h2".to_string(), "::1".to_string())
        );
        assert_eq!(o.build.image_resolve_mode, ResolveMode::Pull);
        assert_eq!(o.dockerfile_local, "df");
        assert_eq!(o.cache_imports[0].attrs["ref"], "r/c:1");
        assert_eq!(o.build.session_for("context"), "s1");
    }

    #[test]
    fn shm_size_and_ulimits() {
        let o = opts(&[
            ("shm-size", "67108864"),
            ("ulimit", "nofile=1024:2048,nproc=512"),
        ])
        .unwrap();
        assert_eq!(o.build.shm_size, 67_108_864);
        assert_eq!(
            o.build.ulimits,
            [
                Ulimit {
                    name: "nofile".into(),
                    soft: 1024,
                    hard: 2048
                },
                Ulimit {
                    name: "nproc".into(),
                    soft: 512,
                    hard: 512
                }
            ]
        );
        assert!(opts(&[("ulimit", "bogus=1")]).is_err());
        assert!(opts(&[("ulimit", "nofile=2:1")]).is_err());
        assert!(opts(&[("shm-size", "-1")]).is_err());
    }

    #[test]
    fn several_platforms() {
        let o = opts(&[("platform", "linux/amd64,linux/arm64,linux/amd64")]).unwrap();
        assert_eq!(o.platforms.len(), 2);
        assert!(o.returns_ref_map());
        assert!(o.build.multi_platform);
        let o = opts(&[
            ("platform", "linux/arm64"),
            ("build-arg:BUILDKIT_MULTI_PLATFORM", "1"),
        ])
        .unwrap();
        assert!(o.returns_ref_map());
        assert!(o.build.multi_platform);
        let one = opts(&[("platform", "linux/arm64")]).unwrap();
        assert!(!one.returns_ref_map());
        assert!(!one.build.multi_platform);
        assert!(
            opts(&[
                ("platform", "linux/amd64,linux/arm64"),
                ("multi-platform", "false")
            ])
            .is_err()
        );
    }

    #[test]
    fn cache_imports_then_cache_from() {
        let o = opts(&[
            ("cache-from", "r/a,r/b"),
            (
                "cache-imports",
                r#"[{"Type":"local","Attrs":{"src":"/c"}}]"#,
            ),
        ])
        .unwrap();
        let kinds: Vec<&str> = o.cache_imports.iter().map(|c| c.r#type.as_str()).collect();
        assert_eq!(kinds, ["local", "registry", "registry"]);
        assert_eq!(o.cache_imports[2].attrs["ref"], "r/b");
    }

    #[test]
    fn frontend_caps() {
        let o = opts(&[(
            "frontend.caps",
            "moby.buildkit.frontend.subrequests+forward,moby.buildkit.frontend.contexts+forward,x.y",
        )])
        .unwrap();
        assert_eq!(o.missing_caps(), [("x.y", false)]);
    }

    #[test]
    fn contextkey_names_the_remote_context_attribute_not_the_local() {
        let o = opts(&[
            ("contextkey", "ctx2"),
            ("ctx2", "https://example.com/r.git"),
        ])
        .unwrap();
        assert_eq!(o.context_spec.as_deref(), Some("https://example.com/r.git"));
        assert_eq!(o.build.context_name, "context");
    }

    #[test]
    fn named_contexts_and_input_metadata() {
        let o = opts(&[
            ("context:alpine", "docker-image://busybox"),
            ("context:src::linux/arm64", "local:src"),
            ("input-metadata:base", "{}"),
            ("sharedkey:localdir:src::linux/arm64", "k1"),
        ])
        .unwrap();
        assert_eq!(o.build.context_shared_keys["src::linux/arm64"], "k1");
        let got: Vec<(&str, &str)> = o
            .build
            .named_contexts
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("alpine", "docker-image://busybox"),
                ("src::linux/arm64", "local:src")
            ]
        );
        assert_eq!(o.input_metadata["base"], "{}");
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(opts(&[("image-resolve-mode", "sometimes")]).is_err());
        assert!(opts(&[("platform", "linux//x")]).is_err());
        assert!(opts(&[("cache-imports", "not json")]).is_err());
        // Resource limits fail with BuildKit's own words.
        assert_eq!(
            opts(&[("memory", "1g")]).unwrap_err().to_string(),
            "failed to parse resource limits: invalid memory value: 1g: strconv.ParseInt: parsing \"1g\": invalid syntax"
        );
        let ok = opts(&[("memory", "1024"), ("cpusetmems", "0")]).unwrap();
        let r = ok.build.linux_resources.unwrap();
        assert_eq!((r.memory, r.cpuset_mems.as_str()), (1024, "0"));
    }
}
