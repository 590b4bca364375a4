"""Reproducible images on standalone buildkitd v0.32.2 (run by tests/e2e/buildkit/run.py, part
`repro`): with SOURCE_DATE_EPOCH and `rewrite-timestamp=true`, an image built through stager has
the same manifest digest as the built-in dockerfile.v0's (= the official 1.26 frontend).

Every tests/e2e case that is compared with the built-in frontend (no `expect`) is built three
times with `--no-cache`, each to an OCI tarball with `rewrite-timestamp=true`: twice by the
built-in frontend (a case whose two built-in digests differ is not reproducible to begin with and
only counted), once by stager. The digests come from `--metadata-file` (`containerimage.digest`).
Logs and metadata in .e2e/buildkit/repro/<case>/.
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
from pathlib import Path

import client
import common as bk

EPOCH = "1700000000"
_www: list[bool] = []


def build(case: "bk.harness.Case", side: str, dockerfile: Path, d: Path) -> tuple[str | None, str]:
    """(digest, error) of one build of `case`."""
    meta = d / f"{side}.json"
    out = d / f"{side}.tar"
    ok, output, secs, cmd = client.build(
        dockerfile, case.dir, [*case.args, "--build-arg", f"SOURCE_DATE_EPOCH={EPOCH}"],
        extra=["--no-cache", "--output", f"type=oci,dest={out},rewrite-timestamp=true",
               "--metadata-file", str(meta)])
    (d / f"{side}.log").write_text(client.show(cmd) + f"\n# {secs:.2f}s\n" + output)
    out.unlink(missing_ok=True)
    if not ok:
        return None, bk.harness.last_error(output)
    return json.loads(meta.read_text()).get("containerimage.digest"), ""


def one(case: "bk.harness.Case") -> tuple[str, str]:
    """(status, detail): `same`, `differs`, `unreproducible` (built-in) or `broken`."""
    d = bk.OUT / "repro" / case.name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    builtin = bk.harness.builtin_dockerfile(case)
    first, err = build(case, "builtin-1", builtin, d)
    if first is None:
        return "broken", f"built-in build failed: {err}"
    second, err = build(case, "builtin-2", builtin, d)
    if second != first:
        return "unreproducible", f"built-in gave {first} then {second}"
    stager, err = build(case, "stager", bk.harness.stager_dockerfile(case), d)
    if stager is None:
        return "differs", f"stager build failed: {err}"
    if stager != first:
        return "differs", f"stager {stager} != built-in {first}"
    return "same", first


def check(frontend: str) -> list[str]:
    h = bk.harness
    h.IMAGE = frontend
    if not _www:
        # The ADD http/git cases read from the harness's server; the suite part serves it
        # again, so it is started once and then made a no-op.
        h.serve_www()
        h.start_ssh_agent()
        h.serve_www = lambda: None
        h.start_ssh_agent = lambda: None
        _www.append(True)
    cases = [h.load_case(p) for p in sorted(h.CASES.iterdir()) if (p / "Dockerfile").exists()]
    cases = [c for c in cases if c.expect is None and not c.needs_stager and not c.only_daemon]
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip((c.name for c in cases), pool.map(one, cases)))
    problems, counts = [], {}
    for name, (status, detail) in sorted(results.items()):
        counts[status] = counts.get(status, 0) + 1
        if status in ("differs", "broken"):
            problems.append(f"{name}: {detail}")
        elif status == "unreproducible":
            print(f"  repro: {name} skipped, the built-in build is not reproducible ({detail})",
                  flush=True)
    print("  repro: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())), flush=True)
    if not counts.get("same"):
        problems.append("no case was compared")
    return problems


CHECKS = [("SOURCE_DATE_EPOCH + rewrite-timestamp: stager's digest = the built-in's", check)]
