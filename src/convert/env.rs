//! The environment of a stage's LLB state, with BuildKit's `EnvList` order.
//!
//! Setting a key moves it to the end (the image config's `Env` instead replaces in place), so
//! ExecOp env order can differ from the config's; both orders are reproduced.

use crate::shell::EnvGetter;

/// Ordered `KEY=VALUE` pairs; a re-set key moves to the end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvList(Vec<(String, String)>);

impl EnvList {
    /// Sets `key` to `value`, moving it to the end.
    pub fn add(&mut self, key: &str, value: &str) {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_string(), value.to_string()));
    }

    /// The value of `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Bytes of all `KEY=VALUE` entries.
    pub fn byte_len(&self) -> usize {
        self.0.iter().map(|(k, v)| k.len() + v.len() + 1).sum()
    }

    /// `KEY=VALUE` strings in order, as ExecOp `meta.env` wants them.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }
}

impl EnvGetter for EnvList {
    fn get(&self, name: &str) -> Option<&str> {
        self.value(name)
    }

    fn keys(&self) -> Vec<String> {
        self.0.iter().map(|(k, _)| k.clone()).collect()
    }
}

/// Splits `KEY=VALUE`; a bare `KEY` has an empty value.
pub fn split_entry(entry: &str) -> (&str, &str) {
    entry.split_once('=').unwrap_or((entry, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_keys_move_to_the_end() {
        let mut env = EnvList::default();
        env.add("PATH", "/bin");
        env.add("HOME", "/root");
        env.add("FOO", "1");
        env.add("PATH", "/x:/bin");
        assert_eq!(env.to_strings(), ["HOME=/root", "FOO=1", "PATH=/x:/bin"]);
    }
}
