#!/usr/bin/env python3
"""Multi-platform builds on the current Docker (28.5, containerd image store): `docker buildx
build --platform linux/amd64,linux/arm64` of each tests/e2e/platforms case through stager and
through the daemon's built-in frontend (and, when the image exists, the official 1.26 frontend
image), compared per platform by tests/e2e/platforms.py. arm64 runs under QEMU
(scripts/setup-platforms.sh). The two-platform base image stager-multi/busybox is built into the
daemon's image store first.

Environment: DOCKER_CURRENT (/opt/stager-docker-current/docker), E2E_IMAGE (myorg/frontend),
OFFICIAL (official/dockerfile:1.26.0), PLATFORMS_ROOT (/opt/stager-platforms), E2E_OUT
(<repo>/.e2e; logs in .e2e/current-platforms/).
Output: `ok <case> ...` / `FAIL <case>: ...`, then `N passed, M failed`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))
import platforms as mp  # noqa: E402

DOCKER = os.environ.get("DOCKER_CURRENT", "/opt/stager-docker-current/docker")
IMAGE = os.environ.get("E2E_IMAGE", "myorg/frontend")
OFFICIAL = os.environ.get("OFFICIAL", "official/dockerfile:1.26.0")
OUT = Path(os.environ.get("E2E_OUT", REPO / ".e2e")) / "current-platforms"


def buildx(df: Path, ctx: Path, args: list, *output: str) -> tuple[bool, str]:
    cmd = [DOCKER, "buildx", "build", "--progress=plain", "-f", str(df), *args, *output, str(ctx)]
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO)
    head = " ".join(shlex.quote(c) for c in cmd) + f"\n# {time.monotonic() - start:.2f}s\n"
    return p.returncode == 0, head + p.stdout + p.stderr


def oci_build(df: Path, ctx: Path, args: list, tarball: Path) -> tuple[bool, str]:
    return buildx(df, ctx, ["--no-cache", *args], "--output", f"type=oci,dest={tarball}")


def with_frontend(ref: str):
    """A builder whose Dockerfile gets `# syntax=<ref>` (the official frontend image)."""
    def build(df: Path, ctx: Path, args: list, tarball: Path) -> tuple[bool, str]:
        d = OUT / "reference-df"
        d.mkdir(parents=True, exist_ok=True)
        (d / "Dockerfile").write_text(f"# syntax={ref}\n{df.read_text()}")
        return oci_build(d / "Dockerfile", ctx, args, tarball)
    return build


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["bash", str(REPO / "scripts" / "setup-platforms.sh")], check=True,
                   env=dict(os.environ, ROOT=str(mp.ROOT)))
    df, ctx = mp.base_context(OUT)
    ok, output = buildx(df, ctx, ["--platform", mp.PLATFORMS], "-t", f"{mp.BASE}:latest", "--load")
    (OUT / "base.log").write_text(output)
    if not ok:
        print(f"FAIL base image {mp.BASE}: {output.strip().splitlines()[-1][:300]}")
        print("0 passed, 1 failed")
        return 1
    others = [("builtin", oci_build)]
    if subprocess.run([DOCKER, "image", "inspect", OFFICIAL], capture_output=True).returncode == 0:
        others.append(("official-1.26", with_frontend(OFFICIAL)))
    else:
        print(f"platforms: no {OFFICIAL} image: the comparison with the official frontend is skipped")
    passed = failed = 0
    for case in sorted(p for p in mp.CASES.iterdir() if (p / "Dockerfile").exists()):
        for name, build in others:
            start = time.monotonic()
            problems = mp.compare_case(case, OUT / name, IMAGE, oci_build, build, other=name)
            if problems:
                failed += 1
                print(f"FAIL {case.name} vs {name}: " + "; ".join(problems[:5]), flush=True)
            else:
                passed += 1
                print(f"ok {case.name} vs {name} ({mp.PLATFORMS}, {time.monotonic() - start:.1f}s)", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
