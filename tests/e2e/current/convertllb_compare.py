#!/usr/bin/env python3
"""Is `--call=convertllb` through stager byte for byte what the official 1.26 image answers?

For every case of tests/e2e/cases (CASES narrows), `docker buildx build --call=convertllb` on the
current daemon (Docker 28.5) runs once through the official image and once through stager's,
chosen by the `BUILDKIT_SYNTAX` build arg so that both read the same Dockerfile bytes (the source
map carries them). The answer is the whole definition as JSON: every op, its metadata (names,
caps, progress groups), the source map with its locations and the Dockerfile's own load
definition. What is build-specific is replaced before comparing:
- the session ID of local sources (in the JSON and inside the base64 op bytes of the source map's
  definition, where it has the same length, so the bytes stay valid protobuf);
- op digests, which follow from the session ID: each op is renamed by a hash of its content and of
  its inputs' names;
- progress group IDs, which 1.26 draws at random: renamed by the group's name.
Then the two JSON texts must be equal. Output per case: `same`, `known` (listed in
convertllb-differences.txt, and differing in nothing beyond the signature listed there:
differences.py; an op's metadata and source locations count as part of the op), `skip` (the
official image cannot convert it either) or `FAIL` with the signature and a diff. Needs
E2E_REFERENCE (the official image); exit 1 on a difference.

Environment: DOCKER_CURRENT (/opt/stager-docker-current/docker), E2E_IMAGE (myorg/frontend),
E2E_REFERENCE (official/dockerfile:1.26.0), CASES.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
E2E = HERE.parent
sys.path.insert(0, str(E2E))
import run as harness  # noqa: E402  (the www server and the ssh-agent of the e2e suite)
import differences  # noqa: E402  (shared with llb_compare.py)

DOCKER = os.environ.get("DOCKER_CURRENT", "/opt/stager-docker-current/docker")
IMAGE = os.environ.get("E2E_IMAGE", "myorg/frontend")
REFERENCE = os.environ.get("E2E_REFERENCE", "")
SESSION_VALUE = re.compile(rb"local\.session\x12\x19([a-z0-9]{25})")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def convertllb(case: Path, frontend: str, tmp: Path) -> dict | str:
    """The `result.json` of `--call=convertllb` through `frontend`, or the error text."""
    args = differences.case_args(case)
    df = tmp / f"{case.name}.Dockerfile"
    df.write_text(harness.with_port((case / "Dockerfile").read_text()))
    p = subprocess.run([DOCKER, "buildx", "build", "--call=convertllb", "--build-arg",
                        f"BUILDKIT_SYNTAX={frontend}", "-f", str(df), *args, str(case)],
                       capture_output=True, text=True, timeout=300, cwd=E2E.parent.parent)
    if p.returncode != 0:
        return (p.stderr.strip().splitlines() or ["no output"])[-1][-400:]
    # buildx prints an unknown call's answer as a Go map: `Name:"convertllb" map[result.json:{…}
    # version:0.1.0]`; the JSON is everything between its first `{` and ` version:`.
    out = p.stdout
    start, end = out.find("result.json:{"), out.rfind(" version:")
    if start < 0 or end < start:
        return f"unexpected output: {out[:200]}"
    return json.loads(out[start + len("result.json:"):end])


def renamed_nested(defn: dict) -> dict:
    """A marshalled definition (base64 op bytes) with session IDs fixed and digests recomputed."""
    names: dict[str, str] = {}
    ops = []
    for b64 in defn.get("def", []):
        raw = base64.b64decode(b64)
        old = "sha256:" + hashlib.sha256(raw).hexdigest()
        fixed = SESSION_VALUE.sub(lambda m: m.group(0)[:-25] + b"s" * 25, raw)
        for before, after in names.items():
            fixed = fixed.replace(before.encode(), after.encode())
        names[old] = "sha256:" + hashlib.sha256(fixed).hexdigest()
        ops.append(base64.b64encode(fixed).decode())
    text = json.dumps({**defn, "def": ops})
    return json.loads(DIGEST.sub(lambda m: names.get(m.group(0), m.group(0)), text))


def normalised(result: dict) -> str:
    """The convertllb JSON with session IDs, op digests and progress group IDs made stable."""
    ops = result.get("def", {})
    memo: dict[str, str] = {}

    def name(digest: str) -> str:
        if digest not in memo:
            op = json.loads(json.dumps(ops[digest]))
            for attrs in [(op.get("source") or {}).get("attrs") or {}]:
                if "local.session" in attrs:
                    attrs["local.session"] = "SESSION"
            op["inputs"] = [{**i, "digest": name(i["digest"])} for i in op.get("inputs", [])]
            body = json.dumps(op, sort_keys=True).encode()
            memo[digest] = "op:" + hashlib.sha256(body).hexdigest()[:16]
        return memo[digest]

    for digest in ops:
        name(digest)
    groups: dict[str, str] = {}
    for meta in result.get("metadata", {}).values():
        group = meta.get("progress_group")
        if group:
            groups.setdefault(group["id"], "group:" + group.get("name", ""))
    for info in (result.get("source") or {}).get("infos", []):
        if info.get("definition"):
            info["definition"] = renamed_nested(info["definition"])
    text = json.dumps(result, sort_keys=True, indent=1)
    text = DIGEST.sub(lambda m: memo.get(m.group(0), m.group(0)), text)
    text = re.sub(r'"local\.session": "[a-z0-9]{25}"', '"local.session": "SESSION"', text)
    for gid, gname in groups.items():
        text = text.replace(f'"{gid}"', json.dumps(gname))
    # The renamed keys change the order of maps: sort again.
    return json.dumps(json.loads(text), sort_keys=True, indent=1)


OP_KINDS = ("source", "exec", "file", "build", "merge", "diff")


def split(result: dict) -> tuple[dict[str, differences.Op], dict]:
    """A normalised answer as its op graph (each op with its metadata and source locations) and
    the rest (the source map's files and the Dockerfile's load definition)."""
    rest = json.loads(json.dumps(result))
    ops = rest.pop("def", {})
    metadata = rest.pop("metadata", {})
    locations = (rest.get("source") or {}).pop("locations", {})
    graph = {}
    for name, op in ops.items():
        inputs = [(i["digest"], i.get("index", 0)) for i in op.pop("inputs", [])]
        kind = next((k for k in OP_KINDS if k in op), "terminal")
        content = {**op, "metadata": metadata.pop(name, None), "locations": locations.pop(name, None)}
        graph[name] = differences.Op(kind, content, inputs)
    # Metadata or locations of no op (none expected) are compared with the rest.
    return graph, {**rest, "metadata": metadata, "locations": locations}


def signature(official: dict, ours: dict) -> Counter:
    """What differs between two normalised answers (differences.py)."""
    (go, rest_o), (gs, rest_s) = split(official), split(ours)
    items = differences.graph_signature(go, gs)
    items.update(differences.json_paths(rest_o, rest_s))
    return items or Counter(["unexplained"])


def main() -> int:
    if not REFERENCE:
        print("convertllb_compare: SKIPPED: no E2E_REFERENCE (the official 1.26 image)")
        return 0
    harness.serve_www()
    harness.start_ssh_agent()
    allowed = differences.read_listing(HERE / "convertllb-differences.txt")
    wanted = os.environ.get("CASES", "").split()
    cases = sorted(p for p in harness.CASES.iterdir() if (p / "Dockerfile").exists())
    cases = [c for c in cases if not wanted or c.name in wanted]
    same, failed, skipped = 0, [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for case in cases:
            official = convertllb(case, REFERENCE, tmp)
            ours = convertllb(case, IMAGE, tmp)
            if isinstance(official, str):
                # Cases made to fail (parse errors, old-daemon refusals): nothing to compare.
                skipped.append(case.name)
                continue
            if isinstance(ours, str):
                print(f"FAIL {case.name}: stager did not convert it: {ours}")
                failed.append(case.name)
                continue
            a, b = normalised(official), normalised(ours)
            if a == b:
                same += 1
                print(f"same {case.name}")
                continue
            seen = signature(json.loads(a), json.loads(b))
            known, why = differences.judge(case.name, seen, allowed, "convertllb-differences.txt")
            if known:
                print(f"known {case.name}: {why}")
                continue
            diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "official", "stager",
                                        n=2, lineterm="")
            print(f"FAIL {case.name}: {why}\n" + "\n".join(list(diff)[:60]))
            failed.append(case.name)
    if skipped:
        print(f"skipped (the official image does not convert them): {' '.join(skipped)}")
    print(f"convertllb: {same} case(s) byte-identical to {REFERENCE} after normalising; "
          f"{len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
