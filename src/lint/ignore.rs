//! `.dockerignore` matching as moby's patternmatcher does it, for `CopyIgnoredFile`.
//!
//! BuildKit applies the patterns itself when it sends the context; stager only needs to know
//! whether a COPY source is one of the excluded paths, and only when no pattern is an exception
//! (`!`), which the official rule skips too.

/// The non-exception patterns of a `.dockerignore`, or nothing when exceptions make the
/// answer depend on the files themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IgnoreMatcher {
    patterns: Vec<Vec<char>>,
}

impl IgnoreMatcher {
    /// A matcher for cleaned patterns; `None` when there are none or some are exceptions.
    pub fn new(patterns: &[String]) -> Option<IgnoreMatcher> {
        if patterns.is_empty() || patterns.iter().any(|p| p.starts_with('!')) {
            return None;
        }
        Some(IgnoreMatcher {
            patterns: patterns.iter().map(|p| p.chars().collect()).collect(),
        })
    }

    /// Whether `path` (slash-separated, relative to the context) or one of its parent
    /// directories is excluded.
    pub fn matches_or_parent_matches(&self, path: &str) -> bool {
        let parent = match path.rfind('/') {
            Some(i) => &path[..i],
            None => ".",
        };
        self.patterns.iter().any(|p| {
            glob(p, &path.chars().collect::<Vec<_>>())
                || (parent != "." && {
                    let mut prefix = String::new();
                    parent.split('/').any(|dir| {
                        if !prefix.is_empty() {
                            prefix.push('/');
                        }
                        prefix.push_str(dir);
                        glob(p, &prefix.chars().collect::<Vec<_>>())
                    })
                })
        })
    }

    /// Whether some pattern excludes every entry of the context root (`*`, `**`, `**/*`).
    pub fn excludes_root(&self) -> bool {
        self.patterns.iter().any(|p| {
            let s: String = p.iter().collect();
            matches!(s.as_str(), "*" | "**" | "**/*")
        })
    }
}

/// [`glob`] over strings, for other modules that match `.dockerignore`-style patterns.
pub(crate) fn glob_str(pattern: &str, path: &str) -> bool {
    glob(
        &pattern.chars().collect::<Vec<_>>(),
        &path.chars().collect::<Vec<_>>(),
    )
}

/// patternmatcher's glob: `*` and `?` stop at `/`, `**` (and `**/`) cross directories,
/// `[...]` classes, `\` escapes; the whole path must match.
fn glob(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => {
            let mut rest = &p[2..];
            if rest.first() == Some(&'/') {
                rest = &rest[1..];
                // `**/x`: x at any depth, including the top.
                return (0..=s.len()).any(|i| (i == 0 || s[i - 1] == '/') && glob(rest, &s[i..]));
            }
            (0..=s.len()).any(|i| glob(rest, &s[i..]))
        }
        Some('*') => {
            let rest = &p[1..];
            for i in 0..=s.len() {
                if glob(rest, &s[i..]) {
                    return true;
                }
                if s.get(i) == Some(&'/') {
                    break;
                }
            }
            false
        }
        Some('?') => s.first().is_some_and(|c| *c != '/') && glob(&p[1..], &s[1..]),
        Some('[') => match class(&p[1..], s.first().copied()) {
            Some((true, used)) => glob(&p[1 + used..], &s[1..]),
            _ => false,
        },
        Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && glob(&p[2..], &s[1..]),
        Some(c) => s.first() == Some(c) && glob(&p[1..], &s[1..]),
    }
}

/// Matches `c` against the class starting after `[`: (matched, chars used including `]`).
fn class(p: &[char], c: Option<char>) -> Option<(bool, usize)> {
    let c = c.filter(|c| *c != '/')?;
    let (negate, mut i) = match p.first() {
        Some('^' | '!') => (true, 1),
        _ => (false, 0),
    };
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        let lo = if p[i] == '\\' && i + 1 < p.len() {
            i += 1;
            p[i]
        } else {
            p[i]
        };
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|h| *h != ']') {
            let hi = p[i + 2];
            matched |= lo <= c && c <= hi;
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(patterns: &[&str]) -> IgnoreMatcher {
        let p: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        IgnoreMatcher::new(&p).expect("matcher")
    }

    #[test]
    fn patterns() {
        let ig = m(&[
            "secret.txt",
            "*.log",
            "build",
            "**/node_modules",
            "docs/**/*.md",
            "a?c",
            "[xy]z",
        ]);
        for yes in [
            "secret.txt",
            "x.log",
            "build",
            "build/out/bin",
            "node_modules",
            "web/node_modules/x",
            "docs/a/b.md",
            "docs/b.md",
            "abc",
            "xz",
        ] {
            assert!(ig.matches_or_parent_matches(yes), "{yes}");
        }
        for no in [
            "src/secret.txt.bak",
            "logs/x",
            "dir/x.log",
            "abbc",
            "zz",
            "docs/b.txt",
        ] {
            assert!(!ig.matches_or_parent_matches(no), "{no}");
        }
        assert!(IgnoreMatcher::new(&["a".into(), "!b".into()]).is_none());
        assert!(IgnoreMatcher::new(&[]).is_none());
        assert!(m(&["**"]).excludes_root());
        assert!(!m(&["a"]).excludes_root());
    }
}
