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
use std::time::{Duration, Instant};

#[path = "../../benches/shapes/mod.rs"]
mod shapes;
use stager::image::Platform;
use stager::options::BuildOptions;
use stager::pipeline::{self, ConvertContext, Converted};

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

mod bytes;
mod expansion;
mod flags;
mod heredocs;
mod lines;
mod properties;
mod regressions;
mod stages;
