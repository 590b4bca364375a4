#!/usr/bin/env python3
"""Load and many-tenant checks on one daemon (`make e2e-load`; see tests/e2e/README.md).

Parts (LOAD_PARTS, default all, in this order):

  namespaces  BUILDKIT_CACHE_MOUNT_NS keeps cache mounts apart: one id, namespace A writes, B must
              see nothing, A again must see A's file (so B's empty view is not a lost cache).
  tenants     the 8 tenant projects (projects.py), built one at a time through stager.
  concurrent  all 16 projects at once through stager, and (4 at a time) through the built-in
              frontend; every stager image must equal the built-in one (files and config), and each
              tenant's concurrent image its one-at-a-time image.
  rebuilds    one multi-stage Dockerfile built once, then LOAD_REBUILDS (100) times in a row from
              the cache: no RUN may execute, and neither the build time (median of the last 20
              against the first 20) nor the frontend's peak RSS may grow.

The stager side uses a copy of the frontend image with `ENV STAGER_STATS=<run tag>` added (the
same binary, no other change): the frontend then writes `stager-stats tag=... peak_rss=...` to its
stderr at exit, which BuildKit sends to the daemon's log (found through /proc/<dockerd>/fd/2).

Environment: DOCKER, E2E_IMAGE, E2E_TAG_PREFIX, E2E_KEEP, E2E_OUT, E2E_TIMEOUT as for run.py;
LOAD_REBUILDS (100), LOAD_PARTS. Exit status 1 when a check failed, 2 when docker is missing.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE))

import projects  # noqa: E402

# tests/e2e/run.py, for its image trees, configs and diffs (a module of the same name as this one).
_spec = importlib.util.spec_from_file_location("e2e_run", HERE.parent / "run.py")
e2e = importlib.util.module_from_spec(_spec)
sys.modules["e2e_run"] = e2e
_spec.loader.exec_module(e2e)

DOCKER = e2e.DOCKER
IMAGE = e2e.IMAGE
TAG_PREFIX = e2e.TAG_PREFIX + "-load"
OUT = e2e.OUT / "load"
KEEP = e2e.KEEP
TIMEOUT = e2e.TIMEOUT
REBUILDS = int(os.environ.get("LOAD_REBUILDS", "100"))
PARTS = os.environ.get("LOAD_PARTS", "namespaces tenants concurrent rebuilds").split()
RUN_TAG = f"{os.getpid()}-{time.time_ns()}"
STATS_IMAGE = f"{TAG_PREFIX}/frontend:stats"

# Loose bounds: the machine is shared, so only a clear trend fails.
TIME_GROWTH = 1.5  # last-20 median at most this times the first-20 median ...
TIME_SLACK = 0.5  # ... plus this many seconds
RSS_GROWTH = 1.25  # largest frontend peak RSS of the last 20 against the first 20

failures: list[str] = []
tags: list[str] = []


def say(line: str) -> None:
    print(line, flush=True)


def check(name: str, ok: bool, why: str = "") -> bool:
    say(("ok " if ok else "FAIL ") + name + ("" if ok or not why else f": {why}"))
    if not ok:
        failures.append(name)
    return ok


Build = e2e.Build


def build(label: str, dockerfile: Path, context: Path, tag: str, extra: list[str]) -> Build:
    cmd = [DOCKER, "build", "--progress=plain", "-f", str(dockerfile), "-t", tag, *extra, str(context)]
    ok, output, seconds = e2e.run_build(cmd)
    if tag not in tags:
        tags.append(tag)
    (OUT / "logs").mkdir(parents=True, exist_ok=True)
    (OUT / "logs" / f"{label}.log").write_text(" ".join(cmd) + f"\n# {seconds:.2f}s\n" + output)
    return Build(ok, output, seconds, tag)


def with_syntax(dockerfile: Path, image: str) -> Path:
    """The Dockerfile with `# syntax=<image>` first, written outside the context (.e2e/load/df/)."""
    d = OUT / "df" / dockerfile.parent.name
    d.mkdir(parents=True, exist_ok=True)
    out = d / "Dockerfile"
    out.write_text(f"# syntax={image}\n" + dockerfile.read_text())
    return out


def image_view(tag: str) -> tuple[dict, dict]:
    return e2e.image_tree(tag), e2e.image_config(tag)


def differences(a: str, b: str, an: str, bn: str) -> list[str]:
    (ta, ca), (tb, cb) = image_view(a), image_view(b)
    return e2e.diff_trees(ta, tb, an, bn) + e2e.diff_configs(ca, cb, an, bn)


# --------------------------------------------------------------------------------------------
# the frontend's own figures, from the daemon's log


def daemon_pid() -> int | None:
    """The pid of the dockerd that DOCKER_HOST (default /var/run/docker.sock) reaches: another
    daemon may run on the same machine."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    sock = host.removeprefix("unix://")
    if sock == "/var/run/docker.sock":
        try:
            pid = int(Path("/var/run/docker.pid").read_text().strip())
            if Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd":
                return pid
        except (OSError, ValueError):
            pass
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if (p / "comm").read_text().strip() != "dockerd":
                continue
            args = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        named = [a.decode("utf-8", "replace") for a in args if b"unix://" in a]
        if any(sock in a for a in named) or (not named and sock == "/var/run/docker.sock"):
            return int(p.name)
    return None


def daemon_log() -> Path | None:
    pid = daemon_pid()
    if pid is None:
        return None
    try:
        target = Path(os.readlink(f"/proc/{pid}/fd/2"))
    except OSError:
        return None
    return target if target.is_file() else None


def daemon_rss_kb() -> int | None:
    pid = daemon_pid()
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return None
    m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(m.group(1)) if m else None


class Stats:
    """Reads the `stager-stats tag=<RUN_TAG>` lines the daemon's log gained since creation."""

    LINE = re.compile(rb"stager-stats tag=(\S+) peak_rss=(\d+)kB wall_ms=(\d+)")

    def __init__(self) -> None:
        self.log = daemon_log()
        self.offset = self.log.stat().st_size if self.log else 0

    def take(self) -> list[tuple[int, int]]:
        """(peak RSS kB, wall ms) per frontend run since the last call."""
        if not self.log:
            return []
        with self.log.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        # Only whole lines: the daemon may be writing the next one.
        end = data.rfind(b"\n") + 1
        self.offset += end
        return [(int(m.group(2)), int(m.group(3))) for m in self.LINE.finditer(data[:end])
                if m.group(1).decode() == RUN_TAG]


# --------------------------------------------------------------------------------------------
# parts


def part_namespaces(root: Path) -> None:
    d = root / "namespaces"
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(
        "FROM busybox\n"
        "ARG WHO\n"
        "RUN --mount=type=cache,id=load-ns,target=/c,sharing=locked \\\n"
        "    ls /c > /seen && echo \"$WHO\" > \"/c/$WHO\"\n")
    # Not --no-cache: BuildKit gives a RUN a fresh cache mount then. A new WHO runs the RUN again.
    for side in ("stager", "builtin"):
        df = d / "Dockerfile" if side == "builtin" else with_syntax(d / "Dockerfile", STATS_IMAGE)
        seen = {}
        for step, (ns, who) in enumerate([("a", "a1"), ("b", "b1"), ("a", "a2")]):
            tag = f"{TAG_PREFIX}/namespaces:{side}-{step}"
            b = build(f"namespaces-{side}-{step}", df, d, tag,
                      ["--build-arg", f"WHO={who}-{RUN_TAG}",
                       "--build-arg", f"BUILDKIT_CACHE_MOUNT_NS=load-{RUN_TAG}-{side}-{ns}"])
            if not check(f"namespaces: {side} build {who} (namespace {ns})", b.ok, e2e.last_error(b.output)):
                return
            entry = e2e.image_tree(tag).get("/seen")
            seen[who] = entry[4].split()[0] if entry else "missing"
        want = {"a1": b"", "b1": b"", "a2": f"a1-{RUN_TAG}\n".encode()}
        for who, content in want.items():
            digest = "sha256:" + hashlib.sha256(content).hexdigest()
            check(f"namespaces: {side} build {who} sees {content.decode()!r} in the cache",
                  seen.get(who) == digest, f"got {seen.get(who)}, want {digest}")


def project_build(i: int, side: str, root: Path) -> Build:
    d = root / f"p{i:02}"
    df = d / "Dockerfile" if side == "builtin" else with_syntax(d / "Dockerfile", STATS_IMAGE)
    tag = f"{TAG_PREFIX}/p{i:02}:{side}"
    return build(f"p{i:02}-{side}", df, d, tag, projects.build_args(i, RUN_TAG, side))


def part_tenants(root: Path) -> dict[int, Build]:
    out = {}
    start = time.monotonic()
    for i in range(projects.TENANTS):
        b = project_build(i, "serial", root)
        check(f"tenant p{i:02} alone ({b.seconds:.1f}s)", b.ok, e2e.last_error(b.output))
        out[i] = b
    say(f"tenants one at a time: {time.monotonic() - start:.1f}s")
    return out


def part_concurrent(root: Path, serial: dict[int, Build], stats: Stats) -> None:
    stats.take()
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(projects.COUNT) as pool:
        futures = {i: pool.submit(project_build, i, "stager", root) for i in range(projects.COUNT)}
        built = {i: f.result() for i, f in futures.items()}
    wall = time.monotonic() - start
    runs = stats.take()
    times = sorted(b.seconds for b in built.values())
    say(f"16 at once through stager: {wall:.1f}s wall, builds {times[0]:.1f}-{times[-1]:.1f}s"
        + (f", frontend peak RSS {min(r for r, _ in runs)}-{max(r for r, _ in runs)} kB" if runs else ""))
    check(f"16 concurrent builds: one frontend run each ({len(runs)} stats lines)",
          not stats.log or len(runs) == projects.COUNT, "the daemon log has another count")
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = {i: pool.submit(project_build, i, "builtin", root) for i in range(projects.COUNT)}
        reference = {i: f.result() for i, f in futures.items()}
    say(f"16 through the built-in frontend, 4 at a time: {time.monotonic() - start:.1f}s")
    start = time.monotonic()
    # `docker save` and reading the layers mostly wait on the daemon: four at a time.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        against_builtin = {i: pool.submit(differences, built[i].tag, reference[i].tag, "stager", "builtin")
                           for i in range(projects.COUNT) if built[i].ok and reference[i].ok}
        against_serial = {i: pool.submit(differences, built[i].tag, serial[i].tag, "concurrent", "alone")
                          for i in serial if built[i].ok and serial[i].ok}
        for i in range(projects.COUNT):
            s, r = built[i], reference[i]
            check(f"p{i:02} concurrent stager build", s.ok, e2e.last_error(s.output))
            check(f"p{i:02} built-in build", r.ok, e2e.last_error(r.output))
            if i in against_builtin:
                diff = against_builtin[i].result()
                check(f"p{i:02} concurrent stager image = built-in image", not diff, "; ".join(diff[:4]))
            if i in against_serial:
                diff = against_serial[i].result()
                check(f"p{i:02} tenant: concurrent image = one-at-a-time image", not diff, "; ".join(diff[:4]))
    say(f"comparisons: {time.monotonic() - start:.1f}s")


def part_rebuilds(root: Path, stats: Stats) -> None:
    d = root / "rebuild"
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(projects.REBUILD_DOCKERFILE)
    for name, text in projects.REBUILD_FILES.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    df = with_syntax(d / "Dockerfile", STATS_IMAGE)
    tag = f"{TAG_PREFIX}/rebuild:latest"
    extra = ["--build-arg", f"NONCE={RUN_TAG}"]
    first = build("rebuild-0", df, d, tag, extra)
    if not check("rebuild: first build", first.ok and len(re.findall(r"^#\d+ [\d.]+ RUN-EXECUTED", first.output, re.M)) == 3,
                 e2e.last_error(first.output)):
        return
    reference = image_view(tag)
    stats.take()
    rss_before = daemon_rss_kb()
    seconds, executed, broken = [], 0, []
    for n in range(1, REBUILDS + 1):
        b = build(f"rebuild-{n}", df, d, tag, extra)
        seconds.append(b.seconds)
        if not b.ok:
            broken.append(f"build {n}: {e2e.last_error(b.output)}")
        # The echo's text shows in the progress only when the RUN executes (not when CACHED).
        executed += len(re.findall(r"^#\d+ [\d.]+ RUN-EXECUTED", b.output, re.M))
    rss_after = daemon_rss_kb()
    runs = stats.take()
    check(f"rebuild: {REBUILDS} cached rebuilds succeed", not broken, "; ".join(broken[:3]))
    check("rebuild: no RUN executed in a cached rebuild", executed == 0, f"{executed} RUN executions")
    diff = e2e.diff_trees(reference[0], e2e.image_tree(tag), "first", "last") + \
        e2e.diff_configs(reference[1], e2e.image_config(tag), "first", "last")
    check("rebuild: the last image = the first", not diff, "; ".join(diff[:4]))
    k = min(20, len(seconds) // 2)
    head, tail = statistics.median(seconds[:k]), statistics.median(seconds[-k:])
    say(f"rebuild times: median first {k} {head:.2f}s, last {k} {tail:.2f}s, "
        f"min {min(seconds):.2f}s, max {max(seconds):.2f}s, total {sum(seconds):.1f}s")
    check("rebuild: no growth in time", tail <= head * TIME_GROWTH + TIME_SLACK,
          f"median {head:.2f}s -> {tail:.2f}s")
    if rss_before and rss_after:
        say(f"daemon RSS (shared daemon, other builds included): {rss_before // 1024} MB before, "
            f"{rss_after // 1024} MB after")
    if not stats.log:
        say("frontend peak RSS: no daemon log file found (dockerd's stderr is not a file); not checked")
        return
    if not check(f"rebuild: one frontend stats line per build ({len(runs)} of {REBUILDS})",
                 len(runs) == REBUILDS, "the frontend's stderr did not reach the daemon log"):
        return
    rss = [r for r, _ in runs]
    wall = sorted(w for _, w in runs)
    say(f"frontend peak RSS: first {k} max {max(rss[:k])} kB, last {k} max {max(rss[-k:])} kB, "
        f"all {min(rss)}-{max(rss)} kB; frontend wall time median {wall[len(wall) // 2]} ms")
    check("rebuild: no growth in the frontend's peak RSS", max(rss[-k:]) <= max(rss[:k]) * RSS_GROWTH,
          f"{max(rss[:k])} kB -> {max(rss[-k:])} kB")


# --------------------------------------------------------------------------------------------


def make_stats_image() -> str | None:
    d = OUT / "stats-image"
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(f"FROM {IMAGE}\nENV STAGER_STATS={RUN_TAG}\n")
    b = build("stats-image", d / "Dockerfile", d, STATS_IMAGE, [])
    return None if b.ok else e2e.last_error(b.output)


def main() -> int:
    err = e2e.preflight()
    if err:
        print(f"load: {err}", file=sys.stderr)
        return 2
    start = time.monotonic()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    err = make_stats_image()
    if err:
        print(f"load: cannot make {STATS_IMAGE} from {IMAGE}: {err}", file=sys.stderr)
        return 2
    root = OUT / "projects"
    for i in range(projects.COUNT):
        projects.write(root, i)
    stats = Stats()
    try:
        if "namespaces" in PARTS:
            part_namespaces(root)
        serial = part_tenants(root) if "tenants" in PARTS else {}
        if "concurrent" in PARTS:
            part_concurrent(root, serial, stats)
        if "rebuilds" in PARTS:
            part_rebuilds(root, stats)
    finally:
        if not KEEP:
            for tag in [*tags, STATS_IMAGE]:
                e2e.docker_rmi(tag)
    say(f"load: {time.monotonic() - start:.1f}s, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
