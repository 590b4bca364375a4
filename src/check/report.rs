//! The shapes findings are shown in: the official `frontend.lint` result (`result.json`,
//! `result.txt`, `result.statuscode`), and `stager check`'s linter lines.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::lint::{Finding, Origin};
use crate::outline::Answer;
use crate::proto::pb;

use super::Report;

/// The `frontend.lint` answer: official findings only, as the official frontend sends them.
pub fn lint_answer(
    report: &Report,
    filename: &str,
    source: &[u8],
    definition: Option<&pb::Definition>,
) -> (Answer, bool) {
    let official: Vec<&Finding> = (report.findings.iter())
        .filter(|f| f.rule.origin == Origin::Official)
        .collect();
    let json = to_json_of(&official, report, filename, source, definition);
    let text = text_of(&official, filename, source);
    let failed = !official.is_empty() || report.error.is_some();
    (
        Answer {
            json,
            text,
            version: "1.0.0",
        },
        failed,
    )
}

/// `result.json` of every finding (stager's advice included), for `stager check --format json`.
pub fn to_json(report: &Report, filename: &str, source: &[u8]) -> String {
    let all: Vec<&Finding> = report.findings.iter().collect();
    to_json_of(&all, report, filename, source, None)
}

/// `result.txt` of every finding.
pub fn text(report: &Report, filename: &str, source: &[u8]) -> String {
    let all: Vec<&Finding> = report.findings.iter().collect();
    text_of(&all, filename, source)
}

fn location(ranges: &[(u32, u32)]) -> Value {
    serde_json::to_value(crate::outline::Location::ranges(ranges)).unwrap_or_default()
}

fn to_json_of(
    findings: &[&Finding],
    report: &Report,
    filename: &str,
    source: &[u8],
    definition: Option<&pb::Definition>,
) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let warnings: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut w = Map::new();
            w.insert("ruleName".into(), json!(f.rule.name));
            for (k, v) in [
                ("description", f.rule.description),
                ("url", f.rule.url),
                ("detail", f.message.as_str()),
            ] {
                if !v.is_empty() {
                    w.insert(k.into(), json!(v));
                }
            }
            w.insert("location".into(), location(&f.ranges));
            Value::Object(w)
        })
        .collect();
    let mut info = Map::new();
    info.insert("filename".into(), json!(filename));
    if !source.is_empty() {
        info.insert("data".into(), json!(b64(source)));
    }
    if let Some(def) = definition {
        info.insert("definition".into(), definition_json(def));
    }
    info.insert("language".into(), json!("Dockerfile"));
    let mut root = Map::new();
    root.insert("warnings".into(), Value::Array(warnings));
    root.insert("sources".into(), json!([Value::Object(info)]));
    if let Some(e) = &report.error {
        root.insert(
            "buildError".into(),
            json!({"message": e.message, "location": location(&e.ranges)}),
        );
    }
    crate::outline::go_json(&Value::Object(root))
}

/// A `pb.Definition` as Go's encoding/json writes the generated struct.
fn definition_json(def: &pb::Definition) -> Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut out = Map::new();
    if !def.def.is_empty() {
        out.insert(
            "def".into(),
            Value::Array(def.def.iter().map(|d| json!(b64(d))).collect()),
        );
    }
    if !def.metadata.is_empty() {
        let mut metadata = Map::new();
        for (digest, m) in &def.metadata {
            let mut entry = Map::new();
            if m.ignore_cache {
                entry.insert("ignore_cache".into(), json!(true));
            }
            if !m.description.is_empty() {
                entry.insert("description".into(), json!(m.description));
            }
            if !m.caps.is_empty() {
                let caps: BTreeMap<&String, &bool> = m.caps.iter().collect();
                entry.insert("caps".into(), json!(caps));
            }
            metadata.insert(digest.clone(), Value::Object(entry));
        }
        out.insert("metadata".into(), Value::Object(metadata));
    }
    Value::Object(out)
}

/// `result.txt`: each finding with its rule, URL, detail and the Dockerfile excerpt, by line.
fn text_of(findings: &[&Finding], filename: &str, source: &[u8]) -> String {
    let mut sorted: Vec<&&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| (f.ranges.is_empty(), f.line()));
    let mut out = String::new();
    for f in sorted {
        out.push_str(&format!("\nWARNING: {}", f.rule.name));
        if !f.rule.url.is_empty() {
            out.push_str(&format!(" - {}", f.rule.url));
        }
        out.push_str(&format!("\n{}\n", f.message));
        out.push_str(&excerpt(filename, source, &f.ranges));
    }
    out
}

/// BuildKit's `errdefs.Source.Print`: the lines with two (one-line ranges: four) lines of
/// context, the ranges marked `>>>`.
pub fn excerpt(filename: &str, source: &[u8], ranges: &[(u32, u32)]) -> String {
    let text = String::from_utf8_lossy(source);
    let lines: Vec<&str> = text.split('\n').collect();
    let (Some(first), Some(last)) = (
        ranges.iter().map(|r| r.0).min(),
        ranges.iter().map(|r| r.1).max(),
    ) else {
        return String::new();
    };
    let (mut start, mut end) = (first as usize, last as usize);
    if start < 1 || start > lines.len() {
        return String::new();
    }
    end = end.min(lines.len());
    let pad = if start == end { 4 } else { 2 };
    let mut p = 0;
    while p < pad {
        if start > 1 {
            start -= 1;
            p += 1;
        }
        if end != lines.len() {
            end += 1;
            p += 1;
        }
        p += 1;
    }
    let marked = |l: usize| {
        ranges
            .iter()
            .any(|r| (r.0 as usize..=r.1 as usize).contains(&l))
    };
    let rule = "-".repeat(20);
    let mut out = format!("{filename}:{first}\n{rule}\n");
    for (i, line) in lines.iter().enumerate().take(end).skip(start - 1) {
        let n = i + 1;
        let pfx = if marked(n) { ">>>" } else { "   " };
        out.push_str(&format!(" {n:>3} | {pfx} {line}\n"));
    }
    out.push_str(&rule);
    out.push('\n');
    out
}
