"""Benchmark: 1 M kmalloc + 1 M kfree of mixed sizes through kmemlib.mm.slub.SlubAllocator.

Prints a table (operations, seconds, ns per op, slabs, pages) for a few workloads, and the load
average, since the timings are wall-clock. Target on the project machine (issue #3): each 1 M
kmalloc + 1 M kfree workload in <= 3 s. ``--repeat R`` runs each workload R times and reports the
fastest (the allocator is fresh each time, so the work is identical).
Run: .venv/bin/python bench/bench_kmalloc.py [N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import time

from kmemlib.mm.page_alloc import Zone
from kmemlib.mm.gfp import GFP_KERNEL, GFP_KERNEL_ACCOUNT
from kmemlib.mm.slub import SlubAllocator


def sizes_mixed(rng: random.Random, n: int) -> list[int]:
    """Mostly small sizes (like a real kernel), some up to 8 KiB, a few large (page allocator)."""
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.70:
            out.append(rng.randint(1, 256))
        elif r < 0.95:
            out.append(rng.randint(257, 2048))
        elif r < 0.995:
            out.append(rng.randint(2049, 8192))
        else:
            out.append(rng.randint(8193, 65536))
    return out


def run(name: str, n: int, window: int, seed: int = 1) -> tuple:
    rng = random.Random(seed)
    sizes = sizes_mixed(rng, n)
    gfps = [GFP_KERNEL_ACCOUNT if rng.random() < 0.2 else GFP_KERNEL for _ in range(n)]
    a = SlubAllocator(Zone(1 << 20, log_events=False))
    kmalloc, kfree = a.kmalloc, a.kfree
    live: list[int] = []
    t0 = time.perf_counter()
    peak_slabs = 0
    for i in range(n):
        live.append(kmalloc(sizes[i], gfps[i]))
        if len(live) >= window:
            # free a pseudo-random half of the window (keeps slabs partially filled)
            j = (i * 7919) % len(live)
            live[j], live[-1] = live[-1], live[j]
            kfree(live.pop())
    t_alloc = time.perf_counter()
    peak_slabs = a.totals().nr_slabs
    for p in live:
        kfree(p)
    t1 = time.perf_counter()
    tot = a.totals()
    assert tot.objects_inuse == 0 and tot.large_allocs == 0
    ops = 2 * n
    return (name, n, ops, t1 - t0, (t1 - t0) / ops * 1e9, peak_slabs, tot.nr_slabs)


def main() -> None:
    ap = argparse.ArgumentParser(description="1 M kmalloc/kfree of mixed sizes through SlubAllocator")
    ap.add_argument("n", nargs="?", type=int, default=1_000_000, help="kmallocs per workload")
    ap.add_argument("--repeat", type=int, default=1, help="runs per workload; the fastest is reported")
    args = ap.parse_args()
    n, repeat = args.n, max(1, args.repeat)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = [min((run(name, n, window) for _ in range(repeat)), key=lambda r: r[3])
            for name, window in (("mixed, window 1", 1), ("mixed, window 1000", 1000),
                                 ("mixed, window 100000", 100_000))]
    print(f"{'workload':<24} {'kmallocs':>9} {'ops':>9} {'seconds':>8} {'ns/op':>7} {'slabs@peak':>10} {'slabs end':>9}")
    for name, k, ops, sec, ns, peak, end in rows:
        print(f"{name:<24} {k:>9} {ops:>9} {sec:>8.2f} {ns:>7.0f} {peak:>10} {end:>9}")
    print("target: each 1M kmalloc + 1M kfree workload <= 3 s" + (f" (best of {repeat})" if repeat > 1 else ""))
    if load_before is not None:
        print("load average (1/5/15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
            *load_before, *os.getloadavg()))


if __name__ == "__main__":
    main()
