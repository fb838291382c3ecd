"""What kmemlib's model predicts each shipped module prints, for a given kernel version.

The lines follow the modules' ``pr_info`` formats (``kmemlib/data/modules/*.c``) and carry the
``name: `` prefix the kernel log shows; timestamps are left out, as in ``module/<name>.txt``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..mm import gfp as _gfp
from ..mm.kmalloc import KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, kmalloc_plan, kmalloc_size_roundup
from ..mm.pages import PAGE_SIZE, get_order

KSIZE_PROBE_SIZES = tuple(sorted({0, 1, 8, 9, 16, 17, 32, 33, 64, 65, 96, 97, 100, 128, 129, 192, 193, 256, 257,
                                   512, 513, 1000, 1024, 1025, 2048, 2049, 4096, 4097, 8192, 8193, 16385, 100000,
                                   2097152, 2097153, 4194304, 4194305, 20}
                                  | {100 + k * 204800 for k in range(22)}))
"""``ksize_probe``'s default ``sizes`` (kmemlib/data/modules/ksize_probe.c): the book's sizes, and the
requests of *Linux Kernel Programming*'s ch. 8 ksize() experiments (20 bytes; 100 + k * 204800, k = 0..21)."""


def module_args(args: str) -> dict[str, str]:
    """``"step=262144 start=0"`` -> ``{"step": "262144", "start": "0"}``."""
    return dict(a.split("=", 1) for a in args.split() if "=" in a)


def kmalloc_sweep_lines(step: int = 200 * 1024, start: int = 0) -> list[str]:
    """``kmalloc_sweep``'s log: one line per request until ``kmalloc`` returns NULL (model: past
    ``KMALLOC_MAX_SIZE``; a real kernel can fail earlier when memory runs out)."""
    p = "kmalloc_sweep: "
    out = [f"{p}step={step} start={start} KMALLOC_MAX_CACHE_SIZE={KMALLOC_MAX_CACHE_SIZE} "
           f"KMALLOC_MAX_SIZE={KMALLOC_MAX_SIZE}",
           f"{p}{'i':>4} {'request':>10} {'actual':>10} {'wastage':>10} {'waste%':>8}  path"]
    i, req = 0, start
    while True:
        plan = kmalloc_plan(req, _gfp.GFP_KERNEL)
        if plan.via == "fail":
            out.append(f"{p}{i:>4} {req:>10} {'-':>10} {'-':>10} {'-':>8}  NULL (kmalloc failed)")
            break
        if plan.via == "ZERO_SIZE_PTR":
            out.append(f"{p}{i:>4} {req:>10} {0:>10} {'-':>10} {'-':>8}  ZERO_SIZE_PTR")
        else:
            actual = plan.allocated
            permille = (actual - req) * 1000 // actual
            out.append(f"{p}{i:>4} {req:>10} {actual:>10} {actual - req:>10} {permille // 10:>5}.{permille % 10}%  "
                       f"{'slab' if req <= KMALLOC_MAX_CACHE_SIZE else 'pages'}")
        i, req = i + 1, req + step
    out.append(f"{p}done after {i + 1} calls")
    return out


def ksize_probe_lines(sizes: tuple[int, ...] = KSIZE_PROBE_SIZES, kernel_version: str = "6.18") -> list[str]:
    """``ksize_probe``'s log: request, ``kmalloc_size_roundup()``, ``ksize()`` and where it went."""
    p = "ksize_probe: "
    out = [f"{p}KMALLOC_MAX_CACHE_SIZE={KMALLOC_MAX_CACHE_SIZE} KMALLOC_MAX_SIZE={KMALLOC_MAX_SIZE} "
           f"PAGE_SIZE={PAGE_SIZE}", f"{p}{'request':>10} {'roundup':>10} {'ksize':>10}  result"]
    for req in sizes:
        plan = kmalloc_plan(req, _gfp.GFP_KERNEL)
        roundup = kmalloc_size_roundup(req, kernel_version=kernel_version)
        if plan.via == "fail":
            out.append(f"{p}{req:>10} {roundup:>10} {'-':>10}  NULL")
        elif plan.via == "ZERO_SIZE_PTR":
            out.append(f"{p}{req:>10} {roundup:>10} {0:>10}  ZERO_SIZE_PTR")
        else:
            out.append(f"{p}{req:>10} {roundup:>10} {plan.allocated:>10}  "
                       f"{'slab' if req <= KMALLOC_MAX_CACHE_SIZE else 'pages'}")
    out.append(f"{p}done")
    return out


@dataclass(frozen=True)
class FreeListStep:
    """One step of ``pages_exact_probe``: free blocks per migrate type and order after it."""

    step: str
    zone: str
    pfn: int
    counts: dict[int, list[int]]


def parse_pages_exact(lines: list[str]) -> tuple[int, list[FreeListStep]]:
    """``(size, steps)`` from ``pages_exact_probe``'s log."""
    size = 33 * 1024
    steps: list[FreeListStep] = []
    for ln in lines:
        msg = ln.split(": ", 1)[-1]
        if m := re.match(r"size=(\d+) ", msg):
            size = int(m.group(1))
        elif m := re.fullmatch(r"step (\S+) pfn (\d+) zone (\S+)", msg):
            steps.append(FreeListStep(m.group(1), m.group(3), int(m.group(2)), {}))
        elif (m := re.fullmatch(r"free (\S+) type (\d+)((?: \d+)+)", msg)) and steps:
            steps[-1].counts[int(m.group(2))] = [int(x) for x in m.group(3).split()]
    return size, steps


def pages_exact_model(zone_factory, size: int) -> list[tuple[str, dict[int, list[int]]]]:
    """Replay ``pages_exact_probe`` on a model zone from ``zone_factory()`` (built from the probe's
    ``start`` counts): ``[(step, counts per migrate type)]`` after each step."""
    z = zone_factory()
    order = get_order(size)
    mts = sorted(z_mt for z_mt in range(4))

    def counts() -> dict[int, list[int]]:
        return {mt: list(z.nr_free_type(mt)) for mt in mts}
    out = [("start", counts())]
    pfn = z.alloc_pages(order, _gfp.GFP_KERNEL)
    out.append(("get_free_pages", counts()))
    z.free_pages(pfn, order)
    out.append(("free_pages", counts()))
    pfn = z.alloc_pages_exact(size, _gfp.GFP_KERNEL)
    out.append(("alloc_pages_exact", counts()))
    z.free_pages_exact(pfn, size)
    out.append(("free_pages_exact", counts()))
    return out


__all__ = ["KSIZE_PROBE_SIZES", "module_args", "kmalloc_sweep_lines", "ksize_probe_lines", "FreeListStep",
           "parse_pages_exact", "pages_exact_model"]
