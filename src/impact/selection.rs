//! Which context files a step reads: the files the build context sends (`.dockerignore`
//! excludes with `!` exceptions, include patterns, follow paths) and the files a copy or mount
//! selects from what was sent (path, wildcard, `--exclude`/include patterns).
//!
//! Paths here are relative to the context, slash-separated, cleaned (`src/app.js`).

use super::cache_map::{Selector, has_wildcard};
use super::graph::Vertex;
use crate::lint::glob_str;

/// moby's patternmatcher: patterns in order, `!` exceptions, a match of a parent directory
/// counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Patterns {
    patterns: Vec<(bool, String)>,
}

impl Patterns {
    /// Patterns as written in `.dockerignore` (cleaned; `!` marks an exception).
    pub fn new(list: &[String]) -> Patterns {
        let patterns = list
            .iter()
            .map(|p| match p.strip_prefix('!') {
                Some(rest) => (true, clean(rest)),
                None => (false, clean(p)),
            })
            .filter(|(_, p)| !p.is_empty())
            .collect();
        Patterns { patterns }
    }

    /// No pattern at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// patternmatcher's `MatchesOrParentMatches`.
    pub fn matches(&self, path: &str) -> bool {
        let parents: Vec<&str> = path.split('/').collect();
        let mut matched = false;
        for (exception, pattern) in &self.patterns {
            // An exception can only undo a match, a pattern only make one.
            if *exception != matched {
                continue;
            }
            let hit = glob_str(pattern, path)
                || (1..parents.len()).any(|n| glob_str(pattern, &parents[..n].join("/")));
            if hit {
                matched = !exception;
            }
        }
        matched
    }
}

/// The files a local source sends: its attributes as written in the LLB.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LocalFilter {
    exclude: Patterns,
    include: Patterns,
    follow: Vec<String>,
}

impl LocalFilter {
    /// The filter of a `local://` source op.
    pub fn of(v: &Vertex) -> LocalFilter {
        let list = |key: &str| -> Vec<String> {
            v.attr(key)
                .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
                .unwrap_or_default()
        };
        LocalFilter {
            exclude: Patterns::new(&list("local.excludepatterns")),
            include: Patterns::new(&list("local.includepattern")),
            follow: list("local.followpaths").iter().map(|p| clean(p)).collect(),
        }
    }

    /// Whether the source sends `file`.
    pub fn sends(&self, file: &str) -> bool {
        if self.exclude.matches(file) {
            return false;
        }
        if !self.include.is_empty() && !self.include.matches(file) {
            return false;
        }
        self.follow.is_empty()
            || self.follow.iter().any(|f| {
                let sel = Selector {
                    path: format!("/{f}"),
                    wildcard: has_wildcard(f),
                    include: Vec::new(),
                    exclude: Vec::new(),
                };
                selects(&sel, file)
            })
    }
}

/// Whether `file` is in the selection, or is a directory above it (whose removal or addition
/// changes it too).
pub(crate) fn selects(sel: &Selector, file: &str) -> bool {
    let want: Vec<&str> = sel.path.split('/').filter(|c| !c.is_empty()).collect();
    let have: Vec<&str> = file.split('/').filter(|c| !c.is_empty()).collect();
    let same = |w: &str, h: &str| {
        if sel.wildcard { glob_str(w, h) } else { w == h }
    };
    if have.len() < want.len() {
        return have.iter().zip(&want).all(|(h, w)| same(w, h));
    }
    if !want.iter().zip(&have).all(|(w, h)| same(w, h)) {
        return false;
    }
    let rest = have[want.len()..].join("/");
    if rest.is_empty() {
        return true;
    }
    if !sel.include.is_empty() && !Patterns::new(&sel.include).matches(&rest) {
        return false;
    }
    sel.exclude.is_empty() || !Patterns::new(&sel.exclude).matches(&rest)
}

/// A path cleaned and made relative: `./a//b/` -> `a/b`, `/` -> ``.
pub(crate) fn clean(p: &str) -> String {
    super::cache_map::clean_abs(p)
        .trim_start_matches('/')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(path: &str) -> Selector {
        Selector {
            path: path.into(),
            wildcard: has_wildcard(path),
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }

    #[test]
    fn dockerignore_with_exceptions() {
        let p = Patterns::new(&["*.md".into(), "!README.md".into(), "build".into()]);
        assert!(p.matches("NOTES.md"));
        assert!(!p.matches("README.md"));
        assert!(p.matches("build/out/x"));
        assert!(!p.matches("src/NOTES.md"));
        assert!(!p.matches("src/a.js"));
    }

    #[test]
    fn selections() {
        assert!(selects(&sel("/"), "src/a.js"));
        assert!(selects(&sel("/package.json"), "package.json"));
        assert!(!selects(&sel("/package.json"), "package-lock.json"));
        assert!(selects(&sel("/src"), "src/deep/a.js"));
        assert!(selects(&sel("/src/a.js"), "src"));
        assert!(selects(&sel("/src/*.js"), "src/a.js"));
        assert!(!selects(&sel("/src/*.js"), "src/a.ts"));
        assert!(!selects(&sel("/src/*.js"), "lib/a.js"));
        let mut s = sel("/");
        s.exclude = vec!["*.md".into()];
        assert!(!selects(&s, "README.md"));
        assert!(selects(&s, "a.js"));
    }
}
