//! Heredocs.

use super::*;
use std::fmt::Write as _;

#[test]
fn huge_heredoc() {
    // 16 MB of heredoc body in one RUN and one COPY.
    let body: String = (0..200_000).map(|i| format!("line {i:>70}\n")).collect();
    let df = format!("FROM scratch\nRUN <<EOF\n{body}EOF\nCOPY <<EOF /big\n{body}EOF\n");
    let converted = expect_ok("huge heredoc", df.as_bytes());
    assert!(!converted.definition.def.is_empty());
}

#[test]
fn many_heredocs_in_one_instruction() {
    let mut first = String::from("FROM scratch\nRUN cat");
    let mut bodies = String::new();
    for i in 0..2_000 {
        write!(first, " <<E{i}").unwrap();
        writeln!(bodies, "body {i}\nE{i}").unwrap();
    }
    let df = format!("{first}\n{bodies}");
    let _ = pipeline_timed("2000 heredocs", df.as_bytes());
}

#[test]
fn unterminated_heredoc_of_many_lines() {
    let df = format!("FROM scratch\nRUN <<EOF\n{}", "x\n".repeat(200_000));
    let e = expect_err("unterminated heredoc", df.as_bytes());
    assert_eq!(e.to_string(), "unterminated heredoc");
}
