"""Benchmark of kmemlib.mm.page_alloc against a naive list-scan buddy allocator.

Workload (the issue's): a 4 GiB zone (2^20 pages of 4 KiB), 1,000,000 mixed operations, allocations
of orders 0..10 (weighted towards small orders, like real traffic: P(order k) ~ 2^-k/2) and frees of a
random live block, 55 % allocations while anything is live. The trace is generated up front from
``random.Random(seed)`` so only the allocator is timed; event logging is off. Peak memory is
tracemalloc's peak during the run (zone + live-set bookkeeping). Not a test: prints a table.

Usage: python bench/bench_buddy.py [--ops N] [--pages N] [--naive-ops N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from kmemlib.mm.page_alloc import Zone
from kmemlib.mm.gfp import GFP_KERNEL


class NaiveBuddy:
    """Textbook buddy allocator with plain Python lists: list.remove/`in` scans are O(free blocks)."""

    def __init__(self, nr_pages: int, max_order: int = 10) -> None:
        self.max_order = max_order
        self.free = [[] for _ in range(max_order + 1)]
        for start in range(0, nr_pages, 1 << max_order):
            self.free[max_order].append(start)

    def alloc_pages(self, order: int) -> int | None:
        for cur in range(order, self.max_order + 1):
            if self.free[cur]:
                pfn = self.free[cur].pop(0)
                while cur > order:
                    cur -= 1
                    self.free[cur].insert(0, pfn + (1 << cur))
                return pfn
        return None

    def free_pages(self, pfn: int, order: int) -> None:
        while order < self.max_order:
            buddy = pfn ^ (1 << order)
            if buddy not in self.free[order]:
                break
            self.free[order].remove(buddy)
            pfn &= buddy
            order += 1
        self.free[order].insert(0, pfn)


def make_trace(nops: int, seed: int, max_order: int = 10, fill: int = 0) -> list[tuple[float, int, int]]:
    """(coin, order, pick) per operation; interpreted against the live set at run time.

    ``fill`` > 0 starts with that many order-0 allocations (coin 0), so the random frees that
    follow leave many isolated free pages: long free lists (the "fragmented" workload)."""
    rng = random.Random(seed)
    weights = [2.0 ** (-k / 2) for k in range(max_order + 1)]
    orders = rng.choices(range(max_order + 1), weights=weights, k=nops)
    fill = min(fill, nops)
    return [(0.0, 0, 0)] * fill + [(rng.random(), orders[i], rng.getrandbits(30)) for i in range(fill, nops)]


def run(alloc, free, trace, max_seconds: float | None = None) -> tuple[int, int, int]:
    live_pfn: list[int] = []
    live_order: list[int] = []
    nalloc = nfree = nfail = 0
    deadline = None if max_seconds is None else time.perf_counter() + max_seconds
    for n, (coin, order, pick) in enumerate(trace):
        if deadline is not None and n % 1000 == 0 and time.perf_counter() > deadline:
            break
        if live_pfn and coin >= 0.55:
            i = pick % len(live_pfn)
            pfn, o = live_pfn[i], live_order[i]
            live_pfn[i] = live_pfn[-1]
            live_order[i] = live_order[-1]
            live_pfn.pop()
            live_order.pop()
            free(pfn, o)
            nfree += 1
        else:
            pfn = alloc(order)
            if pfn is None:
                nfail += 1
            else:
                live_pfn.append(pfn)
                live_order.append(order)
                nalloc += 1
    return nalloc, nfree, nfail


def measure(name: str, factory, trace, max_seconds: float | None = None) -> dict:
    """Time a run (no tracemalloc), then a second run under tracemalloc for the peak."""
    obj = factory()
    t0 = time.perf_counter()
    nalloc, nfree, nfail = run(obj.alloc_pages, obj.free_pages, trace, max_seconds)
    dt_plain = time.perf_counter() - t0
    done = nalloc + nfree + nfail
    del obj
    tracemalloc.start()
    obj = factory()
    tracemalloc.reset_peak()
    run(obj.alloc_pages, obj.free_pages, trace[:done], None if max_seconds is None else 4 * max_seconds)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"name": name, "ops": done, "s": dt_plain, "ops_s": done / dt_plain,
            "peak": peak, "alloc": nalloc, "free": nfree, "fail": nfail, "of": len(trace)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1 << 20)
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--naive-seconds", type=float, default=20.0,
                    help="wall-clock cap for the naive allocator (it stops early and reports ops done)")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    print(f"zone: {args.pages} pages ({args.pages * 4096 >> 30} GiB at 4 KiB), seed {args.seed}, "
          f"orders 0..10 weighted 2^(-k/2), 55 % allocs; event log off")
    hdr = (f"{'workload':<11} {'allocator':<22} {'ops':>9} {'seconds':>8} {'ops/s':>10} {'peak MiB':>9} "
           f"{'allocs':>8} {'frees':>8} {'failed':>7}")
    print(hdr)
    print("-" * len(hdr))
    verdict = []
    for wname, fill in (("mixed", 0), ("fragmented", args.pages // 2)):
        trace = make_trace(args.ops, args.seed, fill=fill)
        rows = [
            measure("kmemlib.mm.page_alloc.Zone", lambda: _Adapter(Zone(args.pages, log_events=False)), trace),
            measure("naive list-scan", lambda: NaiveBuddy(args.pages), trace, args.naive_seconds),
        ]
        for r in rows:
            ops = f"{r['ops']}" + ("*" if r["ops"] < r["of"] else "")
            print(f"{wname:<11} {r['name']:<22} {ops:>9} {r['s']:>8.3f} {r['ops_s']:>10.0f} "
                  f"{r['peak'] / 2**20:>9.2f} {r['alloc']:>8} {r['free']:>8} {r['fail']:>7}")
        verdict.append((wname, rows[0]["s"]))
    print("\n* stopped at the --naive-seconds cap before the end of the trace")
    print("fragmented = the first pages/2 operations are order-0 allocations, then the mixed trace")
    for wname, secs in verdict:
        print(f"target ({wname}): {args.ops} ops <= 2 s -> {'MET' if secs <= 2.0 else 'NOT MET'} ({secs:.3f} s)")


class _Adapter:
    """Zone with the GFP argument bound, so both allocators share one call shape."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self.free_pages = zone.free_pages
        za = zone.alloc_pages

        def alloc(order: int, _za=za, _g=GFP_KERNEL):
            return _za(order, _g)
        self.alloc_pages = alloc


if __name__ == "__main__":
    main()
