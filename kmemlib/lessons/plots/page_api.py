"""Data and figures for Part I, chapter 4: the page allocator API as a module author sees it.

Plain functions; :mod:`kmemlib.lessons.widgets.page_api` only wires a slider to them and the tests call
them directly.

* :func:`exact_vs_pages`: the same request through ``alloc_pages(gfp, get_order(size))`` and
  through ``alloc_pages_exact(size, gfp)`` (``mm/page_alloc.c``, ``make_alloc_exact``) on two fresh
  zones: pages kept, pages given back, the blocks the given-back tail coalesced into, the event
  log of the trim and the resulting free lists.
* :func:`exact_vs_pages_figure`: the two blocks side by side, page by page.
* :func:`format_comparison`: the comparison as a small text table.
* :func:`gfp_rows`: what a GFP flag word means to the page allocator (zone, migrate type, may it
  sleep, may it dip into reserves), computed with :mod:`kmemlib.mm.gfp` and the buddy model.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ...errors import InvalidSizeError
from ...mm import gfp as _gfp
from ...mm.page_alloc import ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, ZONE_NAMES, Event, Zone, gfp_to_alloc_flags, gfp_zone
from ...mm.pages import MAX_PAGE_ORDER, PAGE_SHIFT, get_order
from ._args import check_instance, check_int, check_page_shift, check_str_mapping

_C_KEPT = "#1f77b4"
_C_UNUSED = "#ff7f0e"
_C_GIVEN = "#2ca02c"


@dataclass(frozen=True)
class ExactComparison:
    """One request served by ``alloc_pages`` and by ``alloc_pages_exact`` (see :func:`exact_vs_pages`)."""

    size: int
    """Bytes requested."""
    page_size: int
    order: int
    """``get_order(size)``: the block both functions take from the buddy allocator."""
    block_pages: int
    """``2^order``."""
    nr_pages: int
    """``DIV_ROUND_UP(size, PAGE_SIZE)``: the pages ``alloc_pages_exact`` keeps."""
    given_back: int
    """Pages ``alloc_pages_exact`` frees again (``block_pages - nr_pages``)."""
    unused_bytes_pages: int
    """Bytes of the ``alloc_pages`` block the caller did not ask for."""
    unused_bytes_exact: int
    """Bytes of the kept pages the caller did not ask for (less than one page)."""
    tail_blocks: tuple[tuple[int, int], ...]
    """``(pfn, order)`` free blocks the given-back pages formed inside the block (ascending PFN);
    a block may also have merged past the end of the original block."""
    trim_events: tuple[Event, ...]
    """Events of the trim (``free`` / ``merge`` / ``give`` of the tail pages)."""
    nr_free_pages: tuple[int, ...]
    """/proc/buddyinfo row after ``alloc_pages`` on a fresh zone."""
    nr_free_exact: tuple[int, ...]
    """/proc/buddyinfo row after ``alloc_pages_exact`` on an identical fresh zone."""
    nr_free_fresh: tuple[int, ...]
    """/proc/buddyinfo row of the fresh zone."""
    pfn: int
    """PFN both calls returned (the zones are identical)."""

    @property
    def bytes_pages(self) -> int:
        """Bytes the caller holds after ``alloc_pages``."""
        return self.block_pages * self.page_size

    @property
    def bytes_exact(self) -> int:
        """Bytes the caller holds after ``alloc_pages_exact``."""
        return self.nr_pages * self.page_size


def exact_vs_pages(size: int, *, zone_pages: int = 1 << MAX_PAGE_ORDER,
                   page_shift: int = PAGE_SHIFT) -> ExactComparison:
    """Serve ``size`` bytes with ``alloc_pages(GFP_KERNEL, get_order(size))`` on one fresh zone and
    with ``alloc_pages_exact(size, GFP_KERNEL)`` on another, identical one.

    ``zone_pages`` (default one MAX_PAGE_ORDER block, 4 MiB) must hold the order-``get_order(size)``
    block. Raises :class:`InvalidSizeError` for ``size < 1`` and
    :class:`~kmemlib.errors.InvalidOrderError` when the order exceeds MAX_PAGE_ORDER."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise InvalidSizeError(f"size must be an int >= 1, got {size!r}")
    check_int(zone_pages, "zone_pages", 1, 1 << 24, exc=InvalidSizeError)
    check_page_shift(page_shift)
    order = get_order(size, page_shift)
    a = Zone(zone_pages, page_shift=page_shift, log_events=False)
    b = Zone(zone_pages, page_shift=page_shift, log_events=True)
    fresh = tuple(a.nr_free())
    b._check_order(order)                           # InvalidOrderError before anything happens
    pfn_a = a.alloc_pages(order, _gfp.GFP_KERNEL)
    b.events.clear()
    pfn_b = b.alloc_pages_exact(size, _gfp.GFP_KERNEL)
    if pfn_a is None or pfn_b is None:
        raise InvalidSizeError(f"a zone of {zone_pages} pages cannot hold an order-{order} block")
    assert pfn_a == pfn_b
    page = 1 << page_shift
    nr = -(-size // page)
    block = 1 << order
    first_free = next((i for i, e in enumerate(b.events) if e.kind == "free"), len(b.events))
    trim = tuple(b.events[first_free:])
    tails = tuple((p, o) for p, o, _mt in b.free_blocks()
                  if pfn_b + nr <= p < pfn_b + block or (p < pfn_b + block <= p + (1 << o) and p >= pfn_b + nr))
    return ExactComparison(size=size, page_size=page, order=order, block_pages=block, nr_pages=nr,
                           given_back=block - nr, unused_bytes_pages=block * page - size,
                           unused_bytes_exact=nr * page - size, tail_blocks=tails, trim_events=trim,
                           nr_free_pages=tuple(a.nr_free()), nr_free_exact=tuple(b.nr_free()),
                           nr_free_fresh=fresh, pfn=pfn_b)


def _fmt_kib(nbytes: int) -> str:
    return f"{nbytes / 1024:g} KiB"


def format_comparison(cmp: ExactComparison) -> str:
    """A compact text table of :func:`exact_vs_pages` (lines of at most 66 characters): bytes,
    pages kept and given back, the tail's free blocks and the /proc/buddyinfo rows after each call."""
    check_instance(cmp, ExactComparison, "cmp", "an ExactComparison (exact_vs_pages())")
    cols = len(cmp.nr_free_fresh)
    lines = [
        f"request: {cmp.size} bytes",
        f"  alloc_pages:       get_order = {cmp.order}, {cmp.block_pages} pages ({_fmt_kib(cmp.bytes_pages)})",
        f"  alloc_pages_exact: DIV_ROUND_UP = {cmp.nr_pages} pages ({_fmt_kib(cmp.bytes_exact)})",
        "",
        f"{'':18}{'kept':>6}{'given back':>12}{'unused bytes':>14}",
        f"{'alloc_pages':18}{cmp.block_pages:>6}{0:>12}{cmp.unused_bytes_pages:>14}",
        f"{'alloc_pages_exact':18}{cmp.nr_pages:>6}{cmp.given_back:>12}{cmp.unused_bytes_exact:>14}",
        "",
        "tail given back as (pfn:order): "
        + (", ".join(f"{p}:{o}" for p, o in cmp.tail_blocks) or "none"),
        "",
        f"free blocks per order, zone of one order-{cols - 1} block:",
        f"{'order':18}" + "".join(f"{o:>4}" for o in range(cols)),
        f"{'alloc_pages':18}" + "".join(f"{c:>4}" for c in cmp.nr_free_pages),
        f"{'alloc_pages_exact':18}" + "".join(f"{c:>4}" for c in cmp.nr_free_exact),
    ]
    return "\n".join(lines)


def exact_vs_pages_figure(cmp: ExactComparison) -> Figure:
    """Two bars over the order-``get_order(size)`` block, one square per page: what the caller
    holds after ``alloc_pages`` (used + unused pages) and after ``alloc_pages_exact`` (kept pages +
    the tail given back, outlined by the free block each part coalesced into)."""
    check_instance(cmp, ExactComparison, "cmp", "an ExactComparison (exact_vs_pages())")
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.add_subplot()
    n, nr = cmp.block_pages, cmp.nr_pages
    used = -(-cmp.size // cmp.page_size)
    h = 0.6
    # alloc_pages: all n pages are the caller's; pages past DIV_ROUND_UP are unused
    ax.barh(1, used, left=0, height=h, color=_C_KEPT, edgecolor="black")
    if n > used:
        ax.barh(1, n - used, left=used, height=h, color=_C_UNUSED, edgecolor="black", hatch="//")
    # alloc_pages_exact: nr pages kept, tail blocks given back
    ax.barh(0, nr, left=0, height=h, color=_C_KEPT, edgecolor="black")
    for pfn, order in cmp.tail_blocks:
        left = pfn - cmp.pfn
        width = min(1 << order, n - left)
        ax.barh(0, width, left=left, height=h, color=_C_GIVEN, edgecolor="black")
        if width >= n / 16:
            ax.text(left + width / 2, 0, f"o{order}" if width < n / 8 else f"order {order}",
                    ha="center", va="center", fontsize=9)
    ax.set_yticks([0, 1], ["alloc_pages_exact", "alloc_pages"])
    ax.set_xlim(0, n)
    ax.set_ylim(-0.6, 1.6)
    ax.set_xlabel(f"page index inside the order-{cmp.order} block (1 page = {cmp.page_size} bytes)")
    ax.set_title(f"Request of {cmp.size} bytes: alloc_pages holds {cmp.block_pages} pages,\n"
                 f"alloc_pages_exact keeps {cmp.nr_pages} and gives {cmp.given_back} back", fontsize=10)
    fig.legend(handles=[Patch(color=_C_KEPT, label="pages the request needs"),
                        Patch(facecolor=_C_UNUSED, hatch="//", edgecolor="black", label="held but unused"),
                        Patch(color=_C_GIVEN, label="given back (free block)")],
               loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    return fig


@dataclass(frozen=True)
class GfpRow:
    """What one GFP flag word means to the page allocator."""

    name: str
    value: int
    zone: str
    """Highest zone the request may use (``gfp_zone``)."""
    migratetype: str
    """Free lists it takes from (``gfp_migratetype``)."""
    can_sleep: bool
    """``__GFP_DIRECT_RECLAIM`` set (``gfpflags_allow_blocking``)."""
    zeroed: bool
    """``__GFP_ZERO`` set."""
    reserves: str
    """The watermark the slow path must stay above (``gfp_to_alloc_flags`` + ``__zone_watermark_ok``)."""


def gfp_rows(words: dict[str, int]) -> list[GfpRow]:
    """One :class:`GfpRow` per ``{label: gfp}`` entry, computed with :mod:`kmemlib.mm.gfp` and
    ``gfp_zone``/``gfp_to_alloc_flags`` of :mod:`kmemlib.mm.page_alloc` (order-0 request)."""
    words = check_str_mapping(words, "words", what="a dict {label: gfp flags}")
    for g in words.values():
        _gfp.check_gfp(g)
    rows = []
    f = _gfp.FLAGS
    for label, g in words.items():
        zone = ZONE_NAMES[gfp_zone(g)]
        mt = _gfp.MIGRATETYPE_NAMES[_gfp.gfp_migratetype(g)]
        flags = gfp_to_alloc_flags(g, 0)
        if flags & ALLOC_MIN_RESERVE and flags & ALLOC_NON_BLOCK:
            res = "3/8 of min"         # min/2 (__GFP_HIGH), then a quarter of that off (non-blocking)
        elif flags & ALLOC_MIN_RESERVE:
            res = "1/2 of min"
        else:
            res = "min"                # GFP_NOWAIT & co. do not get the min reserve
        rows.append(GfpRow(label, g, zone, mt, bool(g & f["DIRECT_RECLAIM"]), bool(g & f["ZERO"]), res))
    return rows


__all__ = ["ExactComparison", "exact_vs_pages", "format_comparison", "exact_vs_pages_figure",
           "GfpRow", "gfp_rows"]
