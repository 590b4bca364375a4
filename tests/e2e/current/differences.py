"""What the LLB and convertllb comparisons (llb_compare.py, convertllb_compare.py) share: a case's
build args, their listing of expected differences and the signature of what differs.

A listing line is `<case> <signature> <reason>`. The signature names what is expected to differ,
as the comparison computes it: items joined by `,` (no spaces), `*N` after an item seen N times.
An item is where a differing op differs, `<kind>:<path>` (`source.attrs.local.sharedkeyhint`
when the path starts with the op's kind), or `official-only:<kind>` / `stager-only:<kind>` for an
op with no counterpart, `<kind>:inputs` for identical ops wired differently, or
`build-failed:<side>`. Ops that differ only because an input does are not items: one difference
is named once, where it starts. Nothing build-specific (digests, session IDs) is in a signature,
so it is the same on every run; a listed case that differs in anything its signature does not
name is a new difference.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


def case_args(case: Path) -> list[str]:
    """The `docker build` arguments of a case (its `args` file; `#` starts a comment)."""
    args: list[str] = []
    if (case / "args").exists():
        for line in (case / "args").read_text().splitlines():
            args += shlex.split(line, comments=True)
    return args


@dataclass
class Expected:
    """A listed case: what is expected to differ, and why."""

    signature: Counter
    why: str


def parse_signature(text: str) -> Counter:
    items: Counter = Counter()
    for word in text.split(","):
        item, star, count = word.rpartition("*")
        if star and count.isdigit():
            items[item] += int(count)
        elif word:
            items[word] += 1
    return items


def signature_text(items: Counter) -> str:
    return ",".join(f"{i}*{n}" if n > 1 else i for i, n in sorted(items.items())) or "-"


def read_listing(path: Path) -> dict[str, Expected]:
    """case -> Expected, from a listing file (`<case> <signature> <reason>`; `#` lines are
    comments)."""
    out = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.strip() and not line.startswith("#"):
            name, signature, why = (line.split(None, 2) + ["", ""])[:3]
            out[name] = Expected(parse_signature(signature), why.strip())
    return out


def judge(name: str, observed: Counter, listing: dict[str, Expected], listing_name: str
          ) -> tuple[bool, str]:
    """(known, text): a difference is known when the case is listed and it differs in nothing
    beyond its signature; the text is the reason, or what is new."""
    expected = listing.get(name)
    if expected is None:
        return False, f"differs in {signature_text(observed)}"
    new = observed - expected.signature
    if new:
        return False, (f"differs in {signature_text(new)} beyond what {listing_name} expects "
                       f"({signature_text(expected.signature)}); seen: {signature_text(observed)}")
    gone = expected.signature - observed
    note = f" [expected but not seen: {signature_text(gone)}]" if gone else ""
    return True, expected.why + note


def json_paths(a, b, path: str = "") -> list[str]:
    """The paths where two JSON values differ: maps by key, lists of the same length by index,
    anything else (lists of different lengths included) as a whole."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.append(sub)
            else:
                out += json_paths(a[key], b[key], sub)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in json_paths(x, y, f"{path}[{i}]")]
    return [] if a == b else [path or "."]


@dataclass
class Op:
    """One op of a graph: its kind (exec, source, file, ...), everything compared of it but its
    inputs, and its inputs as (op id, output index)."""

    kind: str
    content: dict
    inputs: list[tuple[str, int]]


def structural(ops: dict[str, Op]) -> dict[str, str]:
    """op id -> hash of its content and of its inputs' hashes."""
    memo: dict[str, str] = {}

    def h(oid: str) -> str:
        if oid not in memo:
            op = ops[oid]
            body = json.dumps([op.content, [(h(i), n) for i, n in op.inputs]], sort_keys=True)
            memo[oid] = hashlib.sha256(body.encode()).hexdigest()
        return memo[oid]

    return {oid: h(oid) for oid in ops}


def graph_signature(official: dict[str, Op], stager: dict[str, Op]) -> Counter:
    """Where two op graphs differ (the module's docstring says how it is written)."""
    ho, hs = structural(official), structural(stager)
    same = set(ho.values()) & set(hs.values())
    diff_o = [oid for oid in official if ho[oid] not in same]
    diff_s = [oid for oid in stager if hs[oid] not in same]
    key = lambda op: json.dumps(op.content, sort_keys=True)  # noqa: E731
    content_o = Counter(key(official[i]) for i in diff_o)
    content_s = Counter(key(stager[i]) for i in diff_s)
    both = content_o & content_s
    items: Counter = Counter()
    # An op whose content has a counterpart differs by its inputs: where all of those are
    # identical on both sides, the wiring itself differs (counted once for the two sides).
    for ops, hashes, diff in ((official, ho, diff_o), (stager, hs, diff_s)):
        wired = Counter(ops[i].kind for i in diff if key(ops[i]) in both
                        and all(hashes[j] in same for j, _ in ops[i].inputs))
        for kind, n in wired.items():
            items[f"{kind}:inputs"] = max(items[f"{kind}:inputs"], n)
    left_o = _without(sorted((official[i] for i in diff_o), key=key), both, key)
    left_s = _without(sorted((stager[i] for i in diff_s), key=key), both, key)
    # Pair what is left by kind, each official op with the stager op it differs least from.
    for op in left_o:
        candidates = [s for s in left_s if s.kind == op.kind]
        if not candidates:
            items[f"official-only:{op.kind}"] += 1
            continue
        best = min(candidates, key=lambda s: len(json_paths(op.content, s.content)))
        left_s.remove(best)
        for path in json_paths(op.content, best.content):
            items[path if path.split(".")[0].split("[")[0] == op.kind else f"{op.kind}:{path}"] += 1
    for op in left_s:
        items[f"stager-only:{op.kind}"] += 1
    return items


def _without(ops: list[Op], matched: Counter, key) -> list[Op]:
    """`ops` less those whose content is in `matched` (as many as it counts)."""
    budget = Counter(matched)
    out = []
    for op in ops:
        if budget[key(op)] > 0:
            budget[key(op)] -= 1
        else:
            out.append(op)
    return out
