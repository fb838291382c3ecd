"""kmemlib — the engine of kmembook: Linux 6.x page and slab allocators, modelled faithfully.

Packages, bottom layer first (each imports only the ones above it in this list; README "Architecture"):

* :mod:`kmemlib.errors` — the exceptions every layer raises
* :mod:`kmemlib.mm` — the model of the kernel's mm/: ``pages`` (asm-generic/getorder.h), ``gfp`` (gfp.h),
  ``mmzone``, ``internal``, ``page_alloc`` (mm/page_alloc.c), ``watermarks``, ``vmstat`` (mm/vmstat.c),
  ``kmalloc`` (slab.h, slab_common.c), ``slab_flags``, ``slub`` (mm/slub.c), ``vmalloc`` (mm/vmalloc.c, mm/util.c)
* :mod:`kmemlib.readers` — readers and writers of the kernel's own text: /proc, /sys, shipped snapshots
* :mod:`kmemlib.lessons` — the teaching layer: workloads, waste sweeps, plots and thin ipywidgets layers
* :mod:`kmemlib.homework` — per-student assignments and grading; :mod:`kmemlib.lab` — real kernels under QEMU
* :mod:`kmemlib.cli` — the ``kmemlib`` command

The names below are the public API: ``from kmemlib import Zone, SlubAllocator, kmalloc_plan, ...``.
"""

__version__ = "0.1.0"

from .errors import KmemError  # noqa: E402
from .mm.kmalloc import KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, ZERO_SIZE_PTR, kmalloc_plan, kmalloc_size_roundup  # noqa: E402
from .mm.page_alloc import Event, Node, Zone  # noqa: E402
from .mm.pages import MAX_PAGE_ORDER, PAGE_SHIFT, PAGE_SIZE, get_order  # noqa: E402
from .mm.slub import SlubAllocator, SlubParams, calculate_order, make_geometry  # noqa: E402
from .readers.procfs import node_from_snapshot  # noqa: E402
from .readers.sysfs import compare_live  # noqa: E402

__all__ = [
    "Event", "Node", "Zone", "KmemError", "KMALLOC_MAX_CACHE_SIZE", "KMALLOC_MAX_SIZE", "ZERO_SIZE_PTR",
    "kmalloc_plan", "kmalloc_size_roundup", "MAX_PAGE_ORDER", "PAGE_SHIFT", "PAGE_SIZE", "get_order",
    "node_from_snapshot", "SlubAllocator", "SlubParams", "calculate_order", "make_geometry", "compare_live",
]
