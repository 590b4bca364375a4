//! Stages.

use super::*;
use stager::pipeline;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Every shape of `benches/shapes` at 100,000 lines converts within [`BOUND`]. A shape that
/// grows quadratically again cannot: 50,000 `ARG`s once took 13.5 s in a release build (twice
/// the lines, four times that), while a linear conversion of any shape at this size takes
/// seconds in a debug build. One test per shape, so that they run side by side.
fn shape_converts(shape: &str) {
    let (_, generate) = (shapes::SHAPES.iter())
        .find(|(name, _)| *name == shape)
        .unwrap_or_else(|| panic!("no shape {shape}"));
    let df = generate(SHAPE_LINES);
    let converted = expect_ok(&format!("{shape}, {SHAPE_LINES} lines"), df.as_bytes());
    assert!(!converted.definition.def.is_empty(), "{shape}");
}

const SHAPE_LINES: usize = 100_000;

#[test]
fn shapes_are_all_tested() {
    let tested = [
        "arg",
        "env",
        "label",
        "run",
        "expose",
        "copy-from",
        "from",
        "mounts",
        "heredoc",
        "nesting",
    ];
    let all: Vec<&str> = shapes::SHAPES.iter().map(|(name, _)| *name).collect();
    assert_eq!(all, tested, "a shape without its test below");
}

#[test]
fn linear_arg() {
    shape_converts("arg");
}

#[test]
fn linear_env() {
    shape_converts("env");
}

#[test]
fn linear_label() {
    shape_converts("label");
}

#[test]
fn linear_run() {
    shape_converts("run");
}

#[test]
fn linear_expose() {
    shape_converts("expose");
}

#[test]
fn linear_copy_from() {
    shape_converts("copy-from");
}

#[test]
fn linear_from() {
    shape_converts("from");
}

#[test]
fn linear_mounts() {
    shape_converts("mounts");
}

#[test]
fn linear_heredoc() {
    shape_converts("heredoc");
}

#[test]
fn linear_nesting() {
    shape_converts("nesting");
}

/// The checks and the stage graph of the chains of stages at 100,000 lines (each once scanned
/// the stage list per stage).
#[test]
fn chains_of_stages_check_and_graph_linearly() {
    for (shape, generate) in shapes::SHAPES {
        if !matches!(shape, "copy-from" | "from") {
            continue;
        }
        let df = generate(SHAPE_LINES);
        let report = timed(&format!("check, {shape}"), || {
            stager::check::run(df.as_bytes(), &options(), &BTreeMap::new(), true)
        });
        assert!(report.error.is_none(), "{shape}: {:?}", report.error);
        let json = timed(&format!("graph, {shape}"), || {
            let parsed = pipeline::parse(df.as_bytes()).expect("parses");
            let plan = pipeline::plan(&parsed, &options()).expect("plans");
            stager::outline::json(&stager::outline::Graph::new(&plan))
        });
        assert!(json.contains("critical_path"), "{shape}");
    }
}

#[test]
fn ten_thousand_independent_stages() {
    let mut df = String::new();
    for i in 0..10_000 {
        writeln!(df, "FROM scratch AS s{i}\nLABEL n={i}").unwrap();
    }
    let converted = expect_ok("10k stages", df.as_bytes());
    assert_eq!(label(&converted, "n"), Some("9999"));
}

/// `n` stages, each `FROM` the one before with one COPY from it: all reachable from the target.
fn stage_chain(n: usize) -> String {
    let mut df = String::from("FROM scratch AS s0\nCOPY a /a\n");
    for i in 1..n {
        writeln!(
            df,
            "FROM s{p} AS s{i}\nCOPY --from=s{p} /a /a{i}",
            p = i - 1
        )
        .unwrap();
    }
    df
}

#[test]
fn stages_in_a_chain_convert() {
    let converted = expect_ok("1000 chained stages", stage_chain(1000).as_bytes());
    assert!(converted.definition.def.len() > 1000);
    assert_eq!(converted.image.history.len(), 1000);
}

/// BUG (see tests/regressions/README.md): every dispatched stage keeps its own copy of its
/// image config, whose history grows by one entry per instruction along a chain of stages, so
/// a chain of n stages takes O(n²) time and memory (10,000 stages, a 330 KB Dockerfile: about
/// 10 GB and 50 s in a debug build).
#[test]
fn stage_chain_memory_is_linear() {
    let peak = |n: usize| {
        let df = stage_chain(n);
        peak_of(|| run(df.as_bytes()).map(|_| ())).1
    };
    let (small, large) = (peak(1_000), peak(2_000));
    assert!(
        large < 3 * small,
        "doubling a chain of stages from 1000 to 2000 took the peak memory from {} KiB to {} KiB",
        small >> 10,
        large >> 10
    );
}

#[test]
fn ten_thousand_stages_by_index() {
    let mut df = String::from("FROM scratch\nCOPY a /a\n");
    for i in 1..10_000 {
        writeln!(df, "FROM {}\nCOPY --from={} /a /a", i - 1, i - 1).unwrap();
    }
    // `FROM 0` is an image named "0", `COPY --from=0` the stage with index 0.
    let _ = pipeline_timed("10k stages by index", df.as_bytes());
}

#[test]
fn from_a_as_a_is_an_image_not_a_cycle() {
    let converted = expect_ok("FROM a AS a", b"FROM a AS a\nRUN true\n");
    assert!(dump(&converted).contains("docker.io/library/a:latest"));
}

#[test]
fn mutual_stage_names_are_images_not_cycles() {
    // `b` in the first FROM is not yet a stage: it is an image.
    let converted = expect_ok(
        "FROM b AS a / FROM a AS b",
        b"FROM b AS a\nRUN one\nFROM a AS b\nRUN two\n",
    );
    let json = dump(&converted);
    assert!(json.contains("docker.io/library/b:latest"), "{json}");
    assert!(json.contains("one") && json.contains("two"));
}

#[test]
fn copy_from_itself_is_an_error() {
    for (what, df) in [
        ("by name", "FROM scratch AS a\nCOPY --from=a /x /y\n"),
        ("by index", "FROM scratch AS a\nCOPY --from=0 /x /y\n"),
        (
            "by name, upper case",
            "FROM scratch AS a\nCOPY --from=A /x /y\n",
        ),
    ] {
        let e = expect_err(what, df.as_bytes());
        assert!(
            e.to_string().contains("cannot copy from stage"),
            "{what}: {e}"
        );
        assert_eq!(e.line(), Some(2), "{what}");
    }
}

#[test]
fn copy_from_a_later_stage_is_an_error() {
    for (what, df) in [
        (
            "by name",
            "FROM scratch AS a\nCOPY --from=b /x /y\nFROM scratch AS b\nCOPY --from=a /x /y\n",
        ),
        (
            "by index",
            "FROM scratch AS a\nCOPY --from=1 /x /y\nFROM scratch AS b\n",
        ),
    ] {
        let e = expect_err(what, df.as_bytes());
        assert!(
            e.to_string().contains("cannot copy from stage"),
            "{what}: {e}"
        );
    }
    let e = expect_err("index past the end", b"FROM scratch\nCOPY --from=7 /x /y\n");
    assert_eq!(e.to_string().lines().next(), Some("invalid stage index 7"));
}

#[test]
fn mount_from_itself_or_a_later_stage_is_an_error() {
    for df in [
        "FROM scratch AS a\nRUN --mount=from=a,target=/m true\n",
        "FROM scratch AS a\nRUN --mount=from=b,target=/m true\nFROM scratch AS b\n",
    ] {
        let e = expect_err("mount from", df.as_bytes());
        assert!(e.to_string().contains("cannot mount from stage"), "{e}");
    }
}

#[test]
fn target_names_a_stage_defined_twice() {
    // A duplicate name is BuildKit's error, whatever the target.
    let df = b"FROM scratch AS a\nFROM scratch AS a\n";
    let _ = pipeline_timed("duplicate names", df);
    let mut opts = options();
    opts.target = Some("a".into());
    let _ = timed("duplicate names, target", || run_with(df, &opts));
}
