"""What BuildKit's progress stream (`--progress=rawjson`: one JSON status per line) says
happened: when each vertex started and completed, by the daemon's clock."""

from __future__ import annotations

import json
import re


def parse_progress(output: str) -> tuple[dict[str, str], dict[str, str]]:
    """From a `--progress=plain` build: vertex number -> name, and number -> CACHED, DONE or
    ERROR (a vertex that printed CACHED stays CACHED)."""
    names: dict[str, str] = {}
    status: dict[str, str] = {}
    for line in output.splitlines():
        m = re.match(r"#(\d+) (.*)$", line)
        if not m:
            continue
        n, rest = m.groups()
        if n not in names:
            names[n] = rest
        elif rest == "CACHED":
            status[n] = "CACHED"
        elif re.match(r"DONE \d", rest) and status.get(n) != "CACHED":
            status[n] = "DONE"
        elif rest.startswith("ERROR"):
            status[n] = "ERROR"
    return names, status


def vertex_times(output: str) -> dict[str, tuple[str, str]]:
    """Vertex name -> (started, completed) from a rawjson progress stream (RFC 3339 UTC times of
    one clock, the daemon's, so they compare as text once their fractions are padded)."""
    times: dict[str, tuple[str, str]] = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        for v in event.get("vertexes") or []:
            if v.get("started") and v.get("completed") and v.get("name"):
                times[v["name"]] = (pad_time(v["started"]), pad_time(v["completed"]))
    return times


def pad_time(t: str) -> str:
    """2026-01-02T03:04:05.1Z -> 2026-01-02T03:04:05.100000000Z (fixed width: text order is time order)."""
    main, _, frac = t.rstrip("Z").partition(".")
    return f"{main}.{frac[:9]:0<9}Z"


def check_parallel(wanted: list[str], side: str, output: str) -> list[str]:
    """The `parallel` vertices ran at the same time: there is an instant inside all of their
    (started, completed) intervals (for intervals on a line, the same as every pair overlapping)."""
    times = vertex_times(output)
    found = {}
    for want in wanted:
        names = [n for n in times if want in n]
        if len(names) != 1:
            return [f"{side}: {len(names)} finished vertices named like {want!r} in the progress stream"]
        found[names[0]] = times[names[0]]
    last_start = max(t[0] for t in found.values())
    first_end = min(t[1] for t in found.values())
    if last_start < first_end:
        return []
    late = next(n for n, t in found.items() if t[0] == last_start)
    early = next(n for n, t in found.items() if t[1] == first_end)
    return [f"{side}: not run at the same time: {early!r} completed at {first_end}, "
            f"before {late!r} started at {last_start}"]
