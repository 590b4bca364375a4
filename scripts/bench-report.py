#!/usr/bin/env python3
"""Summarise the criterion results of benches/convert.rs, optionally as an SVG plot.

Reads target/criterion/<group>/<id>/<baseline>/estimates.json (criterion's `new` by default)
and prints one line per benchmark: median time, Dockerfile lines, time per line. With
`--before NAME` a second column shows a saved baseline (`cargo bench -- --save-baseline NAME`)
and the speed-up. With `--svg FILE` it also draws conversion time against Dockerfile size
(log-log; real-world files as dots, the synthetic series as lines), with no dependencies.

  python3 scripts/bench-report.py [--before NAME] [--after NAME] [--svg FILE]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CRITERION = REPO / "target" / "criterion"
REAL_WORLD_DIRS = [REPO / "tests" / "conformance" / "parser", REPO / "examples"]


def median_ns(group: str, ident: str, baseline: str) -> float | None:
    path = CRITERION / group / ident / baseline / "estimates.json"
    try:
        return json.loads(path.read_text())["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def lines_of(group: str, ident: str) -> int | None:
    """Dockerfile lines of one benchmark input (the generators of benches/convert.rs)."""
    if group == "instructions":
        return int(ident) + 2
    if group == "stages":
        return 3 * int(ident) - 1
    if group == "real-world":
        for d in REAL_WORLD_DIRS:
            f = d / ident / "Dockerfile"
            if f.exists():
                return len(f.read_bytes().splitlines())
    if group == "phases":
        return 102
    return None


def fmt_time(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def collect(baseline: str) -> dict[tuple[str, str], float]:
    out = {}
    if not CRITERION.is_dir():
        return out
    for group in sorted(p.name for p in CRITERION.iterdir() if p.is_dir()):
        if group == "report":
            continue
        for ident in sorted(p.name for p in (CRITERION / group).iterdir() if p.is_dir()):
            ns = median_ns(group, ident, baseline)
            if ns is not None:
                out[(group, ident)] = ns
    return out


def sort_key(item: tuple[str, str]) -> tuple:
    group, ident = item
    order = ["real-world", "phases", "instructions", "stages"]
    g = order.index(group) if group in order else len(order)
    return (g, int(ident) if ident.isdigit() else 0, ident)


def table(after: dict, before: dict) -> None:
    keys = sorted(after, key=sort_key)
    width = max((len(f"{g}/{i}") for g, i in keys), default=10)
    head = f"{'benchmark':<{width}}  {'lines':>6}  {'median':>9}  {'per line':>9}"
    if before:
        head += f"  {'before':>9}  {'speed-up':>8}"
    print(head)
    for g, i in keys:
        ns = after[(g, i)]
        lines = lines_of(g, i)
        per = fmt_time(ns / lines) if lines else ""
        line = f"{g + '/' + i:<{width}}  {lines or '':>6}  {fmt_time(ns):>9}  {per:>9}"
        if before and (g, i) in before:
            line += f"  {fmt_time(before[(g, i)]):>9}  {before[(g, i)] / ns:>7.2f}x"
        print(line)


def svg(after: dict, before: dict, path: Path, title: str) -> None:
    """A log-log plot: x Dockerfile lines, y median conversion time."""
    w, h, left, right, top, bottom = 640, 400, 70, 160, 40, 50
    series = []  # (label, colour, points, as line, dashed)
    real = [(lines_of(g, i), ns) for (g, i), ns in after.items() if g == "real-world"]
    series.append(("real-world files", "#1f77b4", sorted(real), False, False))
    for group, colour, label in (("instructions", "#d62728", "N instructions"),
                                 ("stages", "#2ca02c", "N stages")):
        pts = sorted((lines_of(g, i), ns) for (g, i), ns in after.items() if g == group)
        series.append((label, colour, pts, True, False))
        old = sorted((lines_of(g, i), ns) for (g, i), ns in before.items() if g == group)
        if old:
            series.append((label + " (before)", colour, old, True, True))
    allpts = [p for s in series for p in s[2] if p[0]]
    if not allpts:
        raise SystemExit("no criterion results to plot")
    xs = [math.log10(x) for x, _ in allpts]
    ys = [math.log10(y) for _, y in allpts]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
    y0, y1 = math.floor(min(ys)), math.ceil(max(ys))
    pw, ph = w - left - right, h - top - bottom

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / max(x1 - x0, 1) * pw

    def py(y: float) -> float:
        return top + ph - (math.log10(y) - y0) / max(y1 - y0, 1) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14">{title}</text>']
    for e in range(x0, x1 + 1):
        x = px(10**e)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{10**e:,}</text>')
    for e in range(y0, y1 + 1):
        y = py(10**e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{fmt_time(10**e)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 10}" text-anchor="middle">'
               'Dockerfile lines</text>')
    out.append(f'<text x="16" y="{top + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + ph / 2})">median conversion time</text>')
    for n, (label, colour, pts, as_line, dashed) in enumerate(series):
        pts = [(x, y) for x, y in pts if x]
        if as_line and len(pts) > 1:
            d = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
            dash = ' stroke-dasharray="5,4"' if dashed else ""
            out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" '
                       f'stroke-width="2"{dash}/>')
        for x, y in pts:
            r = 3 if not as_line else 2.5
            fill = "white" if dashed else colour
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="{r}" fill="{fill}" '
                       f'stroke="{colour}"/>')
        ly = top + 10 + n * 18
        lx = left + pw + 12
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        if as_line:
            out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 20}" y2="{ly}" stroke="{colour}" '
                       f'stroke-width="2"{dash}/>')
        else:
            out.append(f'<circle cx="{lx + 10}" cy="{ly}" r="3" fill="{colour}"/>')
        out.append(f'<text x="{lx + 26}" y="{ly + 4}">{label}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--after", default="new", help="criterion baseline to report (new)")
    ap.add_argument("--before", help="a saved baseline to compare with")
    ap.add_argument("--svg", type=Path, help="write the plot here")
    ap.add_argument("--title", default="stager: conversion time against Dockerfile size")
    args = ap.parse_args()
    after = collect(args.after)
    before = collect(args.before) if args.before else {}
    if not after:
        raise SystemExit(f"no criterion results under {CRITERION} (run `cargo bench` first)")
    table(after, before)
    if args.svg:
        svg(after, before, args.svg, args.title)


if __name__ == "__main__":
    main()
