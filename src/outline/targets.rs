//! `frontend.targets`: every stage with its doc comment, as BuildKit's `ListTargets` (parse only).

use serde::Serialize;

use super::{Answer, Location, doc_comment, sources, text};
use crate::instructions::{Instruction, Kind};
use crate::plan;
use crate::syntax::Dockerfile;

/// One buildable stage (`targets.Target`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    /// `AS name`, lower-cased; empty for an unnamed stage.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The last stage, built when no target is given.
    #[serde(skip_serializing_if = "is_false")]
    pub default: bool,
    /// The comment line above FROM that starts with the stage name, without the name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The FROM argument as written (unexpanded).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub base: String,
    /// `--platform` as written.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub platform: String,
    /// The FROM lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `targets.List`.
#[derive(Serialize)]
struct List<'a> {
    targets: Option<&'a [Target]>,
    sources: Vec<String>,
}

/// The stages of a Dockerfile, in order. Fails as BuildKit's instruction parser does when an
/// instruction other than ARG comes before the first FROM.
pub fn list_targets(
    dockerfile: &Dockerfile,
    instructions: &[Instruction],
) -> Result<Vec<Target>, plan::Error> {
    let mut out: Vec<Target> = Vec::new();
    for (node, ins) in dockerfile.nodes.iter().zip(instructions) {
        match &ins.kind {
            Kind::From(from) => {
                let name = from.name.clone().unwrap_or_default();
                out.push(Target {
                    description: doc_comment(&node.prev_comment, &name),
                    name,
                    default: false,
                    base: from.image.clone(),
                    platform: from.platform.clone().unwrap_or_default(),
                    location: Some(Location::lines(ins.lines)),
                });
            }
            Kind::Arg(_) => {}
            _ if out.is_empty() => {
                return Err(plan::Error {
                    message: "no build stage in current context".into(),
                    lines: vec![ins.lines],
                });
            }
            _ => {}
        }
    }
    if let Some(last) = out.last_mut() {
        last.default = true;
    }
    Ok(out)
}

/// The answer to `frontend.targets`.
pub fn targets(
    dockerfile: &Dockerfile,
    instructions: &[Instruction],
    source: &[u8],
) -> Result<Answer, plan::Error> {
    let list = list_targets(dockerfile, instructions)?;
    Ok(Answer {
        json: text::go_json(&List {
            targets: (!list.is_empty()).then_some(list.as_slice()),
            sources: sources(source),
        }),
        text: targets_text(&list),
        version: "1.0.0",
    })
}

/// `targets.PrintTargets`: `TARGET  DESCRIPTION`, the default stage marked `(default)`.
pub fn targets_text(list: &[Target]) -> String {
    let mut rows = vec![vec!["TARGET".to_string(), "DESCRIPTION".to_string()]];
    for t in list {
        let name = match (t.name.as_str(), t.default) {
            ("", true) => "(default)".to_string(),
            (name, true) => format!("{name} (default)"),
            (name, false) => name.to_string(),
        };
        rows.push(vec![name, t.description.clone()]);
    }
    text::table(&rows, 1)
}
