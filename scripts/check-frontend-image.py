#!/usr/bin/env python3
"""Check that the frontend image holds one static binary and nothing else (`make e2e-image`).

    scripts/check-frontend-image.py [IMAGE]     (default: $E2E_IMAGE, else myorg/frontend)

From `docker save IMAGE`, every member of every layer tar is listed (not the applied tree, so a
file a later layer deletes still counts): there must be exactly one regular file, at the path
the config's Entrypoint names, and besides it only the directories leading to it (no links,
devices or whiteouts). The binary must be a static ELF executable: no PT_INTERP program header
(no dynamic loader) and, when it has a PT_DYNAMIC segment (static-pie), no DT_NEEDED entry (no
shared library). The ELF check is first run on a dynamically linked host program, which it must
reject, so that a check that cannot fail is noticed.

Exit status 0 when the image passes, 1 when it does not, 2 when it cannot be read.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import struct
import subprocess
import sys
import tarfile

DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")

PT_DYNAMIC, PT_INTERP = 2, 3
DT_NULL, DT_NEEDED = 0, 1


def elf_problems(data: bytes) -> list[str]:
    """Why `data` is not a static 64-bit little-endian ELF executable (empty when it is)."""
    if data[:4] != b"\x7fELF":
        return ["not an ELF file"]
    if data[4] != 2 or data[5] != 1:
        return ["not a 64-bit little-endian ELF file"]
    e_type, = struct.unpack_from("<H", data, 16)
    if e_type not in (2, 3):  # ET_EXEC, ET_DYN (static-pie)
        return [f"ELF type {e_type} is not an executable"]
    e_phoff, = struct.unpack_from("<Q", data, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    problems = []
    for k in range(e_phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, e_phoff + k * e_phentsize)
        if p_type == PT_INTERP:
            interp = data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode("utf-8", "replace")
            problems.append(f"has an ELF interpreter (PT_INTERP {interp})")
        elif p_type == PT_DYNAMIC:
            needed = 0
            for off in range(p_offset, p_offset + p_filesz - 15, 16):
                tag, _ = struct.unpack_from("<qQ", data, off)
                if tag == DT_NULL:
                    break
                needed += tag == DT_NEEDED
            if needed:
                problems.append(f"needs {needed} shared libraries (DT_NEEDED)")
    return problems


def self_test() -> str | None:
    """The ELF check must reject a dynamically linked program; None when it does."""
    for candidate in (sys.executable, "/bin/ls", "/usr/bin/env"):
        try:
            with open(candidate, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if not any("PT_INTERP" in p for p in elf_problems(data)):
            continue
        return None
    return "no dynamically linked host program was rejected by the ELF check"


def main(argv: list[str]) -> int:
    image = argv[0] if argv else os.environ.get("E2E_IMAGE", "myorg/frontend")
    err = self_test()
    if err:
        print(f"FAIL check-frontend-image self-test: {err}")
        return 1
    try:
        saved = subprocess.run([DOCKER, "save", image], check=True, stdout=subprocess.PIPE).stdout
        inspect = json.loads(subprocess.run([DOCKER, "image", "inspect", image], check=True,
                                            stdout=subprocess.PIPE).stdout)[0]
    except (subprocess.CalledProcessError, OSError) as e:
        print(f"check-frontend-image: cannot read {image}: {e}", file=sys.stderr)
        return 2
    entrypoint = (inspect.get("Config") or {}).get("Entrypoint") or []
    problems = []
    if len(entrypoint) != 1 or not entrypoint[0].startswith("/"):
        problems.append(f"Entrypoint {entrypoint} is not one absolute path")
    binary = posixpath.normpath(entrypoint[0]) if entrypoint else ""
    parents = set()
    p = posixpath.dirname(binary)
    while p not in ("/", ""):
        parents.add(p)
        p = posixpath.dirname(p)

    outer = tarfile.open(fileobj=io.BytesIO(saved))
    layers = json.load(outer.extractfile("manifest.json"))[0]["Layers"]
    files: list[tuple[str, bytes]] = []
    for layer in layers:
        tar = tarfile.open(fileobj=io.BytesIO(outer.extractfile(layer).read()))
        for m in tar.getmembers():
            path = posixpath.normpath("/" + m.name)
            if m.isdir() and (path == "/" or path in parents):
                continue
            if m.isreg():
                files.append((path, tar.extractfile(m).read()))
            else:
                kind = "directory" if m.isdir() else "link" if (m.issym() or m.islnk()) else "entry"
                problems.append(f"{layer}: unexpected {kind} {path}")
    if [p for p, _ in files] != [binary]:
        problems.append(f"regular files {[p for p, _ in files]}, want only [{binary!r}]")
    for path, data in files:
        problems += [f"{path}: {p}" for p in elf_problems(data)]

    if problems:
        for p in problems[:10]:
            print(f"FAIL {image}: {p}")
        if len(problems) > 10:
            print(f"FAIL {image}: ... {len(problems) - 10} more")
        return 1
    size = len(files[0][1])
    print(f"ok {image}: {len(layers)} layer(s), one file {binary} ({size / 1e6:.1f} MB), "
          f"static ELF (no interpreter, no shared libraries)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
