"""Real kernels in a VM: Debian's 6.1 and 6.12 booted under QEMU, the book's modules loaded, the
allocator state saved as a snapshot and compared with the model.

    >>> from kmemlib import lab
    >>> r = lab.run("6.12", cpus=4, mem="2G", modules=["kmalloc_sweep"])   # doctest: +SKIP
    >>> print(lab.compare(r.path).text())                                   # doctest: +SKIP

Command line: ``kmemlib lab run --kernel 6.12 --cpus 4 --mem 2G --module kmalloc_sweep`` and
``kmemlib lab compare RUN``. Needs ``qemu-system-x86`` and ``busybox-static`` (and ``gcc-12``, ``make``,
``dwarves`` for modules) from Debian's apt; the kernels come from ``apt-get download``.
"""

from __future__ import annotations

from .compare import PCP_NOTE, Check, LabComparison, compare, kernel_of
from .dump import read_lab_meta
from .html import model_check_html, module_output_html, shipped_kernels
from .kernels import CACHE_ENV, KERNELS, Kernel, cache_dir, fetch_kernel, resolve_release
from .modules import build_module, list_modules, module_source
from .run import LabRun, mem_label, parse_mem, parse_module, run, run_name

__all__ = ["run", "compare", "LabRun", "LabComparison", "Check", "PCP_NOTE", "KERNELS", "CACHE_ENV", "Kernel",
           "cache_dir", "fetch_kernel", "resolve_release", "list_modules", "module_source", "build_module",
           "read_lab_meta", "kernel_of", "module_output_html", "model_check_html", "shipped_kernels", "parse_mem", "parse_module", "mem_label", "run_name"]
