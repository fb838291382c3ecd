"""What kmalloc() really hands out, as tables: size classes, cache types, sweeps and the sawtooth.

Pure data for Part II of the book (the figures in :mod:`kmemlib.lessons.plots.kmalloc` and the widgets in
:mod:`kmemlib.lessons.widgets.kmalloc` draw it). Everything is derived from :mod:`kmemlib.mm.kmalloc`
(``kmalloc_slab``, ``kmalloc_type``, ``kmalloc_size_roundup``, ``__do_kmalloc_node``) and
:mod:`kmemlib.mm.slub` (cache geometry, ``ksize``); nothing here re-implements a kernel rule.

Waste is ``allocated - request`` where ``allocated`` is what ``ksize()`` reports. Its percentage has
two conventions, chosen by ``basis``: ``"allocation"`` (the default, the share of the allocated bytes
nobody asked for, always below 100 %) or ``"request"`` (the overhead relative to the request, which
reaches 700 % for a 1-byte kmalloc).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from ..errors import InvalidFlagsError, InvalidSizeError
from ..mm.argcheck import check_bool, check_int, show
from ..mm import gfp as _gfp
from ..mm import kmalloc as _km
from ..mm.pages import get_order
from ..mm.slab_flags import SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER
from ..mm.slub import DEFAULT_PARAMS, SlubAllocator, SlubParams, kmalloc_cache_geometry

BASES = ("allocation", "request")
"""Accepted values of ``basis``: waste as a percentage of the allocation or of the request."""

DEBUG_FLAGS_FZPU = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER
"""What ``slab_debug=ZPU`` adds to every cache (red zones, poisoning, alloc/free tracking)."""


def _check_basis(basis: str) -> str:
    if basis not in BASES:
        raise InvalidFlagsError(f"basis must be one of {BASES}, got {basis!r}")
    return basis


def _int_list(values: object, name: str) -> list[int]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise InvalidSizeError(f"{name} must be a list of sizes, got {show(values)}")
    values = list(values)
    for v in values:
        check_int(v, f"an entry of {name}", 0, (1 << 64) - 1, exc=InvalidSizeError)
    return values


def waste_pct(plan: _km.KmallocPlan, basis: str = "allocation") -> float:
    """Waste of one :class:`~kmemlib.mm.kmalloc.KmallocPlan` in percent of the allocation (default) or
    of the request; 0 for ``kmalloc(0)`` and for a failed request (nothing is allocated)."""
    if not isinstance(plan, _km.KmallocPlan):
        raise InvalidSizeError(f"plan must be a KmallocPlan (from kmalloc_plan()), got {show(plan)}")
    _check_basis(basis)
    return plan.waste_pct_of_allocation if basis == "allocation" else plan.waste_pct_of_request


# --------------------------------------------------------------------------------------------
# Size classes
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SizeClass:
    """One allocation class: a ``kmalloc-*`` cache, or one page order of the large-kmalloc path."""

    name: str           # "kmalloc-96" or "order 2"
    via: str            # "slab" | "page allocator"
    lo: int             # smallest request served
    hi: int             # largest request served
    allocated: int      # what ksize() reports for every request in [lo, hi]
    index: int | None   # kmalloc_info[] index (slab classes)
    order: int          # slab order (slab classes) or page order (large classes)
    align: int | None   # cache alignment (slab classes)
    objs_per_slab: int | None
    slab_leftover: int | None   # bytes at the end of each slab that fit no object

    @property
    def max_waste(self) -> int:
        """Waste of the smallest request served (``allocated - lo``)."""
        return self.allocated - self.lo

    @property
    def max_waste_pct(self) -> float:
        """That waste in percent of the allocation."""
        return 100.0 * self.max_waste / self.allocated


@lru_cache(maxsize=8)
def _slab_ranges(kmalloc_min_size: int, page_shift: int) -> tuple[tuple[int, int, int], ...]:
    """(index, lo, hi) for every kmalloc cache, found by asking ``kmalloc_slab_index`` for every size."""
    ranges: dict[int, list[int]] = {}
    for size in range(1, (1 << (page_shift + 1)) + 1):
        idx = _km.kmalloc_slab_index(size, kmalloc_min_size, page_shift)
        r = ranges.setdefault(idx, [size, size])
        r[1] = size
    return tuple((idx, lo, hi) for idx, (lo, hi) in sorted(ranges.items(), key=lambda kv: kv[1][0]))


def size_classes(type_: int = _km.KMALLOC_NORMAL, *, include_large: bool = True,
                 params: SlubParams = DEFAULT_PARAMS) -> list[SizeClass]:
    """Every class a kmalloc request can land in, smallest first.

    Slab classes come from ``kmalloc_slab()`` (which sizes each cache serves) and the cache geometry
    of ``create_kmalloc_caches()``; with ``include_large`` the page orders of ``___kmalloc_large_node``
    follow, from ``KMALLOC_MAX_CACHE_SIZE + 1`` up to ``KMALLOC_MAX_SIZE``.
    """
    if not isinstance(params, SlubParams):
        raise InvalidSizeError(f"params must be a SlubParams, got {show(params)}")
    if not isinstance(include_large, bool):
        raise InvalidSizeError(f"include_large must be True or False, got {show(include_large)}")
    if not isinstance(type_, int) or isinstance(type_, bool) or type_ not in _km.KMALLOC_TYPE_PREFIX:
        raise InvalidFlagsError(f"unknown kmalloc type {show(type_)}")
    out: list[SizeClass] = []
    for idx, lo, hi in _slab_ranges(params.kmalloc_min_size, params.page_shift):
        g = kmalloc_cache_geometry(idx, type_, params)
        out.append(SizeClass(g.name, "slab", lo, hi, _km.KMALLOC_INFO[idx][0], idx, g.order, g.align,
                             g.objects, g.slab_waste))
    if include_large:
        page = 1 << params.page_shift
        lo = (1 << (params.page_shift + 1)) + 1
        for order in range(get_order(lo, params.page_shift), params.max_page_order + 1):
            hi = page << order
            out.append(SizeClass(f"order {order}", "page allocator", lo, hi, hi, None, order, None, None, None))
            lo = hi + 1
    return out


def class_thresholds(max_size: int = _km.KMALLOC_MAX_SIZE, *, params: SlubParams = DEFAULT_PARAMS) -> list[int]:
    """Largest request of every class below ``max_size``: one byte more moves to the next class."""
    check_int(max_size, "max_size", 0, 1 << 64, exc=InvalidSizeError)
    return [c.hi for c in size_classes(params=params) if c.hi < max_size]


# --------------------------------------------------------------------------------------------
# kmalloc types
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TypeRow:
    """Which kmalloc cache type a GFP mask selects (``kmalloc_type()``)."""

    gfp_name: str
    gfp: int
    type_: int
    type_name: str
    cache: str          # the cache a request of ``size`` bytes lands in
    reason: str


DEFAULT_TYPE_EXAMPLES: tuple[tuple[str, int], ...] = (
    ("GFP_KERNEL", _gfp.GFP_KERNEL),
    ("GFP_ATOMIC", _gfp.GFP_ATOMIC),
    ("GFP_NOFS", _gfp.GFP_NOFS),
    ("GFP_KERNEL_ACCOUNT", _gfp.GFP_KERNEL_ACCOUNT),
    ("GFP_KERNEL | __GFP_RECLAIMABLE", _gfp.GFP_KERNEL | _gfp.__GFP_RECLAIMABLE),
    ("GFP_KERNEL | GFP_DMA", _gfp.GFP_KERNEL | _gfp.GFP_DMA),
    ("GFP_KERNEL_ACCOUNT | __GFP_RECLAIMABLE", _gfp.GFP_KERNEL_ACCOUNT | _gfp.__GFP_RECLAIMABLE),
    ("GFP_KERNEL_ACCOUNT | GFP_DMA", _gfp.GFP_KERNEL_ACCOUNT | _gfp.GFP_DMA),
)
"""GFP masks shown in the book's type table (two of them test the priority order)."""


def _type_reason(gfp: int) -> str:
    bits = gfp & _km.KMALLOC_NOT_NORMAL_BITS
    if not bits:
        return "no type bit set"
    if gfp & _gfp.__GFP_DMA:
        return "__GFP_DMA beats the rest" if bits != _gfp.__GFP_DMA else "__GFP_DMA"
    if gfp & _gfp.__GFP_RECLAIMABLE:
        return "__GFP_RECLAIMABLE beats __GFP_ACCOUNT" if gfp & _gfp.__GFP_ACCOUNT else "__GFP_RECLAIMABLE"
    return "__GFP_ACCOUNT"


def kmalloc_type_row(gfp: int, size: int = 100, gfp_name: str | None = None) -> TypeRow:
    """Type and cache for one GFP mask and a request of ``1 <= size <= KMALLOC_MAX_CACHE_SIZE`` bytes."""
    plan = _km.kmalloc_plan(size, gfp)
    if plan.via != "slab":
        raise InvalidSizeError(f"size {size} is not served by a kmalloc cache (it goes to {plan.via})")
    t = _km.kmalloc_effective_type(_km.kmalloc_type(gfp))
    return TypeRow(gfp_name if gfp_name is not None else _gfp.gfp_names(gfp), gfp, t,
                   _km.KMALLOC_TYPE_NAMES[t], plan.cache or "", _type_reason(gfp))


def kmalloc_type_table(size: int = 100,
                       examples: Iterable[tuple[str, int]] = DEFAULT_TYPE_EXAMPLES) -> list[TypeRow]:
    """:func:`kmalloc_type_row` for each (name, gfp) example."""
    if isinstance(examples, (str, bytes)) or not hasattr(examples, "__iter__"):
        raise InvalidSizeError(f"examples must be (name, gfp) pairs, got {show(examples)}")
    examples = list(examples)
    if not all(isinstance(e, tuple) and len(e) == 2 and isinstance(e[0], str) for e in examples):
        raise InvalidSizeError(f"examples must be (name, gfp) pairs, got {show(examples)}")
    return [kmalloc_type_row(g, size, name) for name, g in examples]


# --------------------------------------------------------------------------------------------
# Sweeps and the sawtooth
# --------------------------------------------------------------------------------------------

def sweep(sizes: Iterable[int], gfp: int = _gfp.GFP_KERNEL) -> list[_km.KmallocPlan]:
    """``kmalloc_plan`` for every size (request → cache or order → allocated → waste)."""
    sizes = _int_list(sizes, "sizes")
    return [_km.kmalloc_plan(s, gfp) for s in sizes]


MAX_PER_CLASS = 1000
"""Most sizes :func:`sawtooth_sizes` puts inside one class (a figure needs tens; more only costs time)."""


def _check_range(lo: object, hi: object) -> None:
    """``1 <= lo <= hi < 2**64`` as ints (bools and floats are not sizes)."""
    check_int(lo, "lo", 1, (1 << 64) - 1, exc=InvalidSizeError)
    check_int(hi, "hi", 1, (1 << 64) - 1, exc=InvalidSizeError)
    if lo > hi:
        raise InvalidSizeError(f"need lo <= hi, got lo={lo}, hi={hi}")


def sawtooth_sizes(lo: int = 1, hi: int = _km.KMALLOC_MAX_SIZE, per_class: int = 40, *,
                   params: SlubParams = DEFAULT_PARAMS) -> list[int]:
    """Request sizes that draw the waste curve exactly on a log axis.

    Inside one class the waste falls linearly from the class's first byte to its last, so the curve
    is fixed by each class's ``lo`` and ``hi`` (both included, hence every tooth's top and bottom);
    ``per_class`` geometrically spaced sizes in between keep the line right on a log x axis.
    """
    _check_range(lo, hi)
    check_int(per_class, "per_class", 0, MAX_PER_CLASS, exc=InvalidSizeError)
    out: set[int] = {lo, hi}
    for c in size_classes(params=params):
        a, b = max(c.lo, lo), min(c.hi, hi)
        if a > b:
            continue
        out.update((a, b))
        if per_class and b - a > 1:
            ratio = (b / a) ** (1.0 / (per_class + 1))
            x = float(a)
            for _ in range(per_class):
                x *= ratio
                out.add(min(b, max(a, round(x))))
    return sorted(out)


def waste_curve(lo: int = 1, hi: int = _km.KMALLOC_MAX_SIZE, basis: str = "allocation", *,
                every_byte: bool = False, per_class: int = 40,
                gfp: int = _gfp.GFP_KERNEL) -> tuple[list[int], list[float]]:
    """(sizes, waste %) from ``lo`` to ``hi``: every byte, or the exact-shape sample of
    :func:`sawtooth_sizes`."""
    _check_basis(basis)
    if check_bool(every_byte, "every_byte"):
        _check_range(lo, hi)
        if hi - lo > 1 << 20:
            raise InvalidSizeError(f"every_byte needs at most 2**20 sizes, got {lo}..{hi}")
        sizes = list(range(lo, hi + 1))
    else:
        sizes = sawtooth_sizes(lo, hi, per_class)
    return sizes, [waste_pct(p, basis) for p in sweep(sizes, gfp)]


def tooth_peaks(max_size: int = _km.KMALLOC_MAX_SIZE) -> list[_km.KmallocPlan]:
    """The plan of ``t + 1`` for every class threshold ``t``: the request that wastes the most
    inside its class (the top of each tooth of the sawtooth)."""
    check_int(max_size, "max_size", 0, 1 << 64, exc=InvalidSizeError)
    return [_km.kmalloc_plan(t + 1) for t in class_thresholds(max_size)]


# --------------------------------------------------------------------------------------------
# kmalloc_size_roundup() versus ksize()
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoundupRow:
    """One request on a normal and on a ``slab_debug`` kernel."""

    request: int
    roundup: int            # kmalloc_size_roundup(request), before allocating
    ksize: int              # ksize(kmalloc(request)) on a kernel without slab debugging
    ksize_debug: int        # the same with debug flags on every kmalloc cache
    slot: int               # bytes the object really occupies without debugging (s->size or folio)
    slot_debug: int         # ... and with debugging (red zones, tracks, free pointer)
    result: str             # "object" | "ZERO_SIZE_PTR" | "NULL"

    @property
    def agree(self) -> bool:
        """``kmalloc_size_roundup(n) == ksize(kmalloc(n))`` on both kernels."""
        return self.roundup == self.ksize == self.ksize_debug


@lru_cache(maxsize=4)
def _allocator(debug_flags: int) -> SlubAllocator:
    # One allocator per debug setting, reused: every measurement frees what it allocated.
    return SlubAllocator(params=SlubParams(slub_debug=debug_flags))


def _measure(a: SlubAllocator, size: int) -> tuple[int, int, str]:
    p = a.kmalloc(size)
    if p is None:
        return a.ksize(None), 0, "NULL"
    if p == _km.ZERO_SIZE_PTR:
        return a.ksize(p), 0, "ZERO_SIZE_PTR"
    info = a.allocation(p)
    slot = a.slab_of(p).cache.size if info.cache is not None else info.allocated
    ks = a.ksize(p)
    a.kfree(p)
    return ks, slot, "object"


def roundup_vs_ksize(sizes: Iterable[int], debug_flags: int = DEBUG_FLAGS_FZPU) -> list[RoundupRow]:
    """Compare ``kmalloc_size_roundup()`` with ``ksize()`` of a real (modelled) allocation, on a
    kernel without slab debugging and on one booted with ``debug_flags`` for every cache.

    Each request is allocated with :meth:`SlubAllocator.kmalloc`, measured with ``ksize`` and freed.
    """
    sizes = _int_list(sizes, "sizes")
    check_int(debug_flags, "debug_flags", 0, exc=InvalidFlagsError)
    plain, debug = _allocator(0), _allocator(debug_flags)
    rows = []
    for n in sizes:
        ks, slot, result = _measure(plain, n)
        ksd, slotd, _ = _measure(debug, n)
        rows.append(RoundupRow(n, _km.kmalloc_size_roundup(n), ks, ksd, slot, slotd, result))
    return rows


# --------------------------------------------------------------------------------------------
# One slab, slot by slot
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SlotView:
    """One slot of a slab, for drawing."""

    index: int
    offset: int                 # from the slab's first byte
    size: int                   # slot size (s->size)
    used: bool
    requested: int | None       # bytes the caller asked for (used slots)
    usable: int                 # ksize of the cache
    freeptr_offset: int | None  # where the free pointer lives inside a free slot (s->offset)
    next_free: int | None       # index of the slot the free pointer points to (None = end of list)


def slab_occupancy(allocator: SlubAllocator, slab) -> list[SlotView]:
    """Every slot of one :class:`~kmemlib.mm.slub.Slab`: used or free, requested bytes, and the free
    list as SLUB chains it (each free object's free pointer names the next free object; the
    allocator takes objects from the head, so the most recently freed one is reused first)."""
    from ..mm.slub import Slab  # noqa: PLC0415
    if not isinstance(allocator, SlubAllocator) or not isinstance(slab, Slab):
        raise InvalidSizeError(f"slab_occupancy needs a SlubAllocator and one of its slabs, got {show(allocator)}, "
                               f"{show(slab)}")
    s = slab.cache
    head_first = list(reversed(slab.freelist))
    nxt = {idx: (head_first[k + 1] if k + 1 < len(head_first) else None) for k, idx in enumerate(head_first)}
    out = []
    for i in range(slab.objects):
        addr = slab.object_addr(i)
        used = i not in nxt
        req = allocator.allocation(addr).requested if used else None
        out.append(SlotView(i, i * s.size, s.size, used, req, s.ksize, None if used else s.offset,
                            nxt.get(i)))
    return out


def freelist_head(slab) -> int | None:
    """Index of the slot the next allocation from this slab takes (``slab->freelist``)."""
    from ..mm.slub import Slab  # noqa: PLC0415
    if not isinstance(slab, Slab):
        raise InvalidSizeError(f"freelist_head needs a Slab, got {show(slab)}")
    return slab.freelist[-1] if slab.freelist else None


__all__ = [
    "BASES", "DEBUG_FLAGS_FZPU", "waste_pct", "SizeClass", "size_classes", "class_thresholds", "TypeRow",
    "DEFAULT_TYPE_EXAMPLES", "kmalloc_type_row", "kmalloc_type_table", "sweep", "sawtooth_sizes", "waste_curve",
    "tooth_peaks", "RoundupRow", "roundup_vs_ksize", "SlotView", "slab_occupancy", "freelist_head",
]
