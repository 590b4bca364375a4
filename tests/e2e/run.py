#!/usr/bin/env python3
"""End-to-end tests: build each case with stager and with the daemon's built-in frontend, compare.

For every directory tests/e2e/cases/<name>/ (a Dockerfile without a `# syntax` line, context files,
optionally `args`, `expect`, `max-time-ratio`, `needs-stager`):

* stager side:  the Dockerfile with `# syntax=<E2E_IMAGE>` prepended, written to .e2e/<name>/df/
                and built with `-f` (E2E_FRONTEND=builtin skips the prepending: checks the harness).
* builtin side: the Dockerfile as it is (the daemon's own Dockerfile frontend).

Both are `DOCKER_BUILDKIT=1 docker build --no-cache` into a temporary tag, then `docker save`d; the
layers are applied in order (whiteouts included) into one file tree, compared by path, type, mode,
uid, gid, content sha256 and link target; the image configs are compared field by field from
`docker image inspect`.

Case files:
  args            extra `docker build` flags for both sides (shell words, `#` comments), e.g.
                  `--target x` or `--build-arg A=b`.
  expect          instead of comparing with the built-in frontend, check the stager side against
                  these lines (for features Docker 20.10's built-in frontend lacks):
                    fail <text>                  the build must fail, its output must contain text
                    path <path> <file|dir|symlink> [mode=0755] [uid=N] [gid=N]
                         [content=<text, \\n escapes>] [sha256=<hex>] [target=<link>]
                    absent <path>
                    config <Field> <json>        e.g. config Cmd ["sh"]
  max-time-ratio  `<other-case> <ratio>`: this case's build must take at most ratio times the
                  other case's build (same side). Timed cases run alone, after the others.
  needs-stager    skip the case when E2E_FRONTEND=builtin (the built-in frontend cannot do it).

Environment: DOCKER (/usr/bin/docker), E2E_IMAGE (myorg/frontend), E2E_TAG_PREFIX (stager-e2e), E2E_FRONTEND (stager|builtin),
E2E_JOBS (cases built at once, default 3), E2E_TIMEOUT (seconds per build, default 300),
E2E_KEEP=1 (keep the images), E2E_OUT (logs, default <repo>/.e2e). Arguments: case names to run
(default all).

Output: one `ok <name>` / `FAIL <name>: <what differs>` line per case, then `N passed, M failed`.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import json
import atexit
import os
import tempfile
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CASES = HERE / "cases"

DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
IMAGE = os.environ.get("E2E_IMAGE", "myorg/frontend")
FRONTEND = os.environ.get("E2E_FRONTEND", "stager")
JOBS = max(1, int(os.environ.get("E2E_JOBS", "3")))
TIMEOUT = int(os.environ.get("E2E_TIMEOUT", "300"))
KEEP = os.environ.get("E2E_KEEP", "") not in ("", "0")
OUT = Path(os.environ.get("E2E_OUT", REPO / ".e2e"))
# Several checkouts may test against one daemon at once: each gives its own prefix.
TAG_PREFIX = os.environ.get("E2E_TAG_PREFIX", "stager-e2e")

CONFIG_FIELDS = [
    "Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes",
    "StopSignal", "Shell", "Healthcheck", "OnBuild",
]

print_lock = threading.Lock()


def say(line: str) -> None:
    with print_lock:
        print(line, flush=True)


# --------------------------------------------------------------------------------------------
# docker


@dataclass
class Build:
    ok: bool
    output: str
    seconds: float
    tag: str


def run_build(cmd: list[str]) -> tuple[bool, str, float]:
    """Runs a `docker build` command line: (succeeded, combined output, seconds)."""
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=TIMEOUT)
        ok, output = proc.returncode == 0, proc.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        ok, output = False, (e.stdout or b"").decode("utf-8", "replace") + f"\nTIMEOUT after {TIMEOUT}s"
    return ok, output, time.monotonic() - start


def docker_build(case: str, side: str, dockerfile: Path, context: Path, args: list[str]) -> Build:
    tag = f"{TAG_PREFIX}/{case.lower()}:{side}"
    cmd = [DOCKER, "build", "--no-cache", "--progress=plain", "-f", str(dockerfile), "-t", tag,
           *args, str(context)]
    ok, output, seconds = run_build(cmd)
    log = OUT / case / f"{side}.log"
    log.write_text(" ".join(shlex.quote(c) for c in cmd) + f"\n# {seconds:.2f}s\n" + output)
    return Build(ok, output, seconds, tag)


def last_error(output: str) -> str:
    lines = [l.strip() for l in output.splitlines() if l.strip()]
    for l in reversed(lines):
        if "error" in l.lower() or "failed" in l.lower():
            return l[:300]
    return lines[-1][:300] if lines else "(no output)"


def docker_rmi(tag: str) -> None:
    subprocess.run([DOCKER, "rmi", "-f", tag], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def image_config(tag: str) -> dict:
    out = subprocess.run([DOCKER, "image", "inspect", tag], check=True, stdout=subprocess.PIPE).stdout
    info = json.loads(out)[0]
    cfg = info.get("Config") or {}
    result = {k: normalize(cfg.get(k)) for k in CONFIG_FIELDS}
    result["Architecture"] = info.get("Architecture")
    result["Os"] = info.get("Os")
    return result


def normalize(v):
    """null, "", [] and {} all mean "not set" in an image config."""
    if v in (None, "", [], {}):
        return None
    return v


# --------------------------------------------------------------------------------------------
# file trees from `docker save`

Entry = tuple  # (type, mode, uid, gid, detail)


def image_tree(tag: str) -> dict[str, Entry]:
    proc = subprocess.run([DOCKER, "save", tag], check=True, stdout=subprocess.PIPE)
    outer = tarfile.open(fileobj=io.BytesIO(proc.stdout))
    manifest = json.load(outer.extractfile("manifest.json"))
    tree: dict[str, Entry] = {}
    for layer in manifest[0]["Layers"]:
        data = outer.extractfile(layer).read()
        apply_layer(tree, tarfile.open(fileobj=io.BytesIO(data)))
    return tree


def clean(name: str) -> str:
    """Tar member name or user path -> absolute normalized path ("./a/b/" -> "/a/b")."""
    return posixpath.normpath("/" + name.lstrip("/"))


def apply_layer(tree: dict[str, Entry], layer: tarfile.TarFile) -> None:
    members = layer.getmembers()

    def drop(prefix: str, keep_self: bool) -> None:
        for p in [p for p in tree if p == prefix or p.startswith(prefix.rstrip("/") + "/")]:
            if keep_self and p == prefix:
                continue
            del tree[p]

    # Whiteouts remove what lower layers had; they never hide this layer's own entries.
    for m in members:
        path = clean(m.name)
        base = posixpath.basename(path)
        if base == ".wh..wh..opq":
            drop(posixpath.dirname(path), keep_self=True)
        elif base.startswith(".wh."):
            drop(posixpath.join(posixpath.dirname(path), base[4:]), keep_self=False)
    hardlinks = []
    for m in members:
        path = clean(m.name)
        base = posixpath.basename(path)
        if base.startswith(".wh.") or path == "/":
            continue
        mode = m.mode & 0o7777
        if m.isdir():
            if path in tree and tree[path][0] != "dir":
                drop(path, keep_self=False)
            tree[path] = ("dir", mode, m.uid, m.gid, "")
            continue
        drop(path, keep_self=False)
        if m.isreg():
            digest = hashlib.sha256(layer.extractfile(m).read()).hexdigest()
            tree[path] = ("file", mode, m.uid, m.gid, f"sha256:{digest} size:{m.size}")
        elif m.issym():
            tree[path] = ("symlink", mode, m.uid, m.gid, f"-> {m.linkname}")
        elif m.islnk():
            hardlinks.append((path, m))
        elif m.ischr() or m.isblk():
            kind = "char" if m.ischr() else "block"
            tree[path] = (kind, mode, m.uid, m.gid, f"{m.devmajor}:{m.devminor}")
        elif m.isfifo():
            tree[path] = ("fifo", mode, m.uid, m.gid, "")
        else:
            tree[path] = ("other", mode, m.uid, m.gid, str(m.type))
    # A hard link is compared as the file it links to (content of the target, its own metadata).
    for path, m in hardlinks:
        target = tree.get(clean(m.linkname))
        detail = target[4] if target else f"hardlink to missing {m.linkname}"
        tree[path] = ("file", m.mode & 0o7777, m.uid, m.gid, detail)


def fmt(e: Entry | None) -> str:
    if e is None:
        return "missing"
    kind, mode, uid, gid, detail = e
    return f"{kind} {mode:04o} {uid}:{gid} {detail}".rstrip()


def diff_trees(a: dict[str, Entry], b: dict[str, Entry], an: str, bn: str) -> list[str]:
    out = []
    for p in sorted(set(a) | set(b)):
        if a.get(p) != b.get(p):
            if p not in a:
                out.append(f"{p} only in {bn} ({fmt(b[p])})")
            elif p not in b:
                out.append(f"{p} only in {an} ({fmt(a[p])})")
            else:
                out.append(f"{p}: {an}={fmt(a[p])} {bn}={fmt(b[p])}")
    return out


def diff_configs(a: dict, b: dict, an: str, bn: str) -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            out.append(f"config {k}: {an}={json.dumps(a.get(k))} {bn}={json.dumps(b.get(k))}")
    return out


# --------------------------------------------------------------------------------------------
# cases


@dataclass
class Case:
    name: str
    dir: Path
    dockerfile: str
    args: list[str]
    expect: list[list[str]] | None
    ratio: tuple[str, float] | None
    needs_stager: bool
    forbid: list[str] = field(default_factory=list)
    result: "Result | None" = None
    # `only-daemon`: a Docker version prefix (e.g. 20.10); other daemons skip the case.
    only_daemon: str | None = None


@dataclass
class Result:
    ok: bool
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: bool = False


def load_case(d: Path) -> Case:
    text = (d / "Dockerfile").read_text()
    if re.match(r"(?i)#\s*syntax\s*=", text):
        raise SystemExit(f"{d}/Dockerfile must not have a syntax line")
    args = shlex.split((d / "args").read_text(), comments=True) if (d / "args").exists() else []
    expect = None
    if (d / "expect").exists():
        expect = [parse_expect(l) for l in (d / "expect").read_text().splitlines()]
        expect = [w for w in expect if w]
    ratio = None
    if (d / "max-time-ratio").exists():
        ref, r = (d / "max-time-ratio").read_text().split()
        ratio = (ref, float(r))
    forbid = []
    if (d / "forbid").exists():
        forbid = [l for l in (d / "forbid").read_text().splitlines() if l and not l.startswith("#")]
    only = (d / "only-daemon").read_text().strip() if (d / "only-daemon").exists() else None
    return Case(d.name, d, text, args, expect, ratio, (d / "needs-stager").exists(), forbid,
                only_daemon=only)


_daemon_version: list[str] = []


def daemon_version() -> str:
    """The Docker Engine version of the daemon under test, asked once."""
    if not _daemon_version:
        out = subprocess.run([DOCKER, "version", "--format", "{{.Server.Version}}"],
                             capture_output=True, text=True).stdout.strip()
        _daemon_version.append(out)
    return _daemon_version[0]


def parse_expect(line: str) -> list[str]:
    """`fail` and `config` keep the rest of the line verbatim (text, JSON); others are shell words."""
    line = line.strip()
    if not line or line.startswith("#"):
        return []
    kind = line.split(None, 1)[0]
    if kind == "fail":
        return ["fail", line[len(kind):].strip()]
    if kind == "config":
        return line.split(None, 2)
    return shlex.split(line, comments=True)


def stager_dockerfile(case: Case) -> Path:
    df_dir = OUT / case.name / "df"
    df_dir.mkdir(parents=True, exist_ok=True)
    df = df_dir / "Dockerfile"
    text = case.dockerfile if FRONTEND == "builtin" else f"# syntax={IMAGE}\n{case.dockerfile}"
    df.write_text(with_port(text))
    return df


def builtin_dockerfile(case: Case) -> Path:
    """The case's own Dockerfile, or a copy with the served address rewritten."""
    if with_port(case.dockerfile) == case.dockerfile:
        return case.dir / "Dockerfile"
    df_dir = OUT / case.name / "builtin-df"
    df_dir.mkdir(parents=True, exist_ok=True)
    (df_dir / "Dockerfile").write_text(with_port(case.dockerfile))
    return df_dir / "Dockerfile"


def run_case(case: Case) -> Result:
    case_out = OUT / case.name
    if case_out.exists():
        shutil.rmtree(case_out)
    case_out.mkdir(parents=True)
    if case.needs_stager and FRONTEND == "builtin":
        return Result(True, ["needs stager (the built-in frontend cannot build it)"], skipped=True)
    if case.only_daemon and not daemon_version().startswith(case.only_daemon):
        return Result(True, [f"only for Docker {case.only_daemon}"], skipped=True)
    res = Result(True)
    tags = []
    try:
        s = docker_build(case.name, "stager", stager_dockerfile(case), case.dir, case.args)
        res.seconds["stager"] = s.seconds
        tags.append(s.tag)
        if case.forbid and s.ok:
            res.problems += check_forbidden(case, s)
        if case.expect is not None:
            res.problems = check_expect(case, s)
        else:
            b = docker_build(case.name, "builtin", builtin_dockerfile(case), case.dir, case.args)
            res.seconds["builtin"] = b.seconds
            tags.append(b.tag)
            if not b.ok:
                res.problems.append(f"builtin build failed (case is broken): {last_error(b.output)}")
            elif not s.ok:
                res.problems.append(f"stager build failed: {last_error(s.output)}")
            else:
                res.problems += diff_configs(image_config(s.tag), image_config(b.tag), "stager", "builtin")
                res.problems += diff_trees(image_tree(s.tag), image_tree(b.tag), "stager", "builtin")
    except Exception as e:  # a harness or docker failure is a failed case, not a crash
        res.problems.append(f"harness error: {type(e).__name__}: {e}")
    finally:
        if not KEEP:
            for t in tags:
                docker_rmi(t)
    res.ok = not res.problems
    if res.problems:
        (case_out / "problems.txt").write_text("\n".join(res.problems) + "\n")
    return res


def check_forbidden(case: Case, s: Build) -> list[str]:
    """Strings (secret values) that must appear nowhere: not in the image (layers, config,
    history, as `docker save` writes them) and not in the build's progress output."""
    saved = subprocess.run([DOCKER, "save", s.tag], stdout=subprocess.PIPE, check=True).stdout
    out = []
    for text in case.forbid:
        needle = text.encode()
        if needle in saved:
            out.append(f"forbidden text {text!r} is in the image")
        if text in s.output:
            out.append(f"forbidden text {text!r} is in the progress output")
    return out


def check_expect(case: Case, s: Build) -> list[str]:
    fails = [w for w in case.expect if w[0] == "fail"]
    if fails:
        if s.ok:
            return ["build succeeded but was expected to fail"]
        return [f"output lacks {w[1]!r}: {last_error(s.output)}" for w in fails if w[1] not in s.output]
    if not s.ok:
        return [f"stager build failed: {last_error(s.output)}"]
    problems = []
    tree, cfg = image_tree(s.tag), image_config(s.tag)
    for w in case.expect:
        if w[0] == "absent":
            if clean(w[1]) in tree:
                problems.append(f"{w[1]} exists ({fmt(tree[clean(w[1])])}), expected absent")
        elif w[0] == "path":
            e = tree.get(clean(w[1]))
            if e is None:
                problems.append(f"{w[1]} missing")
                continue
            want = dict(kv.split("=", 1) for kv in w[3:])
            got_kind, mode, uid, gid, detail = e
            checks = [("type", w[2], got_kind)]
            if "mode" in want:
                checks.append(("mode", f"{int(want['mode'], 8):04o}", f"{mode:04o}"))
            if "uid" in want:
                checks.append(("uid", int(want["uid"]), uid))
            if "gid" in want:
                checks.append(("gid", int(want["gid"]), gid))
            if "content" in want:
                data = want["content"].encode().decode("unicode_escape").encode()
                checks.append(("content", f"sha256:{hashlib.sha256(data).hexdigest()} size:{len(data)}", detail))
            if "sha256" in want:
                checks.append(("sha256", want["sha256"], detail.split()[0].removeprefix("sha256:")))
            if "target" in want:
                checks.append(("target", f"-> {want['target']}", detail))
            for what, exp, got in checks:
                if exp != got:
                    problems.append(f"{w[1]} {what}: expected {exp!r}, got {got!r}")
        elif w[0] == "config":
            exp = normalize(json.loads(w[2]))
            if cfg.get(w[1]) != exp:
                problems.append(f"config {w[1]}: expected {json.dumps(exp)}, got {json.dumps(cfg.get(w[1]))}")
        else:
            problems.append(f"bad expect line: {' '.join(w)}")
    return problems


def check_timing(case: Case, ref: Case) -> list[str]:
    """Parallel stages must not run one after another.

    The target ratio (max-time-ratio, 1.5 for four `sleep 2` stages against one) is what a quiet
    machine shows; under load both frontends drift, so stager fails only when it is above the
    target AND more than 25% above the built-in frontend's ratio of the same run, or above
    SERIAL_RATIO, which only serial execution reaches (four stages would give about 4).
    """
    out = []
    ratios = {}
    for side in ("builtin", "stager"):
        a, b = case.result.seconds.get(side), ref.result.seconds.get(side)
        if a is None or b is None or b <= 0:
            continue
        ratios[side] = a / b
        ok_build = not any("build failed" in p for p in case.result.problems + ref.result.problems)
        note = "" if ok_build or side == "builtin" else " (a build failed: not checked)"
        say(f"time {side}: {case.name} {a:.2f}s, {ref.name} {b:.2f}s "
            f"(ratio {a / b:.2f}, target {case.ratio[1]}){note}")
        if side != "stager" or not ok_build:
            continue
        ratio = a / b
        builtin = ratios.get("builtin")
        over_target = ratio > case.ratio[1] and (builtin is None or ratio > 1.25 * builtin)
        if over_target or ratio > SERIAL_RATIO:
            out.append(f"{case.name} took {a:.2f}s, {ratio:.2f}x {ref.name} ({b:.2f}s); "
                       f"target {case.ratio[1]}x, built-in frontend "
                       f"{'%.2f' % builtin if builtin else '?'}x")
    return out


# A ratio only serial execution reaches.
SERIAL_RATIO = 2.5


# --------------------------------------------------------------------------------------------


def preflight() -> str | None:
    if subprocess.run([DOCKER, "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        return f"`{DOCKER} info` fails: is dockerd running? (make deps)"
    if subprocess.run([DOCKER, "image", "inspect", "busybox:latest"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode:
        return "no local busybox:latest image (make deps)"
    if FRONTEND == "stager" and subprocess.run([DOCKER, "image", "inspect", IMAGE], stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL).returncode:
        return f"no local image {IMAGE} (make image)"
    if FRONTEND not in ("stager", "builtin"):
        return f"E2E_FRONTEND must be stager or builtin, not {FRONTEND!r}"
    return None


# Files for `ADD http://...` cases; the daemon fetches them itself, from the host's loopback.
WWW = Path(__file__).resolve().parent / "www"
WWW_PORT = int(os.environ.get("E2E_WWW_PORT", "18480"))
DEFAULT_WWW = "127.0.0.1:18480"
# Git repositories for `ADD http://.../git/<name>.git` cases, made by make_git_repos() and served
# with git's smart HTTP protocol (BuildKit fetches with --depth=1, which the dumb one cannot do).
GIT_ROOT = OUT.resolve() / "git"


def with_port(text: str) -> str:
    """Cases write the default address; a run on another E2E_WWW_PORT rewrites it."""
    return text.replace(DEFAULT_WWW, f"127.0.0.1:{WWW_PORT}")


def make_git_repos() -> None:
    """repo.git: `main` (tag v1: hello.txt, sub/inner.txt) and `dev` (adds dev.txt); fixed dates
    and authors, so the commits are the same on every run."""
    if GIT_ROOT.exists():
        shutil.rmtree(GIT_ROOT)
    work = GIT_ROOT / "work"
    work.mkdir(parents=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="e2e", GIT_AUTHOR_EMAIL="e2e@example.com",
               GIT_COMMITTER_NAME="e2e", GIT_COMMITTER_EMAIL="e2e@example.com",
               GIT_AUTHOR_DATE="2020-01-01T00:00:00Z", GIT_COMMITTER_DATE="2020-01-01T00:00:00Z",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")

    def git(*args: str, cwd: Path = work) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    git("init", "-q", "-b", "main")
    (work / "hello.txt").write_text("hello from git\n")
    (work / "sub").mkdir()
    (work / "sub" / "inner.txt").write_text("inner\n")
    git("add", "-A")
    git("commit", "-q", "-m", "first")
    git("tag", "v1")
    git("checkout", "-q", "-b", "dev")
    (work / "dev.txt").write_text("dev branch\n")
    git("add", "-A")
    git("commit", "-q", "-m", "dev")
    git("checkout", "-q", "main")
    git("clone", "-q", "--bare", str(work), str(GIT_ROOT / "repo.git"), cwd=GIT_ROOT)
    shutil.rmtree(work)


def serve_www() -> None:
    """Serves tests/e2e/www, and the git repositories under /git/, on 127.0.0.1:E2E_WWW_PORT for
    the rest of the run."""
    import functools
    import http.server

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: D102
            pass

        def do_GET(self) -> None:  # noqa: D102
            if self.path.startswith("/git/"):
                self.git_backend("GET")
            else:
                super().do_GET()

        def do_POST(self) -> None:  # noqa: D102
            self.git_backend("POST")

        def git_backend(self, method: str) -> None:
            """One request through `git http-backend` (CGI)."""
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            env = {"PATH": os.environ.get("PATH", ""), "GIT_PROJECT_ROOT": str(GIT_ROOT),
                   "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path[len("/git"):],
                   "QUERY_STRING": query, "REQUEST_METHOD": method, "REMOTE_ADDR": "127.0.0.1",
                   "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                   "CONTENT_LENGTH": str(len(body)),
                   "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                   "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", "")}
            out = subprocess.run(["git", "http-backend"], input=body, env=env,
                                 capture_output=True, timeout=60).stdout
            sep = b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n"
            head, _, payload = out.partition(sep)
            status, headers = 200, []
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    make_git_repos()
    handler = functools.partial(Quiet, directory=str(WWW))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", WWW_PORT), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def start_ssh_agent() -> None:
    """An empty ssh-agent for the `--ssh default` cases (RUN --mount=type=ssh needs a socket to
    forward, not keys); it ends with this process."""
    sock = Path(tempfile.mkdtemp(prefix="stager-e2e-ssh-")) / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    atexit.register(proc.terminate)
    for _ in range(50):
        if sock.exists():
            break
        time.sleep(0.1)
    os.environ["SSH_AUTH_SOCK"] = str(sock)


def main(argv: list[str]) -> int:
    serve_www()
    start_ssh_agent()
    err = preflight()
    if err:
        print(f"e2e: {err}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    cases = {d.name: load_case(d) for d in sorted(CASES.iterdir()) if (d / "Dockerfile").exists()}
    wanted = argv or list(cases)
    unknown = [n for n in wanted if n not in cases]
    if unknown:
        print(f"e2e: unknown case(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    # Timed cases and the cases they are timed against run alone, one build at a time, after the rest.
    timed = set()
    for n in wanted:
        if cases[n].ratio:
            ref = cases[n].ratio[0]
            if ref not in cases:
                raise SystemExit(f"{n}/max-time-ratio names unknown case {ref}")
            timed |= {n, ref}
    pooled = [n for n in wanted if n not in timed]
    serial = sorted(timed, key=lambda n: (cases[n].ratio is not None, n))  # references first

    mode = "stager image " + IMAGE if FRONTEND == "stager" else "BUILT-IN frontend on both sides"
    say(f"e2e: {len(wanted)} cases, {JOBS} at a time, stager side = {mode}; logs in {OUT}")
    start = time.monotonic()

    def finish(case: Case, res: Result) -> None:
        case.result = res
        if case.ratio is None:  # timed cases report after the timing check
            report(case)

    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = {pool.submit(run_case, cases[n]): n for n in pooled}
        for f in concurrent.futures.as_completed(futures):
            finish(cases[futures[f]], f.result())
    for n in serial:
        finish(cases[n], run_case(cases[n]))
    for n in serial:
        c = cases[n]
        if c.ratio:
            c.result.problems += check_timing(c, cases[c.ratio[0]])
            c.result.ok = not c.result.problems
            report(c)

    results = [cases[n].result for n in wanted]
    skipped = [n for n in wanted if cases[n].result.skipped]
    passed = sum(1 for r in results if r.ok and not r.skipped)
    failed = sum(1 for r in results if not r.ok)
    say(f"e2e: {time.monotonic() - start:.1f}s" + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
    say(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def report(case: Case) -> None:
    r = case.result
    if r.skipped:
        say(f"skip {case.name}: {r.problems[0]}")
    elif r.ok:
        secs = " ".join(f"{k}={v:.1f}s" for k, v in sorted(r.seconds.items()))
        say(f"ok {case.name} ({secs})")
    else:
        shown = r.problems[:6]
        more = f" (+{len(r.problems) - 6} more in .e2e/{case.name}/problems.txt)" if len(r.problems) > 6 else ""
        say(f"FAIL {case.name}: " + "; ".join(shown) + more)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
