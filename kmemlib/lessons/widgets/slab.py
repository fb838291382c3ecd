"""Widget: design a custom slab cache (size, align, flags) and see one slot and one slab.

A thin ipywidgets layer over :func:`kmemlib.lessons.slab_design.design_cache`,
:func:`kmemlib.lessons.slab_design.summarize` and :func:`kmemlib.lessons.plots.slab.cache_layout_figure`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ...errors import InvalidAlignError, InvalidFlagsError, InvalidSizeError
from ...mm.slub import CacheGeometry
from ..plots.slab import LEFTOVER_COLOR, REGION_COLORS, SLOT_COLORS
from ..plots.tables import dict_table
from ..slab_design import CacheSummary, design_cache, summarize

ALIGN_CHOICES: tuple[int, ...] = (0, 8, 16, 32, 64, 128, 256)
FLAG_LABELS: dict[str, str] = {
    "hwcache_align": "SLAB_HWCACHE_ALIGN", "poison": "SLAB_POISON", "red_zone": "SLAB_RED_ZONE",
    "store_user": "SLAB_STORE_USER", "ctor": "constructor (ctor)", "typesafe_by_rcu": "SLAB_TYPESAFE_BY_RCU",
}


def summary_html(s: CacheSummary) -> str:
    """A two-column HTML table of a :class:`~kmemlib.lessons.slab_design.CacheSummary`."""
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(str(v))}</code></td></tr>"
                   for k, v in s.as_rows())
    return f"<table class='kmem-summary'>{rows}</table>"


def table_html(rows: list[dict[str, object]], *, caption: str | None = None) -> str:
    """Dict rows as the book's HTML table (:func:`kmemlib.lessons.plots.tables.dict_table`)."""
    return dict_table(rows, caption=caption)


SIZE_CHOICES: tuple[int, ...] = (8, 24, 64, 100, 256, 1032, 4096)
"""Object sizes the static page stores (a typed size snaps to the nearest); live, any size 1..8192."""
MAX_OBJECT_SIZE = 8192


def _svg_text(x: float, y: float, text: str, *, anchor: str = "middle", fill: str = "currentColor",
              size: int = 14) -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' font-size='{size}' fill='{fill}'>"
            f"{html.escape(text)}</text>")


def cache_layout_svg(g: CacheGeometry, width: int = 640) -> str:
    """One slot (top) and one slab (bottom) of a cache as a small inline SVG: one bar per region of
    :meth:`~kmemlib.mm.slub.CacheGeometry.regions`, the in-object free pointer as a band, byte offsets below;
    the slab as its slots and the leftover, with page boundaries. Text uses the page's colour."""
    left, bar_w = 10, width - 20
    sx = bar_w / g.size
    parts = [f"<svg viewBox='0 0 {width} HEIGHT' style='max-width:100%;height:auto' role='img' "
             f"aria-label='slot and slab layout of {html.escape(g.name)}' font-family='sans-serif'>"]
    parts.append(_svg_text(left, 14, f"one slot: slab_size {g.size} B", anchor="start"))
    offsets = {0, g.size}
    for r in g.regions():
        x, w = left + r.start * sx, max(r.length * sx, 0.5)
        color = REGION_COLORS.get(r.kind, "#999999")
        if r.overlaps_object:
            parts.append(f"<rect x='{x:.1f}' y='52' width='{w:.1f}' height='8' fill='{color}' stroke='black' "
                         "stroke-width='0.8'/>")
            continue
        offsets.add(r.start)
        parts.append(f"<rect x='{x:.1f}' y='22' width='{w:.1f}' height='38' fill='{color}' stroke='black' "
                     "stroke-width='0.8'/>")
        if w >= 8 * (len(r.kind) + 1):
            ink = "white" if r.kind in ("object", "left redzone") else "black"
            parts.append(_svg_text(x + w / 2, 34, r.kind, fill=ink, size=13))
            parts.append(_svg_text(x + w / 2, 47, f"{r.length} B", fill=ink, size=13))
    last = -100.0
    for off in sorted(offsets):
        x = left + off * sx
        if x - last >= 34 or off == g.size:
            if off == g.size and x - last < 34:
                continue
            parts.append(_svg_text(x, 76, str(off), size=13, anchor="end" if off == g.size else "middle"))
            last = x
    kinds: list[str] = []
    for r in g.regions():
        label = "free pointer (inside)" if r.overlaps_object else r.kind
        if label not in kinds:
            kinds.append(label)
    legend_x, legend_y = left, 86
    for k in kinds:
        item_w = 14 + 7.5 * len(k) + 14
        if legend_x > left and legend_x + item_w - 14 > width:
            legend_x, legend_y = left, legend_y + 18
        color = REGION_COLORS.get(k.split(" (")[0], "#999999")
        parts.append(f"<rect x='{legend_x}' y='{legend_y}' width='10' height='10' fill='{color}' stroke='black' "
                     "stroke-width='0.5'/>")
        parts.append(_svg_text(legend_x + 14, legend_y + 9, k, anchor="start", size=13))
        legend_x += item_w
    y = legend_y + 36  # the slab part below the legend
    total = g.slab_bytes
    sx2 = bar_w / total
    parts.append(_svg_text(left, y, f"one order-{g.order} slab: {total} B = {total // g.page_size} page(s), "
                                    f"{g.objects} slots, leftover {g.slab_waste} B", anchor="start"))
    used = g.objects * g.size
    slot_w = g.size * sx2
    if g.objects <= 128:  # slots in alternating colours: one pattern, one rectangle
        pid = f"kmem-slots-{g.size}-{g.order}"
        parts.append(f"<defs><pattern id='{pid}' patternUnits='userSpaceOnUse' x='{left}' y='0' "
                     f"width='{2 * slot_w:.3f}' height='1000'><rect width='{slot_w:.3f}' height='1000' "
                     f"fill='{SLOT_COLORS[0]}'/><rect x='{slot_w:.3f}' width='{slot_w:.3f}' height='1000' "
                     f"fill='{SLOT_COLORS[1]}'/></pattern></defs>")
        fill = f"url(#{pid})"
    else:
        fill = SLOT_COLORS[0]
    parts.append(f"<rect x='{left}' y='{y + 8}' width='{used * sx2:.1f}' height='30' fill='{fill}'/>")
    if g.slab_waste:
        parts.append(f"<rect x='{left + used * sx2:.1f}' y='{y + 8}' width='{g.slab_waste * sx2:.1f}' height='30' "
                     f"fill='{LEFTOVER_COLOR}' stroke='black' stroke-width='0.6'/>")
    for pg in range(1, total // g.page_size):
        x = left + pg * g.page_size * sx2
        parts.append(f"<line x1='{x:.1f}' y1='{y + 4}' x2='{x:.1f}' y2='{y + 42}' stroke='currentColor' "
                     "stroke-dasharray='2,2'/>")
    parts.append(_svg_text(left, y + 58, "dotted lines: page boundaries", anchor="start", size=13))
    parts[0] = parts[0].replace(" HEIGHT'", f" {y + 68}'")
    parts.append("</svg>")
    return "".join(parts)


def _check_options(fn: str, object_size: object, align: object, options: dict) -> None:
    if isinstance(object_size, bool) or not isinstance(object_size, int) or not 1 <= object_size <= MAX_OBJECT_SIZE:
        raise InvalidSizeError(f"{fn}: object_size must be a whole number of bytes in 1..{MAX_OBJECT_SIZE}, "
                               f"got {object_size!r}")
    if align not in ALIGN_CHOICES or isinstance(align, bool):
        raise InvalidAlignError(f"{fn}: align must be one of {ALIGN_CHOICES} (0 = no alignment request), "
                                f"got {align!r}")
    for k, v in options.items():
        if k not in FLAG_LABELS:
            raise InvalidFlagsError(f"{fn}: unknown option {k!r}; expected one of {', '.join(FLAG_LABELS)}")
        if not isinstance(v, bool):
            raise InvalidFlagsError(f"{fn}: {k} must be True or False, got {v!r}")


def show_custom_cache(object_size: int = 100, align: int = 0, **options: bool) -> str:
    """The widget's output for one cache: :func:`cache_layout_svg` and the :func:`summary_html` table."""
    _check_options("show_custom_cache", object_size, align, options)
    g = design_cache(object_size, align, **options)
    return cache_layout_svg(g) + summary_html(summarize(g))


def custom_cache_widget(object_size: int = 100, align: int = 0, **options: bool) -> widgets.Widget:
    """Controls: object size, align, one checkbox per flag; output: slot + slab drawing and numbers."""
    from .base import Part, explorer  # noqa: PLC0415

    _check_options("custom_cache_widget", object_size, align, options)
    size_w = widgets.BoundedIntText(value=object_size, min=1, max=MAX_OBJECT_SIZE, step=1,
                                    description="object_size")
    align_w = widgets.Dropdown(options=list(ALIGN_CHOICES), value=align, description="align")
    boxes = {k: widgets.Checkbox(value=bool(options.get(k, False)), description=label, indent=False,
                                 layout=widgets.Layout(width="auto", margin="0 1.5em 0 0"))
             for k, label in FLAG_LABELS.items()}
    names = list(boxes)
    return explorer({"object_size": size_w, "align": align_w, **boxes},
                    [Part(show_custom_cache, ("object_size", "align", *names))],
                    layout=[["object_size", "align"], names[:3], names[3:]],
                    static_values={"object_size": sorted(set(SIZE_CHOICES) | {object_size})})


__all__ = ["ALIGN_CHOICES", "FLAG_LABELS", "SIZE_CHOICES", "MAX_OBJECT_SIZE", "summary_html", "table_html",
           "cache_layout_svg", "show_custom_cache", "custom_cache_widget"]
