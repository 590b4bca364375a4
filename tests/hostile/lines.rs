//! Line length and line count.

use super::*;
use stager::pipeline;
use std::fmt::Write as _;

#[test]
fn line_over_64k_is_an_error_naming_the_line() {
    let mut df = b"FROM scratch\nRUN echo ".to_vec();
    df.extend(std::iter::repeat_n(b'x', 70_000));
    df.extend_from_slice(b"\nRUN true\n");
    let e = expect_err("long line", &df);
    assert_eq!(
        e.to_string(),
        "dockerfile line greater than max allowed size of 65535"
    );
    // As BuildKit: the location is the scanner's current line, the last line read whole (the
    // one before the long line), not the long line itself.
    assert_eq!(e.line(), Some(1));
    // Deeper in the file, inside a continued instruction.
    let mut df = b"FROM scratch\nRUN a \\\n b \\\n c \\\n".to_vec();
    df.extend(std::iter::repeat_n(b'x', 100_000));
    let e = expect_err("long line after continuations", &df);
    assert_eq!(e.line(), Some(4));
    // A file that is one 1 MiB line with no newline: no instruction was read.
    let e = expect_err("one long line", &vec![b'a'; 1 << 20]);
    assert_eq!(e.to_string(), "file with no instructions");
}

#[test]
fn line_of_exactly_the_limit() {
    // 65535 bytes and the newline fill BuildKit's 64 KiB scanner buffer exactly: that fits.
    let line = |len: usize| {
        let mut df = b"FROM scratch\nLABEL a=".to_vec();
        df.extend(std::iter::repeat_n(b'x', len - "LABEL a=".len()));
        df.extend_from_slice(b"\n");
        df
    };
    let converted = expect_ok("65535-byte line", &line(65_535));
    assert_eq!(label(&converted, "a").map(str::len), Some(65_535 - 8));
    // One byte more does not.
    let e = expect_err("65536-byte line", &line(65_536));
    assert_eq!(
        e.to_string(),
        "dockerfile line greater than max allowed size of 65535"
    );
}

#[test]
fn many_long_lines_stay_bounded() {
    // 200 lines of 60 KiB each (12 MB) continued into one RUN: under the per-line limit.
    let mut df = b"FROM scratch\nRUN echo \\\n".to_vec();
    for _ in 0..200 {
        df.extend(std::iter::repeat_n(b'y', 60_000));
        df.extend_from_slice(b" \\\n");
    }
    df.extend_from_slice(b"end\n");
    let converted = expect_ok("200 long continued lines", &df);
    assert!(dump(&converted).contains("end"));
}

#[test]
fn hundred_thousand_continuation_lines() {
    let mut df = String::from("FROM scratch\nRUN echo \\\n");
    for i in 0..100_000 {
        writeln!(df, "  w{i} \\").unwrap();
    }
    df.push_str("  last\n");
    let converted = expect_ok("100k continuation lines", df.as_bytes());
    let json = dump(&converted);
    assert!(json.contains("w99999 ") && json.contains("last"));
}

#[test]
fn hundred_thousand_empty_continuation_lines() {
    // Empty continuation lines are skipped with a warning each.
    let mut df = String::from("FROM scratch\nRUN echo a \\\n");
    df.push_str(&"\n".repeat(100_000));
    df.push_str("  b\n");
    let parsed = timed("empty continuations", || pipeline::parse(df.as_bytes()));
    let _ = parsed.expect("parses");
    let _ = pipeline_timed("empty continuations", df.as_bytes());
}

#[test]
fn hundred_thousand_comment_lines_inside_an_instruction() {
    let mut df = String::from("FROM scratch\nRUN echo a \\\n");
    for _ in 0..100_000 {
        df.push_str("# comment \\\n");
    }
    df.push_str("  b\n");
    let _ = pipeline_timed("comments in continuation", df.as_bytes());
}

#[test]
fn hundred_thousand_instructions() {
    let mut df = String::from("FROM scratch\n");
    for i in 0..100_000 {
        writeln!(df, "LABEL l{i}=v").unwrap();
    }
    let converted = expect_ok("100k labels", df.as_bytes());
    assert_eq!(label_count(&converted), 100_000);
}
