//! Git source words (`https://host/o/r.git#ref:subdir`, `git@host:o/r.git`, `git://…`, the
//! `?ref=&subdir=` query form), read the way the official frontend's `dfgitutil` reads them.

use std::collections::BTreeMap;

/// A parsed git source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitRef {
    /// The URL without fragment and query: what `git` fetches.
    pub remote: String,
    /// `host[:port]/path`, the part of the source identifier before `#`.
    pub id: String,
    /// Whether the remote is reached over SSH (`git@host:…`, `ssh://…`).
    pub ssh: bool,
    /// Branch, tag or commit; empty for the default branch.
    pub reference: String,
    /// Directory inside the repository.
    pub subdir: String,
    /// Commit the checkout must be (`?checksum=` / `?commit=`).
    pub checksum: String,
    /// `?keep-git-dir=`.
    pub keep_git_dir: Option<bool>,
    /// `?submodules=`.
    pub submodules: Option<bool>,
    /// `?mtime=`: `checkout` or `commit`.
    pub mtime: String,
    /// `?fetch-by-commit`: trust the checksum as the commit to fetch.
    pub fetch_by_commit: bool,
}

/// What a source word is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not a git source (a path or a plain HTTP URL).
    NotGit,
    /// A git source.
    Git(GitRef),
}

/// Reads `word` as a git source. `any_http` also takes http(s) URLs without the `.git` suffix
/// (ADD `--keep-git-dir` says the URL is a repository). Errors are for words that are git
/// sources but malformed (a bad query).
pub fn parse(word: &str, any_http: bool) -> Result<Parsed, String> {
    if word.starts_with("./") || word.starts_with("../") || word.starts_with("github.com/") {
        // `github.com/o/r` is a git context only where a path is impossible; for ADD it is a path.
        return Ok(Parsed::NotGit);
    }
    let (scheme, rest) = match scheme_of(word) {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, word),
    };
    let (without_fragment, fragment) = match rest.split_once('#') {
        Some((a, f)) => (a, f),
        None => (rest, ""),
    };
    let (location, query) = match without_fragment.split_once('?') {
        Some((a, q)) => (a, q),
        None => (without_fragment, ""),
    };
    let (host, path, ssh) = match scheme.as_deref() {
        Some(s @ ("http" | "https" | "git" | "ssh")) => {
            let (authority, path) = match location.find('/') {
                Some(i) => (&location[..i], &location[i..]),
                None => (location, ""),
            };
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if matches!(s, "http" | "https") && !any_http && !path.ends_with(".git") {
                return Ok(Parsed::NotGit);
            }
            (host.to_string(), path.to_string(), s == "ssh")
        }
        Some(_) => return Ok(Parsed::NotGit),
        None => match scp_style(location) {
            Some((host, path)) => (host.to_string(), path.to_string(), true),
            None => return Ok(Parsed::NotGit),
        },
    };
    let remote_end = word.len() - rest.len() + location.len();
    let mut git = GitRef {
        remote: word[..remote_end].to_string(),
        id: format!("{host}{}", crate::llb::path::clean(&format!("/{path}"))),
        ssh,
        ..GitRef::default()
    };
    if !fragment.is_empty() {
        let (reference, subdir) = fragment.split_once(':').unwrap_or((fragment, ""));
        git.reference = reference.to_string();
        git.subdir = subdir.to_string();
    }
    load_query(&mut git, query)?;
    Ok(Parsed::Git(git))
}

/// Reads a build context spec (`context=`, git named contexts) as a git source: as
/// [`parse`], and `github.com/o/r` (no scheme, deprecated but still a context in 1.26) is
/// `https://github.com/o/r`, with or without `.git`.
pub fn parse_context(spec: &str) -> Result<Parsed, String> {
    match spec.strip_prefix("github.com/") {
        Some(_) => parse(&format!("https://{spec}"), true),
        None => parse(spec, false),
    }
}

/// `scheme` (lowercased) and the rest after `://`, when the word starts with `[a-zA-Z0-9]+://`.
fn scheme_of(word: &str) -> Option<(String, &str)> {
    let (scheme, rest) = word.split_once("://")?;
    (!scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| (scheme.to_ascii_lowercase(), rest))
}

/// `user@host:path` (SCP-like SSH): user `[A-Za-z0-9_-]+`, host `[A-Za-z0-9.-]+`.
fn scp_style(location: &str) -> Option<(&str, &str)> {
    let (user, rest) = location.split_once('@')?;
    let (host, path) = rest.split_once(':')?;
    let user_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let host_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    (!user.is_empty() && user.bytes().all(user_ok) && !host.is_empty() && host.bytes().all(host_ok))
        .then_some((host, path))
}

fn load_query(git: &mut GitRef, query: &str) -> Result<(), String> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        values.entry(unescape(k)).or_default().push(unescape(v));
    }
    let (mut tag, mut branch) = (String::new(), String::new());
    for (key, list) in &values {
        let value = match list.as_slice() {
            [v] if v.is_empty()
                && matches!(
                    key.as_str(),
                    "submodules" | "keep-git-dir" | "fetch-by-commit"
                ) =>
            {
                None
            }
            [v] if v.is_empty() => return Err(format!("query {key:?} has no value")),
            [v] => Some(v.as_str()),
            _ => return Err(format!("query {key:?} has multiple values")),
        };
        let text = value.unwrap_or_default();
        let flag = |what: &str| match value {
            None => Ok(true),
            Some(v) => go_bool(v).ok_or_else(|| format!("invalid {what} value: {v:?}")),
        };
        match key.as_str() {
            "ref" => set_once(&mut git.reference, text, "ref")?,
            "tag" => tag = text.to_string(),
            "branch" => branch = text.to_string(),
            "subdir" => set_once(&mut git.subdir, text, "subdir")?,
            "checksum" | "commit" => git.checksum = text.to_string(),
            "keep-git-dir" => git.keep_git_dir = Some(flag("keep-git-dir")?),
            "submodules" => git.submodules = Some(flag("submodules")?),
            "mtime" if matches!(text, "checkout" | "commit") => git.mtime = text.to_string(),
            "mtime" => {
                return Err(format!(
                    "invalid mtime value: {text:?} (must be \"checkout\" or \"commit\")"
                ));
            }
            "fetch-by-commit" => git.fetch_by_commit = flag("fetch-by-commit")?,
            _ => return Err(format!("unexpected query {key:?}")),
        }
    }
    if !tag.is_empty() {
        if !tag.starts_with("refs/tags/") {
            tag = format!("refs/tags/{tag}");
        }
        set_once(&mut git.reference, &tag, "ref")?;
    }
    if !branch.is_empty() {
        if !tag.is_empty() {
            return Err("branch conflicts with tag".into());
        }
        if !branch.starts_with("refs/heads/") {
            branch = format!("refs/heads/{branch}");
        }
        set_once(&mut git.reference, &branch, "ref")?;
    }
    Ok(())
}

fn set_once(slot: &mut String, value: &str, what: &str) -> Result<(), String> {
    if !slot.is_empty() && slot != value {
        return Err(format!("{what} conflicts: {slot:?} vs {value:?}"));
    }
    *slot = value.to_string();
    Ok(())
}

/// Go's `strconv.ParseBool`.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Query unescaping: `+` is a space, `%XX` a byte (malformed escapes stay as written).
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(word: &str) -> GitRef {
        match parse(word, false) {
            Ok(Parsed::Git(g)) => g,
            other => panic!("{word}: {other:?}"),
        }
    }

    #[test]
    fn a_github_context_without_scheme_is_git() {
        let Ok(Parsed::Git(g)) = parse_context("github.com/o/r#main:sub") else {
            panic!("not git");
        };
        assert_eq!(
            (g.remote.as_str(), g.id.as_str()),
            ("https://github.com/o/r", "github.com/o/r")
        );
        assert_eq!((g.reference.as_str(), g.subdir.as_str()), ("main", "sub"));
        assert_eq!(parse_context("src/app"), Ok(Parsed::NotGit));
    }

    #[test]
    fn not_git() {
        for word in [
            "src/app",
            "./x.git",
            "../r.git",
            "github.com/o/r",
            "https://example.com/a.tar.gz",
            "http://host/repo",
            "ftp://host/r.git",
            "file.git",
            "a:b",
        ] {
            assert_eq!(parse(word, false), Ok(Parsed::NotGit), "{word}");
        }
        assert!(matches!(
            parse("https://host/repo#main", true),
            Ok(Parsed::Git(_))
        ));
    }

    #[test]
    fn url_forms() {
        let g = git("https://github.com/moby/buildkit.git#v0.14.1:docs");
        assert_eq!(g.remote, "https://github.com/moby/buildkit.git");
        assert_eq!(g.id, "github.com/moby/buildkit.git");
        assert_eq!(
            (g.reference.as_str(), g.subdir.as_str()),
            ("v0.14.1", "docs")
        );
        assert!(!g.ssh);

        let g = git("git@github.com:o/r.git#main");
        assert_eq!(
            (g.remote.as_str(), g.id.as_str()),
            ("git@github.com:o/r.git", "github.com/o/r.git")
        );
        assert_eq!(g.reference, "main");
        assert!(g.ssh);

        let g = git("ssh://git@host:2222/o/r.git");
        assert_eq!((g.id.as_str(), g.ssh), ("host:2222/o/r.git", true));
        let g = git("git://host/x/../r.git/");
        assert_eq!(g.id, "host/r.git");
        let g = git("http://127.0.0.1:8000/repo.git#:sub/dir");
        assert_eq!((g.reference.as_str(), g.subdir.as_str()), ("", "sub/dir"));
    }

    #[test]
    fn query_form() {
        let g = git("https://github.com/o/r.git?tag=v1&subdir=docs&keep-git-dir&submodules=false");
        assert_eq!(g.remote, "https://github.com/o/r.git");
        assert_eq!(
            (g.reference.as_str(), g.subdir.as_str()),
            ("refs/tags/v1", "docs")
        );
        assert_eq!((g.keep_git_dir, g.submodules), (Some(true), Some(false)));
        let g = git("https://h/r.git?branch=dev");
        assert_eq!(g.reference, "refs/heads/dev");
        // The commit is a checksum of the default branch, not a ref: a short one must be
        // checked by the daemon ("expected checksum to match"), as 1.26 sends it.
        let g = git("https://h/r.git?commit=abc123");
        assert_eq!((g.reference.as_str(), g.checksum.as_str()), ("", "abc123"));
        let g = git("https://h/r.git?ref=a%2Fb#a/b");
        assert_eq!(g.reference, "a/b");
        let g = git("https://h/r.git?mtime=commit&fetch-by-commit");
        assert_eq!((g.mtime.as_str(), g.fetch_by_commit), ("commit", true));
        let g = git("https://h/r.git?fetch-by-commit=false");
        assert!(!g.fetch_by_commit);
    }

    #[test]
    fn query_errors() {
        let cases = [
            ("https://h/r.git?ref=", "query \"ref\" has no value"),
            (
                "https://h/r.git?ref=a&ref=b",
                "query \"ref\" has multiple values",
            ),
            ("https://h/r.git?x=1", "unexpected query \"x\""),
            ("https://h/r.git#main?ref=dev", ""),
            (
                "https://h/r.git?ref=dev#main",
                "ref conflicts: \"main\" vs \"dev\"",
            ),
            (
                "https://h/r.git?tag=a&branch=b",
                "branch conflicts with tag",
            ),
            (
                "https://h/r.git?keep-git-dir=maybe",
                "invalid keep-git-dir value: \"maybe\"",
            ),
            (
                "https://h/r.git?mtime=now",
                "invalid mtime value: \"now\" (must be \"checkout\" or \"commit\")",
            ),
            (
                "https://h/r.git?fetch-by-commit=x",
                "invalid fetch-by-commit value: \"x\"",
            ),
        ];
        for (word, want) in cases {
            match parse(word, false) {
                Err(e) => assert_eq!(e, want, "{word}"),
                Ok(p) => assert!(want.is_empty(), "{word}: {p:?}"),
            }
        }
    }
}
