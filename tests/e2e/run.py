#!/usr/bin/env python3
"""End-to-end tests: build each case with stager and with the daemon's built-in frontend, compare.

For every directory tests/e2e/cases/<name>/ (a Dockerfile without a `# syntax` line, context files,
optionally `args`, `expect`, `parallel`, `needs-stager`, `only-daemon`, `forbid`):

* stager side:  the Dockerfile with `# syntax=<E2E_IMAGE>` prepended, written to .e2e/<name>/df/
                and built with `-f` (E2E_FRONTEND=builtin skips the prepending: checks the harness).
* builtin side: the Dockerfile as it is (the daemon's own Dockerfile frontend), or with
                `# syntax=<E2E_REFERENCE>` prepended (e.g. the official 1.26 frontend image).

Both are `DOCKER_BUILDKIT=1 docker build --no-cache` into a temporary tag, then `docker save`d
(tests/e2e/buildkit/run.py swaps in buildctl and a docker tarball); the layers are applied in
order (whiteouts included) into one file tree, compared by path, type, mode, uid, gid, content
sha256 and link target; the image configs are compared field by field from the saved config.

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
  parallel        one vertex name (a substring) per line: these vertices must all have run at
                  the same time, on each side. Read from BuildKit's progress stream
                  (`--progress=rawjson`: each vertex's started/completed time); a client without
                  it (Docker 20.10's classic `docker build`) builds the case with
                  E2E_RAWJSON_DOCKER (buildx 0.29 on the same daemon) or, without one, builds and
                  compares it but says the overlap was not checked.
  needs-stager    skip the case when E2E_FRONTEND=builtin (the built-in frontend cannot do it).

Environment: DOCKER (/usr/bin/docker), E2E_IMAGE (myorg/frontend), E2E_TAG_PREFIX (stager-e2e), E2E_FRONTEND (stager|builtin),
E2E_REFERENCE (a frontend image for the builtin side), E2E_RAWJSON_DOCKER (a client with buildx
for the `parallel` cases when DOCKER has none), E2E_DAEMON (the name of the daemon in
known-differences.txt, default docker-<server version>),
E2E_JOBS (cases built at once, default 3), E2E_TIMEOUT (seconds per build, default 300),
E2E_KEEP=1 (keep the images), E2E_OUT (logs, default <repo>/.e2e). Arguments: case names to run
(default all).

Output: one `ok <name>` / `known <name>` / `FAIL <name>: <what differs>` line per case, then
`N passed, M failed`. known-differences.txt lists, per daemon, cases where stager is known to
differ (with the reason): they are run and reported, but do not fail the run.
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
sys.path.insert(0, str(HERE))
import progress  # noqa: E402  (what BuildKit's progress stream says happened)

REPO = HERE.parent.parent
CASES = HERE / "cases"

DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
IMAGE = os.environ.get("E2E_IMAGE", "myorg/frontend")
REFERENCE = os.environ.get("E2E_REFERENCE", "")
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
    # The image as a docker tarball (`docker save` format), when the builder wrote one itself.
    tarball: Path | None = None

    def saved(self) -> bytes:
        """The image in `docker save` format."""
        if self.tarball is not None:
            return self.tarball.read_bytes()
        return saved_image(self.tag)


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


# A client with buildx for the same daemon, for the cases whose progress must be read when DOCKER
# cannot print it as JSON (Docker 20.10's classic `docker build`): scripts/setup-docker-current.sh
# writes one ($ROOT/docker-default, the current CLI on the default socket).
RAWJSON_DOCKER = os.environ.get("E2E_RAWJSON_DOCKER", "")
_rawjson: list[str | None] = []


def rawjson_client() -> str | None:
    """The client that can print BuildKit's progress as JSON (buildx: Docker 23 and later):
    DOCKER itself, else E2E_RAWJSON_DOCKER, else None."""
    if not _rawjson:
        found = None
        for client in (DOCKER, RAWJSON_DOCKER):
            if client and subprocess.run([client, "buildx", "version"], capture_output=True).returncode == 0:
                found = client
                break
        _rawjson.append(found)
    return _rawjson[0]


def has_rawjson() -> bool:
    return rawjson_client() is not None


def docker_build(case: str, side: str, dockerfile: Path, context: Path, args: list[str],
                 rawjson: bool = False) -> Build:
    """One `docker build`; with rawjson the output is BuildKit's progress stream as JSON lines."""
    tag = f"{TAG_PREFIX}/{case.lower()}:{side}"
    shown = "--progress=rawjson" if rawjson else "--progress=plain"
    client = (rawjson_client() or DOCKER) if rawjson else DOCKER
    cmd = [client, "build", "--no-cache", shown, "-f", str(dockerfile), "-t", tag,
           *args, str(context)]
    ok, output, seconds = run_build(cmd)
    log = OUT / case / f"{side}.log"
    log.write_text(" ".join(shlex.quote(c) for c in cmd) + f"\n# {seconds:.2f}s\n" + output)
    return Build(ok, output, seconds, tag)


# The builder of both sides; tests/e2e/buildkit/run.py replaces it with buildctl's. Called as
# BUILD(case, side, dockerfile, context, args, rawjson) -> Build.
BUILD = docker_build
# Whether BUILD can give the rawjson progress stream; replaced together with BUILD.
RAWJSON = has_rawjson


def last_error(output: str) -> str:
    lines = [l.strip() for l in output.splitlines() if l.strip()]
    for l in reversed(lines):
        if "error" in l.lower() or "failed" in l.lower():
            return l[:300]
    return lines[-1][:300] if lines else "(no output)"


def docker_rmi(b: Build | str) -> None:
    """Removes a built image (a tag, or a Build with its tag or tarball)."""
    if isinstance(b, Build) and b.tarball is not None:
        b.tarball.unlink(missing_ok=True)
        return
    tag = b.tag if isinstance(b, Build) else b
    subprocess.run([DOCKER, "rmi", "-f", tag], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def saved_image(image: bytes | str) -> bytes:
    """A `docker save` tarball, as given or of a tag on DOCKER."""
    if isinstance(image, bytes):
        return image
    return subprocess.run([DOCKER, "save", image], check=True, stdout=subprocess.PIPE).stdout


def image_config(image: bytes | str) -> dict:
    """The compared fields of the image config of a tag or a `docker save` tarball."""
    outer = tarfile.open(fileobj=io.BytesIO(saved_image(image)))
    manifest = json.load(outer.extractfile("manifest.json"))
    info = json.load(outer.extractfile(manifest[0]["Config"]))
    cfg = info.get("config") or {}
    result = {k: normalize(cfg.get(k)) for k in CONFIG_FIELDS}
    result["Architecture"] = info.get("architecture")
    result["Os"] = info.get("os")
    return result


def normalize(v):
    """null, "", [] and {} all mean "not set" in an image config."""
    if v in (None, "", [], {}):
        return None
    return v


# --------------------------------------------------------------------------------------------
# file trees from `docker save`

Entry = tuple  # (type, mode, uid, gid, detail)


def image_tree(image: bytes | str) -> dict[str, Entry]:
    """The file tree of a tag or a `docker save` tarball, its layers applied in order."""
    outer = tarfile.open(fileobj=io.BytesIO(saved_image(image)))
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
    parallel: list[str]
    needs_stager: bool
    forbid: list[str] = field(default_factory=list)
    result: "Result | None" = None
    # `only-daemon`: Docker version prefixes (e.g. 20.10, or buildkitd); other daemons skip the case.
    only_daemon: list[str] | None = None
    # `expect-daemons`: daemon-name prefixes (docker-20.10) where `expect` is checked; on the
    # others the case is compared with the reference frontend like any other.
    expect_daemons: list[str] | None = None


@dataclass
class Result:
    ok: bool
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: bool = False
    notes: list[str] = field(default_factory=list)
    # Listed in known-differences.txt for this daemon: the reason.
    known: str | None = None


def load_case(d: Path) -> Case:
    text = (d / "Dockerfile").read_text()
    if re.match(r"(?i)#\s*syntax\s*=", text):
        raise SystemExit(f"{d}/Dockerfile must not have a syntax line")
    args = shlex.split((d / "args").read_text(), comments=True) if (d / "args").exists() else []
    expect = None
    if (d / "expect").exists():
        expect = [parse_expect(l) for l in (d / "expect").read_text().splitlines()]
        expect = [w for w in expect if w]
    parallel = []
    if (d / "parallel").exists():
        parallel = [l.strip() for l in (d / "parallel").read_text().splitlines()
                    if l.strip() and not l.startswith("#")]
    forbid = []
    if (d / "forbid").exists():
        forbid = [l for l in (d / "forbid").read_text().splitlines() if l and not l.startswith("#")]
    only = (d / "only-daemon").read_text().split() if (d / "only-daemon").exists() else None
    expect_daemons = (d / "expect-daemons").read_text().split() if (d / "expect-daemons").exists() else None
    return Case(d.name, d, text, args, expect, parallel, (d / "needs-stager").exists(), forbid,
                only_daemon=only, expect_daemons=expect_daemons)


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
    """The case's own Dockerfile, or a copy with the served address rewritten and the reference
    frontend named (E2E_REFERENCE)."""
    text = with_port(case.dockerfile)
    if REFERENCE:
        text = f"# syntax={REFERENCE}\n{text}"
    if text == case.dockerfile:
        return case.dir / "Dockerfile"
    df_dir = OUT / case.name / "builtin-df"
    df_dir.mkdir(parents=True, exist_ok=True)
    (df_dir / "Dockerfile").write_text(text)
    return df_dir / "Dockerfile"


def run_case(case: Case) -> Result:
    case_out = OUT / case.name
    if case_out.exists():
        shutil.rmtree(case_out)
    case_out.mkdir(parents=True)
    expect = case.expect
    if case.expect_daemons is not None and not any(daemon_name().startswith(p) for p in case.expect_daemons):
        expect = None  # a daemon whose built-in frontend can build it: compared like the rest
    if case.needs_stager and FRONTEND == "builtin" and expect is not None:
        return Result(True, ["needs stager (the built-in frontend cannot build it)"], skipped=True)
    if case.only_daemon and not any(daemon_version().startswith(p) for p in case.only_daemon):
        return Result(True, [f"only for {' '.join(case.only_daemon)}"], skipped=True)
    res = Result(True)
    builds = []
    rawjson = bool(case.parallel) and RAWJSON()
    if case.parallel and not rawjson:
        res.notes.append("overlap not checked: this client has no rawjson progress (Docker "
                         "20.10's classic builder) and E2E_RAWJSON_DOCKER names no buildx client")
    try:
        s = BUILD(case.name, "stager", stager_dockerfile(case), case.dir, case.args, rawjson)
        res.seconds["stager"] = s.seconds
        builds.append(s)
        if case.forbid and s.ok:
            res.problems += check_forbidden(case, s)
        if expect is not None:
            res.problems = check_expect(case, s)
        else:
            b = BUILD(case.name, "builtin", builtin_dockerfile(case), case.dir, case.args, rawjson)
            res.seconds["builtin"] = b.seconds
            builds.append(b)
            if not b.ok:
                res.problems.append(f"builtin build failed (case is broken): {last_error(b.output)}")
            elif not s.ok:
                res.problems.append(f"stager build failed: {last_error(s.output)}")
            else:
                ss, bs = s.saved(), b.saved()
                res.problems += diff_configs(image_config(ss), image_config(bs), "stager", "builtin")
                res.problems += diff_trees(image_tree(ss), image_tree(bs), "stager", "builtin")
        if rawjson:
            for side, build in zip(("stager", "builtin"), builds):
                if build.ok:
                    res.problems += progress.check_parallel(case.parallel, side, build.output)
    except Exception as e:  # a harness or docker failure is a failed case, not a crash
        res.problems.append(f"harness error: {type(e).__name__}: {e}")
    finally:
        if not KEEP:
            for b in builds:
                docker_rmi(b)
    res.ok = not res.problems
    if res.problems:
        (case_out / "problems.txt").write_text("\n".join(res.problems) + "\n")
    return res


def check_forbidden(case: Case, s: Build) -> list[str]:
    """Strings (secret values) that must appear nowhere: not in the image (layers, config,
    history, as `docker save` writes them) and not in the build's progress output."""
    saved = s.saved()
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
    saved = s.saved()
    tree, cfg = image_tree(saved), image_config(saved)
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


# What must be there before the cases run; replaced together with BUILD.
PREFLIGHT = preflight

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
    err = PREFLIGHT()
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
    known = known_differences(daemon_name())
    mode = "stager image " + IMAGE if FRONTEND == "stager" else "BUILT-IN frontend on both sides"
    other = f"frontend {REFERENCE}" if REFERENCE else "the daemon's built-in frontend"
    say(f"e2e: {len(wanted)} cases on {daemon_name()}, {JOBS} at a time, stager side = {mode}, "
        f"compared with {other}; logs in {OUT}")
    start = time.monotonic()

    def finish(case: Case, res: Result) -> None:
        case.result = res
        if case.name in known and not res.skipped:
            res.known = known[case.name]
        report(case)

    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = {pool.submit(run_case, cases[n]): n for n in wanted}
        for f in concurrent.futures.as_completed(futures):
            finish(cases[futures[f]], f.result())

    results = [cases[n].result for n in wanted]
    skipped = [n for n in wanted if cases[n].result.skipped]
    listed = [n for n in wanted if cases[n].result.known is not None and not cases[n].result.ok]
    passed = sum(1 for r in results if r.ok and not r.skipped)
    failed = sum(1 for r in results if not r.ok and r.known is None)
    say(f"e2e: {time.monotonic() - start:.1f}s" + (f"; skipped: {', '.join(skipped)}" if skipped else "")
        + (f"; known differences: {', '.join(listed)}" if listed else ""))
    say(f"{passed} passed, {failed} failed" + (f", {len(listed)} skipped" if listed else ""))
    return 1 if failed else 0


KNOWN = HERE / "known-differences.txt"


def daemon_name() -> str:
    """The daemon under test as known-differences.txt names it."""
    return os.environ.get("E2E_DAEMON") or f"docker-{daemon_version()}"


def known_differences(daemon: str) -> dict[str, str]:
    """case -> reason, for the lines of known-differences.txt whose daemon prefix matches
    (`<daemon-prefix> <case> <reason>`; the daemon and the frontend sides are named as in
    daemon_name() plus `+reference` when E2E_REFERENCE is set)."""
    if not KNOWN.exists():
        return {}
    out = {}
    for line in KNOWN.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        prefix, case, reason = line.split(None, 2)
        against_reference = prefix.endswith("+reference")
        if daemon.startswith(prefix.removesuffix("+reference")) and against_reference == bool(REFERENCE):
            out[case] = reason
    return out


def report(case: Case) -> None:
    r = case.result
    notes = "".join(f"; {n}" for n in r.notes)
    if r.skipped:
        say(f"skip {case.name}: {r.problems[0]}")
    elif r.ok:
        secs = " ".join(f"{k}={v:.1f}s" for k, v in sorted(r.seconds.items()))
        again = "; listed in known-differences.txt but did not differ" if r.known else ""
        say(f"ok {case.name} ({secs}){notes}{again}")
    elif r.known is not None:
        say(f"known {case.name}: {r.known} [seen: {'; '.join(r.problems[:2])}]")
    else:
        shown = r.problems[:6]
        more = f" (+{len(r.problems) - 6} more in .e2e/{case.name}/problems.txt)" if len(r.problems) > 6 else ""
        say(f"FAIL {case.name}: " + "; ".join(shown) + more)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
