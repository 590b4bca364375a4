//! Synthetic Dockerfiles, one shape per instruction pattern that once grew faster than
//! linearly, `n` lines each (give or take the FROM): `benches/convert.rs` measures them from
//! 1,000 to 40,000 lines, `tests/hostile/` guards each against a quadratic relapse.

/// A shape's name (the criterion benchmark group is `shape-NAME`) and its generator.
pub type Shape = (&'static str, fn(usize) -> String);

/// Every shape.
pub const SHAPES: [Shape; 10] = [
    ("arg", arg),
    ("env", env),
    ("label", label),
    ("run", run),
    ("expose", expose),
    ("copy-from", copy_from),
    ("from", from),
    ("mounts", mounts),
    ("heredoc", heredoc),
    ("nesting", nesting),
];

fn lines(head: &str, body: impl Iterator<Item = String>, tail: &str) -> String {
    let mut s = String::from(head);
    for line in body {
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str(tail);
    s
}

/// `n` ARGs with defaults, then one RUN that carries all of them.
pub fn arg(n: usize) -> String {
    lines(
        "FROM busybox\n",
        (0..n).map(|i| format!("ARG A{i}=v{i}")),
        "RUN true\n",
    )
}

/// `n` ENVs, then one RUN.
pub fn env(n: usize) -> String {
    lines(
        "FROM busybox\n",
        (0..n).map(|i| format!("ENV E{i}=v{i}")),
        "RUN true\n",
    )
}

/// `n` LABELs, then one RUN.
pub fn label(n: usize) -> String {
    lines(
        "FROM busybox\n",
        (0..n).map(|i| format!("LABEL l{i}=v{i}")),
        "RUN true\n",
    )
}

/// `n` RUNs in one stage.
pub fn run(n: usize) -> String {
    lines(
        "FROM busybox\n",
        (0..n).map(|i| format!("RUN echo {i}")),
        "",
    )
}

/// `n` EXPOSEs of different ports.
pub fn expose(n: usize) -> String {
    lines(
        "FROM busybox\n",
        (0..n).map(|i| format!("EXPOSE {}/tcp", i % 65535 + 1)),
        "",
    )
}

/// `n / 2` stages, each copying a file from the one before.
pub fn copy_from(n: usize) -> String {
    lines(
        "FROM busybox AS s0\n",
        (1..n.div_ceil(2)).map(|i| format!("FROM busybox AS s{i}\nCOPY --from=s{} /f /f", i - 1)),
        "",
    )
}

/// `n / 2` stages, each starting FROM the one before and running one command.
pub fn from(n: usize) -> String {
    lines(
        "FROM busybox AS s0\n",
        (1..n.div_ceil(2)).map(|i| format!("FROM s{} AS s{i}\nRUN echo {i}", i - 1)),
        "",
    )
}

/// One RUN with `n` cache mounts, one a line.
pub fn mounts(n: usize) -> String {
    lines(
        "FROM busybox\nRUN \\\n",
        (0..n).map(|i| format!("  --mount=type=cache,target=/c{i} \\")),
        "  true\n",
    )
}

/// One RUN of a here-document `n` lines long.
pub fn heredoc(n: usize) -> String {
    lines(
        "FROM busybox\nRUN <<EOF\n",
        (0..n).map(|i| format!("echo {i}")),
        "EOF\n",
    )
}

/// One RUN whose word nests `${A:-` `n` deep, one level a line (the closing braces a thousand
/// a line, as lines may not pass 64 KiB).
pub fn nesting(n: usize) -> String {
    let mut close = String::from("x");
    for start in (0..n).step_by(1000) {
        close.push_str("\\\n");
        close.push_str(&"}".repeat((n - start).min(1000)));
    }
    close.push('\n');
    lines(
        "FROM busybox\nARG A=1\nRUN echo \\\n",
        (0..n).map(|_| "${A:-\\".to_string()),
        &close,
    )
}
