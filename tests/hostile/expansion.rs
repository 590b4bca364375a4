//! Expansion.

use super::*;
use stager::pipeline::{self, Converted};
use stager::shell::{Env, Lexer};
use std::fmt::Write as _;

/// `ARG L0=x`, `ARG L1=${L0}${L0}`, … `levels` deep, in `scope` ("global" or "stage").
fn doubling_args(levels: usize, keyword: &str, global: bool) -> String {
    let mut decls = format!("{keyword} L0=x\n");
    for i in 1..levels {
        writeln!(decls, "{keyword} L{i}=${{L{p}}}${{L{p}}}", p = i - 1).unwrap();
    }
    let last = levels - 1;
    if global {
        format!("{decls}FROM scratch\nARG L{last}\nLABEL last=${{L{last}}}\n")
    } else {
        format!("FROM scratch\n{decls}LABEL last=${{L{last}}}\n")
    }
}

/// The outcome of a bounded expansion: a correct result, or an error that names the limit.
fn check_expansion(what: &str, result: Result<Converted, pipeline::Error>, expect_len: u64) {
    match result {
        Ok(converted) => {
            let got = label(&converted, "last").map_or(0, |v| v.len() as u64);
            assert_eq!(got, expect_len, "{what}: a result must be the correct one");
        }
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty(), "{what}: an error must say something");
            assert!(
                e.line().is_some(),
                "{what}: the error names no line: {text}"
            );
        }
    }
}

#[test]
fn exponential_arg_doubling_is_bounded() {
    for global in [true, false] {
        for levels in [10, 40] {
            let df = doubling_args(levels, "ARG", global);
            let what = format!("ARG doubling, {levels} levels, global={global}");
            let result = pipeline_timed(&what, df.as_bytes());
            check_expansion(&what, result, 1 << (levels - 1));
        }
    }
}

#[test]
fn exponential_env_doubling_is_bounded() {
    for levels in [10, 40] {
        let df = doubling_args(levels, "ENV", false);
        let what = format!("ENV doubling, {levels} levels");
        let result = pipeline_timed(&what, df.as_bytes());
        check_expansion(&what, result, 1 << (levels - 1));
    }
}

#[test]
fn exponential_doubling_through_build_args() {
    // The same through --build-arg values, which are expanded nowhere but used in ARG defaults.
    let mut opts = options();
    opts.build_args.insert("L0".into(), "x".repeat(1024));
    let df = doubling_args(40, "ARG", true);
    let result = timed("build-arg doubling", || run_with(df.as_bytes(), &opts));
    check_expansion("build-arg doubling", result, 1024 << 39);
}

#[test]
fn exponential_replacement_chains_are_bounded() {
    // ${A//x/${A}${A}}: every level squares, then some.
    let mut df = String::from("FROM scratch\nARG A0=xxxxxxxx\n");
    for i in 1..12 {
        let p = i - 1;
        writeln!(df, "ARG A{i}=${{A{p}//x/${{A{p}}}${{A{p}}}}}").unwrap();
    }
    df.push_str("LABEL last=${A11}\n");
    let result = pipeline_timed("replacement chain", df.as_bytes());
    if let Ok(c) = &result {
        // The output is far over the expansion limit if it were correct: it cannot succeed.
        panic!(
            "replacement chain: converted with {} bytes",
            label(c, "last").map_or(0, str::len)
        );
    }
}

#[test]
fn exponential_replacement_in_one_word_is_bounded() {
    // One word whose nested replacements multiply: ${A//x/${A//x/${A//x/…}}}.
    let a = "x".repeat(64);
    let env = Env::from_pairs([("A", a.as_str())]);
    let lexer = Lexer::new('\\');
    let mut word = String::from("${A}");
    for _ in 0..10 {
        word = format!("${{A//x/{word}}}");
    }
    let result = timed("nested replacement", || lexer.process_word(&word, &env));
    match result {
        Ok(out) => panic!("64^11 bytes cannot be produced, got {}", out.len()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    // And through the pipeline.
    let df = format!("FROM scratch\nARG A={a}\nLABEL last={word}\n");
    let _ = expect_err("nested replacement in LABEL", df.as_bytes());
}

#[test]
fn many_references_in_one_word_are_bounded() {
    // 30,000 references to a 1 KiB value in one word: 30 MB, over the per-word limit.
    let word = "${A}".repeat(30_000);
    let df = format!(
        "FROM scratch\nARG A={}\nENV B=\\\n{}\n",
        "x".repeat(1024),
        word.as_bytes()
            .chunks(60_000)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\\\n")
    );
    let result = pipeline_timed("30k references", df.as_bytes());
    if let Ok(c) = result {
        let env = c.image.config.env.unwrap_or_default();
        let b = env.iter().find(|e| e.starts_with("B=")).map(String::len);
        assert_eq!(b, Some(2 + 30_000 * 1024));
    }
}

#[test]
fn deep_nesting_of_expansions() {
    for depth in [63, 64, 65, 100, 101, 10_000] {
        let word = format!("{}x{}", "${A:-".repeat(depth), "}".repeat(depth));
        let lexer = Lexer::new('\\');
        let env = Env::new();
        let result = timed("nesting, lexer", || lexer.process_word(&word, &env));
        if depth <= stager::shell::MAX_NESTING {
            assert_eq!(result.expect("within the limit"), "x", "depth {depth}");
        } else {
            assert!(result.is_err(), "depth {depth}");
        }
        // In instructions that expand (the line stays under 64 KiB).
        let df = format!("FROM scratch\nENV B={word}\nLABEL c={word}\nWORKDIR /{word}\n");
        let _ = pipeline_timed(&format!("nesting {depth}"), df.as_bytes());
        // Unclosed.
        let df = format!("FROM scratch\nENV B={}\n", "${A:-".repeat(depth));
        let _ = pipeline_timed(&format!("unclosed nesting {depth}"), df.as_bytes());
        // In a heredoc delimiter, which the parser lexes itself.
        let df = format!("FROM scratch\nRUN <<{word}\nbody\n{word}\n");
        let _ = pipeline_timed(&format!("heredoc nesting {depth}"), df.as_bytes());
    }
}

#[test]
fn deep_brackets_in_json_and_patterns() {
    let df = format!(
        "FROM scratch\nCMD {}{}\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let _ = pipeline_timed("deep JSON", df.as_bytes());
    let df = format!("FROM scratch\nCMD [\"{}\"]\n", "\\\\".repeat(30_000));
    let _ = pipeline_timed("JSON escapes", df.as_bytes());
    // A pattern of many stars against a long value (no exponential backtracking).
    let df = format!(
        "FROM scratch\nARG A={}\nLABEL c=${{A#{}b}}\nLABEL d=${{A//{}b/y}}\n",
        "a".repeat(4000),
        "*a".repeat(200),
        "*a".repeat(200)
    );
    let converted = expect_ok("star patterns", df.as_bytes());
    assert_eq!(label(&converted, "c").map(str::len), Some(4000));
}
