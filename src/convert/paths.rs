//! Path rules of the official frontend: cleaning, WORKDIR joins, COPY destinations.

/// Go `path.Clean` for slash paths (the LLB builder's, so both layers agree).
pub fn clean(p: &str) -> String {
    crate::llb::path::clean(p)
}

/// `path.Join(parent, p)` when `p` is relative, then cleaned; keeps a trailing `/` or `/.` when asked.
pub fn normalize(parent: &str, p: &str, keep_slash: bool) -> String {
    let parent = if parent.is_empty() { "/" } else { parent };
    let joined = if p.is_empty() {
        parent.to_string()
    } else if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{parent}/{p}")
    };
    crate::llb::path::keep_trailing(clean(&joined), p, keep_slash)
}

/// BuildKit's `NormalizeWorkdir` on Linux: a relative `p` is joined to `parent` and cleaned, an
/// absolute one is kept as written (`/app/` keeps its slash in the image config and the exec's
/// cwd; only the WORKDIR's mkdir path is cleaned, by the LLB client).
pub fn workdir(parent: &str, p: &str) -> String {
    let parent = match parent {
        "" => "/".to_string(),
        abs if abs.starts_with('/') => abs.to_string(),
        rel => clean(&format!("/{rel}")),
    };
    if p.is_empty() {
        parent
    } else if p.starts_with('/') {
        p.to_string()
    } else {
        clean(&format!("{parent}/{p}"))
    }
}

/// The absolute COPY destination for `dest` under working directory `workdir`.
pub fn copy_dest(workdir: &str, dest: &str) -> String {
    if dest.starts_with('/') {
        normalize("/", dest, true)
    } else {
        let dest = if dest.is_empty() || dest == "." {
            "./"
        } else {
            dest
        };
        normalize(workdir, dest, true)
    }
}

/// A COPY source inside its root: absolute, cleaned, `..` cannot climb out.
pub fn copy_source(src: &str) -> String {
    clean(&format!("/{src}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(clean("/a/../../b/./c/"), "/b/c");
        assert_eq!(clean("a/.."), ".");
        assert_eq!(normalize("/app", "sub", false), "/app/sub");
        assert_eq!(normalize("/app", "/abs/../x", false), "/x");
        assert_eq!(workdir("/app", "/abs/../x/"), "/abs/../x/");
        assert_eq!(workdir("/app/", "sub/"), "/app/sub");
        assert_eq!(workdir("", ""), "/");
        assert_eq!(workdir("rel", "x"), "/rel/x");
        assert_eq!(workdir("/app/", ""), "/app/");
        assert_eq!(copy_dest("/app", "."), "/app/");
        assert_eq!(copy_dest("/app", "b/"), "/app/b/");
        assert_eq!(copy_dest("/app", "b"), "/app/b");
        assert_eq!(copy_dest("/", "/x/."), "/x/.");
        assert_eq!(copy_dest("/", "/"), "/");
        assert_eq!(copy_source("../../etc/passwd"), "/etc/passwd");
        assert_eq!(copy_source("."), "/");
        assert_eq!(copy_source("dir/"), "/dir");
    }
}
