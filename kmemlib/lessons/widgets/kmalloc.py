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


def kmalloc_plan_explorer(size: int = 100, gfp_name: str = "GFP_KERNEL", *, max_slider: int = 3 * 4096):
    """Slider (0 … ``max_slider``) plus an exact-size box (any size) and a GFP drop-down → plan card."""
    import ipywidgets as w  # noqa: PLC0415 - only needed when a widget is built

    slider = w.IntSlider(value=min(size, max_slider), min=0, max=max_slider, description="size (B)",
                         continuous_update=False, layout=w.Layout(width="60%"))
    exact = w.BoundedIntText(value=size, min=0, max=1 << 40, description="exact size",
                             layout=w.Layout(width="30%"))
    gfp = w.Dropdown(options=list(GFP_CHOICES), value=gfp_name, description="gfp")
    card = w.HTML(plan_card_html(size, gfp_name))

    def on_slider(change) -> None:
        exact.value = change["new"]

    def refresh(_=None) -> None:
        card.value = plan_card_html(exact.value, gfp.value)

    slider.observe(on_slider, names="value")
    exact.observe(refresh, names="value")
    gfp.observe(refresh, names="value")
    return w.VBox([w.HBox([slider, exact]), gfp, card])


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


def kmalloc_type_picker(size: int = 100):
    """Three check boxes (__GFP_DMA, __GFP_RECLAIMABLE, __GFP_ACCOUNT) and a size → cache name."""
    import ipywidgets as w  # noqa: PLC0415

    boxes = {k: w.Checkbox(value=False, description=f"__GFP_{k.upper()}", indent=False)
             for k in ("dma", "reclaimable", "account")}
    sz = w.IntSlider(value=size, min=1, max=_km.KMALLOC_MAX_CACHE_SIZE, description="size (B)",
                     continuous_update=False)
    out = w.HTML(type_choice_html(size=size))

    def refresh(_=None) -> None:
        out.value = type_choice_html(boxes["dma"].value, boxes["reclaimable"].value, boxes["account"].value, sz.value)

    for b in (*boxes.values(), sz):
        b.observe(refresh, names="value")
    return w.VBox([w.HBox(list(boxes.values())), sz, out])


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


def module_loop_explorer(step_kib: int = DEFAULT_STEP // 1024):
    """Step slider (KiB) → the module's table and figure for that step."""
    import ipywidgets as w  # noqa: PLC0415
    from IPython.display import display  # noqa: PLC0415

    from ..plots.kmalloc import plot_module_loop  # noqa: PLC0415

    slider = w.IntSlider(value=step_kib, min=64, max=1024, step=8, description="step (KiB)",
                         continuous_update=False)
    out = w.Output()

    def refresh(_=None) -> None:
        rows = module_loop(slider.value * 1024)
        out.clear_output(wait=True)
        with out:
            display(w.HTML(loop_table_html(rows)))
            display(plot_module_loop(rows))

    slider.observe(refresh, names="value")
    refresh()
    return w.VBox([slider, out])


__all__ = ["GFP_CHOICES", "html_table", "plan_card_rows", "plan_card_html", "kmalloc_plan_explorer", "type_choice",
           "type_choice_html", "kmalloc_type_picker", "loop_table_html", "module_loop_explorer"]
