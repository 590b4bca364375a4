#!/usr/bin/env python3
"""Summarise the criterion results of benches/convert.rs, optionally as SVG plots, and put the
official converter beside them.

Reads target/criterion/<group>/<id>/<baseline>/estimates.json (criterion's `new` by default)
and prints one line per benchmark: median time, Dockerfile lines, time per line. With
`--before NAME` a second column shows a saved baseline (`cargo bench -- --save-baseline NAME`)
and the speed-up. With `--svg FILE` it also draws conversion time against Dockerfile size
(log-log; real-world files as dots, the synthetic series as lines), with `--shapes-svg FILE`
the time per line of every shape against its size (flat is linear); no dependencies.

With `--reference DIR` (the BuildKit reference tools, `../shared/tools/buildkit`) it unpacks
`refd2l` (the official dockerfile2llb 1.26, offline) into target/buildkit-ref, runs
`refd2l --time N` on the very files the benchmark converted (target/bench-inputs) and prints
how many times faster stager is on each. Without that folder it says loudly that it skipped.

  python3 scripts/bench-report.py [--before NAME] [--after NAME] [--svg FILE]
                                  [--shapes-svg FILE] [--reference DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CRITERION = REPO / "target" / "criterion"
INPUTS = REPO / "target" / "bench-inputs"
REAL_WORLD_DIRS = [REPO / "tests" / "conformance" / "parser", REPO / "examples"]


def median_ns(group: str, ident: str, baseline: str) -> float | None:
    path = CRITERION / group / ident / baseline / "estimates.json"
    try:
        return json.loads(path.read_text())["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def lines_of(group: str, ident: str) -> int | None:
    """Dockerfile lines of one benchmark input (the generators of benches/convert.rs)."""
    kept = INPUTS / group / f"{ident}.Dockerfile"
    if kept.exists():
        return len(kept.read_bytes().splitlines())
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


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


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
    if group.startswith("shape-"):
        return (len(order), group, int(ident) if ident.isdigit() else 0)
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


def shapes_svg(after: dict, path: Path, title: str) -> None:
    """Time per line of every shape against its size (log x, linear y from 0): flat is linear."""
    w, h, left, right, top, bottom = 680, 400, 70, 150, 40, 50
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf"]
    groups = sorted({g for g, _ in after if g.startswith("shape-")})
    series = []
    for n, group in enumerate(groups):
        pts = sorted((lines_of(g, i), ns / lines_of(g, i)) for (g, i), ns in after.items()
                     if g == group and lines_of(g, i))
        series.append((group.removeprefix("shape-"), colours[n % len(colours)], pts))
    allpts = [p for s in series for p in s[2]]
    if not allpts:
        raise SystemExit("no shape results to plot")
    x0 = math.floor(math.log10(min(x for x, _ in allpts) * 1.01))
    x1 = math.ceil(math.log10(max(x for x, _ in allpts)))
    ymax = max(y for _, y in allpts) * 1.1
    pw, ph = w - left - right, h - top - bottom

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / max(x1 - x0, 1) * pw

    def py(y: float) -> float:
        return top + ph - y / ymax * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14">{title}</text>']
    for e in range(x0, x1 + 1):
        x = px(10**e)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{10**e:,}</text>')
    step = 10 ** math.floor(math.log10(ymax / 2))
    tick = 0.0
    while tick <= ymax:
        y = py(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt_time(tick) if tick else "0"}</text>')
        tick += step * (2 if ymax / step > 10 else 1)
    out.append(f'<text x="{left + pw / 2}" y="{h - 10}" text-anchor="middle">'
               'Dockerfile lines</text>')
    out.append(f'<text x="16" y="{top + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + ph / 2})">median time per line</text>')
    for n, (label, colour, pts) in enumerate(series):
        d = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}"/>')
        ly, lx = top + 10 + n * 18, left + pw + 12
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 20}" y2="{ly}" stroke="{colour}" '
                   'stroke-width="2"/>')
        out.append(f'<text x="{lx + 26}" y="{ly + 4}">{label}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def growth(after: dict) -> None:
    """Per shape: time per line at the smallest and the largest size, and their ratio."""
    groups = sorted({g for g, _ in after if g.startswith("shape-")})
    if not groups:
        return
    print("\nper line, smallest -> largest size (1.0x is linear; quadratic would be 40x)")
    for group in groups:
        pts = sorted((lines_of(g, i), ns) for (g, i), ns in after.items() if g == group)
        pts = [(n, ns) for n, ns in pts if n]
        if len(pts) < 2:
            continue
        (n0, t0), (n1, t1) = pts[0], pts[-1]
        print(f"  {group.removeprefix('shape-'):<10} {fmt_time(t0 / n0):>9} at {n0:>6,} -> "
              f"{fmt_time(t1 / n1):>9} at {n1:>6,}: {(t1 / n1) / (t0 / n0):.2f}x")


def headline(after: dict) -> None:
    """The figure issue 16 sets a target for: 10,000 RUN lines converted in-process."""
    ns = after.get(("shape-run", "10000"))
    if ns is not None:
        print(f"\n10,000 RUN lines in-process (criterion shape-run/10000: parse, plan, convert and "
              f"encode the Definition with its source info): {fmt_time(ns)} (target < 20 ms)")


def refd2l_median_ns(refd2l: Path, dockerfile: Path, runs: int, timeout: float) -> float | None:
    """refd2l's own median of `runs` conversions in one process, in ns; None when it fails."""
    try:
        proc = subprocess.run([str(refd2l), "--time", str(runs), str(dockerfile)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    words = proc.stderr.split()
    if proc.returncode != 0 or "median_us" not in words:
        return None
    return float(words[words.index("median_us") + 1]) * 1e3


def reference(after: dict, tools: Path, budget: float) -> None:
    """Side by side with the official converter, on the files criterion measured."""
    if not (tools / "install.sh").exists():
        print(f"\n*** SKIPPED: the side-by-side with the official converter needs refd2l from "
              f"{tools} (the BuildKit reference tools), which is not there. ***")
        return
    dest = REPO / "target" / "buildkit-ref"
    subprocess.run(["bash", str(tools / "install.sh"), str(dest)], check=True,
                   stdout=subprocess.DEVNULL)
    refd2l = dest / "refd2l"
    print(f"\nstager against the official dockerfile2llb 1.26 (refd2l --time N, in-process "
          f"medians; budget {budget:g} s a file, larger sizes of a series skipped after one "
          "exceeds it)")
    print(f"  {'benchmark':<28} {'lines':>6} {'stager':>9} {'official':>9} {'stager faster':>13}")
    ratios: dict[str, list[float]] = {}
    given_up: set[str] = set()
    for (g, i) in sorted(after, key=sort_key):
        if g == "phases":
            continue
        f = INPUTS / g / f"{i}.Dockerfile"
        if not f.exists():
            continue
        name = f"{g}/{i}"
        if g in given_up:
            print(f"  {name:<28} {lines_of(g, i):>6} {fmt_time(after[(g, i)]):>9} "
                  f"{'skipped':>9}  (a smaller size exceeded the budget)")
            continue
        start = time.monotonic()
        once = refd2l_median_ns(refd2l, f, 1, budget)
        if once is None:
            took = time.monotonic() - start
            why = "exceeded the budget" if took >= budget else "refd2l failed"
            print(f"  {name:<28} {lines_of(g, i):>6} {fmt_time(after[(g, i)]):>9} {'-':>9}  ({why})")
            if took >= budget and g != "real-world":
                given_up.add(g)
            continue
        runs = max(3, min(20, int(budget / 2 / max(once / 1e9, 1e-6))))
        ref = refd2l_median_ns(refd2l, f, runs, budget * 2) or once
        ratio = ref / after[(g, i)]
        ratios.setdefault("real-world" if g == "real-world" else "synthetic", []).append(ratio)
        print(f"  {name:<28} {lines_of(g, i):>6} {fmt_time(after[(g, i)]):>9} {fmt_time(ref):>9} "
              f"{ratio:>12.1f}x")
        if ref / 1e9 * runs > budget and g != "real-world":
            given_up.add(g)
    if ratios.get("real-world"):
        med = statistics.median(ratios["real-world"])
        print(f"  median over the real-world files: stager {med:.1f}x faster (goal: 20x)")
    if ratios.get("synthetic"):
        slowest = min(ratios["synthetic"])
        print(f"  synthetic files: stager faster on {sum(r > 1 for r in ratios['synthetic'])} of "
              f"{len(ratios['synthetic'])} (least: {slowest:.1f}x)")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--after", default="new", help="criterion baseline to report (new)")
    ap.add_argument("--before", help="a saved baseline to compare with")
    ap.add_argument("--svg", type=Path, help="write the plot here")
    ap.add_argument("--shapes-svg", type=Path, help="write the per-line plot of the shapes here")
    ap.add_argument("--reference", type=Path,
                    help="the BuildKit reference tools folder (for refd2l)")
    ap.add_argument("--budget", type=float, default=20.0,
                    help="seconds refd2l may take on one file (default 20)")
    ap.add_argument("--title", default="stager: conversion time against Dockerfile size")
    args = ap.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}, {cpu_model()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    after = collect(args.after)
    before = collect(args.before) if args.before else {}
    if not after:
        raise SystemExit(f"no criterion results under {CRITERION} (run `cargo bench` first)")
    table(after, before)
    growth(after)
    headline(after)
    if args.svg:
        svg(after, before, args.svg, args.title)
    if args.shapes_svg:
        shapes_svg(after, args.shapes_svg, "stager: time per line of each shape (flat = linear)")
    if args.reference:
        reference(after, args.reference, args.budget)


if __name__ == "__main__":
    main()
