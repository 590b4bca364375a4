"""buildctl against the standalone buildkitd of scripts/setup-buildkitd.sh, as the e2e harness's
builder: `docker build` flags of the cases turned into buildctl's, the image written as a docker
tarball (`--output type=docker,dest=...`), which the harness reads as it reads `docker save`."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ROOT = Path(os.environ.get("BUILDKITD_ROOT", "/opt/stager-buildkitd"))


def buildctl(name: str = "a", second_client: bool = False) -> str:
    """The client script of one daemon (TLS flags included); the second client has its own
    certificate."""
    return str(ROOT / name / ("buildctl-2" if second_client else "buildctl"))


def translate(args: list[str]) -> tuple[list[str], list[str]]:
    """`docker build` flags of a case -> (buildctl flags, problems)."""
    out, problems = [], []
    it = iter(args)
    for a in it:
        flag, eq, value = a.partition("=")
        if not eq and flag in ("--build-arg", "--target", "--platform", "--secret", "--ssh",
                               "--build-context"):
            value = next(it, "")
        if flag == "--build-arg":
            out += ["--opt", f"build-arg:{value}"]
        elif flag == "--target":
            out += ["--opt", f"target={value}"]
        elif flag == "--platform":
            out += ["--opt", f"platform={value}"]
        elif flag in ("--secret", "--ssh"):
            out += [flag, value]
        elif flag == "--build-context":
            key, _, src = value.partition("=")
            if "://" in src:
                out += ["--opt", f"context:{key}={src}"]
            else:  # a local directory: its own named local, as buildx sends it
                out += ["--local", f"{key}={src}", "--opt", f"context:{key}=local:{key}"]
        else:
            problems.append(f"no buildctl equivalent for {a!r}")
    return out, problems


def build(dockerfile: Path, context: Path, args: list[str], *, tarball: Path | None = None,
          rawjson: bool = False, daemon: str = "a", second_client: bool = False,
          extra: list[str] | None = None,
          timeout: int = 600) -> tuple[bool, str, float, list[str]]:
    """One `buildctl build` of a Dockerfile through dockerfile.v0 (the daemon's built-in 1.26,
    which hands over to a `# syntax=` image): (ok, output, seconds, command)."""
    flags, problems = translate(args)
    if problems:
        return False, "; ".join(problems), 0.0, []
    cmd = [buildctl(daemon, second_client), "build", "--frontend", "dockerfile.v0",
           "--progress", "rawjson" if rawjson else "plain",
           "--local", f"context={context}", "--local", f"dockerfile={dockerfile.parent}",
           "--opt", f"filename={dockerfile.name}", *flags, *(extra or [])]
    if tarball is not None:
        cmd += ["--output", f"type=docker,name=stager-e2e/out,dest={tarball}"]
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        ok, output = p.returncode == 0, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        ok, output = False, (e.stdout or b"").decode("utf-8", "replace") + f"\nTIMEOUT after {timeout}s"
    return ok, output, time.monotonic() - start, cmd


def show(cmd: list[str]) -> str:
    return " ".join(shlex.quote(c) for c in cmd)
