"""Multi-platform builds on buildkitd (`--opt platform=linux/amd64,linux/arm64`), stager against
the built-in dockerfile.v0: tests/e2e/platforms.py does the comparing; this file builds."""

from __future__ import annotations

import sys
from pathlib import Path

import client
import common

sys.path.insert(0, str(common.HERE.parent))
import platforms as mp  # noqa: E402

OUT = common.OUT / "platforms"


def oci_build(df: Path, ctx: Path, args: list, tarball: Path) -> tuple[bool, str]:
    ok, output, secs, cmd = client.build(df, ctx, args, extra=["--no-cache", "--output",
                                                                 f"type=oci,dest={tarball}"])
    return ok, client.show(cmd) + f"\n# {secs:.2f}s\n" + output


def make_base() -> list[str]:
    """The two-platform busybox, pushed to the registry as docker.io's mirror serves it."""
    common.sh("bash", str(common.REPO / "scripts" / "setup-platforms.sh"), env={"ROOT": str(mp.ROOT)})
    df, ctx = mp.base_context(OUT)
    ok, output, _, cmd = client.build(df, ctx, ["--platform", mp.PLATFORMS], extra=[
        "--output", f"type=image,name={common.REGISTRY}/{mp.BASE}:latest,push=true"])
    (OUT / "base.log").write_text(client.show(cmd) + "\n" + output)
    return [] if ok else [f"base image: {common.harness.last_error(output)}"]


def checks() -> list:
    """(name, check(frontend)) pairs: the base image first, then one per case."""
    OUT.mkdir(parents=True, exist_ok=True)
    out = [("base image stager-multi/busybox for linux/amd64 and linux/arm64", lambda f: make_base())]
    for case in sorted(p for p in mp.CASES.iterdir() if (p / "Dockerfile").exists()):
        out.append((f"{case.name} ({mp.PLATFORMS})",
                    (lambda c: lambda f: mp.compare_case(c, OUT, f, oci_build, oci_build))(case)))
    return out
