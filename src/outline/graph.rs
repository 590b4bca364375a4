//! The stage graph of a plan: stages and base images as nodes, FROM / `COPY --from` /
//! `RUN --mount from` as edges, with what the target prunes, the parallel width and the
//! critical path.

use std::collections::BTreeSet;

use crate::image::Reference;
use crate::instructions::Kind;
use crate::plan::{Base, Plan};

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A stage of the Dockerfile.
    Stage,
    /// An image from a registry (a base or a `--from` source).
    Image,
}

/// A stage or an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Stage or image.
    pub kind: NodeKind,
    /// Stage name (`stage-N` when unnamed) or the image's short reference.
    pub label: String,
    /// For a stage: the FROM argument as written.
    pub base: String,
    /// For a stage: its RUN, COPY and ADD instructions.
    pub steps: usize,
    /// For a stage: its FROM line.
    pub line: u32,
    /// The target needs it.
    pub reachable: bool,
    /// For a reachable stage: its level (0 = depends on no stage).
    pub level: Option<usize>,
}

/// How a stage uses another stage or an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// The stage starts from it.
    From,
    /// `COPY --from`.
    CopyFrom,
    /// `RUN --mount=from=…`.
    MountFrom,
}

impl EdgeKind {
    /// The edge label.
    pub fn label(self) -> &'static str {
        match self {
            EdgeKind::From => "FROM",
            EdgeKind::CopyFrom => "COPY --from",
            EdgeKind::MountFrom => "RUN --mount from",
        }
    }
}

/// A dependency: `to` reads `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// The node read (index into [`Graph::nodes`]).
    pub from: usize,
    /// The stage that reads it.
    pub to: usize,
    /// How.
    pub kind: EdgeKind,
}

/// The stage graph. Stage `i` is node `i`; image nodes follow, in order of first use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    /// Stages then images.
    pub nodes: Vec<Node>,
    /// By reading stage, kind, then source; without duplicates.
    pub edges: Vec<Edge>,
    /// The target stage.
    pub target: usize,
    /// The most reachable stages that can run at once: the widest level.
    pub width: usize,
    /// The longest chain of dependent reachable stages by RUN/COPY/ADD count, first to target.
    pub critical_path: Vec<usize>,
    /// The RUN/COPY/ADD count along the critical path.
    pub critical_steps: usize,
}

impl Graph {
    /// The graph of `plan`.
    pub fn new(plan: &Plan) -> Graph {
        let mut nodes: Vec<Node> = plan
            .stages
            .iter()
            .map(|s| Node {
                kind: NodeKind::Stage,
                label: s
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("stage-{}", s.index)),
                base: match &s.from.kind {
                    Kind::From(f) => f.image.clone(),
                    _ => String::new(),
                },
                steps: s
                    .steps
                    .iter()
                    .filter(|st| {
                        matches!(
                            st.instruction.kind,
                            Kind::Run(_) | Kind::Copy(_) | Kind::Add(_)
                        )
                    })
                    .count(),
                line: s.from.lines.0,
                reachable: plan.reachable.get(s.index).copied().unwrap_or(false),
                level: None,
            })
            .collect();
        let mut edges = BTreeSet::new();
        // Image nodes by label: looked up, never iterated.
        let mut images: std::collections::HashMap<String, usize> = Default::default();
        for stage in &plan.stages {
            let uses = std::iter::once((&stage.base, EdgeKind::From)).chain(
                stage.steps.iter().flat_map(|st| {
                    let copy = st.copy_from.iter().map(|b| (b, EdgeKind::CopyFrom));
                    let mounts = st.mount_from.iter().flatten();
                    copy.chain(mounts.map(|b| (b, EdgeKind::MountFrom)))
                }),
            );
            for (base, kind) in uses {
                let from = match base {
                    Base::Scratch | Base::Context(_) => continue,
                    Base::Stage(j) => *j,
                    Base::Image(r) => {
                        let label = short_reference(r);
                        match images.get(&label) {
                            Some(&k) => k,
                            None => {
                                images.insert(label.clone(), nodes.len());
                                nodes.push(Node {
                                    kind: NodeKind::Image,
                                    label,
                                    base: String::new(),
                                    steps: 0,
                                    line: 0,
                                    reachable: false,
                                    level: None,
                                });
                                nodes.len() - 1
                            }
                        }
                    }
                };
                edges.insert(Edge {
                    from,
                    to: stage.index,
                    kind,
                });
            }
        }
        for e in &edges {
            if nodes.get(e.to).is_some_and(|n| n.reachable)
                && let Some(n) = nodes.get_mut(e.from)
            {
                n.reachable = true;
            }
        }
        let mut edges: Vec<Edge> = edges.into_iter().collect();
        edges.sort_by_key(|e| (e.to, e.kind, e.from));
        let mut graph = Graph {
            nodes,
            edges,
            target: plan.target,
            width: 0,
            critical_path: Vec::new(),
            critical_steps: 0,
        };
        graph.measure(plan.stages.len());
        graph
    }

    /// The reachable stages `stage` depends on, ascending.
    pub fn stage_deps(&self, stage: usize) -> BTreeSet<usize> {
        self.edges
            .iter()
            .filter(|e| e.to == stage)
            .filter(|e| {
                self.nodes
                    .get(e.from)
                    .is_some_and(|n| n.kind == NodeKind::Stage && n.reachable)
            })
            .map(|e| e.from)
            .collect()
    }

    /// Levels, width and critical path. Stages only depend on earlier stages, so one pass in
    /// Dockerfile order sees every dependency first.
    fn measure(&mut self, stages: usize) {
        let mut dist: Vec<usize> = vec![0; stages];
        let mut prev: Vec<Option<usize>> = vec![None; stages];
        let mut per_level: Vec<usize> = Vec::new();
        // `stage_deps` of every stage from one pass over the edges (a chain of stages would
        // otherwise scan all edges once per stage).
        let mut deps_of: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); stages];
        for e in &self.edges {
            let from_reachable_stage =
                (self.nodes.get(e.from)).is_some_and(|n| n.kind == NodeKind::Stage && n.reachable);
            if let Some(deps) = deps_of.get_mut(e.to).filter(|_| from_reachable_stage) {
                deps.insert(e.from);
            }
        }
        for i in 0..stages {
            if !self.nodes[i].reachable {
                continue;
            }
            let deps = std::mem::take(&mut deps_of[i]);
            let level = deps
                .iter()
                .filter_map(|d| self.nodes[*d].level)
                .max()
                .map_or(0, |l| l + 1);
            self.nodes[i].level = Some(level);
            if per_level.len() <= level {
                per_level.resize(level + 1, 0);
            }
            per_level[level] += 1;
            let mut best: Option<usize> = None;
            for d in deps.into_iter().filter(|d| *d < i) {
                if best.is_none_or(|b| dist[d] > dist[b]) {
                    best = Some(d);
                }
            }
            prev[i] = best;
            dist[i] = self.nodes[i].steps + best.map_or(0, |b| dist[b]);
        }
        self.width = per_level.into_iter().max().unwrap_or(0);
        let mut path = Vec::new();
        let mut at = Some(self.target).filter(|t| *t < stages);
        while let Some(i) = at {
            path.push(i);
            at = prev[i];
        }
        path.reverse();
        self.critical_steps = self.target_dist(&dist);
        self.critical_path = path;
    }

    fn target_dist(&self, dist: &[usize]) -> usize {
        dist.get(self.target).copied().unwrap_or(0)
    }

    /// The edge lies on the critical path.
    pub fn is_critical(&self, edge: &Edge) -> bool {
        // The path ascends (a stage depends only on earlier ones): find `to`, look one back.
        match self.critical_path.binary_search(&edge.to) {
            Ok(pos) => pos > 0 && self.critical_path[pos - 1] == edge.from,
            Err(_) => false,
        }
    }

    /// Stage labels along the critical path.
    pub fn critical_labels(&self) -> Vec<&str> {
        self.critical_path
            .iter()
            .filter_map(|i| self.nodes.get(*i).map(|n| n.label.as_str()))
            .collect()
    }

    /// Labels of the stages the target does not need.
    pub fn pruned(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Stage && !n.reachable)
            .map(|n| n.label.as_str())
            .collect()
    }
}

/// `docker.io/library/busybox:latest` -> `busybox:latest`, as Docker shows references.
fn short_reference(r: &Reference) -> String {
    let full = r.to_string();
    let short = full.strip_prefix("docker.io/").unwrap_or(&full);
    short.strip_prefix("library/").unwrap_or(short).to_string()
}
