//! Hostile input through the whole pipeline (`pipeline::parse` -> `plan` -> `convert`, default
//! options, no resolved base images): every case must end with a clear error or a correct
//! result, never a panic, a stack overflow or unbounded time or memory.
//!
//! Each case is bounded by construction (fixed input sizes); the wall-clock bound asserted is
//! loose ([`BOUND`]) since CI machines and debug builds vary. `tests/regressions/*` holds inputs
//! found by fuzzing (`fuzz/`); [`regressions`] replays every one of them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;

#[path = "../benches/shapes/mod.rs"]
mod shapes;
use stager::image::Platform;
use stager::options::BuildOptions;
use stager::pipeline::{self, ConvertContext, Converted};
use stager::shell::{Env, Lexer};

/// How long one case may take, loosely: this guards against hangs and blow-ups, not speed
/// (that is `make bench`). A bounded case takes well under a second in release; unoptimised
/// test builds on a loaded 2-core CI machine get much more (10,000 stages took 16 s there).
const BOUND: Duration = Duration::from_secs(if cfg!(debug_assertions) { 90 } else { 10 });

/// How many bytes one case may have allocated at once (on its own thread) beyond what it had.
const MEMORY_BOUND: usize = 512 << 20;

/// Counts the bytes each thread has allocated and not freed, and the peak since [`timed`] reset
/// it, so that a case can assert a memory bound without an external tool. The pipeline runs on
/// the test's thread; a block freed on another thread than the one that allocated it only
/// makes that thread's count low, which is harmless here.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add_live(delta: isize) {
    // `try_with`: the thread's locals may already be gone while it exits.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is forwarded to `System` unchanged; the counters use no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on to `System`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add_live(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add_live(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        add_live(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add_live(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes allocated by `f` on this thread beyond what was live when it started.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, usize::try_from(peak - start).unwrap_or(0))
}

fn options() -> BuildOptions {
    BuildOptions::new(Platform::new("linux", "amd64", None))
}

/// The whole pipeline with default options and no base images.
fn run_with(bytes: &[u8], opts: &BuildOptions) -> Result<Converted, pipeline::Error> {
    let parsed = pipeline::parse(bytes)?;
    let plan = pipeline::plan(&parsed, opts)?;
    let _ = plan.base_images();
    let ctx = ConvertContext {
        options: opts,
        llb_caps: Default::default(),
        source_info: None,
    };
    pipeline::convert(&plan, parsed.dockerfile.escape, &BTreeMap::new(), &ctx)
}

fn run(bytes: &[u8]) -> Result<Converted, pipeline::Error> {
    run_with(bytes, &options())
}

/// Runs `f`, fails if it took longer than [`BOUND`] or allocated more than [`MEMORY_BOUND`] at
/// once, and returns its result.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let (out, peak) = peak_of(f);
    let took = start.elapsed();
    assert!(
        peak < MEMORY_BOUND,
        "{what}: allocated {} MiB at once, bound {} MiB",
        peak >> 20,
        MEMORY_BOUND >> 20
    );
    assert!(took < BOUND, "{what}: took {took:?}, bound {BOUND:?}");
    out
}

/// The pipeline, timed; errors are rendered (line ranges, located message) as the edges do.
fn pipeline_timed(what: &str, bytes: &[u8]) -> Result<Converted, pipeline::Error> {
    timed(what, || {
        let result = run(bytes);
        if let Err(e) = &result {
            let _ = e.ranges();
            let _ = e.located_message("Dockerfile");
        }
        result
    })
}

fn expect_err(what: &str, bytes: &[u8]) -> pipeline::Error {
    match pipeline_timed(what, bytes) {
        Ok(_) => panic!("{what}: converted, an error was expected"),
        Err(e) => e,
    }
}

fn expect_ok(what: &str, bytes: &[u8]) -> Converted {
    pipeline_timed(what, bytes).unwrap_or_else(|e| panic!("{what}: {e} (line {:?})", e.line()))
}

/// A label of the converted image.
fn label<'a>(converted: &'a Converted, key: &str) -> Option<&'a str> {
    let labels = converted.image.config.labels.as_ref()?;
    labels.get(key).map(String::as_str)
}

fn label_count(converted: &Converted) -> usize {
    converted
        .image
        .config
        .labels
        .as_ref()
        .map_or(0, |l| l.len())
}

/// The readable JSON of a definition, for looking into what was converted.
fn dump(converted: &Converted) -> String {
    serde_json::to_string(&stager::llb::dump(&converted.definition)).expect("dump JSON")
}

// ---------------------------------------------------------------------------------------------
// Line length and line count

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

// ---------------------------------------------------------------------------------------------
// Stages

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

// ---------------------------------------------------------------------------------------------
// Bytes that are not text

#[test]
fn invalid_utf8_and_nul_bytes() {
    let cases: &[&[u8]] = &[
        b"FROM scratch\nRUN \xff\xfe\xfd\n",
        b"FROM scratch\nRUN echo \x00\n",
        b"FROM \x00\n",
        b"FROM scr\x00atch\n",
        b"FROM scratch AS \xff\n",
        b"FROM scratch\nLABEL \xff=\xfe\n",
        b"FROM scratch\nENV \x00=\x00\nRUN echo $\x00\n",
        b"FROM scratch\nCOPY \xff /\xfe\n",
        b"FROM scratch\nWORKDIR /\x00/\xc3\n",
        b"FROM scratch\nUSER \x00:\x00\n",
        b"FROM scratch\nEXPOSE \xff\n",
        b"FROM scratch\nCMD [\"\x00\", \"\xff\"]\n",
        b"FROM scratch\nRUN <<\xff\nbody\n\xff\n",
        b"\xEF\xBB\xBF\xEF\xBB\xBFFROM scratch\n",
        b"# escape=\xff\nFROM scratch\n",
        b"# syntax=\x00\nFROM scratch\n",
        b"\x00\x00\x00\x00",
        b"\xff\xff\xff\xff\n\xff",
        b"FROM scratch\r\r\r\nRUN a\r\n",
    ];
    for (i, df) in cases.iter().enumerate() {
        let _ = pipeline_timed(&format!("binary case {i}"), df);
        if let Ok(parsed) = stager::syntax::parse(df) {
            let _ = parsed.dump();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expansion

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

// ---------------------------------------------------------------------------------------------
// Heredocs

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

// ---------------------------------------------------------------------------------------------
// Flags

#[test]
fn ten_thousand_mount_flags() {
    for (what, spec) in [
        ("cache", "type=cache,target=/c{i}"),
        ("bind", "type=bind,target=/b{i},source=/s"),
        ("tmpfs", "type=tmpfs,target=/t{i}"),
        ("secret", "type=secret,id=s{i}"),
        ("same target", "type=cache,target=/same"),
    ] {
        let mut df = String::from("FROM scratch\nRUN \\\n");
        for i in 0..10_000 {
            writeln!(df, "  --mount={} \\", spec.replace("{i}", &i.to_string())).unwrap();
        }
        df.push_str("  true\n");
        let _ = pipeline_timed(&format!("10k mounts, {what}"), df.as_bytes());
    }
}

#[test]
fn ten_thousand_other_flags() {
    for flag in [
        "--network=none",
        "--security=insecure",
        "--from=x",
        "--chown=1:1",
        "--unknown=1",
        "--exclude=*.x",
    ] {
        for keyword in ["RUN", "COPY"] {
            let mut df = format!("FROM scratch\n{keyword} \\\n");
            for _ in 0..10_000 {
                writeln!(df, "  {flag} \\").unwrap();
            }
            df.push_str("  a b\n");
            let _ = pipeline_timed(&format!("10k {flag} on {keyword}"), df.as_bytes());
        }
    }
}

#[test]
fn ten_thousand_copy_sources() {
    let mut df = String::from("FROM scratch\nCOPY \\\n");
    for i in 0..10_000 {
        writeln!(df, "  src{i} \\").unwrap();
    }
    df.push_str("  /dst/\n");
    let _ = expect_ok("10k COPY sources", df.as_bytes());
}

#[test]
fn onbuild_chains_and_floods() {
    let df = format!("FROM scratch\n{}RUN x\n", "ONBUILD ".repeat(5_000));
    let _ = expect_err("ONBUILD chain", df.as_bytes());
    let mut df = String::from("FROM scratch\n");
    for i in 0..10_000 {
        writeln!(df, "ONBUILD RUN echo {i}").unwrap();
    }
    let converted = expect_ok("10k ONBUILD", df.as_bytes());
    assert_eq!(
        converted.image.config.on_build.map(|o| o.len()),
        Some(10_000)
    );
}

// ---------------------------------------------------------------------------------------------
// Fuzzing regressions

/// Every file in `tests/regressions` (inputs found by fuzzing and minimal reproductions of
/// known bugs, described in its README.md) through the parser and the whole pipeline, within
/// the time and memory bounds. All are run; the failures are listed together.
#[test]
fn regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "md"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path).expect("regression input");
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let replay = std::panic::catch_unwind(|| {
            if let Ok(df) = stager::syntax::parse(&bytes) {
                let _ = df.dump();
            }
            let _ = pipeline_timed(&name, &bytes);
        });
        if let Err(panic) = replay {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| format!("{name}: panicked"));
            failures.push(text);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Pieces of Dockerfile syntax, so that random inputs reach stages, flags, heredocs, expansion.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let pieces: Vec<&'static [u8]> = vec![
        b"FROM ",
        b"FROM scratch",
        b"FROM alpine AS ",
        b" AS ",
        b"RUN ",
        b"COPY ",
        b"ADD ",
        b"ENV ",
        b"ARG ",
        b"LABEL ",
        b"WORKDIR ",
        b"USER ",
        b"EXPOSE ",
        b"VOLUME ",
        b"ONBUILD ",
        b"HEALTHCHECK ",
        b"CMD ",
        b"ENTRYPOINT ",
        b"SHELL ",
        b"STOPSIGNAL ",
        b"MAINTAINER ",
        b"--from=",
        b"--mount=",
        b"type=cache,target=/c",
        b"type=bind,from=",
        b"type=secret,id=",
        b"--chown=",
        b"--chmod=",
        b"--link",
        b"--network=",
        b"--platform=",
        b"--exclude=",
        b"--parents",
        b"--interval=",
        b"# escape=`\n",
        b"# syntax=x\n",
        b"#",
        b"<<",
        b"<<-",
        b"EOF",
        b"0",
        b"1",
        b"a",
        b"b",
        b"/",
        b"\\",
        b"`",
        b"\n",
        b"\r\n",
        b" ",
        b"\t",
        b"\"",
        b"'",
        b"[",
        b"]",
        b",",
        b"=",
        b"$",
        b"${",
        b"}",
        b":-",
        b":+",
        b"//",
        b"#",
        b"%%",
        b"*",
        b"?",
        b"\xEF\xBB\xBF",
        b"\xff",
        b"\0",
    ];
    prop_oneof![
        6 => proptest::sample::select(pieces).prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(any::<u8>(), 0..8),
    ]
}

fn never_panics(input: &[u8]) {
    if let Ok(df) = stager::syntax::parse(input) {
        let _ = df.dump();
    }
    match run(input) {
        Ok(converted) => {
            let _ = dump(&converted);
            let _ = serde_json::to_string(&converted.image).expect("image JSON");
        }
        Err(e) => {
            let _ = e.ranges();
            let _ = e.located_message("Dockerfile");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..1024)) {
        never_panics(&input);
    }

    #[test]
    fn dockerfile_shaped_input_never_panics(parts in proptest::collection::vec(fragment(), 0..96)) {
        never_panics(&parts.concat());
    }

    #[test]
    fn dockerfile_shaped_after_from_never_panics(parts in proptest::collection::vec(fragment(), 0..96)) {
        let mut input = b"FROM scratch AS s\n".to_vec();
        input.extend(parts.concat());
        never_panics(&input);
    }

    #[test]
    fn words_never_panic_the_lexer(word in "[a-zA-Z0-9 ${}:+?#%/*'\"\\\\`-]{0,64}", opts in 0u8..64) {
        let env = Env::from_slice(&["A=x", "B=hello world", "EMPTY="]);
        let mut lexer = Lexer::new(if opts & 1 == 0 { '\\' } else { '`' });
        lexer.raw_quotes = opts & 2 != 0;
        lexer.raw_escapes = opts & 4 != 0;
        lexer.skip_unset_env = opts & 8 != 0;
        lexer.skip_process_quotes = opts & 16 != 0;
        lexer.windows = opts & 32 != 0;
        let _ = lexer.process_word(&word, &env);
        let _ = lexer.process_words(&word, &env);
        let _ = lexer.process_word_with_matches(&word, &env);
    }
}
