//! The verdicts: BuildKit's cache lookup replayed over the new build's ops against the last
//! build's (solver/edge.go, cachemanager.go).
//!
//! An op is taken from the cache when a record of the last build has its cache map key, the
//! same selectors, and for every input either the same input record (the definition-based key)
//! or, where the input allows it, the same content of the selected paths (the content-based
//! key). A cache hit makes the op's result the old record's, so the steps after it match by
//! definition again. Local sources never match by definition (their key holds the session), so
//! context files count only by content; the content of an op that re-runs is unknown before it
//! runs, which is where `depends` comes from.

use std::collections::{BTreeMap, BTreeSet};

use super::Error;
use super::cache_map::Selector;
use super::changes::Context;
use super::graph::{Graph, Vertex};
use super::selection::LocalFilter;
use crate::proto::pb;
use pb::file_action::Action;

/// The build context's source name.
const CONTEXT: &str = "context";

/// What BuildKit will do with a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Taken from the cache.
    Cached,
    /// Executed.
    Rebuilt,
    /// Cached only if files that are built first come out the same.
    Depends,
}

impl Verdict {
    /// `cached`, `rebuilt`, `depends`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Cached => "cached",
            Verdict::Rebuilt => "rebuilt",
            Verdict::Depends => "depends",
        }
    }
}

/// Why, in terms of the new build's op indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Same op, same inputs.
    Unchanged,
    /// Cached although `input` re-runs: the files read from it come out the same.
    SameContent { input: usize },
    /// The stage is built with `--no-cache`.
    NoCache,
    /// No record of the last build has this op's key.
    OpChanged,
    /// A source op (image, git, http) that the last build did not have.
    SourceChanged,
    /// The files it reads from `input` changed.
    Files { input: usize, files: Vec<String> },
    /// Its input `input` is rebuilt (no content-based match for it).
    Input { input: usize },
    /// It reads files from `input`, which `via` builds first: nobody knows them yet.
    Unknown { input: usize, via: usize },
    /// Its input's verdict depends on file contents.
    Waits { input: usize },
    /// It reads a local context other than the build context.
    NamedContext { name: String },
}

/// The verdict of one op with its cause and the old records it matches (or may match).
#[derive(Clone, Debug)]
pub(crate) struct Outcome {
    pub verdict: Verdict,
    pub cause: Cause,
    pub old: BTreeSet<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Tri {
    No,
    Maybe,
    Yes,
}

/// What the content of a selection in a new op's output is, against an old op's.
#[derive(Clone, Debug)]
enum Content {
    Same,
    Differs(Vec<String>),
    Unknown(usize),
    Named(String),
}

/// Computes the outcome of every op of `new`.
pub(crate) fn solve(new: &Graph, old: &Graph, ctx: &Context<'_>) -> Result<Vec<Outcome>, Error> {
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (r, o) in old.vertices.iter().enumerate() {
        by_key.entry(o.map.key.as_str()).or_default().push(r);
    }
    let mut solver = Solver {
        new,
        old,
        ctx,
        outcomes: Vec::with_capacity(new.vertices.len()),
        by_key,
    };
    for (v, vertex) in new.vertices.iter().enumerate() {
        if vertex.inputs.iter().any(|(i, _)| *i >= v) {
            return Err(Error::Definition(
                "the ops are not in dependency order".into(),
            ));
        }
        let outcome = solver.outcome(v);
        solver.outcomes.push(outcome);
    }
    Ok(solver.outcomes)
}

struct Solver<'a> {
    new: &'a Graph,
    old: &'a Graph,
    ctx: &'a Context<'a>,
    outcomes: Vec<Outcome>,
    /// The last build's ops by cache map key.
    by_key: BTreeMap<&'a str, Vec<usize>>,
}

impl Solver<'_> {
    fn outcome(&self, v: usize) -> Outcome {
        let nv = &self.new.vertices[v];
        if nv.is_source() {
            let old: BTreeSet<usize> = (self.by_key.get(nv.map.key.as_str()).into_iter().flatten())
                .copied()
                .filter(|_| nv.local_name().is_none())
                .collect();
            let verdict = if old.is_empty() {
                Verdict::Rebuilt
            } else {
                Verdict::Cached
            };
            return Outcome {
                verdict,
                cause: if old.is_empty() {
                    Cause::SourceChanged
                } else {
                    Cause::Unchanged
                },
                old,
            };
        }
        if nv.ignore_cache {
            return rebuilt(Cause::NoCache);
        }
        let candidates = (self.by_key.get(nv.map.key.as_str()).into_iter().flatten())
            .copied()
            .filter(|&r| same_map(nv, &self.old.vertices[r]));
        let (mut yes, mut maybe) = (BTreeSet::new(), BTreeSet::new());
        let (mut via_content, mut maybe_cause, mut no_cause) = (None, None, None);
        for r in candidates {
            let mut worst = (Tri::Yes, None);
            for i in 0..nv.inputs.len() {
                let (t, cause) = self.dep_match(v, r, i);
                if t < worst.0 || (t == Tri::Yes && worst.1.is_none()) {
                    worst = (t, cause);
                }
            }
            match worst {
                (Tri::Yes, cause) => {
                    yes.insert(r);
                    via_content = via_content.or(cause);
                }
                (Tri::Maybe, cause) => {
                    maybe.insert(r);
                    maybe_cause = maybe_cause.or(cause);
                }
                (Tri::No, cause) => no_cause = no_cause.or(cause),
            }
        }
        if !yes.is_empty() {
            Outcome {
                verdict: Verdict::Cached,
                cause: via_content.unwrap_or(Cause::Unchanged),
                old: yes,
            }
        } else if !maybe.is_empty() {
            Outcome {
                verdict: Verdict::Depends,
                cause: maybe_cause.unwrap_or(Cause::Unchanged),
                old: maybe,
            }
        } else {
            rebuilt(no_cause.unwrap_or(Cause::OpChanged))
        }
    }

    /// Whether input `i` of new op `v` matches that of old record `r`, and why not.
    fn dep_match(&self, v: usize, r: usize, i: usize) -> (Tri, Option<Cause>) {
        let (u, out) = self.new.vertices[v].inputs[i];
        let (ru, rout) = self.old.vertices[r].inputs[i];
        let o = &self.outcomes[u];
        let fast = if out == rout && o.old.contains(&ru) {
            match o.verdict {
                Verdict::Cached => Tri::Yes,
                Verdict::Depends => Tri::Maybe,
                Verdict::Rebuilt => Tri::No,
            }
        } else {
            Tri::No
        };
        if fast == Tri::Yes {
            return (Tri::Yes, None);
        }
        let dep = self.new.vertices[v].map.deps.get(i);
        let slow = if let Some(dep) = dep.filter(|d| d.content) {
            match self.content(u, ru, &dep.selectors) {
                Content::Same => (Tri::Yes, Cause::SameContent { input: u }),
                Content::Differs(files) => (Tri::No, Cause::Files { input: u, files }),
                Content::Unknown(via) => (Tri::Maybe, Cause::Unknown { input: u, via }),
                Content::Named(name) => (Tri::Maybe, Cause::NamedContext { name }),
            }
        } else {
            (Tri::No, Cause::Input { input: u })
        };
        if slow.0 == Tri::Yes {
            // Only worth naming when the input itself is not taken from the cache.
            let cause = (o.verdict != Verdict::Cached).then_some(slow.1);
            return (Tri::Yes, cause);
        }
        if fast == Tri::Maybe {
            return (Tri::Maybe, Some(Cause::Waits { input: u }));
        }
        if slow.0 == Tri::Maybe {
            return (Tri::Maybe, Some(slow.1));
        }
        match slow.1 {
            Cause::Files { .. } => (Tri::No, Some(slow.1)),
            _ => (Tri::No, Some(Cause::Input { input: u })),
        }
    }

    /// The content of `sels` in new op `u`'s output against old op `r`'s.
    fn content(&self, u: usize, r: usize, sels: &[Selector]) -> Content {
        let o = &self.outcomes[u];
        if o.verdict == Verdict::Cached && o.old.contains(&r) {
            return Content::Same;
        }
        let (nu, or) = (&self.new.vertices[u], &self.old.vertices[r]);
        match (nu.local_name(), or.local_name()) {
            (Some(a), Some(b)) if a == b => {
                let named = (a != CONTEXT).then_some(a);
                let files =
                    self.ctx
                        .differing(named, &LocalFilter::of(nu), &LocalFilter::of(or), sels);
                return if files.is_empty() {
                    Content::Same
                } else {
                    Content::Differs(files)
                };
            }
            (Some(name), _) => return Content::Named(name.to_string()),
            _ => {}
        }
        if !same_map(nu, or) {
            return Content::Unknown(u);
        }
        match (&nu.op.op, &or.op.op) {
            (Some(pb::op::Op::File(file)), Some(pb::op::Op::File(_))) => {
                self.file_content(nu, or, file, sels)
            }
            (Some(pb::op::Op::Merge(_)), Some(pb::op::Op::Merge(_))) => combine(
                (nu.inputs.iter().zip(&or.inputs)).map(|(a, b)| self.content(a.0, b.0, sels)),
            ),
            _ => Content::Unknown(u),
        }
    }

    /// A file op's output at `sels`: what its base inputs hold there, and what its copies put
    /// there.
    fn file_content(
        &self,
        nu: &Vertex,
        or: &Vertex,
        file: &pb::FileOp,
        sels: &[Selector],
    ) -> Content {
        let n = nu.inputs.len() as i64;
        let mut parts = Vec::new();
        let mut bases = BTreeSet::new();
        for action in &file.actions {
            if (0..n).contains(&action.input) && bases.insert(action.input) {
                let i = action.input as usize;
                parts.push(self.content(nu.inputs[i].0, or.inputs[i].0, sels));
            }
            let Some(Action::Copy(copy)) = &action.action else {
                continue;
            };
            if !(0..n).contains(&action.secondary_input) || !overlaps(sels, &copy.dest) {
                continue;
            }
            let i = action.secondary_input as usize;
            let src = Selector {
                path: copy.src.clone(),
                wildcard: copy.allow_wildcard && super::cache_map::has_wildcard(&copy.src),
                include: copy.include_patterns.clone(),
                exclude: copy.exclude_patterns.clone(),
            };
            let from_context = self.new.vertices[nu.inputs[i].0].local_name().is_some();
            parts.push(
                match self.content(nu.inputs[i].0, or.inputs[i].0, std::slice::from_ref(&src)) {
                    // Changed files that land outside the selection leave it as it was.
                    Content::Differs(files) if from_context => {
                        let landed: Vec<String> = (files.into_iter())
                            .filter(|f| overlaps(sels, &landing(f, copy, &matched(f, &src))))
                            .collect();
                        if landed.is_empty() {
                            Content::Same
                        } else {
                            Content::Differs(landed)
                        }
                    }
                    other => other,
                },
            );
        }
        combine(parts.into_iter())
    }
}

fn rebuilt(cause: Cause) -> Outcome {
    Outcome {
        verdict: Verdict::Rebuilt,
        cause,
        old: BTreeSet::new(),
    }
}

fn same_map(a: &Vertex, b: &Vertex) -> bool {
    a.map == b.map && a.inputs.len() == b.inputs.len()
}

/// Any difference makes the whole differ; otherwise any unknown part makes it unknown.
fn combine(parts: impl Iterator<Item = Content>) -> Content {
    let mut result = Content::Same;
    for part in parts {
        result = match (result, part) {
            (Content::Differs(mut a), Content::Differs(b)) => {
                a.extend(b);
                a.sort();
                a.dedup();
                Content::Differs(a)
            }
            (Content::Differs(a), _) | (_, Content::Differs(a)) => Content::Differs(a),
            (Content::Same, other) => other,
            (unknown, _) => unknown,
        };
    }
    result
}

/// Whether a selection and a path written by a copy can share files.
fn overlaps(sels: &[Selector], path: &str) -> bool {
    let p = super::cache_map::clean_abs(path);
    let under = |a: &str, b: &str| a == b || b == "/" || a.starts_with(&format!("{b}/"));
    sels.iter()
        .any(|s| s.wildcard || under(&s.path, &p) || under(&p, &s.path))
}

/// The source path `file` is copied under: the path itself, or for a wildcard the match
/// (its first components), which a copy treats as if it had been named.
fn matched(file: &str, src: &Selector) -> String {
    if !src.wildcard {
        return src.path.clone();
    }
    let depth = src.path.split('/').filter(|c| !c.is_empty()).count();
    let parts: Vec<&str> = file.split('/').filter(|c| !c.is_empty()).collect();
    if parts.len() < depth {
        return src.path.clone();
    }
    format!("/{}", parts[..depth].join("/"))
}

/// Where context file `file` ends up when `copy` copies `src` (Dockerfile COPY semantics:
/// a directory's contents go into the destination).
fn landing(file: &str, copy: &pb::FileActionCopy, src: &str) -> String {
    let file = format!("/{file}");
    let src = super::cache_map::clean_abs(src);
    let dest = copy.dest.trim_end_matches('/');
    let base = src.rsplit('/').next().unwrap_or_default();
    if file == src {
        return if copy.dest.ends_with('/') {
            format!("{dest}/{base}")
        } else {
            copy.dest.clone()
        };
    }
    let rest = if src == "/" {
        Some(file.as_str())
    } else {
        file.strip_prefix(&src).filter(|r| r.starts_with('/'))
    };
    match rest {
        Some(rest) if copy.dir_copy_contents => format!("{dest}{rest}"),
        Some(rest) => format!("{dest}/{base}{rest}"),
        None => copy.dest.clone(),
    }
}
