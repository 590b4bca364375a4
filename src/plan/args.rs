//! Build arguments: the automatic ones and the global (before the first FROM) scope.

use crate::image::Platform;
use crate::shell::EnvGetter;

/// An ordered variable list for expansion; later entries win.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars(pub Vec<(String, String)>);

impl Vars {
    /// Sets `key`, replacing an earlier value in place.
    pub fn set(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.0.push((key.to_string(), value.to_string())),
        }
    }

    /// The value of `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }
}

impl EnvGetter for Vars {
    fn get(&self, name: &str) -> Option<&str> {
        self.value(name)
    }

    fn keys(&self) -> Vec<String> {
        self.0.iter().map(|(k, _)| k.clone()).collect()
    }
}

/// The global ARG scope: automatic args plus those declared before the first FROM.
#[derive(Clone, Debug, Default)]
pub struct GlobalArgs {
    /// Values usable in FROM lines (automatic args and declared global args).
    pub vars: Vars,
    /// Declared global ARGs with their resolved value (`None`: declared without value).
    pub declared: Vec<(String, Option<String>)>,
}

impl GlobalArgs {
    /// The value a stage gets when it re-declares `ARG key` without a default.
    pub fn value_for_stage(&self, key: &str) -> Option<&str> {
        self.declared
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
            .or_else(|| {
                automatic_names()
                    .contains(&key)
                    .then(|| self.vars.value(key))
                    .flatten()
            })
    }
}

fn automatic_names() -> [&'static str; 11] {
    [
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDOSVERSION",
        "BUILDARCH",
        "BUILDVARIANT",
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETOSVERSION",
        "TARGETARCH",
        "TARGETVARIANT",
        "TARGETSTAGE",
    ]
}

/// The args BuildKit defines in the global scope (`BUILDPLATFORM`, `TARGETARCH`, ...).
pub fn automatic_args(build: &Platform, target: &Platform, target_stage: &str) -> Vars {
    let mut v = Vars::default();
    for (prefix, p) in [("BUILD", build), ("TARGET", target)] {
        // 1.26: TARGETPLATFORM carries an OS version (`windows(10.0.20348)/amd64`),
        // BUILDPLATFORM does not; both have an OSVERSION arg.
        let shown = if prefix == "TARGET" {
            p.format_all()
        } else {
            p.to_string()
        };
        v.set(&format!("{prefix}PLATFORM"), &shown);
        v.set(&format!("{prefix}OS"), &p.os);
        v.set(
            &format!("{prefix}OSVERSION"),
            p.os_version.as_deref().unwrap_or(""),
        );
        v.set(&format!("{prefix}ARCH"), &p.architecture);
        v.set(
            &format!("{prefix}VARIANT"),
            p.variant.as_deref().unwrap_or(""),
        );
    }
    v.set("TARGETSTAGE", target_stage);
    v
}
