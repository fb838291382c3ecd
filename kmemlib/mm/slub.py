"""SLUB: the geometry of a ``struct kmem_cache`` and a slab allocator built on the buddy Zone.

Geometry (pure functions, no allocator needed) models mm/slub.c and mm/slab_common.c:
``calculate_alignment``, ``calculate_sizes``, ``calc_slab_order``/``calculate_order`` (current,
and the pre-6.7 algorithm via ``SlubParams(order_algorithm="6.1")``), ``order_objects``,
``oo_make``, ``set_cpu_partial``, min_partial, ``slab_ksize``, ``find_mergeable`` and
``create_unique_id`` (sysfs ``:flags-%07u`` names).

The allocator (:class:`SlubAllocator`) holds every cache, creates the kmalloc caches like
``create_kmalloc_caches()``, takes slab pages from a :class:`kmemlib.mm.page_alloc.Zone` and keeps exact
accounting. Version/machine dependent values (page size, CPU count, slab_max_order, the order
algorithm, cache line size, struct track size) live in :class:`SlubParams`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Callable, Iterable

from ..errors import (
    BadFreeError,
    CacheBusyError,
    CacheDestroyedError,
    DoubleFreeError,
    InvalidAlignError,
    InvalidFlagsError,
    InvalidArgumentError,
    InvalidNameError,
    InvalidSizeError,
)
from . import gfp as _gfp
from .argcheck import check_bool, is_int, show
from . import kmalloc as _km
from .page_alloc import Zone
from .pages import (
    ALIGN,
    ALIGN_DOWN,
    MAX_PAGE_ORDER,
    PAGE_ALLOC_COSTLY_ORDER,
    PAGE_OFFSET,
    PAGE_SHIFT,
    get_order,
    ilog2,
    is_power_of_2,
    pfn_to_virt,
)
from .slab_flags import (
    CACHE_CREATE_MASK,
    OBJECT_POISON,
    SLAB_ACCOUNT,
    SLAB_CACHE_DMA,
    SLAB_CACHE_DMA32,
    SLAB_CONSISTENCY_CHECKS,
    SLAB_DEBUG_FLAGS,
    SLAB_HWCACHE_ALIGN,
    SLAB_KMALLOC,
    SLAB_MERGE_SAME,
    SLAB_NEVER_MERGE,
    SLAB_NO_MERGE,
    SLAB_POISON,
    SLAB_RECLAIM_ACCOUNT,
    SLAB_RED_ZONE,
    SLAB_STORE_USER,
    SLAB_TYPESAFE_BY_RCU,
    check_slab_flags,
    kmem_cache_flags,
)
from .version import DEFAULT_KERNEL_VERSION, version_tuple

PTR_SIZE: int = 8
"""``sizeof(void *)`` on 64-bit."""
MAX_OBJS_PER_PAGE: int = 32767
"""``MAX_OBJS_PER_PAGE`` (slab->objects is 15 bits)."""
OO_SHIFT: int = 16
MIN_PARTIAL: int = 5
MAX_PARTIAL: int = 10
MAX_PARTIAL_TO_SCAN: int = 10000
"""``count_partial_free_approx()`` scans at most this many node partial slabs for /proc/slabinfo."""
TRACK_SIZE_STACKDEPOT: int = 32
"""``sizeof(struct track)`` on 64-bit with CONFIG_STACKDEPOT (addr, handle, cpu, pid, when)."""
TRACK_SIZE_NO_STACKDEPOT: int = 24


@dataclass(frozen=True)
class SlubParams:
    """Boot/machine parameters that change SLUB geometry.

    Defaults are this x86-64 6.18 machine: 4 KiB pages, MAX_PAGE_ORDER 10, 2 present CPUs,
    slab_min_order 0, slab_max_order = PAGE_ALLOC_COSTLY_ORDER (3), no slab_min_objects,
    64-byte cache lines, STACKDEPOT (struct track = 32 bytes), merging on, HARDENED_USERCOPY on.
    ``order_algorithm`` is ``"6.7"`` (current ``calculate_order``) or ``"6.1"`` (before 6.7).
    ``kernel_version`` selects other version-dependent behaviour (kmalloc cache alignment, see
    :func:`kmalloc_cache_geometry`); :func:`params_for_kernel` sets both from one version.
    """

    page_shift: int = PAGE_SHIFT
    max_page_order: int = MAX_PAGE_ORDER
    nr_cpus: int = 2
    nr_cpu_ids: int | None = None
    slub_min_order: int = 0
    slub_max_order: int = PAGE_ALLOC_COSTLY_ORDER
    slub_min_objects: int = 0
    order_algorithm: str = "6.7"
    cache_line_size: int = 64
    arch_slab_minalign: int = 8
    track_size: int = TRACK_SIZE_STACKDEPOT
    slab_nomerge: bool = False
    hardened_usercopy: bool = True
    slub_debug: int = 0
    slub_debug_slabs: tuple[str, ...] | None = None
    cpu_partial_enabled: bool = True
    kmalloc_min_size: int = _km.KMALLOC_MIN_SIZE
    kernel_version: str = DEFAULT_KERNEL_VERSION

    def __post_init__(self) -> None:
        version_tuple(self.kernel_version)          # InvalidFlagsError for a malformed version
        for name in ("page_shift", "max_page_order", "nr_cpus", "slub_min_order", "slub_max_order",
                     "slub_min_objects", "cache_line_size", "arch_slab_minalign", "track_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise InvalidSizeError(f"SlubParams.{name} must be a non-negative int, got {v!r}")
        if not 10 <= self.page_shift <= 20:
            raise InvalidSizeError(f"page_shift {self.page_shift} out of range 10..20")
        if self.max_page_order > 20:
            raise InvalidSizeError(f"SlubParams.max_page_order must be in 0..20, got {self.max_page_order}")
        for name, hi in (("nr_cpus", 8192), ("slub_min_objects", MAX_OBJS_PER_PAGE), ("track_size", 1024),
                         ("cache_line_size", 1 << self.page_shift), ("arch_slab_minalign", 1 << self.page_shift)):
            if getattr(self, name) > hi:
                raise InvalidSizeError(f"SlubParams.{name} must be at most {hi}, got {getattr(self, name)}")
        if self.nr_cpu_ids is not None and (not is_int(self.nr_cpu_ids) or not self.nr_cpus <= self.nr_cpu_ids <= 8192):
            raise InvalidSizeError(f"SlubParams.nr_cpu_ids must be None or an int in nr_cpus..8192, "
                                   f"got {show(self.nr_cpu_ids)}")
        for name in ("slab_nomerge", "hardened_usercopy", "cpu_partial_enabled"):
            check_bool(getattr(self, name), f"SlubParams.{name}")
        if not is_int(self.slub_debug) or self.slub_debug < 0:
            raise InvalidFlagsError(f"SlubParams.slub_debug must be SLAB_* debug flags (an int), got {show(self.slub_debug)}")
        if self.slub_debug_slabs is not None and (not isinstance(self.slub_debug_slabs, tuple)
                                                 or not all(isinstance(n, str) for n in self.slub_debug_slabs)):
            raise InvalidNameError(f"SlubParams.slub_debug_slabs must be None or a tuple of cache names, "
                                   f"got {show(self.slub_debug_slabs)}")
        if not is_int(self.kmalloc_min_size):
            raise InvalidSizeError(f"SlubParams.kmalloc_min_size must be an int, got {show(self.kmalloc_min_size)}")
        _km._check_min_size(self.kmalloc_min_size)
        if self.nr_cpus < 1:
            raise InvalidSizeError("nr_cpus must be >= 1")
        if self.slub_max_order > self.max_page_order or self.slub_min_order > self.max_page_order:
            raise InvalidSizeError("slab_min_order/slab_max_order are clamped to MAX_PAGE_ORDER; "
                                   f"got {self.slub_min_order}/{self.slub_max_order} > {self.max_page_order}")
        if self.order_algorithm not in ("6.7", "6.1"):
            raise InvalidFlagsError(f"order_algorithm must be '6.7' or '6.1', got {self.order_algorithm!r}")
        for name in ("cache_line_size", "arch_slab_minalign"):
            if not is_power_of_2(getattr(self, name)):
                raise InvalidAlignError(f"SlubParams.{name} must be a power of two")

    @property
    def page_size(self) -> int:
        return 1 << self.page_shift


DEFAULT_PARAMS = SlubParams()


def _check_params(params: object) -> SlubParams:
    if not isinstance(params, SlubParams):
        raise InvalidArgumentError(f"params must be a SlubParams, got {show(params)}")
    return params


# --------------------------------------------------------------------------------------------
# Pure geometry
# --------------------------------------------------------------------------------------------

def _check_int(v: object, what: str, lo: int = 0, hi: int | None = None) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise InvalidSizeError(f"{what} must be an int, got {v!r}")
    if v < lo or (hi is not None and v > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise InvalidSizeError(f"{what} must be in {rng}, got {v}")
    return v


def _check_align(align: object) -> int:
    if not isinstance(align, int) or isinstance(align, bool):
        raise InvalidAlignError(f"align must be an int, got {align!r}")
    if align != 0 and not is_power_of_2(align):
        raise InvalidAlignError(f"align must be 0 or a power of two, got {align}")
    if align > 1 << 22:
        raise InvalidAlignError(f"align {align} is absurd (more than KMALLOC_MAX_SIZE)")
    return align


def calculate_alignment(flags: int, align: int, size: int, *, cache_line_size: int = 64,
                        arch_slab_minalign: int = 8) -> int:
    """Object alignment of a cache (``calculate_alignment()``, mm/slab_common.c).

    With SLAB_HWCACHE_ALIGN the cache line size is halved while the object fits in half of it;
    the result is at least ``arch_slab_minalign`` and a multiple of ``sizeof(void *)``.
    """
    _check_align(align)
    _check_int(size, "size", 0, 1 << 40)
    check_slab_flags(flags, permitted=(1 << 64) - 1)
    for name, v in (("cache_line_size", cache_line_size), ("arch_slab_minalign", arch_slab_minalign)):
        if _check_int(v, name, 1, 1 << 20) & (v - 1):
            raise InvalidAlignError(f"{name} must be a power of two, got {v}")
    if flags & SLAB_HWCACHE_ALIGN:
        ralign = cache_line_size
        while size <= ralign // 2:
            ralign //= 2
        align = max(align, ralign)
    align = max(align, arch_slab_minalign)
    return ALIGN(align, PTR_SIZE)


@dataclass(frozen=True)
class SizeLayout:
    """Result of ``calculate_sizes()`` (before the order is chosen)."""

    object_size: int
    size: int            # s->size: slot size (sysfs slab_size)
    inuse: int           # s->inuse: object + right red zone word(s)
    offset: int          # s->offset: free pointer offset from the object start
    red_left_pad: int    # s->red_left_pad
    flags: int           # s->flags with __OBJECT_POISON resolved
    track_bytes: int     # 2*sizeof(struct track) when STORE_USER
    orig_size_bytes: int  # 8 when STORE_USER on a kmalloc cache

    @property
    def freeptr_outside(self) -> bool:
        """``freeptr_outside_object()``: the free pointer does not overlap the object."""
        return self.offset >= self.inuse


def calculate_sizes(object_size: int, flags: int, align: int, *, ctor: bool = False,
                    freeptr_offset: int | None = None, track_size: int = TRACK_SIZE_STACKDEPOT) -> SizeLayout:
    """Slot layout of a cache (``calculate_sizes()``, mm/slub.c; KASAN not modelled).

    ``align`` is the already-calculated ``s->align``; ``freeptr_offset`` models
    ``args->use_freeptr_offset``/``args->freeptr_offset`` (only for TYPESAFE_BY_RCU caches).
    """
    _check_int(object_size, "object_size", 1, 1 << 30)
    _check_align(align)
    check_slab_flags(flags, permitted=(1 << 64) - 1)
    check_bool(bool(ctor) if callable(ctor) else ctor, "ctor")
    _check_int(track_size, "track_size", 0, 1024)
    if freeptr_offset is not None:
        _check_int(freeptr_offset, "freeptr_offset", 0, object_size - 1)
    if align == 0:
        raise InvalidAlignError("calculate_sizes() needs the calculated s->align (>= 8), got 0")
    size = ALIGN(object_size, PTR_SIZE)
    if (flags & SLAB_POISON) and not (flags & SLAB_TYPESAFE_BY_RCU) and not ctor:
        flags |= OBJECT_POISON
    else:
        flags &= ~OBJECT_POISON
    if (flags & SLAB_RED_ZONE) and size == object_size:
        size += PTR_SIZE
    inuse = size
    use_fpo = freeptr_offset is not None
    orig_size = bool((flags & SLAB_STORE_USER) and (flags & SLAB_KMALLOC))  # slub_debug_orig_size()
    if (((flags & SLAB_TYPESAFE_BY_RCU) and not use_fpo) or (flags & SLAB_POISON) or ctor
            or ((flags & SLAB_RED_ZONE) and (object_size < PTR_SIZE or orig_size))):
        offset = size
        size += PTR_SIZE
    elif (flags & SLAB_TYPESAFE_BY_RCU) and use_fpo:
        offset = freeptr_offset  # type: ignore[assignment]
    else:
        offset = ALIGN_DOWN(object_size // 2, PTR_SIZE)
    track_bytes = orig_bytes = 0
    if flags & SLAB_STORE_USER:
        track_bytes = 2 * track_size
        size += track_bytes
        if flags & SLAB_KMALLOC:
            orig_bytes = PTR_SIZE
            size += orig_bytes
    red_left_pad = 0
    if flags & SLAB_RED_ZONE:
        size += PTR_SIZE
        red_left_pad = ALIGN(PTR_SIZE, align)
        size += red_left_pad
    size = ALIGN(size, align)
    return SizeLayout(object_size, size, inuse, offset, red_left_pad, flags, track_bytes, orig_bytes)


def order_objects(order: int, size: int, page_shift: int = PAGE_SHIFT) -> int:
    """Objects of ``size`` bytes in a slab of ``order`` (``order_objects()``): ``(PAGE_SIZE << order) / size``."""
    _check_int(size, "size", 1)
    _check_int(order, "order", 0, 30)
    _check_int(page_shift, "page_shift", 10, 20)
    return ((1 << page_shift) << order) // size


def oo_make(order: int, size: int, page_shift: int = PAGE_SHIFT) -> int:
    """``oo_make()``: ``(order << OO_SHIFT) | order_objects(order, size)``."""
    objects = order_objects(order, size, page_shift)
    return (order << OO_SHIFT) | objects


def oo_order(oo: int) -> int:
    """``oo_order()``."""
    _check_int(oo, "oo", 0, (1 << 64) - 1)
    return oo >> OO_SHIFT


def oo_objects(oo: int) -> int:
    """``oo_objects()``."""
    _check_int(oo, "oo", 0, (1 << 64) - 1)
    return oo & ((1 << OO_SHIFT) - 1)


def slub_min_objects_for(nr_cpus: int, nr_cpu_ids: int | None = None) -> int:
    """Default ``min_objects`` of ``calculate_order()``: ``4 * (fls(nr) + 1)``.

    ``nr`` is ``num_present_cpus()``, replaced by ``nr_cpu_ids`` when it is <= 1.
    """
    _check_int(nr_cpus, "nr_cpus", 1)
    nr = nr_cpus
    if nr <= 1 and nr_cpu_ids:
        nr = nr_cpu_ids
    return 4 * (nr.bit_length() + 1)


def calc_slab_order(size: int, min_order: int, max_order: int, fract_leftover: int,
                    page_shift: int = PAGE_SHIFT) -> int:
    """First order in ``[min_order, max_order]`` whose leftover ``(PAGE_SIZE<<order) % size`` is at most
    ``1/fract_leftover`` of the slab, else ``max_order + 1`` (``calc_slab_order()``, 6.7+)."""
    _check_int(size, "size", 1, 1 << 40)
    _check_int(min_order, "min_order", 0, 20)
    _check_int(max_order, "max_order", 0, 20)
    _check_int(fract_leftover, "fract_leftover", 1)
    _check_int(page_shift, "page_shift", 10, 20)
    order = min_order
    while order <= max_order:
        slab_size = (1 << page_shift) << order
        if slab_size % size <= slab_size // fract_leftover:
            break
        order += 1
    return order


def _calculate_order_67(size: int, p: SlubParams) -> int:
    min_objects = p.slub_min_objects or slub_min_objects_for(p.nr_cpus, p.nr_cpu_ids)
    max_objects = max(order_objects(p.slub_max_order, size, p.page_shift), 1)
    min_objects = min(min_objects, max_objects)
    min_order = max(p.slub_min_order, get_order(min_objects * size, p.page_shift))
    if order_objects(min_order, size, p.page_shift) > MAX_OBJS_PER_PAGE:
        return get_order(size * MAX_OBJS_PER_PAGE, p.page_shift) - 1
    fraction = 16
    while fraction > 1:
        order = calc_slab_order(size, min_order, p.slub_max_order, fraction, p.page_shift)
        if order <= p.slub_max_order:
            return order
        fraction //= 2
    order = get_order(size, p.page_shift)
    return order if order <= p.max_page_order else -1


def _calc_slab_order_61(size: int, min_objects: int, max_order: int, fract_leftover: int, p: SlubParams) -> int:
    min_order = p.slub_min_order
    if order_objects(min_order, size, p.page_shift) > MAX_OBJS_PER_PAGE:
        return get_order(size * MAX_OBJS_PER_PAGE, p.page_shift) - 1
    start = max(min_order, get_order(min_objects * size, p.page_shift))
    return calc_slab_order(size, start, max_order, fract_leftover, p.page_shift)


def _calculate_order_61(size: int, p: SlubParams) -> int:
    min_objects = p.slub_min_objects or slub_min_objects_for(p.nr_cpus, p.nr_cpu_ids)
    max_objects = order_objects(p.slub_max_order, size, p.page_shift)
    min_objects = min(min_objects, max_objects)
    while min_objects > 1:
        fraction = 16
        while fraction >= 4:
            order = _calc_slab_order_61(size, min_objects, p.slub_max_order, fraction, p)
            if order <= p.slub_max_order:
                return order
            fraction //= 2
        min_objects -= 1
    order = _calc_slab_order_61(size, 1, p.slub_max_order, 1, p)
    if order <= p.slub_max_order:
        return order
    order = _calc_slab_order_61(size, 1, p.max_page_order + 1, 1, p)
    return order if order <= p.max_page_order else -1


def calculate_order(size: int, params: SlubParams = DEFAULT_PARAMS) -> int:
    """Preferred slab order for slot ``size`` (``calculate_order()``, mm/slub.c).

    ``params.order_algorithm == "6.7"`` is the current algorithm (min_order from min_objects,
    then fractions 16, 8, 4, 2, then ``get_order(size)``); ``"6.1"`` is the older one (outer
    ``min_objects--`` loop, fractions 16/8/4, then one object). Returns -1 (``-ENOSYS``) when
    not even one object fits in MAX_PAGE_ORDER.
    """
    _check_int(size, "size", 1, 1 << 40)
    _check_params(params)
    if params.order_algorithm == "6.1":
        return _calculate_order_61(size, params)
    return _calculate_order_67(size, params)


def compute_min_partial(size: int) -> int:
    """``s->min_partial = clamp(ilog2(s->size) / 2, MIN_PARTIAL, MAX_PARTIAL)`` (``do_kmem_cache_create``)."""
    _check_int(size, "size", 1, 1 << 40)
    return max(MIN_PARTIAL, min(MAX_PARTIAL, ilog2(size) // 2))


def compute_cpu_partial(size: int, flags: int, objects: int, page_size: int = 1 << PAGE_SHIFT,
                        enabled: bool = True) -> tuple[int, int]:
    """``(cpu_partial, cpu_partial_slabs)`` of ``set_cpu_partial()``/``slub_set_cpu_partial()``.

    0 for debug caches (``kmem_cache_has_cpu_partial``) or without CONFIG_SLUB_CPU_PARTIAL;
    else 6 / 24 / 52 / 120 objects by slot size, and ``DIV_ROUND_UP(cpu_partial * 2, objects)`` slabs.
    """
    _check_int(size, "size", 1, 1 << 40)
    check_slab_flags(flags, permitted=(1 << 64) - 1)
    _check_int(objects, "objects", 0, 1 << 40)
    _check_int(page_size, "page_size", 1 << 10, 1 << 20)
    check_bool(enabled, "enabled")
    if not enabled or flags & SLAB_DEBUG_FLAGS:
        nr = 0
    elif size >= page_size:
        nr = 6
    elif size >= 1024:
        nr = 24
    elif size >= 256:
        nr = 52
    else:
        nr = 120
    slabs = -(-nr * 2 // objects) if objects else 0
    return nr, slabs


def slab_ksize(flags: int, object_size: int, inuse: int, size: int) -> int:
    """Usable bytes of one object (``slab_ksize()``, mm/slab.h; KASAN/KFENCE not modelled).

    ``object_size`` with RED_ZONE or POISON (metadata right behind the object), ``inuse`` with
    TYPESAFE_BY_RCU or STORE_USER, else the whole slot ``size``.
    """
    check_slab_flags(flags, permitted=(1 << 64) - 1)
    for name, v in (("object_size", object_size), ("inuse", inuse), ("size", size)):
        _check_int(v, name, 0, 1 << 40)
    if flags & (SLAB_RED_ZONE | SLAB_POISON):
        return object_size
    if flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER):
        return inuse
    return size


def create_unique_id(flags: int, size: int) -> str:
    """sysfs directory of a mergeable cache (``create_unique_id()``): ``:`` + flag letters
    (d=DMA, D=DMA32, a=RECLAIM_ACCOUNT, F=CONSISTENCY_CHECKS, A=ACCOUNT) + ``-`` if any + ``%07u`` size."""
    check_slab_flags(flags, permitted=(1 << 64) - 1)
    _check_int(size, "size", 0, (1 << 32) - 1)
    letters = "".join(ch for bit, ch in ((SLAB_CACHE_DMA, "d"), (SLAB_CACHE_DMA32, "D"),
                                         (SLAB_RECLAIM_ACCOUNT, "a"), (SLAB_CONSISTENCY_CHECKS, "F"),
                                         (SLAB_ACCOUNT, "A")) if flags & bit)
    return ":" + (letters + "-" if letters else "") + f"{size:07d}"


@dataclass(frozen=True)
class Region:
    """One piece of a slot, for drawing: ``[start, start+length)`` relative to the slot start."""

    start: int
    length: int
    kind: str   # "left redzone" | "object" | "free pointer" | "right redzone" | "padding" |
                # "alloc track" | "free track" | "orig_size" | "metadata padding"
    overlaps_object: bool = False   # the in-object free pointer (used only while the object is free)


def slot_layout(lay: SizeLayout) -> list[Region]:
    """Per-slot layout as data: left red zone, object, right red zone / word padding, free pointer,
    tracks, orig_size, trailing padding (``print_trailer``/``check_object`` regions of mm/slub.c).

    The in-object free pointer (default) is reported with ``overlaps_object=True`` and is listed
    after the object region it overlaps. Offsets are from the slot start; the object itself starts
    at ``red_left_pad`` (``fixup_red_left``).
    """
    if not isinstance(lay, SizeLayout):
        raise InvalidArgumentError(f"slot_layout needs a SizeLayout (from calculate_sizes()), got {show(lay)}")
    out: list[Region] = []
    base = lay.red_left_pad
    if base:
        out.append(Region(0, base, "left redzone"))
    out.append(Region(base, lay.object_size, "object"))
    if lay.inuse > lay.object_size:
        kind = "right redzone" if lay.flags & SLAB_RED_ZONE else "padding"
        out.append(Region(base + lay.object_size, lay.inuse - lay.object_size, kind))
    if lay.freeptr_outside:
        out.append(Region(base + lay.offset, PTR_SIZE, "free pointer"))
        end = lay.offset + PTR_SIZE
    else:
        out.append(Region(base + lay.offset, PTR_SIZE, "free pointer", overlaps_object=True))
        end = lay.inuse
    if lay.track_bytes:
        half = lay.track_bytes // 2
        out.append(Region(base + end, half, "alloc track"))
        out.append(Region(base + end + half, half, "free track"))
        end += lay.track_bytes
    if lay.orig_size_bytes:
        out.append(Region(base + end, lay.orig_size_bytes, "orig_size"))
        end += lay.orig_size_bytes
    if base + end < lay.size:
        out.append(Region(base + end, lay.size - base - end,
                          "metadata padding" if lay.flags & SLAB_RED_ZONE else "padding"))
    return out


@dataclass(frozen=True)
class CacheGeometry:
    """Everything ``do_kmem_cache_create()`` derives for a cache (no runtime state)."""

    name: str
    object_size: int
    size: int
    align: int
    flags: int
    inuse: int
    offset: int
    red_left_pad: int
    order: int          # oo_order(s->oo): preferred order (sysfs order)
    objects: int        # oo_objects(s->oo): sysfs objs_per_slab
    min_order: int      # oo_order(s->min): fallback order get_order(size)
    min_objects: int    # oo_objects(s->min)
    min_partial: int
    cpu_partial: int
    cpu_partial_slabs: int
    ksize: int          # slab_ksize(s)
    layout: SizeLayout
    page_size: int = 1 << PAGE_SHIFT

    @property
    def oo(self) -> int:
        return (self.order << OO_SHIFT) | self.objects

    @property
    def min(self) -> int:
        return (self.min_order << OO_SHIFT) | self.min_objects

    @property
    def slab_bytes(self) -> int:
        """Bytes in one slab of the preferred order: ``PAGE_SIZE << order``."""
        return self.page_size << self.order

    @property
    def slab_waste(self) -> int:
        """Bytes at the end of a (preferred-order) slab that fit no object."""
        return self.slab_bytes - self.objects * self.size

    @property
    def slot_overhead(self) -> int:
        """Bytes per slot beyond the object: ``size - object_size``."""
        return self.size - self.object_size

    @property
    def efficiency(self) -> float:
        """``objects * object_size`` as a percentage of the slab (slabinfo tool's ``Eff``)."""
        return 100.0 * self.objects * self.object_size / self.slab_bytes

    def regions(self) -> list[Region]:
        """Per-object layout (see :func:`slot_layout`)."""
        return slot_layout(self.layout)


def _check_cache_name(name: object) -> str:
    """A cache name as /proc/slabinfo and /sys/kernel/slab can show it: printable, no blank, no '/'."""
    if not isinstance(name, str) or not name or "/" in name or not name.isprintable() \
            or any(c.isspace() for c in name) or len(name) > 255:
        raise InvalidNameError(f"cache name must be a non-empty printable string of at most 255 characters "
                               f"without blanks or '/' (it is a /proc/slabinfo column and a sysfs directory), "
                               f"got {show(name)}")
    return name


def make_geometry(name: str, object_size: int, align: int = 0, flags: int = 0, *, ctor: bool = False,
                  freeptr_offset: int | None = None, params: SlubParams = DEFAULT_PARAMS,
                  align_is_final: bool = False) -> CacheGeometry:
    """Geometry of a new cache as ``__kmem_cache_create_args`` → ``do_kmem_cache_create`` builds it.

    ``align`` is the caller's alignment (0 = none) and goes through ``calculate_alignment``
    (idempotent, so passing an already-final ``s->align``, as read from sysfs, is fine).
    ``flags`` pass through ``kmem_cache_flags`` (params.slub_debug). Raises on bad input.
    """
    _check_params(params)
    _check_cache_name(name)
    check_bool(ctor, "ctor")
    check_bool(align_is_final, "align_is_final")
    _check_int(object_size, "object_size", 1, 1 << (params.max_page_order + params.page_shift))
    _check_align(align)
    check_slab_flags(flags)
    flags = kmem_cache_flags(flags & CACHE_CREATE_MASK, name, params.slub_debug, params.slub_debug_slabs)
    if not align_is_final:
        align = calculate_alignment(flags, align, object_size, cache_line_size=params.cache_line_size,
                                    arch_slab_minalign=params.arch_slab_minalign)
    if freeptr_offset is not None:
        _check_int(freeptr_offset, "freeptr_offset", 0)
        if freeptr_offset >= object_size:
            raise InvalidSizeError(f"freeptr_offset {freeptr_offset} must be < object_size {object_size}")
        if not flags & SLAB_TYPESAFE_BY_RCU:
            raise InvalidFlagsError("freeptr_offset is only allowed with SLAB_TYPESAFE_BY_RCU (create_cache)")
        if freeptr_offset % PTR_SIZE:
            raise InvalidAlignError(f"freeptr_offset {freeptr_offset} is not aligned to sizeof(freeptr_t)")
    lay = calculate_sizes(object_size, flags, align, ctor=ctor, freeptr_offset=freeptr_offset,
                          track_size=params.track_size)
    order = calculate_order(lay.size, params)
    if order < 0:
        raise InvalidSizeError(f"cache {name!r}: slot size {lay.size} does not fit MAX_PAGE_ORDER "
                               f"{params.max_page_order} (calculate_order: -ENOSYS)")
    objects = order_objects(order, lay.size, params.page_shift)
    min_order = get_order(lay.size, params.page_shift)
    cpu_partial, cpu_slabs = compute_cpu_partial(lay.size, lay.flags, objects, params.page_size,
                                                 params.cpu_partial_enabled)
    g = CacheGeometry(name=name, object_size=object_size, size=lay.size, align=align, flags=lay.flags,
                      inuse=lay.inuse, offset=lay.offset, red_left_pad=lay.red_left_pad, order=order,
                      objects=objects, min_order=min_order,
                      min_objects=order_objects(min_order, lay.size, params.page_shift),
                      min_partial=compute_min_partial(lay.size), cpu_partial=cpu_partial,
                      cpu_partial_slabs=cpu_slabs,
                      ksize=slab_ksize(lay.flags, object_size, lay.inuse, lay.size), layout=lay,
                      page_size=params.page_size)
    return g


def kmalloc_cache_geometry(index: int, type_: int = _km.KMALLOC_NORMAL,
                           params: SlubParams = DEFAULT_PARAMS) -> CacheGeometry:
    """Geometry of a kmalloc cache as ``new_kmalloc_cache()``/``create_boot_cache()`` make it:
    natural alignment ``max(8, lowest set bit of size)``, SLAB_KMALLOC plus the type's flags."""
    _check_params(params)
    _check_int(index, "kmalloc index", 1, len(_km.KMALLOC_INFO) - 1)
    if type_ not in _km.KMALLOC_TYPE_PREFIX or not is_int(type_):
        raise InvalidFlagsError(f"unknown kmalloc type {show(type_)}")
    size = _km.KMALLOC_INFO[index][0]
    flags = SLAB_KMALLOC | kmalloc_type_flags(type_)
    align = kmalloc_cache_align(size, params.kernel_version)
    return make_geometry(_km.kmalloc_cache_name(index, type_), size, align, flags, params=params)


def kmalloc_cache_align(size: int, kernel_version: str = DEFAULT_KERNEL_VERSION) -> int:
    """The ``align`` ``create_boot_cache()`` asks for a kmalloc cache of ``size`` bytes.

    Since Linux 6.11 (commit ad59baa31695 "slab, rust: extend kmalloc() alignment guarantees to
    remove Rust padding") it is the largest power of two dividing the size (kmalloc-96: 32,
    kmalloc-192: 64); before, only power-of-two sizes were naturally aligned and kmalloc-96 and
    kmalloc-192 got ``ARCH_KMALLOC_MINALIGN`` (8), as sysfs shows on 6.1.
    """
    if version_tuple(kernel_version) < (6, 11):
        return max(_km.ARCH_KMALLOC_MINALIGN, size) if size & (size - 1) == 0 else _km.ARCH_KMALLOC_MINALIGN
    return max(_km.ARCH_KMALLOC_MINALIGN, size & -size)


def params_for_kernel(kernel_version: str, base: "SlubParams | None" = None, **changes) -> "SlubParams":
    """:class:`SlubParams` for a kernel release: ``order_algorithm`` ``"6.1"`` before 6.7 (V. Babka's
    ``calculate_order`` rewrite), ``"6.7"`` from then on, and ``kernel_version`` set."""
    v = version_tuple(kernel_version)
    base = DEFAULT_PARAMS if base is None else base
    return replace(base, kernel_version=f"{v[0]}.{v[1]}", order_algorithm="6.1" if v < (6, 7) else "6.7",
                   **changes)


def kmalloc_type_flags(type_: int) -> int:
    """SLAB flags ``new_kmalloc_cache()`` gives each kmalloc type (with CONFIG_MEMCG)."""
    if not is_int(type_) or type_ not in _km.KMALLOC_TYPE_PREFIX:
        raise InvalidFlagsError(f"unknown kmalloc type {show(type_)}")
    return {_km.KMALLOC_NORMAL: SLAB_NO_MERGE, _km.KMALLOC_RECLAIM: SLAB_RECLAIM_ACCOUNT,
            _km.KMALLOC_CGROUP: SLAB_ACCOUNT, _km.KMALLOC_DMA: SLAB_CACHE_DMA,
            _km.KMALLOC_NO_OBJ_EXT: SLAB_NO_MERGE}[type_]


# --------------------------------------------------------------------------------------------
# Runtime: slabs, caches, the allocator
# --------------------------------------------------------------------------------------------

_GFP_ACCOUNT = _gfp.FLAGS["ACCOUNT"]
_GFP_COMP = _gfp.FLAGS["COMP"]
_GFP_DMA = _gfp.FLAGS["DMA"]
_GFP_FS = _gfp.FLAGS["FS"]
_GFP_HARDWALL = _gfp.FLAGS["HARDWALL"]
_GFP_HIGH = _gfp.FLAGS["HIGH"]
_GFP_IO = _gfp.FLAGS["IO"]
_GFP_MEMALLOC = _gfp.FLAGS["MEMALLOC"]
_GFP_NOFAIL = _gfp.FLAGS["NOFAIL"]
_GFP_NOMEMALLOC = _gfp.FLAGS["NOMEMALLOC"]
_GFP_NORETRY = _gfp.FLAGS["NORETRY"]
_GFP_NOWARN = _gfp.FLAGS["NOWARN"]
_GFP_NO_OBJ_EXT = _gfp.FLAGS["NO_OBJ_EXT"]
_GFP_RECLAIM = _gfp.FLAGS["DIRECT_RECLAIM"] | _gfp.FLAGS["KSWAPD_RECLAIM"]
_GFP_RECLAIMABLE = _gfp.FLAGS["RECLAIMABLE"]
_GFP_RETRY_MAYFAIL = _gfp.FLAGS["RETRY_MAYFAIL"]
_GFP_THISNODE = _gfp.FLAGS["THISNODE"]
_GFP_ZERO = _gfp.FLAGS["ZERO"]
_GFP_RECLAIM_MASK = (_GFP_RECLAIM | _GFP_HIGH | _GFP_IO | _GFP_FS | _GFP_NOWARN
                     | _GFP_RETRY_MAYFAIL | _GFP_NOFAIL | _GFP_NORETRY | _GFP_MEMALLOC
                     | _GFP_NOMEMALLOC)
_GFP_CONSTRAINT_MASK = _GFP_HARDWALL | _GFP_THISNODE


class Slab:
    """One slab (``struct slab``): ``2**order`` pages from the Zone cut into ``objects`` slots.

    ``freelist`` holds free slot indices as a stack (the last entry is the next object handed
    out, so a freed object is reused first, like SLUB's LIFO freelist; the initial order is
    sequential, i.e. SLAB_FREELIST_RANDOM is not modelled). Slot ``i`` starts at
    ``base + i * size``; its object at ``base + i * size + red_left_pad`` (``obj0 + i * size``).
    ``inuse`` is derived from the freelist, so the two can never disagree.
    """

    __slots__ = ("cache", "pfn", "order", "base", "objects", "freelist", "requested", "obj0")

    def __init__(self, cache: "KmemCache", pfn: int, order: int, objects: int, page_shift: int) -> None:
        self.cache = cache
        self.pfn = pfn
        self.order = order
        self.base = pfn_to_virt(pfn, page_shift)
        self.objects = objects
        self.freelist = list(range(objects - 1, -1, -1))
        self.requested = 0
        self.obj0 = self.base + cache.red_left_pad   # object 0 (slot 0 + left red zone)

    @property
    def inuse(self) -> int:
        """Allocated objects (``slab->inuse``): every slot not on the freelist."""
        return self.objects - len(self.freelist)

    @property
    def nr_free(self) -> int:
        return len(self.freelist)

    @property
    def slab_bytes(self) -> int:
        return self.cache.page_size << self.order

    @property
    def tail_waste(self) -> int:
        """Bytes after the last slot: ``(PAGE_SIZE << order) - objects * size``."""
        return self.slab_bytes - self.objects * self.cache.size

    def object_addr(self, index: int) -> int:
        """Address of object ``index`` (``fixup_red_left(s, start + index * size)``)."""
        return self.base + index * self.cache.size + self.cache.red_left_pad

    def allocated_indices(self) -> list[int]:
        free = set(self.freelist)
        return [i for i in range(self.objects) if i not in free]

    def __repr__(self) -> str:
        return f"<Slab {self.cache.name} pfn={self.pfn} order={self.order} {self.inuse}/{self.objects}>"


class KmemCache:
    """``struct kmem_cache`` with its slabs. Create through :meth:`SlubAllocator.kmem_cache_create`."""

    def __init__(self, geometry: CacheGeometry, *, ctor: Callable | bool | None, usersize: int,
                 page_shift: int, mergeable_boot: bool = True, is_kmalloc: bool = False) -> None:
        g = geometry
        self.geometry = g
        self.name = g.name
        self.object_size = g.object_size
        self.size = g.size
        self.align = g.align
        self.flags = g.flags
        self.inuse = g.inuse
        self.offset = g.offset
        self.red_left_pad = g.red_left_pad
        self.order = g.order
        self.objects = g.objects
        self.min_order = g.min_order
        self.min_objects = g.min_objects
        self.min_partial = g.min_partial
        self.cpu_partial = g.cpu_partial
        self.cpu_partial_slabs = g.cpu_partial_slabs
        self.ctor = ctor
        self.usersize = usersize
        self.refcount = 1 if mergeable_boot else -1
        self.is_kmalloc = is_kmalloc
        self.page_shift = page_shift
        self.page_size = 1 << page_shift
        self.alias_names: list[str] = []
        self.sysfs_name = g.name
        self.dead = False
        # runtime state
        self.cpu_slab: Slab | None = None
        self.partial: dict[Slab, None] = {}    # node partial list, head first
        self.slabs: dict[int, Slab] = {}        # head pfn -> slab
        self.nr_slabs = 0
        self.total_objects = 0
        self.slab_pages = 0
        self.nr_frees = 0                       # objects freed since creation (stat "free")
        self._slab_stat = {"alloc_slab": 0, "free_slab": 0, "order_fallback": 0}

    @property
    def inuse_objects(self) -> int:
        """Allocated objects in all slabs of the cache (summed from the slabs when read)."""
        return self.total_objects - sum(len(sl.freelist) for sl in self.slabs.values())

    @property
    def requested_bytes(self) -> int:
        """Bytes the live objects of this cache were requested with (summed from the slabs)."""
        return sum(sl.requested for sl in self.slabs.values())

    @property
    def stat(self) -> dict[str, int]:
        """Event counters like ``/sys/kernel/slab/<cache>/{alloc,free}_*`` with CONFIG_SLUB_STATS:
        ``alloc``, ``free``, ``alloc_slab``, ``free_slab``, ``order_fallback`` (a fresh dict).

        Every allocated object is either live or was freed, so ``alloc`` is ``free + inuse_objects``
        (a cache is destroyed only when empty); only frees are counted on the hot path.
        """
        return {"alloc": self.nr_frees + self.inuse_objects, "free": self.nr_frees, **self._slab_stat}

    @property
    def ksize(self) -> int:
        """``slab_ksize(s)``: usable bytes of one object of this cache."""
        return slab_ksize(self.flags, self.object_size, self.inuse, self.size)

    @property
    def oo(self) -> int:
        return (self.order << OO_SHIFT) | self.objects

    def regions(self) -> list[Region]:
        return self.geometry.regions()

    def __repr__(self) -> str:
        return (f"<KmemCache {self.name} object_size={self.object_size} size={self.size} "
                f"order={self.order} objs/slab={self.objects} slabs={self.nr_slabs} inuse={self.inuse_objects}>")


@dataclass(frozen=True)
class AllocationInfo:
    """One live allocation."""

    addr: int
    cache: str | None     # None for a large (page allocator) kmalloc
    requested: int
    allocated: int        # ksize
    caller: str | None
    order: int | None = None

    @property
    def waste(self) -> int:
        return self.allocated - self.requested


@dataclass(frozen=True)
class CacheStats:
    """Accounting of one cache (all byte counts exact)."""

    name: str
    object_size: int
    slab_size: int
    objs_per_slab: int
    order: int
    nr_slabs: int
    slab_pages: int
    slab_bytes: int             # pages * PAGE_SIZE
    objects_total: int
    objects_inuse: int
    requested_bytes: int        # sum of live requests
    allocated_bytes: int        # objects_inuse * ksize
    request_waste: int          # allocated - requested (rounding to the size class)
    slot_overhead: int          # objects_inuse * (size - ksize): metadata/alignment beyond ksize
    free_slot_bytes: int        # free slots * size
    tail_waste: int             # sum over slabs of the bytes after the last slot
    efficiency: float           # objects_inuse * object_size * 100 / slab_bytes (slabinfo %Ef)
    loss: int                   # slab_bytes - objects_inuse * object_size (slabinfo Loss)

    @property
    def total_waste(self) -> int:
        """slab_bytes - requested_bytes."""
        return self.slab_bytes - self.requested_bytes


@dataclass(frozen=True)
class SlabStats:
    """Accounting of one slab."""

    pfn: int
    order: int
    objects: int
    inuse: int
    requested_bytes: int
    slab_bytes: int
    tail_waste: int
    free_bytes: int
    where: str                 # "cpu" | "partial" | "full"


@dataclass(frozen=True)
class Totals:
    """Whole-allocator totals."""

    nr_caches: int
    nr_slabs: int
    slab_pages: int
    slab_bytes: int
    objects_inuse: int
    objects_total: int
    slab_requested: int
    slab_allocated: int
    large_allocs: int
    large_pages: int
    large_requested: int
    requested_bytes: int        # slab + large
    allocated_bytes: int        # slab ksize sum + large folio sizes
    pages_used: int             # slab pages + large pages

    @property
    def request_waste(self) -> int:
        return self.allocated_bytes - self.requested_bytes

    @property
    def total_waste(self) -> int:
        """Every byte of the pages in use that no request asked for."""
        return (self.pages_used << PAGE_SHIFT) - self.requested_bytes


@dataclass(frozen=True)
class TraceRow:
    """One line of the ``alloc_traces``-style table (live allocations grouped by caller)."""

    caller: str
    count: int
    requested: int
    allocated: int
    caches: tuple[str, ...]

    @property
    def waste(self) -> int:
        return self.allocated - self.requested


def _check_caller(caller: object) -> None:
    if caller is not None and not isinstance(caller, str):
        raise InvalidArgumentError(f"caller must be None or a string (a function name), got {show(caller)}")


def _default_zone(page_shift: int, max_page_order: int):
    return Zone(1 << 18, page_shift=page_shift, max_page_order=max_page_order, log_events=False)


_LARGE = object()   # marker in the live table for page-allocator kmallocs
_KMALLOC_TABLE_MAX = 1 << 14
"""Largest size served through the precomputed size -> kmalloc index table (bigger: ``fls``)."""


@functools.lru_cache(maxsize=None)
def _kmalloc_index_by_size(kmalloc_min_size: int, max_size: int) -> tuple[int, ...]:
    """``kmalloc_slab()``'s cache index for every size ``0..max_size`` (entry 0 unused):
    ``kmalloc_size_index[(size-1)/8]`` up to 192 bytes, ``fls(size-1)`` above. Shared, immutable."""
    si = _km.kmalloc_size_index_table(kmalloc_min_size)
    return (0,) + tuple(si[(n - 1) >> 3] if n <= 192 else (n - 1).bit_length() for n in range(1, max_size + 1))


class SlubAllocator:
    """All slab caches of one modelled kernel, with kmalloc on top (mm/slub.c, mm/slab_common.c).

    Slab pages come from ``zone`` (a :class:`kmemlib.mm.page_alloc.Zone`; by default a fresh 1 GiB zone
    without event logging) through ``alloc_pages``/``free_pages`` only. ``create_kmalloc_caches``
    builds kmalloc caches for every type like the kernel (and ``kmem_cache``, ``kmem_cache_node``,
    ``kmalloc_buckets`` first when ``boot_caches``).

    Simplifications (documented): one CPU slab per cache, no per-CPU partial lists (a slab that gets
    a free object goes to the tail of the node partial list; an empty slab is discarded when the
    partial list already holds ``min_partial`` slabs), sequential initial freelists, no KASAN/KFENCE,
    no object contents. Every rejected call leaves the state unchanged.
    """

    def __init__(self, zone=None, *, params: SlubParams = DEFAULT_PARAMS, create_kmalloc_caches: bool = True,
                 boot_caches: bool = True, boot_cache_sizes: tuple[int, int] = (232, 72),
                 memcg_kmem: bool = True) -> None:
        _check_params(params)
        for name, v in (("create_kmalloc_caches", create_kmalloc_caches), ("boot_caches", boot_caches),
                        ("memcg_kmem", memcg_kmem)):
            check_bool(v, name)
        if (not isinstance(boot_cache_sizes, tuple) or len(boot_cache_sizes) != 2
                or not all(is_int(v) and 8 <= v <= 4096 for v in boot_cache_sizes)):
            raise InvalidSizeError(f"boot_cache_sizes must be two ints in 8..4096 (kmem_cache, kmem_cache_node), "
                                   f"got {show(boot_cache_sizes)}")
        if zone is None:
            zone = _default_zone(params.page_shift, params.max_page_order)
        from .page_alloc import Node  # noqa: PLC0415 - same package, next to Zone
        if not isinstance(zone, (Zone, Node)):
            raise InvalidArgumentError(f"SlubAllocator zone must be a Zone (or a Node) to take slab pages from, "
                                       f"got {show(zone)}")
        self._zone_max_order = zone.zones[0].max_page_order if isinstance(zone, Node) else zone.max_page_order
        if getattr(zone, "page_shift", params.page_shift) != params.page_shift:
            raise InvalidSizeError(f"zone page_shift {zone.page_shift} != params.page_shift {params.page_shift}")
        self.zone = zone
        self.params = params
        self.page_shift = params.page_shift
        self.page_size = params.page_size
        self.kmalloc_max_cache_size = 1 << (params.page_shift + 1)
        self.kmalloc_max_size = 1 << (params.max_page_order + params.page_shift)
        self.memcg_kmem = memcg_kmem
        self.slab_caches: list[KmemCache] = []        # oldest first; /proc/slabinfo prints newest first
        self._by_name: dict[str, KmemCache] = {}      # every name incl. aliases
        self._live: dict[int, tuple] = {}             # addr -> (slab | _LARGE, requested, caller[, order])
        self._freed_large: set[int] = set()
        self._large_pages = 0
        self._large_requested = 0
        self._large_count = 0
        self._gfp_type: dict[int, int] = {}
        self._size_index = _km.kmalloc_size_index_table(params.kmalloc_min_size)
        # Hot-path lookup tables (kmalloc_slab() precomputed): size -> kmalloc index for every size
        # up to min(KMALLOC_MAX_CACHE_SIZE, _KMALLOC_TABLE_MAX), and validated gfp -> the
        # kmalloc_caches[] row of its effective type (the row list itself, so it stays current).
        self._kmalloc_tab_max = min(self.kmalloc_max_cache_size, _KMALLOC_TABLE_MAX)
        self._kmalloc_idx = _kmalloc_index_by_size(params.kmalloc_min_size, self._kmalloc_tab_max)
        self._gfp_row: dict[int, list] = {}
        self.kmalloc_caches: list[list[KmemCache | None]] = [
            [None] * (params.page_shift + 2) for _ in range(_km.NR_KMALLOC_TYPES)]
        if boot_caches:
            kc, kcn = boot_cache_sizes
            self._create(make_geometry("kmem_cache", kc, 0, SLAB_HWCACHE_ALIGN, params=params),
                         ctor=None, usersize=0, boot=True)
            self._create(make_geometry("kmem_cache_node", kcn, 0, SLAB_HWCACHE_ALIGN, params=params),
                         ctor=None, usersize=0, boot=True)
        if create_kmalloc_caches:
            self._create_kmalloc_caches()
            if boot_caches:
                self.kmem_cache_create("kmalloc_buckets", 8 * (params.page_shift + 2), 0, SLAB_NO_MERGE)

    # ------------------------------------------------------------------ cache creation
    def _create_kmalloc_caches(self) -> None:
        """``create_kmalloc_caches()``: per type, indices 1, 2, then SHIFT_LOW..SHIFT_HIGH."""
        p = self.params
        for type_ in range(_km.NR_KMALLOC_TYPES):
            eff = _km.kmalloc_effective_type(type_, memcg_kmem=self.memcg_kmem)
            for idx in _km.kmalloc_cache_indices(p.kmalloc_min_size, p.page_shift):
                if eff != type_:
                    self.kmalloc_caches[type_][idx] = self.kmalloc_caches[eff][idx]
                    continue
                g = kmalloc_cache_geometry(idx, type_, p)
                c = self._create(g, ctor=None, usersize=g.object_size, boot=False, is_kmalloc=True)
                self.kmalloc_caches[type_][idx] = c
        # sizes below KMALLOC_MIN_SIZE share the smallest cache (setup_kmalloc_cache_index_table)

    def _create(self, g: CacheGeometry, *, ctor, usersize: int, boot: bool, is_kmalloc: bool = False) -> KmemCache:
        c = KmemCache(g, ctor=ctor, usersize=usersize, page_shift=self.page_shift, mergeable_boot=not boot,
                      is_kmalloc=is_kmalloc)
        c.sysfs_name = g.name if self._unmergeable(c) else create_unique_id(c.flags, c.size)
        if not self._unmergeable(c):
            c.alias_names.append(g.name)
        self.slab_caches.append(c)
        self._by_name[g.name] = c
        return c

    def _unmergeable(self, s: KmemCache) -> bool:
        """``slab_unmergeable()``."""
        p = self.params
        return bool(p.slab_nomerge or s.flags & SLAB_NEVER_MERGE or s.ctor or (p.hardened_usercopy and s.usersize)
                    or s.refcount < 0)

    def find_mergeable(self, size: int, align: int = 0, flags: int = 0, name: str = "", ctor=None,
                       usersize: int = 0) -> KmemCache | None:
        """``find_mergeable()``: the oldest existing cache a new one would be merged into, or None."""
        p = self.params
        _check_int(size, "size", 1, self.kmalloc_max_size)
        _check_align(align)
        check_slab_flags(flags)
        if not isinstance(name, str):
            raise InvalidNameError(f"name must be a string, got {show(name)}")
        _check_int(usersize, "usersize", 0, size)
        if p.slab_nomerge or ctor or (p.hardened_usercopy and usersize):
            return None
        flags = kmem_cache_flags(flags, name, p.slub_debug, p.slub_debug_slabs)
        if flags & SLAB_NEVER_MERGE:
            return None
        size = ALIGN(size, PTR_SIZE)
        align = calculate_alignment(flags, align, size, cache_line_size=p.cache_line_size,
                                    arch_slab_minalign=p.arch_slab_minalign)
        size = ALIGN(size, align)
        for s in self.slab_caches:             # list_for_each_entry_reverse: oldest first
            if self._unmergeable(s) or size > s.size:
                continue
            if (flags & SLAB_MERGE_SAME) != (s.flags & SLAB_MERGE_SAME):
                continue
            if s.size & (align - 1):
                continue
            if s.size - size >= PTR_SIZE:
                continue
            return s
        return None

    def kmem_cache_create(self, name: str, size: int, align: int = 0, flags: int = 0, ctor=None, *,
                          usersize: int = 0, useroffset: int = 0,
                          freeptr_offset: int | None = None) -> KmemCache:
        """``kmem_cache_create()`` (``__kmem_cache_create_args``): merge into an existing cache per
        ``find_mergeable`` (the returned object is then that cache, with ``refcount`` raised and
        ``object_size``/``inuse`` widened) or create a new one. Raises on bad input, unchanged state."""
        _check_cache_name(name)
        if name in self._by_name:
            raise InvalidNameError(f"a cache named {name!r} already exists")
        _check_int(size, "size", 1, self.kmalloc_max_size)
        _check_align(align)
        check_slab_flags(flags)
        _check_int(usersize, "usersize", 0, size)
        _check_int(useroffset, "useroffset", 0, size - usersize)
        p = self.params
        if not p.hardened_usercopy:
            usersize = useroffset = 0
        g = make_geometry(name, size, align, flags, ctor=bool(ctor), freeptr_offset=freeptr_offset, params=p)
        s = self.find_mergeable(size, align, flags, name, ctor, usersize)
        if s is not None:
            s.refcount += 1
            s.object_size = max(s.object_size, size)
            s.inuse = max(s.inuse, ALIGN(size, PTR_SIZE))
            s.alias_names.append(name)
            self._by_name[name] = s
            return s
        return self._create(g, ctor=ctor, usersize=usersize, boot=False)

    def kmem_cache_destroy(self, s: KmemCache) -> None:
        """``kmem_cache_destroy()``: drop a reference; the last one frees the empty slabs and removes
        the cache. Raises :class:`CacheBusyError` (nothing changes) while objects are allocated."""
        self._check_cache(s)
        if s.refcount > 1:                 # an alias merged into s goes away: s stays
            s.refcount -= 1
            return
        if s.is_kmalloc or s.refcount < 0:
            raise BadFreeError(f"{s.name} is a boot/kmalloc cache and cannot be destroyed")
        if s.inuse_objects:
            raise CacheBusyError(f"kmem_cache_destroy({s.name}): {s.inuse_objects} objects remaining "
                                 "(__kmem_cache_shutdown fails)")
        for slab in list(s.slabs.values()):
            self._discard_slab(s, slab)
        s.cpu_slab = None
        s.partial.clear()
        self.slab_caches.remove(s)
        for n in [n for n, c in self._by_name.items() if c is s]:
            del self._by_name[n]
        s.dead = True

    def _check_cache(self, s: object) -> KmemCache:
        if not isinstance(s, KmemCache):
            raise BadFreeError(f"not a kmem_cache: {s!r}")
        if s.dead:
            raise CacheDestroyedError(f"cache {s.name} was destroyed")
        if self._by_name.get(s.name) is not s:
            raise BadFreeError(f"cache {s.name} belongs to another allocator")
        return s

    def find_cache(self, name: str) -> KmemCache:
        """The cache a name refers to (aliases resolved)."""
        if not isinstance(name, str):
            raise InvalidNameError(f"a cache name is a string, got {show(name)}")
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidNameError(f"no cache named {name!r}") from None

    # ------------------------------------------------------------------ slabs
    def _new_slab(self, s: KmemCache, gfp: int) -> Slab | None:
        """``allocate_slab()``: try ``s->oo`` with NORETRY|NOWARN, fall back to ``s->min``."""
        flags = (gfp & (_GFP_RECLAIM_MASK | _GFP_CONSTRAINT_MASK)) | _GFP_COMP
        if s.flags & SLAB_RECLAIM_ACCOUNT:
            flags |= _GFP_RECLAIMABLE
        order, objects = s.order, s.objects
        pfn = None if order > self._zone_max_order else \
            self.zone.alloc_pages(order, (flags | _GFP_NOWARN | _GFP_NORETRY) & ~_GFP_NOFAIL)
        if pfn is None:
            order, objects = s.min_order, s.min_objects
            pfn = None if order > self._zone_max_order else self.zone.alloc_pages(order, flags)
            if pfn is None:
                return None
            s._slab_stat["order_fallback"] += 1
        slab = Slab(s, pfn, order, objects, self.page_shift)
        s.slabs[pfn] = slab
        s.nr_slabs += 1
        s.total_objects += objects
        s.slab_pages += 1 << order
        s._slab_stat["alloc_slab"] += 1
        return slab

    def _discard_slab(self, s: KmemCache, slab: Slab) -> None:
        """``discard_slab()``: give the pages back to the zone."""
        del s.slabs[slab.pfn]
        s.partial.pop(slab, None)
        if s.cpu_slab is slab:
            s.cpu_slab = None
        s.nr_slabs -= 1
        s.total_objects -= slab.objects
        s.slab_pages -= 1 << slab.order
        s._slab_stat["free_slab"] += 1
        self.zone.free_pages(slab.pfn, slab.order)

    def _refill(self, s: KmemCache, gfp: int) -> Slab | None:
        """``___slab_alloc()`` slow path: next partial slab, else a new slab."""
        if s.partial:
            slab = next(iter(s.partial))
            del s.partial[slab]
        else:
            slab = self._new_slab(s, gfp)
            if slab is None:
                return None
        s.cpu_slab = slab
        return slab

    # ------------------------------------------------------------------ object alloc / free
    def _slab_alloc(self, s: KmemCache, gfp: int, requested: int, caller: str | None) -> int | None:
        slab = s.cpu_slab
        if slab is None or not slab.freelist:
            slab = self._refill(s, gfp)
            if slab is None:
                return None
        idx = slab.freelist.pop()
        slab.requested += requested
        addr = slab.obj0 + idx * s.size
        self._live[addr] = (slab, requested, caller)
        return addr

    def kmem_cache_alloc(self, s: KmemCache, gfp: int = _gfp.GFP_KERNEL, *, caller: str | None = None,
                         requested: int | None = None) -> int | None:
        """``kmem_cache_alloc()``: address of a new object, or None when the zone is out of memory.

        ``requested`` (default ``object_size``) is what the accounting counts as asked for.
        """
        self._check_cache(s)
        self._kmalloc_type(gfp)
        _check_caller(caller)
        if requested is None:
            requested = s.object_size
        else:
            _check_int(requested, "requested", 0, s.object_size)
        return self._slab_alloc(s, gfp, requested, caller)

    def _kmalloc_type(self, gfp: int) -> int:
        t = self._gfp_type.get(gfp) if type(gfp) is int else None   # 1.0/True must not hit the cache
        if t is None:
            _km.check_kmalloc_gfp(gfp)
            t = _km.kmalloc_effective_type(_km.kmalloc_type(gfp), memcg_kmem=self.memcg_kmem)
            self._gfp_type[gfp] = t
        return t

    def kmalloc(self, size: int, gfp: int = _gfp.GFP_KERNEL, *, caller: str | None = None) -> int | None:
        """``kmalloc()`` (``__do_kmalloc_node``): 0 → ZERO_SIZE_PTR; up to KMALLOC_MAX_CACHE_SIZE from the
        ``kmalloc_slab()`` cache of ``kmalloc_type(gfp)``; up to KMALLOC_MAX_SIZE from the zone with
        ``get_order(size)`` (``___kmalloc_large_node``); larger → None. OOM → None."""
        # Fast path (slab_alloc_node's lockless path): a GFP value already validated, a size with a
        # precomputed cache index, an object on the CPU slab or on the head of the partial list.
        if type(size) is int and type(gfp) is int and 0 < size <= self._kmalloc_tab_max and \
                (caller is None or type(caller) is str):
            try:
                row = self._gfp_row[gfp]
            except KeyError:
                row = None
            if row is not None:
                s = row[self._kmalloc_idx[size]]
                slab = s.cpu_slab
                if slab is None or not slab.freelist:
                    partial = s.partial
                    if not partial:
                        return self._slab_alloc(s, gfp, size, caller)
                    slab = next(iter(partial))      # ___slab_alloc: get_partial() takes the head
                    del partial[slab]
                    s.cpu_slab = slab
                idx = slab.freelist.pop()
                slab.requested += size
                addr = slab.obj0 + idx * s.size
                self._live[addr] = (slab, size, caller)
                return addr
        return self._kmalloc_slow(size, gfp, caller)

    def _kmalloc_slow(self, size: int, gfp: int, caller: str | None) -> int | None:
        """:meth:`kmalloc` with full validation; records validated GFP values for the fast path."""
        _check_caller(caller)
        if type(size) is not int or size < 0 or size >= 1 << 64:
            _km._check_size(size)
            raise InvalidSizeError(f"kmalloc size {size!r} is not a valid size_t")
        t = self._gfp_type.get(gfp) if type(gfp) is int else None
        if t is None:
            t = self._kmalloc_type(gfp)
        if type(gfp) is int:
            self._gfp_row[gfp] = self.kmalloc_caches[t]
        if size <= self.kmalloc_max_cache_size:
            if size == 0:
                return _km.ZERO_SIZE_PTR
            idx = self._size_index[(size - 1) >> 3] if size <= 192 else (size - 1).bit_length()
            return self._slab_alloc(self.kmalloc_caches[t][idx], gfp, size, caller)
        return self._kmalloc_large(size, gfp, caller)

    def _kmalloc_large(self, size: int, gfp: int, caller: str | None) -> int | None:
        if size > self.kmalloc_max_size:
            return None
        order = get_order(size, self.page_shift)
        if order > self._zone_max_order:       # __alloc_pages: WARN_ON_ONCE(order > MAX_PAGE_ORDER), NULL
            return None
        pfn = self.zone.alloc_pages(order, (gfp & ~(_GFP_ACCOUNT | _GFP_NO_OBJ_EXT | _GFP_DMA))
                                    | _GFP_COMP)
        if pfn is None:
            return None
        addr = pfn_to_virt(pfn, self.page_shift)
        self._live[addr] = (_LARGE, size, caller, order)
        self._freed_large.discard(addr)
        self._large_pages += 1 << order
        self._large_requested += size
        self._large_count += 1
        return addr

    def kzalloc(self, size: int, gfp: int = _gfp.GFP_KERNEL, *, caller: str | None = None) -> int | None:
        """``kzalloc()`` = ``kmalloc(size, gfp | __GFP_ZERO)`` (contents are not modelled)."""
        if type(gfp) is not int:
            self._kmalloc_type(gfp)            # raises: None | __GFP_ZERO must not be a TypeError
        return self.kmalloc(size, gfp | _GFP_ZERO, caller=caller)

    def kmalloc_array(self, n: int, size: int, gfp: int = _gfp.GFP_KERNEL, *, caller: str | None = None) -> int | None:
        """``kmalloc_array()``: None when ``n * size`` overflows size_t (``check_mul_overflow``).
        ``n`` and ``size`` are size_t: values outside 0..2**64-1 raise :class:`InvalidSizeError`."""
        _check_int(n, "n", 0, (1 << 64) - 1)
        _check_int(size, "size", 0, (1 << 64) - 1)
        if n * size >= 1 << 64:
            return None
        return self.kmalloc(n * size, gfp, caller=caller)

    def kcalloc(self, n: int, size: int, gfp: int = _gfp.GFP_KERNEL, *, caller: str | None = None) -> int | None:
        """``kcalloc()`` = ``kmalloc_array(n, size, gfp | __GFP_ZERO)``."""
        if type(gfp) is not int:
            self._kmalloc_type(gfp)
        return self.kmalloc_array(n, size, gfp | _GFP_ZERO, caller=caller)

    def ksize(self, addr: int | None) -> int:
        """``ksize()``: 0 for NULL/ZERO_SIZE_PTR, the folio size for large kmalloc, else ``slab_ksize``."""
        if addr is None or (type(addr) is int and (addr == 0 or addr == _km.ZERO_SIZE_PTR)):
            return 0
        e = self._lookup(addr)
        if e is None:
            self._raise_bad(addr, "ksize")
        if e[0] is _LARGE:
            return self.page_size << e[3]
        return e[0].cache.ksize

    def krealloc(self, addr: int | None, new_size: int, gfp: int = _gfp.GFP_KERNEL, *,
                 caller: str | None = None) -> int | None:
        """``krealloc()``: 0 → free and ZERO_SIZE_PTR; fits in ``ksize`` → same pointer (requested size
        updated); else a new allocation and the old one freed. None (old kept) when out of memory."""
        _km._check_size(new_size)
        self._kmalloc_type(gfp)
        _check_caller(caller)
        null = addr is None or (type(addr) is int and (addr == 0 or addr == _km.ZERO_SIZE_PTR))
        if not null and self._lookup(addr) is None:
            self._raise_bad(addr, "krealloc")
        if new_size == 0:
            if not null:
                self.kfree(addr)
            return _km.ZERO_SIZE_PTR
        if not null:
            e = self._live[addr]
            ks = self.ksize(addr)
            if new_size <= ks and new_size <= self.kmalloc_max_size:
                self._set_requested(addr, e, new_size)
                return addr
        new = self.kmalloc(new_size, gfp, caller=caller if caller is not None or null else self._live[addr][2])
        if new is None:
            return None
        if not null:
            self.kfree(addr)
        return new

    def _set_requested(self, addr: int, e: tuple, new_size: int) -> None:
        if e[0] is _LARGE:
            self._large_requested += new_size - e[1]
            self._live[addr] = (_LARGE, new_size, e[2], e[3])
        else:
            slab = e[0]
            slab.requested += new_size - e[1]
            self._live[addr] = (slab, new_size, e[2])

    def kfree(self, addr: int | None) -> None:
        """``kfree()``: NULL and ZERO_SIZE_PTR are ignored; slab objects go back to their slab
        (``slab_free``), large kmallocs to the zone. Raises :class:`DoubleFreeError` /
        :class:`BadFreeError` for objects already free or never allocated."""
        # only an int is a pointer: 1.8e19 == a live address, but a float must never reach the freelist
        e = self._live.pop(addr, None) if type(addr) is int else None
        if e is None:
            if addr is None or (type(addr) is int and (addr == 0 or addr == _km.ZERO_SIZE_PTR)):
                return
            self._raise_bad(addr, "kfree")
        slab = e[0]
        if slab is _LARGE:
            order = e[3]
            self.zone.free_pages((addr - PAGE_OFFSET) >> self.page_shift, order)
            self._large_pages -= 1 << order
            self._large_requested -= e[1]
            self._large_count -= 1
            self._freed_large.add(addr)
            return
        # __slab_free(), inlined (same steps as _free_to_slab)
        s = slab.cache
        freelist = slab.freelist
        freelist.append((addr - slab.base) // s.size)
        slab.requested -= e[1]
        s.nr_frees += 1
        if slab is s.cpu_slab:
            return
        nr_free = len(freelist)
        if nr_free == slab.objects:              # now empty
            partial = s.partial
            if len(partial) - (slab in partial) >= s.min_partial:
                self._discard_slab(s, slab)
            elif slab not in partial:
                partial[slab] = None
        elif nr_free == 1:                       # was full: add_partial(..., DEACTIVATE_TO_TAIL)
            s.partial[slab] = None

    def _free_to_slab(self, slab: Slab, addr: int, requested: int) -> None:
        """``__slab_free()`` for the model's lists."""
        s = slab.cache
        slab.freelist.append((addr - slab.base) // s.size)
        slab.requested -= requested
        s.nr_frees += 1
        if slab is s.cpu_slab:
            return
        if slab.inuse == 0:
            partial = s.partial
            if len(partial) - (slab in partial) >= s.min_partial:
                self._discard_slab(s, slab)
            elif slab not in partial:
                partial[slab] = None
        elif slab.inuse == slab.objects - 1:     # was full: add_partial(..., DEACTIVATE_TO_TAIL)
            s.partial[slab] = None

    def kmem_cache_free(self, s: KmemCache, addr: int) -> None:
        """``kmem_cache_free()``: like :meth:`kfree`, but the object must belong to ``s``
        (``cache_from_obj``'s "Wrong slab cache" check raises :class:`BadFreeError`)."""
        self._check_cache(s)
        e = self._lookup(addr)
        if e is None:
            self._raise_bad(addr, "kmem_cache_free")
        if e[0] is _LARGE or e[0].cache is not s:
            owner = "the page allocator" if e[0] is _LARGE else e[0].cache.name
            raise BadFreeError(f"kmem_cache_free({s.name}, {addr:#x}): wrong slab cache, object is from {owner}")
        del self._live[addr]
        self._free_to_slab(e[0], addr, e[1])

    def _lookup(self, addr: object) -> tuple | None:
        """Live-table entry of ``addr``, None when it is not a live allocation (or not an int)."""
        return self._live.get(addr) if type(addr) is int else None

    def _find_slab(self, addr: int) -> Slab | None:
        if not isinstance(addr, int) or addr < PAGE_OFFSET:
            return None
        pfn = (addr - PAGE_OFFSET) >> self.page_shift
        for order in range(self.params.max_page_order + 1):
            head = pfn & ~((1 << order) - 1)
            for s in self.slab_caches:
                slab = s.slabs.get(head)
                if slab is not None and slab.order == order:
                    return slab
        return None

    def _raise_bad(self, addr: object, op: str):
        if type(addr) is not int:
            raise BadFreeError(f"{op}({show(addr)}): not a pointer (an address is an int, got "
                               f"{type(addr).__name__})")
        slab = self._find_slab(addr)
        if slab is not None:
            s = slab.cache
            off = addr - slab.base - s.red_left_pad
            if off % s.size == 0 and 0 <= off // s.size < slab.objects:
                idx = off // s.size
                if idx in slab.freelist:
                    raise DoubleFreeError(f"{op}({addr:#x}): object {idx} of a {s.name} slab "
                                          f"(pfn {slab.pfn}) is already free")
            raise BadFreeError(f"{op}({addr:#x}): points into a {s.name} slab (pfn {slab.pfn}) "
                               "but not at the start of an object")
        if addr in self._freed_large:
            raise DoubleFreeError(f"{op}({addr:#x}): large kmalloc already freed")
        raise BadFreeError(f"{op}({addr:#x}): pointer was never allocated by this allocator")

    # ------------------------------------------------------------------ queries / accounting
    def allocation(self, addr: int) -> AllocationInfo:
        """What a live pointer is: cache, requested and allocated bytes, caller."""
        e = self._lookup(addr)
        if e is None:
            self._raise_bad(addr, "allocation")
        if e[0] is _LARGE:
            return AllocationInfo(addr, None, e[1], self.page_size << e[3], e[2], e[3])
        return AllocationInfo(addr, e[0].cache.name, e[1], e[0].cache.ksize, e[2])

    def allocations(self) -> Iterable[AllocationInfo]:
        """Every live allocation (addresses ascending)."""
        for addr in sorted(self._live):
            yield self.allocation(addr)

    def slab_of(self, addr: int) -> Slab:
        """The slab holding a live slab object."""
        e = self._lookup(addr)
        if e is None or e[0] is _LARGE:
            what = f"{addr:#x}" if type(addr) is int else f"{show(addr)} (not an int)"
            raise BadFreeError(f"slab_of: {what} is not a live slab object")
        return e[0]

    def cache_stats(self, s: KmemCache) -> CacheStats:
        """Exact per-cache accounting."""
        self._check_cache(s)
        slab_bytes = s.slab_pages << self.page_shift
        ks = s.ksize
        tail = sum(sl.tail_waste for sl in s.slabs.values())
        inuse, requested = s.inuse_objects, s.requested_bytes   # each sums over the slabs
        used = inuse * s.object_size
        return CacheStats(
            name=s.name, object_size=s.object_size, slab_size=s.size, objs_per_slab=s.objects, order=s.order,
            nr_slabs=s.nr_slabs, slab_pages=s.slab_pages, slab_bytes=slab_bytes, objects_total=s.total_objects,
            objects_inuse=inuse, requested_bytes=requested, allocated_bytes=inuse * ks,
            request_waste=inuse * ks - requested, slot_overhead=inuse * (s.size - ks),
            free_slot_bytes=(s.total_objects - inuse) * s.size, tail_waste=tail,
            efficiency=100.0 * used / slab_bytes if slab_bytes else 0.0, loss=slab_bytes - used)

    def slab_stats(self, s: KmemCache) -> list[SlabStats]:
        """Per-slab accounting, slabs by PFN."""
        self._check_cache(s)
        out = []
        for pfn in sorted(s.slabs):
            sl = s.slabs[pfn]
            where = "cpu" if sl is s.cpu_slab else ("partial" if sl in s.partial else "full")
            out.append(SlabStats(pfn, sl.order, sl.objects, sl.inuse, sl.requested, sl.slab_bytes, sl.tail_waste,
                                 sl.nr_free * s.size, where))
        return out

    def totals(self) -> Totals:
        """Whole-allocator totals."""
        nr_slabs = sum(s.nr_slabs for s in self.slab_caches)
        pages = sum(s.slab_pages for s in self.slab_caches)
        per_cache = [(s.inuse_objects, s.ksize) for s in self.slab_caches if s.nr_slabs]
        inuse = sum(n for n, _ in per_cache)
        total = sum(s.total_objects for s in self.slab_caches)
        req = sum(s.requested_bytes for s in self.slab_caches if s.nr_slabs)
        alloc = sum(n * ks for n, ks in per_cache)
        large_bytes = self._large_pages << self.page_shift
        return Totals(len(self.slab_caches), nr_slabs, pages, pages << self.page_shift, inuse, total, req, alloc,
                      self._large_count, self._large_pages, self._large_requested, req + self._large_requested,
                      alloc + large_bytes, pages + self._large_pages)

    def alloc_traces(self, top: int | None = 10, *, cache: KmemCache | None = None,
                     sort: str = "waste") -> list[TraceRow]:
        """Live allocations grouped by caller, like ``/sys/kernel/debug/slab/<cache>/alloc_traces``;
        ``sort`` = "waste" | "count" | "requested" | "allocated". Allocations without a caller are
        grouped as ``"<unknown>"``."""
        if not isinstance(sort, str) or sort not in ("waste", "count", "requested", "allocated"):
            raise InvalidFlagsError(f"sort must be waste/count/requested/allocated, got {show(sort)}")
        if top is not None:
            _check_int(top, "top", 0)
        if cache is not None:
            self._check_cache(cache)
        acc: dict[str, list] = {}
        for e in self._live.values():
            if e[0] is _LARGE:
                if cache is not None:
                    continue
                allocated, cname = self.page_size << e[3], "(page allocator)"
            else:
                if cache is not None and e[0].cache is not cache:
                    continue
                allocated, cname = e[0].cache.ksize, e[0].cache.name
            row = acc.setdefault(e[2] if e[2] is not None else "<unknown>", [0, 0, 0, set()])
            row[0] += 1
            row[1] += e[1]
            row[2] += allocated
            row[3].add(cname)
        rows = [TraceRow(k, v[0], v[1], v[2], tuple(sorted(v[3]))) for k, v in acc.items()]
        rows.sort(key=lambda r: (-getattr(r, sort), r.caller))
        return rows if top is None else rows[:top]

    # ------------------------------------------------------------------ reports
    def proc_slabinfo(self) -> str:
        """``/proc/slabinfo`` in the kernel's exact format (``print_slabinfo_header``/``cache_show``):
        newest cache first; ``active_objs`` = objects minus free objects on the partial lists
        (objects free in a CPU slab count as active, as in the kernel; beyond 10000 partial slabs the
        free count is the kernel's estimate, ``count_partial_free_approx``)."""
        lines = ["slabinfo - version: 2.1",
                 "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
                 " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>"]
        for s in reversed(self.slab_caches):
            free_partial = self._count_partial_free_approx(s)
            lines.append(f"{s.name:<17} {s.total_objects - free_partial:6d} {s.total_objects:6d} {s.size:6d} "
                         f"{s.objects:4d} {1 << s.order:4d} : tunables {0:4d} {0:4d} {0:4d}"
                         f" : slabdata {s.nr_slabs:6d} {s.nr_slabs:6d} {0:6d}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _count_partial_free_approx(s: KmemCache) -> int:
        """``count_partial_free_approx()``: free objects on the partial list, exact up to
        MAX_PARTIAL_TO_SCAN slabs; beyond, the first and last half of that many are counted and the
        sum is scaled by ``nr_partial / MAX_PARTIAL_TO_SCAN`` (``mult_frac``), capped at the total."""
        nr_partial = len(s.partial)
        if nr_partial <= MAX_PARTIAL_TO_SCAN:
            return sum(sl.nr_free for sl in s.partial)
        slabs = list(s.partial)                  # head first
        half = MAX_PARTIAL_TO_SCAN // 2
        x = sum(sl.nr_free for sl in slabs[:half]) + sum(sl.nr_free for sl in slabs[-half:])
        q, r = divmod(x, MAX_PARTIAL_TO_SCAN)
        return min(q * nr_partial + r * nr_partial // MAX_PARTIAL_TO_SCAN, s.total_objects)

    def slabinfo_report(self, *, only_used: bool = False) -> str:
        """A table like the kernel's ``tools/mm/slabinfo``: name, objects, object size, slab size,
        objects/slab, order, efficiency % and loss (slab bytes minus objects * object size)."""
        check_bool(only_used, "only_used")
        head = (f"{'Name':<24} {'Objects':>8} {'Objsize':>7} {'Slabsize':>8} {'Space':>9} {'O/S':>4} "
                f"{'O':>2} {'%Ef':>5} {'Loss':>9}")
        out = [head]
        for s in sorted(self.slab_caches, key=lambda c: c.name):
            if only_used and not s.nr_slabs:
                continue
            st = self.cache_stats(s)
            out.append(f"{s.name:<24} {st.objects_inuse:>8} {s.object_size:>7} {s.size:>8} {st.slab_bytes:>9} "
                       f"{s.objects:>4} {s.order:>2} {st.efficiency:>5.1f} {st.loss:>9}")
        return "\n".join(out)

    def sysfs_entries(self) -> dict[str, str]:
        """``/sys/kernel/slab`` names: each alias name → the directory it links to (a directory maps
        to itself), as ``sysfs_slab_add``/``sysfs_slab_alias`` create them."""
        out: dict[str, str] = {}
        for s in self.slab_caches:
            out[s.sysfs_name] = s.sysfs_name
            for a in s.alias_names:
                out[a] = s.sysfs_name
        return out


__all__ = ["params_for_kernel", "kmalloc_cache_align", 
    "PTR_SIZE", "MAX_OBJS_PER_PAGE", "OO_SHIFT", "MIN_PARTIAL", "MAX_PARTIAL", "MAX_PARTIAL_TO_SCAN",
    "TRACK_SIZE_STACKDEPOT",
    "TRACK_SIZE_NO_STACKDEPOT", "InvalidNameError", "CacheBusyError", "CacheDestroyedError", "SlubParams",
    "DEFAULT_PARAMS", "calculate_alignment", "SizeLayout", "calculate_sizes", "order_objects", "oo_make", "oo_order",
    "oo_objects", "slub_min_objects_for", "calc_slab_order", "calculate_order", "compute_min_partial",
    "compute_cpu_partial", "slab_ksize", "create_unique_id", "Region", "slot_layout", "CacheGeometry",
    "make_geometry", "kmalloc_cache_geometry", "kmalloc_type_flags", "Slab", "KmemCache", "AllocationInfo",
    "CacheStats", "SlabStats", "Totals", "TraceRow", "SlubAllocator",
]
