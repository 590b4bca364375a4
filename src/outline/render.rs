//! [`Graph`] as Graphviz DOT, Mermaid or JSON. Same graph, same bytes: nodes and edges come
//! out in index order and nothing iterates a hash map.

use std::fmt::Write as _;

use serde_json::json;

use super::graph::{Graph, NodeKind};

fn summary(g: &Graph) -> [String; 4] {
    let target = g.nodes.get(g.target).map_or("", |n| n.label.as_str());
    let pruned = g.pruned();
    [
        format!("target: {target}"),
        format!("parallel width: {}", g.width),
        format!(
            "critical path: {} ({} steps)",
            g.critical_labels().join(" -> "),
            g.critical_steps
        ),
        format!(
            "pruned: {}",
            if pruned.is_empty() {
                "none".to_string()
            } else {
                pruned.join(", ")
            }
        ),
    ]
}

fn id(g: &Graph, i: usize) -> String {
    match g.nodes.get(i).map(|n| n.kind) {
        Some(NodeKind::Stage) => format!("s{i}"),
        _ => format!("i{}", i.saturating_sub(stage_count(g))),
    }
}

fn stage_count(g: &Graph) -> usize {
    g.nodes.iter().filter(|n| n.kind == NodeKind::Stage).count()
}

fn steps(n: usize) -> String {
    if n == 1 {
        "1 step".into()
    } else {
        format!("{n} steps")
    }
}

/// Graphviz DOT: pruned stages and edges dashed grey, the critical path red, a legend note.
pub fn dot(g: &Graph) -> String {
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph stages {\n");
    for line in summary(g) {
        let _ = writeln!(out, "  // {line}");
    }
    out.push_str("  rankdir=LR;\n  node [shape=box, style=rounded];\n  edge [fontsize=10];\n");
    for (i, n) in g.nodes.iter().enumerate() {
        let mut attrs = Vec::new();
        match n.kind {
            NodeKind::Stage => {
                let mark = if i == g.target { " (target)" } else { "" };
                let label = format!("{}{mark}\\n{}", q(&n.label), steps(n.steps));
                attrs.push(format!("label=\"{label}\""));
                if i == g.target {
                    attrs.push("penwidth=2".into());
                }
            }
            NodeKind::Image => {
                attrs.push(format!("label=\"{}\"", q(&n.label)));
                attrs.push("shape=ellipse".into());
            }
        }
        if !n.reachable {
            attrs.push("style=\"rounded,dashed\", color=gray60, fontcolor=gray60".into());
        }
        let _ = writeln!(out, "  {} [{}];", id(g, i), attrs.join(", "));
    }
    for e in &g.edges {
        let mut attrs = vec![format!("label=\"{}\"", e.kind.label())];
        if g.is_critical(e) {
            attrs.push("color=red, penwidth=2".into());
        } else if !g.nodes.get(e.to).is_some_and(|n| n.reachable) {
            attrs.push("style=dashed, color=gray60, fontcolor=gray60".into());
        }
        let _ = writeln!(
            out,
            "  {} -> {} [{}];",
            id(g, e.from),
            id(g, e.to),
            attrs.join(", ")
        );
    }
    let legend: String = summary(g).iter().map(|l| format!("{}\\l", q(l))).collect();
    let _ = writeln!(out, "  legend [shape=note, label=\"{legend}\"];");
    out.push_str("}\n");
    out
}

/// A Mermaid flowchart: pruned stages and edges dotted grey, the critical path thick, a legend
/// node and `%%` comments.
pub fn mermaid(g: &Graph) -> String {
    let q = |s: &str| s.replace('"', "#quot;");
    let mut out = String::from("flowchart LR\n");
    for line in summary(g) {
        let _ = writeln!(out, "  %% {line}");
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let _ = match n.kind {
            NodeKind::Stage => {
                let mark = if i == g.target { " (target)" } else { "" };
                let label = format!("{}{mark}<br/>{}", q(&n.label), steps(n.steps));
                writeln!(out, "  {}[\"{label}\"]", id(g, i))
            }
            NodeKind::Image => writeln!(out, "  {}([\"{}\"])", id(g, i), q(&n.label)),
        };
    }
    for e in &g.edges {
        let arrow = if g.is_critical(e) {
            "==>"
        } else if !g.nodes.get(e.to).is_some_and(|n| n.reachable) {
            "-.->"
        } else {
            "-->"
        };
        let (from, to) = (id(g, e.from), id(g, e.to));
        let _ = writeln!(out, "  {from} {arrow}|\"{}\"| {to}", e.kind.label());
    }
    let mut legend = summary(g).map(|l| q(&l)).join("<br/>");
    legend.push_str("<br/>thick: critical path, dotted: pruned");
    let _ = writeln!(out, "  legend[\"{legend}\"]");
    out.push_str(
        "  classDef pruned fill:#f4f4f4,stroke:#aaa,stroke-dasharray:4 3,color:#999\n  \
         classDef image fill:#eef4ff,stroke:#5b7db1\n  \
         classDef critical stroke:#c0392b,stroke-width:2px\n  \
         classDef legend fill:#fffbe6,stroke:#d4b106,text-align:left\n",
    );
    let class = |name: &str, ids: Vec<String>| {
        (!ids.is_empty()).then(|| format!("  class {} {name}\n", ids.join(",")))
    };
    let pick = |f: &dyn Fn(usize) -> bool| -> Vec<String> {
        (0..g.nodes.len())
            .filter(|i| f(*i))
            .map(|i| id(g, i))
            .collect()
    };
    let classes = [
        class("pruned", pick(&|i| !g.nodes[i].reachable)),
        class("image", pick(&|i| g.nodes[i].kind == NodeKind::Image)),
        class("critical", pick(&|i| g.critical_path.contains(&i))),
        class("legend", vec!["legend".into()]),
    ];
    out.extend(classes.into_iter().flatten());
    out
}

/// JSON: stages, images, labelled edges, pruned stages, parallel width and critical path.
pub fn json(g: &Graph) -> String {
    let stages: Vec<_> = g
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.kind == NodeKind::Stage)
        .map(|(i, n)| {
            json!({
                "index": i,
                "name": n.label,
                "base": n.base,
                "line": n.line,
                "steps": n.steps,
                "reachable": n.reachable,
                "level": n.level,
            })
        })
        .collect();
    let images: Vec<_> = g
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Image)
        .map(|n| json!({"name": n.label, "reachable": n.reachable}))
        .collect();
    let label = |i: usize| g.nodes.get(i).map_or("", |n| n.label.as_str());
    let edges: Vec<_> = g
        .edges
        .iter()
        .map(|e| {
            let source = match g.nodes.get(e.from).map(|n| n.kind) {
                Some(NodeKind::Stage) => "stage",
                _ => "image",
            };
            json!({
                "from": label(e.from),
                "from_kind": source,
                "to": label(e.to),
                "kind": e.kind.label(),
                "critical": g.is_critical(e),
            })
        })
        .collect();
    let doc = json!({
        "target": label(g.target),
        "stages": stages,
        "images": images,
        "edges": edges,
        "pruned": g.pruned(),
        "parallel_width": g.width,
        "critical_path": {"stages": g.critical_labels(), "steps": g.critical_steps},
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
