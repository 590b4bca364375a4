//! `STAGER_STATS=<tag>`: where the frontend's time inside BuildKit goes.
//!
//! When the variable is set, every RPC and every local step (parsing, conversion) notes when it
//! started (since `main`) and how long it took; at exit one stderr line carries them, after the
//! peak RSS and wall time that tests/e2e/load reads:
//!
//! `stager-stats tag=T peak_rss=NkB wall_ms=N steps=Ping@0.4+0.6,Inputs@1.0+0.3,...`
//!
//! Each step is `name@start+duration` in milliseconds; a bracketed detail names the file or
//! image (`ReadFile[Dockerfile]`). Steps appear in the order they ended, so concurrent calls
//! overlap in their offsets. Without the variable nothing is recorded.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The process's timeline, present only with `STAGER_STATS`.
static TIMELINE: OnceLock<Timeline> = OnceLock::new();

struct Timeline {
    tag: String,
    origin: Instant,
    steps: Mutex<Vec<Step>>,
}

/// One finished step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The RPC or local step.
    pub name: &'static str,
    /// What it was about (a file, an image), or empty.
    pub detail: String,
    /// Since `main`.
    pub start: Duration,
    /// How long it took.
    pub duration: Duration,
}

/// Starts recording when `STAGER_STATS` is set; `origin` is the start of `main`.
pub fn init(origin: Instant) {
    if let Some(tag) = std::env::var_os("STAGER_STATS") {
        let _ = TIMELINE.set(Timeline {
            tag: tag.to_string_lossy().into_owned(),
            origin,
            steps: Mutex::new(Vec::new()),
        });
    }
}

/// A step under way; [`Span::end`] records it.
#[must_use]
pub struct Span {
    name: &'static str,
    detail: String,
    start: Option<Instant>,
}

/// Starts timing `name` (nothing, without `STAGER_STATS`).
pub fn span(name: &'static str) -> Span {
    Span {
        name,
        detail: String::new(),
        start: TIMELINE.get().map(|_| Instant::now()),
    }
}

/// Starts timing `name` about `detail`; the detail is only built when recording.
pub fn span_about(name: &'static str, detail: impl FnOnce() -> String) -> Span {
    let start = TIMELINE.get().map(|_| Instant::now());
    Span {
        name,
        detail: if start.is_some() {
            detail()
        } else {
            String::new()
        },
        start,
    }
}

impl Span {
    /// Records the step as ending now.
    pub fn end(self) {
        let (Some(timeline), Some(start)) = (TIMELINE.get(), self.start) else {
            return;
        };
        let step = Step {
            name: self.name,
            detail: self.detail,
            start: start.saturating_duration_since(timeline.origin),
            duration: start.elapsed(),
        };
        if let Ok(mut steps) = timeline.steps.lock() {
            steps.push(step);
        }
    }
}

/// Writes the stats line to stderr (only with `STAGER_STATS`).
pub fn report() {
    let Some(timeline) = TIMELINE.get() else {
        return;
    };
    // VmHWM is the kernel's peak RSS of this process, the figure getrusage's ru_maxrss gives.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map_or_else(|| "unknown".to_string(), |v| v.split_whitespace().collect());
    let steps = timeline.steps.lock().map(|s| s.clone()).unwrap_or_default();
    eprintln!(
        "{}",
        line(&timeline.tag, &peak, timeline.origin.elapsed(), &steps)
    );
}

/// The stats line (without the newline).
pub fn line(tag: &str, peak: &str, wall: Duration, steps: &[Step]) -> String {
    let mut out = format!(
        "stager-stats tag={tag} peak_rss={peak} wall_ms={}",
        wall.as_millis()
    );
    for (i, step) in steps.iter().enumerate() {
        out.push_str(if i == 0 { " steps=" } else { "," });
        out.push_str(step.name);
        if !step.detail.is_empty() {
            // Spaces and commas separate fields and steps: keep them out of the detail.
            let detail: String = (step.detail.chars())
                .map(|c| if c == ' ' || c == ',' { '_' } else { c })
                .collect();
            out.push('[');
            out.push_str(&detail);
            out.push(']');
        }
        out.push_str(&format!(
            "@{:.1}+{:.1}",
            step.start.as_secs_f64() * 1e3,
            step.duration.as_secs_f64() * 1e3
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_keeps_the_load_test_fields_first_and_lists_steps() {
        let steps = [
            Step {
                name: "Ping",
                detail: String::new(),
                start: Duration::from_micros(400),
                duration: Duration::from_micros(650),
            },
            Step {
                name: "ResolveImageConfig",
                detail: "docker.io/library/busybox:latest, x".into(),
                start: Duration::from_micros(2000),
                duration: Duration::from_micros(3040),
            },
        ];
        assert_eq!(
            line("t1", "2048kB", Duration::from_millis(12), &steps),
            "stager-stats tag=t1 peak_rss=2048kB wall_ms=12 \
             steps=Ping@0.4+0.7,ResolveImageConfig[docker.io/library/busybox:latest__x]@2.0+3.0"
        );
        assert_eq!(
            line("t1", "2048kB", Duration::from_millis(12), &[]),
            "stager-stats tag=t1 peak_rss=2048kB wall_ms=12"
        );
    }
}
