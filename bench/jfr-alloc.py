#!/usr/bin/env python3
"""Heap allocation per thread from a JFR recording (jdk.ThreadAllocationStatistics, and the
jdk.ObjectAllocationSample events for where it happens), as `jfr print --json` writes them.

usage: jfr-alloc.py STATS_JSON SAMPLES_JSON THREAD_PREFIX...
Prints, per thread whose name starts with one of the prefixes: bytes per second over the
recording (first to last statistics sample), then the top allocation sites of those threads.
"""
import json
import sys
from collections import defaultdict
from datetime import datetime


def events(path):
    with open(path) as f:
        return json.load(f)["recording"]["events"]


def when(value):
    # 2026-11-30T04:58:01.123456789Z: keep microseconds
    head, _, frac = value.rstrip("Z").partition(".")
    t = datetime.fromisoformat(head).timestamp()
    return t + float("0." + frac) if frac else t


def main():
    stats, samples, prefixes = sys.argv[1], sys.argv[2], sys.argv[3:]
    series = defaultdict(list)
    for e in events(stats):
        v = e["values"]
        name = (v.get("thread") or {}).get("javaName") or ""
        if any(name.startswith(p) for p in prefixes):
            series[name].append((when(v["startTime"]), int(v["allocated"])))
    for name in sorted(series):
        pts = sorted(series[name])
        if len(pts) < 2:
            print(f"thread {name}: too few samples")
            continue
        (t0, a0), (t1, a1) = pts[0], pts[-1]
        print(f"thread {name}: {(a1 - a0) / (t1 - t0):.0f} bytes/s over {t1 - t0:.1f} s")
    sites = defaultdict(int)
    for e in events(samples):
        v = e["values"]
        name = (v.get("eventThread") or {}).get("javaName") or ""
        if not any(name.startswith(p) for p in prefixes):
            continue
        frames = (v.get("stackTrace") or {}).get("frames") or []
        where = " < ".join(f'{f["method"]["type"]["name"].split(".")[-1]}.{f["method"]["name"]}'
                           for f in frames[:3]) or "?"
        cls = (v.get("objectClass") or {}).get("name", "?")
        sites[(name.split("-")[1] if "-" in name else name, cls, where)] += int(v.get("weight", 0))
    for (thread, cls, where), w in sorted(sites.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  site {thread}: {w:>10} B  {cls}  at {where}")


main()
