#!/usr/bin/env python3
"""`stager impact` against BuildKit itself.

Each scenario is a small project (a Dockerfile with `# syntax=<E2E_IMAGE>` and context files):

    build 1   DOCKER_BUILDKIT=1 docker build --progress=plain   (fills the cache)
    change    edit, add or remove files, edit the Dockerfile, change build args
    predict   stager impact --format json --changed ... (or --since HEAD in a git repository)
              --old-dockerfile ... --old-build-arg ...
    build 2   the same docker build, with the new args

and every step of build 2's progress is compared with its verdict: a `cached` step must be
`CACHED`, a `rebuilt` step must have run (DONE), a `depends` step may be either (the scenario
says which it turns out to be, to show that it really depends on what the step before it
writes), every predicted step must appear in the progress and every RUN/COPY/ADD/WORKDIR step of
the progress must be predicted. Scenarios also state the verdicts they are about, so that a
prediction of "everything cached" cannot pass by luck.

Each scenario's Dockerfile starts every stage with `RUN echo <nonce>`: the run's own nonce keeps
its cache keys apart from earlier runs and from other builds on the same daemon, so that only
build 1's records can serve build 2.

Environment: DOCKER (/usr/bin/docker), E2E_IMAGE (myorg/frontend), STAGER_BIN (default:
`cargo build -q`, then target/debug/stager), IMPACT_RULES (`current` or `v0.8`: the `--buildkit` rules;
default: v0.8 on Docker 20.10, else current), BUILDCTL and BUILDKIT_HOST (build with `buildctl`
on a standalone buildkitd instead of docker; E2E_IMAGE must then be pullable by it, e.g. from
127.0.0.1:5000), E2E_OUT (<repo>/.e2e; files and logs in
.e2e/impact/<scenario>/), E2E_JOBS (3), E2E_KEEP=1 (keep the images). Arguments: scenario names.

Output: `ok <scenario>` or `FAIL <scenario>: <why>`, then `N passed, M failed`; exit status 1 when
one failed, 2 when docker or the frontend image is missing.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
sys.path.insert(0, str(HERE.parent))
from progress import parse_progress  # noqa: E402  (the plain progress stream, shared with cache/)

DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
IMAGE = os.environ.get("E2E_IMAGE", "myorg/frontend")
OUT = Path(os.environ.get("E2E_OUT", REPO / ".e2e")) / "impact"
JOBS = max(1, int(os.environ.get("E2E_JOBS", "3")))
KEEP = os.environ.get("E2E_KEEP", "") not in ("", "0")
TIMEOUT = int(os.environ.get("E2E_TIMEOUT", "300"))
STEP = re.compile(r"\[[^\]]*\d+/\d+\] (RUN|COPY|ADD|WORKDIR)\b")


@dataclass
class Scenario:
    name: str
    dockerfile: str                        # without the syntax line; {nonce} is replaced
    files: dict[str, str]
    change: Callable[[Path], None]         # edits the context (and maybe the Dockerfile)
    changed: list[str] = field(default_factory=list)   # --changed paths
    args: list[str] = field(default_factory=list)      # --build-arg of build 1
    new_args: list[str] | None = None                  # --build-arg of build 2 (default: args)
    git: bool = False                      # the context is a git repository: predict --since HEAD
    # local named contexts: name -> files, in <scenario>/<name>/ (buildctl only: `docker build`
    # of Docker 20.10 has no --build-context)
    named: dict[str, dict[str, str]] = field(default_factory=dict)
    expect: dict[str, str] = field(default_factory=dict)   # step name -> verdict it must get
    # where BuildKit v0.8's rules differ from v0.32.2's: step name -> (v0.8 verdict, v0.32 verdict)
    differs: dict[str, tuple[str, str]] = field(default_factory=dict)
    observed: dict[str, str] = field(default_factory=dict)  # step name -> CACHED|DONE in build 2


def write(ctx: Path, path: str, text: str) -> None:
    (ctx / path).parent.mkdir(parents=True, exist_ok=True)
    (ctx / path).write_text(text)


def edit_dockerfile(old: str, new: str) -> Callable[[Path], None]:
    def change(ctx: Path) -> None:
        df = ctx / "Dockerfile"
        text = df.read_text()
        assert old in text, f"{old!r} not in the Dockerfile"
        df.write_text(text.replace(old, new))
    return change


NODE = """FROM busybox AS deps
RUN echo {nonce} > /nonce
WORKDIR /app
COPY package.json ./
RUN cp package.json /deps.installed
COPY . .
RUN cat src/*.js > /app.bundle
"""

NODE_FILES = {
    "package.json": '{"name": "app"}\n',
    "src/app.js": "console.log(1)\n",
    "src/util.js": "export {}\n",
    "debug.log": "old log\n",
    ".dockerignore": "*.log\n",
}

STAGES = """FROM busybox AS a
RUN echo {nonce} > /nonce
COPY a.txt /a/
FROM busybox AS b
RUN echo {nonce} > /nonce
COPY b.txt /b/
FROM busybox AS build
RUN echo {nonce} > /nonce
COPY words.txt /src/
RUN mkdir /out && sort /src/words.txt > /out/sorted
FROM busybox AS src
RUN echo {nonce} > /nonce
COPY . /src/
FROM busybox
RUN echo {nonce} > /nonce
COPY --from=a /a /a
COPY --from=b /b/b.txt /b.txt
COPY --from=src /src/package.json /app/
RUN cat /app/package.json > /app/deps
COPY --from=build /out /out
RUN wc -l /out/sorted > /lines
"""

STAGES_FILES = {
    "a.txt": "a\n",
    "b.txt": "b\n",
    "words.txt": "pear\napple\n",
    "package.json": "{}\n",
    "lib/x.js": "x\n",
}

FINAL = "stage-4"


def scenarios() -> list[Scenario]:
    return [
        Scenario(
            "source-edit", NODE, NODE_FILES,
            lambda c: write(c, "src/app.js", "console.log(2)\n"), changed=["src/app.js"],
            expect={"[4/7] COPY package.json ./": "cached",
                    "[5/7] RUN cp package.json /deps.installed": "cached",
                    "[6/7] COPY . .": "rebuilt",
                    "[7/7] RUN cat src/*.js > /app.bundle": "rebuilt"}),
        Scenario(
            "manifest-edit", NODE, NODE_FILES,
            lambda c: write(c, "package.json", '{"name": "app", "v": 2}\n'), changed=["package.json"],
            expect={"[3/7] WORKDIR /app": "cached",
                    "[4/7] COPY package.json ./": "rebuilt",
                    "[5/7] RUN cp package.json /deps.installed": "rebuilt"}),
        Scenario(
            "ignored-file", NODE, NODE_FILES,
            lambda c: write(c, "debug.log", "new log\n"), changed=["debug.log"],
            expect={"[6/7] COPY . .": "cached",
                    "[7/7] RUN cat src/*.js > /app.bundle": "cached"}),
        Scenario(
            "removed-file", NODE, NODE_FILES,
            lambda c: (c / "src/util.js").unlink(), changed=["src/util.js"],
            expect={"[5/7] RUN cp package.json /deps.installed": "cached",
                    "[6/7] COPY . .": "rebuilt"}),
        Scenario(
            # the .dockerignore of the last build comes from git: debug.log now enters the context
            "dockerignore-edit", NODE,
            {**NODE_FILES, ".dockerignore": "*.log\n.dockerignore\nDockerfile\n.git\n"},
            lambda c: write(c, ".dockerignore", ".dockerignore\nDockerfile\n.git\n"), git=True,
            expect={"[4/7] COPY package.json ./": "cached",
                    "[6/7] COPY . .": "rebuilt"}),
        Scenario(
            "wildcard",
            """FROM busybox
RUN echo {nonce} > /nonce
COPY src/*.js /app/
COPY src/*.ts /types/
""",
            {"src/a.js": "a\n", "src/b.ts": "b\n"},
            lambda c: write(c, "src/c.ts", "c\n"), changed=["src/c.ts"],
            expect={"[3/4] COPY src/*.js /app/": "cached",
                    "[4/4] COPY src/*.ts /types/": "rebuilt"}),
        Scenario(
            "env-and-workdir-edit",
            """FROM busybox
RUN echo {nonce} > /nonce
ENV A=1
RUN echo a > /a
WORKDIR /w
RUN pwd > /pwd
""",
            {}, edit_dockerfile("WORKDIR /w", "WORKDIR /v"),
            expect={"[3/5] RUN echo a > /a": "cached",
                    "[4/5] WORKDIR /v": "rebuilt",
                    "[5/5] RUN pwd > /pwd": "rebuilt"}),
        Scenario(
            "env-edit",
            """FROM busybox
RUN echo {nonce} > /nonce
RUN echo a > /a
ENV A=1
RUN echo b > /b
""",
            {}, edit_dockerfile("ENV A=1", "ENV A=2"),
            expect={"[3/4] RUN echo a > /a": "cached",
                    "[4/4] RUN echo b > /b": "rebuilt"}),
        Scenario(
            "build-arg",
            """FROM busybox
RUN echo {nonce} > /nonce
COPY package.json /
ARG MODE
RUN echo building > /log
RUN echo "$MODE" >> /log
ARG UNUSED_LATER
""",
            {"package.json": "{}\n"}, lambda c: None,
            args=["--build-arg", "MODE=debug"], new_args=["--build-arg", "MODE=release"],
            expect={"[3/5] COPY package.json /": "cached",
                    "[4/5] RUN echo building > /log": "rebuilt",
                    "[5/5] RUN echo \"release\" >> /log": "rebuilt"}),
        Scenario(
            "undeclared-build-arg",
            """FROM busybox
RUN echo {nonce} > /nonce
RUN echo building > /log
""",
            {}, lambda c: None,
            args=[], new_args=["--build-arg", "NOBODY_READS_ME=1"],
            expect={"[3/3] RUN echo building > /log": "cached"}),
        Scenario(
            "dockerfile-edit", NODE, NODE_FILES,
            edit_dockerfile("RUN cat src/*.js > /app.bundle", "RUN cat src/*.js > /app.min"),
            git=True,
            expect={"[5/7] RUN cp package.json /deps.installed": "cached",
                    # the Dockerfile is in the context, and COPY . . copies it
                    "[6/7] COPY . .": "rebuilt",
                    "[7/7] RUN cat src/*.js > /app.min": "rebuilt"}),
        Scenario(
            "unrelated-stage", STAGES, STAGES_FILES,
            lambda c: write(c, "b.txt", "b2\n"), changed=["b.txt"],
            expect={"[a 3/3] COPY a.txt /a/": "cached",
                    "[b 3/3] COPY b.txt /b/": "rebuilt",
                    f"[{FINAL} 3/8] COPY --from=a /a /a": "cached",
                    f"[{FINAL} 4/8] COPY --from=b /b/b.txt /b.txt": "rebuilt",
                    f"[{FINAL} 6/8] RUN cat /app/package.json > /app/deps": "rebuilt"}),
        Scenario(
            # src copies the whole context: it re-runs, but the one file taken from it is the same
            "copy-from-unchanged-file", STAGES, STAGES_FILES,
            lambda c: write(c, "lib/x.js", "y\n"), changed=["lib/x.js"],
            expect={"[src 3/3] COPY . /src/": "rebuilt",
                    f"[{FINAL} 5/8] COPY --from=src /src/package.json /app/": "cached",
                    f"[{FINAL} 6/8] RUN cat /app/package.json > /app/deps": "cached"}),
        Scenario(
            # the RUN re-runs and writes the same sorted file: depends, and BuildKit takes the cache
            "copy-from-chain-same-output", STAGES, STAGES_FILES,
            lambda c: write(c, "words.txt", "apple\npear\n"), changed=["words.txt"],
            expect={"[build 4/4] RUN mkdir /out && sort /src/words.txt > /out/sorted": "rebuilt",
                    f"[{FINAL} 7/8] COPY --from=build /out /out": "depends:CACHED",
                    f"[{FINAL} 8/8] RUN wc -l /out/sorted > /lines": "depends:CACHED"}),
        Scenario(
            # the same, writing another file: depends, and BuildKit runs it
            "copy-from-chain-new-output", STAGES, STAGES_FILES,
            lambda c: write(c, "words.txt", "pear\napple\nfig\n"), changed=["words.txt"],
            expect={f"[{FINAL} 7/8] COPY --from=build /out /out": "depends:DONE",
                    f"[{FINAL} 8/8] RUN wc -l /out/sorted > /lines": "depends:DONE"}),
        Scenario(
            # BuildKit v0.32 leaves a cache mount's custom id out of the RUN's key; v0.8 does not
            "cache-mount-id",
            """FROM busybox
RUN echo {nonce} > /nonce
RUN --mount=type=cache,id=one,target=/cache echo x > /x
""",
            {}, edit_dockerfile("id=one", "id=two"),
            differs={"[stage-0 3/3] RUN --mount=type=cache,id=two,target=/cache echo x > /x": ("rebuilt", "cached")}),
        Scenario(
            # a MergeOp layer where the daemon has mergeop, a plain copy on v0.8
            "copy-link",
            """FROM busybox
RUN echo {nonce} > /nonce
COPY --link a.txt /a/
COPY --link b.txt /b/
RUN cat /a/a.txt /b/b.txt > /ab
""",
            {"a.txt": "a\n", "b.txt": "b\n"},
            lambda c: write(c, "b.txt", "b2\n"), changed=["b.txt"],
            expect={"[3/5] COPY --link a.txt /a/": "cached",
                    "[4/5] COPY --link b.txt /b/": "rebuilt",
                    "[5/5] RUN cat /a/a.txt /b/b.txt > /ab": "rebuilt"}),
        Scenario(
            # the wildcard stage re-runs for tsconfig.json; the one file taken from it is the same
            "copy-from-wildcard-stage",
            """FROM busybox AS manifests
RUN echo {nonce} > /nonce
COPY *.json /m/
FROM busybox
RUN echo {nonce} > /nonce
COPY --from=manifests /m/package.json /app/
RUN cat /app/package.json > /deps
""",
            {"package.json": "{}\n", "tsconfig.json": "{}\n"},
            lambda c: write(c, "tsconfig.json", '{"strict": true}\n'), changed=["tsconfig.json"],
            expect={"[manifests 3/3] COPY *.json /m/": "rebuilt",
                    "[stage-1 3/4] COPY --from=manifests /m/package.json /app/": "cached",
                    "[stage-1 4/4] RUN cat /app/package.json > /deps": "cached"}),
        Scenario(
            # the layer below a --link copy changes: the copy itself stays cached
            "copy-link-base-edit",
            """FROM busybox
RUN echo {nonce} > /nonce
RUN echo one > /one
COPY --link a.txt /a/
""",
            {"a.txt": "a\n"}, edit_dockerfile("echo one", "echo two"),
            expect={"[3/4] RUN echo two > /one": "rebuilt",
                    "[4/4] COPY --link a.txt /a/": "rebuilt"}),
        Scenario(
            # a local named context (`--build-context assets=DIR`): COPY --from and --mount from it
            "named-context",
            """FROM busybox
RUN echo {nonce} > /nonce
COPY --from=assets logo.txt /www/
RUN --mount=from=assets,source=fonts,target=/f cat /f/* > /fonts
""",
            {}, lambda c: write(c.parent / "assets", "fonts/a.txt", "a2\n"),
            changed=["assets:fonts/a.txt"], named={"assets": {"logo.txt": "logo\n", "fonts/a.txt": "a\n"}},
            expect={"[stage-0 3/4] COPY --from=assets logo.txt /www/": "cached",
                    "[stage-0 4/4] RUN --mount=from=assets,source=fonts,target=/f cat /f/* > /fonts": "rebuilt"}),
        Scenario(
            "bind-mounts",
            """FROM busybox AS tool
RUN echo {nonce} > /nonce
RUN echo tool > /tool
FROM busybox
RUN echo {nonce} > /nonce
RUN --mount=type=bind,source=go.mod,target=/go.mod cat /go.mod > /mod
RUN --mount=type=bind,target=/src cat /src/main.go > /main
RUN --mount=from=tool,source=/tool,target=/t cat /t > /t2
""",
            {"go.mod": "module x\n", "main.go": "package main\n"},
            lambda c: write(c, "main.go", "package main // 2\n"), changed=["main.go"],
            expect={"[stage-1 3/5] RUN --mount=type=bind,source=go.mod,target=/go.mod cat /go.mod > /mod": "cached",
                    "[stage-1 4/5] RUN --mount=type=bind,target=/src cat /src/main.go > /main": "rebuilt",
                    "[stage-1 5/5] RUN --mount=from=tool,source=/tool,target=/t cat /t > /t2": "rebuilt"}),
    ]


BUILDCTL = os.environ.get("BUILDCTL", "")
BUILDKIT_HOST = os.environ.get("BUILDKIT_HOST", "")


def daemon_rules() -> str:
    """`v0.8` on Docker 20.10 (BuildKit v0.8), else `current`."""
    if BUILDCTL:
        return "current"
    out = subprocess.run([DOCKER, "version", "--format", "{{.Server.Version}}"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout.strip()
    return "v0.8" if out.startswith("20.10") else "current"


RULES = "current"


def stager_bin() -> str:
    if os.environ.get("STAGER_BIN"):
        return os.environ["STAGER_BIN"]
    subprocess.run(["cargo", "build", "-q"], cwd=REPO, check=True)
    return str(REPO / "target" / "debug" / "stager")


def docker_build(s: Scenario, n: int, ctx: Path, args: list[str]) -> dict[str, str]:
    """Builds; returns step name -> CACHED | DONE | '' (neither seen) from the plain progress."""
    tag = f"stager-impact-e2e/{s.name}:{n}"
    cmd = [DOCKER, "build", "--progress=plain", "-f", str(ctx / "Dockerfile"), "-t", tag, *args, str(ctx)]
    if BUILDCTL:
        # a standalone buildkitd: its built-in frontend follows `# syntax=` to the stager image
        opts = [f"build-arg:{a}" for a in args[1::2]] + [f"context:{n}=local:{n}" for n in s.named]
        locals_ = [f"{n}={ctx.parent / n}" for n in s.named]
        cmd = [BUILDCTL, "--addr", BUILDKIT_HOST, "build", "--frontend", "dockerfile.v0",
               "--local", f"context={ctx}", "--local", f"dockerfile={ctx}", "--progress=plain",
               *[x for o in opts for x in ("--opt", o)], *[x for l in locals_ for x in ("--local", l)]]
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=TIMEOUT)
    output = proc.stdout.decode("utf-8", "replace")
    (OUT / s.name / f"build{n}.log").write_text(" ".join(shlex.quote(c) for c in cmd) + "\n" + output)
    if proc.returncode != 0:
        raise RuntimeError(f"build {n} failed; see {OUT / s.name / f'build{n}.log'}")
    names, status = parse_progress(output)
    return {name: status.get(num, "") for num, name in names.items() if STEP.match(name)}


def git(ctx: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(ctx), *args], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, GIT_AUTHOR_NAME="e2e", GIT_AUTHOR_EMAIL="e2e@localhost",
                            GIT_COMMITTER_NAME="e2e", GIT_COMMITTER_EMAIL="e2e@localhost"))


def run(s: Scenario, stager: str) -> list[str]:
    """Returns the problems (empty: the prediction held)."""
    base = OUT / s.name
    shutil.rmtree(base, ignore_errors=True)
    ctx = base / "ctx"
    ctx.mkdir(parents=True)
    nonce = uuid.uuid4().hex
    dockerfile = f"# syntax={IMAGE}\n" + s.dockerfile.replace("{nonce}", nonce)
    write(ctx, "Dockerfile", dockerfile)
    for path, text in s.files.items():
        write(ctx, path, text)
    for name, files in s.named.items():
        for path, text in files.items():
            write(base / name, path, text)
    if s.git:
        git(ctx, "init", "-q")
        git(ctx, "add", "-A")
        git(ctx, "commit", "-q", "-m", "build 1")
    (base / "old.Dockerfile").write_text(dockerfile)
    docker_build(s, 1, ctx, s.args)
    s.change(ctx)
    new_args = s.args if s.new_args is None else s.new_args
    cmd = [stager, "impact", "--format", "json", "--buildkit", RULES, *new_args]
    for name in s.named:
        cmd += ["--build-context", f"{name}={base / name}"]
    for a in s.args[1::2]:
        cmd += ["--old-build-arg", a]
    if s.git:
        cmd += ["--since", "HEAD"]
    else:
        cmd += ["--old-dockerfile", str(base / "old.Dockerfile")]
        for p in s.changed:
            cmd += ["--changed", p]
    cmd.append(str(ctx / "Dockerfile"))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    (base / "impact.cmd").write_text(" ".join(shlex.quote(c) for c in cmd) + "\n" + proc.stderr)
    if proc.returncode != 0:
        return [f"stager impact failed: {proc.stderr.strip()}"]
    (base / "impact.json").write_text(proc.stdout)
    predicted = {st["name"]: st for st in json.loads(proc.stdout)["steps"]}
    observed = docker_build(s, 2, ctx, new_args)
    s.observed = observed
    problems = []
    for name, st in predicted.items():
        got = observed.get(name)
        if got is None:
            problems.append(f"{name!r} predicted {st['verdict']} but not in the progress")
        elif st["verdict"] == "cached" and got != "CACHED":
            problems.append(f"{name!r} predicted cached ({st['reason']}) but ran")
        elif st["verdict"] == "rebuilt" and got != "DONE":
            problems.append(f"{name!r} predicted rebuilt ({st['reason']}) but was {got or 'not run'}")
    for name in observed:
        if name not in predicted:
            problems.append(f"{name!r} in the progress ({observed[name]}) but not predicted")
    expect = dict(s.expect)
    for name, (v08, current) in s.differs.items():
        expect[name] = v08 if RULES == "v0.8" else current
    for name, want in expect.items():
        verdict, _, outcome = want.partition(":")
        got = predicted.get(name, {}).get("verdict")
        if got != verdict:
            problems.append(f"{name!r}: the scenario is about {verdict}, predicted {got}")
        if outcome and observed.get(name) != outcome:
            problems.append(f"{name!r}: depends, the scenario expects {outcome}, BuildKit did {observed.get(name)}")
    lines = [f"{st['verdict']:8} {observed.get(n, '?'):7} {n}  -- {st['reason']}" for n, st in predicted.items()]
    (base / "result.txt").write_text("\n".join(lines + problems) + "\n")
    if not KEEP and not BUILDCTL:
        for n in (1, 2):
            subprocess.run([DOCKER, "rmi", "-f", f"stager-impact-e2e/{s.name}:{n}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return problems


def main(argv: list[str]) -> int:
    if not BUILDCTL and subprocess.run([DOCKER, "image", "inspect", IMAGE], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL).returncode != 0:
        print(f"e2e-impact: frontend image {IMAGE} missing (make image)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 2
    global RULES
    RULES = os.environ.get("IMPACT_RULES") or daemon_rules()
    stager = stager_bin()
    print(f"e2e-impact: predicting with `--buildkit {RULES}` for the daemon's BuildKit", flush=True)
    all_scenarios = {s.name: s for s in scenarios() if BUILDCTL or not s.named}
    for s in scenarios():
        if s.name not in all_scenarios and (not argv or s.name in argv):
            print(f"skip {s.name}: `docker build` of Docker 20.10 has no --build-context", flush=True)
    argv = [n for n in argv if n in all_scenarios or n not in {s.name for s in scenarios()}]
    wanted = argv or list(all_scenarios)
    unknown = [n for n in wanted if n not in all_scenarios]
    if unknown:
        print(f"e2e-impact: unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = {pool.submit(run, all_scenarios[n], stager): n for n in wanted}
        for f in concurrent.futures.as_completed(futures):
            name = futures[f]
            try:
                problems = f.result()
            except Exception as e:  # a failed build is a failed scenario, not a crash
                problems = [str(e)]
            if problems:
                failed += 1
                print(f"FAIL {name}: " + "; ".join(problems[:4]), flush=True)
            else:
                s = all_scenarios[name]
                counts = {v: sum(1 for o in s.observed.values() if o == v) for v in ("CACHED", "DONE")}
                print(f"ok {name} ({counts['CACHED']} CACHED, {counts['DONE']} run)", flush=True)
    print(f"{len(wanted) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
