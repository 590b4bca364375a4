"""The shared-builder cache round trip on standalone buildkitd (run by tests/e2e/buildkit/run.py).

tests/e2e/cache/Dockerfile (two builder stages whose RUNs write values that differ on every
execution, a stage nothing needs, a scratch final stage) is built through stager on daemon `a`
with `--export-cache ...,mode=max`; then a second buildkitd, started empty (its own root, wiped),
builds it with `--import-cache`: every RUN of every stage the image needs must come from the
cache (rawjson progress: `cached`), the unused stage must not appear, and the pushed image's
digest must be build 1's. Once with a registry cache (type=registry on 127.0.0.1:5000), once with
a local one (type=local). NONCE keeps the keys apart from earlier runs; SOURCE_DATE_EPOCH makes
the image config the same when the layers are.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import client
import common as bk

DOCKERFILE = bk.REPO / "tests" / "e2e" / "cache" / "Dockerfile"


def dockerfile(frontend: str, d: Path) -> Path:
    body = DOCKERFILE.read_text().split("\n", 1)[1]  # without its own syntax line
    (d / "Dockerfile").write_text(f"# syntax={frontend}\n{body}")
    return d / "Dockerfile"


def round_trip(frontend: str, kind: str) -> list[str]:
    d = bk.OUT / f"cache-{kind}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    df = dockerfile(frontend, d)
    nonce = f"{kind}-{time.time_ns()}"
    args = ["--build-arg", f"NONCE={nonce}", "--build-arg", "SOURCE_DATE_EPOCH=1700000000"]
    if kind == "registry":
        ref = f"{bk.REGISTRY}/{bk.PREFIX}/cache:{nonce}"
        export, imp = f"type=registry,ref={ref},mode=max", f"type=registry,ref={ref}"
    else:
        export, imp = f"type=local,dest={d / 'cache'},mode=max", f"type=local,src={d / 'cache'}"
    image = f"{bk.REGISTRY}/{bk.PREFIX}/roundtrip:{nonce}"
    digests, outputs = [], []
    for n, daemon, cache_flag in ((1, "a", ["--export-cache", export]),
                                  (2, "b", ["--import-cache", imp])):
        if daemon == "b":
            bk.start_daemon("b", bk.PORT + 1, fresh=True)
        meta = d / f"meta{n}.json"
        ok, output, secs, cmd = client.build(
            df, d, args, rawjson=True, daemon=daemon,
            extra=[*cache_flag, "--output", f"type=image,name={image}-{n},push=true",
                   "--metadata-file", str(meta)])
        (d / f"build{n}.log").write_text(client.show(cmd) + f"\n# {secs:.2f}s\n" + output)
        if not ok:
            return [f"build {n} on daemon {daemon} failed: {bk.harness.last_error(output)}"]
        digests.append(json.loads(meta.read_text()).get("containerimage.digest"))
        outputs.append(output)
    problems = []
    runs = run_vertices(outputs[1])
    if len(runs) < 3:
        problems.append(f"build 2 shows {len(runs)} RUN steps, expected the 3 of stages one and two")
    problems += [f"build 2 ran {name!r} (not from the cache)" for name, cached in runs.items() if not cached]
    problems += [f"the unused stage appears: {n!r}" for n in runs if "unused" in n]
    if any(run_vertices(outputs[0]).values()):
        problems.append("build 1 already had cache hits (the nonce did not keep its keys new)")
    if digests[0] is None or digests[0] != digests[1]:
        problems.append(f"image digests differ: build 1 {digests[0]}, build 2 {digests[1]}")
    return problems


def run_vertices(output: str) -> dict[str, bool]:
    """RUN vertex name -> whether it came from the cache, from a rawjson progress stream."""
    seen: dict[str, bool] = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        for v in event.get("vertexes") or []:
            name = v.get("name", "")
            if " RUN " in f" {name} " or "] RUN " in name:
                seen[name] = seen.get(name, False) or bool(v.get("cached"))
    return seen


CHECKS = [
    ("registry cache (mode=max) on a second, empty buildkitd", lambda f: round_trip(f, "registry")),
    ("local cache (mode=max) on a second, empty buildkitd", lambda f: round_trip(f, "local")),
]
