"""GFP ("get free pages") flags, as in ``include/linux/gfp_types.h`` and ``include/linux/gfp.h``.

Bit positions follow the ``___GFP_*_BIT`` enum of Linux 6.12 with the config-dependent bits
(ZEROTAGS, SKIP_ZERO, SKIP_KASAN, NOLOCKDEP) left out, as on a kernel without KASAN/LOCKDEP.
Only the *meaning* of the flags matters to kmemlib: which zone, which migrate type, which
kmalloc cache type, whether to zero.
"""

from __future__ import annotations

from ..errors import InvalidFlagsError

_BITS = [
    "DMA", "HIGHMEM", "DMA32", "MOVABLE", "RECLAIMABLE", "HIGH", "IO", "FS", "ZERO", "UNUSED",
    "DIRECT_RECLAIM", "KSWAPD_RECLAIM", "WRITE", "NOWARN", "RETRY_MAYFAIL", "NOFAIL", "NORETRY",
    "MEMALLOC", "COMP", "NOMEMALLOC", "HARDWALL", "THISNODE", "ACCOUNT", "NO_OBJ_EXT",
]
_FLAG = {name: 1 << bit for bit, name in enumerate(_BITS)}

__GFP_DMA = _FLAG["DMA"]
__GFP_HIGHMEM = _FLAG["HIGHMEM"]
__GFP_DMA32 = _FLAG["DMA32"]
__GFP_MOVABLE = _FLAG["MOVABLE"]
__GFP_RECLAIMABLE = _FLAG["RECLAIMABLE"]
__GFP_HIGH = _FLAG["HIGH"]
__GFP_IO = _FLAG["IO"]
__GFP_FS = _FLAG["FS"]
__GFP_ZERO = _FLAG["ZERO"]
__GFP_DIRECT_RECLAIM = _FLAG["DIRECT_RECLAIM"]
__GFP_KSWAPD_RECLAIM = _FLAG["KSWAPD_RECLAIM"]
__GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM
__GFP_WRITE = _FLAG["WRITE"]
__GFP_NOWARN = _FLAG["NOWARN"]
__GFP_RETRY_MAYFAIL = _FLAG["RETRY_MAYFAIL"]
__GFP_NOFAIL = _FLAG["NOFAIL"]
__GFP_NORETRY = _FLAG["NORETRY"]
__GFP_MEMALLOC = _FLAG["MEMALLOC"]
__GFP_COMP = _FLAG["COMP"]
__GFP_NOMEMALLOC = _FLAG["NOMEMALLOC"]
__GFP_HARDWALL = _FLAG["HARDWALL"]
__GFP_THISNODE = _FLAG["THISNODE"]
__GFP_ACCOUNT = _FLAG["ACCOUNT"]
__GFP_NO_OBJ_EXT = _FLAG["NO_OBJ_EXT"]
__GFP_BITS_MASK = (1 << len(_BITS)) - 1

GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM
GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS
GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT
GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN
GFP_NOIO = __GFP_RECLAIM
GFP_NOFS = __GFP_RECLAIM | __GFP_IO
GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL
GFP_DMA = __GFP_DMA
GFP_DMA32 = __GFP_DMA32
GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM
GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE

GFP_MOVABLE_MASK = __GFP_RECLAIMABLE | __GFP_MOVABLE

# Migrate types (include/linux/mmzone.h, enum migratetype).
MIGRATE_UNMOVABLE = 0
MIGRATE_MOVABLE = 1
MIGRATE_RECLAIMABLE = 2
MIGRATE_PCPTYPES = 3
MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES
MIGRATETYPE_NAMES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate")

NAMED_GFP = {
    "GFP_KERNEL": GFP_KERNEL, "GFP_ATOMIC": GFP_ATOMIC, "GFP_KERNEL_ACCOUNT": GFP_KERNEL_ACCOUNT,
    "GFP_NOWAIT": GFP_NOWAIT, "GFP_NOIO": GFP_NOIO, "GFP_NOFS": GFP_NOFS, "GFP_USER": GFP_USER,
    "GFP_DMA": GFP_DMA, "GFP_DMA32": GFP_DMA32, "GFP_HIGHUSER": GFP_HIGHUSER,
    "GFP_HIGHUSER_MOVABLE": GFP_HIGHUSER_MOVABLE,
}


def check_gfp(gfp: int) -> int:
    """Reject values that are not a combination of known GFP bits; returns ``gfp``."""
    if not isinstance(gfp, int) or isinstance(gfp, bool) or gfp < 0:
        raise InvalidFlagsError(f"GFP flags must be a non-negative int, got {gfp!r}")
    unknown = gfp & ~__GFP_BITS_MASK
    if unknown:
        raise InvalidFlagsError(f"unknown GFP bits {unknown:#x} in {gfp:#x}")
    return gfp


def gfp_migratetype(gfp: int) -> int:
    """Migrate type a request lands on: ``gfp_migratetype()`` in ``include/linux/gfp.h``.

    ``__GFP_MOVABLE`` → MOVABLE, ``__GFP_RECLAIMABLE`` → RECLAIMABLE, neither → UNMOVABLE;
    both at once is a kernel warning and raises here.
    """
    check_gfp(gfp)
    bits = gfp & GFP_MOVABLE_MASK
    if bits == GFP_MOVABLE_MASK:
        raise InvalidFlagsError("__GFP_MOVABLE and __GFP_RECLAIMABLE together are invalid (VM_WARN_ON in gfp_migratetype)")
    if bits == __GFP_MOVABLE:
        return MIGRATE_MOVABLE
    if bits == __GFP_RECLAIMABLE:
        return MIGRATE_RECLAIMABLE
    return MIGRATE_UNMOVABLE


def gfp_names(gfp: int) -> str:
    """Readable ``__GFP_A|__GFP_B`` form of a flag word (``%pGg`` in printk, roughly)."""
    check_gfp(gfp)
    for name, value in NAMED_GFP.items():
        if gfp == value:
            return name
    parts = [f"__GFP_{n}" for n, v in _FLAG.items() if gfp & v]
    return "|".join(parts) if parts else "0"


FLAGS: dict[str, int] = dict(_FLAG)
"""Single GFP bits by short name (``FLAGS["ZERO"] == __GFP_ZERO``): use this inside class bodies,
where Python would mangle a ``__GFP_*`` identifier."""

__all__ = [n for n in dir() if n.startswith(("__GFP_", "GFP_", "MIGRATE_"))] + [
    "FLAGS", "NAMED_GFP", "check_gfp", "gfp_migratetype", "gfp_names",
]
