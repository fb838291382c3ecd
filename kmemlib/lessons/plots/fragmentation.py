"""Figures for Part I, chapter 6: external fragmentation.

Every function takes /proc/buddyinfo rows (``free_area[order].nr_free`` per order) or page maps
(:func:`kmemlib.lessons.workloads.page_map`) and returns a ``matplotlib.figure.Figure``; the numbers come
from :mod:`kmemlib.mm.vmstat` (the kernel's ``mm/vmstat.c`` integer math).

* :func:`free_by_order_figure`: free memory held in blocks of each order, one bar group per row.
* :func:`index_table`: unusable-free and fragmentation index per order (data behind the curves).
* :func:`index_figure`: both indices per order, one curve per row.
* :func:`page_map_figure`: a zone drawn page by page (free / movable / unmovable).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ...errors import InvalidSizeError
from ...mm import vmstat as _frag
from ...mm.pages import PAGE_SHIFT
from ._args import check_int, check_int_seq, check_page_shift, check_str, check_str_mapping

_MAP_COLOURS = ("#f2f2f2", "#1f77b4", "#d62728", "#9467bd")   # free, movable, unmovable, reclaimable
_MAP_NAMES = ("free", "movable (user page)", "unmovable (kernel)", "reclaimable")


_MAX_ORDERS = 64
"""At most this many orders per buddyinfo row (the kernel has MAX_PAGE_ORDER + 1 <= 21)."""


def _nr_free(nr_free: object, name: str = "nr_free") -> list[int]:
    return check_int_seq(nr_free, name, 0, None, max_len=_MAX_ORDERS)


def _rows(rows: Mapping[str, Sequence[int]]) -> dict[str, list[int]]:
    rows = check_str_mapping(rows, "rows", what="a dict {label: buddyinfo row}")
    if not rows:
        raise InvalidSizeError("need at least one buddyinfo row")
    out = {k: _nr_free(v, f"rows[{k!r}]") for k, v in rows.items()}
    widths = {len(v) for v in out.values()}
    if len(widths) != 1:
        raise InvalidSizeError(f"rows have different numbers of orders: {sorted(widths)}")
    return out


def free_bytes_by_order(nr_free: Sequence[int], page_shift: int = PAGE_SHIFT) -> list[int]:
    """Bytes of free memory in blocks of each order: ``nr_free[o] << (o + PAGE_SHIFT)``."""
    nr_free = _nr_free(nr_free)
    check_page_shift(page_shift)
    return [c << (o + page_shift) for o, c in enumerate(nr_free)]


def free_by_order_figure(rows: Mapping[str, Sequence[int]], *, page_shift: int = PAGE_SHIFT,
                         title: str = "Free memory by block order", unit: str = "MiB") -> Figure:
    """Grouped bars: free memory (``unit``: "KiB", "MiB" or "GiB") held in free blocks of each
    order, one bar per row label (e.g. "fresh zone", "after the workload")."""
    data = _rows(rows)
    check_page_shift(page_shift)
    check_str(title, "title")
    check_str(unit, "unit")
    scale = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}.get(unit)
    if scale is None:
        raise InvalidSizeError(f"unit must be KiB, MiB or GiB, got {unit!r}")
    nr_orders = len(next(iter(data.values())))
    fig = Figure(figsize=(8, 3.8), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(nr_orders)
    width = 0.8 / len(data)
    for i, (label, row) in enumerate(data.items()):
        vals = [b / scale for b in free_bytes_by_order(row, page_shift)]
        total = sum(vals)
        ax.bar(x - 0.4 + width * (i + 0.5), vals, width, label=f"{label} ({total:.4g} {unit} free)")
    ax.set_xticks(x, [f"{o}\n{(1 << (o + page_shift)) // 1024} KiB" for o in range(nr_orders)], fontsize=9)
    ax.set_xlabel("order (block size)")
    ax.set_ylabel(f"free memory in blocks of that order ({unit})")
    ax.set_title(title)
    ax.legend(fontsize=9)
    return fig


def index_table(nr_free: Sequence[int]) -> list[dict[str, int]]:
    """Per order: ``unusable`` (``unusable_free_index``, 0..1000), ``fragmentation``
    (``__fragmentation_index``: -1000 = a block of that order is free, else 0..1000) and
    ``extfrag`` (``extfrag_for_order``, percent)."""
    row = _nr_free(nr_free)
    return [{"order": o, "unusable": _frag.unusable_index(row, o),
             "fragmentation": _frag.fragmentation_index(row, o),
             "extfrag": _frag.extfrag_for_order(row, o)} for o in range(len(row))]


def index_figure(rows: Mapping[str, Sequence[int]], *,
                 title: str = "The kernel's external-fragmentation indices") -> Figure:
    """Two panels, one curve per row: the unusable free index and the fragmentation index per
    order, both divided by 1000 as ``/sys/kernel/debug/extfrag/*`` prints them. A fragmentation
    index of -1 means "a free block of this order exists: the request would succeed"."""
    data = _rows(rows)
    check_str(title, "title")
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax_u, ax_f = fig.subplots(1, 2, sharex=True)
    markers = "os^vDx"
    for i, (label, row) in enumerate(data.items()):
        tab = index_table(row)
        orders = [t["order"] for t in tab]
        m = markers[i % len(markers)]
        ax_u.plot(orders, [t["unusable"] / 1000 for t in tab], marker=m, label=label)
        ax_f.plot(orders, [t["fragmentation"] / 1000 for t in tab], marker=m, label=label)
    ax_u.set_ylim(-0.05, 1.05)
    ax_u.set_ylabel("unusable free index (0..1)")
    ax_u.set_title("share of free memory unusable at this order", fontsize=9)
    ax_f.axhline(0, color="grey", lw=0.5)
    ax_f.set_ylim(-1.1, 1.05)
    ax_f.set_ylabel("fragmentation index (-1, 0..1)")
    ax_f.set_title("-1: would succeed; near 0: too little memory;\nnear 1: fragmentation", fontsize=9)
    nr_orders = len(next(iter(data.values())))
    for ax in (ax_u, ax_f):
        ax.set_xlabel("request order")
        ax.set_xticks(range(nr_orders))
        ax.grid(alpha=0.3)
    ax_u.legend(fontsize=9)
    fig.suptitle(title)
    return fig


def page_map_figure(maps: Mapping[str, Sequence[int]], *, pages_per_row: int = 128,
                    pageblock_nr_pages: int = 512, title: str = "The zone, page by page") -> Figure:
    """Each page map drawn as a grid (``pages_per_row`` pages per row, PFN increasing left to
    right, top to bottom), coloured free / movable / unmovable / reclaimable; thin lines mark
    pageblock boundaries."""
    maps = check_str_mapping(maps, "maps", what="a dict {label: page map}")
    if not maps:
        raise InvalidSizeError("need at least one page map")
    check_int(pages_per_row, "pages_per_row", 1, 1 << 16, exc=InvalidSizeError)
    check_int(pageblock_nr_pages, "pageblock_nr_pages", 1, 1 << 30, exc=InvalidSizeError)
    check_str(title, "title")
    maps = {k: check_int_seq(v, f"maps[{k!r}]", 0, len(_MAP_COLOURS) - 1, max_len=1 << 24)
            for k, v in maps.items()}
    n = len(maps)
    fig = Figure(figsize=(8, 4.2 if n > 1 else 4.6), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    cmap = ListedColormap(list(_MAP_COLOURS))
    for ax, (label, pages) in zip(axes, maps.items()):
        arr = np.asarray(pages, dtype=int)
        rows = -(-len(arr) // pages_per_row)
        grid = np.full(rows * pages_per_row, -1)
        grid[:len(arr)] = arr
        masked = np.ma.masked_less(grid.reshape(rows, pages_per_row), 0)
        ax.imshow(masked, cmap=cmap, vmin=0, vmax=len(_MAP_COLOURS) - 1, aspect="auto",
                  interpolation="nearest")
        if pageblock_nr_pages % pages_per_row == 0:
            step = pageblock_nr_pages // pages_per_row
            for r in range(step, rows, step):
                ax.axhline(r - 0.5, color="black", lw=0.6)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(f"page within row (0..{pages_per_row - 1})")
        ax.set_ylabel(f"row ({pages_per_row} pages each)")
    present = {int(v) for pages in maps.values() for v in set(pages)}
    fig.legend(handles=[Patch(facecolor=c, edgecolor="grey", label=l)
                        for i, (c, l) in enumerate(zip(_MAP_COLOURS, _MAP_NAMES)) if i in present],
               loc="outside lower center", ncol=4, fontsize=9, frameon=False)
    fig.suptitle(title + (f" (lines: pageblocks of {pageblock_nr_pages} pages)"
                          if pageblock_nr_pages % pages_per_row == 0 else ""), fontsize=10)
    return fig


__all__ = ["free_bytes_by_order", "free_by_order_figure", "index_table", "index_figure", "page_map_figure"]
