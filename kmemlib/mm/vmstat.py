"""External-fragmentation indices of ``mm/vmstat.c`` with the kernel's integer math.

* :func:`fill_contig_page_info` — free pages, free blocks and blocks suitable for an order.
* :func:`unusable_free_index` — share of free memory unusable for an order (0..1000).
* :func:`__fragmentation_index` / :func:`fragmentation_index` — 0 = fails for lack of memory,
  1000 = fails for fragmentation, -1000 = would succeed (0..1000 otherwise).
* :func:`extfrag_for_order` — percentage of free pages in blocks smaller than the order.
* :func:`format_unusable_index` / :func:`format_extfrag_index` — the
  ``/sys/kernel/debug/extfrag/{unusable_index,extfrag_index}`` text (``"%d.%03d "`` and
  ``"%2d.%03d "`` per order).

Every function takes the ``nr_free`` row (``free_area[order].nr_free`` per order, one
/proc/buddyinfo row) or anything with an ``nr_free()`` method (a :class:`kmemlib.mm.page_alloc.Zone`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ..errors import InvalidOrderError, InvalidSizeError
from .pages import MAX_PAGE_ORDER


@dataclass(frozen=True)
class ContigPageInfo:
    """``struct contig_page_info``."""

    free_pages: int
    free_blocks_total: int
    free_blocks_suitable: int


def _row(nr_free) -> list[int]:
    if hasattr(nr_free, "nr_free"):
        row = list(nr_free.nr_free())
    elif isinstance(nr_free, (list, tuple)):
        row = list(nr_free)
    else:
        raise InvalidSizeError(f"expected a zone or a list of nr_free counts per order, got {nr_free!r:.60}")
    if not 1 <= len(row) <= 21:
        raise InvalidSizeError(f"nr_free needs one count per order (1..21 orders), got {len(row)}")
    for v in row:
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise InvalidSizeError(f"nr_free entries must be non-negative ints, got {v!r}")
    return row


def _order(order: object, nr_orders: int) -> int:
    if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order < nr_orders:
        raise InvalidOrderError(f"order {order!r} outside 0..{nr_orders - 1}")
    return order


def _check_info(info: object) -> None:
    if not isinstance(info, ContigPageInfo):
        raise InvalidSizeError(f"info must be a ContigPageInfo from fill_contig_page_info(), got {info!r:.60}")


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def fill_contig_page_info(nr_free, suitable_order: int) -> ContigPageInfo:
    """``fill_contig_page_info()``: Σ nr_free<<o, Σ nr_free, Σ_{o>=order} nr_free << (o-order)."""
    row = _row(nr_free)
    _order(suitable_order, len(row))
    free_pages = blocks_total = suitable = 0
    for o, blocks in enumerate(row):
        blocks_total += blocks
        free_pages += blocks << o
        if o >= suitable_order:
            suitable += blocks << (o - suitable_order)
    return ContigPageInfo(free_pages, blocks_total, suitable)


def unusable_free_index(order: int, info: ContigPageInfo) -> int:
    """``unusable_free_index()``: ``(free - (suitable << order)) * 1000 / free``; 1000 if nothing is free."""
    _check_info(info)
    _order(order, 21)
    if info.free_pages == 0:
        return 1000
    return (info.free_pages - (info.free_blocks_suitable << order)) * 1000 // info.free_pages


def __fragmentation_index(order: int, info: ContigPageInfo,  # noqa: N807 - kernel name
                          max_page_order: int = MAX_PAGE_ORDER) -> int:
    """``__fragmentation_index()``: 0 with no free blocks, -1000 when a suitable block exists, else
    ``1000 - (1000 + free_pages * 1000 / 2^order) / free_blocks_total``.

    That last value can be negative when few blocks are free (one free page at order 1 gives
    -500), and the kernel prints it as is: ``" 0.-500 "``."""
    _check_info(info)
    _order(max_page_order, 21)
    _order(order, max_page_order + 2)
    if order > max_page_order:          # WARN_ON_ONCE in the kernel
        return 0
    if not info.free_blocks_total:
        return 0
    if info.free_blocks_suitable:
        return -1000
    requested = 1 << order
    return 1000 - (1000 + info.free_pages * 1000 // requested) // info.free_blocks_total


fragmentation_index_info = __fragmentation_index
"""Alias of :func:`__fragmentation_index` usable inside class bodies (no name mangling)."""


def fragmentation_index(nr_free, order: int) -> int:
    """``fragmentation_index(zone, order)`` = ``__fragmentation_index(order, fill_contig_page_info(...))``."""
    row = _row(nr_free)
    return __fragmentation_index(order, fill_contig_page_info(row, order), len(row) - 1)


def unusable_index(nr_free, order: int) -> int:
    """Unusable free index of a row at ``order`` (0..1000)."""
    return unusable_free_index(order, fill_contig_page_info(nr_free, order))


def extfrag_for_order(nr_free, order: int) -> int:
    """``extfrag_for_order()``: percent of free pages in blocks smaller than ``2^order`` (0..100)."""
    info = fill_contig_page_info(nr_free, order)
    if info.free_pages == 0:
        return 0
    return (info.free_pages - (info.free_blocks_suitable << order)) * 100 // info.free_pages


def format_index(index: int, width2: bool = False) -> str:
    """``"%d.%03d "`` (or ``"%2d.%03d "``) of ``index / 1000, index % 1000`` with C division."""
    if not isinstance(index, int) or isinstance(index, bool) or not -(1 << 63) <= index < 1 << 63:
        raise InvalidSizeError(f"index must be an int, got {index!r:.60}")
    if not isinstance(width2, bool):
        raise InvalidSizeError(f"width2 must be True or False, got {width2!r:.60}")
    whole, frac = _cdiv(index, 1000), abs(index) - abs(_cdiv(index, 1000)) * 1000
    if index < 0:
        frac = -frac        # C: -500 % 1000 == -500, so "%2d.%03d" prints " 0.-500" (see below)
    return f"{whole:2d}.{frac:03d} " if width2 else f"{whole:d}.{frac:03d} "


def _rows_text(rows: Iterable[tuple[int, str, Sequence[int]]], fn, width2: bool) -> str:
    out = []
    if isinstance(rows, (str, bytes)) or not hasattr(rows, "__iter__"):
        raise InvalidSizeError(f"rows must be (node, zone name, nr_free) tuples, got {rows!r:.60}")
    rows = list(rows)
    for r in rows:
        if not isinstance(r, (tuple, list)) or len(r) != 3 or not isinstance(r[1], str) \
                or not isinstance(r[0], int) or isinstance(r[0], bool):
            raise InvalidSizeError(f"each row must be (node, zone name, nr_free), got {r!r:.60}")
    for node, zone, nr_free in rows:
        row = _row(nr_free)
        line = f"Node {node}, zone {zone:>8} " + "".join(format_index(fn(row, o), width2) for o in range(len(row)))
        out.append(line + "\n")
    return "".join(out)


def format_unusable_index(rows: Iterable[tuple[int, str, Sequence[int]]]) -> str:
    """``/sys/kernel/debug/extfrag/unusable_index`` for ``(node, zone name, nr_free row)`` rows."""
    return _rows_text(rows, unusable_index, False)


def format_extfrag_index(rows: Iterable[tuple[int, str, Sequence[int]]]) -> str:
    """``/sys/kernel/debug/extfrag/extfrag_index`` for ``(node, zone name, nr_free row)`` rows."""
    return _rows_text(rows, fragmentation_index, True)


__all__ = [
    "ContigPageInfo", "fill_contig_page_info", "unusable_free_index", "__fragmentation_index",
    "fragmentation_index_info", "fragmentation_index", "unusable_index", "extfrag_for_order",
    "format_index", "format_unusable_index", "format_extfrag_index",
]
