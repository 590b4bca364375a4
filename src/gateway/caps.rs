//! Capabilities the daemon announces in `Ping`; stager only emits what they allow.

use std::collections::BTreeSet;

use crate::proto::moby::buildkit::v1::apicaps::ApiCap;

/// The enabled capability IDs of one kind (gateway API or LLB).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    enabled: BTreeSet<String>,
}

impl Caps {
    /// Keeps the enabled caps of a Ping answer.
    pub fn from_api(caps: &[ApiCap]) -> Caps {
        Caps {
            enabled: caps
                .iter()
                .filter(|c| c.enabled)
                .map(|c| c.id.clone())
                .collect(),
        }
    }

    /// Whether `id` is present and enabled.
    pub fn has(&self, id: &str) -> bool {
        self.enabled.contains(id)
    }

    /// All enabled IDs, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.enabled.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_caps_are_absent() {
        let caps = Caps::from_api(&[
            ApiCap {
                id: "mergeop".into(),
                enabled: false,
                ..ApiCap::default()
            },
            ApiCap {
                id: "file.base".into(),
                enabled: true,
                ..ApiCap::default()
            },
        ]);
        assert!(caps.has("file.base"));
        assert!(!caps.has("mergeop"));
        assert!(!caps.has("exec.mount.tmpfs.size"));
    }
}
