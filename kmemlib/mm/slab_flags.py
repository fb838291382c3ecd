"""SLAB_* cache flags (``include/linux/slab.h``, ``mm/slab.h``) and ``kmem_cache_flags()``.

Bit numbers follow ``enum _slab_flag_bits`` of Linux 6.12 with every config-dependent bit present
(DEBUG_OBJECTS, FAILSLAB, ACCOUNT, KASAN, SKIP_KFENCE, RECLAIM_ACCOUNT, NO_OBJ_EXT), so each flag
has its own bit. The kernel packs the enum, so its numeric values differ by config; only the
meaning of the flags matters to the model (nothing numeric is visible in /sys or /proc).
"""

from __future__ import annotations

from ..errors import InvalidFlagsError

_BITS = [
    "CONSISTENCY_CHECKS", "RED_ZONE", "POISON", "KMALLOC", "HWCACHE_ALIGN", "CACHE_DMA", "CACHE_DMA32",
    "STORE_USER", "PANIC", "TYPESAFE_BY_RCU", "TRACE", "DEBUG_OBJECTS", "NOLEAKTRACE", "NO_MERGE",
    "FAILSLAB", "ACCOUNT", "KASAN", "NO_USER_FLAGS", "SKIP_KFENCE", "RECLAIM_ACCOUNT", "OBJECT_POISON",
    "CMPXCHG_DOUBLE", "NO_OBJ_EXT",
]
FLAGS: dict[str, int] = {name: 1 << bit for bit, name in enumerate(_BITS)}
"""Single SLAB flag bits by short name (``FLAGS["RED_ZONE"] == SLAB_RED_ZONE``)."""

SLAB_CONSISTENCY_CHECKS = FLAGS["CONSISTENCY_CHECKS"]
SLAB_RED_ZONE = FLAGS["RED_ZONE"]
SLAB_POISON = FLAGS["POISON"]
SLAB_KMALLOC = FLAGS["KMALLOC"]
SLAB_HWCACHE_ALIGN = FLAGS["HWCACHE_ALIGN"]
SLAB_CACHE_DMA = FLAGS["CACHE_DMA"]
SLAB_CACHE_DMA32 = FLAGS["CACHE_DMA32"]
SLAB_STORE_USER = FLAGS["STORE_USER"]
SLAB_PANIC = FLAGS["PANIC"]
SLAB_TYPESAFE_BY_RCU = FLAGS["TYPESAFE_BY_RCU"]
SLAB_TRACE = FLAGS["TRACE"]
SLAB_DEBUG_OBJECTS = FLAGS["DEBUG_OBJECTS"]
SLAB_NOLEAKTRACE = FLAGS["NOLEAKTRACE"]
SLAB_NO_MERGE = FLAGS["NO_MERGE"]
SLAB_FAILSLAB = FLAGS["FAILSLAB"]
SLAB_ACCOUNT = FLAGS["ACCOUNT"]
SLAB_KASAN = FLAGS["KASAN"]
SLAB_NO_USER_FLAGS = FLAGS["NO_USER_FLAGS"]
SLAB_SKIP_KFENCE = FLAGS["SKIP_KFENCE"]
SLAB_RECLAIM_ACCOUNT = FLAGS["RECLAIM_ACCOUNT"]
SLAB_TEMPORARY = SLAB_RECLAIM_ACCOUNT
__OBJECT_POISON = FLAGS["OBJECT_POISON"]
__CMPXCHG_DOUBLE = FLAGS["CMPXCHG_DOUBLE"]
SLAB_NO_OBJ_EXT = FLAGS["NO_OBJ_EXT"]
OBJECT_POISON = __OBJECT_POISON
"""Alias of the internal ``__OBJECT_POISON`` (usable inside class bodies)."""

SLAB_CORE_FLAGS = (SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_PANIC
                   | SLAB_TYPESAFE_BY_RCU | SLAB_DEBUG_OBJECTS)
SLAB_DEBUG_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS
SLAB_CACHE_FLAGS = (SLAB_NOLEAKTRACE | SLAB_RECLAIM_ACCOUNT | SLAB_TEMPORARY | SLAB_ACCOUNT
                    | SLAB_NO_USER_FLAGS | SLAB_KMALLOC | SLAB_NO_MERGE)
CACHE_CREATE_MASK = SLAB_CORE_FLAGS | SLAB_DEBUG_FLAGS | SLAB_CACHE_FLAGS
SLAB_FLAGS_PERMITTED = (SLAB_CORE_FLAGS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE
                        | SLAB_CONSISTENCY_CHECKS | SLAB_NOLEAKTRACE | SLAB_RECLAIM_ACCOUNT | SLAB_TEMPORARY
                        | SLAB_ACCOUNT | SLAB_KMALLOC | SLAB_NO_MERGE | SLAB_NO_USER_FLAGS)
"""Flags ``kmem_cache_create()`` accepts (mm/slab.h); anything else is -EINVAL."""
SLAB_NEVER_MERGE = (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_TYPESAFE_BY_RCU
                    | SLAB_NOLEAKTRACE | SLAB_FAILSLAB | SLAB_NO_MERGE)
"""6.12's ``SLAB_NEVER_MERGE`` (mm/slab_common.c)."""
SLAB_MERGE_SAME = SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_ACCOUNT
DEBUG_METADATA_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER

SYSFS_FLAG_FILES: dict[str, int] = {
    "hwcache_align": SLAB_HWCACHE_ALIGN, "reclaim_account": SLAB_RECLAIM_ACCOUNT,
    "cache_dma": SLAB_CACHE_DMA, "destroy_by_rcu": SLAB_TYPESAFE_BY_RCU, "red_zone": SLAB_RED_ZONE,
    "poison": SLAB_POISON, "store_user": SLAB_STORE_USER, "sanity_checks": SLAB_CONSISTENCY_CHECKS,
    "trace": SLAB_TRACE,
}
"""/sys/kernel/slab/<cache>/ files that show one flag bit each (slub.c ``*_show``)."""

_ALL = (1 << len(_BITS)) - 1


def slab_flag_names(flags: int) -> str:
    """``SLAB_A|SLAB_B`` text for a flag word."""
    check_slab_flags(flags, permitted=_ALL)
    names = [("__" if n in ("OBJECT_POISON", "CMPXCHG_DOUBLE") else "SLAB_") + n
             for n, v in FLAGS.items() if flags & v]
    return "|".join(names) if names else "0"


def check_slab_flags(flags: int, permitted: int = SLAB_FLAGS_PERMITTED) -> int:
    """Reject non-ints and flags outside ``permitted`` (``kmem_cache_create``: -EINVAL); returns flags."""
    if not isinstance(flags, int) or isinstance(flags, bool) or flags < 0:
        raise InvalidFlagsError(f"SLAB flags must be a non-negative int, got {flags!r:.60}")
    if not isinstance(permitted, int) or isinstance(permitted, bool) or permitted < 0:
        raise InvalidFlagsError(f"permitted must be a non-negative int, got {permitted!r:.60}")
    bad = flags & ~permitted
    if bad:
        known = bad & _ALL
        what = slab_flag_names(known) if known else ""
        raise InvalidFlagsError(
            f"SLAB flags {flags:#x} contain bits {bad:#x} {what} not permitted for kmem_cache_create "
            "(SLAB_FLAGS_PERMITTED)".replace("  ", " "))
    return flags


def kmem_cache_flags(flags: int, name: str, slub_debug: int = 0, slub_debug_slabs: tuple[str, ...] | None = None) -> int:
    """Flags after boot-time ``slab_debug=`` (``kmem_cache_flags()``, mm/slub.c).

    ``slub_debug`` is the debug flag word set by ``slab_debug=`` (0 here: none on the cmdline).
    Without ``slub_debug_slabs`` it applies to every cache (global flags); with it, only to caches
    whose name matches one of the patterns, as ``slab_debug=FZ,dentry,kmalloc-*`` (a ``*`` ends the
    compared prefix wherever it stands; without one the names must be equal). Caches created with
    SLAB_NO_USER_FLAGS are never changed; SLAB_NOLEAKTRACE caches do not get STORE_USER from the
    global flags (a list naming them still applies it).
    """
    check_slab_flags(flags, permitted=_ALL)
    check_slab_flags(slub_debug, permitted=_ALL)
    if not isinstance(name, str):
        raise InvalidFlagsError(f"cache name must be a string, got {name!r:.60}")
    if slub_debug_slabs is not None and (not isinstance(slub_debug_slabs, (tuple, list))
                                         or not all(isinstance(p, str) for p in slub_debug_slabs)):
        raise InvalidFlagsError(f"slub_debug_slabs must be None or cache name patterns, got {slub_debug_slabs!r:.60}")
    if flags & SLAB_NO_USER_FLAGS:
        return flags
    if not slub_debug:
        return flags
    if slub_debug_slabs is None:
        if flags & SLAB_NOLEAKTRACE:
            return flags | (slub_debug & ~SLAB_STORE_USER)
        return flags | slub_debug
    for pat in slub_debug_slabs:
        star = pat.find("*")
        if (star >= 0 and name.startswith(pat[:star])) or name == pat:
            return flags | slub_debug
    return flags


__all__ = [n for n in dir() if n.startswith("SLAB_")] + [
    "FLAGS", "OBJECT_POISON", "CACHE_CREATE_MASK", "DEBUG_METADATA_FLAGS", "SYSFS_FLAG_FILES",
    "slab_flag_names", "check_slab_flags", "kmem_cache_flags",
]
