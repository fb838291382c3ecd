"""A deterministic slab workload with call sites, for "top wasters by call site" tables.

Four made-up drivers allocate structs of realistic sizes through :class:`kmemlib.mm.slub.SlubAllocator`
(kmalloc, or a dedicated ``kmem_cache`` per call site in the "what if" variant). Each allocation
carries a caller string in the kernel's ``%pS`` style (``function+offset/size [module]``), so
:meth:`~kmemlib.mm.slub.SlubAllocator.alloc_traces` groups live objects like
``/sys/kernel/debug/slab/<cache>/alloc_traces`` (mm/slub.c, ``slab_debugfs``) would, but over
every cache. All randomness comes from a private ``random.Random(seed)``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterable

from ..errors import InvalidSizeError
from ..mm.slub import DEFAULT_PARAMS, SlubAllocator, SlubParams, Totals, TraceRow


@dataclass(frozen=True)
class CallSite:
    """One allocation site of a fake driver.

    ``size`` is a fixed struct size, or ``(lo, hi, step)`` for a variable size drawn uniformly
    from ``range(lo, hi + 1, step)``; ``weight`` is its share of allocations and ``free_prob``
    the chance that each step also frees one live object of this site (its churn).
    """

    caller: str
    what: str
    size: int | tuple[int, int, int]
    weight: int
    free_prob: float
    cache_name: str = ""

    @property
    def dedicated_cache_name(self) -> str:
        """Name for ``kmem_cache_create`` in the what-if variant."""
        return self.cache_name or self.caller.split("+", 1)[0] + "_cache"

    @property
    def fixed(self) -> bool:
        return isinstance(self.size, int)

    def draw(self, rng: random.Random) -> int:
        if isinstance(self.size, int):
            return self.size
        lo, hi, step = self.size
        return rng.randrange(lo, hi + 1, step)


DEFAULT_SITES: tuple[CallSite, ...] = (
    CallSite("foo_net_rx_refill+0x5c/0x1a0 [foo_net]", "rx buffer (1664 B)", 1664, 30, 0.9, "foo_rx_buf"),
    CallSite("foo_net_alloc_desc+0x21/0x90 [foo_net]", "struct foo_desc", 72, 25, 0.8, "foo_desc"),
    CallSite("barfs_alloc_inode+0x1e/0x80 [barfs]", "struct barfs_inode_info", 1032, 12, 0.15, "barfs_inode_cache"),
    CallSite("barfs_d_alloc_name+0x33/0xb0 [barfs]", "file name (strlen + 1)", (5, 48, 1), 12, 0.15),
    CallSite("baz_usb_submit+0x8f/0x210 [baz_usb]", "struct baz_urb_ctx", 136, 8, 0.9, "baz_urb_ctx"),
    CallSite("baz_usb_alloc_xfer_buf+0x12/0x60 [baz_usb]", "transfer buffer (4096 + 4 B header)", 4100, 3, 0.7, "baz_xfer_buf"),
    CallSite("qux_blk_queue_rq+0x44/0x150 [qux_blk]", "struct qux_cmd", 520, 6, 0.9, "qux_cmd"),
    CallSite("qux_blk_map_sg+0x70/0x1c0 [qux_blk]", "scatterlist array (n x 32 B)", (32, 512, 32), 4, 0.9),
)
"""The default drivers: foo_net (network), barfs (a file system), baz_usb, qux_blk (block)."""


@dataclass
class WorkloadResult:
    """The allocator after the workload, plus counts."""

    allocator: SlubAllocator
    allocs: int
    frees: int
    sites: tuple[CallSite, ...]
    caches: dict[str, str]        # caller -> dedicated cache name (what-if variant)

    def top_wasters(self, top: int | None = 10) -> list[TraceRow]:
        """Live allocations grouped by call site, largest waste (allocated - requested) first."""
        return self.allocator.alloc_traces(top, sort="waste")

    def totals(self) -> Totals:
        return self.allocator.totals()


MAX_WORKLOAD_STEPS = 2_000_000
"""Most steps :func:`run_workload` runs (a few seconds per million)."""


def run_workload(seed: int = 2024, steps: int = 20000, *, sites: Iterable[CallSite] = DEFAULT_SITES,
                 dedicated_caches: Iterable[str] = (), params: SlubParams = DEFAULT_PARAMS) -> WorkloadResult:
    """Run ``steps`` allocation steps: each picks a site by weight and allocates one object, then
    with the site's ``free_prob`` frees one of that site's live objects (a random one).

    Callers listed in ``dedicated_caches`` (fixed-size sites only) allocate from their own
    ``kmem_cache_create(<struct name>, size, 0, 0, NULL)`` instead of kmalloc. The same seed gives
    the same request sequence whatever ``dedicated_caches`` is.
    """
    sites = tuple(sites)
    if not sites:
        raise InvalidSizeError("run_workload needs at least one call site")
    if not isinstance(steps, int) or isinstance(steps, bool) or not 0 <= steps <= MAX_WORKLOAD_STEPS:
        raise InvalidSizeError(f"steps must be an int in 0..{MAX_WORKLOAD_STEPS}, got {steps!r}")
    if not isinstance(dedicated_caches, (list, tuple, set, frozenset)) \
            or not all(isinstance(c, str) for c in dedicated_caches):
        raise InvalidSizeError(f"dedicated_caches must be a list of call-site names, got {dedicated_caches!r}")
    if not all(isinstance(s, CallSite) for s in sites):
        raise InvalidSizeError("sites must be CallSite objects")
    dedicated = set(dedicated_caches)
    known = {s.caller for s in sites}
    if dedicated - known:
        raise InvalidSizeError(f"unknown call sites: {sorted(dedicated - known)}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidSizeError(f"seed must be an int, got {seed!r:.60}")
    if not isinstance(params, SlubParams):
        raise InvalidSizeError(f"params must be a SlubParams, got {params!r:.60}")
    rng = random.Random(seed)
    a = SlubAllocator(params=params)
    caches = {}
    cache_obj = {}
    for s in sites:
        if s.caller in dedicated:
            if not s.fixed:
                raise InvalidSizeError(f"{s.caller}: a dedicated cache needs a fixed size")
            name = s.dedicated_cache_name
            cache_obj[s.caller] = a.kmem_cache_create(name, s.size)  # type: ignore[arg-type]
            caches[s.caller] = cache_obj[s.caller].name
    live: dict[str, list[int]] = {s.caller: [] for s in sites}
    weights = [s.weight for s in sites]
    allocs = frees = 0
    for _ in range(steps):
        site = rng.choices(sites, weights)[0]
        size = site.draw(rng)
        if site.caller in cache_obj:
            addr = a.kmem_cache_alloc(cache_obj[site.caller], caller=site.caller)
        else:
            addr = a.kmalloc(size, caller=site.caller)
        if addr is None:
            break
        live[site.caller].append(addr)
        allocs += 1
        if rng.random() < site.free_prob and live[site.caller]:
            objs = live[site.caller]
            i = rng.randrange(len(objs))
            objs[i], objs[-1] = objs[-1], objs[i]
            a.kfree(objs.pop())
            frees += 1
    return WorkloadResult(a, allocs, frees, sites, caches)


def trace_table(rows: Iterable[TraceRow], sites: Iterable[CallSite] = DEFAULT_SITES) -> list[dict[str, object]]:
    """Rows for display: caller, what, objects, requested, allocated, waste, waste %, caches."""
    if isinstance(rows, (str, bytes)) or not hasattr(rows, "__iter__"):
        raise InvalidSizeError(f"rows must be TraceRow objects (SlubAllocator.alloc_traces()), got {rows!r:.60}")
    rows = list(rows)
    sites = list(sites) if hasattr(sites, "__iter__") and not isinstance(sites, (str, bytes)) else None
    if sites is None or not all(isinstance(s, CallSite) for s in sites) or \
            not all(isinstance(r, TraceRow) for r in rows):
        raise InvalidSizeError("trace_table needs TraceRow rows and CallSite sites")
    what = {s.caller: s.what for s in sites}
    out = []
    for r in rows:
        out.append({"call site": r.caller, "allocates": what.get(r.caller, ""), "objects": r.count,
                    "requested": r.requested, "allocated": r.allocated, "waste": r.waste,
                    "waste %": round(100.0 * r.waste / r.allocated, 1) if r.allocated else 0.0,
                    "cache": ", ".join(r.caches) if len(r.caches) <= 2 else f"{len(r.caches)} caches"})
    return out


__all__ = ["CallSite", "DEFAULT_SITES", "WorkloadResult", "run_workload", "trace_table"]
