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
import tarfile
import time
from pathlib import Path

import client
import common as bk

EPOCH = "1700000000"
_www: list[bool] = []


def build(case: "bk.harness.Case", side: str, dockerfile: Path, d: Path,
          args: list[str] | None = None, opts: list[str] | None = None,
          keep: bool = False) -> tuple[str | None, str]:
    """(digest, error) of one build of `case` (SOURCE_DATE_EPOCH=EPOCH unless `args` are given);
    `keep`: the OCI tarball stays as <side>.tar."""
    meta = d / f"{side}.json"
    out = d / f"{side}.tar"
    args = [*case.args, "--build-arg", f"SOURCE_DATE_EPOCH={EPOCH}"] if args is None else args
    ok, output, secs, cmd = client.build(
        dockerfile, case.dir, args,
        extra=[*(opts or []), "--no-cache", "--output",
               f"type=oci,dest={out},rewrite-timestamp=true", "--metadata-file", str(meta)])
    (d / f"{side}.log").write_text(client.show(cmd) + f"\n# {secs:.2f}s\n" + output)
    if not keep:
        out.unlink(missing_ok=True)
    if not ok:
        return None, bk.harness.last_error(output)
    return json.loads(meta.read_text()).get("containerimage.digest"), ""


def created(oci: Path) -> str:
    """The `created` of the one image in an OCI tarball."""
    with tarfile.open(oci) as t:
        index = json.loads(t.extractfile("index.json").read())
        manifest = bk.oci_json(t, index["manifests"][0]["digest"])
        return bk.oci_json(t, manifest["config"]["digest"]).get("created", "")


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


def serve() -> None:
    """The harness's web and git server, started once."""
    h = bk.harness
    if not _www:
        # The ADD http/git cases read from the harness's server; the suite part serves it
        # again, so it is started once and then made a no-op.
        h.serve_www()
        h.start_ssh_agent()
        h.serve_www = lambda: None
        h.start_ssh_agent = lambda: None
        _www.append(True)


def check(frontend: str) -> list[str]:
    h = bk.harness
    h.IMAGE = frontend
    serve()
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


REMOTE_DF = """FROM busybox
COPY . /src
ARG SOURCE_DATE_EPOCH
RUN echo "$SOURCE_DATE_EPOCH" > /epoch
"""

STAGE_DF = """ARG SOURCE_DATE_EPOCH=src
FROM scratch AS src
ADD http://127.0.0.1:18480/remote.txt /
FROM busybox
ARG SOURCE_DATE_EPOCH
RUN echo "$SOURCE_DATE_EPOCH" > /epoch
"""


def check_remote(frontend: str) -> list[str]:
    """SOURCE_DATE_EPOCH from a remote source's time (`ResolveSourceMeta`): `=context` with a git
    main context (the commit's time, 2020-01-01) and `=<stage>` with a source stage's ADD over
    HTTP (the file's Last-Modified): the image is dated so, with the built-in's digest."""
    h = bk.harness
    h.IMAGE = frontend
    serve()
    www = f"http://127.0.0.1:{h.WWW_PORT}"
    mtime = int((h.WWW / "remote.txt").stat().st_mtime)
    forms = [
        ("git-context", REMOTE_DF, ["--build-arg", "SOURCE_DATE_EPOCH=context"],
         ["--opt", f"context={www}/git/repo.git#main", "--opt", "dockerfilekey=dockerfile"],
         "2020-01-01T00:00:00Z"),
        ("source-stage", h.with_port(STAGE_DF), [], [],
         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mtime))),
    ]
    problems = []
    for name, body, args, opts, want in forms:
        d = bk.OUT / "repro" / name
        shutil.rmtree(d, ignore_errors=True)
        (d / "builtin").mkdir(parents=True)
        (d / "stager").mkdir()
        (d / "ctx").mkdir()
        (d / "builtin" / "Dockerfile").write_text(body)
        (d / "stager" / "Dockerfile").write_text(f"# syntax={frontend}\n{body}")
        case = h.Case(name, d / "ctx", body, [], None, [], False)
        digests = {}
        for side in ("builtin", "stager"):
            digest, err = build(case, side, d / side / "Dockerfile", d, args, opts, keep=True)
            if digest is None:
                problems.append(f"{name}: {side} build failed: {err}")
                continue
            digests[side] = digest
            got = created(d / f"{side}.tar")
            if got != want:
                problems.append(f"{name}: {side} image created {got}, want {want}")
        if len(digests) == 2 and digests["stager"] != digests["builtin"]:
            problems.append(f"{name}: stager {digests['stager']} != built-in {digests['builtin']}")
    return problems


CHECKS = [("SOURCE_DATE_EPOCH + rewrite-timestamp: stager's digest = the built-in's", check),
          ("SOURCE_DATE_EPOCH from a git context's commit and a source stage's download",
           check_remote)]
