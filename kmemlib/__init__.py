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
