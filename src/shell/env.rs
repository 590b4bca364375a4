//! The variables an expansion can see.

use std::collections::BTreeMap;

use super::chars;

/// Variables visible to expansion; `None` from `get` means unset, `Some("")` set but empty.
pub trait EnvGetter {
    /// The value of `name`, or `None` when it is unset.
    fn get(&self, name: &str) -> Option<&str>;
    /// The names of all set variables, in the order they were first defined.
    fn keys(&self) -> Vec<String>;
}

/// An ordered list of variables where later definitions win, with BuildKit's key rules.
///
/// Keys are case-sensitive unless Windows rules are on (the default when stager itself is built
/// for Windows, as with BuildKit's `NormalizeEnvKey`); then `pwd` and `PWD` are one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    entries: Vec<(String, String)>,
    index: BTreeMap<String, usize>,
    windows: bool,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    /// An empty environment with the host platform's key rules.
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
            index: BTreeMap::new(),
            windows: cfg!(windows),
        }
    }

    /// Builds an environment from `(name, value)` pairs; a repeated name keeps its last value.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut env = Self::new();
        for (name, value) in pairs {
            env.set(name, value);
        }
        env
    }

    /// Builds an environment from `NAME=value` strings; an entry without `=` is set but empty.
    pub fn from_slice<S: AsRef<str>>(entries: &[S]) -> Self {
        Self::from_pairs(entries.iter().map(|entry| {
            let entry = entry.as_ref();
            entry.split_once('=').unwrap_or((entry, ""))
        }))
    }

    /// Switches Windows key rules (case-insensitive names) on or off, merging names that now
    /// collide; the later definition wins.
    pub fn windows(self, on: bool) -> Self {
        let mut env = Self {
            entries: Vec::new(),
            index: BTreeMap::new(),
            windows: on,
        };
        for (name, value) in self.entries {
            env.set(name, value);
        }
        env
    }

    /// Sets `name` to `value`, replacing any earlier value (the name keeps its first position).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        let key = self.key(&name);
        match self.index.get(&key) {
            Some(&at) => {
                if let Some(entry) = self.entries.get_mut(at) {
                    entry.1 = value;
                }
            }
            None => {
                self.index.insert(key, self.entries.len());
                self.entries.push((name, value));
            }
        }
    }

    /// The value of `name`, or `None` when it is unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        let at = if self.windows {
            self.index.get(&chars::to_upper(name))
        } else {
            self.index.get(name)
        };
        at.and_then(|&at| self.entries.get(at))
            .map(|(_, value)| value.as_str())
    }

    fn key(&self, name: &str) -> String {
        if self.windows {
            chars::to_upper(name)
        } else {
            name.to_owned()
        }
    }
}

impl EnvGetter for Env {
    fn get(&self, name: &str) -> Option<&str> {
        Env::get(self, name)
    }

    fn keys(&self) -> Vec<String> {
        self.entries.iter().map(|(name, _)| name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let env = Env::from_slice(&["foo=bar", "car=hat", "car=bike", "empty=", "bare", "eq=a=b"]);
        let cases = [
            ("foo", Some("bar")),
            ("car", Some("bike")),
            ("empty", Some("")),
            ("bare", Some("")),
            ("eq", Some("a=b")),
            ("FOO", None),
            ("nope", None),
        ];
        for (name, want) in cases {
            assert_eq!(env.get(name), want, "{name}");
        }
        assert_eq!(EnvGetter::keys(&env), ["foo", "car", "empty", "bare", "eq"]);
    }

    #[test]
    fn windows_keys_fold_case_and_later_wins() {
        let env = Env::from_slice(&["Path=a", "PATH=b"]).windows(true);
        assert_eq!(env.get("path"), Some("b"));
        assert_eq!(EnvGetter::keys(&env), ["Path"]);
        let unix = env.clone().windows(false);
        assert_eq!(unix.get("path"), None);
        assert_eq!(unix.get("Path"), Some("b"));
    }
}
