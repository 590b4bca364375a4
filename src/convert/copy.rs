//! COPY and ADD -> one FileOp with a copy action per source.

use std::collections::BTreeMap;

use crate::instructions::{Copy, Instruction};
use crate::llb;
use crate::plan::{Base, Stage};

use super::Dispatcher;
use super::chmod::{self, Chmod};
use super::gitref::{self, GitRef, Parsed};
use super::paths::{copy_dest, copy_source};
use super::stage::{StageState, uppercase_cmd};

impl Dispatcher<'_> {
    pub(super) fn copy_step(
        &mut self,
        st: &mut StageState,
        _stage: &Stage,
        ins: &Instruction,
        c: &Copy,
        is_add: bool,
        from: Option<&Base>,
    ) -> Result<(), String> {
        let keyword = if is_add { "ADD" } else { "COPY" };
        let caps = &self.ctx.llb_caps;
        let patterns_cap = caps.contains("file.copy.includeexcludepatterns");
        if !c.excludes.is_empty() && !patterns_cap {
            return Err(format!(
                "{keyword} --exclude needs a BuildKit with file.copy.includeexcludepatterns (v0.9 or later)"
            ));
        }
        if c.parents && !patterns_cap {
            return Err(format!(
                "{keyword} --parents needs a BuildKit with file.copy.includeexcludepatterns (v0.9 or later)"
            ));
        }
        let expand = |word: &str| self.expand_checked(word, st, ins);
        // Here-document sources are inline files; the other words are paths.
        let mut inline = Vec::new();
        let mut paths = Vec::new();
        for word in &c.sources {
            let doc = crate::syntax::parse_heredoc(word)
                .ok()
                .flatten()
                .and_then(|h| c.heredocs.iter().find(|d| d.name == h.name));
            match doc {
                Some(doc) => inline.push(doc),
                None => paths.push(word),
            }
        }
        let sources = paths
            .iter()
            .map(|s| expand(s))
            .collect::<Result<Vec<_>, _>>()?;
        let dest_raw = expand(&c.dest)?;
        let chown = c.chown.as_deref().map(expand).transpose()?;
        // Expanded as in 1.26 (`--chmod=${mode}`); one that expands to nothing is no --chmod.
        let chmod = c
            .chmod
            .as_deref()
            .map(expand)
            .transpose()?
            .filter(|m| !m.is_empty());
        // As in 1.26, only the URL decides: `--keep-git-dir` on a URL that is not a repository's
        // (no `.git`) downloads it over HTTP.
        let kinds = sources
            .iter()
            .map(|s| source_kind(s))
            .collect::<Result<Vec<_>, _>>()?;
        for (src, kind) in sources.iter().zip(&kinds) {
            if from.is_none() && *kind == SourceKind::Local {
                self.check_ignored(src, is_add, ins);
            }
            if !is_add {
                match kind {
                    SourceKind::Git(_) => return Err("source can't be a git ref for COPY".into()),
                    SourceKind::Http => return Err("source can't be a URL for COPY".into()),
                    SourceKind::Local => {}
                }
            }
        }
        let checksum = c.checksum.as_deref().map(expand).transpose()?;
        if checksum.is_some() {
            if !is_add {
                return Err("checksum can't be specified for COPY".into());
            }
            if sources.len() != 1 {
                return Err("checksum can't be specified for multiple sources".into());
            }
            if kinds.contains(&SourceKind::Local) {
                return Err("checksum requires HTTP(S) or Git sources".into());
            }
        }
        let (mode, mode_str) = match chmod.as_deref().map(chmod::parse).transpose()? {
            None => (None, None),
            Some(Chmod::Octal(m)) => (Some(m), None),
            Some(Chmod::Symbolic(m)) => {
                if !chmod::daemon_applies_symbolic(caps) {
                    return Err(format!(
                        "{keyword} --chmod={m}: symbolic modes need a BuildKit v0.17 or later; use an octal mode"
                    ));
                }
                (None, Some(m))
            }
        };
        let owner = chown.as_deref().map(parse_chown);
        let dest = copy_dest(&st.workdir, &dest_raw);
        // The name is computed once: the HTTP sources and the FileOp share it.
        let shown = self
            .lexer
            .process_word(ins.original.trim(), &st.env)
            .unwrap_or_else(|_| ins.original.trim().to_string());
        let name = st.progress_name(&uppercase_cmd(&shown));

        let source_state = match from {
            None => {
                // As in the official frontend, only http(s) words stay out of the context paths.
                let local = |s: &&String| !s.starts_with("http://") && !s.starts_with("https://");
                for src in sources.iter().filter(local) {
                    self.context_paths.insert(copy_source(src));
                }
                self.context.clone()
            }
            Some(Base::Stage(i)) => {
                for src in &sources {
                    self.stage_read(*i, &copy_source(src));
                }
                self.stage_output(*i)
                    .ok_or_else(|| format!("stage {i} was not converted before use"))?
            }
            Some(Base::Scratch) => llb::State::scratch(),
            Some(Base::Image(r)) => {
                self.image_source(&r.to_string(), &st.platform, None, ins)
                    .map_err(|e| e.message)?
                    .0
            }
            Some(Base::Context(named)) => {
                let read: std::collections::BTreeSet<String> =
                    sources.iter().map(|s| copy_source(s)).collect();
                self.context_source(named, &st.platform, ins, Some(&read))?
                    .0
            }
        };
        let unpack = c.unpack.unwrap_or(is_add);
        // What every copy of this instruction shares: owner, mode, excludes, and a created dest.
        let common = llb::CopyOpts {
            owner: owner.clone(),
            mode,
            mode_str: mode_str.clone(),
            create_dest_path: true,
            exclude_patterns: c.excludes.clone(),
            ..llb::CopyOpts::default()
        };
        let mut actions = llb::FileActions::new();
        for (src, kind) in sources.iter().zip(&kinds) {
            if let SourceKind::Git(git) = kind {
                let what = format!("{keyword} {src}");
                let repo =
                    self.git_source(git, c.keep_git_dir, checksum.as_deref(), &name, &what)?;
                actions = actions.copy(&repo, "/", &dest, common.clone());
                continue;
            }
            if *kind == SourceKind::Http {
                // Remote files are not unpacked unless --unpack says so.
                let filename = url_filename(src);
                let mut attrs = BTreeMap::from([("http.filename".to_string(), filename.clone())]);
                if let Some(sum) = &checksum {
                    attrs.insert("http.checksum".into(), sum.clone());
                }
                // The official frontend describes the source with its SourcesAndDest, which has
                // no String method: an empty command.
                let meta = llb::OpMeta {
                    name: Some(name.clone()),
                    description: vec![("com.docker.dockerfile.v1.command", String::new())],
                    ..llb::OpMeta::default()
                };
                let http = llb::State::source(src, attrs, meta);
                actions = actions.copy(
                    &http,
                    &format!("/{filename}"),
                    &dest,
                    llb::CopyOpts {
                        attempt_unpack: c.unpack.unwrap_or(false),
                        ..common.clone()
                    },
                );
                continue;
            }
            let (src_path, include_patterns, required_paths) = if c.parents {
                parents_source(src)
            } else {
                (copy_source(src), Vec::new(), Vec::new())
            };
            if !required_paths.is_empty() && !caps.contains("file.copy.requiredpaths") {
                return Err(format!(
                    "{keyword} --parents {src}: a source without wildcards needs a BuildKit with file.copy.requiredpaths (v0.26 or later)"
                ));
            }
            actions = actions.copy(
                &source_state,
                &src_path,
                &dest,
                llb::CopyOpts {
                    include_patterns,
                    required_paths,
                    follow_symlink: true,
                    dir_copy_contents: true,
                    attempt_unpack: unpack,
                    allow_wildcard: true,
                    allow_empty_wildcard: true,
                    ..common.clone()
                },
            );
        }
        for doc in &inline {
            let mut body = if doc.chomp {
                doc.chomped_content()
            } else {
                doc.content.clone()
            };
            if doc.expand {
                let raw = crate::shell::Lexer {
                    skip_process_quotes: true,
                    ..crate::shell::Lexer::new('\\')
                };
                body = raw
                    .process_word(&body, &st.env)
                    .map_err(|e| e.to_string())?;
            }
            let file = llb::State::scratch().file(
                llb::FileActions::new().mkfile(&doc.name, 0o644, body.into_bytes(), None),
                llb::OpMeta {
                    name: Some("[internal] preparing inline document".into()),
                    ..llb::OpMeta::default()
                },
            );
            actions = actions.copy(&file, &format!("/{}", doc.name), &dest, common.clone());
        }
        let meta = self.op_meta(st, ins, name.clone());
        // --link copies onto scratch and stacks that layer with a MergeOp, so the layer does not
        // depend on what is below it. As in the official frontend, --chmod or a daemon without
        // MergeOp gives a plain copy, which yields the same files.
        if c.link && chmod.is_none() && self.ctx.llb_caps.contains("mergeop") {
            // Both vertices carry the step's number: the LINK name does not count as a step.
            if st.cmd_total > 0 {
                st.cmd_index = st.cmd_index.saturating_sub(1);
            }
            let link_name = st.progress_name(&format!("LINK {}", uppercase_cmd(&shown)));
            st.state = link_layer(&st.state, actions, meta, link_name);
        } else {
            st.state = st.state.file(actions, meta);
        }

        let mut history = String::from(keyword);
        if c.parents {
            history.push_str(" --parents");
        }
        if let Some(chown) = &chown {
            history.push_str(&format!(" --chown={chown}"));
        }
        if let Some(chmod) = &chmod {
            history.push_str(&format!(" --chmod={chmod}"));
        }
        for src in &sources {
            history.push(' ');
            history.push_str(src);
        }
        for doc in &inline {
            history.push_str(&format!(" <<{}", doc.name));
        }
        history.push(' ');
        history.push_str(&dest_raw);
        history.push_str(" # buildkit");
        st.image.add_history(history, true);
        Ok(())
    }
}

/// `before` with the copy `actions` applied as their own layer: a FileOp on scratch and a MergeOp
/// on top of `before`, shown as one progress group (the FileOp's vertex is the weak member).
fn link_layer(
    before: &llb::State,
    actions: llb::FileActions,
    meta: llb::OpMeta,
    link_name: String,
) -> llb::State {
    let group_name = meta.name.clone().unwrap_or_default();
    // The official frontend draws a random group ID; one derived from the state below and the
    // step's name keeps the definition reproducible and still distinct per step.
    let seed = format!("{}\n{group_name}", before.digest().unwrap_or_default());
    let id: String = llb::digest_of(seed.as_bytes())
        .trim_start_matches("sha256:")
        .chars()
        .take(25)
        .collect();
    let group = |weak: bool| crate::proto::pb::ProgressGroup {
        id: id.clone(),
        name: group_name.clone(),
        weak,
    };
    let layer = llb::State::scratch().file(
        actions,
        llb::OpMeta {
            progress_group: Some(group(true)),
            ..meta.clone()
        },
    );
    llb::State::merge(
        &[before.clone(), layer],
        llb::OpMeta {
            name: Some(link_name),
            progress_group: Some(group(false)),
            ..meta
        },
    )
}

/// What a COPY/ADD source word names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SourceKind {
    /// A path in the context or the `--from` stage.
    Local,
    /// A file downloaded over http(s).
    Http,
    /// A git repository.
    Git(GitRef),
}

fn source_kind(src: &str) -> Result<SourceKind, String> {
    Ok(match gitref::parse(src, false)? {
        Parsed::Git(git) => SourceKind::Git(git),
        Parsed::NotGit if src.starts_with("http://") || src.starts_with("https://") => {
            SourceKind::Http
        }
        Parsed::NotGit => SourceKind::Local,
    })
}

impl Dispatcher<'_> {
    /// The git source of an ADD, with the options of its URL and flags reconciled as the
    /// official frontend does; features the daemon lacks fail here instead of being ignored.
    /// `what` names the source in errors (`ADD <url>`).
    pub(super) fn git_source(
        &self,
        git: &GitRef,
        keep_git_dir: Option<bool>,
        checksum: Option<&str>,
        name: &str,
        what: &str,
    ) -> Result<llb::State, String> {
        let source = git_attrs(&self.ctx.llb_caps, git, keep_git_dir, checksum, what)?;
        let meta = llb::OpMeta {
            name: Some(name.to_string()),
            ..llb::OpMeta::default()
        };
        Ok(llb::State::git(&source, meta))
    }
}

/// The git source of `git` with the `--keep-git-dir` and `--checksum` flags reconciled;
/// features missing from `llb_caps` are errors naming `what`.
pub(super) fn git_attrs(
    llb_caps: &std::collections::BTreeSet<String>,
    git: &GitRef,
    keep_git_dir: Option<bool>,
    checksum: Option<&str>,
    what: &str,
) -> Result<llb::Git, String> {
    if let (Some(flag), Some(query)) = (keep_git_dir, git.keep_git_dir)
        && flag != query
    {
        return Err("inconsistent keep-git-dir configuration".into());
    }
    let keep_git_dir = git.keep_git_dir.or(keep_git_dir).unwrap_or(false);
    let checksum = match (checksum, git.checksum.as_str()) {
        (Some(flag), query) if !query.is_empty() && flag != query => {
            return Err(format!("checksum mismatch {flag:?} != {query:?}"));
        }
        (_, query) if !query.is_empty() => Some(query.to_string()),
        (flag, _) => flag.map(str::to_string),
    };
    let skip_submodules = git.submodules == Some(false);
    let needs = [
        (
            !git.subdir.is_empty(),
            "source.git.subdir",
            "a subdirectory",
            "v0.9",
        ),
        (
            checksum.is_some(),
            "source.git.checksum",
            "a checksum",
            "v0.23",
        ),
        (
            skip_submodules,
            "source.git.skipsubmodules",
            "submodules=false",
            "v0.24",
        ),
        (
            git.fetch_by_commit,
            "source.git.fetchbycommit",
            "fetch-by-commit",
            "v0.30",
        ),
    ];
    for (used, cap, feature, since) in needs {
        if used && !llb_caps.contains(cap) {
            return Err(format!(
                "{what}: {feature} of a git source needs a BuildKit with {cap} ({since} or later)"
            ));
        }
    }
    let mut fragment = git.reference.clone();
    if !git.subdir.is_empty() {
        fragment.push(':');
        fragment.push_str(&git.subdir);
    }
    let source = llb::Git {
        id: git.id.clone(),
        fragment,
        remote: git.remote.clone(),
        keep_git_dir,
        checksum,
        skip_submodules,
        ssh: git.ssh,
        mtime: None,
        fetch_by_commit: git.fetch_by_commit,
    };
    Ok(source)
}

/// The file name of a downloaded URL: the last path element, or `__unnamed__`.
pub(super) fn url_filename(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split_once('/')
        .map_or("", |(_, p)| p);
    match path.trim_end_matches('/').rsplit('/').next() {
        Some(base) if !base.is_empty() && base != "." => base.to_string(),
        _ => "__unnamed__".to_string(),
    }
}

/// `--parents`: the path copied, the include pattern below it and the paths that must exist.
/// `a/./b/c` copies `/a` keeping `b/c`; without the `/./` pivot the whole path is kept.
fn parents_source(src: &str) -> (String, Vec<String>, Vec<String>) {
    let (base, pattern) = match src.split_once("/./") {
        Some((parent, pattern)) => (parent, pattern),
        None => ("/", src),
    };
    let pattern = copy_source(pattern);
    let required = if has_wildcards(base) || has_wildcards(&pattern) {
        Vec::new()
    } else {
        vec![copy_source(&format!("{base}/{pattern}"))]
    };
    let include = vec![pattern.trim_start_matches('/').to_string()];
    (copy_source(base), include, required)
}

/// Whether a path has `filepath.Match` metacharacters (a backslash escapes the next byte).
fn has_wildcards(path: &str) -> bool {
    let mut bytes = path.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'*' | b'?' | b'[' => return true,
            b'\\' => {
                bytes.next();
            }
            _ => {}
        }
    }
    false
}

/// `user[:group]`: numbers are IDs, `root` is 0, anything else a name the daemon looks up.
pub(super) fn parse_chown(spec: &str) -> llb::Chown {
    let one = |s: &str| {
        if s == "root" {
            llb::UserSpec::Id(0)
        } else {
            match s.parse::<u32>() {
                Ok(id) if i32::try_from(id).is_ok() => llb::UserSpec::Id(id),
                _ => llb::UserSpec::Name(s.to_string()),
            }
        }
    };
    match spec.split_once(':') {
        Some((u, g)) => llb::Chown {
            user: one(u),
            group: Some(one(g)),
        },
        None => llb::Chown {
            user: one(spec),
            group: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_sources() {
        let kind = |s: &str| source_kind(s).unwrap();
        assert_eq!(kind("https://x.org/a.tar.gz"), SourceKind::Http);
        assert!(matches!(
            kind("https://github.com/o/r.git#v1"),
            SourceKind::Git(_)
        ));
        assert!(matches!(kind("git@github.com:o/r.git"), SourceKind::Git(_)));
        assert_eq!(kind("dir/file"), SourceKind::Local);
        assert_eq!(kind("github.com/o/r"), SourceKind::Local);
        // Not a repository's URL: HTTP even with --keep-git-dir, as in 1.26.
        assert_eq!(kind("https://h/r"), SourceKind::Http);
        assert_eq!(url_filename("https://x.org/dl/a.tar.gz?x=1"), "a.tar.gz");
        assert_eq!(url_filename("https://x.org/"), "__unnamed__");
        assert_eq!(url_filename("http://127.0.0.1:8000"), "__unnamed__");
    }

    #[test]
    fn link_layer_is_a_merge_in_one_progress_group() {
        let base = llb::State::image("busybox", BTreeMap::new(), llb::OpMeta::default());
        let ctx = llb::State::local("context", BTreeMap::new(), llb::OpMeta::default());
        let actions = || llb::FileActions::new().copy(&ctx, "/a", "/a", llb::CopyOpts::default());
        let meta = llb::OpMeta {
            name: Some("[2/2] COPY --link a /a".into()),
            ..llb::OpMeta::default()
        };
        let merged = link_layer(
            &base,
            actions(),
            meta.clone(),
            "[2/2] LINK COPY --link a /a".into(),
        );
        let def = llb::marshal(&merged, None);
        let ops: Vec<crate::proto::pb::Op> = def
            .def
            .iter()
            .map(|b| prost::Message::decode(b.as_slice()).unwrap())
            .collect();
        let merge = &ops[ops.len() - 2];
        assert!(matches!(merge.op, Some(crate::proto::pb::op::Op::Merge(_))));
        assert_eq!(merge.inputs[0].digest, base.digest().unwrap());
        let layer_digest = merge.inputs[1].digest.clone();
        let (m, l) = (
            &def.metadata[&merged.digest().unwrap()],
            &def.metadata[&layer_digest],
        );
        let (mg, lg) = (
            m.progress_group.clone().unwrap(),
            l.progress_group.clone().unwrap(),
        );
        assert_eq!((mg.id.len(), &mg.id, &mg.name), (25, &lg.id, &lg.name));
        assert_eq!((mg.weak, lg.weak), (false, true));
        assert_eq!(mg.name, "[2/2] COPY --link a /a");
        assert_eq!(
            m.description["llb.customname"],
            "[2/2] LINK COPY --link a /a"
        );
        // On scratch there is nothing to merge with: the layer alone is the result.
        let alone = link_layer(&llb::State::scratch(), actions(), meta, "x".into());
        assert_eq!(alone.digest(), Some(layer_digest));
    }

    #[test]
    fn parents_pivot_patterns_and_required_paths() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let cases: &[(&str, &str, &[&str], &[&str])] = &[
            ("x/y/a.txt", "/", &["x/y/a.txt"], &["/x/y/a.txt"]),
            ("./x/./y/a.txt", "/x", &["y/a.txt"], &["/x/y/a.txt"]),
            ("x/./y/*.txt", "/x", &["y/*.txt"], &[]),
            ("a*/./b", "/a*", &["b"], &[]),
            ("**/*.go", "/", &["**/*.go"], &[]),
            ("dir/", "/", &["dir"], &["/dir"]),
        ];
        for (src, base, include, required) in cases {
            assert_eq!(
                parents_source(src),
                (base.to_string(), v(include), v(required)),
                "{src}"
            );
        }
        assert!(!has_wildcards("a\\*b"));
        assert!(has_wildcards("a[bc]"));
    }

    #[test]
    fn chown_specs() {
        let c = parse_chown("app:1000");
        assert_eq!(c.user, llb::UserSpec::Name("app".into()));
        assert_eq!(c.group, Some(llb::UserSpec::Id(1000)));
        assert_eq!(parse_chown("root").user, llb::UserSpec::Id(0));
    }
}
