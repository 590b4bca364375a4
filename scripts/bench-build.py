#!/usr/bin/env python3
"""Build benchmarks: stager against the daemon's built-in Dockerfile frontend, on this machine.

Needs the frontend image (`make image IMAGE=...`) and a running daemon (`make deps`); `make bench`
builds both first. Every figure is the median of several runs; each ratio compares two figures
measured in this one run, with the two sides interleaved so that a change of load hits both.

  (a) cached    a fully cached rebuild of examples/multistage through `# syntax=<IMAGE>` and with
                no syntax line (the built-in frontend): the frontend's own overhead.
  (b) parallel  1, 2, 4 and 8 independent stages that each sleep SLEEP seconds, built with
                --no-cache: wall time against the critical path (one sleep).
  (c) size      frontend image size and static binary size.
      start-up  process start to the first gRPC call: the binary is started as BuildKit starts
                it (gRPC over stdin/stdout) against a minimal HTTP/2 peer here, which notes when
                the first HEADERS frame (the first call, Ping) arrives.
      memory    peak RSS (getrusage of the child) and wall time of `stager llb` on the largest
                synthetic Dockerfiles of benches/convert.rs.

Environment: IMAGE (myorg/frontend), DOCKER (/usr/bin/docker), BIN (the static binary,
target/<host triple>/release/stager), RUNS (runs per figure, default 5), SLEEP (seconds, default
2), PARTS (which of cached,parallel,size to run; default all), BENCH_TAG_PREFIX (tags of the built
images, default stager-bench). Prints one table; exits non-zero only when something fails to run.
"""

from __future__ import annotations

import os
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
IMAGE = os.environ.get("IMAGE", "myorg/frontend")
RUNS = max(1, int(os.environ.get("RUNS", "5")))
SLEEP = float(os.environ.get("SLEEP", "2"))
PARTS = set(os.environ.get("PARTS", "cached,parallel,size").split(","))
TAG = os.environ.get("BENCH_TAG_PREFIX", "stager-bench")
ENV = dict(os.environ, DOCKER_BUILDKIT="1")

rows: list[tuple[str, str, str]] = []


def row(what: str, value: str, note: str = "") -> None:
    rows.append((what, value, note))
    print(f"  {what}: {value}  {note}", file=sys.stderr, flush=True)


def host_triple() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return next(l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("host: "))


def docker_build(dockerfile: Path, context: Path, tag: str, *flags: str) -> float:
    """Seconds one `docker build` takes; raises with the log tail when it fails."""
    start = time.monotonic()
    proc = subprocess.run(
        [DOCKER, "build", "--progress=plain", "-f", str(dockerfile), "-t", tag, *flags, str(context)],
        env=ENV, capture_output=True, text=True,
    )
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-20:])
        raise RuntimeError(f"docker build of {dockerfile} failed:\n{tail}")
    return elapsed


def with_syntax(text: str, frontend: str | None) -> str:
    """The Dockerfile with its `# syntax=` line set to `frontend`, or removed (built-in)."""
    lines = [l for l in text.splitlines() if not l.lstrip().lower().startswith("# syntax=")]
    if frontend:
        lines.insert(0, f"# syntax={frontend}")
    return "\n".join(lines) + "\n"


def cached(tmp: Path) -> None:
    """(a): median cached rebuild time on each side, and their ratio."""
    context = REPO / "examples" / "multistage"
    text = (context / "Dockerfile").read_text()
    sides = {"stager": IMAGE, "built-in": None}
    files = {}
    for side, frontend in sides.items():
        files[side] = tmp / f"multistage.{side}.Dockerfile"
        files[side].write_text(with_syntax(text, frontend))
        docker_build(files[side], context, f"{TAG}/multistage:{side}")  # fills the cache
    times: dict[str, list[float]] = {side: [] for side in sides}
    for _ in range(RUNS):
        for side in sides:
            times[side].append(docker_build(files[side], context, f"{TAG}/multistage:{side}"))
    med = {side: statistics.median(t) for side, t in times.items()}
    row("cached rebuild, examples/multistage, stager", f"{med['stager']:.2f} s")
    row("cached rebuild, examples/multistage, built-in", f"{med['built-in']:.2f} s")
    ratio = med["stager"] / med["built-in"]
    row("cached rebuild ratio stager / built-in", f"{ratio:.2f}x", "(target <= 2x)")


def parallel_dockerfile(n: int) -> str:
    lines = []
    for i in range(n):
        lines += [f"FROM busybox AS s{i}", f"RUN sleep {SLEEP:g} && echo {i} > /out", ""]
    lines.append("FROM scratch")
    lines += [f"COPY --from=s{i} /out /s{i}" for i in range(n)]
    return "\n".join(lines) + "\n"


def parallel(tmp: Path) -> None:
    """(b): wall time of n independent sleeping stages against one sleep."""
    context = tmp / "empty"
    context.mkdir(exist_ok=True)
    sides = {"stager": IMAGE, "built-in": None}
    one: dict[str, float] = {}
    for n in (1, 2, 4, 8):
        times: dict[str, list[float]] = {side: [] for side in sides}
        files = {}
        for side, frontend in sides.items():
            files[side] = tmp / f"parallel{n}.{side}.Dockerfile"
            files[side].write_text(with_syntax(parallel_dockerfile(n), frontend))
        for _ in range(RUNS):
            for side in sides:
                tag = f"{TAG}/parallel{n}:{side}"
                times[side].append(docker_build(files[side], context, tag, "--no-cache"))
        for side in sides:
            wall = statistics.median(times[side])
            one.setdefault(side, wall)
            # Against one sleep, and against the one-stage build, whose container start and
            # export are part of every build's critical path too.
            row(
                f"{n} stages x sleep {SLEEP:g} s, {side}",
                f"{wall:.2f} s",
                f"({wall / SLEEP:.2f}x one sleep, {wall / one[side]:.2f}x the 1-stage build; "
                "target <= 1.10x)",
            )


def first_rpc_seconds(binary: Path) -> float:
    """Seconds from starting `binary` to the first HEADERS frame it sends (its first gRPC call).

    This side plays the daemon's end of the stdio transport just enough: it reads the HTTP/2
    client preface, sends an empty SETTINGS frame and reads frames until a HEADERS frame comes.
    """
    env = {"PATH": "/usr/bin:/bin", "BUILDKIT_SESSION_ID": "bench"}
    start = time.monotonic()
    proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)
    assert proc.stdin and proc.stdout
    try:
        out = proc.stdout.fileno()
        buf = b""

        def read(n: int) -> bytes:
            nonlocal buf
            while len(buf) < n:
                ready, _, _ = select.select([out], [], [], 10)
                if not ready:
                    raise RuntimeError("no gRPC call within 10 s")
                chunk = os.read(out, 65536)
                if not chunk:
                    raise RuntimeError("the frontend closed stdout before its first call")
                buf += chunk
            data, buf = buf[:n], buf[n:]
            return data

        preface = read(24)
        if preface != b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n":
            raise RuntimeError(f"not an HTTP/2 client preface: {preface!r}")
        proc.stdin.write(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")  # SETTINGS, empty
        proc.stdin.flush()
        while True:
            length_hi, length_lo, kind, _flags, stream = struct.unpack(">BHBBI", read(9))
            read(length_hi << 16 | length_lo)
            if kind == 0x1 and stream & 0x7FFFFFFF:
                return time.monotonic() - start
    finally:
        proc.kill()
        proc.wait()


def synthetic_instructions(n: int) -> str:
    """benches/convert.rs `synthetic_instructions`."""
    kinds = ["RUN echo $V > /tmp/x\n", 'ENV A=1 B="two words"\n', "COPY src/ /app/\n",
             "WORKDIR /app/sub\n", "LABEL k=v\n"]
    return "FROM busybox AS base\nARG V=1\n" + "".join(kinds[i % 5] for i in range(n))


def synthetic_stages(n: int) -> str:
    """benches/convert.rs `synthetic_stages`."""
    s = "FROM busybox AS s0\nRUN echo 0 > /f\n"
    for i in range(1, n):
        s += f"FROM busybox AS s{i}\nCOPY --from=s{i - 1} /f /prev\nRUN echo {i} >> /f\n"
    return s


def run_lines(n: int) -> str:
    """benches/shapes `run`: n RUN lines in one stage."""
    return "FROM busybox\n" + "".join(f"RUN echo {i}\n" for i in range(n))


GNU_TIME = Path("/usr/bin/time")


def llb_run(binary: Path, dockerfile: Path) -> tuple[float, int | None]:
    """Wall seconds and peak RSS in KiB of `stager llb dockerfile` (output discarded).

    The RSS comes from GNU time, which forks the process from its own small image. Python's
    `wait4` would not do: a child's peak RSS starts at the RSS of the process it was forked
    from (Linux keeps the high-water mark across exec), so it never reads below this
    interpreter's 13-14 MiB. Without GNU time the RSS is `None` and reported as skipped.
    """
    cmd = [str(binary), "llb", str(dockerfile)]
    timed = GNU_TIME.exists()
    if timed:
        cmd = [str(GNU_TIME), "-f", "%M", "--", *cmd]
    start = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"stager llb {dockerfile} exited with {proc.returncode}: {proc.stderr}")
    if not timed:
        return elapsed, None
    return elapsed, int(proc.stderr.strip().splitlines()[-1])


def sizes(tmp: Path) -> None:
    """(c): sizes, start-up, memory."""
    binary = Path(os.environ.get("BIN", REPO / "target" / host_triple() / "release" / "stager"))
    image = subprocess.run([DOCKER, "image", "inspect", "--format", "{{.Size}}", IMAGE],
                           capture_output=True, text=True, check=True).stdout.strip()
    row(f"frontend image size ({IMAGE})", f"{int(image) / 2**20:.2f} MiB", "(target < 5 MiB)")
    row("static binary size", f"{binary.stat().st_size / 2**20:.2f} MiB")
    first_rpc_seconds(binary)  # page cache warm
    starts = [first_rpc_seconds(binary) for _ in range(max(RUNS, 20))]
    row("process start to first gRPC call", f"{statistics.median(starts) * 1000:.1f} ms")
    for name, text in [("10,000 RUN lines", run_lines(10_000)),
                       ("10,000 instructions", synthetic_instructions(10_000)),
                       ("1,000 stages", synthetic_stages(1_000))]:
        path = tmp / f"synthetic-{name.replace(' ', '-').replace(',', '')}.Dockerfile"
        path.write_text(text)
        runs = [llb_run(binary, path) for _ in range(RUNS)]
        wall = statistics.median(r[0] for r in runs)
        rss = [r[1] for r in runs if r[1] is not None]
        if rss:
            row(f"`stager llb`, {name}: peak RSS", f"{statistics.median(rss) / 1024:.1f} MiB",
                "(target < 16 MiB)")
        else:
            row(f"`stager llb`, {name}: peak RSS", "SKIPPED",
                f"({GNU_TIME} missing: `make deps` installs it)")
        row(f"`stager llb`, {name}: wall time", f"{wall * 1000:.0f} ms",
            "(process included; target < 40 ms for 10,000 RUN lines)")


def main() -> int:
    print(f"bench-build: {RUNS} runs per figure, frontend image {IMAGE}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="stager-bench.") as tmp:
        for part, fn in [("size", sizes), ("cached", cached), ("parallel", parallel)]:
            if part in PARTS:
                fn(Path(tmp))
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    load = os.getloadavg()[0]
    print(f"\nbuild benchmarks ({time.strftime('%Y-%m-%d %H:%M %Z')}, {os.uname().nodename}, "
          f"{os.cpu_count()} cores, load {load:.1f}, median of {RUNS} runs)")
    for what, value, note in rows:
        print(f"  {what:<{width}}  {value:>{vwidth}}  {note}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
