"""Widgets of Part II (kmalloc): a size slider with a "plan card", a GFP-flag type picker and the
module-loop explorer. Each is a thin ipywidgets layer over a plain function that tests call:
:func:`plan_card_rows` / :func:`plan_card_html`, :func:`type_choice`, :func:`loop_table_html`.
"""

from __future__ import annotations

import html

from ...errors import InvalidFlagsError, InvalidSizeError
from ...mm import gfp as _gfp
from ...mm import kmalloc as _km
from ...mm.pages import get_order
from ..kmalloc_waste import kmalloc_type_row
from ..module_loop import DEFAULT_STEP, LoopRow, module_loop
from ..plots.tables import html_table as _table

GFP_CHOICES: dict[str, int] = {
    "GFP_KERNEL": _gfp.GFP_KERNEL,
    "GFP_ATOMIC": _gfp.GFP_ATOMIC,
    "GFP_KERNEL_ACCOUNT": _gfp.GFP_KERNEL_ACCOUNT,
    "GFP_KERNEL | __GFP_RECLAIMABLE": _gfp.GFP_KERNEL | _gfp.__GFP_RECLAIMABLE,
    "GFP_KERNEL | GFP_DMA": _gfp.GFP_KERNEL | _gfp.GFP_DMA,
}
"""GFP masks offered by the plan card's drop-down."""


def plan_card_rows(size: int, gfp_name: str = "GFP_KERNEL") -> list[tuple[str, str]]:
    """(label, value) rows describing ``kmalloc(size, gfp)``: path, cache or order, ``ksize``,
    ``kmalloc_size_roundup``, waste in bytes and in % of the allocation and of the request."""
    if gfp_name not in GFP_CHOICES:
        raise InvalidFlagsError(f"unknown GFP choice {gfp_name!r}; choose one of {list(GFP_CHOICES)}")
    plan = _km.kmalloc_plan(size, GFP_CHOICES[gfp_name])
    rows = [("request", f"kmalloc({size}, {gfp_name})")]
    if plan.via == "ZERO_SIZE_PTR":
        rows += [("result", "ZERO_SIZE_PTR ((void *)16): not NULL, but no memory; kfree() ignores it"),
                 ("ksize()", "0"), ("kmalloc_size_roundup()", str(_km.kmalloc_size_roundup(size)))]
        return rows
    if plan.via == "fail":
        rows += [("result", f"NULL: more than KMALLOC_MAX_SIZE ({_km.KMALLOC_MAX_SIZE} bytes); "
                            f"get_order({size}) = {get_order(size)} > MAX_PAGE_ORDER"),
                 ("kmalloc_size_roundup()", f"{_km.kmalloc_size_roundup(size)} (returned unchanged)")]
        return rows
    if plan.via == "slab":
        t = _km.KMALLOC_TYPE_NAMES[_km.kmalloc_effective_type(_km.kmalloc_type(plan.gfp))]
        rows += [("path", f"slab: kmalloc type {t}, cache {plan.cache}")]
    else:
        rows += [("path", f"page allocator: {size} > KMALLOC_MAX_CACHE_SIZE ({_km.KMALLOC_MAX_CACHE_SIZE}), "
                          f"order {plan.order} = {1 << plan.order} pages")]
    rows += [("ksize()", f"{plan.allocated} bytes"),
             ("kmalloc_size_roundup()", f"{_km.kmalloc_size_roundup(size)} bytes"),
             ("waste", f"{plan.waste} bytes"),
             ("waste % of allocation", f"{plan.waste_pct_of_allocation:.1f} %"),
             ("waste % of request", f"{plan.waste_pct_of_request:.1f} %")]
    return rows


def plan_card_html(size: int, gfp_name: str = "GFP_KERNEL") -> str:
    """:func:`plan_card_rows` as a small HTML table."""
    body = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                   f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in plan_card_rows(size, gfp_name))
    return f"<table style='font-family:monospace;font-size:90%'>{body}</table>"


SLIDER_SIZES: tuple[int, ...] = (0, 1, 8, 9, 16, 17, 24, 32, 33, 48, 64, 65, 96, 97, 100, 128, 129, 192, 193, 200,
                                  256, 257, 300, 500, 512, 513, 1000, 1024, 1025, 2000, 2048, 2049, 3000, 4096,
                                  4097, 5000, 6000, 8192, 8193, 10000, 12288)
"""Sizes on the plan card's slider: each kmalloc size class, one byte past it, and a few round numbers."""
EXACT_EXTRA: tuple[int, ...] = (16384, 16385, 65536, 100000, 1 << 20, 4 << 20, (4 << 20) + 1)
"""Sizes the static page also stores for the exact-size box (beyond the slider: the page-allocator path and
the KMALLOC_MAX_SIZE limit)."""


def _check_size(fn: str, name: str, size: object, lo: int = 0, hi: int | None = None) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < lo or (hi is not None and size > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise InvalidSizeError(f"{fn}: {name} must be a whole number of bytes {rng}, got {size!r}")


def _check_gfp(fn: str, gfp_name: object) -> None:
    if gfp_name not in GFP_CHOICES:
        raise InvalidFlagsError(f"{fn}: unknown GFP choice {gfp_name!r}; choose one of {list(GFP_CHOICES)}")


def kmalloc_plan_explorer(size: int = 100, gfp_name: str = "GFP_KERNEL", *, max_slider: int = 3 * 4096):
    """Slider (0 … ``max_slider``) plus an exact-size box (any size live; on the static page the nearest stored
    size) and a GFP drop-down → :func:`plan_card_html`."""
    import ipywidgets as w  # noqa: PLC0415 - only needed when a widget is built

    from .base import Follow, Part, explorer  # noqa: PLC0415

    _check_size("kmalloc_plan_explorer", "size", size, 0, 1 << 40)
    _check_size("kmalloc_plan_explorer", "max_slider", max_slider, 1, 1 << 30)
    _check_gfp("kmalloc_plan_explorer", gfp_name)
    sizes = sorted({s for s in SLIDER_SIZES if s <= max_slider} | {max_slider, min(size, max_slider)})
    slider = w.SelectionSlider(options=sizes, value=min(size, max_slider), description="size (B)",
                               continuous_update=False, layout=w.Layout(width="60%", min_width="240px"))
    exact = w.BoundedIntText(value=size, min=0, max=1 << 40, description="exact size",
                             layout=w.Layout(width="240px"))
    gfp = w.Dropdown(options=list(GFP_CHOICES), value=gfp_name, description="gfp")
    return explorer({"size": slider, "exact": exact, "gfp": gfp},
                    [Part(plan_card_html_for, ("exact", "gfp"))],
                    layout=[["size", "exact"], ["gfp"]], follow=[Follow("size", "exact")],
                    static_values={"exact": sorted(set(sizes) | set(EXACT_EXTRA) | {size})})


def plan_card_html_for(exact: int, gfp: str) -> str:
    """:func:`plan_card_html` with the explorer's control names."""
    return plan_card_html(exact, gfp)


def type_choice(dma: bool = False, reclaimable: bool = False, account: bool = False, size: int = 100) -> dict:
    """GFP_KERNEL plus the chosen type bits → kmalloc type and cache (``kmalloc_type()``)."""
    g, name = _gfp.GFP_KERNEL, "GFP_KERNEL"
    for on, bit, bit_name in ((dma, _gfp.__GFP_DMA, "__GFP_DMA"),
                              (reclaimable, _gfp.__GFP_RECLAIMABLE, "__GFP_RECLAIMABLE"),
                              (account, _gfp.__GFP_ACCOUNT, "__GFP_ACCOUNT")):
        if on:
            g |= bit
            name += " | " + bit_name
    row = kmalloc_type_row(g, size, name)
    return {"gfp": name, "gfp_value": g, "type": row.type_name, "cache": row.cache, "reason": row.reason}


def type_choice_html(dma: bool = False, reclaimable: bool = False, account: bool = False, size: int = 100) -> str:
    """:func:`type_choice` as one HTML line."""
    r = type_choice(dma, reclaimable, account, size)
    return (f"<code>kmalloc({size}, {html.escape(r['gfp'])})</code> → type <b>{r['type']}</b>, cache "
            f"<b><code>{r['cache']}</code></b> <i>({html.escape(r['reason'])})</i>")


TYPE_SIZES: tuple[int, ...] = (1, 8, 16, 32, 64, 96, 100, 128, 192, 256, 512, 1024, 2048, 4096, 8192)
"""Sizes on the type picker's slider (bytes)."""


def type_choice_for(size: int, dma: bool, reclaimable: bool, account: bool) -> str:
    """:func:`type_choice_html` with the picker's control names."""
    return type_choice_html(dma, reclaimable, account, size)


def kmalloc_type_picker(size: int = 100):
    """Three check boxes (__GFP_DMA, __GFP_RECLAIMABLE, __GFP_ACCOUNT) and a size → cache name."""
    import ipywidgets as w  # noqa: PLC0415

    from .base import Part, explorer  # noqa: PLC0415

    _check_size("kmalloc_type_picker", "size", size, 1, _km.KMALLOC_MAX_CACHE_SIZE)
    boxes = {k: w.Checkbox(value=False, description=f"__GFP_{k.upper()}", indent=False)
             for k in ("dma", "reclaimable", "account")}
    sz = w.SelectionSlider(options=sorted(set(TYPE_SIZES) | {size}), value=size, description="size (B)",
                           continuous_update=False)
    return explorer({"size": sz, **boxes}, [Part(type_choice_for, ("size", "dma", "reclaimable", "account"))],
                    layout=[["dma", "reclaimable", "account"], ["size"]])


def html_table(headers: list[str], rows: list[list[object]], *, align: str = "right") -> str:
    """The book's HTML table (:func:`kmemlib.lessons.plots.tables.html_table`), every column aligned the same
    way; data cells of every column but the last never wrap."""
    if align not in ("left", "right"):
        raise InvalidSizeError(f"html_table: align must be 'left' or 'right', got {align!r}")
    return _table(headers, rows, align[0] * len(headers), nowrap=True)


def loop_table_html(rows: list[LoopRow]) -> str:
    """The module loop's rows as an HTML table (request, actual, wastage, waste %, where)."""
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in ("i", "request", "actual (ksize)", "wastage", "waste %",
                                                       "where")) + "</tr>"
    body = []
    for r in rows:
        pct = "-" if r.waste_permille is None else f"{r.waste_permille // 10}.{r.waste_permille % 10} %"
        actual = "NULL" if r.actual is None else str(r.actual)
        waste = "-" if r.wastage is None else str(r.wastage)
        body.append(f"<tr><td>{r.i}</td><td>{r.request}</td><td>{actual}</td><td>{waste}</td><td>{pct}</td>"
                    f"<td>{html.escape(r.reason)}</td></tr>")
    return ("<style>.kmem-loop td, .kmem-loop th {padding: 0 0.7em}</style>"
            "<table class='kmem-loop' style='font-family:monospace;font-size:85%;text-align:right'>" + head + "".join(body)
            + "</table>")


STEP_KIB_CHOICES: tuple[int, ...] = (64, 128, 192, 256, 384, 512, 768, 1024)
"""Steps (KiB) on the module-loop slider."""


def show_module_loop(step_kib: int):
    """The module's table and figure for a loop step of ``step_kib`` KiB."""
    from ..plots.kmalloc import plot_module_loop  # noqa: PLC0415

    rows = module_loop(step_kib * 1024)
    return [loop_table_html(rows), plot_module_loop(rows)]


def module_loop_explorer(step_kib: int = DEFAULT_STEP // 1024):
    """Step slider (KiB) → the module's table and figure for that step."""
    import ipywidgets as w  # noqa: PLC0415

    from .base import Part, explorer  # noqa: PLC0415

    _check_size("module_loop_explorer", "step_kib", step_kib, 1, 4096)
    slider = w.SelectionSlider(options=[(f"{k} KiB", k) for k in sorted(set(STEP_KIB_CHOICES) | {step_kib})],
                               value=step_kib, description="step", continuous_update=False)
    return explorer({"step_kib": slider}, [Part(show_module_loop, ("step_kib",))])


__all__ = ["GFP_CHOICES", "SLIDER_SIZES", "EXACT_EXTRA", "TYPE_SIZES", "STEP_KIB_CHOICES", "html_table",
           "plan_card_rows", "plan_card_html", "plan_card_html_for", "kmalloc_plan_explorer", "type_choice",
           "type_choice_html", "type_choice_for", "kmalloc_type_picker", "loop_table_html", "show_module_loop",
           "module_loop_explorer"]
