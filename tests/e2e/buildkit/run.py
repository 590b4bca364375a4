#!/usr/bin/env python3
"""stager on a standalone buildkitd v0.32.2 over mutual TLS, as shared CI builders run it
(`make e2e-buildkit`).

scripts/setup-buildkitd.sh starts buildkitd (../shared/tools/buildkit: OCI worker, runc) on TCP
127.0.0.1 with certificates it makes with openssl; every build goes through `buildctl --tlscacert
--tlscert --tlskey`. The stager image is pushed to the local registry (127.0.0.1:5000) and named
by digest (`# syntax=127.0.0.1:5000/...@sha256:...`), as the README tells shared-builder users;
busybox is pushed there too, as the daemon's docker.io mirror. Then:

  tls          a client without a certificate is refused; with one it lists the workers
  suite        every tests/e2e case (run.py), stager against the daemon's built-in dockerfile.v0
               (= the official 1.26 frontend), images compared from docker tarballs
  concurrency  a dozen stager builds at once through two clients (two client certificates):
               all succeed and give identical images
  cache        the shared-builder round trip (cache.py): registry and local cache
  repro        SOURCE_DATE_EPOCH + rewrite-timestamp=true: stager's image digest equals the
               built-in's for every case whose built-in build is reproducible (repro.py)
  provenance   max-mode provenance per step, and a failing RUN's lines in the output and the
               build history, as the built-in's (provenance.py)
  buildx       docker buildx's remote driver with the client certificate (buildx.py)
  platforms    multi-platform builds (platforms.py), when QEMU runs arm64 here

With no ../shared/tools/buildkit it says it skipped and exits 0.

Environment: E2E_IMAGE (myorg/frontend, on DOCKER), DOCKER (/usr/bin/docker, pushes the images),
BUILDKITD_ROOT (/opt/stager-buildkitd), BUILDKITD_PORT (18601; the empty daemon of the cache
round trip PORT+1), CURRENT_ROOT (/opt/stager-docker-current: the buildx client), E2E_TAG_PREFIX (stager-e2e: registry repositories), BK_PARTS (tls suite
concurrency cache repro provenance buildx platforms), E2E_OUT (<repo>/.e2e; logs in .e2e/buildkit/).
Output: `ok <check>` / `FAIL <check>: ...`, the suite's own lines, then `N passed, M failed`.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import client  # noqa: E402
from common import (IMAGE, OUT, PORT, PREFIX, REGISTRY, REPO, SHARED, harness, push,  # noqa: E402
                    sh, start_daemon)

PARTS = os.environ.get("BK_PARTS", "tls suite concurrency cache repro provenance buildx platforms").split()


# --------------------------------------------------------------------------------------------


def check_tls() -> list[str]:
    bk = client.ROOT / "certs"
    binary = Path(os.environ.get("BUILDKIT_BIN", "/opt/buildkit-ref/bin")) / "buildctl"
    addr = f"tcp://127.0.0.1:{PORT}"
    no_cert = subprocess.run([str(binary), "--addr", addr, "--tlsservername", "127.0.0.1",
                              "--tlscacert", str(bk / "ca.pem"), "debug", "workers"],
                             capture_output=True, text=True, timeout=30)
    with_cert = subprocess.run([client.buildctl(), "debug", "workers"], capture_output=True, text=True,
                               timeout=30)
    problems = []
    if no_cert.returncode == 0:
        problems.append("a client without a certificate was served")
    if with_cert.returncode != 0 or "linux/amd64" not in with_cert.stdout:
        problems.append(f"the client with a certificate was refused: {with_cert.stderr.strip()[-200:]}")
    return problems


def buildctl_side(case: str, side: str, dockerfile: Path, context: Path, args: list[str],
                  rawjson: bool = False) -> harness.Build:
    """The harness's BUILD on buildkitd: the image as a docker tarball in the case's folder."""
    tarball = OUT / case / f"{side}.tar"
    ok, output, seconds, cmd = client.build(dockerfile, context, args, tarball=tarball,
                                            rawjson=rawjson, extra=["--no-cache"])
    (OUT / case / f"{side}.log").write_text(client.show(cmd) + f"\n# {seconds:.2f}s\n" + output)
    return harness.Build(ok, output, seconds, f"{case}:{side}", tarball if ok else None)


def run_suite(frontend: str) -> tuple[int, int]:
    harness.BUILD = buildctl_side
    harness.RAWJSON = lambda: True
    harness.PREFLIGHT = lambda: None
    harness.IMAGE = frontend
    harness._daemon_version[:] = ["buildkitd-v0.32.2"]
    rc = harness.main([])
    return rc, 0


# --------------------------------------------------------------------------------------------

CONCURRENT_DF = """FROM busybox AS one
RUN echo one > /one && ls / > /listing
FROM busybox AS two
ARG WHO=two
RUN echo $WHO > /two
FROM busybox
COPY --from=one /one /listing /
COPY --from=two /two /
RUN cat /one /two > /both
"""


def check_concurrency(frontend: str, n: int = 12) -> list[str]:
    """n builds at once, alternating between the two client certificates: identical images."""
    d = OUT / "concurrency"
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(f"# syntax={frontend}\n{CONCURRENT_DF}")

    def one(i: int) -> tuple[bool, str, Path]:
        tarball = d / f"{i}.tar"
        ok, output, _, _ = client.build(d / "Dockerfile", d, [], tarball=tarball,
                                        second_client=i % 2 == 1, extra=["--no-cache"])
        (d / f"{i}.log").write_text(output)
        return ok, output, tarball

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    problems = [f"build {i} failed: {harness.last_error(o)}" for i, (ok, o, _) in enumerate(results) if not ok]
    if problems:
        return problems
    first = results[0][2].read_bytes()
    ref_tree, ref_cfg = harness.image_tree(first), harness.image_config(first)
    for i, (_, _, t) in enumerate(results[1:], 1):
        saved = t.read_bytes()
        diff = harness.diff_trees(ref_tree, harness.image_tree(saved), "build 0", f"build {i}") + \
            harness.diff_configs(ref_cfg, harness.image_config(saved), "build 0", f"build {i}")
        if diff:
            problems.append(f"build {i} differs from build 0: {'; '.join(diff[:3])}")
    for _, _, t in results:
        t.unlink(missing_ok=True)
    return problems


# --------------------------------------------------------------------------------------------


def main() -> int:
    if not (SHARED / "tools" / "buildkit" / "install.sh").exists():
        print(f"e2e-buildkit: SKIPPED: no {SHARED}/tools/buildkit (the BuildKit v0.32.2 binaries "
              "are not installable from a registry here); nothing was run")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    sh("bash", str(REPO / "scripts" / "setup-registry.sh"))
    start_daemon("a", PORT)
    push("busybox:latest", f"{REGISTRY}/library/busybox:latest")
    frontend = push(IMAGE, f"{REGISTRY}/{PREFIX}/frontend:buildkit")
    print(f"e2e-buildkit: buildkitd v0.32.2 on 127.0.0.1:{PORT} (mutual TLS), stager = {frontend}",
          flush=True)
    passed = failed = 0

    def report(name: str, problems: list[str], secs: float) -> None:
        nonlocal passed, failed
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(problems[:5]), flush=True)
        else:
            passed += 1
            print(f"ok {name} ({secs:.1f}s)", flush=True)

    checks = []
    if "tls" in PARTS:
        checks.append(("tls", check_tls))
    if "concurrency" in PARTS:
        checks.append(("concurrency: 12 builds at once, two clients", lambda: check_concurrency(frontend)))
    if "cache" in PARTS:
        import cache
        checks += [(f"cache: {n}", (lambda f: lambda: f(frontend))(f)) for n, f in cache.CHECKS]
    if "repro" in PARTS:
        import repro
        checks += [(f"repro: {n}", (lambda f: lambda: f(frontend))(f)) for n, f in repro.CHECKS]
    if "provenance" in PARTS:
        import provenance
        checks += [(f"provenance: {n}", (lambda f: lambda: f(frontend))(f))
                   for n, f in provenance.CHECKS]
    if "buildx" in PARTS:
        import buildx
        checks += [(n, (lambda f: lambda: f(frontend))(f)) for n, f in buildx.CHECKS]
    if "platforms" in PARTS:
        import multiplatform as platforms
        checks += [(f"platforms: {n}", (lambda f: lambda: f(frontend))(f)) for n, f in platforms.checks()]
    for name, check in checks:
        t = time.monotonic()
        try:
            problems = check()
        except Exception as e:  # a harness failure is a failed check, not a crash
            problems = [f"harness error: {type(e).__name__}: {e}"]
        report(name, problems, time.monotonic() - t)
    if "suite" in PARTS:
        t = time.monotonic()
        rc, _ = run_suite(frontend)
        report("suite (the e2e cases, counted above)", ["a case failed"] if rc else [], time.monotonic() - t)
    print(f"e2e-buildkit: {time.monotonic() - start:.0f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
