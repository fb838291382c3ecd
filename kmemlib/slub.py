"""SLUB: the geometry of a ``struct kmem_cache`` and a slab allocator built on the buddy Zone.

Geometry (pure functions, no allocator needed) models mm/slub.c and mm/slab_common.c:
``calculate_alignment``, ``calculate_sizes``, ``calc_slab_order``/``calculate_order`` (current,
and the pre-6.7 algorithm via ``SlubParams(order_algorithm="6.1")``), ``order_objects``,
``oo_make``, ``set_cpu_partial``, min_partial, ``slab_ksize``, ``find_mergeable`` and
``create_unique_id`` (sysfs ``:flags-%07u`` names).

The allocator (:class:`SlubAllocator`) holds every cache, creates the kmalloc caches like
``create_kmalloc_caches()``, takes slab pages from a :class:`kmemlib.buddy.Zone` and keeps exact
accounting. Version/machine dependent values (page size, CPU count, slab_max_order, the order
algorithm, cache line size, struct track size) live in :class:`SlubParams`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from . import gfp as _gfp
from . import kmalloc as _km
from .errors import (BadFreeError, DoubleFreeError, InvalidAlignError, InvalidFlagsError,
                     InvalidSizeError, KmemError)
from .pages import MAX_PAGE_ORDER, PAGE_ALLOC_COSTLY_ORDER, PAGE_SHIFT, ALIGN, ALIGN_DOWN, \
    get_order, ilog2, is_power_of_2, pfn_to_virt, PAGE_OFFSET
from .slab_flags import (DEBUG_METADATA_FLAGS, OBJECT_POISON, SLAB_ACCOUNT, SLAB_CACHE_DMA,
                         SLAB_CACHE_DMA32, SLAB_CONSISTENCY_CHECKS, SLAB_DEBUG_FLAGS, SLAB_HWCACHE_ALIGN,
                         SLAB_KMALLOC, SLAB_MERGE_SAME, SLAB_NEVER_MERGE, SLAB_NO_MERGE, SLAB_POISON,
                         SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TYPESAFE_BY_RCU,
                         CACHE_CREATE_MASK, check_slab_flags, kmem_cache_flags)

PTR_SIZE: int = 8
"""``sizeof(void *)`` on 64-bit."""
MAX_OBJS_PER_PAGE: int = 32767
"""``MAX_OBJS_PER_PAGE`` (slab->objects is 15 bits)."""
OO_SHIFT: int = 16
MIN_PARTIAL: int = 5
MAX_PARTIAL: int = 10
TRACK_SIZE_STACKDEPOT: int = 32
"""``sizeof(struct track)`` on 64-bit with CONFIG_STACKDEPOT (addr, handle, cpu, pid, when)."""
TRACK_SIZE_NO_STACKDEPOT: int = 24


class InvalidNameError(KmemError, ValueError):
    """A cache name that is empty, not a string, or already in use."""


class CacheBusyError(BadFreeError):
    """``kmem_cache_destroy()`` of a cache that still has objects allocated."""


@dataclass(frozen=True)
class SlubParams:
    """Boot/machine parameters that change SLUB geometry.

    Defaults are this x86-64 6.18 machine: 4 KiB pages, MAX_PAGE_ORDER 10, 2 present CPUs,
    slab_min_order 0, slab_max_order = PAGE_ALLOC_COSTLY_ORDER (3), no slab_min_objects,
    64-byte cache lines, STACKDEPOT (struct track = 32 bytes), merging on, HARDENED_USERCOPY on.
    ``order_algorithm`` is ``"6.7"`` (current ``calculate_order``) or ``"6.1"`` (before 6.7).
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

    def __post_init__(self) -> None:
        for name in ("page_shift", "max_page_order", "nr_cpus", "slub_min_order", "slub_max_order",
                     "slub_min_objects", "cache_line_size", "arch_slab_minalign", "track_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise InvalidSizeError(f"SlubParams.{name} must be a non-negative int, got {v!r}")
        if not 10 <= self.page_shift <= 20:
            raise InvalidSizeError(f"page_shift {self.page_shift} out of range 10..20")
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
    _check_int(size, "size")
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
    return ((1 << page_shift) << order) // size


def oo_make(order: int, size: int, page_shift: int = PAGE_SHIFT) -> int:
    """``oo_make()``: ``(order << OO_SHIFT) | order_objects(order, size)``."""
    return (order << OO_SHIFT) | order_objects(order, size, page_shift)


def oo_order(oo: int) -> int:
    """``oo_order()``."""
    return oo >> OO_SHIFT


def oo_objects(oo: int) -> int:
    """``oo_objects()``."""
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
    _check_int(size, "size", 1)
    if params.order_algorithm == "6.1":
        return _calculate_order_61(size, params)
    return _calculate_order_67(size, params)


def compute_min_partial(size: int) -> int:
    """``s->min_partial = clamp(ilog2(s->size) / 2, MIN_PARTIAL, MAX_PARTIAL)`` (``do_kmem_cache_create``)."""
    return max(MIN_PARTIAL, min(MAX_PARTIAL, ilog2(size) // 2))


def compute_cpu_partial(size: int, flags: int, objects: int, page_size: int = 1 << PAGE_SHIFT,
                        enabled: bool = True) -> tuple[int, int]:
    """``(cpu_partial, cpu_partial_slabs)`` of ``set_cpu_partial()``/``slub_set_cpu_partial()``.

    0 for debug caches (``kmem_cache_has_cpu_partial``) or without CONFIG_SLUB_CPU_PARTIAL;
    else 6 / 24 / 52 / 120 objects by slot size, and ``DIV_ROUND_UP(cpu_partial * 2, objects)`` slabs.
    """
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
    if flags & (SLAB_RED_ZONE | SLAB_POISON):
        return object_size
    if flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER):
        return inuse
    return size


def create_unique_id(flags: int, size: int) -> str:
    """sysfs directory of a mergeable cache (``create_unique_id()``): ``:`` + flag letters
    (d=DMA, D=DMA32, a=RECLAIM_ACCOUNT, F=CONSISTENCY_CHECKS, A=ACCOUNT) + ``-`` if any + ``%07u`` size."""
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


def make_geometry(name: str, object_size: int, align: int = 0, flags: int = 0, *, ctor: bool = False,
                  freeptr_offset: int | None = None, params: SlubParams = DEFAULT_PARAMS,
                  align_is_final: bool = False) -> CacheGeometry:
    """Geometry of a new cache as ``__kmem_cache_create_args`` → ``do_kmem_cache_create`` builds it.

    ``align`` is the caller's alignment (0 = none) and goes through ``calculate_alignment``
    (idempotent, so passing an already-final ``s->align``, as read from sysfs, is fine).
    ``flags`` pass through ``kmem_cache_flags`` (params.slub_debug). Raises on bad input.
    """
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
    size = _km.KMALLOC_INFO[index][0]
    flags = SLAB_KMALLOC | kmalloc_type_flags(type_)
    align = max(_km.ARCH_KMALLOC_MINALIGN, size & -size)
    return make_geometry(_km.kmalloc_cache_name(index, type_), size, align, flags, params=params)


def kmalloc_type_flags(type_: int) -> int:
    """SLAB flags ``new_kmalloc_cache()`` gives each kmalloc type (with CONFIG_MEMCG)."""
    return {_km.KMALLOC_NORMAL: SLAB_NO_MERGE, _km.KMALLOC_RECLAIM: SLAB_RECLAIM_ACCOUNT,
            _km.KMALLOC_CGROUP: SLAB_ACCOUNT, _km.KMALLOC_DMA: SLAB_CACHE_DMA,
            _km.KMALLOC_NO_OBJ_EXT: SLAB_NO_MERGE}[type_]
