#!/usr/bin/env python3
"""Main contexts from anywhere: `docker buildx build <git or http url>` on Docker 28.5 through
stager and through the reference frontend, the exported files compared.

buildx sends the URL as the `context` attribute (the daemon fetches it; Docker 20.10's classic
`docker build <git url>` clones it in the CLI instead, hence this runs on the current daemon).
stager is reached with `--build-arg BUILDKIT_SYNTAX=<E2E_IMAGE>` (the Dockerfile lives in the
remote context, so no `# syntax` line can be prepended); the reference side is the daemon's
built-in frontend, or `E2E_REFERENCE` the same way as stager. The reference builds first with a
new `NONCE` build-arg, so its RUN executes; stager's build with the same NONCE must then find that
RUN `CACHED`: the same cache keys, so the same LLB for the context and the steps reading it.

Served from loopback for the run: a git repository (fixed dates, so fixed commits) by `git
daemon` on E2E_REMOTE_GIT_PORT (19418), and a Dockerfile and a tarball of the repository by an
HTTP server on E2E_REMOTE_WWW_PORT (19480).

Environment: DOCKER_CURRENT (/opt/stager-docker-current/docker), E2E_IMAGE (myorg/frontend),
E2E_REFERENCE (none: the built-in frontend), E2E_OUT (<repo>/.e2e; logs in .e2e/remote/).
Output: `ok <case>` / `FAIL <case>: ...`, then `N passed, M failed`; exit 1 on failures.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import re
import tarfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOCKER = os.environ.get("DOCKER_CURRENT", "/opt/stager-docker-current/docker")
IMAGE = os.environ.get("E2E_IMAGE", "myorg/frontend")
REFERENCE = os.environ.get("E2E_REFERENCE", "")
OUT = Path(os.environ.get("E2E_OUT", REPO / ".e2e")) / "remote"
GIT_PORT = int(os.environ.get("E2E_REMOTE_GIT_PORT", "19418"))
WWW_PORT = int(os.environ.get("E2E_REMOTE_WWW_PORT", "19480"))

FILES = {
    "Dockerfile": "FROM busybox\nARG NONCE\nCOPY . /src\n"
                  "RUN echo $NONCE > /nonce && find /src | sort > /listing\n",
    "hello.txt": "hello\n",
    "sub/inner.txt": "inner\n",
    "sub/Dockerfile": "FROM busybox\nCOPY . /in-sub\nRUN ls -R /in-sub > /listing\n",
}

GIT = f"git://127.0.0.1:{GIT_PORT}/r.git"
WWW = f"http://127.0.0.1:{WWW_PORT}"
CASES = [
    ("git-default-branch", GIT, []),
    ("git-ref", f"{GIT}#main", []),
    ("git-tag-subdir", f"{GIT}#v1:sub", []),
    ("git-query", f"{GIT}?tag=v1&subdir=sub", []),
    ("http-dockerfile", f"{WWW}/Dockerfile", []),
    ("http-tarball", f"{WWW}/ctx.tar.gz", []),
    ("http-tarball-file", f"{WWW}/ctx.tar.gz", ["-f", "sub/Dockerfile"]),
]


def make_sources(root: Path) -> None:
    """The repository (bare, exported), and the www folder with a Dockerfile and a tarball."""
    work, bare, www = root / "work", root / "git" / "r.git", root / "www"
    for d in (work, www):
        d.mkdir(parents=True)
    for name, text in FILES.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    env = dict(os.environ, GIT_AUTHOR_NAME="e2e", GIT_AUTHOR_EMAIL="e2e@example.com",
               GIT_COMMITTER_NAME="e2e", GIT_COMMITTER_EMAIL="e2e@example.com",
               GIT_AUTHOR_DATE="2024-01-01T00:00:00Z", GIT_COMMITTER_DATE="2024-01-01T00:00:00Z")

    def git(*args: str, cwd: Path = work) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main", ".")
    git("add", "-A")
    git("commit", "-q", "-m", "one")
    git("tag", "v1")
    git("clone", "-q", "--bare", str(work), str(bare), cwd=root)
    (bare / "git-daemon-export-ok").touch()
    shutil.copy(work / "Dockerfile", www / "Dockerfile")
    with tarfile.open(www / "ctx.tar.gz", "w:gz") as tar:
        for name in sorted(FILES):
            tar.add(work / name, arcname=name)


def tree(d: Path) -> dict[str, str]:
    """Relative path -> type, mode and content digest of every entry under `d`."""
    out = {}
    for p in sorted(d.rglob("*")):
        st = p.lstat()
        kind = "link" if p.is_symlink() else "dir" if p.is_dir() else "file"
        digest = hashlib.sha256(p.read_bytes()).hexdigest()[:16] if kind == "file" else ""
        out[str(p.relative_to(d))] = f"{kind} {oct(st.st_mode & 0o7777)} {digest}"
    return out


def build(name: str, side: str, url: str, args: list[str], frontend: str,
          nonce: str) -> tuple[bool, Path, str]:
    dest = OUT / name / side
    shutil.rmtree(dest, ignore_errors=True)
    syntax = ["--build-arg", f"BUILDKIT_SYNTAX={frontend}"] if frontend else []
    cmd = [DOCKER, "buildx", "build", "--progress=plain", "--build-arg", f"NONCE={nonce}",
           *syntax, *args, "--output", f"type=local,dest={dest}", url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    (OUT / name / f"{side}.log").write_text(" ".join(cmd) + "\n" + p.stdout + p.stderr)
    return p.returncode == 0, dest, p.stdout + p.stderr


def run_cached(log: str) -> bool:
    """Whether the log's RUN vertex (the only one) was answered from the cache."""
    ids = re.findall(r"^#(\d+) \[[^\]]*\] RUN ", log, re.M)
    return bool(ids) and all(re.search(rf"^#{i} CACHED$", log, re.M) for i in ids)


class Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves files without a log line per request."""

    def log_message(self, *args) -> None:  # noqa: D102
        pass


def main() -> int:
    if shutil.which("git") is None or not Path(DOCKER).exists():
        print(f"remote contexts: SKIPPED (needs git and {DOCKER})")
        return 0
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "served").mkdir(parents=True)
    make_sources(OUT / "served")
    handler = functools.partial(Quiet, directory=str(OUT / "served" / "www"))
    www = http.server.ThreadingHTTPServer(("127.0.0.1", WWW_PORT), handler)
    threading.Thread(target=www.serve_forever, daemon=True).start()
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={OUT / 'served' / 'git'}",
         "--listen=127.0.0.1", f"--port={GIT_PORT}", str(OUT / "served" / "git")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    passed = failed = 0
    try:
        for name, url, args in CASES:
            (OUT / name).mkdir(parents=True, exist_ok=True)
            nonce = f"{name}-{time.time_ns()}"
            r_ok, r_dir, _ = build(name, "reference", url, args, REFERENCE, nonce)
            s_ok, s_dir, s_log = build(name, "stager", url, args, IMAGE, nonce)
            problems = []
            if s_ok and r_ok and "ARG NONCE" in FILES[args[-1] if args else "Dockerfile"] \
                    and not run_cached(s_log):
                problems.append("stager's RUN was not CACHED after the reference's build")
            if not s_ok:
                problems.append(f"stager failed (see {OUT / name / 'stager.log'})")
            if not r_ok:
                problems.append(f"reference failed (see {OUT / name / 'reference.log'})")
            if s_ok and r_ok:
                a, b = tree(s_dir), tree(r_dir)
                problems += [f"{p}: stager {a.get(p)} vs reference {b.get(p)}"
                             for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)]
                if not a:
                    problems.append("nothing exported")
            if problems:
                failed += 1
                print(f"FAIL {name}: " + "; ".join(problems[:5]))
            else:
                passed += 1
                print(f"ok {name}")
    finally:
        www.shutdown()
        daemon.terminate()
        daemon.wait(timeout=10)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
