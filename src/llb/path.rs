//! Lexical path handling of the Go client (`path.Clean`, `normalizePath`), so file actions carry
//! the same paths, and therefore the same digests, as the official frontend's.

/// Go's `normalizePath` with `/` as the working directory.
pub(crate) fn normalize(p: &str, keep_slash: bool) -> String {
    keep_trailing(join_root(&clean(p)), p, keep_slash)
}

/// Keeps a trailing `/` or `/.` of `original` on the cleaned `out`, as Go's `normalizePath`.
pub(crate) fn keep_trailing(mut out: String, original: &str, keep_slash: bool) -> String {
    if keep_slash {
        if original.ends_with('/') && !out.ends_with('/') {
            out.push('/');
        } else if original.ends_with("/.") {
            if out != "/" {
                out.push('/');
            }
            out.push('.');
        }
    }
    out
}

pub(crate) fn join_root(p: &str) -> String {
    if p.starts_with('/') {
        p.to_owned()
    } else {
        clean(&format!("/{p}"))
    }
}

/// Go's `path.Clean`: lexical, `/`-separated.
pub(crate) fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_and_normalize_like_go() {
        let cases = [
            ("", ".", "/"),
            ("a/b/../c", "a/c", "/a/c"),
            ("/../x", "/x", "/x"),
            ("../x", "../x", "/x"),
            ("./a//b/", "a/b", "/a/b"),
            ("/", "/", "/"),
        ];
        for (input, cleaned, normalized) in cases {
            assert_eq!(clean(input), cleaned, "{input}");
            assert_eq!(normalize(input, false), normalized, "{input}");
        }
        let keep = [
            ("dir/", "/dir/"),
            ("/", "/"),
            ("a/.", "/a/."),
            ("/.", "/."),
            ("x", "/x"),
        ];
        for (input, want) in keep {
            assert_eq!(normalize(input, true), want, "{input}");
        }
    }
}
