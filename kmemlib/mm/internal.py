"""Allocator-internal flags of ``mm/internal.h`` (Linux 6.x): ``fpi_t`` and ``alloc_flags``.

Only the flags the model looks at. Shared by :mod:`kmemlib.mm.page_alloc` and :mod:`kmemlib.mm.watermarks`.
"""

# fpi_t flags (mm/internal.h, used by mm/page_alloc.c)
FPI_NONE = 0
FPI_TO_TAIL = 1 << 1

# alloc_flags (mm/internal.h); only the ones the model looks at.
ALLOC_WMARK_MIN = 0x00
ALLOC_WMARK_LOW = 0x01
ALLOC_WMARK_HIGH = 0x02
ALLOC_NO_WATERMARKS = 0x04
ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1
ALLOC_OOM = 0x08
ALLOC_NON_BLOCK = 0x10
ALLOC_MIN_RESERVE = 0x20
ALLOC_CPUSET = 0x40
ALLOC_CMA = 0x80
ALLOC_NOFRAGMENT = 0x100
ALLOC_HIGHATOMIC = 0x200
ALLOC_KSWAPD = 0x800
ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM

__all__ = [n for n in dir() if n.startswith(("FPI_", "ALLOC_"))]
