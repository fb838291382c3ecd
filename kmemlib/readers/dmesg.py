"""The kernel log (``dmesg``) as text: the few boot messages the model needs.

Read from a snapshot's ``lab/dmesg.txt`` (written by ``kmemlib lab``) or any saved ``dmesg`` output.
"""

from __future__ import annotations

import re

from ..errors import ParseError
from ..mm.pages import PAGE_SHIFT
from .text import check_str

_LINE = re.compile(r"^\[\s*(\d+\.\d+)\]\s?(.*)$")
_FREEING = re.compile(r"^Freeing (.+?) memory: (\d+)K$")

EARLY_FREES = ("SMP alternatives",)
""""Freeing ... memory" messages printed *before* the watermarks are computed:
``alternative_instructions()`` runs in ``start_kernel()``, before any initcall."""


def parse_dmesg(text: str) -> list[tuple[float | None, str]]:
    """``(seconds since boot or None, message)`` for every line."""
    check_str(text, "dmesg")
    out = []
    for line in text.splitlines():
        m = _LINE.match(line)
        out.append((float(m.group(1)), m.group(2)) if m else (None, line))
    return out


def freed_memory(text: str) -> list[tuple[str, int]]:
    """Every ``Freeing <what> memory: <N>K`` message: ``(what, KiB)`` in log order
    (``free_reserved_area()``, ``free_initrd_mem()``, ``free_initmem()`` and friends)."""
    return [(m.group(1), int(m.group(2))) for _t, msg in parse_dmesg(text) if (m := _FREEING.match(msg.strip()))]


def late_freed_pages(text: str, page_shift: int = PAGE_SHIFT) -> int:
    """Pages the kernel freed after ``init_per_zone_wmark_min()`` set the watermarks: the initrd
    (rootfs_initcall), unused decrypted memory, ``__init`` sections and unused kernel-image gaps
    (``free_initmem()``, after every initcall). Every "Freeing ... memory" line but the
    :data:`EARLY_FREES`."""
    if isinstance(page_shift, bool) or not isinstance(page_shift, int) or not 10 <= page_shift <= 20:
        raise ParseError(f"page_shift must be an int in 10..20, got {page_shift!r:.60}")
    kib = sum(k for what, k in freed_memory(text) if what not in EARLY_FREES)
    return kib >> (page_shift - 10)


__all__ = ["EARLY_FREES", "parse_dmesg", "freed_memory", "late_freed_pages"]
