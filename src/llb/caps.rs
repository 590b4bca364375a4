//! The LLB capabilities each BuildKit release announces in `Ping`, for converting offline as if
//! for a given daemon.
//!
//! The table is BuildKit's `solver/pb/caps.go` (`Caps.Init` with `Enabled: true`) at each
//! `v0.N.0` tag from v0.8 to v0.32: no cap was ever removed, so a release announces every cap
//! whose first minor version is at most its own. Caps that are declared but never initialised
//! (`file.copy.modestring`) are announced by no daemon and are not listed.

use std::collections::BTreeSet;

/// The minor version of the newest BuildKit in [`SINCE`] (v0.32, dockerfile frontend 1.26).
pub const CURRENT_MINOR: u32 = 32;

/// `(cap, first v0.N that announces it)`, sorted by version then name.
pub const SINCE: &[(&str, u32)] = &[
    ("constraints", 8),
    ("exec.cgroup", 8),
    ("exec.meta.base", 8),
    ("exec.meta.network", 8),
    ("exec.meta.proxyenv", 8),
    ("exec.meta.security", 8),
    ("exec.meta.security.devices.v1", 8),
    ("exec.meta.setsdefaultpath", 8),
    ("exec.mount.bind", 8),
    ("exec.mount.bind.readwrite-nooutput", 8),
    ("exec.mount.cache", 8),
    ("exec.mount.cache.sharing", 8),
    ("exec.mount.secret", 8),
    ("exec.mount.selector", 8),
    ("exec.mount.ssh", 8),
    ("exec.mount.tmpfs", 8),
    ("file.base", 8),
    ("file.rm.wildcard", 8),
    ("meta.description", 8),
    ("meta.exportcache", 8),
    ("meta.ignorecache", 8),
    ("platform", 8),
    ("soruce.http.uidgid", 8),
    ("source.buildop.llbfilename", 8),
    ("source.git", 8),
    ("source.git.fullurl", 8),
    ("source.git.httpauth", 8),
    ("source.git.keepgitdir", 8),
    ("source.git.knownsshhosts", 8),
    ("source.git.mountsshsock", 8),
    ("source.http", 8),
    ("source.http.checksum", 8),
    ("source.http.perm", 8),
    ("source.image", 8),
    ("source.image.resolvemode", 8),
    ("source.local", 8),
    ("source.local.excludepatterns", 8),
    ("source.local.followpaths", 8),
    ("source.local.includepatterns", 8),
    ("source.local.sessionid", 8),
    ("source.local.sharedkeyhint", 8),
    ("source.local.unique", 8),
    ("cache.gha", 9),
    ("file.copy.includeexcludepatterns", 9),
    ("source.git.subdir", 9),
    ("source.local.differ", 9),
    ("diffop", 10),
    ("exec.meta.cgroup.parent", 10),
    ("exec.meta.ulimit", 10),
    ("exec.mount.tmpfs.size", 10),
    ("exec.secretenv", 10),
    ("file.rm.nofollowsymlink", 10),
    ("mergeop", 10),
    ("cache.azblob", 11),
    ("cache.s3", 11),
    ("exporter.image.annotations", 11),
    ("exporter.image.attestations", 11),
    ("exporter.sourcedateepoch", 11),
    ("source.image.layerlimit", 11),
    ("source.ocilayout", 11),
    ("source.policy", 11),
    ("exec.mount.cache.content", 13),
    ("exporter.multiple", 13),
    ("file.copy.alwaysreplaceexistingdestpaths", 14),
    ("exec.validexitcode", 17),
    ("gc.freespacefilter", 17),
    ("file.symlink.create", 19),
    ("exec.meta.cdi", 20),
    ("history.filter", 20),
    ("exporter.session", 21),
    ("source.http.auth", 21),
    ("source.http.header", 21),
    ("source.local.metadatatransfer", 21),
    ("source.git.checksum", 22),
    ("source.git.skipsubmodules", 24),
    ("source.image.checksum", 25),
    ("file.copy.requiredpaths", 26),
    ("source.git.signatureverify", 26),
    ("source.policy.session", 26),
    ("source.http.signatureverify", 28),
    ("source.imageblob", 28),
    ("source.git.mtime", 29),
    ("source.git.bundle", 30),
    ("source.git.checkoutbundle", 30),
    ("source.git.fetchbycommit", 30),
    ("exec.meta.linux.resources", 31),
    ("exec.meta.network.proxy", 31),
    ("passthroughop", 31),
];

/// The caps a BuildKit `v0.minor` announces (`minor` below 8 gets v0.8's, the oldest known).
pub fn announced_by(minor: u32) -> BTreeSet<String> {
    let minor = minor.max(8);
    SINCE
        .iter()
        .filter(|(_, since)| *since <= minor)
        .map(|(cap, _)| (*cap).to_string())
        .collect()
}

/// The minor version of a BuildKit release written `v0.8`, `0.17.1` or `v0.32.2`.
pub fn parse_version(v: &str) -> Option<u32> {
    let v = v.strip_prefix('v').unwrap_or(v);
    let mut parts = v.split('.');
    if parts.next()? != "0" {
        return None;
    }
    let minor = parts.next()?.parse().ok()?;
    match parts.next() {
        None => Some(minor),
        Some(patch) if patch.parse::<u32>().is_ok() && parts.next().is_none() => Some(minor),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_grow_and_parse() {
        let old = announced_by(8);
        let now = announced_by(CURRENT_MINOR);
        assert_eq!(old.len(), 42);
        assert_eq!(now.len(), 88);
        assert!(old.is_subset(&now));
        assert!(!old.contains("mergeop") && now.contains("mergeop"));
        assert!(!announced_by(16).contains("exec.validexitcode"));
        assert!(announced_by(17).contains("exec.validexitcode"));
        assert!(!now.contains("file.copy.modestring"));
        assert_eq!(announced_by(3), old);
        assert_eq!(parse_version("v0.8"), Some(8));
        assert_eq!(parse_version("0.17.1"), Some(17));
        assert_eq!(parse_version("v0.32.2"), Some(32));
        for bad in ["", "v1.0", "v0", "v0.x", "v0.8.1.2", "v0.8.x"] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
    }
}
