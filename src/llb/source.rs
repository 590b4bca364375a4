//! Source ops: images, the client's local directories, HTTP(S) files and git repositories.
//!
//! Attributes are passed through as given (a `BTreeMap`, so they encode in key order). The caps
//! a source needs are derived from its scheme and attribute keys, the way the Go client adds them
//! while it builds the attributes.

use std::collections::BTreeMap;

use super::OpMeta;
use super::state::{State, new_vertex};
use crate::proto::pb;

impl State {
    /// An image from a registry: identifier `docker-image://<reference>`. The reference is used
    /// as given (normalising `alpine` to `docker.io/library/alpine:latest` is the caller's job).
    pub fn image(reference: &str, attrs: BTreeMap<String, String>, meta: OpMeta) -> State {
        State::source(&format!("docker-image://{reference}"), attrs, meta)
    }

    /// A directory sent by the client: identifier `local://<name>`. Typical attributes are
    /// `local.session`, `local.sharedkeyhint`, `local.followpaths` (a JSON list),
    /// `local.includepattern`, `local.excludepatterns` and `local.differ`.
    pub fn local(name: &str, attrs: BTreeMap<String, String>, meta: OpMeta) -> State {
        State::source(&format!("local://{name}"), attrs, meta)
    }

    /// Any source op by identifier (`https://…`, `git://…`, `docker-image://…`, …).
    pub fn source(identifier: &str, attrs: BTreeMap<String, String>, meta: OpMeta) -> State {
        let caps = source_caps(identifier, &attrs);
        let platform = if platform_specific(identifier) {
            meta.platform.as_deref().map(super::Platform::to_pb)
        } else {
            None
        };
        let op = pb::Op {
            platform,
            op: Some(pb::op::Op::Source(pb::SourceOp {
                identifier: identifier.to_owned(),
                attrs,
            })),
            ..pb::Op::default()
        };
        new_vertex(op, Vec::new(), meta, &caps)
    }
}

/// A git checkout, as BuildKit's Go client builds it (`llb.Git`).
#[derive(Clone, Debug, Default)]
pub struct Git {
    /// `host[:port]/path`: the identifier is `git://<id>[#<fragment>]`.
    pub id: String,
    /// `ref[:subdir]`, empty for the default branch and the whole tree.
    pub fragment: String,
    /// The URL `git` fetches (`git.fullurl`).
    pub remote: String,
    /// Keep `.git` in the checkout (`git.keepgitdir`).
    pub keep_git_dir: bool,
    /// The commit the ref must resolve to (`git.checksum`).
    pub checksum: Option<String>,
    /// Do not fetch submodules (`git.skipsubmodules`).
    pub skip_submodules: bool,
    /// Reached over SSH: the client's default SSH agent socket is mounted.
    pub ssh: bool,
    /// File modification times: `checkout` or `commit` (`git.mtime`); `None`: the daemon's.
    pub mtime: Option<String>,
    /// Fetch the checksum as the commit without resolving the ref (`git.fetchbycommit`).
    pub fetch_by_commit: bool,
}

impl State {
    /// A git repository. Like the Go client, it always names the `GIT_AUTH_HEADER` and
    /// `GIT_AUTH_TOKEN` secrets (used only when the client provides them).
    pub fn git(git: &Git, mut meta: OpMeta) -> State {
        let mut identifier = format!("git://{}", git.id);
        if !git.fragment.is_empty() {
            identifier.push('#');
            identifier.push_str(&git.fragment);
        }
        let mut attrs = BTreeMap::from([
            (
                "git.authheadersecret".to_string(),
                "GIT_AUTH_HEADER".to_string(),
            ),
            (
                "git.authtokensecret".to_string(),
                "GIT_AUTH_TOKEN".to_string(),
            ),
            ("git.fullurl".to_string(), git.remote.clone()),
        ]);
        if git.keep_git_dir {
            attrs.insert("git.keepgitdir".into(), "true".into());
        }
        if let Some(sum) = &git.checksum {
            attrs.insert("git.checksum".into(), sum.clone());
        }
        if git.skip_submodules {
            attrs.insert("git.skipsubmodules".into(), "true".into());
        }
        if let Some(mtime) = &git.mtime {
            attrs.insert("git.mtime".into(), mtime.clone());
        }
        if git.fetch_by_commit {
            attrs.insert("git.fetchbycommit".into(), "true".into());
        }
        if git.ssh {
            attrs.insert("git.mountsshsock".into(), "default".into());
            // Go scans the host key over the network when it can; the cap is required either way.
            meta.caps.push("source.git.knownsshhosts");
        }
        State::source(&identifier, attrs, meta)
    }
}

/// Only image sources depend on the target platform; Go drops the platform of the others.
fn platform_specific(identifier: &str) -> bool {
    identifier.starts_with("docker-image://") || identifier.starts_with("oci-layout://")
}

/// The caps a source needs: one for its scheme plus one per feature attribute it uses.
fn source_caps(identifier: &str, attrs: &BTreeMap<String, String>) -> Vec<&'static str> {
    let (base, by_attr): (&str, &[(&str, &str)]) = match identifier.split_once("://") {
        Some(("docker-image", _)) => ("source.image", IMAGE_ATTR_CAPS),
        Some(("local", _)) => ("source.local", LOCAL_ATTR_CAPS),
        Some(("git", _)) => ("source.git", GIT_ATTR_CAPS),
        Some(("http" | "https", _)) => ("source.http", HTTP_ATTR_CAPS),
        Some(("oci-layout", _)) => ("source.ocilayout", &[]),
        _ => return Vec::new(),
    };
    let mut caps = vec![base];
    for (key, value) in attrs {
        if base == "source.image" && key == "image.resolvemode" && value != "pull" {
            continue; // Go requires the cap only for the security-relevant "pull" mode
        }
        let hit = by_attr.iter().find(|(prefix, _)| {
            key == prefix || (prefix.ends_with('.') && key.starts_with(prefix))
        });
        if let Some((_, cap)) = hit {
            caps.push(cap);
        }
    }
    caps
}

const IMAGE_ATTR_CAPS: &[(&str, &str)] = &[
    ("image.resolvemode", "source.image.resolvemode"),
    ("image.layerlimit", "source.image.layerlimit"),
    ("image.checksum", "source.image.checksum"),
];

// `local.differ` is deliberately absent: the Dockerfile frontend does not require it.
const LOCAL_ATTR_CAPS: &[(&str, &str)] = &[
    ("local.session", "source.local.sessionid"),
    ("local.includepattern", "source.local.includepatterns"),
    ("local.followpaths", "source.local.followpaths"),
    ("local.excludepatterns", "source.local.excludepatterns"),
    ("local.sharedkeyhint", "source.local.sharedkeyhint"),
    ("local.unique", "source.local.unique"),
    ("local.metadatatransfer", "source.local.metadatatransfer"),
];

const GIT_ATTR_CAPS: &[(&str, &str)] = &[
    ("git.keepgitdir", "source.git.keepgitdir"),
    ("git.fullurl", "source.git.fullurl"),
    ("git.knownsshhosts", "source.git.knownsshhosts"),
    ("git.mountsshsock", "source.git.mountsshsock"),
    ("git.checksum", "source.git.checksum"),
    ("git.skipsubmodules", "source.git.skipsubmodules"),
    ("git.mtime", "source.git.mtime"),
    ("git.fetchbycommit", "source.git.fetchbycommit"),
];

// "soruce.http.uidgid" is BuildKit's spelling of that cap.
const HTTP_ATTR_CAPS: &[(&str, &str)] = &[
    ("http.checksum", "source.http.checksum"),
    ("http.perm", "source.http.perm"),
    ("http.uid", "soruce.http.uidgid"),
    ("http.gid", "soruce.http.uidgid"),
    ("http.authheadersecret", "source.http.auth"),
    ("http.header.", "source.http.header"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{Platform, marshal};
    use prost::Message;

    type Attrs<'a> = &'a [(&'a str, &'a str)];

    fn attrs(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
    }

    fn caps_of(s: &State) -> Vec<String> {
        let def = marshal(s, None);
        let digest = s.digest().unwrap();
        def.metadata[&digest].caps.keys().cloned().collect()
    }

    #[test]
    fn caps_from_scheme_and_attrs() {
        let cases: &[(&str, Attrs, &[&str])] = &[
            ("docker-image://alpine", &[], &["source.image"]),
            (
                "docker-image://alpine",
                &[("image.resolvemode", "default")],
                &["source.image"],
            ),
            (
                "docker-image://alpine",
                &[("image.resolvemode", "pull")],
                &["source.image", "source.image.resolvemode"],
            ),
            (
                "local://context",
                &[
                    ("local.differ", "none"),
                    ("local.followpaths", "[\"go.mod\"]"),
                    ("local.session", "s"),
                    ("local.sharedkeyhint", "context"),
                ],
                &[
                    "source.local",
                    "source.local.followpaths",
                    "source.local.sessionid",
                    "source.local.sharedkeyhint",
                ],
            ),
            (
                "git://github.com/moby/buildkit#v0.8.0",
                &[("git.fullurl", "https://github.com/moby/buildkit")],
                &["source.git", "source.git.fullurl"],
            ),
            (
                "https://example.com/a.tar",
                &[
                    ("http.checksum", "sha256:00"),
                    ("http.header.accept", "x"),
                    ("http.uid", "1"),
                ],
                &[
                    "soruce.http.uidgid",
                    "source.http",
                    "source.http.checksum",
                    "source.http.header",
                ],
            ),
            ("weird://x", &[], &[]),
        ];
        for (id, kv, want) in cases {
            let s = State::source(id, attrs(kv), OpMeta::default());
            assert_eq!(caps_of(&s), *want, "{id}");
        }
    }

    #[test]
    fn only_image_sources_carry_the_platform() {
        let meta = OpMeta {
            platform: Some(std::sync::Arc::new(Platform {
                os: "linux".into(),
                architecture: "arm64".into(),
                variant: Some("v8".into()),
                os_version: None,
            })),
            ..OpMeta::default()
        };
        for (id, has_platform) in [
            ("docker-image://alpine", true),
            ("oci-layout://store/x", true),
            ("local://context", false),
            ("https://example.com/x", false),
            ("git://github.com/a/b", false),
        ] {
            let s = State::source(id, BTreeMap::new(), meta.clone());
            let def = marshal(&s, None);
            let op = pb::Op::decode(def.def[0].as_slice()).unwrap();
            assert_eq!(op.platform.is_some(), has_platform, "{id}");
            assert_eq!(op.constraints, Some(pb::WorkerConstraints::default()));
            if let Some(p) = op.platform {
                assert_eq!(
                    (p.os.as_str(), p.architecture.as_str(), p.variant.as_str()),
                    ("linux", "arm64", "v8")
                );
            }
        }
    }

    #[test]
    fn git_sources() {
        let plain = Git {
            id: "github.com/o/r.git".into(),
            fragment: "v1:docs".into(),
            remote: "https://github.com/o/r.git".into(),
            ..Git::default()
        };
        let ssh = Git {
            remote: "git@github.com:o/r.git".into(),
            fragment: String::new(),
            keep_git_dir: true,
            checksum: Some("abc".into()),
            skip_submodules: true,
            ssh: true,
            ..plain.clone()
        };
        let cases: [(&Git, &str, &[&str], &[&str]); 2] = [
            (
                &plain,
                "git://github.com/o/r.git#v1:docs",
                &["git.authheadersecret", "git.authtokensecret", "git.fullurl"],
                &["source.git", "source.git.fullurl"],
            ),
            (
                &ssh,
                "git://github.com/o/r.git",
                &[
                    "git.authheadersecret",
                    "git.authtokensecret",
                    "git.checksum",
                    "git.fullurl",
                    "git.keepgitdir",
                    "git.mountsshsock",
                    "git.skipsubmodules",
                ],
                &[
                    "source.git",
                    "source.git.checksum",
                    "source.git.fullurl",
                    "source.git.keepgitdir",
                    "source.git.knownsshhosts",
                    "source.git.mountsshsock",
                    "source.git.skipsubmodules",
                ],
            ),
        ];
        for (git, id, keys, caps) in cases {
            let s = State::git(git, OpMeta::default());
            let op = pb::Op::decode(marshal(&s, None).def[0].as_slice()).unwrap();
            let Some(pb::op::Op::Source(src)) = op.op else {
                panic!("not a source");
            };
            assert_eq!(src.identifier, id);
            assert_eq!(src.attrs.keys().collect::<Vec<_>>(), *keys);
            assert_eq!(caps_of(&s), *caps);
        }
    }

    #[test]
    fn image_and_local_identifiers() {
        let i = State::image("alpine:3", BTreeMap::new(), OpMeta::default());
        let l = State::local("context", BTreeMap::new(), OpMeta::default());
        for (s, want) in [(i, "docker-image://alpine:3"), (l, "local://context")] {
            let op = pb::Op::decode(marshal(&s, None).def[0].as_slice()).unwrap();
            match op.op {
                Some(pb::op::Op::Source(src)) => assert_eq!(src.identifier, want),
                other => panic!("not a source: {other:?}"),
            }
        }
    }
}
