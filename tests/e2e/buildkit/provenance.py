"""Provenance and build errors on standalone buildkitd v0.32.2 (run by tests/e2e/buildkit/run.py,
part `provenance`): what BuildKit records of a build from the Definition's source map is the
same through stager as through the built-in dockerfile.v0 (= the official 1.26 frontend).

  provenance  max-mode provenance (`attest:provenance=mode=max`) of some e2e cases: per step of
              `buildConfig.llbDefinition`, the op, its Dockerfile locations
              (`buildkit_metadata.source.locations`) and its layers (`buildkit_metadata.layers`:
              how many and their media types; their digests change with every build)
  errors      a failing multi-line RUN: the `Dockerfile:N` excerpt with `>>>` lines in buildctl's
              output, and the build history record's error (`externalError`, fetched with
              `buildctl debug get`) carrying an `errdefs.Source` with the RUN's lines

Both sides build the same Dockerfile text with the same line numbers: stager's first line is
its `# syntax=` line, the built-in's a comment.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import client
import common as bk

CASES = ["scratch-final", "copy-link", "heredoc", "env-workdir-user", "mount-cache", "from-stage"]


def dockerfiles(d: Path, frontend: str, body: str) -> dict[str, Path]:
    """The built-in's and stager's Dockerfile of `body`, in their own folders under `d`."""
    out = {}
    for side, first in (("builtin", "# built-in frontend"), ("stager", f"# syntax={frontend}")):
        (d / side).mkdir(parents=True, exist_ok=True)
        (d / side / "Dockerfile").write_text(f"{first}\n{body}")
        out[side] = d / side / "Dockerfile"
    return out


def provenance(oci: Path) -> dict:
    """The SLSA provenance predicate of the one image in an OCI tarball."""
    with tarfile.open(oci) as t:
        index = json.loads(t.extractfile("index.json").read())
        for m in bk.oci_json(t, index["manifests"][0]["digest"]).get("manifests", []):
            if m.get("annotations", {}).get("vnd.docker.reference.type") == "attestation-manifest":
                for layer in bk.oci_json(t, m["digest"])["layers"]:
                    statement = bk.oci_json(t, layer["digest"])
                    if "slsa.dev/provenance" in statement.get("predicateType", ""):
                        return statement["predicate"]
    return {}


def steps(predicate: dict) -> dict[str, dict]:
    """Per step: op, locations and layers."""
    meta = predicate["runDetails"]["metadata"]["buildkit_metadata"]
    config = predicate["buildDefinition"]["internalParameters"]["buildConfig"]
    locations = meta.get("source", {}).get("locations", {})
    out = {}
    for step in config["llbDefinition"]:
        sid = step["id"]
        # stager cannot write an empty map value (prost leaves it out): null where 1.26 has {}.
        loc = locations.get(sid) or {}
        # Layers as built, before the exporter rewrites their times: digests (and gzip sizes)
        # differ between any two builds; how many, and of which type, must agree.
        layers = [[l["mediaType"] for l in chain]
                  for chain in meta.get("layers", {}).get(f"{sid}:0") or []]
        out[sid] = {"op": step["op"], "locations": loc, "layers": layers}
    return out


def check_provenance(frontend: str) -> list[str]:
    problems = []
    for name in CASES:
        case = bk.harness.load_case(bk.harness.CASES / name)
        d = bk.OUT / "provenance" / name
        shutil.rmtree(d, ignore_errors=True)
        files = dockerfiles(d, frontend, case.dockerfile)
        got = {}
        for side, df in files.items():
            oci = d / f"{side}.tar"
            ok, output, _, cmd = client.build(
                df, case.dir, [*case.args, "--build-arg", "SOURCE_DATE_EPOCH=1700000000"],
                extra=["--no-cache", "--opt", "attest:provenance=mode=max", "--output",
                       f"type=oci,dest={oci},rewrite-timestamp=true"])
            (d / f"{side}.log").write_text(client.show(cmd) + "\n" + output)
            if not ok:
                problems.append(f"{name}: {side} build failed: {bk.harness.last_error(output)}")
                break
            got[side] = steps(provenance(oci))
            oci.unlink(missing_ok=True)
        if len(got) != 2:
            continue
        theirs, ours = got["builtin"], got["stager"]
        if not theirs:
            problems.append(f"{name}: no provenance steps")
        for sid in sorted(set(theirs) | set(ours)):
            for field in ("op", "locations", "layers"):
                a, b = (theirs.get(sid) or {}).get(field), (ours.get(sid) or {}).get(field)
                if a != b:
                    problems.append(f"{name} {sid} {field}: built-in {json.dumps(a)[:200]}, "
                                    f"stager {json.dumps(b)[:200]}")
    return problems


FAILING = """FROM busybox
RUN echo ok
RUN echo about to fail && \\
    exit 3
"""


def excerpt(output: str) -> str:
    """The `Dockerfile:N` block buildctl prints for an error with a source location."""
    m = re.search(r"^Dockerfile:\d+\n-+\n(?:.*\n)*?-+\n", output, re.M)
    return m.group(0) if m else ""


def check_errors(frontend: str) -> list[str]:
    d = bk.OUT / "provenance" / "failing-run"
    shutil.rmtree(d, ignore_errors=True)
    files = dockerfiles(d, frontend, FAILING)
    (d / "ctx").mkdir()
    problems, blocks = [], {}
    for side, df in files.items():
        ref_file = d / f"{side}.ref"
        ok, output, _, cmd = client.build(df, d / "ctx", [],
                                          extra=["--no-cache", "--ref-file", str(ref_file)])
        (d / f"{side}.log").write_text(client.show(cmd) + "\n" + output)
        if ok:
            problems.append(f"{side}: the failing RUN succeeded")
            continue
        blocks[side] = excerpt(output)
        if ">>> RUN echo about to fail" not in blocks[side]:
            problems.append(f"{side}: no Dockerfile excerpt in the error: {output[-300:]}")
        if side == "stager":
            problems += history_source(ref_file.read_text().strip())
    if len(blocks) == 2 and blocks["builtin"] != blocks["stager"]:
        problems.append(f"the excerpts differ:\n{blocks['builtin']}\n{blocks['stager']}")
    return problems


def history_source(ref: str) -> list[str]:
    """The history record of build `ref` has an error with the RUN's lines (4 and 5)."""
    histories = subprocess.run([client.buildctl(), "debug", "histories", "--format", "{{json .}}"],
                               capture_output=True, text=True, timeout=60).stdout
    records = [json.loads(line)["record"] for line in histories.splitlines() if line.startswith("{")]
    record = next((r for r in records if r.get("Ref") == ref), None)
    if record is None:
        return [f"no history record {ref}"]
    blob = (record.get("externalError") or {}).get("digest")
    if not blob:
        return [f"history record {ref} has no error blob"]
    raw = subprocess.run([client.buildctl(), "debug", "get", blob], capture_output=True,
                         timeout=60).stdout
    m = re.search(rb'errdefs\.Source\+json.{1,4}(\{"info".*?"ranges":\[.*?\]\})', raw, re.S)
    if not m:
        return [f"history record {ref}: no errdefs.Source in its error"]
    source = json.loads(m.group(1))
    lines = [r.get("start", {}).get("line") for r in source["ranges"]]
    if source["info"].get("filename") != "Dockerfile" or lines != [4, 5]:
        return [f"history record {ref}: error source {source['info'].get('filename')} lines {lines}"]
    return []


CHECKS = [("max-mode provenance: ops, locations and layers per step as the built-in's",
           check_provenance),
          ("a failing RUN's Dockerfile lines in the output and the build history", check_errors)]
