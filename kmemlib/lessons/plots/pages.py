"""Figures and tables for Part I, chapters 1-2: pages, page frames, zones and orders.

Plain functions returning data (dataclasses, lists of rows) or matplotlib Figures; the widgets in
:mod:`kmemlib.lessons.widgets.order` only wire controls to them and the tests call them directly.

* :func:`order_cost` / :func:`order_sweep`: what ``get_order()`` (``include/asm-generic/getorder.h``)
  makes a request of ``size`` bytes cost in the buddy allocator.
* :func:`size_choices`: log-spaced request sizes 1 B ... 8 MiB for a selection slider.
* :func:`max_order_history`: how ``MAX_ORDER``/``MAX_PAGE_ORDER`` was named per kernel version.
* :func:`address_rows`: PFN, physical address and direct-map virtual address of page frames.
* :func:`zone_rows`, :func:`zone_map_figure`, :func:`buddyinfo_figure`, :func:`buddyinfo_table`: a machine's zones.
* :func:`html_table`: the HTML tables every Part I chapter uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...errors import InvalidSizeError
from ...mm.pages import MAX_PAGE_ORDER, PAGE_SHIFT, get_order, max_order_naming, pfn_to_virt
from .tables import html_table  # noqa: F401 - the chapters import it from here too

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def fmt_bytes(n: int) -> str:
    """``n`` bytes as a short label: ``"1 B"``, ``"4097 B"``, ``"132 KiB"``, ``"1.5 MiB"``.

    Exact multiples of KiB/MiB/GiB (and halves/quarters of them) use the unit; anything else
    below 1 MiB is printed in bytes so that e.g. 4097 stays visibly different from 4 KiB.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise InvalidSizeError(f"fmt_bytes() needs a non-negative int, got {n!r}")
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if n >= unit and (n * 4) % unit == 0:
            value = n / unit
            return f"{value:g} {name}"
    return f"{n} B"


def buddyinfo_table(rows: list) -> str:
    """/proc/buddyinfo rows (:func:`kmemlib.readers.procfs.read_buddyinfo`) as a compact HTML table: one row
    per zone, one column per order, the cells ``free_area[order].nr_free``. It shows the same numbers
    as the file (``frag_show_print()``, mm/vmstat.c) but fits the book's column."""
    if not rows:
        raise InvalidSizeError("buddyinfo_table needs at least one row")
    n_orders = len(rows[0].nr_free)
    header = ["node, zone"] + [str(o) for o in range(n_orders)]
    body = [[f"{r.node}, {r.zone}"] + list(r.nr_free) for r in rows]
    return html_table(header, body, align="l" + "r" * n_orders)


@dataclass(frozen=True)
class OrderCost:
    """What one page-allocator request of ``size`` bytes costs.

    ``waste_pct_of_request`` = wasted / requested * 100 (can exceed 100 %);
    ``waste_pct_of_allocation`` = wasted / bytes handed out * 100 (always below 100 %).
    ``fits`` is False when ``order > max_page_order``: ``__alloc_pages`` then returns NULL
    (``WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER, gfp)``, mm/page_alloc.c, Linux 6.12).
    """

    size: int
    order: int
    pages: int                 # 2^order pages handed out
    pages_needed: int          # DIV_ROUND_UP(size, PAGE_SIZE)
    bytes_given: int           # PAGE_SIZE << order
    wasted: int                # bytes_given - size
    waste_pct_of_request: float
    waste_pct_of_allocation: float
    fits: bool
    max_page_order: int
    page_size: int


def order_cost(size: int, *, page_shift: int = PAGE_SHIFT,
               max_page_order: int = MAX_PAGE_ORDER) -> OrderCost:
    """The cost of ``alloc_pages(gfp, get_order(size))`` for a request of ``size`` bytes.

    Models ``get_order()`` (``include/asm-generic/getorder.h``) followed by the buddy allocator's
    rule that a request is served by one naturally aligned block of 2^order pages.
    """
    order = get_order(size, page_shift)        # raises InvalidSizeError for size < 1
    page_size = 1 << page_shift
    given = page_size << order
    wasted = given - size
    return OrderCost(size=size, order=order, pages=1 << order,
                     pages_needed=-(-size // page_size), bytes_given=given, wasted=wasted,
                     waste_pct_of_request=100.0 * wasted / size,
                     waste_pct_of_allocation=100.0 * wasted / given,
                     fits=order <= max_page_order, max_page_order=max_page_order, page_size=page_size)


def order_cost_text(cost: OrderCost) -> str:
    """A few lines of plain text describing :func:`order_cost` output (the widget prints this)."""
    lines = [
        f"request         : {cost.size} bytes ({fmt_bytes(cost.size)})",
        f"get_order()     : {cost.order}",
        f"pages needed    : {cost.pages_needed}  (DIV_ROUND_UP(size, PAGE_SIZE))",
        f"pages handed out: {cost.pages}  (2^{cost.order})",
        f"bytes handed out: {cost.bytes_given} ({fmt_bytes(cost.bytes_given)})",
        f"bytes wasted    : {cost.wasted} ({fmt_bytes(cost.wasted)})",
        f"waste as % of the request   : {cost.waste_pct_of_request:.2f} %",
        f"waste as % of the allocation: {cost.waste_pct_of_allocation:.2f} %",
    ]
    if not cost.fits:
        lines.append(f"order {cost.order} > MAX_PAGE_ORDER {cost.max_page_order}: alloc_pages() fails "
                     "(returns NULL with a one-time warning); the buddy allocator cannot serve this size")
    return "\n".join(lines)


def size_choices(lo: int = 1, hi: int = 8 * MiB, steps_per_octave: int = 4,
                 extra: tuple[int, ...] = (4097, 132 * KiB)) -> list[tuple[str, int]]:
    """Log-spaced request sizes from ``lo`` to ``hi`` as ``(label, bytes)`` pairs, ascending.

    Every power of two, ``steps_per_octave - 1`` evenly spaced sizes inside each octave (rounded to
    whole bytes) and the ``extra`` sizes (defaults: one byte over a page, and 132 KiB) are included.
    """
    if lo < 1 or hi < lo:
        raise InvalidSizeError(f"size_choices needs 1 <= lo <= hi, got {lo}, {hi}")
    if steps_per_octave < 1:
        raise InvalidSizeError(f"steps_per_octave must be >= 1, got {steps_per_octave}")
    sizes = set()
    p = 1
    while p <= hi:
        for k in range(steps_per_octave):
            s = p + (p * k) // steps_per_octave
            if lo <= s <= hi:
                sizes.add(s)
        p <<= 1
    sizes.update(s for s in extra if lo <= s <= hi)
    sizes.update((lo, hi))
    return [(fmt_bytes(s), s) for s in sorted(sizes)]


def order_sweep(sizes: list[int], *, page_shift: int = PAGE_SHIFT,
                max_page_order: int = MAX_PAGE_ORDER) -> list[OrderCost]:
    """:func:`order_cost` for every size (for tables and the sweep figure)."""
    return [order_cost(s, page_shift=page_shift, max_page_order=max_page_order) for s in sizes]


def sweep_sizes(lo: int = 1, hi: int = 8 * MiB, points_per_octave: int = 64) -> list[int]:
    """Dense, log-spaced integer sizes for the sweep figure; includes every 2^k and 2^k + 1."""
    if lo < 1 or hi < lo:
        raise InvalidSizeError(f"sweep_sizes needs 1 <= lo <= hi, got {lo}, {hi}")
    sizes = set()
    p = 1
    while p <= hi:
        sizes.update((p, p + 1))
        for k in range(points_per_octave):
            sizes.add(p + (p * k) // points_per_octave)
        p <<= 1
    return sorted(s for s in sizes if lo <= s <= hi)


def waste_sweep_figure(sizes: list[int] | None = None, *, page_shift: int = PAGE_SHIFT,
                       max_page_order: int = MAX_PAGE_ORDER,
                       mark: tuple[int, ...] = (132 * KiB,)) -> Figure:
    """Two panels over request size (log scale): bytes handed out vs requested, and wasted bytes as
    % of the allocation. Sizes above the largest order are drawn but marked as failing."""
    sizes = sweep_sizes() if sizes is None else sizes
    costs = order_sweep(sizes, page_shift=page_shift, max_page_order=max_page_order)
    fig = Figure(figsize=(8, 6.2), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    xs = [c.size for c in costs]
    ax1.plot(xs, xs, color="0.6", lw=1, ls="--", label="requested (ideal)")
    ax1.step(xs, [c.bytes_given for c in costs], where="post", color="C0", lw=1.8,
             label="handed out: PAGE_SIZE << get_order(size)")
    ax1.set_xscale("log", base=2)
    ax1.set_yscale("log", base=2)
    ax1.set_ylabel("bytes (log scale)")
    ax1.set_title("What a page-allocator request costs")
    ax2.plot(xs, [c.waste_pct_of_allocation for c in costs], color="C3", lw=1.2)
    ax2.set_ylabel("wasted, % of the allocation")
    ax2.set_xlabel("request size (bytes, log scale)")
    ax2.set_ylim(0, 100)
    limit = (1 << page_shift) << max_page_order
    for ax in (ax1, ax2):
        ax.axvline(limit, color="k", lw=1, ls=":")
        ax.axvspan(limit, max(xs[-1], limit) * 1.05, color="0.85", zorder=0)
        ax.grid(True, which="major", alpha=0.3)
    # one label for the grey band, left of its edge, where the waste curve never reaches (above 50 %)
    ax2.text(limit / 1.15, 96, f"grey: order > {max_page_order},\nalloc_pages() fails →", fontsize=9,
             ha="right", va="top")
    for m in mark:
        c = order_cost(m, page_shift=page_shift, max_page_order=max_page_order)
        ax1.plot([m], [c.bytes_given], "o", color="C1")
        # below the diagonal, where nothing is drawn: the staircase never drops under it
        ax1.annotate(f"{fmt_bytes(m)} → order {c.order}\n= {fmt_bytes(c.bytes_given)}", (m, c.bytes_given),
                     xytext=(40, -70), textcoords="offset points", fontsize=9, ha="center",
                     arrowprops={"arrowstyle": "->", "color": "C1"})
        ax2.plot([m], [c.waste_pct_of_allocation], "o", color="C1")
        ax2.annotate(f"{fmt_bytes(m)}: {c.waste_pct_of_allocation:.1f} % wasted", (m, c.waste_pct_of_allocation),
                     xytext=(-40, 25), textcoords="offset points", fontsize=9,
                     arrowprops={"arrowstyle": "->", "color": "C1"})
    ticks = [1 << k for k in range(0, (xs[-1]).bit_length(), 2)]
    ax2.set_xticks(ticks, [fmt_bytes(t) for t in ticks], rotation=45, fontsize=9)
    ax1.set_yticks(ticks[::2] + [ticks[-1] * 4] if ticks else [], [fmt_bytes(t) for t in ticks[::2]]
                   + ([fmt_bytes(ticks[-1] * 4)] if ticks else []), fontsize=9)
    ax1.legend(loc="upper left", fontsize=9)
    return fig


def order_cost_figure(size: int, *, page_shift: int = PAGE_SHIFT,
                      max_page_order: int = MAX_PAGE_ORDER) -> Figure:
    """One bar: the block of 2^order pages handed out, split into the requested bytes and the waste
    (page boundaries drawn when there are at most 64 pages)."""
    c = order_cost(size, page_shift=page_shift, max_page_order=max_page_order)
    fig = Figure(figsize=(8, 2.3), layout="constrained")
    ax = fig.subplots()
    ax.add_patch(Rectangle((0, 0), c.size, 1, color="C0", label=f"requested: {fmt_bytes(c.size)}"))
    ax.add_patch(Rectangle((c.size, 0), c.wasted, 1, color="C3", alpha=0.35, hatch="//",
                           label=f"wasted: {fmt_bytes(c.wasted)} ({c.waste_pct_of_allocation:.1f} % of the block)"))
    if c.pages <= 64:
        for p in range(1, c.pages):
            ax.axvline(p * c.page_size, color="k", lw=0.5)
    ax.set_xlim(0, c.bytes_given)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ticks = [c.bytes_given * k // 4 for k in range(5)]
    ax.set_xticks(ticks, [fmt_bytes(t) for t in ticks], fontsize=11)
    ax.set_xlabel("bytes within the block", fontsize=11)
    verdict = "" if c.fits else f" — order > {max_page_order}: alloc_pages() returns NULL"
    ax.set_title(f"{fmt_bytes(c.size)} → order {c.order}: {c.pages} page(s), {fmt_bytes(c.bytes_given)}{verdict}",
                 fontsize=12)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6), ncol=2, fontsize=10, frameon=False)
    return fig


def max_order_history(versions: tuple[tuple[int, int], ...] = ((5, 15), (6, 1), (6, 3), (6, 4), (6, 7),
                                                               (6, 8), (6, 12), (6, 18))) -> list[dict]:
    """One row per kernel version from :func:`kmemlib.mm.pages.max_order_naming`, plus the free-area
    count (``free_area[]`` entries = /proc/buddyinfo columns) derived from it."""
    rows = []
    for v in versions:
        n = max_order_naming(v)
        largest = n["largest_order"]
        nr_areas = n["value"] if n["exclusive"] else n["value"] + 1
        rows.append({"version": f"{v[0]}.{v[1]}", "macro": n["macro"], "value": n["value"],
                     "meaning": "exclusive" if n["exclusive"] else "inclusive",
                     "largest_order": largest, "free_areas": nr_areas,
                     "largest_block": fmt_bytes((1 << PAGE_SHIFT) << largest)})
    return rows


@dataclass(frozen=True)
class AddressRow:
    """A page frame's three names: PFN, physical address, direct-map kernel virtual address."""

    pfn: int
    phys: int
    virt: int


def address_rows(pfns: list[int], *, page_shift: int = PAGE_SHIFT) -> list[AddressRow]:
    """``PFN_PHYS(pfn)`` = ``pfn << PAGE_SHIFT`` and ``pfn_to_virt(pfn)`` = ``PAGE_OFFSET + PFN_PHYS(pfn)``."""
    return [AddressRow(p, p << page_shift, pfn_to_virt(p, page_shift)) for p in pfns]


@dataclass(frozen=True)
class ZoneRow:
    """One populated zone of /proc/zoneinfo, with its PFN range and sizes in pages."""

    node: int
    name: str
    start_pfn: int
    end_pfn: int
    spanned: int
    present: int
    managed: int
    free: int


def zone_rows(zoneinfo: list) -> list[ZoneRow]:
    """Populated zones of parsed /proc/zoneinfo (:func:`kmemlib.readers.procfs.read_zoneinfo`), in file order."""
    return [ZoneRow(z.node, z.name, z.start_pfn, z.start_pfn + z.spanned, z.spanned, z.present, z.managed,
                    z.free) for z in zoneinfo if z.populated and z.start_pfn is not None]


def zone_map_figure(rows: list[ZoneRow], *, page_shift: int = PAGE_SHIFT, title: str = "") -> Figure:
    """Physical address ranges of the zones (one row per node), with managed and free GiB.

    The x axis is physical address in GiB; ZONE_DMA is so small (16 MiB) that its label sits above it.
    """
    if not rows:
        raise InvalidSizeError("zone_map_figure needs at least one zone")
    nodes = sorted({r.node for r in rows})
    fig = Figure(figsize=(8, 2.6 + 1.4 * len(nodes)), layout="constrained")
    ax = fig.subplots()
    colors = {"DMA": "C2", "DMA32": "C0", "Normal": "C1", "Movable": "C4", "HighMem": "C5"}
    gib = lambda pfn: (pfn << page_shift) / GiB  # noqa: E731
    end = max(gib(r.end_pfn) for r in rows)
    narrow_seen: dict[int, int] = {}
    for r in rows:
        y = nodes.index(r.node)
        ax.add_patch(Rectangle((gib(r.start_pfn), y - 0.3), gib(r.end_pfn) - gib(r.start_pfn), 0.6,
                               color=colors.get(r.name, "C7"), alpha=0.8))
        mid = (gib(r.start_pfn) + gib(r.end_pfn)) / 2
        text = (f"{r.name}\n{gib(r.managed):.2f} GiB managed\n{gib(r.free):.2f} GiB free")
        if gib(r.end_pfn) - gib(r.start_pfn) < 0.2 * end:
            # too narrow for its label: write it above the bar, narrow zones side by side
            k = narrow_seen.get(y, 0)
            narrow_seen[y] = k + 1
            ax.annotate(text, (mid, y + 0.3), xytext=(4 + 115 * k, 12), textcoords="offset points", fontsize=9,
                        va="bottom", ha="left", arrowprops={"arrowstyle": "->"})
        else:
            ax.text(mid, y, text, ha="center", va="center", fontsize=9)
    ax.set_xlim(0, end * 1.02)
    ax.set_ylim(-0.5, len(nodes) - 0.5 + 0.9)
    ax.set_yticks(range(len(nodes)), [f"node {n}" for n in nodes])
    ax.set_xlabel("physical address (GiB)")
    ax.set_title(title or "Zones by physical address range (spanned PFNs)")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def buddyinfo_figure(rows: list, *, page_shift: int = PAGE_SHIFT, title: str = "") -> Figure:
    """Free memory per order from /proc/buddyinfo rows: ``nr_free[o] << o`` pages, in MiB, one bar
    group per zone (log y axis so small zones stay visible)."""
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.subplots()
    if not rows:
        raise InvalidSizeError("buddyinfo_figure needs at least one row")
    n_orders = len(rows[0].nr_free)
    width = 0.8 / len(rows)
    for i, r in enumerate(rows):
        mib = [((c << o) << page_shift) / MiB for o, c in enumerate(r.nr_free)]
        xs = [o - 0.4 + width * (i + 0.5) for o in range(n_orders)]
        ax.bar(xs, [m if m > 0 else 0 for m in mib], width=width, label=f"node {r.node} {r.zone}")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_xticks(range(n_orders), [f"{o}\n{fmt_bytes((1 << page_shift) << o)}" for o in range(n_orders)],
                  fontsize=9)
    ax.set_xlabel("order (block size)")
    ax.set_ylabel("free memory in blocks\nof this order (MiB, log)")
    ax.set_title(title or "Where free memory sits: nr_free[order] × 2^order pages")
    ax.legend(fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    return fig


__all__ = ["KiB", "MiB", "GiB", "fmt_bytes", "html_table", "buddyinfo_table", "OrderCost", "order_cost", "order_cost_text", "size_choices",
           "order_sweep", "sweep_sizes", "waste_sweep_figure", "order_cost_figure", "max_order_history",
           "AddressRow", "address_rows", "ZoneRow", "zone_rows", "zone_map_figure", "buddyinfo_figure"]
