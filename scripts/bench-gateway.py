#!/usr/bin/env python3
"""The gateway round trip: a cached rebuild through stager's frontend image against the same
rebuild through the official Dockerfile frontend 1.26 as a gateway image, on the same daemon.

Both images are named by `# syntax=` (the daemon's built-in frontend reads the Dockerfile,
sees the line and starts the image as a gateway frontend, as users run them). The rebuild is
examples/multistage (four stages, one base image), fully cached; the two sides (and the
built-in frontend, with no syntax line, as the floor) are interleaved, their order alternating
from round to round, so that a change of load hits every side. Daemons:

  docker    Docker 20.10 (the default socket, `make deps`): `docker build`, the images from its
            own store; the official image is made there from ../shared/tools/buildkit (as
            scripts/setup-docker-current.sh makes it for Docker 28.5).
  buildkitd buildkitd v0.32.2 over mutual TLS (scripts/setup-buildkitd.sh): `buildctl build`,
            no export; the images pushed to the local registry (scripts/setup-registry.sh) and
            named by digest.

Then the same rebuild through a copy of stager's image with `ENV STAGER_STATS=<tag>`: the
frontend logs when each step started and how long it took (src/gateway/stats.rs), which lands
in the daemon's log; the medians per step show where stager's own time goes.

Without ../shared/tools/buildkit (no official image, no buildkitd) it says SKIPPED and exits 0.

Environment: IMAGE (myorg/frontend), DOCKER (/usr/bin/docker), OFFICIAL
(official/dockerfile:1.26.0), SHARED (<repo>/../shared), RUNS (rounds, default 15), DAEMONS
(docker,buildkitd), BUILDKITD_ROOT (/opt/stager-buildkitd), BUILDKITD_NAME (a), BUILDKITD_PORT
(18601), REGISTRY_ADDR (127.0.0.1:5000), BENCH_TAG_PREFIX (stager-bench), DOCKERD_LOG (the
20.10 daemon's log; found from its pid when unset), BASELINE (another stager image, e.g. the
parent commit's, interleaved as a fourth side: the "was" figure).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
IMAGE = os.environ.get("IMAGE", "myorg/frontend")
OFFICIAL = os.environ.get("OFFICIAL", "official/dockerfile:1.26.0")
SHARED = Path(os.environ.get("SHARED", REPO.parent / "shared"))
RUNS = max(1, int(os.environ.get("RUNS", "15")))
DAEMONS = os.environ.get("DAEMONS", "docker,buildkitd").split(",")
BK_ROOT = Path(os.environ.get("BUILDKITD_ROOT", "/opt/stager-buildkitd"))
BK_NAME = os.environ.get("BUILDKITD_NAME", "a")
BK_PORT = os.environ.get("BUILDKITD_PORT", "18601")
REGISTRY = os.environ.get("REGISTRY_ADDR", "127.0.0.1:5000")
TAG = os.environ.get("BENCH_TAG_PREFIX", "stager-bench")
CONTEXT = REPO / "examples" / "multistage"
STATS_TAG = f"bench-{os.getpid()}"
ENV = dict(os.environ, DOCKER_BUILDKIT="1")
TARGET = 0.75
BASELINE = os.environ.get("BASELINE", "")

STATS_LINE = re.compile(rb"stager-stats tag=(\S+) peak_rss=(\d+)kB wall_ms=(\d+)(?: steps=(\S+))?")
STEP = re.compile(r"([A-Za-z-]+)(?:\[([^\]]*)\])?@([\d.]+)\+([\d.]+)")


def log(msg: str) -> None:
    print(f"bench-gateway: {msg}", file=sys.stderr, flush=True)


def sh(*cmd: str, env: dict | None = None, input: bytes | None = None) -> str:
    p = subprocess.run(cmd, capture_output=True, env=env or ENV, input=input)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: "
                           f"{p.stderr.decode(errors='replace')[-600:]}")
    return p.stdout.decode(errors="replace")


def with_syntax(text: str, frontend: str | None) -> str:
    """The Dockerfile with its `# syntax=` line set to `frontend`, or removed (built-in)."""
    lines = [l for l in text.splitlines() if not l.lstrip().lower().startswith("# syntax=")]
    if frontend:
        lines.insert(0, f"# syntax={frontend}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# images


def has_image(ref: str) -> bool:
    return subprocess.run([DOCKER, "image", "inspect", ref], capture_output=True).returncode == 0


def official_image() -> None:
    """The official 1.26 frontend as a gateway image in DOCKER's store, as its README says."""
    if has_image(OFFICIAL):
        return
    bindir = sh("sh", str(SHARED / "tools" / "buildkit" / "install.sh"),
                os.environ.get("BUILDKIT_BIN", "/opt/buildkit-ref/bin")).strip()
    log(f"making {OFFICIAL} from {bindir}/dockerfile-frontend")
    with tempfile.TemporaryDirectory() as ctx:
        Path(ctx, "dockerfile-frontend").write_bytes(Path(bindir, "dockerfile-frontend").read_bytes())
        os.chmod(Path(ctx, "dockerfile-frontend"), 0o755)
        sh(DOCKER, "build", "-q", "-f", str(SHARED / "tools" / "buildkit" / "official-frontend.Dockerfile"),
           "-t", OFFICIAL, ctx)


def stats_image() -> str:
    """stager's image with `ENV STAGER_STATS`: the same binary, logging its steps."""
    ref = f"{TAG}/frontend-stats"
    with tempfile.TemporaryDirectory() as ctx:
        Path(ctx, "Dockerfile").write_text(f"FROM {IMAGE}\nENV STAGER_STATS={STATS_TAG}\n")
        sh(DOCKER, "build", "-q", "-t", ref, ctx)
    return ref


def push(local: str, remote: str) -> str:
    """Pushes a DOCKER image to the registry; its reference pinned by digest."""
    sh(DOCKER, "tag", local, remote)
    out = sh(DOCKER, "push", remote)
    m = re.search(r"digest: (sha256:[0-9a-f]{64})", out)
    if not m:
        raise RuntimeError(f"no digest in `docker push {remote}`: {out[-300:]}")
    return f"{remote.rsplit(':', 1)[0]}@{m.group(1)}"


# ---------------------------------------------------------------------------------------------
# daemons


class Daemon:
    """How to build on one daemon and where its log is."""

    name = ""
    log_path: Path | None = None

    def frontend_ref(self, local: str) -> str:
        return local

    def build(self, dockerfile: Path) -> float:
        raise NotImplementedError


class Docker(Daemon):
    name = "Docker 20.10"

    def __init__(self) -> None:
        version = sh(DOCKER, "version", "--format", "{{.Server.Version}}").strip()
        self.name = f"Docker {version}"
        self.log_path = Path(os.environ["DOCKERD_LOG"]) if os.environ.get("DOCKERD_LOG") else None
        if self.log_path is None:
            try:
                pid = int(Path("/var/run/docker.pid").read_text().strip())
                self.log_path = Path(os.readlink(f"/proc/{pid}/fd/2"))
            except (OSError, ValueError):
                self.log_path = None

    def build(self, dockerfile: Path) -> float:
        start = time.monotonic()
        p = subprocess.run([DOCKER, "build", "--progress=plain", "-f", str(dockerfile),
                            "-t", f"{TAG}/multistage:gateway", str(CONTEXT)],
                           env=ENV, capture_output=True, text=True)
        elapsed = time.monotonic() - start
        if p.returncode != 0:
            raise RuntimeError(f"docker build {dockerfile.name} failed:\n{p.stderr[-1500:]}")
        return elapsed


class Buildkitd(Daemon):
    def __init__(self) -> None:
        env = dict(os.environ, NAME=BK_NAME, PORT=BK_PORT, ROOT=str(BK_ROOT), SHARED=str(SHARED))
        sh("bash", str(REPO / "scripts" / "setup-buildkitd.sh"), env=env)
        sh("bash", str(REPO / "scripts" / "setup-registry.sh"), env=env)
        self.buildctl = str(BK_ROOT / BK_NAME / "buildctl")
        self.log_path = BK_ROOT / BK_NAME / "buildkitd.log"
        version = sh(str(Path(os.environ.get("BUILDKIT_BIN", "/opt/buildkit-ref/bin")) / "buildkitd"),
                     "--version").split()
        self.name = f"buildkitd {version[2] if len(version) > 2 else '?'}"
        # The daemon's docker.io mirror is the local registry: busybox comes from there.
        push("busybox:latest", f"{REGISTRY}/library/busybox:latest")

    def frontend_ref(self, local: str) -> str:
        name = local.split("/")[-1].replace(":", "-")
        return push(local, f"{REGISTRY}/{TAG}/{name}:gateway")

    def build(self, dockerfile: Path) -> float:
        start = time.monotonic()
        p = subprocess.run([self.buildctl, "build", "--frontend", "dockerfile.v0", "--progress", "plain",
                            "--local", f"context={CONTEXT}", "--local", f"dockerfile={dockerfile.parent}",
                            "--opt", f"filename={dockerfile.name}"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        elapsed = time.monotonic() - start
        if p.returncode != 0:
            raise RuntimeError(f"buildctl build {dockerfile.name} failed:\n{p.stderr[-1500:]}")
        return elapsed


class LogTail:
    """The stats lines a daemon's log gains from now on."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.offset = path.stat().st_size if path and path.exists() else 0

    def take(self) -> list[tuple[int, int, str]]:
        """(peak RSS kB, wall ms, steps) of this run's stats lines since the last call."""
        if not self.path or not self.path.exists():
            return []
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        return [(int(m.group(2)), int(m.group(3)), (m.group(4) or b"").decode())
                for m in STATS_LINE.finditer(data[:end]) if m.group(1).decode() == STATS_TAG]


# ---------------------------------------------------------------------------------------------
# measuring


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def compare(daemon: Daemon, tmp: Path, sides: dict[str, str | None]) -> dict[str, float]:
    """Interleaved cached rebuilds through each side's frontend (None: built-in): medians in ms."""
    text = (CONTEXT / "Dockerfile").read_text()
    files = {}
    for side, frontend in sides.items():
        files[side] = tmp / f"{side}.Dockerfile"
        files[side].write_text(with_syntax(text, frontend))
        daemon.build(files[side])  # fills the cache, pulls the frontend image
        daemon.build(files[side])
    times: dict[str, list[float]] = {side: [] for side in sides}
    order = list(sides)
    for _ in range(RUNS):
        for side in order:
            times[side].append(daemon.build(files[side]))
        order.reverse()
    return {side: median_ms(t) for side, t in times.items()}


def breakdown(daemon: Daemon, tmp: Path, stats_ref: str) -> tuple[list[str], float | None]:
    """Rebuilds through the stats image; the median start and duration of each step."""
    dockerfile = tmp / "stats.Dockerfile"
    dockerfile.write_text(with_syntax((CONTEXT / "Dockerfile").read_text(), stats_ref))
    daemon.build(dockerfile)
    tail = LogTail(daemon.log_path)
    totals = [daemon.build(dockerfile) for _ in range(RUNS)]
    time.sleep(0.5)  # the daemon's log is written after the frontend exits
    lines = tail.take()
    if not lines:
        return [f"no stager-stats lines in {daemon.log_path} (the frontend's stderr)"], None
    steps: dict[str, list[tuple[float, float]]] = {}
    order: list[str] = []
    for _, _, text in lines:
        seen: dict[str, int] = {}
        for m in STEP.finditer(text):
            name = m.group(1) + (f"[{m.group(2)}]" if m.group(2) else "")
            # Several calls of one RPC about the same thing in one run (Solve) are told apart
            # by their order.
            seen[name] = seen.get(name, 0) + 1
            key = name if seen[name] == 1 else f"{name} #{seen[name]}"
            if key not in steps:
                order.append(key)
            steps.setdefault(key, []).append((float(m.group(3)), float(m.group(4))))
    wall = statistics.median(w for _, w, _ in lines)
    rss = statistics.median(r for r, _, _ in lines)
    out = [f"frontend process (main to exit): {wall:.0f} ms, peak RSS {rss / 1024:.1f} MiB; "
           f"the whole rebuild {median_ms(totals):.0f} ms ({len(lines)} runs)"]
    out.append(f"  {'step':<44} {'starts at':>9} {'takes':>8}")
    for key in sorted(order, key=lambda k: statistics.median(s for s, _ in steps[k])):
        starts = statistics.median(s for s, _ in steps[key])
        takes = statistics.median(d for _, d in steps[key])
        out.append(f"  {key[:44]:<44} {starts:>7.1f} ms {takes:>5.1f} ms")
    return out, wall


def main() -> int:
    if not (SHARED / "tools" / "buildkit" / "install.sh").exists():
        print(f"\n*** SKIPPED: the gateway round trip against the official 1.26 image needs "
              f"{SHARED}/tools/buildkit (the official frontend and buildkitd v0.32.2)")
        return 0
    official_image()
    stats_local = stats_image()
    report: list[str] = []
    with tempfile.TemporaryDirectory(prefix="stager-bench-gw.") as tmpdir:
        tmp = Path(tmpdir)
        for which in DAEMONS:
            daemon: Daemon = Docker() if which == "docker" else Buildkitd()
            log(f"{daemon.name}: {RUNS} interleaved rounds")
            sides = {"stager": daemon.frontend_ref(IMAGE), "official": daemon.frontend_ref(OFFICIAL),
                     "built-in": None}
            if BASELINE:
                sides["baseline"] = daemon.frontend_ref(BASELINE)
            med = compare(daemon, tmp, sides)
            stager, official, builtin = med["stager"], med["official"], med["built-in"]
            ratio = stager / official
            verdict = "ok" if ratio <= TARGET else "ABOVE TARGET"
            report += [
                f"{daemon.name}: cached rebuild of examples/multistage, median of {RUNS} interleaved rounds",
                f"  through stager's image          {stager:7.0f} ms",
                f"  through the official 1.26 image {official:7.0f} ms",
                f"  built-in frontend (the floor)   {builtin:7.0f} ms",
                f"  ratio stager / official         {ratio:7.2f}x  (target <= {TARGET}x: {verdict})",
                *([f"  through the baseline {BASELINE}: {med['baseline']:.0f} ms, "
                   f"{med['baseline'] / official:.2f}x the official"] if BASELINE else []),
                f"  gateway overhead over built-in: stager {stager - builtin:.0f} ms, "
                f"official {official - builtin:.0f} ms",
            ]
            lines, wall = breakdown(daemon, tmp, daemon.frontend_ref(stats_local))
            if wall is not None:
                # What stager's process does not spend: the same container start and teardown
                # any gateway image pays. A frontend that took no time at all would get this.
                report.append(f"  a frontend taking 0 ms in its container: {(stager - wall) / official:.2f}x "
                              f"the official (stager's process is {wall:.0f} ms of its {stager:.0f} ms)")
            report += ["  " + l for l in lines]
    load = os.getloadavg()[0]
    print(f"\ngateway round trip ({time.strftime('%Y-%m-%d %H:%M %Z')}, {os.uname().nodename}, "
          f"{os.cpu_count()} cores, load {load:.1f})")
    for line in report:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
