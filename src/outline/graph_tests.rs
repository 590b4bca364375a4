//! Tables for the stage graph: edges, pruning, width, critical path, renderings.

use super::*;
use crate::image::Platform;

fn graph_of(src: &str, target: Option<&str>) -> Graph {
    let df = crate::syntax::parse(src.as_bytes()).expect("parses");
    let ins = crate::instructions::parse(&df.nodes).expect("typed");
    let mut opts = BuildOptions::new(Platform::new("linux", "amd64", None));
    opts.target = target.map(str::to_string);
    Graph::new(&plan::plan(&ins, df.escape, &opts).expect("plans"))
}

const DIAMOND: &str = "FROM alpine AS a\nRUN x\nFROM a AS b\nRUN y\nRUN z\nFROM alpine AS c\nCOPY --from=a /a /a\nFROM busybox AS unused\nFROM scratch AS final\nCOPY --from=b /b /b\nRUN --mount=from=c,target=/c x\n";

#[test]
fn graph_edges_pruning_width_and_critical_path() {
    let g = graph_of(DIAMOND, None);
    let edges: Vec<(&str, &str, &str)> = g
        .edges
        .iter()
        .map(|e| {
            (
                g.nodes[e.from].label.as_str(),
                g.nodes[e.to].label.as_str(),
                e.kind.label(),
            )
        })
        .collect();
    assert_eq!(
        edges,
        [
            ("alpine:latest", "a", "FROM"),
            ("a", "b", "FROM"),
            ("alpine:latest", "c", "FROM"),
            ("a", "c", "COPY --from"),
            ("busybox:latest", "unused", "FROM"),
            ("b", "final", "COPY --from"),
            ("c", "final", "RUN --mount from"),
        ]
    );
    assert_eq!(g.pruned(), ["unused"]);
    let levels: Vec<Option<usize>> = g.nodes.iter().take(5).map(|n| n.level).collect();
    assert_eq!(levels, [Some(0), Some(1), Some(1), None, Some(2)]);
    assert_eq!(g.width, 2);
    assert_eq!(g.critical_labels(), ["a", "b", "final"]);
    assert_eq!(g.critical_steps, 5);
    let busybox = g
        .nodes
        .iter()
        .find(|n| n.label == "busybox:latest")
        .unwrap();
    assert!(!busybox.reachable);

    // A target prunes everything it does not read.
    let g = graph_of(DIAMOND, Some("c"));
    assert_eq!(g.pruned(), ["b", "unused", "final"]);
    assert_eq!((g.width, g.critical_steps), (1, 2));
    assert_eq!(g.critical_labels(), ["a", "c"]);
}

#[test]
fn graph_width_of_independent_stages() {
    let src = "FROM busybox AS a\nRUN a\nFROM busybox AS b\nRUN b\nFROM busybox AS c\nFROM busybox AS d\nRUN d\nRUN d\nFROM scratch\nCOPY --from=a / /\nCOPY --from=b / /\nCOPY --from=c / /\nCOPY --from=d / /\n";
    let g = graph_of(src, None);
    assert_eq!(g.width, 4);
    assert_eq!(g.critical_labels(), ["d", "stage-4"]);
    assert_eq!(g.critical_steps, 6);
    // Ties go to the earlier stage.
    let g = graph_of(
        "FROM x AS a\nRUN a\nFROM x AS b\nRUN b\nFROM scratch\nCOPY --from=b / /\nCOPY --from=a / /\n",
        None,
    );
    assert_eq!(g.critical_labels(), ["a", "stage-2"]);
}

#[test]
fn graph_renderings_are_deterministic_and_styled() {
    let g = graph_of(DIAMOND, None);
    let mermaid = mermaid(&g);
    assert_eq!(mermaid, super::mermaid(&graph_of(DIAMOND, None)));
    for want in [
        "flowchart LR\n  %% target: final\n  %% parallel width: 2\n",
        "  %% critical path: a -> b -> final (5 steps)\n  %% pruned: unused\n",
        "  s4[\"final (target)<br/>2 steps\"]\n",
        "  i1([\"busybox:latest\"])\n",
        "  s1 ==>|\"COPY --from\"| s4\n",
        "  i1 -.->|\"FROM\"| s3\n",
        "  s2 -->|\"RUN --mount from\"| s4\n",
        "  class s3,i1 pruned\n",
        "  class s0,s1,s4 critical\n",
    ] {
        assert!(mermaid.contains(want), "{want:?} not in\n{mermaid}");
    }
    let dot = dot(&g);
    for want in [
        "digraph stages {\n  // target: final\n",
        "  s3 [label=\"unused\\n0 steps\", style=\"rounded,dashed\", color=gray60, fontcolor=gray60];\n",
        "  s0 -> s1 [label=\"FROM\", color=red, penwidth=2];\n",
        "  i1 -> s3 [label=\"FROM\", style=dashed, color=gray60, fontcolor=gray60];\n",
        "legend [shape=note, label=\"target: final\\lparallel width: 2\\l",
    ] {
        assert!(dot.contains(want), "{want:?} not in\n{dot}");
    }
    let json: serde_json::Value = serde_json::from_str(&json(&g)).unwrap();
    assert_eq!(json["parallel_width"], 2);
    assert_eq!(json["pruned"], serde_json::json!(["unused"]));
    assert_eq!(
        json["critical_path"],
        serde_json::json!({"stages": ["a", "b", "final"], "steps": 5})
    );
    assert_eq!(json["edges"][6]["kind"], "RUN --mount from");
    assert_eq!(json["stages"][3]["level"], serde_json::Value::Null);
}
