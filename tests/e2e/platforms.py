"""Multi-platform builds end to end (linux/amd64 and linux/arm64 at once; arm64 runs under QEMU,
scripts/setup-platforms.sh): each Dockerfile of tests/e2e/platforms/ is built through stager and
through the frontend it is compared with, both as one OCI tarball holding an image index; per
platform the file trees and configs must be the same, and they must be two different images
(Architecture arm64 and amd64, and what `uname -m` wrote).

The base image stager-multi/busybox has both platforms, made here `FROM scratch` with
`$TARGETARCH` from the two busybox root file systems: pushed to the local registry (which
buildkitd reaches as its docker.io mirror) or loaded into a Docker Engine's containerd image
store. Used by tests/e2e/buildkit/run.py (buildctl) and tests/e2e/current/platforms.py
(`docker buildx build` on Docker 28).
"""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
import tarfile
from pathlib import Path
from typing import Callable

import oci  # tests/e2e/oci.py: whoever imports this file has tests/e2e on sys.path

HERE = Path(__file__).resolve().parent
CASES = HERE / "platforms"
PLATFORMS = "linux/amd64,linux/arm64"
ROOT = Path(os.environ.get("PLATFORMS_ROOT", "/opt/stager-platforms"))
BASE = "stager-multi/busybox"

BASE_DOCKERFILE = """FROM scratch
ARG TARGETARCH
COPY rootfs-$TARGETARCH/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["sh"]
"""

# build(dockerfile, context, args, oci_tarball) -> (ok, output)
Builder = Callable[[Path, Path, list, Path], tuple]


def _harness():
    """The e2e harness (tests/e2e/run.py): layers, trees, config fields; loaded as e2e_harness by
    tests/e2e/buildkit, as run elsewhere."""
    if "e2e_harness" in sys.modules:
        return sys.modules["e2e_harness"]
    import run
    return run


def base_context(out: Path) -> tuple[Path, Path]:
    """(Dockerfile, context) of the base image: the context is ROOT, of which a .dockerignore
    keeps only the two root file systems."""
    (ROOT / ".dockerignore").write_text("*\n!rootfs-amd64\n!rootfs-arm64\n")
    d = out / "base"
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(BASE_DOCKERFILE)
    return d / "Dockerfile", ROOT


def oci_images(data: bytes) -> dict[str, tuple[dict, dict]]:
    """platform -> (file tree, config fields) of each image of an OCI tarball's index."""
    harness = _harness()
    tar = tarfile.open(fileobj=io.BytesIO(data))

    out = {}
    todo = json.loads(tar.extractfile("index.json").read())["manifests"]
    while todo:
        desc = todo.pop()
        doc = oci.oci_json(tar, desc["digest"])
        if "manifests" in doc:
            todo += doc["manifests"]
            continue
        if desc.get("platform", {}).get("architecture") == "unknown":
            continue  # an attestation manifest
        cfg = oci.oci_json(tar, doc["config"]["digest"])
        tree: dict = {}
        for layer in doc["layers"]:
            layer_tar = tarfile.open(fileobj=io.BytesIO(oci.oci_blob(tar, layer["digest"])))
            harness.apply_layer(tree, layer_tar)
        fields = {k: harness.normalize((cfg.get("config") or {}).get(k)) for k in harness.CONFIG_FIELDS}
        fields["Architecture"], fields["Os"] = cfg.get("architecture"), cfg.get("os")
        fields["Variant"] = cfg.get("variant")
        platform = f"{cfg.get('os')}/{cfg.get('architecture')}" + (f"/{cfg['variant']}" if cfg.get("variant") else "")
        out[platform] = (tree, fields)
    return out


def compare_case(case: Path, out: Path, stager: str, stager_build: Builder,
                 other_build: Builder, other: str = "builtin") -> list[str]:
    """Builds one case both ways; the per-platform differences (empty when none)."""
    harness = _harness()
    d = out / case.name
    d.mkdir(parents=True, exist_ok=True)
    text = (case / "Dockerfile").read_text()
    (d / "stager.Dockerfile").write_text(f"# syntax={stager}\n{text}")
    args = shlex.split((case / "args").read_text(), comments=True) if (case / "args").exists() else []
    args = [*args, "--platform", PLATFORMS]
    images = {}
    for side, build, df in (("stager", stager_build, d / "stager.Dockerfile"),
                            (other, other_build, case / "Dockerfile")):
        tarball = d / f"{side}.tar"
        ok, output = build(df, case, args, tarball)
        (d / f"{side}.log").write_text(output)
        if not ok:
            return [f"{side} build failed: {harness.last_error(output)}"]
        images[side] = oci_images(tarball.read_bytes())
        tarball.unlink()
    problems = []
    got = {s: sorted(i) for s, i in images.items()}
    if got["stager"] != ["linux/amd64", "linux/arm64"] or got[other] != got["stager"]:
        return [f"platforms: stager {got['stager']}, {other} {got[other]}"]
    for platform in got["stager"]:
        (st, sc), (ot, oc) = images["stager"][platform], images[other][platform]
        problems += [f"{platform}: {p}" for p in harness.diff_configs(sc, oc, "stager", other)]
        problems += [f"{platform}: {p}" for p in harness.diff_trees(st, ot, "stager", other)]
    if images["stager"]["linux/amd64"][0] == images["stager"]["linux/arm64"][0]:
        problems.append("the amd64 and arm64 images have the same files (was arm64 built?)")
    return problems
