#!/usr/bin/env python3
"""Print the files an image holds (all layers applied, whiteouts included), like `ls -l`.

    scripts/image-files.py IMAGE

Uses `docker save`, so it works for FROM scratch images without a shell and shows no entries
that `docker create`/`docker export` would add (/.dockerenv, /etc/hosts, /dev, ...).
"""
import os
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
import run  # noqa: E402  (the e2e harness: image_tree)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    tree = run.image_tree(sys.argv[1])
    for path in sorted(tree):
        kind, mode, uid, gid, detail = tree[path]
        size = ""
        if kind == "file":
            size = detail.split("size:")[1]
        elif kind == "symlink":
            size = detail
        print(f"{kind[0] if kind != 'symlink' else 'l'} {mode:04o} {uid:>5}:{gid:<5} {path} {size}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
