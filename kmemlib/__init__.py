"""kmemlib — the engine of kmembook: Linux 6.x page and slab allocators, modelled faithfully.

Modules (each maps to kernel source):

* :mod:`kmemlib.pages` — page size, ``get_order``, order constants (asm-generic/getorder.h, mmzone.h)
* :mod:`kmemlib.buddy` — the buddy page allocator (mm/page_alloc.c)
* :mod:`kmemlib.kmalloc` / :mod:`kmemlib.slub` — kmalloc size classes and SLUB caches
  (include/linux/slab.h, mm/slab_common.c, mm/slub.c)
* :mod:`kmemlib.procfs` / :mod:`kmemlib.sysfs` — readers and writers of the kernel's /proc and /sys text
* :mod:`kmemlib.plots`, :mod:`kmemlib.widgets` — figures and thin ipywidgets layers for the book
* :mod:`kmemlib.homework` — per-student assignments; :mod:`kmemlib.cli` — the ``kmemlib`` command
"""

__version__ = "0.1.0"

from .buddy import Event, Node, Zone  # noqa: E402
from .errors import KmemError  # noqa: E402
from .kmalloc import KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, ZERO_SIZE_PTR, kmalloc_plan, kmalloc_size_roundup  # noqa: E402
from .pages import MAX_PAGE_ORDER, PAGE_SHIFT, PAGE_SIZE, get_order  # noqa: E402
from .procfs import node_from_snapshot  # noqa: E402
from .slub import SlubAllocator, SlubParams, calculate_order, make_geometry  # noqa: E402
from .sysfs import compare_live  # noqa: E402

__all__ = [
    "Event", "Node", "Zone", "KmemError", "KMALLOC_MAX_CACHE_SIZE", "KMALLOC_MAX_SIZE", "ZERO_SIZE_PTR",
    "kmalloc_plan", "kmalloc_size_roundup", "MAX_PAGE_ORDER", "PAGE_SHIFT", "PAGE_SIZE", "get_order",
    "node_from_snapshot", "SlubAllocator", "SlubParams", "calculate_order", "make_geometry", "compare_live",
]
