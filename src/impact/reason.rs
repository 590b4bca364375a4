//! Causes in words: the changed files, the build arg or the edited line behind a verdict.

use std::collections::{BTreeMap, BTreeSet};

use super::graph::{Graph, Vertex};
use super::solve::{Cause, Outcome, Verdict};
use crate::proto::pb;

/// How many changed files a reason names before `(+N more)`.
const SHOWN_FILES: usize = 3;

/// Words for the causes of one prediction.
pub(crate) struct Explainer<'a> {
    pub new: &'a Graph,
    pub old: &'a Graph,
    pub outcomes: &'a [Outcome],
    /// Names of build args (given or declared), to call an environment change a build arg.
    pub build_args: &'a BTreeSet<String>,
}

impl Explainer<'_> {
    /// The reason of op `v`'s verdict.
    pub fn reason(&self, v: usize) -> String {
        let nv = &self.new.vertices[v];
        match &self.outcomes[v].cause {
            Cause::Unchanged => match (self.remote_input(v), &nv.op.op) {
                // BuildKit keys a URL or git source on what it fetches: unknown offline.
                (Some(id), _) => format!("same instruction, if {id} still serves the same content"),
                (None, Some(pb::op::Op::File(_))) if self.reads_context(v) => {
                    "the files it copies are unchanged".into()
                }
                _ => "same instruction, same inputs".into(),
            },
            Cause::SameContent { input } => {
                match (self.new.vertices[*input].local_name(), &nv.op.op) {
                    (Some(_), Some(pb::op::Op::Exec(_))) => {
                        "the files it mounts are unchanged".into()
                    }
                    (Some(_), _) => "the files it copies are unchanged".into(),
                    (None, _) => format!(
                        "{} re-runs, but the files this step reads from it come out the same",
                        self.name(*input)
                    ),
                }
            }
            Cause::NoCache => "its stage is built with --no-cache".into(),
            Cause::SourceChanged => "its source changed".into(),
            Cause::OpChanged => self.op_changed(v),
            Cause::Files { input, files } => {
                let verb = match nv.op.op {
                    Some(pb::op::Op::Exec(_)) => "mounts",
                    _ => "copies",
                };
                let what = files_list(files);
                match self.new.vertices[*input].local_name() {
                    Some(_) => format!("{verb} changed {what}"),
                    None => format!("{verb} from {}, changed by {what}", self.name(*input)),
                }
            }
            Cause::Input { input } => match self.new.vertices[*input].identifier() {
                Some(id) => format!("its base {id} changed"),
                None => format!("follows {}, which is rebuilt", self.name(*input)),
            },
            Cause::Unknown { input, via } => {
                let runs = match self.outcomes[*via].verdict {
                    Verdict::Depends => "may re-run",
                    _ => "re-runs",
                };
                let from = if input == via {
                    String::new()
                } else {
                    format!(" (through {})", self.name(*input))
                };
                format!(
                    "reads files that {} builds{from}, which {runs}: cached only if they come out the same",
                    self.name(*via)
                )
            }
            Cause::Waits { input } => {
                format!("follows {}: cached only if it is", self.name(*input))
            }
            Cause::NamedContext { name } => {
                format!("reads the local context `{name}`, which the last build did not read there")
            }
        }
    }

    /// The progress name of op `v`, or what it is.
    pub fn name(&self, v: usize) -> String {
        let nv = &self.new.vertices[v];
        match (&nv.name, nv.identifier()) {
            (Some(name), _) => format!("`{name}`"),
            (None, Some(id)) => format!("`{id}`"),
            (None, None) => "an unnamed step".into(),
        }
    }

    /// An http(s) or git source among the op's inputs.
    fn remote_input(&self, v: usize) -> Option<&str> {
        (self.new.vertices[v].inputs.iter())
            .filter_map(|(i, _)| self.new.vertices[*i].identifier())
            .find(|id| id.starts_with("http") || id.starts_with("git://"))
    }

    fn reads_context(&self, v: usize) -> bool {
        (self.new.vertices[v].inputs.iter())
            .any(|(i, _)| self.new.vertices[*i].local_name().is_some())
    }

    /// What changed in op `v` itself, against its counterpart in the last build.
    fn op_changed(&self, v: usize) -> String {
        let nv = &self.new.vertices[v];
        let Some(o) = self.counterpart(nv) else {
            return "a new step: the last build had no such step".into();
        };
        let (new_cmd, old_cmd) = (nv.command().unwrap_or(""), o.command().unwrap_or(""));
        if new_cmd != old_cmd {
            return format!("its instruction changed (was `{old_cmd}`)");
        }
        match (&nv.op.op, &o.op.op) {
            (Some(pb::op::Op::Exec(a)), Some(pb::op::Op::Exec(b))) => self.exec_changed(a, b),
            (Some(pb::op::Op::File(_)), Some(pb::op::Op::File(_))) => {
                "its paths or options changed (a variable they use has another value)".into()
            }
            _ => "its definition changed".into(),
        }
    }

    fn exec_changed(&self, a: &pb::ExecOp, b: &pb::ExecOp) -> String {
        let env = |e: &pb::ExecOp| -> BTreeMap<String, String> {
            (e.meta.iter().flat_map(|m| &m.env))
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (kv.clone(), String::new()),
                })
                .collect()
        };
        let (new, old) = (env(a), env(b));
        let keys: BTreeSet<&String> = new.keys().chain(old.keys()).collect();
        // Build args first: they are what a person changes on the command line.
        let mut changed: Vec<&String> = keys
            .into_iter()
            .filter(|k| new.get(*k) != old.get(*k))
            .collect();
        changed.sort_by_key(|k| !self.build_args.contains(*k));
        if let Some(k) = changed.first() {
            let kind = if self.build_args.contains(*k) {
                "build arg"
            } else {
                "environment variable"
            };
            let show = |v: Option<&String>| v.map_or("unset".to_string(), |v| format!("{v:?}"));
            return format!(
                "{kind} {k} changed ({} -> {})",
                show(old.get(*k)),
                show(new.get(*k))
            );
        }
        let (ma, mb) = (
            a.meta.clone().unwrap_or_default(),
            b.meta.clone().unwrap_or_default(),
        );
        if ma.cwd != mb.cwd {
            return format!("its working directory changed ({} -> {})", mb.cwd, ma.cwd);
        }
        if ma.user != mb.user {
            return format!("its user changed ({:?} -> {:?})", mb.user, ma.user);
        }
        if ma.args != mb.args {
            return "its command changed (the shell or a here-document)".into();
        }
        if a.mounts != b.mounts {
            return "its mounts changed".into();
        }
        if a.network != b.network || a.security != b.security {
            return "its network or security mode changed".into();
        }
        "its definition changed".into()
    }

    /// The old op of the same stage with the same instruction, else at the same step number.
    fn counterpart(&self, nv: &Vertex) -> Option<&Vertex> {
        let (stage, step) = nv.stage_step()?;
        let steps = || (self.old.vertices.iter()).filter(|o| o.is_step());
        steps()
            .find(|o| o.stage_step().map(|s| s.0) == Some(stage) && o.command() == nv.command())
            .or_else(|| steps().find(|o| o.stage_step() == Some((stage, step))))
    }
}

fn files_list(files: &[String]) -> String {
    let shown: Vec<String> = files.iter().take(SHOWN_FILES).cloned().collect();
    let more = files.len().saturating_sub(SHOWN_FILES);
    let noun = if files.len() == 1 { "file" } else { "files" };
    let mut s = format!("{noun} {}", shown.join(", "));
    if more > 0 {
        s.push_str(&format!(" (+{more} more)"));
    }
    s
}
