"""What the e2e-buildkit checks share: where things are, the e2e harness (tests/e2e/run.py,
loaded under its own name so that it does not clash with this folder's run.py), the daemons, the
local registry and the blobs of OCI tarballs."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SHARED = Path(os.environ.get("SHARED", REPO.parent / "shared"))
os.environ.setdefault("E2E_OUT", str(REPO / ".e2e" / "buildkit"))
os.environ.setdefault("E2E_DAEMON", "buildkitd-v0.32.2")

_spec = importlib.util.spec_from_file_location("e2e_harness", HERE.parent / "run.py")
harness = importlib.util.module_from_spec(_spec)
sys.modules["e2e_harness"] = harness  # dataclasses look their module up there
_spec.loader.exec_module(harness)

import client  # noqa: E402
# tests/e2e/oci.py (the harness has put tests/e2e on sys.path): the blob reader of OCI tarballs.
from oci import oci_blob, oci_json  # noqa: E402,F401

DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
IMAGE = os.environ.get("E2E_IMAGE", "myorg/frontend")
REGISTRY = os.environ.get("REGISTRY_ADDR", "127.0.0.1:5000")
PREFIX = os.environ.get("E2E_TAG_PREFIX", "stager-e2e")
PORT = int(os.environ.get("BUILDKITD_PORT", "18601"))
OUT = Path(os.environ["E2E_OUT"])


def sh(*cmd: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """A command whose output is only wanted when it fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {(p.stderr or p.stdout)[-400:]}")
    return p


def start_daemon(name: str, port: int, fresh: bool = False) -> None:
    """scripts/setup-buildkitd.sh for one daemon (fresh: stopped and emptied first)."""
    sh("bash", str(REPO / "scripts" / "setup-buildkitd.sh"),
       env={"NAME": name, "PORT": str(port), "ROOT": str(client.ROOT), "FRESH": "1" if fresh else "0"})


def push(local: str, remote: str) -> str:
    """Pushes a DOCKER image to the local registry; its reference pinned by digest."""
    sh(DOCKER, "tag", local, remote)
    out = sh(DOCKER, "push", remote).stdout
    m = re.search(r"digest: (sha256:[0-9a-f]{64})", out)
    if not m:
        raise RuntimeError(f"no digest in `docker push {remote}`: {out[-300:]}")
    return f"{remote.rsplit(':', 1)[0]}@{m.group(1)}"


