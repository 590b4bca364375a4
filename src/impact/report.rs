//! The prediction as a person and a program read it: steps in Dockerfile order, per stage the
//! first step that is not cached, totals, and advice where the cache-ordering lesson applies.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{Value, json};

use super::reason::Explainer;
use super::solve::{Cause, Verdict};
use crate::lint;
use crate::proto::pb;

/// One step BuildKit will show, with its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The progress name, e.g. `[deps 4/6] RUN npm ci`.
    pub name: String,
    /// The stage label of the name (`deps`, `stage-2`; `stage-0` for a single unnamed stage,
    /// whose progress names carry no label).
    pub stage: String,
    /// Its step number in the stage.
    pub number: u32,
    /// What BuildKit will do.
    pub verdict: Verdict,
    /// The first cause, in words.
    pub reason: String,
    /// Its Dockerfile line.
    pub line: Option<u32>,
}

/// Per stage: how many steps, and the first one that is not cached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// The stage label.
    pub name: String,
    /// Its steps in the prediction.
    pub steps: usize,
    /// Index into [`Report::steps`] of the first step not cached.
    pub first: Option<usize>,
    /// Steps after `first` in the stage that are not cached either.
    pub after: usize,
}

/// Advice on cache ordering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advice {
    /// The build-check rule it comes from.
    pub rule: &'static str,
    /// What to do.
    pub message: String,
    /// The line of the step to change.
    pub line: Option<u32>,
}

/// A whole prediction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The steps, in Dockerfile order.
    pub steps: Vec<Step>,
    /// The stages, in Dockerfile order.
    pub stages: Vec<Stage>,
    /// Cache-ordering advice.
    pub advice: Vec<Advice>,
}

impl Report {
    pub(crate) fn new(ex: &Explainer<'_>) -> Report {
        let links = link_layers(ex);
        let mut order: Vec<usize> = (0..ex.new.vertices.len())
            .filter(|v| ex.new.vertices[*v].is_step() && !links.values().any(|l| l == v))
            .collect();
        order.sort_by_key(|v| {
            let nv = &ex.new.vertices[*v];
            (nv.line, nv.stage_step().map(|s| s.1), nv.name.clone())
        });
        let steps: Vec<Step> = order
            .iter()
            .filter_map(|&v| {
                let nv = &ex.new.vertices[v];
                let (stage, number) = nv.stage_step()?;
                let (mut verdict, mut reason) = (ex.outcomes[v].verdict, ex.reason(v));
                // BuildKit shows a --link copy and the MergeOp stacking it as one progress group,
                // which runs when either does.
                if let Some(&m) = links.get(&v)
                    && rank(ex.outcomes[m].verdict) > rank(verdict)
                {
                    verdict = ex.outcomes[m].verdict;
                    reason = format!(
                        "its --link layer is cached, but stacking it on the layers below is not: {}",
                        ex.reason(m)
                    );
                }
                Some(Step {
                    name: nv.name.clone()?,
                    stage: label(stage),
                    number,
                    verdict,
                    reason,
                    line: nv.line,
                })
            })
            .collect();
        let mut stages: Vec<Stage> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            if !stages.iter().any(|s| s.name == step.stage) {
                stages.push(Stage {
                    name: step.stage.clone(),
                    steps: 0,
                    first: None,
                    after: 0,
                });
            }
            let Some(stage) = stages.iter_mut().find(|s| s.name == step.stage) else {
                continue;
            };
            stage.steps += 1;
            if step.verdict != Verdict::Cached {
                match stage.first {
                    Some(f) if steps[f].number < step.number => stage.after += 1,
                    Some(_) => {
                        stage.after += 1;
                        stage.first = Some(i);
                    }
                    None => stage.first = Some(i),
                }
            }
        }
        let advice = advice(ex, &order);
        Report {
            steps,
            stages,
            advice,
        }
    }

    /// How many steps have `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.steps.iter().filter(|s| s.verdict == verdict).count()
    }

    /// The JSON form: steps, totals, stages with their first invalidated step, advice.
    pub fn json(&self) -> Value {
        let step = |s: &Step| {
            json!({"name": s.name, "stage": s.stage, "verdict": s.verdict.as_str(),
                   "reason": s.reason, "line": s.line})
        };
        json!({
            "steps": self.steps.iter().map(step).collect::<Vec<_>>(),
            "totals": {
                "steps": self.steps.len(),
                "cached": self.count(Verdict::Cached),
                "rebuilt": self.count(Verdict::Rebuilt),
                "depends": self.count(Verdict::Depends),
            },
            "stages": self.stages.iter().map(|s| json!({
                "stage": s.name,
                "steps": s.steps,
                "first_invalidated": s.first.map(|f| step(&self.steps[f])),
                "after": s.after,
            })).collect::<Vec<_>>(),
            "advice": self.advice.iter().map(|a| json!({
                "rule": a.rule, "message": a.message, "line": a.line,
            })).collect::<Vec<_>>(),
        })
    }

    /// The text form: one line per stage, then totals and advice.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let width = self
            .stages
            .iter()
            .map(|s| label(&s.name).len())
            .max()
            .unwrap_or(0);
        for s in &self.stages {
            let name = label(&s.name);
            let _ = match s.first {
                None => writeln!(out, "{name:width$}  cached ({})", plural(s.steps, "step")),
                Some(f) => {
                    let step = &self.steps[f];
                    let then = match s.after {
                        0 => String::new(),
                        n => format!("; then {} after it", plural(n, "more step")),
                    };
                    writeln!(
                        out,
                        "{name:width$}  {} {}: {}{then}",
                        step.verdict.as_str(),
                        step.name,
                        step.reason
                    )
                }
            };
        }
        let _ = writeln!(
            out,
            "{}: {} cached, {} rebuilt, {} depend on file contents",
            plural(self.steps.len(), "step"),
            self.count(Verdict::Cached),
            self.count(Verdict::Rebuilt),
            self.count(Verdict::Depends),
        );
        for a in &self.advice {
            let _ = writeln!(out, "advice ({}): {}", a.rule, a.message);
        }
        out
    }
}

/// How far from cached a verdict is.
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Cached => 0,
        Verdict::Depends => 1,
        Verdict::Rebuilt => 2,
    }
}

/// The MergeOp of each `COPY --link` step (`[s i/N] LINK COPY ...`), by the copy's op.
fn link_layers(ex: &Explainer<'_>) -> BTreeMap<usize, usize> {
    let vs = &ex.new.vertices;
    let mut out = BTreeMap::new();
    for (m, mv) in vs.iter().enumerate() {
        if !matches!(mv.op.op, Some(pb::op::Op::Merge(_))) {
            continue;
        }
        let Some(copied) = mv.command().and_then(|c| c.strip_prefix("LINK ")) else {
            continue;
        };
        let copy = (mv.inputs.iter().map(|(i, _)| *i))
            .find(|&i| vs[i].stage_step() == mv.stage_step() && vs[i].command() == Some(copied));
        if let Some(c) = copy {
            out.insert(c, m);
        }
    }
    out
}

fn label(stage: &str) -> String {
    if stage.is_empty() {
        // The official name of an unnamed first stage; BuildKit's progress leaves it out.
        "stage-0".into()
    } else {
        stage.to_string()
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A dependency install that re-runs because a copy brought in more than its manifests:
/// `CopyContextBeforeInstall`, with the files of this change as evidence.
fn advice(ex: &Explainer<'_>, order: &[usize]) -> Vec<Advice> {
    let mut out = Vec::new();
    let mut seen = BTreeMap::new();
    for &v in order {
        if ex.outcomes[v].verdict != Verdict::Rebuilt {
            continue;
        }
        let Some(pb::op::Op::Exec(exec)) = &ex.new.vertices[v].op.op else {
            continue;
        };
        // The script of `sh -c SCRIPT`, else the command line.
        let script = exec
            .meta
            .as_ref()
            .map_or(String::new(), |m| match m.args.as_slice() {
                [_, c, script, ..] if c == "-c" => script.clone(),
                args => args.join(" "),
            });
        let Some((install, manifests)) = crate::check::advice::dependency_install_in(&script)
        else {
            continue;
        };
        // Walk back to the step whose own change started the rebuild.
        let mut at = v;
        while let Cause::Input { input } = &ex.outcomes[at].cause {
            at = *input;
        }
        let Cause::Files { files, .. } = &ex.outcomes[at].cause else {
            continue;
        };
        let sources: Vec<&String> = files
            .iter()
            .filter(|f| !is_manifest(f, manifests))
            .collect();
        if sources.is_empty() || seen.insert(at, ()).is_some() {
            continue;
        }
        out.push(Advice {
            rule: lint::COPY_CONTEXT_BEFORE_INSTALL.name,
            message: format!(
                "`{install}` ({}) re-runs because {} copies {} (not a manifest); COPY {manifests} \
                 first, run the install, then COPY the rest, and such edits keep the install cached",
                ex.new.vertices[v].name.as_deref().unwrap_or("RUN"),
                ex.name(at),
                sources[0]
            ),
            line: ex.new.vertices[at].line,
        });
    }
    out
}

/// Whether a changed file is one of the manifests an install reads.
fn is_manifest(file: &str, manifests: &str) -> bool {
    let base = file.rsplit('/').next().unwrap_or(file);
    manifests.split([' ', ',']).any(|m| m == base)
        || (manifests.contains("requirements") && base.starts_with("requirements"))
}
