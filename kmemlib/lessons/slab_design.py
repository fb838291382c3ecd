"""Designing a custom slab cache: flags → layout, merging, and struct-size tuning.

Plain functions behind the Part II "custom caches" chapter and its widget. Everything is computed by
the SLUB geometry of :mod:`kmemlib.mm.slub` (``calculate_alignment``, ``calculate_sizes``,
``calculate_order`` in mm/slab_common.c and mm/slub.c, Linux 6.12) and by a fresh
:class:`kmemlib.mm.slub.SlubAllocator` for the merging demo (``find_mergeable``,
``create_unique_id``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidSizeError
from ..mm import kmalloc as _km
from ..mm.argcheck import check_int, show
from ..mm.kmalloc import KMALLOC_MAX_CACHE_SIZE, kmalloc_plan
from ..mm.slab_flags import (
    SLAB_ACCOUNT,
    SLAB_HWCACHE_ALIGN,
    SLAB_POISON,
    SLAB_RECLAIM_ACCOUNT,
    SLAB_RED_ZONE,
    SLAB_STORE_USER,
    SLAB_TYPESAFE_BY_RCU,
    slab_flag_names,
)
from ..mm.slub import DEFAULT_PARAMS, CacheGeometry, SlubAllocator, SlubParams, kmalloc_cache_geometry, make_geometry

OPTION_FLAGS: dict[str, int] = {
    "hwcache_align": SLAB_HWCACHE_ALIGN,
    "poison": SLAB_POISON,
    "red_zone": SLAB_RED_ZONE,
    "store_user": SLAB_STORE_USER,
    "typesafe_by_rcu": SLAB_TYPESAFE_BY_RCU,
}
"""Widget option name → SLAB flag (``ctor`` is not a flag: it is the constructor argument)."""
OPTIONS: tuple[str, ...] = (*OPTION_FLAGS, "ctor")


def slab_flags_for(**options: bool) -> int:
    """SLAB flag word for the boolean ``options`` of :data:`OPTION_FLAGS` (``ctor`` is ignored here)."""
    flags = 0
    for name, on in options.items():
        if name == "ctor":
            continue
        if name not in OPTION_FLAGS:
            raise ValueError(f"unknown option {name!r}; expected one of {', '.join(OPTIONS)}")
        if on:
            flags |= OPTION_FLAGS[name]
    return flags


def design_cache(object_size: int, align: int = 0, *, hwcache_align: bool = False, poison: bool = False,
                 red_zone: bool = False, store_user: bool = False, ctor: bool = False,
                 typesafe_by_rcu: bool = False, name: str = "my_cache",
                 params: SlubParams = DEFAULT_PARAMS) -> CacheGeometry:
    """Geometry of ``kmem_cache_create(name, object_size, align, flags, ctor)`` with the flags
    chosen by the booleans (``do_kmem_cache_create``; see :func:`kmemlib.mm.slub.make_geometry`)."""
    flags = slab_flags_for(hwcache_align=hwcache_align, poison=poison, red_zone=red_zone,
                           store_user=store_user, typesafe_by_rcu=typesafe_by_rcu)
    return make_geometry(name, object_size, align, flags, ctor=ctor, params=params)


@dataclass(frozen=True)
class CacheSummary:
    """The numbers the widget shows for one cache."""

    name: str
    flags: str
    object_size: int
    align: int
    slab_size: int          # s->size
    ksize: int              # slab_ksize(s)
    freeptr: str            # "inside (offset N)" | "outside (offset N)"
    red_left_pad: int
    order: int
    slab_bytes: int
    objects: int
    leftover: int           # slab bytes after the last slot
    overhead_per_object: int  # slab_size - object_size
    bytes_per_object: float   # slab_bytes / objects
    efficiency: float         # objects * object_size / slab_bytes, %

    def as_rows(self) -> list[tuple[str, object]]:
        """(label, value) pairs for a two-column table."""
        return [("flags", self.flags), ("object_size", self.object_size), ("align", self.align),
                ("slab_size (s->size)", self.slab_size), ("ksize()", self.ksize), ("free pointer", self.freeptr),
                ("left red zone", self.red_left_pad), ("order", self.order), ("slab bytes", self.slab_bytes),
                ("objects per slab", self.objects), ("leftover per slab", self.leftover),
                ("overhead per object", self.overhead_per_object),
                ("bytes per object (slab/objects)", round(self.bytes_per_object, 1)),
                ("efficiency %", round(self.efficiency, 1))]


def _check_params(params: object) -> None:
    if not isinstance(params, SlubParams):
        raise InvalidSizeError(f"params must be a SlubParams, got {show(params)}")


def summarize(g: CacheGeometry) -> CacheSummary:
    """:class:`CacheSummary` of a geometry."""
    if not isinstance(g, CacheGeometry):
        raise InvalidSizeError(f"summarize needs a CacheGeometry, got {show(g)}")
    where = "outside" if g.layout.freeptr_outside else "inside"
    return CacheSummary(g.name, slab_flag_names(g.flags), g.object_size, g.align, g.size, g.ksize,
                        f"{where} (offset {g.offset})", g.red_left_pad, g.order, g.slab_bytes, g.objects,
                        g.slab_waste, g.slot_overhead, g.slab_bytes / g.objects, g.efficiency)


def flag_effects(sizes: tuple[int, ...] = (24, 100, 256, 1032), *,
                 params: SlubParams = DEFAULT_PARAMS) -> list[dict[str, object]]:
    """For each size and each single option (plus "none"): slab_size, ksize, objects, order,
    free pointer placement and whether the cache may be merged (``slab_unmergeable``)."""
    _check_params(params)
    if not isinstance(sizes, (tuple, list)):
        raise InvalidSizeError(f"sizes must be a tuple of object sizes, got {show(sizes)}")
    for v in sizes:
        check_int(v, "an entry of sizes", 1, KMALLOC_MAX_CACHE_SIZE, exc=InvalidSizeError)
    rows = []
    for size in sizes:
        for opt in ("none", *OPTIONS):
            kw = {} if opt == "none" else {opt: True}
            g = design_cache(size, **kw, params=params)
            mergeable = not (g.flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TYPESAFE_BY_RCU)
                             or opt == "ctor")
            rows.append({"size": size, "option": opt, "align": g.align, "slab_size": g.size, "ksize": g.ksize,
                         "freeptr": "outside" if g.layout.freeptr_outside else "inside", "order": g.order,
                         "objects": g.objects, "mergeable": mergeable})
    return rows


@dataclass(frozen=True)
class MergeRow:
    """One ``kmem_cache_create`` of the merging demo."""

    name: str
    size: int
    flags: str
    ctor: bool
    sysfs_dir: str        # the /sys/kernel/slab directory the name points to
    merged_into: str | None   # first creator's name when merged
    slab_size: int
    object_size: int      # s->object_size after the call (max over aliases)
    refcount: int


DEFAULT_MERGE_REQUESTS: tuple[tuple[str, int, int, bool], ...] = (
    ("foo_req", 200, 0, False),
    ("bar_ctx", 196, 0, False),
    ("baz_node", 200, SLAB_HWCACHE_ALIGN, False),
    ("foo_req_acct", 200, SLAB_ACCOUNT, False),
    ("bar_ctx_acct", 198, SLAB_ACCOUNT, False),
    ("qux_tmp", 200, SLAB_RECLAIM_ACCOUNT, False),
    ("foo_dbg", 200, SLAB_RED_ZONE, False),
    ("foo_poison", 200, SLAB_POISON, False),
    ("foo_rcu", 200, SLAB_TYPESAFE_BY_RCU, False),
    ("foo_ctor", 200, 0, True),
)
"""(name, size, flags, ctor) of the merging demo, created in this order."""


def _noop_ctor(obj: object) -> None:  # a constructor for the demo (never called: contents are not modelled)
    return None


def merge_demo(requests: tuple[tuple[str, int, int, bool], ...] = DEFAULT_MERGE_REQUESTS, *,
               params: SlubParams = DEFAULT_PARAMS) -> list[MergeRow]:
    """Create the caches of ``requests`` in a fresh allocator and report which were merged
    (``__kmem_cache_create_args`` → ``find_mergeable``) and the sysfs directory of each name."""
    _check_params(params)
    if not isinstance(requests, (tuple, list)) or not all(
            isinstance(r, (tuple, list)) and len(r) == 4 and isinstance(r[3], bool) for r in requests):
        raise InvalidSizeError(f"requests must be (name, size, flags, ctor) tuples, got {show(requests)}")
    a = SlubAllocator(params=params)
    rows = []
    for name, size, flags, ctor in requests:
        s = a.kmem_cache_create(name, size, 0, flags, _noop_ctor if ctor else None)
        rows.append((name, size, flags, ctor, s))
    sysfs = a.sysfs_entries()
    out = []
    for name, size, flags, ctor, s in rows:
        out.append(MergeRow(name, size, slab_flag_names(flags), ctor, sysfs[name],
                            s.name if s.name != name else None, s.size, s.object_size, s.refcount))
    return out


@dataclass(frozen=True)
class TuningRow:
    """How ``count`` objects of ``struct_size`` bytes fare under one allocation strategy."""

    strategy: str
    struct_size: int
    cache: str
    slab_size: int            # bytes per slot (ksize for kmalloc)
    objects_per_slab: int
    order: int
    waste_per_object: float   # slot - struct + slab leftover / objects
    slabs_needed: int
    memory_bytes: int         # slabs_needed * slab bytes
    waste_bytes: int          # memory - count * struct_size

    @property
    def waste_pct(self) -> float:
        return 100.0 * self.waste_bytes / self.memory_bytes if self.memory_bytes else 0.0


def _tuning_row(strategy: str, struct_size: int, g: CacheGeometry, count: int) -> TuningRow:
    slabs = -(-count // g.objects)
    mem = slabs * g.slab_bytes
    per_obj = g.size - struct_size + g.slab_waste / g.objects
    return TuningRow(strategy, struct_size, g.name, g.size, g.objects, g.order, per_obj, slabs, mem,
                     mem - count * struct_size)


def struct_tuning(struct_size: int = 1032, trimmed_size: int = 1024, count: int = 10000, *,
                  params: SlubParams = DEFAULT_PARAMS) -> list[TuningRow]:
    """kmalloc vs a dedicated cache, before and after trimming the struct, for ``count`` objects.

    kmalloc rows use the kmalloc cache ``kmalloc_slab()`` picks (``kmalloc_cache_geometry``);
    custom rows use ``kmem_cache_create(name, size, 0, 0, NULL)``. Slabs are assumed full (best case).
    """
    _check_params(params)
    for name, v in (("struct_size", struct_size), ("trimmed_size", trimmed_size)):
        check_int(v, name, 1, KMALLOC_MAX_CACHE_SIZE, exc=InvalidSizeError)
    check_int(count, "count", 0, 1 << 40, exc=InvalidSizeError)
    rows = []
    for size, tag in ((struct_size, ""), (trimmed_size, " (trimmed)")):
        if size > KMALLOC_MAX_CACHE_SIZE:
            raise InvalidSizeError(f"struct_tuning compares slab caches: {size} > KMALLOC_MAX_CACHE_SIZE")
        idx = _km.kmalloc_slab_index(size)
        rows.append(_tuning_row(f"kmalloc({size}){tag}", size, kmalloc_cache_geometry(idx, params=params), count))
        rows.append(_tuning_row(f"kmem_cache {size} B{tag}", size,
                                make_geometry(f"my_struct_{size}", size, 0, 0, params=params), count))
    return rows


def kmalloc_class(size: int) -> tuple[str, int]:
    """(cache name, ksize) of ``kmalloc(size)`` (:func:`kmemlib.mm.kmalloc.kmalloc_plan`)."""
    p = kmalloc_plan(size)
    return (p.cache or p.via), p.allocated


__all__ = [
    "OPTION_FLAGS", "OPTIONS", "slab_flags_for", "design_cache", "CacheSummary", "summarize", "flag_effects",
    "MergeRow", "DEFAULT_MERGE_REQUESTS", "merge_demo", "TuningRow", "struct_tuning", "kmalloc_class",
]
