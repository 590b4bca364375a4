"""docker buildx's `remote` driver against the standalone buildkitd (mutual TLS), as CI runners
reach a shared builder: the buildx of the current Docker (scripts/setup-docker-current.sh, its
own DOCKER_CONFIG) creates a builder for tcp://127.0.0.1:PORT with the client certificate, and
builds through stager (`# syntax=` the pinned image) and through the built-in frontend; the two
images (docker tarballs) must be the same, and so must what `--call=targets` prints."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import client
import common

CURRENT_ROOT = Path(os.environ.get("CURRENT_ROOT", "/opt/stager-docker-current"))
# Not BUILDX_BUILDER: buildx reads that one itself.
BUILDER = os.environ.get("E2E_BUILDX_NAME", "stager-e2e-remote")
OUT = common.OUT / "buildx"

DOCKERFILE = """FROM busybox AS build
ARG GREETING=hello
RUN echo "$GREETING" > /greeting && ls / > /listing

# The release image.
FROM scratch AS release
COPY --from=build /greeting /listing /
CMD ["/greeting"]
"""


def docker() -> list[str] | None:
    """The current Docker's client with buildx, or None when it is not unpacked here."""
    wrapper = CURRENT_ROOT / "docker"
    return [str(wrapper)] if wrapper.exists() else None


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def compare_through(dk: list[str], builder: str, frontend: str, out: Path) -> list[str]:
    """stager and the built-in frontend through one buildx builder: same image, same targets."""
    boot = run([*dk, "buildx", "inspect", builder, "--bootstrap"])
    if boot.returncode or "linux/amd64" not in boot.stdout:
        return [f"buildx inspect --bootstrap: {(boot.stderr or boot.stdout).strip()[-300:]}"]
    images, targets, problems = {}, {}, []
    for side, text in (("stager", f"# syntax={frontend}\n{DOCKERFILE}"), ("builtin", DOCKERFILE)):
        d = out / side
        d.mkdir(parents=True, exist_ok=True)
        (d / "Dockerfile").write_text(text)
        p = run([*dk, "buildx", "build", "--builder", builder, "--progress=plain", "--no-cache",
                 "--output", f"type=docker,dest={d / 'image.tar'}", str(d)])
        (d / "build.log").write_text(p.stdout + p.stderr)
        if p.returncode:
            return [f"{side} build through {builder}: {common.harness.last_error(p.stderr)}"]
        images[side] = (d / "image.tar").read_bytes()
        t = run([*dk, "buildx", "build", "--builder", builder, "--call=targets", str(d)])
        targets[side] = t.stdout if t.returncode == 0 else f"exit {t.returncode}: {t.stderr[-200:]}"
    if "release (default)" not in targets["builtin"] or targets["stager"] != targets["builtin"]:
        problems.append(f"--call=targets: stager {targets['stager']!r}, built-in {targets['builtin']!r}")
    h = common.harness
    problems += h.diff_configs(h.image_config(images["stager"]), h.image_config(images["builtin"]),
                               "stager", "builtin")
    problems += h.diff_trees(h.image_tree(images["stager"]), h.image_tree(images["builtin"]),
                             "stager", "builtin")
    return problems


def remote_driver(frontend: str) -> list[str]:
    dk = docker()
    if dk is None:
        return [f"no {CURRENT_ROOT}/docker (make e2e-current unpacks it first)"]
    certs = client.ROOT / "certs"
    run([*dk, "buildx", "rm", BUILDER])
    made = run([*dk, "buildx", "create", "--name", BUILDER, "--driver", "remote", "--driver-opt",
                f"cacert={certs}/ca.pem,cert={certs}/client.pem,key={certs}/client-key.pem,"
                f"servername=127.0.0.1", f"tcp://127.0.0.1:{common.PORT}"])
    if made.returncode:
        return [f"buildx create: {made.stderr.strip()[-300:]}"]
    return compare_through(dk, BUILDER, frontend, OUT / "remote")


def container_driver(frontend: str) -> list[str]:
    """buildx's docker-container driver on the current Docker, with a buildkit image made here
    (scripts/make-buildkit-image.sh: no registry has one)."""
    dk = docker()
    if dk is None:
        return [f"no {CURRENT_ROOT}/docker (make e2e-current unpacks it first)"]
    made = subprocess.run(["bash", str(common.REPO / "scripts" / "make-buildkit-image.sh")],
                          capture_output=True, text=True, env=dict(os.environ, IMAGE=BUILDKIT_IMAGE,
                                                                    CURRENT_ROOT=str(CURRENT_ROOT)))
    if made.returncode:
        return [f"make-buildkit-image.sh: {made.stderr.strip()[-300:]}"]
    OUT.mkdir(parents=True, exist_ok=True)
    config = OUT / "container-buildkitd.toml"
    config.write_text(f'[registry."docker.io"]\n  mirrors = ["{common.REGISTRY}"]\n'
                      f'[registry."{common.REGISTRY}"]\n  http = true\n')
    name = f"{BUILDER}-container"
    run([*dk, "buildx", "rm", name])
    made = run([*dk, "buildx", "create", "--name", name, "--driver", "docker-container",
                "--driver-opt", f"image={BUILDKIT_IMAGE},network=host", "--buildkitd-config", str(config)])
    if made.returncode:
        return [f"buildx create: {made.stderr.strip()[-300:]}"]
    try:
        return compare_through(dk, name, frontend, OUT / "container")
    finally:
        run([*dk, "buildx", "rm", name])


BUILDKIT_IMAGE = os.environ.get("BUILDKIT_IMAGE", "stager-e2e/buildkit:v0.32.2")
CHECKS = [
    ("buildx remote driver (mutual TLS): stager = built-in, --call=targets", remote_driver),
    ("buildx docker-container driver (local buildkit image): stager = built-in", container_driver),
]
