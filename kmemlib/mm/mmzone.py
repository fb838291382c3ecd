"""Zone and watermark indices of ``include/linux/mmzone.h`` (x86-64, no HIGHMEM).

Migrate types (also mmzone.h) live in :mod:`kmemlib.mm.gfp`, next to ``gfp_migratetype()``.
"""

ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_MOVABLE, ZONE_DEVICE = range(5)
MAX_NR_ZONES = 5
ZONE_NAMES = ("DMA", "DMA32", "Normal", "Movable", "Device")
"""``zone_names[]`` on x86-64 (no HIGHMEM)."""

WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO = 0, 1, 2, 3
"""``enum zone_watermarks``."""
NR_WMARK = 4

__all__ = ["ZONE_DMA", "ZONE_DMA32", "ZONE_NORMAL", "ZONE_MOVABLE", "ZONE_DEVICE", "MAX_NR_ZONES", "ZONE_NAMES",
           "WMARK_MIN", "WMARK_LOW", "WMARK_HIGH", "WMARK_PROMO", "NR_WMARK"]
