//! `stager impact`: the I/O around `stager::impact` (files, git, the context listing).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use stager::image::Platform;
use stager::impact::{self, ChangeSet};
use stager::instructions::Kind;
use stager::pipeline::{self, ConvertContext};
use stager::proto::pb;

use crate::{cli_options, located, read};

/// The command's options.
pub struct Args {
    pub target: Option<String>,
    pub build_args: Vec<String>,
    pub platform: Option<String>,
    pub context: Option<PathBuf>,
    pub changed: Vec<String>,
    pub build_contexts: Vec<String>,
    pub since: Option<String>,
    pub old_dockerfile: Option<PathBuf>,
    pub old_build_args: Vec<String>,
    pub rules: impact::Rules,
    pub json: bool,
    pub file: PathBuf,
}

/// The capabilities conversion asks about that BuildKit v0.8 has.
const V0_8_CAPS: [&str; 1] = ["exec.mount.bind.readwrite-nooutput"];

/// One build to convert: its Dockerfile, build args and `.dockerignore`.
struct Build<'a> {
    bytes: &'a [u8],
    build_args: &'a [String],
    ignore: Option<&'a [u8]>,
    named: &'a Named,
}

/// `--build-context` values: the `context:NAME` options, and the directories of local ones.
#[derive(Default)]
struct Named {
    options: BTreeMap<String, String>,
    dirs: BTreeMap<String, PathBuf>,
}

/// A directory becomes the local `NAME` (as buildx sends it); anything else is a source.
fn named_contexts(specs: &[String]) -> anyhow::Result<Named> {
    let mut named = Named::default();
    for spec in specs {
        let Some((name, value)) = spec.split_once('=') else {
            bail!("--build-context wants NAME=VALUE, got {spec:?}");
        };
        if value.contains("://") {
            named.options.insert(name.to_string(), value.to_string());
        } else {
            named
                .options
                .insert(name.to_string(), format!("local:{name}"));
            named.dirs.insert(name.to_string(), PathBuf::from(value));
        }
    }
    Ok(named)
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    let bytes = read(&a.file)?;
    let dir = match &a.context {
        Some(d) => d.clone(),
        None => a
            .file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(PathBuf::from("."), Path::to_path_buf),
    };
    let named = named_contexts(&a.build_contexts)?;
    let mut changes = ChangeSet::default();
    for path in &a.changed {
        match path.split_once(':') {
            Some((name, rest)) if named.dirs.contains_key(name) => changes.insert_named(name, rest),
            _ => changes.insert(path),
        }
    }
    let ignore = own_ignore(&a.file).or_else(|| std::fs::read(dir.join(".dockerignore")).ok());
    let (mut old_bytes, mut old_ignore) = (None, ignore.clone());
    if let Some(rev) = &a.since {
        for f in git_changed(&dir, rev)? {
            changes.insert(&f);
        }
        let (fdir, name) = split(&a.file);
        old_bytes = git_show(&fdir, rev, &name);
        old_ignore = git_show(&dir, rev, ".dockerignore");
    }
    if let Some(p) = &a.old_dockerfile {
        old_bytes = Some(read(p)?);
    }
    let old_bytes = old_bytes.unwrap_or_else(|| bytes.clone());
    // The Dockerfile is a context file like any other when it lies in the context.
    if old_bytes != bytes
        && let Some(rel) = relative(&a.file, &dir)
    {
        changes.insert(&rel);
    }
    let old_args = if a.old_build_args.is_empty() {
        &a.build_args
    } else {
        &a.old_build_args
    };
    let mut names = BTreeSet::new();
    let new = convert(
        a,
        &Build {
            bytes: &bytes,
            build_args: &a.build_args,
            ignore: ignore.as_deref(),
            named: &named,
        },
        &mut names,
    )?;
    let old = convert(
        a,
        &Build {
            bytes: &old_bytes,
            build_args: old_args,
            ignore: old_ignore.as_deref(),
            named: &named,
        },
        &mut names,
    )
    .context("the Dockerfile of the last build")?;
    let list = || list_files(&dir);
    let report = impact::predict(&impact::Request {
        old: &old,
        new: &new,
        changes: &changes,
        list_context: &list,
        build_args: names,
        rules: a.rules,
    })?;
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report.json())?)?;
    } else {
        out.write_all(report.text().as_bytes())?;
    }
    Ok(())
}

/// The LLB of one build, and the names of the build args it sees (given or declared).
fn convert(
    a: &Args,
    b: &Build<'_>,
    names: &mut BTreeSet<String>,
) -> anyhow::Result<pb::Definition> {
    let mut opts = cli_options(&a.file, a.target.clone(), b.build_args);
    if let Some(p) = &a.platform {
        opts.target_platform = Some(Platform::parse(p)?);
    }
    if let Some(ignore) = b.ignore {
        opts.excludes = pipeline::dockerignore_patterns(ignore);
    }
    opts.named_contexts = b.named.options.clone();
    for (name, dir) in &b.named.dirs {
        if let Ok(bytes) = std::fs::read(dir.join(".dockerignore")) {
            let patterns = pipeline::dockerignore_patterns(&bytes);
            opts.context_excludes.insert(name.clone(), patterns);
        }
    }
    let parsed = pipeline::parse(b.bytes).map_err(|e| located(&a.file, e))?;
    names.extend(opts.build_args.keys().cloned());
    for ins in &parsed.instructions {
        if let Kind::Arg(decls) = &ins.kind {
            names.extend(decls.iter().map(|d| d.key.clone()));
        }
    }
    let plan = pipeline::plan(&parsed, &opts).map_err(|e| located(&a.file, e))?;
    let ctx = ConvertContext {
        options: &opts,
        // The daemon's features decide op shapes (`COPY --link` is a MergeOp where it has
        // `mergeop`) and so the steps BuildKit shows.
        llb_caps: match a.rules {
            impact::Rules::Current => stager::convert::QUERIED_CAPS.map(String::from).into(),
            impact::Rules::V0_8 => V0_8_CAPS.map(String::from).into(),
        },
        source_info: Some(pb::SourceInfo {
            filename: opts.filename.clone(),
            data: b.bytes.to_vec(),
            definition: None,
            language: "Dockerfile".into(),
        }),
    };
    let converted = pipeline::convert(&plan, parsed.dockerfile.escape, &Default::default(), &ctx)
        .map_err(|e| located(&a.file, e))?;
    Ok(converted.definition)
}

/// `Dockerfile.dockerignore` beside the Dockerfile wins over the context's, as in BuildKit.
fn own_ignore(file: &Path) -> Option<Vec<u8>> {
    std::fs::read(format!("{}.dockerignore", file.display())).ok()
}

fn split(file: &Path) -> (PathBuf, String) {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or(PathBuf::from("."), Path::to_path_buf);
    let name = file
        .file_name()
        .map_or("Dockerfile".into(), |n| n.to_string_lossy().into_owned());
    (dir, name)
}

/// `file` relative to `dir`, when it lies inside.
fn relative(file: &Path, dir: &Path) -> Option<String> {
    let (file, dir) = (file.canonicalize().ok()?, dir.canonicalize().ok()?);
    let rel = file.strip_prefix(dir).ok()?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            // git prints its whole usage after the reason.
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
        );
    }
    Ok(out.stdout)
}

/// Files changed since `rev` and untracked files, relative to `dir`.
fn git_changed(dir: &Path, rev: &str) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    for args in [
        &["diff", "--name-only", "--relative", rev, "--"][..],
        &["ls-files", "--others", "--exclude-standard"][..],
    ] {
        let out = git(dir, args)?;
        files.extend(
            String::from_utf8_lossy(&out)
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    Ok(files)
}

/// A file as of `rev`, if it existed.
fn git_show(dir: &Path, rev: &str, path: &str) -> Option<Vec<u8>> {
    git(dir, &["show", &format!("{rev}:./{path}")]).ok()
}

/// Every file and symlink under `dir`, relative, slash-separated (symlinks not followed).
fn list_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            match entry.file_type() {
                Ok(t) if t.is_dir() => todo.push((entry.path(), rel)),
                Ok(_) => out.push(rel),
                Err(_) => {}
            }
        }
    }
    out.sort();
    out
}
