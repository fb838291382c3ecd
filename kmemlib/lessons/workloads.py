"""Deterministic workloads that drive a :class:`kmemlib.mm.page_alloc.Zone` into interesting states.

:func:`fragmenting_workload` is the external-fragmentation experiment of Part I: fill a fresh zone
with a mix of long- and short-lived allocations, then free most of them in random order. Plenty of
memory ends up free, but in small scattered pieces, so a high-order request cannot be served.

Everything random comes from a private ``random.Random(seed)``: the same arguments always give the
same zone, on every machine.

The module also has the helpers the chapter needs around it: a per-page map of a zone
(:func:`page_map`), the /proc/buddyinfo row a page map would give once every free page has
coalesced (:func:`nr_free_from_page_map`) and :func:`compaction_sketch`, a deliberately simple
*illustration* of what memory compaction (``mm/compaction.c``) achieves. The sketch is not the
kernel's algorithm; see its docstring for what it leaves out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..errors import InvalidOrderError, InvalidSizeError
from ..mm.argcheck import check_int, show
from ..mm import gfp as _gfp
from ..mm import vmstat as _frag
from ..mm import watermarks as _wm
from ..mm.page_alloc import MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, Zone

PAGE_FREE = 0
"""Page-map value of a page inside a free buddy block."""
PAGE_MOVABLE = 1
"""Page-map value of a page of a live MIGRATE_MOVABLE allocation (e.g. a user page)."""
PAGE_UNMOVABLE = 2
"""Page-map value of a page of a live MIGRATE_UNMOVABLE allocation (e.g. a kernel buffer)."""
PAGE_RECLAIMABLE = 3
"""Page-map value of a page of a live MIGRATE_RECLAIMABLE allocation."""
PAGE_STATE_NAMES = ("free", "movable", "unmovable", "reclaimable")
_MT_TO_STATE = {MIGRATE_MOVABLE: PAGE_MOVABLE, MIGRATE_UNMOVABLE: PAGE_UNMOVABLE,
                MIGRATE_RECLAIMABLE: PAGE_RECLAIMABLE}


@dataclass
class WorkloadRun:
    """What :func:`fragmenting_workload` did and the zone it left behind."""

    zone: Zone
    """The zone after the workload (its watermarks set from ``min_free_kbytes``)."""
    min_free_kbytes: int
    """``calculate_min_free_kbytes()`` of the zone's memory, used for its watermarks."""
    nr_free_before: list[int]
    """/proc/buddyinfo row of the fresh zone."""
    nr_free_filled: list[int]
    """/proc/buddyinfo row when the zone was filled, before the frees."""
    nr_free_after: list[int]
    """/proc/buddyinfo row after the workload."""
    kept: list[tuple[int, int, int]]
    """Live allocations ``(pfn, order, migratetype)`` at the end, sorted by PFN."""
    nr_allocs: int
    """Allocation calls made while filling."""
    nr_frees: int
    """Blocks freed again."""
    params: dict = field(default_factory=dict)

    @property
    def free_pages(self) -> int:
        """Free pages at the end."""
        return self.zone.free_pages_count()

    @property
    def largest_free_order(self) -> int:
        """Highest order with a free block at the end (-1 if nothing is free)."""
        row = self.nr_free_after
        return max((o for o, c in enumerate(row) if c), default=-1)


def _check_fraction(name: str, v: object, lo: float = 0.0, hi: float = 1.0) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise InvalidSizeError(f"{name} must be a number in [{lo}, {hi}], got {v!r}")
    return float(v)


MAX_WORKLOAD_PAGES = 1 << 20
"""Largest zone :func:`fragmenting_workload` fills (4 GiB of 4 KiB pages: about a million allocations, a few
seconds); larger runs would only take longer without showing anything new."""


def fragmenting_workload(nr_pages: int = 8192, *, seed: int = 1, fill: float = 1.0,
                         keep: float = 0.3, unmovable_share: float = 0.1,
                         max_unmovable_order: int = 2, log_events: bool = False) -> WorkloadRun:
    """Fill a fresh zone, then free most allocations in random order (deterministic for a seed).

    1. A fresh ``Zone(nr_pages)`` gets watermarks from ``calculate_min_free_kbytes`` of its size
       (``__setup_per_zone_wmarks``).
    2. Fill: until only ``1 - fill`` of the pages are free, allocate either an order-0 movable page
       (``GFP_HIGHUSER_MOVABLE``, like a user page) or, with probability ``unmovable_share``, an
       unmovable kernel block (``GFP_KERNEL``) of order 0..``max_unmovable_order``.
    3. Free: visit the allocations in a random order and free each one unless a coin with
       probability ``keep`` says it is long-lived.

    ``fill``, ``keep`` and ``unmovable_share`` are fractions in [0, 1]. Randomness comes only from
    ``random.Random(seed)``. Allocation never fails while filling (the zone is fresh and
    ``fill`` <= 1), so every call is accounted for in the result.
    """
    for pname, value in (("nr_pages", nr_pages), ("seed", seed), ("max_unmovable_order", max_unmovable_order)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidSizeError(f"{pname} must be an int, got {value!r}")
    if nr_pages < 1:
        raise InvalidSizeError(f"nr_pages must be >= 1, got {nr_pages}")
    if nr_pages > MAX_WORKLOAD_PAGES:
        raise InvalidSizeError(f"nr_pages={nr_pages} is more than this workload handles ({MAX_WORKLOAD_PAGES} pages, "
                               f"4 GiB of 4 KiB pages, fills in a few seconds); the fragmentation looks the same "
                               "in a smaller zone")
    if not isinstance(log_events, bool):
        raise InvalidSizeError(f"log_events must be True or False, got {log_events!r}")
    fill = _check_fraction("fill", fill)
    keep = _check_fraction("keep", keep)
    unmovable_share = _check_fraction("unmovable_share", unmovable_share)
    if not 0 <= max_unmovable_order <= 10:
        raise InvalidOrderError(f"max_unmovable_order must be in 0..10, got {max_unmovable_order}")
    rng = random.Random(seed)
    zone = Zone(nr_pages, log_events=False)
    min_free_kbytes = _wm.calculate_min_free_kbytes(nr_pages << (zone.page_shift - 10))
    _wm.setup_per_zone_wmarks([zone], min_free_kbytes)
    before = zone.nr_free()
    target_free = nr_pages - int(fill * nr_pages)
    allocs: list[tuple[int, int, int]] = []
    while zone.free_pages_count() > target_free:
        if rng.random() < unmovable_share:
            order, gfp = rng.randint(0, max_unmovable_order), _gfp.GFP_KERNEL
        else:
            order, gfp = 0, _gfp.GFP_HIGHUSER_MOVABLE
        if (1 << order) > zone.free_pages_count() - target_free:
            order = 0
        pfn = zone.alloc_pages(order, gfp)
        if pfn is None:          # only possible when no block of this order is left: stop filling
            break
        allocs.append((pfn, order, _gfp.gfp_migratetype(gfp)))
    filled = zone.nr_free()
    rng.shuffle(allocs)
    kept, nr_frees = [], 0
    for pfn, order, mt in allocs:
        if rng.random() < keep:
            kept.append((pfn, order, mt))
        else:
            zone.free_pages(pfn, order)
            nr_frees += 1
    zone.log_events = log_events
    params = {"nr_pages": nr_pages, "seed": seed, "fill": fill, "keep": keep,
              "unmovable_share": unmovable_share, "max_unmovable_order": max_unmovable_order}
    return WorkloadRun(zone, min_free_kbytes, before, filled, zone.nr_free(), sorted(kept),
                       len(allocs), nr_frees, params)


@dataclass(frozen=True)
class WorkloadSummary:
    """The numbers the fragmentation chapter reads off a zone for one request order."""

    order: int
    free_pages: int
    nr_pages: int
    largest_free_order: int
    wmark_low: int
    order0_ok: bool
    """``zone_watermark_ok(zone, 0, low_wmark_pages(zone))``."""
    order_ok: bool
    """``zone_watermark_ok(zone, order, low_wmark_pages(zone))``."""
    unusable_index: int
    """``unusable_free_index(order)``, 0..1000."""
    fragmentation_index: int
    """``fragmentation_index(zone, order)``: -1000, or 0..1000."""

    @property
    def free_percent(self) -> float:
        """Free pages as a percentage of the zone."""
        return 100.0 * self.free_pages / self.nr_pages


def _check_zone(zone: object) -> None:
    if not isinstance(zone, Zone):
        raise InvalidSizeError(f"expected a Zone, got {show(zone)}")


def summarize(zone: Zone, order: int) -> WorkloadSummary:
    """Free memory, the LOW-watermark check for order 0 and ``order``, and both indices at ``order``."""
    _check_zone(zone)
    if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= zone.max_page_order:
        raise InvalidOrderError(f"order {order!r} outside 0..{zone.max_page_order}")
    row = zone.nr_free()
    return WorkloadSummary(
        order=order, free_pages=zone.free_pages_count(), nr_pages=zone.nr_pages,
        largest_free_order=max((o for o, c in enumerate(row) if c), default=-1),
        wmark_low=zone.wmark_low,
        order0_ok=_wm.zone_watermark_ok(zone, 0, zone.wmark_low),
        order_ok=_wm.zone_watermark_ok(zone, order, zone.wmark_low),
        unusable_index=_frag.unusable_index(row, order),
        fragmentation_index=_frag.fragmentation_index(row, order))


def format_summary(s: WorkloadSummary, page_size: int = 4096) -> str:
    """:class:`WorkloadSummary` as a few lines of text (the chapter's widget prints this)."""
    if not isinstance(s, WorkloadSummary):
        raise InvalidSizeError(f"format_summary needs a WorkloadSummary, got {show(s)}")
    check_int(page_size, "page_size", 1 << 10, 1 << 20, exc=InvalidSizeError)
    def ok(b: bool) -> str:
        return "succeeds" if b else "FAILS"
    return "\n".join([
        f"free: {s.free_pages} of {s.nr_pages} pages ({s.free_percent:.1f} %), "
        f"largest free block: order {s.largest_free_order}",
        f"low watermark: {s.wmark_low} pages",
        f"zone_watermark_ok(order 0, low): {ok(s.order0_ok)}",
        f"zone_watermark_ok(order {s.order} = {(page_size << s.order) // 1024} KiB, low): {ok(s.order_ok)}",
        f"unusable free index at order {s.order}: {s.unusable_index / 1000:.3f}",
        f"fragmentation index at order {s.order}: {s.fragmentation_index / 1000:.3f}",
    ])


def page_map(zone: Zone) -> list[int]:
    """One value per page of ``zone`` (index 0 = ``zone.start_pfn``): :data:`PAGE_FREE`,
    :data:`PAGE_MOVABLE`, :data:`PAGE_UNMOVABLE` or :data:`PAGE_RECLAIMABLE` (by the migrate type
    the allocation was made with). Pages neither free nor allocated (reserved) count as unmovable."""
    _check_zone(zone)
    out = [PAGE_UNMOVABLE] * zone.nr_pages
    base = zone.start_pfn
    for pfn, order, _mt in zone.free_blocks():
        out[pfn - base:pfn - base + (1 << order)] = [PAGE_FREE] * (1 << order)
    for pfn, order, mt in zone.snapshot().allocated:
        state = _MT_TO_STATE.get(mt, PAGE_UNMOVABLE)
        out[pfn - base:pfn - base + (1 << order)] = [state] * (1 << order)
    return out


def nr_free_from_page_map(pages: list[int], *, start_pfn: int = 0, max_page_order: int = 10) -> list[int]:
    """/proc/buddyinfo row of a fully coalesced zone whose free pages are ``pages[i] == PAGE_FREE``.

    When every free buddy has merged (``__free_one_page`` always merges), the free blocks are the
    maximal naturally aligned power-of-two runs of free pages, capped at ``max_page_order``: walk
    the pages and, at each free page, take the largest aligned block that is entirely free."""
    if not isinstance(pages, (list, tuple)) or len(pages) > 1 << 28:
        raise InvalidSizeError(f"pages must be a list of page states (PAGE_FREE, ...), got {show(pages)}")
    check_int(start_pfn, "start_pfn", 0, 1 << 40, exc=InvalidSizeError)
    if not isinstance(max_page_order, int) or not 0 <= max_page_order <= 20:
        raise InvalidOrderError(f"max_page_order must be in 0..20, got {max_page_order!r}")
    row = [0] * (max_page_order + 1)
    n = len(pages)
    # prefix sums of free pages make "is [a, b) all free" O(1)
    prefix = [0]
    for v in pages:
        prefix.append(prefix[-1] + (v == PAGE_FREE))
    i = 0
    while i < n:
        if pages[i] != PAGE_FREE:
            i += 1
            continue
        pfn = start_pfn + i
        order = min(max_page_order, (pfn & -pfn).bit_length() - 1) if pfn else max_page_order
        while order > 0 and (i + (1 << order) > n or prefix[i + (1 << order)] - prefix[i] != 1 << order):
            order -= 1
        row[order] += 1
        i += 1 << order
    return row


@dataclass
class CompactionSketch:
    """Result of :func:`compaction_sketch`: the page map before and after, and what moved."""

    before: list[int]
    after: list[int]
    moves: list[tuple[int, int]]
    """``(from_pfn, to_pfn)`` of every movable page migrated."""
    nr_free_before: list[int]
    nr_free_after: list[int]
    meet_pfn: int
    """PFN where the two scanners met."""


def compaction_sketch(zone: Zone) -> CompactionSketch:
    """ILLUSTRATION, not kernel code: what moving the movable pages could do for contiguity.

    The idea of ``compact_zone()`` (``mm/compaction.c``) in its simplest form: a *migrate scanner*
    walks up from the zone start and picks movable pages, a *free scanner* walks down from the
    zone end and picks free pages; each movable page is copied into a free page near the end and
    its old page freed; they stop where they meet. Unmovable pages never move.

    Left out (the kernel does them): pageblock-by-pageblock scanning and the migrate-type checks of
    ``suitable_migration_source/target``, isolation and the LRU, large folios moving as units, the
    ``compaction_suitable``/``compact_finished`` stopping rules and deferral, sync vs async modes.
    The zone itself is not changed; the result is computed on the page map."""
    _check_zone(zone)
    before = page_map(zone)
    after = list(before)
    moves: list[tuple[int, int]] = []
    lo, hi = 0, len(after) - 1
    while True:
        while lo < hi and after[lo] != PAGE_MOVABLE:
            lo += 1
        while hi > lo and after[hi] != PAGE_FREE:
            hi -= 1
        if lo >= hi:
            break
        after[hi], after[lo] = PAGE_MOVABLE, PAGE_FREE
        moves.append((zone.start_pfn + lo, zone.start_pfn + hi))
    kw = {"start_pfn": zone.start_pfn, "max_page_order": zone.max_page_order}
    return CompactionSketch(before, after, moves, nr_free_from_page_map(before, **kw),
                            nr_free_from_page_map(after, **kw), zone.start_pfn + lo)


__all__ = [
    "PAGE_FREE", "PAGE_MOVABLE", "PAGE_UNMOVABLE", "PAGE_RECLAIMABLE", "PAGE_STATE_NAMES",
    "WorkloadRun", "fragmenting_workload", "WorkloadSummary", "summarize", "format_summary", "page_map", "nr_free_from_page_map",
    "CompactionSketch", "compaction_sketch",
]
