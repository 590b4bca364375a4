//! Introspection without building: BuildKit's subrequests and the stage graph.
//!
//! In: a parsed Dockerfile (nodes for doc comments, typed instructions) and, for the outline
//! and the graph, its [`Plan`](crate::plan::Plan). Out: the answers of `frontend.subrequests.describe`,
//! `frontend.targets` and `frontend.outline` as the official frontend shapes them (`result.json`,
//! `result.txt`, `version`), and a [`Graph`] of the stages rendered as DOT, Mermaid or JSON.
//! Not here: LLB, base image resolution, anything that talks to BuildKit (the gateway wraps
//! an [`Answer`] in a `Result` without a ref).

mod graph;
mod params;
mod render;
mod targets;
mod text;

#[cfg(test)]
mod graph_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;

use crate::instructions::Instruction;
use crate::options::BuildOptions;
use crate::plan;
use crate::syntax::Dockerfile;

pub use graph::{Edge, EdgeKind, Graph, Node, NodeKind};
pub use params::{Arg, Outline, Secret, outline};
pub use render::{dot, json, mermaid};
pub use targets::{Target, list_targets, targets};
pub use text::go_json;

/// The subrequests this frontend answers (`frontend.lint` is not one of them yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// `frontend.subrequests.describe`: the list of subrequests.
    Describe,
    /// `frontend.targets`: the stages one can build.
    Targets,
    /// `frontend.outline`: the build args, secrets and SSH sockets a target uses.
    Outline,
}

impl Request {
    /// The request named by the `requestid` option, if it is one stager answers.
    pub fn from_name(name: &str) -> Option<Request> {
        match name {
            "frontend.subrequests.describe" => Some(Request::Describe),
            "frontend.targets" => Some(Request::Targets),
            "frontend.outline" => Some(Request::Outline),
            _ => None,
        }
    }
}

/// A subrequest's answer: what goes in `Result.metadata`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// `result.json`, indented as Go's `json.MarshalIndent(v, "", "  ")`.
    pub json: String,
    /// `result.txt`, the table the official frontend prints.
    pub text: String,
    /// `version` of the request definition.
    pub version: &'static str,
}

impl Answer {
    /// The `Result.metadata` map.
    pub fn metadata(&self) -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            ("result.json".to_string(), self.json.clone().into_bytes()),
            ("result.txt".to_string(), self.text.clone().into_bytes()),
            ("version".to_string(), self.version.as_bytes().to_vec()),
        ])
    }
}

/// Answers `request` for a parsed Dockerfile; `source` is its text, `opts` the build options
/// (target and build args matter to the outline).
pub fn answer(
    request: Request,
    dockerfile: &Dockerfile,
    instructions: &[Instruction],
    source: &[u8],
    opts: &BuildOptions,
) -> Result<Answer, plan::Error> {
    match request {
        Request::Describe => Ok(describe()),
        Request::Targets => targets(dockerfile, instructions, source),
        Request::Outline => {
            let plan = plan::plan(instructions, dockerfile.escape, opts)?;
            let none = BTreeMap::new();
            Ok(outline(&plan, dockerfile, instructions, opts, source, &none).answer())
        }
    }
}

/// `subrequests.Named`.
#[derive(Serialize)]
struct Named {
    name: &'static str,
    description: &'static str,
}

/// `subrequests.Request`, a subrequest definition.
#[derive(Serialize)]
struct Definition {
    name: &'static str,
    version: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    description: &'static str,
    opts: Option<Vec<Named>>,
    inputs: Option<Vec<Named>>,
    metadata: Vec<Named>,
    refs: Option<Vec<Named>>,
}

fn definition(
    name: &'static str,
    description: &'static str,
    opts: Option<Vec<Named>>,
) -> Definition {
    let named = |name| Named {
        name,
        description: "",
    };
    Definition {
        name,
        version: "1.0.0",
        kind: "rpc",
        description,
        opts,
        inputs: None,
        metadata: vec![named("result.json"), named("result.txt")],
        refs: None,
    }
}

/// The answer to `frontend.subrequests.describe`: outline, targets and describe itself.
pub fn describe() -> Answer {
    let all = [
        definition(
            "frontend.outline",
            "List all parameters current build target supports",
            Some(vec![Named {
                name: "target",
                description: "Target build stage",
            }]),
        ),
        definition(
            "frontend.targets",
            "List all targets current build supports",
            Some(Vec::new()),
        ),
        definition(
            "frontend.subrequests.describe",
            "List available subrequest types",
            None,
        ),
    ];
    let mut rows = vec![vec!["NAME".into(), "VERSION".into(), "DESCRIPTION".into()]];
    for d in &all {
        let name = d.name.strip_prefix("frontend.").unwrap_or(d.name);
        rows.push(vec![name.into(), d.version.into(), d.description.into()]);
    }
    Answer {
        json: text::go_json(&all),
        text: text::table(&rows, 1),
        version: "1.0.0",
    }
}

/// `pb.Location` as Go's encoding/json writes it: 1-based lines, characters omitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// One range per line span; left out when empty (Go's `omitempty`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
}

/// `pb.Range`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Range {
    /// First line.
    pub start: Position,
    /// Last line.
    pub end: Position,
}

/// `pb.Position` (the character is always 0, so omitted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
}

impl Location {
    /// The location of an instruction spanning `lines`.
    pub fn lines(lines: (u32, u32)) -> Location {
        Location::ranges(&[lines])
    }

    /// A location of several 1-based `(start, end)` line ranges.
    pub fn ranges(ranges: &[(u32, u32)]) -> Location {
        Location {
            ranges: ranges
                .iter()
                .map(|&(start, end)| Range {
                    start: Position { line: start },
                    end: Position { line: end },
                })
                .collect(),
        }
    }

    /// The first line, for sorting as BuildKit does.
    fn first_line(&self) -> u32 {
        self.ranges.first().map_or(0, |r| r.start.line)
    }
}

/// BuildKit's `getComment`: the comment line that starts with `name ` documents `name`.
fn doc_comment(comments: &[String], name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let prefix = format!("{name} ");
    comments
        .iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or("")
        .to_string()
}

/// The Dockerfile as Go marshals a `[]byte`: standard base64.
fn sources(source: &[u8]) -> Vec<String> {
    vec![base64::engine::general_purpose::STANDARD.encode(source)]
}
