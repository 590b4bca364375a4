//! The change set: context files added, edited or removed since the last build, and the
//! question BuildKit's content checksum answers for a step reading the context: do the files
//! it selects differ?

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use super::cache_map::Selector;
use super::selection::{LocalFilter, clean, selects};

/// Files changed since the last build, relative to the context (and to local named contexts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    files: BTreeSet<String>,
    named: BTreeMap<String, BTreeSet<String>>,
}

impl ChangeSet {
    /// A change set of paths relative to the context (`./a`, `/a` and `a` are the same file).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(paths: I) -> ChangeSet {
        ChangeSet {
            files: paths
                .into_iter()
                .map(|p| clean(p.as_ref()))
                .filter(|p| !p.is_empty())
                .collect(),
            named: BTreeMap::new(),
        }
    }

    /// Adds a path of the local named context `context` (`--build-context NAME=DIR`).
    pub fn insert_named(&mut self, context: &str, path: &str) {
        let p = clean(path);
        if !p.is_empty() {
            self.named.entry(context.to_string()).or_default().insert(p);
        }
    }

    /// Adds one path.
    pub fn insert(&mut self, path: &str) {
        let p = clean(path);
        if !p.is_empty() {
            self.files.insert(p);
        }
    }

    /// The paths, sorted.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(String::as_str)
    }

    /// Whether `path` is one of them.
    pub fn contains(&self, path: &str) -> bool {
        self.files.contains(path)
    }
}

/// Lists the context's files (relative paths) when a filter changed between the builds and
/// files that did not change may have entered or left a selection.
pub type ListFiles<'a> = &'a dyn Fn() -> Vec<String>;

/// The change set with the context listing, asked for at most once.
pub(crate) struct Context<'a> {
    pub changes: &'a ChangeSet,
    list: ListFiles<'a>,
    listed: OnceCell<Vec<String>>,
}

impl<'a> Context<'a> {
    pub fn new(changes: &'a ChangeSet, list: ListFiles<'a>) -> Context<'a> {
        Context {
            changes,
            list,
            listed: OnceCell::new(),
        }
    }

    /// The files whose change makes the selected content differ between the old build
    /// (`old` filter) and the new one (`new` filter); empty when it is the same.
    /// `named`: the local named context read, `None` for the build context.
    pub fn differing(
        &self,
        named: Option<&str>,
        new: &LocalFilter,
        old: &LocalFilter,
        selectors: &[Selector],
    ) -> Vec<String> {
        let inside = |f: &LocalFilter, file: &str| {
            f.sends(file) && selectors.iter().any(|s| selects(s, file))
        };
        let changed: Vec<&str> = match named {
            None => self.changes.files().collect(),
            Some(name) => (self.changes.named.get(name).into_iter().flatten())
                .map(String::as_str)
                .collect(),
        };
        let mut hits: Vec<String> = (changed.into_iter())
            .filter(|file| inside(new, file) || inside(old, file))
            .map(str::to_string)
            .collect();
        // Only the build context is listed; a named context's filters come from the same flags
        // in both builds.
        if new != old && named.is_none() {
            let listed = self.listed.get_or_init(|| (self.list)());
            hits.extend(
                listed
                    .iter()
                    .filter(|file| !self.changes.contains(file))
                    .filter(|file| inside(new, file) != inside(old, file))
                    .cloned(),
            );
            hits.sort();
            hits.dedup();
        }
        hits
    }
}
