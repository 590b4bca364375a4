#!/usr/bin/env python3
"""Is stager's LLB the official frontend's? Compared op by op, from BuildKit's own record.

Every case of tests/e2e/cases is built on the current daemon (Docker 28.5, BuildKit v0.25, with
the containerd image store so that attestations work) twice, through its built-in Dockerfile
frontend and through `# syntax=<image>`, with `--provenance=mode=max`: BuildKit then writes the
LLB it solved into the SLSA provenance (`buildConfig.llbDefinition`), whoever produced it. The
two definitions are normalised (the session ID of local sources and the image digests BuildKit
pins are build-specific) and compared structurally: an op matches when its content and the
structure of all its inputs are identical.

Output per case: `same` (every official op has an identical op in stager's LLB), `known`
(listed in llb-differences.txt, and differing in nothing beyond the signature listed there:
differences.py), or `FAIL` with the signature of what differs and the first differing op of each
side; then the totals. Exit 1 on an unexplained difference.

`CORPUS=golden` compares tests/golden/*.Dockerfile instead (not the err- ones) and
`CORPUS=conformance` BuildKit's own parser test Dockerfiles (real-world files from
tests/conformance/parser), each in a context made up of one small file per COPY/ADD source
word. Their base images are one stand-in image (`stager-fakebase`: a static program that exits
0 as /bin/sh and /bin/bash, and a passwd file), tagged as every image the files name, so that
every shell-form RUN succeeds whatever it runs: what is compared is the LLB, not the result. A
file either side cannot build even so (a parse error on purpose, a remote ADD, a COPY of what a
RUN would have made) is skipped. `make llb-compare-corpora` runs both; they take minutes, so
they are not part of `make test`.

Environment: DOCKER_CURRENT (/opt/stager-docker-current/docker), E2E_IMAGE (myorg/frontend),
E2E_REFERENCE (a frontend image for the official side, e.g. official/dockerfile:1.26.0),
CASES (names, default all), CORPUS (e2e|golden), VERBOSE=1 (print both definitions of
differing cases).
"""

import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
E2E = HERE.parent
sys.path.insert(0, str(E2E))
import run as harness  # noqa: E402  (the www server and the ssh-agent of the e2e suite)
import oci  # noqa: E402
import differences  # noqa: E402  (shared with convertllb_compare.py)

DOCKER = os.environ.get("DOCKER_CURRENT", "/opt/stager-docker-current/docker")
IMAGE = os.environ.get("E2E_IMAGE", "myorg/frontend")
# A frontend image for the official side (the official 1.26 image), instead of the built-in one.
REFERENCE = os.environ.get("E2E_REFERENCE", "")
VERBOSE = os.environ.get("VERBOSE", "") not in ("", "0")


GOLDEN = E2E.parent / "golden"
CONFORMANCE = E2E.parent / "conformance" / "parser"
FAKEBASE = "stager-fakebase:latest"


def corpus_files(corpus: str) -> list[tuple[str, str]]:
    """(name, Dockerfile text) of a file corpus."""
    if corpus == "golden":
        return [(df.name.removesuffix(".Dockerfile"), df.read_text())
                for df in sorted(GOLDEN.glob("*.Dockerfile")) if not df.name.startswith("err-")]
    return [(d.name, (d / "Dockerfile").read_text(errors="replace"))
            for d in sorted(CONFORMANCE.iterdir()) if (d / "Dockerfile").exists()]


def make_fakebase(files: list[tuple[str, str]]) -> None:
    """The stand-in base image, tagged as every image the files name in FROM or COPY --from."""
    with tempfile.TemporaryDirectory() as d:
        root = Path(d, "root")
        for sub in ("bin", "etc", "tmp"):
            (root / sub).mkdir(parents=True)
        Path(d, "ok.c").write_text("int main(void) { return 0; }\n")
        subprocess.run(["gcc", "-static", "-Os", "-o", str(root / "bin" / "sh"), str(Path(d, "ok.c"))],
                       check=True)
        (root / "bin" / "bash").write_bytes((root / "bin" / "sh").read_bytes())
        (root / "bin" / "bash").chmod(0o755)
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        (root / "etc" / "group").write_text("root:x:0:\n")
        tar = subprocess.run(["tar", "-C", str(root), "-c", "."], capture_output=True, check=True).stdout
        subprocess.run([DOCKER, "import", "-", FAKEBASE], input=tar, capture_output=True, check=True)
    names = set()
    for _, text in files:
        stages = {m.lower() for m in re.findall(r"(?im)^\s*FROM\s.*\s+AS\s+(\S+)\s*$", text)}
        refs = re.findall(r"(?im)^\s*FROM\s+(?:--\S+\s+)*(\S+)", text)
        refs += re.findall(r"(?i)--from=(\S+)", text)
        for ref in refs:
            if "$" in ref or ref.lower() in stages or ref.lower() == "scratch" or ref.isdigit():
                continue
            names.add(ref if ":" in ref.rsplit("/", 1)[-1] or "@" in ref else ref + ":latest")
    for name in sorted(names):
        # Real images (busybox for the e2e suite) stay what they are.
        present = subprocess.run([DOCKER, "image", "inspect", "-f", "{{.Id}}", name],
                                 capture_output=True, text=True)
        fake = subprocess.run([DOCKER, "image", "inspect", "-f", "{{.Id}}", FAKEBASE],
                              capture_output=True, text=True)
        if present.returncode == 0 and present.stdout != fake.stdout:
            continue
        subprocess.run([DOCKER, "tag", FAKEBASE, name], capture_output=True)


def file_cases(tmp: Path, corpus: str) -> list[Path]:
    """A case directory per corpus Dockerfile, with a context of its COPY/ADD sources."""
    files = corpus_files(corpus)
    make_fakebase(files)
    out = []
    for name, text in files:
        case = tmp / corpus / name
        case.mkdir(parents=True)
        (case / "Dockerfile").write_text(text)
        for m in re.finditer(r"^\s*(?:COPY|ADD)\s+(.*)$", text, re.M | re.I):
            words = [w for w in m.group(1).split() if not w.startswith(("--", "<<"))]
            for w in words[:-1]:
                if "://" in w or "$" in w:
                    continue
                rel = w.replace("*", "x").replace("?", "x").strip("/")
                if rel in ("", "."):
                    continue
                f = case / rel
                f.parent.mkdir(parents=True, exist_ok=True)
                if not f.exists():
                    f.write_text("x\n")
        out.append(case)
    return out


def llb_of(case: Path, syntax: bool, out: Path) -> list[dict] | str:
    """The solved LLB steps from the build's provenance, or the error text."""
    args = differences.case_args(case)
    text = harness.with_port((case / "Dockerfile").read_text())
    df = out.with_suffix(".Dockerfile")
    reference = f"# syntax={REFERENCE}\n{text}" if REFERENCE else text
    df.write_text(f"# syntax={IMAGE}\n{text}" if syntax else reference)
    tar = out.with_suffix(".tar")
    p = subprocess.run([DOCKER, "buildx", "build", "--progress=plain", "--provenance=mode=max",
                        "--output", f"type=oci,dest={tar}", "-f", str(df), *args, str(case)],
                       capture_output=True, text=True, timeout=300, cwd=E2E.parent.parent)
    if p.returncode != 0:
        return p.stderr[-500:]
    with tarfile.open(tar) as t:
        index = json.loads(t.extractfile("index.json").read())
        top = oci.oci_json(t, index["manifests"][0]["digest"])
        for m in top.get("manifests", []):
            manifest = oci.oci_json(t, m["digest"])
            for layer in manifest.get("layers", []):
                if "in-toto" in layer.get("mediaType", ""):
                    statement = oci.oci_json(t, layer["digest"])
                    return statement["predicate"]["buildConfig"]["llbDefinition"]
    return "no provenance in the output"


def compared_here(case: Path) -> bool:
    """A case with `expect` is compared like the others on a daemon its `expect-daemons` does not
    name (its expectations are for an old BuildKit only)."""
    names = case / "expect-daemons"
    if not names.exists():
        return False
    version = subprocess.run([DOCKER, "version", "--format", "{{.Server.Version}}"],
                             capture_output=True, text=True).stdout.strip()
    return not any(f"docker-{version}".startswith(p) for p in names.read_text().split())


def normalise(op: dict) -> dict:
    op = json.loads(json.dumps(op))
    src = (op.get("Op") or {}).get("source")
    if src:
        ident = src.get("identifier", "")
        if ident.startswith("docker-image://"):
            src["identifier"] = ident.split("@sha256:")[0]
        attrs = src.get("attrs") or {}
        attrs.pop("local.session", None)
        attrs.pop("image.resolvemode", None)
        src["attrs"] = attrs
    return op


def graph(steps: list[dict]) -> dict[str, differences.Op]:
    """step id -> the normalised op, its kind's fields at the top (`source.attrs...`)."""
    out = {}
    for s in steps:
        op = normalise(s["op"])
        inner = op.pop("Op", None) or {}
        kind = next(iter(inner), "terminal")
        inputs = [(i.split(":")[0], int(i.split(":")[1])) for i in s.get("inputs", [])]
        out[s["id"]] = differences.Op(kind, {**op, kind: inner.get(kind, {})}, inputs)
    return out


def main() -> int:
    harness.serve_www()
    harness.start_ssh_agent()
    allowed = differences.read_listing(HERE / "llb-differences.txt")
    wanted = os.environ.get("CASES", "").split()
    corpus = os.environ.get("CORPUS", "e2e")
    golden = corpus != "e2e"
    same_ops = total_ops = 0
    failed = []
    skipped = []
    with tempfile.TemporaryDirectory() as tmp:
        if golden:
            cases = file_cases(Path(tmp), corpus)
        else:
            cases = sorted(p for p in harness.CASES.iterdir() if (p / "Dockerfile").exists())
        cases = [c for c in cases if not wanted or c.name in wanted]
        for case in cases:
            if (case / "expect").exists() and not compared_here(case):
                continue
            official = llb_of(case, False, Path(tmp, f"{case.name}-builtin"))
            ours = llb_of(case, True, Path(tmp, f"{case.name}-stager"))
            if isinstance(official, str) or isinstance(ours, str):
                if golden and isinstance(official, str):
                    skipped.append(case.name)
                    continue
                sides = [side for side, got in (("official", official), ("stager", ours))
                         if isinstance(got, str)]
                seen = Counter(f"build-failed:{side}" for side in sides)
                known, why = differences.judge(case.name, seen, allowed, "llb-differences.txt")
                if known:
                    print(f"known {case.name}: a build failed ({why})")
                    continue
                error = official if isinstance(official, str) else ours
                print(f"FAIL {case.name}: build failed ({why}): {error}")
                failed.append(case.name)
                continue
            o, s = graph(official), graph(ours)
            ho, hs = differences.structural(o), differences.structural(s)
            missing = [o[i] for i in o if ho[i] not in set(hs.values())]
            extra = [s[i] for i in s if hs[i] not in set(ho.values())]
            total_ops += len(o)
            same_ops += len(o) - len(missing)
            if not missing and not extra:
                print(f"same {case.name}: {len(o)} ops")
                continue
            counts = f"{len(o) - len(missing)}/{len(o)} ops"
            seen = differences.graph_signature(o, s)
            known, why = differences.judge(case.name, seen, allowed, "llb-differences.txt")
            if known:
                print(f"known {case.name}: {counts} ({why})")
            else:
                # The deepest differing ops are the interesting ones: show the first of each side.
                first = lambda ops: json.dumps(ops[0].content, sort_keys=True)[:700] if ops else "-"  # noqa: E731
                detail = (f"official {missing[0].kind if missing else '-'}: {first(missing)} | "
                          f"stager: {first(extra)}")
                print(f"FAIL {case.name}: {counts} identical; {why}; {detail}")
                failed.append(case.name)
            if VERBOSE:
                print(json.dumps({"official": official, "stager": ours}, indent=1))
    if skipped:
        print(f"skipped (the built-in frontend cannot build them here): {' '.join(skipped)}")
    print(f"{same_ops}/{total_ops} official LLB ops identical in stager's (normalised); "
          f"{len(failed)} case(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
