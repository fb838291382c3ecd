"""kmalloc size classes, cache types and the arithmetic of a kmalloc() request.

Pure functions, no allocator state: which ``kmalloc-*`` cache serves a size, how many bytes it
really hands out, when the page allocator takes over and which order it uses.

Models ``include/linux/slab.h`` (``KMALLOC_*`` constants, ``__kmalloc_index``, ``kmalloc_type``),
``mm/slab.h`` (``kmalloc_slab``, ``size_index_elem``) and ``mm/slab_common.c`` (``kmalloc_info[]``,
``kmalloc_size_index[]``, ``setup_kmalloc_cache_index_table``, ``kmalloc_size_roundup``,
``create_kmalloc_caches``/``new_kmalloc_cache``). Page size, ``MAX_PAGE_ORDER`` and
``KMALLOC_MIN_SIZE`` are parameters; the defaults are x86-64's (4 KiB pages, order 10, 8 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import InvalidFlagsError, InvalidSizeError
from . import gfp as _gfp
from .pages import MAX_PAGE_ORDER, PAGE_SHIFT, get_order, ilog2, is_power_of_2
from .version import DEFAULT_KERNEL_VERSION, version_tuple

# --------------------------------------------------------------------------------------------
# Constants (include/linux/slab.h), for the default configuration
# --------------------------------------------------------------------------------------------
ARCH_KMALLOC_MINALIGN: int = 8
"""``__alignof__(unsigned long long)`` on x86-64."""
ARCH_SLAB_MINALIGN: int = 8
KMALLOC_SHIFT_LOW: int = 3
KMALLOC_MIN_SIZE: int = 1 << KMALLOC_SHIFT_LOW
KMALLOC_SHIFT_HIGH: int = PAGE_SHIFT + 1
KMALLOC_MAX_CACHE_SIZE: int = 1 << KMALLOC_SHIFT_HIGH
"""8192 on 4 KiB pages: larger requests go to the page allocator."""
KMALLOC_SHIFT_MAX: int = MAX_PAGE_ORDER + PAGE_SHIFT
KMALLOC_MAX_SIZE: int = 1 << KMALLOC_SHIFT_MAX
"""4 MiB: larger kmalloc() requests fail."""
KMALLOC_MAX_ORDER: int = KMALLOC_SHIFT_MAX - PAGE_SHIFT
ZERO_SIZE_PTR: int = 16
"""``((void *)16)``, what ``kmalloc(0)`` returns (``include/linux/slab.h``)."""

# enum kmalloc_cache_type for this machine's config (ZONE_DMA, MEMCG, SLAB_OBJ_EXT on;
# RANDOM_KMALLOC_CACHES and SLUB_TINY off).
KMALLOC_NORMAL: int = 0
KMALLOC_RECLAIM: int = 1
KMALLOC_DMA: int = 2
KMALLOC_CGROUP: int = 3
KMALLOC_NO_OBJ_EXT: int = 4
NR_KMALLOC_TYPES: int = 5
KMALLOC_TYPE_NAMES: dict[int, str] = {
    KMALLOC_NORMAL: "normal", KMALLOC_RECLAIM: "rcl", KMALLOC_DMA: "dma",
    KMALLOC_CGROUP: "cg", KMALLOC_NO_OBJ_EXT: "no-objext",
}
KMALLOC_TYPE_PREFIX: dict[int, str] = {
    KMALLOC_NORMAL: "kmalloc-", KMALLOC_RECLAIM: "kmalloc-rcl-", KMALLOC_DMA: "dma-kmalloc-",
    KMALLOC_CGROUP: "kmalloc-cg-", KMALLOC_NO_OBJ_EXT: "kmalloc-no-objext-",
}
"""Cache-name prefix per type (``INIT_KMALLOC_INFO``)."""
KMALLOC_CREATED_TYPES: tuple[int, ...] = (KMALLOC_NORMAL, KMALLOC_RECLAIM, KMALLOC_DMA, KMALLOC_CGROUP)
"""Types that get caches of their own on this machine; NO_OBJ_EXT aliases NORMAL unless memory
allocation profiling needs it (``new_kmalloc_cache``)."""

KMALLOC_NOT_NORMAL_BITS: int = _gfp.__GFP_RECLAIMABLE | _gfp.__GFP_DMA | _gfp.__GFP_ACCOUNT
GFP_SLAB_BUG_MASK: int = _gfp.__GFP_DMA32 | _gfp.__GFP_HIGHMEM
"""Bits kmalloc must not be given (``kmalloc_fix_flags`` warns and strips them; we raise)."""

_SHORT_NAMES = ("0", "96", "192", "8", "16", "32", "64", "128", "256", "512", "1k", "2k", "4k",
                "8k", "16k", "32k", "64k", "128k", "256k", "512k", "1M", "2M")
KMALLOC_INFO: tuple[tuple[int, str], ...] = tuple(
    (0 if i == 0 else (96 if i == 1 else (192 if i == 2 else 1 << i)), short)
    for i, short in enumerate(_SHORT_NAMES)
)
"""``kmalloc_info[]``: index → (size, short name); index 0 is the zero-size slot."""

KMALLOC_SIZE_INDEX: tuple[int, ...] = (3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7,
                                       2, 2, 2, 2, 2, 2, 2, 2)
"""``kmalloc_size_index[24]`` as compiled (before any patching), indexed by ``(size-1)/8``."""


def _check_size(size: object, what: str = "size") -> int:
    if not isinstance(size, int) or isinstance(size, bool):
        raise InvalidSizeError(f"{what} must be an int, got {size!r}")
    if size < 0:
        raise InvalidSizeError(f"{what} must be >= 0, got {size}")
    if size >= 1 << 64:
        raise InvalidSizeError(f"{what} {size} does not fit a 64-bit size_t")
    return size


def _check_geometry(page_shift: object, max_page_order: object = MAX_PAGE_ORDER) -> None:
    """``PAGE_SHIFT`` in 10..20 and ``MAX_PAGE_ORDER`` in 0..20 (what the model supports, like Zone)."""
    for name, v, lo, hi in (("page_shift", page_shift, 10, 20), ("max_page_order", max_page_order, 0, 20)):
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise InvalidSizeError(f"{name} must be an int in {lo}..{hi}, got {v!r}")


def _check_min_size(kmalloc_min_size: int) -> int:
    if not isinstance(kmalloc_min_size, int) or isinstance(kmalloc_min_size, bool) \
            or not is_power_of_2(kmalloc_min_size) \
            or not 8 <= kmalloc_min_size <= 128:
        # setup_kmalloc_cache_index_table() BUILD_BUG_ONs above 256, but with 256 its table sends
        # 72..96-byte requests to kmalloc-128, a cache create_kmalloc_caches() never creates for
        # KMALLOC_SHIFT_LOW = 8 (no architecture uses 256), so the model stops at 128.
        raise InvalidSizeError(
            f"KMALLOC_MIN_SIZE must be a power of two in 8..128 (256 passes the kernel's BUILD_BUG_ON "
            f"but leaves 72..96-byte requests without a cache), got {kmalloc_min_size!r}")
    return kmalloc_min_size


def kmalloc_cache_name(index: int, type_: int = KMALLOC_NORMAL) -> str:
    """Name of the kmalloc cache for a ``kmalloc_info[]`` index and type, e.g. ``kmalloc-cg-96``
    (``kmalloc_info[idx].name[type]`` built by ``INIT_KMALLOC_INFO``, mm/slab_common.c)."""
    if not isinstance(index, int) or isinstance(index, bool) or not 1 <= index < len(KMALLOC_INFO):
        raise InvalidSizeError(f"kmalloc index {index!r} out of range 1..{len(KMALLOC_INFO) - 1}")
    if not isinstance(type_, int) or isinstance(type_, bool) or type_ not in KMALLOC_TYPE_PREFIX:
        raise InvalidFlagsError(f"unknown kmalloc type {type_!r}")
    return KMALLOC_TYPE_PREFIX[type_] + KMALLOC_INFO[index][1]


@lru_cache(maxsize=None)
def kmalloc_size_index_table(kmalloc_min_size: int = KMALLOC_MIN_SIZE) -> tuple[int, ...]:
    """``kmalloc_size_index[]`` after ``setup_kmalloc_cache_index_table()`` for a KMALLOC_MIN_SIZE.

    Sizes below KMALLOC_MIN_SIZE map to the smallest cache, and the 96/192 caches are skipped
    when KMALLOC_MIN_SIZE reaches 64/128 (not the case on x86, where the table is unchanged).
    """
    _check_min_size(kmalloc_min_size)
    table = list(KMALLOC_SIZE_INDEX)
    shift_low = ilog2(kmalloc_min_size)
    for i in range(8, kmalloc_min_size, 8):
        elem = (i - 1) // 8
        if elem >= len(table):
            break
        table[elem] = shift_low
    if kmalloc_min_size >= 64:
        for i in range(64 + 8, 97, 8):
            table[(i - 1) // 8] = 7
    if kmalloc_min_size >= 128:
        for i in range(128 + 8, 193, 8):
            table[(i - 1) // 8] = 8
    return tuple(table)


def __kmalloc_index(size: int, kmalloc_min_size: int = KMALLOC_MIN_SIZE) -> int:  # noqa: N807
    """Compile-time size → ``kmalloc_info[]`` index (``__kmalloc_index`` in slab.h).

    0 → 0; ``<= KMALLOC_MIN_SIZE`` → KMALLOC_SHIFT_LOW; 65..96 → 1 and 129..192 → 2 when
    KMALLOC_MIN_SIZE allows; else the smallest n with ``size <= 2**n`` up to 2 MiB (n = 21).
    Larger sizes are a BUG() in the kernel and raise :class:`InvalidSizeError` here.
    """
    _check_size(size)
    _check_min_size(kmalloc_min_size)
    if size == 0:
        return 0
    if size <= kmalloc_min_size:
        return ilog2(kmalloc_min_size)
    if kmalloc_min_size <= 32 and 64 < size <= 96:
        return 1
    if kmalloc_min_size <= 64 and 128 < size <= 192:
        return 2
    if size > 2 * 1024 * 1024:
        raise InvalidSizeError(f"__kmalloc_index({size}): unexpected size (BUG() above 2 MiB)")
    return max(3, (size - 1).bit_length())


kmalloc_index = __kmalloc_index
"""``kmalloc_index(s)`` is ``__kmalloc_index(s, true)``."""


def kmalloc_slab_index(size: int, kmalloc_min_size: int = KMALLOC_MIN_SIZE,
                       page_shift: int = PAGE_SHIFT) -> int:
    """Run-time cache index of ``kmalloc_slab()`` (mm/slab.h) for ``1 <= size <= KMALLOC_MAX_CACHE_SIZE``.

    ``size <= 192`` → ``kmalloc_size_index[(size-1)/8]``; otherwise ``fls(size-1)``.
    """
    _check_size(size)
    _check_geometry(page_shift)
    if size == 0 or size > 1 << (page_shift + 1):
        raise InvalidSizeError(
            f"kmalloc_slab() needs 1 <= size <= KMALLOC_MAX_CACHE_SIZE ({1 << (page_shift + 1)}), got {size}")
    if size <= 192:
        return kmalloc_size_index_table(kmalloc_min_size)[(size - 1) // 8]
    return (size - 1).bit_length()


def kmalloc_type(gfp: int) -> int:
    """kmalloc cache type for GFP flags (``kmalloc_type()`` in slab.h, plus the NO_OBJ_EXT override
    of ``kmalloc_slab()``).

    None of RECLAIMABLE/DMA/ACCOUNT → NORMAL; else priority DMA, then RECLAIMABLE → RECLAIM,
    else (ACCOUNT) → CGROUP. ``__GFP_NO_OBJ_EXT`` selects KMALLOC_NO_OBJ_EXT (an alias of NORMAL
    on this config, see :func:`kmalloc_effective_type`).
    """
    _gfp.check_gfp(gfp)
    if gfp & _gfp.__GFP_NO_OBJ_EXT:
        return KMALLOC_NO_OBJ_EXT
    if not gfp & KMALLOC_NOT_NORMAL_BITS:
        return KMALLOC_NORMAL
    if gfp & _gfp.__GFP_DMA:
        return KMALLOC_DMA
    if gfp & _gfp.__GFP_RECLAIMABLE:
        return KMALLOC_RECLAIM
    return KMALLOC_CGROUP


def kmalloc_effective_type(type_: int, *, memcg_kmem: bool = True, need_no_objext: bool = False) -> int:
    """Type whose caches actually serve ``type_`` after ``new_kmalloc_cache()``'s aliasing.

    CGROUP aliases NORMAL with ``cgroup.memory=nokmem`` (``memcg_kmem=False``); NO_OBJ_EXT aliases
    NORMAL unless allocation profiling needs it.
    """
    if not isinstance(type_, int) or isinstance(type_, bool) or type_ not in KMALLOC_TYPE_PREFIX:
        raise InvalidFlagsError(f"unknown kmalloc type {type_!r}")
    if type_ == KMALLOC_CGROUP and not memcg_kmem:
        return KMALLOC_NORMAL
    if type_ == KMALLOC_NO_OBJ_EXT and not need_no_objext:
        return KMALLOC_NORMAL
    if type_ not in KMALLOC_TYPE_PREFIX:
        raise InvalidFlagsError(f"unknown kmalloc type {type_!r}")
    return type_


def check_kmalloc_gfp(gfp: int) -> int:
    """Validate GFP flags for kmalloc: known bits only and none of ``GFP_SLAB_BUG_MASK``.

    The kernel's ``kmalloc_fix_flags()`` warns and strips ``__GFP_DMA32|__GFP_HIGHMEM``; the model
    raises :class:`InvalidFlagsError` instead so the mistake is visible.
    """
    _gfp.check_gfp(gfp)
    if gfp & GFP_SLAB_BUG_MASK:
        raise InvalidFlagsError(
            f"kmalloc flags {_gfp.gfp_names(gfp)} contain {_gfp.gfp_names(gfp & GFP_SLAB_BUG_MASK)}, "
            "which slab cannot honour (kmalloc_fix_flags)")
    return gfp


def kmalloc_cache_indices(kmalloc_min_size: int = KMALLOC_MIN_SIZE, page_shift: int = PAGE_SHIFT) -> list[int]:
    """``kmalloc_info[]`` indices that ``create_kmalloc_caches()`` creates per type, in creation order:
    1 (96) if KMALLOC_MIN_SIZE <= 32, 2 (192) if <= 64, then KMALLOC_SHIFT_LOW..KMALLOC_SHIFT_HIGH."""
    _check_min_size(kmalloc_min_size)
    _check_geometry(page_shift)
    out = []
    if kmalloc_min_size <= 32:
        out.append(1)
    if kmalloc_min_size <= 64:
        out.append(2)
    out.extend(range(ilog2(kmalloc_min_size), page_shift + 2))
    return out


def kmalloc_cache_names(type_: int = KMALLOC_NORMAL, kmalloc_min_size: int = KMALLOC_MIN_SIZE,
                        page_shift: int = PAGE_SHIFT) -> list[str]:
    """Names of one type's kmalloc caches, in ``create_kmalloc_caches()`` order."""
    return [kmalloc_cache_name(i, type_) for i in kmalloc_cache_indices(kmalloc_min_size, page_shift)]


def kmalloc_size_roundup(size: int, *, kmalloc_min_size: int = KMALLOC_MIN_SIZE, page_shift: int = PAGE_SHIFT,
                         max_page_order: int = MAX_PAGE_ORDER, kernel_version: str = DEFAULT_KERNEL_VERSION) -> int:
    """Bytes kmalloc really provides for ``size`` (``kmalloc_size_roundup()``, mm/slab_common.c).

    ``1..KMALLOC_MAX_CACHE_SIZE`` → the serving cache's object size; up to KMALLOC_MAX_SIZE →
    ``PAGE_SIZE << get_order(size)``; 0 or too big → ``size`` unchanged.

    Before Linux 6.7 (commit 8446a4deb6b6 "slab: kmalloc_size_roundup() must not return 0 for
    non-zero size"; the function came in 6.1 with 05a940656e1e) there was no upper bound: every
    size above ``KMALLOC_MAX_CACHE_SIZE`` gave ``PAGE_SIZE << get_order(size)``, so on 6.1
    ``kmalloc_size_roundup(4300900)`` is 8388608 although ``kmalloc(4300900)`` fails.
    """
    _check_size(size)
    _check_geometry(page_shift, max_page_order)
    _check_min_size(kmalloc_min_size)
    if version_tuple(kernel_version) < (6, 7) and size > 1 << (page_shift + 1):
        return (1 << page_shift) << get_order(size, page_shift)
    if 0 < size <= 1 << (page_shift + 1):
        return KMALLOC_INFO[kmalloc_slab_index(size, kmalloc_min_size, page_shift)][0]
    if 0 < size <= 1 << (max_page_order + page_shift):
        return (1 << page_shift) << get_order(size, page_shift)
    return size


@dataclass(frozen=True)
class KmallocPlan:
    """What ``kmalloc(request, gfp)`` does, for tables and widgets."""

    request: int
    gfp: int
    cache: str | None          # serving cache name, None unless via == "slab"
    via: str                   # "slab" | "page allocator" | "ZERO_SIZE_PTR" | "fail"
    allocated: int             # bytes handed out (= ksize), 0 for ZERO_SIZE_PTR/fail
    order: int | None          # page order for the page allocator path
    waste: int                 # allocated - request (0 when nothing is allocated)
    waste_pct_of_request: float
    waste_pct_of_allocation: float


def kmalloc_plan(size: int, gfp: int = _gfp.GFP_KERNEL, *, kmalloc_min_size: int = KMALLOC_MIN_SIZE,
                 page_shift: int = PAGE_SHIFT, max_page_order: int = MAX_PAGE_ORDER) -> KmallocPlan:
    """Where a kmalloc request goes and what it wastes (``__do_kmalloc_node`` in mm/slub.c).

    0 → ZERO_SIZE_PTR; ``<= KMALLOC_MAX_CACHE_SIZE`` → the ``kmalloc_slab()`` cache of
    ``kmalloc_type(gfp)``; ``<= KMALLOC_MAX_SIZE`` → page allocator with ``order = get_order(size)``;
    larger → failure (NULL). Allocated bytes assume a cache without debug flags (ksize = slot size).
    """
    _check_size(size)
    check_kmalloc_gfp(gfp)
    _check_geometry(page_shift, max_page_order)
    _check_min_size(kmalloc_min_size)
    if size == 0:
        return KmallocPlan(0, gfp, None, "ZERO_SIZE_PTR", 0, None, 0, 0.0, 0.0)
    if size <= 1 << (page_shift + 1):
        idx = kmalloc_slab_index(size, kmalloc_min_size, page_shift)
        cache = kmalloc_cache_name(idx, kmalloc_effective_type(kmalloc_type(gfp)))
        allocated, order, via = KMALLOC_INFO[idx][0], None, "slab"
    elif size <= 1 << (max_page_order + page_shift):
        order = get_order(size, page_shift)
        allocated, cache, via = (1 << page_shift) << order, None, "page allocator"
    else:
        return KmallocPlan(size, gfp, None, "fail", 0, None, 0, 0.0, 0.0)
    waste = allocated - size
    return KmallocPlan(size, gfp, cache, via, allocated, order, waste,
                       100.0 * waste / size, 100.0 * waste / allocated)


__all__ = [
    "ARCH_KMALLOC_MINALIGN", "ARCH_SLAB_MINALIGN", "KMALLOC_SHIFT_LOW", "KMALLOC_MIN_SIZE",
    "KMALLOC_SHIFT_HIGH", "KMALLOC_MAX_CACHE_SIZE", "KMALLOC_SHIFT_MAX", "KMALLOC_MAX_SIZE",
    "KMALLOC_MAX_ORDER", "ZERO_SIZE_PTR", "KMALLOC_NORMAL", "KMALLOC_RECLAIM", "KMALLOC_DMA",
    "KMALLOC_CGROUP", "KMALLOC_NO_OBJ_EXT", "NR_KMALLOC_TYPES", "KMALLOC_TYPE_NAMES", "KMALLOC_TYPE_PREFIX",
    "KMALLOC_CREATED_TYPES", "KMALLOC_INFO", "KMALLOC_SIZE_INDEX", "GFP_SLAB_BUG_MASK",
    "kmalloc_cache_name", "kmalloc_size_index_table", "kmalloc_index", "kmalloc_slab_index", "kmalloc_type",
    "kmalloc_effective_type", "check_kmalloc_gfp", "kmalloc_cache_indices", "kmalloc_cache_names",
    "kmalloc_size_roundup", "KmallocPlan", "kmalloc_plan",
]
