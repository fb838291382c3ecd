"""Zone watermarks and the watermark check of ``mm/page_alloc.c`` (Linux 6.x).

* :func:`calculate_min_free_kbytes` — ``clamp(int_sqrt(lowmem_kbytes * 16), 128, 262144)``.
* :func:`recommended_min_free_kbytes` — khugepaged's ``set_recommended_min_free_kbytes`` (THP on).
* :func:`compute_wmarks` / :func:`setup_per_zone_wmarks` — ``__setup_per_zone_wmarks``: min, low,
  high, promo from ``min_free_kbytes``, managed pages and ``watermark_scale_factor``.
* :func:`compute_lowmem_reserve` — ``setup_per_zone_lowmem_reserve`` (the zoneinfo "protection").
* :func:`__zone_watermark_ok` / :func:`zone_watermark_ok` — the order-0 free-pages test plus the
  "a free block of at least this order exists" test, so an order-N request can fail while plenty
  of memory is free.

All integer math is the kernel's (``u64`` products, truncating division).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt
from typing import Sequence

from ..errors import InvalidFlagsError, InvalidOrderError, InvalidSizeError
from .argcheck import check_int, show
from .gfp import MIGRATE_HIGHATOMIC, MIGRATE_PCPTYPES
from .internal import ALLOC_CMA, ALLOC_HIGHATOMIC, ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, ALLOC_OOM, ALLOC_RESERVES
from .mmzone import MAX_NR_ZONES, ZONE_DEVICE, ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NAMES, ZONE_NORMAL
from .pages import PAGE_SHIFT
from .version import DEFAULT_KERNEL_VERSION, version_tuple

SYSCTL_LOWMEM_RESERVE_RATIO = (256, 256, 32, 0, 0)
"""``sysctl_lowmem_reserve_ratio[MAX_NR_ZONES]`` defaults (DMA, DMA32, Normal, Movable, Device)."""
SWAP_CLUSTER_MAX = 32


def _nonneg_int(name: str, v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise InvalidSizeError(f"{name} must be a non-negative int, got {v!r}")
    return v


def _int_list(name: str, v: object, nonneg: bool = True) -> list[int]:
    if not isinstance(v, (list, tuple)) or len(v) > 64:
        raise InvalidSizeError(f"{name} must be a list of ints (one per zone), got {show(v)}")
    for x in v:
        check_int(x, f"an entry of {name}", 0 if nonneg else None, 1 << 62, exc=InvalidSizeError)
    return list(v)


_ZONE_ATTRS = ("managed_pages", "zone_idx", "page_shift", "set_watermarks", "max_page_order", "nr_free",
               "nr_free_type", "lowmem_reserve", "free_pages_count")


def _zone_list(zones: object) -> list:
    """Zone objects (checked by what they have: page_alloc imports this module, not the other way round)."""
    if not isinstance(zones, (list, tuple)) or not all(all(hasattr(z, a) for a in _ZONE_ATTRS) for z in zones):
        raise InvalidSizeError(f"zones must be a list of Zone objects, got {show(zones)}")
    return list(zones)


def int_sqrt(x: int) -> int:
    """``int_sqrt()`` (lib/math/int_sqrt.c): floor of the square root."""
    return isqrt(_nonneg_int("int_sqrt argument", x))


def calculate_min_free_kbytes(lowmem_kbytes: int) -> int:
    """``calculate_min_free_kbytes()``: ``clamp(int_sqrt(lowmem_kbytes * 16), 128, 262144)``.

    ``lowmem_kbytes`` is ``nr_free_buffer_pages() * PAGE_SIZE / 1024`` (managed lowmem minus
    high watermarks; at boot the high watermarks are still 0)."""
    return min(max(int_sqrt(_nonneg_int("lowmem_kbytes", lowmem_kbytes) * 16), 128), 262144)


def recommended_min_free_kbytes(min_free_kbytes: int, nr_zones: int, lowmem_free_pages: int, *,
                                pageblock_order: int = 9, page_shift: int = PAGE_SHIFT) -> int:
    """khugepaged's ``set_recommended_min_free_kbytes()`` with THP enabled.

    ``pageblock_nr_pages * nr_zones * (2 + MIGRATE_PCPTYPES**2)`` pages (populated zones up to
    ZONE_NORMAL), capped at 5 % of ``lowmem_free_pages`` (``nr_free_buffer_pages()``), in KiB; the
    result is the larger of that and ``min_free_kbytes``. On this machine: 512 * 3 * 11 pages =
    67584 KiB."""
    _nonneg_int("min_free_kbytes", min_free_kbytes)
    _nonneg_int("nr_zones", nr_zones)
    _nonneg_int("lowmem_free_pages", lowmem_free_pages)
    check_int(pageblock_order, "pageblock_order", 0, 20, exc=InvalidSizeError)
    check_int(page_shift, "page_shift", 10, 20, exc=InvalidSizeError)
    pb = 1 << pageblock_order
    rec = pb * nr_zones * 2 + pb * nr_zones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES
    rec = min(rec, lowmem_free_pages // 20)
    rec <<= page_shift - 10
    return max(rec, min_free_kbytes)


def compute_wmarks(managed: Sequence[int], min_free_kbytes: int, *,
                   zone_idx: Sequence[int] | None = None, watermark_scale_factor: int = 10,
                   page_shift: int = PAGE_SHIFT,
                   kernel_version: str = DEFAULT_KERNEL_VERSION) -> list[tuple[int, int, int, int]]:
    """``__setup_per_zone_wmarks()`` on plain numbers: ``(min, low, high, promo)`` per zone.

    ``managed[i]`` is zone i's managed pages; ``zone_idx[i]`` its ``zone_idx`` (default
    DMA, DMA32, Normal, Movable, Device in order) — ZONE_MOVABLE gets the capped
    ``clamp(managed / 1024, SWAP_CLUSTER_MAX, 128)`` min and is left out of lowmem.

    That ZONE_MOVABLE rule came with Linux 6.6 ("mm/page_alloc: fix min_free_kbytes calculation
    regarding ZONE_MOVABLE"). Before (``kernel_version`` < 6.6, e.g. 6.1) ZONE_MOVABLE is a lowmem
    zone on x86-64 like any other, so an empty one shows 0, not 32, for every watermark.
    """
    _nonneg_int("min_free_kbytes", min_free_kbytes)
    _nonneg_int("watermark_scale_factor", watermark_scale_factor)
    managed = _int_list("managed", managed)
    check_int(page_shift, "page_shift", 10, 20, exc=InvalidSizeError)
    idx = list(range(len(managed))) if zone_idx is None else _int_list("zone_idx", zone_idx)
    if len(idx) != len(managed):
        raise InvalidSizeError("zone_idx and managed differ in length")
    pages_min = min_free_kbytes >> (page_shift - 10)
    movable_capped = version_tuple(kernel_version) >= (6, 6)
    lowmem = sum(m for m, z in zip(managed, idx) if z != ZONE_MOVABLE or not movable_capped)
    out = []
    for m, z in zip(managed, idx):
        tmp = pages_min * m // lowmem if lowmem else 0
        if z == ZONE_MOVABLE and movable_capped:
            wmin = min(max(m // 1024, SWAP_CLUSTER_MAX), 128)
        else:
            wmin = tmp
        step = max(tmp >> 2, m * watermark_scale_factor // 10000)   # mult_frac
        low = wmin + step
        high = low + step
        out.append((wmin, low, high, high + step))
    return out


def setup_per_zone_wmarks(zones: Sequence, min_free_kbytes: int, *,
                          watermark_scale_factor: int = 10) -> list[tuple[int, int, int, int]]:
    """``__setup_per_zone_wmarks()`` on :class:`kmemlib.mm.page_alloc.Zone` objects of one node.

    Sets every zone's watermarks (boost reset to 0) and returns them."""
    zones = _zone_list(zones)
    if not zones:
        return []
    marks = compute_wmarks([z.managed_pages for z in zones], min_free_kbytes,
                           zone_idx=[z.zone_idx for z in zones],
                           watermark_scale_factor=watermark_scale_factor, page_shift=zones[0].page_shift)
    for z, wm in zip(zones, marks):
        z.set_watermarks(*wm)
    return marks


@dataclass(frozen=True)
class BootWatermarks:
    """What the kernel set at boot: ``min_free_kbytes``, ``(min, low, high, promo)`` and the
    ``lowmem_reserve`` row of every zone index, and the managed pages it used."""

    min_free_kbytes: int
    wmarks: list[tuple[int, int, int, int]]
    lowmem_reserve: list[list[int]]
    managed: list[int]
    thp: bool


def boot_watermarks(managed_by_idx: Sequence[int], *, late_freed_pages: int = 0, late_zone: int = ZONE_DMA32,
                    thp: bool | None = None, watermark_scale_factor: int = 10,
                    lowmem_reserve_ratio: Sequence[int] | None = None, pageblock_order: int = 9,
                    page_shift: int = PAGE_SHIFT, kernel_version: str = DEFAULT_KERNEL_VERSION) -> BootWatermarks:
    """The boot-time sequence that sets the watermarks, on the managed pages *of that moment*.

    ``postcore_initcall(init_per_zone_wmark_min)``: ``calculate_min_free_kbytes()`` from
    ``nr_free_buffer_pages()`` (watermarks still 0), ``setup_per_zone_wmarks()`` and
    ``setup_per_zone_lowmem_reserve()``. Then, when THP is on (``hugepage_init``, a
    subsys_initcall: ``CONFIG_TRANSPARENT_HUGEPAGE`` and at least 512 MiB of ``totalram_pages``),
    khugepaged's ``set_recommended_min_free_kbytes()`` may raise ``min_free_kbytes`` and sets the
    watermarks again (``lowmem_reserve`` stays).

    Later in boot the kernel frees memory it no longer needs (the initrd, ``__init`` code and data,
    the unused parts of the kernel image; ``dmesg`` "Freeing ... memory" lines). The watermarks are
    not recomputed for those pages, so ``managed_by_idx`` (what zoneinfo shows at the end) minus
    ``late_freed_pages`` in ``late_zone`` (where the kernel image and initrd lie: ZONE_DMA32 on an
    x86-64 VM) is what they were computed from. ``thp`` None decides by the 512 MiB rule.
    """
    managed = [_nonneg_int("managed pages", m) for m in managed_by_idx]
    _nonneg_int("late_freed_pages", late_freed_pages)
    if late_freed_pages:
        if not 0 <= late_zone < len(managed) or managed[late_zone] < late_freed_pages:
            raise InvalidSizeError(f"{late_freed_pages} late-freed pages do not fit zone index {late_zone}")
        managed[late_zone] -= late_freed_pages
    idx = list(range(len(managed)))
    normal_idx = [i for i in idx if i <= ZONE_NORMAL]      # gfp_zone(GFP_USER) and below
    mfk = calculate_min_free_kbytes(sum(managed[i] for i in normal_idx) << (page_shift - 10))
    marks = compute_wmarks(managed, mfk, zone_idx=idx, watermark_scale_factor=watermark_scale_factor,
                           page_shift=page_shift, kernel_version=kernel_version)
    lowmem_reserve = compute_lowmem_reserve(managed + [0] * (MAX_NR_ZONES - len(managed)),
                                            lowmem_reserve_ratio or SYSCTL_LOWMEM_RESERVE_RATIO)
    if thp is None:
        thp = sum(managed) >= 512 << (20 - page_shift)
    if thp:
        nr_zones = sum(1 for i in normal_idx if managed[i])
        free_buffer = sum(max(managed[i] - marks[i][2], 0) for i in normal_idx)
        rec = recommended_min_free_kbytes(mfk, nr_zones, free_buffer, pageblock_order=pageblock_order,
                                          page_shift=page_shift)
        if rec > mfk:
            mfk = rec
            marks = compute_wmarks(managed, mfk, zone_idx=idx, watermark_scale_factor=watermark_scale_factor,
                                   page_shift=page_shift, kernel_version=kernel_version)
    return BootWatermarks(mfk, marks, lowmem_reserve, managed, thp)


def compute_lowmem_reserve(managed_by_idx: Sequence[int],
                           ratios: Sequence[int] = SYSCTL_LOWMEM_RESERVE_RATIO) -> list[list[int]]:
    """``setup_per_zone_lowmem_reserve()``: ``lowmem_reserve[j]`` for every zone index i.

    ``managed_by_idx`` has one entry per zone index (0 for absent zones). Row i column j (> i) is
    the managed pages of zones i+1..j divided by ``ratios[i]`` (0 when the ratio or the zone is 0)."""
    managed_by_idx = _int_list("managed_by_idx", managed_by_idx)
    ratios = _int_list("ratios", ratios)
    n = len(managed_by_idx)
    if len(ratios) < n:
        raise InvalidSizeError(f"need {n} lowmem_reserve ratios, got {len(ratios)}")
    rows = [[0] * n for _ in range(n)]
    for i in range(n - 1):
        ratio = ratios[i]
        clear = not ratio or not managed_by_idx[i]
        acc = 0
        for j in range(i + 1, n):
            acc += managed_by_idx[j]
            rows[i][j] = 0 if clear else acc // ratio
    return rows


def _zone_watermark_ok_impl(z, order: int, mark: int, highest_zoneidx: int, alloc_flags: int,
                            free_pages: int) -> bool:
    _zone_list([z])
    if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= z.max_page_order:
        raise InvalidOrderError(f"order {show(order)} outside 0..{z.max_page_order}")
    check_int(mark, "mark", -(1 << 63), (1 << 63) - 1, exc=InvalidSizeError, what="pages")
    check_int(highest_zoneidx, "highest_zoneidx", 0, MAX_NR_ZONES - 1, what="ZONE_DMA..ZONE_DEVICE")
    check_int(alloc_flags, "alloc_flags", 0, 0xFFF, exc=InvalidFlagsError, what="ALLOC_* bits of mm/internal.h")
    check_int(free_pages, "free_pages", -(1 << 63), (1 << 63) - 1, exc=InvalidSizeError, what="pages")
    wmin = mark
    unusable = (1 << order) - 1
    if not alloc_flags & ALLOC_RESERVES:
        unusable += z.nr_free_highatomic()
    free_pages -= unusable
    if alloc_flags & ALLOC_RESERVES:
        if alloc_flags & ALLOC_MIN_RESERVE:
            wmin -= wmin // 2
            if alloc_flags & ALLOC_NON_BLOCK:
                wmin -= wmin // 4
        if alloc_flags & ALLOC_OOM:
            wmin -= wmin // 2
    reserve = z.lowmem_reserve[highest_zoneidx] if highest_zoneidx < len(z.lowmem_reserve) else 0
    if free_pages <= wmin + reserve:
        return False
    if not order:
        return True
    nr_free = z.nr_free()
    for o in range(order, z.nr_page_orders):
        if not nr_free[o]:
            continue
        for mt in range(MIGRATE_PCPTYPES):
            if z.nr_free_type(mt)[o]:
                return True
        if alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM) and z.nr_free_type(MIGRATE_HIGHATOMIC)[o]:
            return True
    return False


def __zone_watermark_ok(z, order: int, mark: int, highest_zoneidx: int, alloc_flags: int,  # noqa: N807
                        free_pages: int) -> bool:
    """``__zone_watermark_ok()``: is ``free_pages`` above ``mark`` (+ ``lowmem_reserve``) for ``order``?

    ``free_pages`` minus ``2^order - 1`` (and the HIGHATOMIC reserve unless the caller may use it)
    must exceed ``mark`` — halved for ``ALLOC_MIN_RESERVE`` (``__GFP_HIGH``), a further quarter off
    for ``ALLOC_NON_BLOCK``, halved for ``ALLOC_OOM`` — plus ``lowmem_reserve[highest_zoneidx]``;
    for order > 0 some PCP-type (or, if allowed, HIGHATOMIC) list of order >= ``order`` must be
    non-empty."""
    return _zone_watermark_ok_impl(z, order, mark, highest_zoneidx, alloc_flags, free_pages)


zone_watermark_ok_free = _zone_watermark_ok_impl
"""Importable alias of :func:`__zone_watermark_ok` (a name Python mangles inside classes)."""


def zone_watermark_ok(z, order: int, mark: int, highest_zoneidx: int | None = None,
                      alloc_flags: int = 0) -> bool:
    """``zone_watermark_ok()``: :func:`__zone_watermark_ok` with the zone's ``NR_FREE_PAGES``."""
    _zone_list([z])
    hz = z.zone_idx if highest_zoneidx is None else highest_zoneidx
    return _zone_watermark_ok_impl(z, order, mark, hz, alloc_flags, z.free_pages_count())


__all__ = ["BootWatermarks", "boot_watermarks", 
    "ZONE_DMA", "ZONE_DMA32", "ZONE_NORMAL", "ZONE_MOVABLE", "ZONE_DEVICE", "MAX_NR_ZONES",
    "ZONE_NAMES", "SYSCTL_LOWMEM_RESERVE_RATIO", "int_sqrt", "calculate_min_free_kbytes",
    "recommended_min_free_kbytes", "compute_wmarks", "setup_per_zone_wmarks",
    "compute_lowmem_reserve", "__zone_watermark_ok", "zone_watermark_ok", "zone_watermark_ok_free",
]
