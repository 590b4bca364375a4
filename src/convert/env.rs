//! The environment of a stage's LLB state, with BuildKit's `EnvList` order, and the other
//! per-stage lists that instructions look keys up in.
//!
//! Setting a key moves it to the end (the image config's `Env` instead replaces in place), so
//! ExecOp env order can differ from the config's; both orders are reproduced. Every list keeps
//! a key -> position index so that a Dockerfile of 50,000 `ARG`s or `ENV`s stays linear; the
//! indexes are only looked up, never iterated, so output order is the lists' own.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::image::Image;
use crate::shell::EnvGetter;

/// Ordered `KEY=VALUE` pairs; a re-set key moves to the end.
///
/// A moved key leaves a hole behind; holes are squeezed out once they outnumber the live
/// entries, so walking the list stays proportional to its length.
#[derive(Clone, Debug, Default)]
pub struct EnvList {
    entries: Vec<Option<(String, String)>>,
    index: HashMap<String, usize>,
    /// Sum of `key.len() + value.len() + 1` over the live entries.
    bytes: usize,
    /// The `KEY=VALUE` strings, made once and shared by every RUN until a key is set.
    rendered: OnceCell<Arc<[String]>>,
}

impl EnvList {
    /// Sets `key` to `value`, moving it to the end.
    pub fn add(&mut self, key: &str, value: &str) {
        self.rendered.take();
        if let Some(pos) = self.index.remove(key)
            && let Some((k, v)) = self.entries.get_mut(pos).and_then(Option::take)
        {
            self.bytes -= k.len() + v.len() + 1;
        }
        self.bytes += key.len() + value.len() + 1;
        self.index.insert(key.to_string(), self.entries.len());
        self.entries
            .push(Some((key.to_string(), value.to_string())));
        if self.entries.len() > 2 * self.index.len() + 16 {
            self.compact();
        }
    }

    /// Drops the holes and renumbers the index.
    fn compact(&mut self) {
        self.entries.retain(Option::is_some);
        for (pos, entry) in self.entries.iter().enumerate() {
            if let Some((k, _)) = entry
                && let Some(slot) = self.index.get_mut(k)
            {
                *slot = pos;
            }
        }
    }

    /// The value of `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        let pos = *self.index.get(key)?;
        self.entries.get(pos)?.as_ref().map(|(_, v)| v.as_str())
    }

    /// The live pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        (self.entries.iter().flatten()).map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Bytes of all `KEY=VALUE` entries.
    pub fn byte_len(&self) -> usize {
        self.bytes
    }

    /// `KEY=VALUE` strings in order, as ExecOp `meta.env` wants them; RUNs between two
    /// settings share one list.
    pub fn to_strings(&self) -> Arc<[String]> {
        let rendered = self.rendered.get_or_init(|| {
            (self.iter())
                .map(|(k, v)| {
                    let mut entry = String::with_capacity(k.len() + 1 + v.len());
                    entry.push_str(k);
                    entry.push('=');
                    entry.push_str(v);
                    entry
                })
                .collect()
        });
        Arc::clone(rendered)
    }
}

impl PartialEq for EnvList {
    fn eq(&self, other: &EnvList) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for EnvList {}

impl EnvGetter for EnvList {
    fn get(&self, name: &str) -> Option<&str> {
        self.value(name)
    }

    fn keys(&self) -> Vec<String> {
        self.iter().map(|(k, _)| k.to_string()).collect()
    }
}

/// The ARGs declared in a stage and its parents, each name once at its first declaration,
/// with the value of the last one (the `|N K=V` prefix of RUN history).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArgList {
    entries: Vec<(String, Option<String>)>,
    index: HashMap<String, usize>,
}

impl ArgList {
    /// Declares `key`: a new name goes to the end, a known one keeps its place.
    pub fn declare(&mut self, key: &str, value: Option<String>) {
        match self.index.get(key) {
            Some(&pos) => {
                if let Some(slot) = self.entries.get_mut(pos) {
                    slot.1 = value;
                }
            }
            None => {
                self.index.insert(key.to_string(), self.entries.len());
                self.entries.push((key.to_string(), value));
            }
        }
    }

    /// Whether `key` was declared.
    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Names and values in order of first declaration.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        (self.entries.iter()).map(|(k, v)| (k.as_str(), v.as_deref()))
    }

    /// How many names were declared.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Where each key sits in an image config's `Env`, so that ENV replaces in place without a
/// search. The config is the truth: when it changed behind the index's back (its length or
/// the entry at a position disagrees), the index is rebuilt from it.
#[derive(Clone, Debug, Default)]
pub struct ConfigEnvIndex {
    positions: HashMap<String, usize>,
    seen: usize,
}

impl ConfigEnvIndex {
    /// Sets `key` in `image`'s config env as [`Image::set_env`] does (in place when present).
    pub fn set(&mut self, image: &mut Image, key: &str, value: &str) {
        let env = image.config.env.get_or_insert_with(Vec::new);
        let fresh = self.seen == env.len()
            && (self.positions.get(key))
                .is_none_or(|&p| env.get(p).is_some_and(|e| split_entry(e).0 == key));
        if !fresh {
            self.positions.clear();
            for (pos, entry) in env.iter().enumerate() {
                self.positions
                    .entry(split_entry(entry).0.to_string())
                    .or_insert(pos);
            }
        }
        let entry = format!("{key}={value}");
        match self.positions.get(key).and_then(|&p| env.get_mut(p)) {
            Some(slot) => *slot = entry,
            None => {
                self.positions.insert(key.to_string(), env.len());
                env.push(entry);
            }
        }
        self.seen = env.len();
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
        assert_eq!(*env.to_strings(), ["HOME=/root", "FOO=1", "PATH=/x:/bin"]);
        assert_eq!(
            env.byte_len(),
            "HOME=/root".len() + "FOO=1".len() + "PATH=/x:/bin".len()
        );
        assert_eq!(env.value("PATH"), Some("/x:/bin"));
    }

    #[test]
    fn the_rendered_list_is_shared_until_a_key_is_set() {
        let mut env = EnvList::default();
        env.add("A", "1");
        let first = env.to_strings();
        assert!(Arc::ptr_eq(&first, &env.to_strings()));
        // A clone (a stage copied for another) shares it too, but sets its own keys.
        let mut other = env.clone();
        other.add("B", "2");
        assert_eq!(*other.to_strings(), ["A=1", "B=2"]);
        env.add("A", "3");
        assert_eq!(*env.to_strings(), ["A=3"]);
        assert_eq!(*first, ["A=1"]);
    }

    #[test]
    fn holes_are_squeezed_out() {
        let mut env = EnvList::default();
        env.add("KEEP", "k");
        for i in 0..1000 {
            env.add("A", &i.to_string());
            env.add("B", &i.to_string());
        }
        env.add("KEEP", "last");
        // Without compaction 2,002 slots would hold 3 live entries.
        assert!(env.entries.len() < 32, "{} slots", env.entries.len());
        assert_eq!(*env.to_strings(), ["A=999", "B=999", "KEEP=last"]);
        assert_eq!(env.keys(), ["A", "B", "KEEP"]);
        assert_eq!(env.byte_len(), 5 + 5 + 9);
    }

    #[test]
    fn args_keep_their_first_place_and_last_value() {
        let mut args = ArgList::default();
        args.declare("A", Some("1".into()));
        args.declare("B", None);
        args.declare("A", Some("2".into()));
        let got: Vec<_> = args.iter().collect();
        assert_eq!(got, [("A", Some("2")), ("B", None)]);
        assert!(args.contains("B") && !args.contains("C"));
    }

    #[test]
    fn config_env_replaces_in_place_like_set_env() {
        let mut image = Image::default();
        let mut want = image.clone();
        let mut index = ConfigEnvIndex::default();
        for (k, v) in [("A", "1"), ("B", "2"), ("A", "3"), ("C", "4"), ("B", "5")] {
            index.set(&mut image, k, v);
            want.set_env(k, v);
        }
        assert_eq!(image.env(), want.env());
        // The config changed behind the index's back: it is read again.
        image.config.env = Some(vec!["C=0".into(), "A=0".into()]);
        index.set(&mut image, "A", "9");
        assert_eq!(image.env(), ["C=0", "A=9"]);
    }
}
