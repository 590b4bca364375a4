#!/usr/bin/env python3
"""What only a current BuildKit shows: build checks through buildx (Docker 28.5, BuildKit v0.25).

Run by `make e2e-current` after scripts/setup-docker-current.sh (which also runs the whole
tests/e2e suite against that daemon). Each check builds a small Dockerfile through
`# syntax=<E2E_IMAGE>` with the current daemon's buildx and looks at what the user sees:

* `docker buildx build --print=lint` (buildx's name for the frontend.lint subrequest) lists
  the official rules' findings with their URLs and the Dockerfile excerpt;
* a normal build prints the findings as warnings (the Warn RPC, cap gateway.warnings);
* `# check=error=true` fails the build with BuildKit's message;
* an unknown subrequest is refused with `unsupported request`.

Environment: DOCKER_CURRENT (/opt/stager-docker-current/docker), E2E_IMAGE (myorg/frontend).
Output: `ok <name>` / `FAIL <name>: ...` lines, then `N passed, M failed`; exit 1 on failures.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

DOCKER = os.environ.get("DOCKER_CURRENT", "/opt/stager-docker-current/docker")
IMAGE = os.environ.get("E2E_IMAGE", "myorg/frontend")

LINTED = """FROM busybox AS Build
CMD echo hi
ENV A=$NOPE
"""


def build(dockerfile: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as d:
        Path(d, "Dockerfile").write_text(f"# syntax={IMAGE}\n{dockerfile}")
        return subprocess.run([DOCKER, "buildx", "build", "--progress=plain", *args, d],
                              capture_output=True, text=True, timeout=300,
                              env=dict(os.environ, **(env or {})))


def check_print_lint() -> list[str]:
    p = build(LINTED, "--print=lint", env={"BUILDX_EXPERIMENTAL": "1"})
    out = p.stdout + p.stderr
    want = [
        "WARNING: StageNameCasing - https://docs.docker.com/go/dockerfile/rule/stage-name-casing/",
        "Stage name 'Build' should be lowercase",
        "WARNING: JSONArgsRecommended - https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
        "WARNING: UndefinedVar - https://docs.docker.com/go/dockerfile/rule/undefined-var/",
        "Usage of undefined variable '$NOPE'",
        " 4 | >>> ENV A=$NOPE",
    ]
    # buildx 0.29 exits 1 when the check found something, with the official frontend as well.
    return [f"missing {w!r}" for w in want if w not in out] + ([] if p.returncode == 1 else [f"exit {p.returncode}, expected 1"])


def check_build_warnings() -> list[str]:
    p = build(LINTED)
    out = p.stdout + p.stderr
    want = [
        "3 warnings found",
        "StageNameCasing: Stage name 'Build' should be lowercase (line 2)",
        "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 3)",
        "UndefinedVar: Usage of undefined variable '$NOPE' (line 4)",
    ]
    problems = [f"missing {w!r}" for w in want if w not in out]
    return problems + ([] if p.returncode == 0 else [f"build failed: {out[-400:]}"])


def check_error_true() -> list[str]:
    p = build("# check=error=true\nFROM busybox\nMAINTAINER me\n")
    out = p.stdout + p.stderr
    if p.returncode == 0:
        return ["build succeeded"]
    want = "lint violation found for rules: MaintainerDeprecated"
    return [] if want in out else [f"missing {want!r} in {out[-400:]!r}"]


def check_unknown_request() -> list[str]:
    p = build("FROM busybox\n", "--print=nope", env={"BUILDX_EXPERIMENTAL": "1"})
    out = p.stdout + p.stderr
    if p.returncode == 0:
        return ["an unknown request succeeded"]
    return [] if "unsupported request nope" in out or "unsupported request frontend.nope" in out \
        else [f"unexpected error {out[-300:]!r}"]


def main() -> int:
    checks = [check_print_lint, check_build_warnings, check_error_true, check_unknown_request]
    failed = 0
    for c in checks:
        name = c.__name__.removeprefix("check_")
        try:
            problems = c()
        except subprocess.TimeoutExpired:
            problems = ["timed out"]
        if problems:
            failed += 1
            print(f"FAIL {name}: {'; '.join(problems)}")
        else:
            print(f"ok {name}")
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
