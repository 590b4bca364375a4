//! Main build contexts that are not the client's directory: a git repository, a file or
//! tarball downloaded over HTTP(S), or a frontend input (dockerui's `initContext`).

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;

use crate::llb;
use crate::options::{BuildOptions, MainContext};

use super::gitref::{self, Parsed};

/// The file name an HTTP context is downloaded as.
pub const HTTP_FILENAME: &str = "context";

/// The main context's filesystem before `contextsubdir`: where the Dockerfile is read from.
pub fn remote_context(
    main: &MainContext,
    opts: &BuildOptions,
    llb_caps: &BTreeSet<String>,
) -> Result<llb::State, String> {
    match main {
        MainContext::Git(spec) => {
            // BUILDKIT_CONTEXT_KEEP_GIT_DIR is read like Go's strconv.ParseBool.
            let keep = opts
                .build_args
                .get("BUILDKIT_CONTEXT_KEEP_GIT_DIR")
                .and_then(|v| go_bool(v));
            // A reproducible build dates the checkout's files by the commit.
            let epoch = opts
                .build_args
                .get("SOURCE_DATE_EPOCH")
                .is_some_and(|v| !v.is_empty());
            let what = format!("git context {spec}");
            git_context(spec, keep, epoch.then_some("commit"), llb_caps, &what)
        }
        MainContext::Http { url, archive } => {
            let download = http_source(url);
            if !archive {
                return Ok(download);
            }
            let copy = llb::CopyOpts {
                attempt_unpack: true,
                ..llb::CopyOpts::default()
            };
            let actions =
                llb::FileActions::new().copy(&download, &format!("/{HTTP_FILENAME}"), "/", copy);
            Ok(llb::State::scratch().file(actions, llb::OpMeta::default()))
        }
        MainContext::Input(bytes) => {
            let def = crate::proto::pb::Definition::decode(bytes.as_slice())
                .map_err(|e| format!("invalid definition of input context: {e}"))?;
            llb::State::from_definition(&def)
                .map_err(|e| format!("invalid definition of input context: {e}"))
        }
    }
}

/// The main context as the build reads it: [`remote_context`] scoped to `contextsubdir`.
pub fn scoped_context(
    main: &MainContext,
    opts: &BuildOptions,
    llb_caps: &BTreeSet<String>,
) -> Result<llb::State, String> {
    let state = remote_context(main, opts, llb_caps)?;
    Ok(match &opts.context_subdir {
        None => state,
        Some(dir) => {
            let copy = llb::CopyOpts {
                dir_copy_contents: true,
                ..llb::CopyOpts::default()
            };
            let actions = llb::FileActions::new().copy(&state, dir, "/", copy);
            llb::State::scratch().file(actions, llb::OpMeta::default())
        }
    })
}

/// The download of an HTTP(S) context, before it is known to be a tarball.
pub fn http_source(url: &str) -> llb::State {
    let attrs = BTreeMap::from([("http.filename".into(), HTTP_FILENAME.into())]);
    let meta = llb::OpMeta {
        name: Some("[internal] load remote build context".into()),
        ..llb::OpMeta::default()
    };
    llb::State::source(url, attrs, meta)
}

/// Whether `spec` names a git repository (`Ok(false)` for anything else); a git URL with a
/// bad query is an error.
pub fn is_git(spec: &str) -> Result<bool, String> {
    Ok(matches!(gitref::parse_context(spec)?, Parsed::Git(_)))
}

/// A git context (main or named): the URL's ref, subdir, checksum, submodules, `mtime` and
/// `fetch-by-commit`, with `keep` and `mtime` from the build as defaults; `what` names it in
/// errors.
pub(super) fn git_context(
    spec: &str,
    keep: Option<bool>,
    mtime: Option<&str>,
    llb_caps: &BTreeSet<String>,
    what: &str,
) -> Result<llb::State, String> {
    let Parsed::Git(git) = gitref::parse_context(spec)? else {
        return Err(format!("invalid git context {spec}"));
    };
    let mut source = super::copy::git_attrs(llb_caps, &git, None, None, what)?;
    source.keep_git_dir |= keep == Some(true);
    let mtime = (!git.mtime.is_empty())
        .then_some(git.mtime.as_str())
        .or(mtime);
    if mtime.is_some() && !llb_caps.contains("source.git.mtime") {
        return Err(format!(
            "{what}: mtime of a git source needs a BuildKit with source.git.mtime (v0.29 or later)"
        ));
    }
    source.mtime = mtime.map(str::to_string);
    let meta = llb::OpMeta {
        name: Some(format!("[internal] load git source {spec}")),
        ..llb::OpMeta::default()
    };
    Ok(llb::State::git(&source, meta))
}

/// Go's `strconv.ParseBool`.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Whether the first bytes of a download are a bzip2, gzip or xz stream or a tar header.
pub fn is_archive(header: &[u8]) -> bool {
    const MAGIC: [&[u8]; 3] = [
        &[0x42, 0x5A, 0x68],
        &[0x1F, 0x8B, 0x08],
        &[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00],
    ];
    MAGIC.iter().any(|m| header.starts_with(m)) || tar_header(header)
}

/// Go's `tar.Reader.Next` succeeding on `header`: a 512-byte block whose checksum matches.
pub(crate) fn tar_header(header: &[u8]) -> bool {
    let Some(block) = header.get(..512) else {
        return false;
    };
    let field = &block[148..156];
    let text: String = field
        .iter()
        .map(|&b| b as char)
        .filter(|c| *c != '\0' && *c != ' ')
        .collect();
    let Ok(want) = u64::from_str_radix(&text, 8) else {
        return false;
    };
    let sum: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    sum == want
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> BTreeSet<String> {
        [
            "source.git.subdir",
            "source.git.checksum",
            "source.git.skipsubmodules",
            "source.git.mtime",
            "source.git.fetchbycommit",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn source_op(state: &llb::State) -> crate::proto::pb::SourceOp {
        let def = llb::marshal(state, None);
        def.def
            .iter()
            .filter_map(|b| crate::proto::pb::Op::decode(b.as_slice()).ok())
            .find_map(|op| match op.op {
                Some(crate::proto::pb::op::Op::Source(s)) => Some(s),
                _ => None,
            })
            .expect("a source op")
    }

    #[test]
    fn git_contexts_take_ref_subdir_and_query() {
        let opts = BuildOptions::default();
        let main = MainContext::Git("https://example.com/o/r.git#v1:sub".into());
        let op = source_op(&remote_context(&main, &opts, &caps()).unwrap());
        assert_eq!(op.identifier, "git://example.com/o/r.git#v1:sub");
        assert_eq!(op.attrs["git.fullurl"], "https://example.com/o/r.git");
        assert!(!op.attrs.contains_key("git.mtime"));

        let query = "https://example.com/o/r.git?ref=v1&subdir=sub&mtime=commit&fetch-by-commit=true&checksum=abc";
        let op =
            source_op(&remote_context(&MainContext::Git(query.into()), &opts, &caps()).unwrap());
        assert_eq!(op.identifier, "git://example.com/o/r.git#v1:sub");
        assert_eq!(op.attrs["git.mtime"], "commit");
        assert_eq!(op.attrs["git.fetchbycommit"], "true");
        assert_eq!(op.attrs["git.checksum"], "abc");
    }

    #[test]
    fn build_args_keep_the_git_dir_and_date_by_commit() {
        let mut opts = BuildOptions::default();
        opts.build_args
            .insert("BUILDKIT_CONTEXT_KEEP_GIT_DIR".into(), "1".into());
        opts.build_args
            .insert("SOURCE_DATE_EPOCH".into(), "100".into());
        let main = MainContext::Git("https://example.com/o/r.git".into());
        let op = source_op(&remote_context(&main, &opts, &caps()).unwrap());
        assert_eq!(op.attrs["git.keepgitdir"], "true");
        assert_eq!(op.attrs["git.mtime"], "commit");
        // The URL's own mtime wins.
        let main = MainContext::Git("https://example.com/o/r.git?mtime=checkout".into());
        let op = source_op(&remote_context(&main, &opts, &caps()).unwrap());
        assert_eq!(op.attrs["git.mtime"], "checkout");
        // A daemon that cannot date files is told, not silently ignored.
        let old: BTreeSet<String> = caps()
            .into_iter()
            .filter(|c| c != "source.git.mtime")
            .collect();
        let err = remote_context(&main, &opts, &old).unwrap_err();
        assert!(
            err.contains("needs a BuildKit with source.git.mtime"),
            "{err}"
        );
    }

    #[test]
    fn named_git_contexts_take_mtime_from_the_url_only() {
        let spec = "https://example.com/o/r.git?mtime=commit";
        let op = source_op(&git_context(spec, None, None, &caps(), "named context x").unwrap());
        assert_eq!(op.attrs["git.mtime"], "commit");
        let err = git_context(spec, None, None, &BTreeSet::new(), "named context x").unwrap_err();
        assert!(err.starts_with("named context x: mtime"), "{err}");
    }

    #[test]
    fn http_contexts_are_the_file_or_its_unpacked_archive() {
        let opts = BuildOptions::default();
        let url = "https://example.com/ctx.tar.gz".to_string();
        let plain = MainContext::Http {
            url: url.clone(),
            archive: false,
        };
        let op = source_op(&remote_context(&plain, &opts, &caps()).unwrap());
        assert_eq!(op.identifier, url);
        assert_eq!(op.attrs["http.filename"], "context");
        let archive = MainContext::Http { url, archive: true };
        let def = llb::marshal(&remote_context(&archive, &opts, &caps()).unwrap(), None);
        let copy = def
            .def
            .iter()
            .filter_map(|b| crate::proto::pb::Op::decode(b.as_slice()).ok())
            .find_map(|op| match op.op {
                Some(crate::proto::pb::op::Op::File(f)) => f.actions.into_iter().next(),
                _ => None,
            })
            .and_then(|a| match a.action {
                Some(crate::proto::pb::file_action::Action::Copy(c)) => Some(c),
                _ => None,
            })
            .expect("a copy");
        assert_eq!((copy.src.as_str(), copy.dest.as_str()), ("/context", "/"));
        assert!(copy.attempt_unpack_docker_compatibility);
    }

    #[test]
    fn archives_are_told_from_dockerfiles() {
        assert!(is_archive(&[0x1F, 0x8B, 0x08, 0]));
        assert!(is_archive(&[0x42, 0x5A, 0x68]));
        assert!(!is_archive(b"FROM busybox\n"));
        let mut tar = vec![0u8; 512];
        tar[..4].copy_from_slice(b"file");
        let sum: u32 = tar.iter().map(|&b| u32::from(b)).sum::<u32>() + 8 * 32;
        let field = format!("{sum:06o}\0 ");
        tar[148..156].copy_from_slice(field.as_bytes());
        assert!(is_archive(&tar));
        tar[0] = b'g';
        assert!(!is_archive(&tar));
    }
}
