//! Docker/OCI image config JSON, with the Docker extensions (Healthcheck, OnBuild, Shell) that
//! `oci-spec` drops. Field names, order and omission follow BuildKit's `DockerOCIImage`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Platform;

/// The PATH BuildKit puts in an image config that has none (Linux).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An empty JSON object, the value type of `ExposedPorts` and `Volumes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// An image config as returned in `containerimage.config`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Creation time; BuildKit clears it and lets the exporter set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `MAINTAINER`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// CPU architecture.
    #[serde(default)]
    pub architecture: String,
    /// Operating system.
    #[serde(default)]
    pub os: String,
    /// OS version (Windows).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub os_version: String,
    /// OS features (Windows).
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    /// The runtime config.
    #[serde(default)]
    pub config: ImageConfig,
    /// Layer diff IDs of the base; the exporter appends the new ones.
    #[serde(default)]
    pub rootfs: RootFs,
    /// One entry per instruction that changed the image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// The `config` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    /// `USER`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// `EXPOSE`.
    #[serde(default, skip_serializing_if = "opt_map_empty")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    /// `ENV`, in order.
    #[serde(default, skip_serializing_if = "opt_vec_empty")]
    pub env: Option<Vec<String>>,
    /// `ENTRYPOINT`.
    #[serde(default, skip_serializing_if = "opt_vec_empty")]
    pub entrypoint: Option<Vec<String>>,
    /// `CMD`.
    #[serde(default, skip_serializing_if = "opt_vec_empty")]
    pub cmd: Option<Vec<String>>,
    /// `VOLUME`.
    #[serde(default, skip_serializing_if = "opt_map_empty")]
    pub volumes: Option<BTreeMap<String, Empty>>,
    /// `WORKDIR`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// `LABEL`.
    #[serde(default, skip_serializing_if = "opt_map_empty")]
    pub labels: Option<BTreeMap<String, String>>,
    /// `STOPSIGNAL`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    /// Set by CMD/ENTRYPOINT, as BuildKit does for Docker compatibility.
    #[serde(default, skip_serializing_if = "is_false")]
    pub args_escaped: bool,
    /// `HEALTHCHECK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    /// `ONBUILD` triggers.
    #[serde(default, skip_serializing_if = "opt_vec_empty")]
    pub on_build: Option<Vec<String>>,
    /// `SHELL`.
    #[serde(default, skip_serializing_if = "opt_vec_empty")]
    pub shell: Option<Vec<String>>,
}

/// `HEALTHCHECK` settings; durations in nanoseconds like Go's `time.Duration`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    /// `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", cmd]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    /// `--interval`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    /// `--timeout`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    /// `--start-period`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    /// `--start-interval`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    /// `--retries`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

/// The `rootfs` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type", default = "layers")]
    pub kind: String,
    /// Layer digests.
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl Default for RootFs {
    fn default() -> Self {
        RootFs {
            kind: layers(),
            diff_ids: Vec::new(),
        }
    }
}

/// One `history` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Creation time (only with SOURCE_DATE_EPOCH; the exporter fills it otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The instruction, e.g. `RUN /bin/sh -c make # buildkit`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    /// Author.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// `buildkit.dockerfile.v0` for entries stager adds (not copied into each of them).
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub comment: Cow<'static, str>,
    /// True when the instruction made no layer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub empty_layer: bool,
}

impl Image {
    /// The config BuildKit starts a `FROM scratch` stage with.
    pub fn scratch(platform: &Platform) -> Image {
        let mut img = Image {
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            variant: platform.variant.clone().unwrap_or_default(),
            ..Image::default()
        };
        img.config.working_dir = "/".into();
        if platform.os != "windows" {
            img.config.env = Some(vec![format!("PATH={DEFAULT_PATH}")]);
        }
        img
    }

    /// Parses a config as the registry (or `ResolveImageConfig`) returns it; unknown fields are dropped.
    pub fn from_json(bytes: &[u8]) -> Result<Image, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Serialises as BuildKit does (compact JSON).
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs and BTreeMaps cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The platform this config declares.
    pub fn platform(&self) -> Platform {
        Platform::new(
            &self.os,
            &self.architecture,
            (!self.variant.is_empty()).then_some(self.variant.as_str()),
        )
    }

    /// The environment as a list of `KEY=VALUE`.
    pub fn env(&self) -> &[String] {
        self.config.env.as_deref().unwrap_or(&[])
    }

    /// Sets `key` in the config env, replacing it in place when present (BuildKit's `addEnv`).
    pub fn set_env(&mut self, key: &str, value: &str) {
        let env = self.config.env.get_or_insert_with(Vec::new);
        let entry = format!("{key}={value}");
        match env.iter_mut().find(|e| env_key(e) == key) {
            Some(slot) => *slot = entry,
            None => env.push(entry),
        }
    }

    /// Appends a history entry the way BuildKit's `commitToHistory` does.
    pub fn add_history(&mut self, created_by: String, with_layer: bool) {
        self.history.push(History {
            created_by,
            comment: Cow::Borrowed("buildkit.dockerfile.v0"),
            empty_layer: !with_layer,
            ..History::default()
        });
    }
}

/// The key of a `KEY=VALUE` env entry.
pub fn env_key(entry: &str) -> &str {
    entry.split_once('=').map_or(entry, |(k, _)| k)
}

fn layers() -> String {
    "layers".into()
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn opt_vec_empty<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_none_or(|v| v.is_empty())
}

fn opt_map_empty<K, V>(m: &Option<BTreeMap<K, V>>) -> bool {
    m.as_ref().is_none_or(|m| m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_config_matches_buildkit() {
        let img = Image::scratch(&Platform::new("linux", "amd64", None));
        let json = String::from_utf8(img.to_json()).unwrap();
        assert_eq!(
            json,
            r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":[]}}"#
        );
    }

    #[test]
    fn reads_a_docker_config_and_drops_unknown_fields() {
        let raw = br#"{"architecture":"amd64","os":"linux","config":{"Hostname":"","Env":["PATH=/bin","A=1"],"Cmd":["sh"],"ExposedPorts":{"80/tcp":{}}},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created":"2020-01-01T00:00:00Z","created_by":"x"}]}"#;
        let img = Image::from_json(raw).unwrap();
        assert_eq!(img.env(), ["PATH=/bin", "A=1"]);
        assert_eq!(img.config.cmd.as_deref(), Some(&["sh".to_string()][..]));
        assert_eq!(img.rootfs.diff_ids, ["sha256:aa"]);
        assert_eq!(img.history.len(), 1);
    }

    #[test]
    fn set_env_replaces_in_place() {
        let mut img = Image::default();
        img.set_env("A", "1");
        img.set_env("B", "2");
        img.set_env("A", "3");
        assert_eq!(img.env(), ["A=3", "B=2"]);
    }
}
