"""Widget: design a custom slab cache (size, align, flags) and see one slot and one slab.

A thin ipywidgets layer over :func:`kmemlib.lessons.slab_design.design_cache`,
:func:`kmemlib.lessons.slab_design.summarize` and :func:`kmemlib.lessons.plots.slab.cache_layout_figure`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from ..plots.slab import cache_layout_figure
from ..plots.tables import dict_table
from ..slab_design import CacheSummary, design_cache, summarize

ALIGN_CHOICES: tuple[int, ...] = (0, 8, 16, 32, 64, 128, 256)
FLAG_LABELS: dict[str, str] = {
    "hwcache_align": "SLAB_HWCACHE_ALIGN", "poison": "SLAB_POISON", "red_zone": "SLAB_RED_ZONE",
    "store_user": "SLAB_STORE_USER", "ctor": "constructor (ctor)", "typesafe_by_rcu": "SLAB_TYPESAFE_BY_RCU",
}


def summary_html(s: CacheSummary) -> str:
    """A two-column HTML table of a :class:`~kmemlib.lessons.slab_design.CacheSummary`."""
    rows = "".join(f"<tr><td style='text-align:left;padding-right:1em'>{html.escape(k)}</td>"
                   f"<td style='text-align:right'><code>{html.escape(str(v))}</code></td></tr>"
                   for k, v in s.as_rows())
    return f"<table>{rows}</table>"


def table_html(rows: list[dict[str, object]], *, caption: str | None = None) -> str:
    """Dict rows as the book's HTML table (:func:`kmemlib.lessons.plots.tables.dict_table`)."""
    return dict_table(rows, caption=caption)


def show_custom_cache(object_size: int = 100, align: int = 0, **options: bool) -> None:
    """Display the layout figure and the summary table for one cache (the widget's callback)."""
    g = design_cache(object_size, align, **options)
    fig = cache_layout_figure(g)
    display(fig)
    plt.close(fig)
    display(HTML(summary_html(summarize(g))))


def custom_cache_widget(object_size: int = 100, align: int = 0, **options: bool) -> widgets.Widget:
    """Controls: object size, align, one checkbox per flag; output: slot + slab drawing and numbers."""
    size_w = widgets.BoundedIntText(value=object_size, min=1, max=8192, step=1, description="object_size")
    align_w = widgets.Dropdown(options=list(ALIGN_CHOICES), value=align, description="align")
    boxes = {k: widgets.Checkbox(value=bool(options.get(k, False)), description=label, indent=False)
             for k, label in FLAG_LABELS.items()}
    out = widgets.interactive_output(show_custom_cache, {"object_size": size_w, "align": align_w, **boxes})
    controls = widgets.VBox([widgets.HBox([size_w, align_w]),
                             widgets.HBox(list(boxes.values())[:3]), widgets.HBox(list(boxes.values())[3:])])
    return widgets.VBox([controls, out])


__all__ = ["ALIGN_CHOICES", "FLAG_LABELS", "summary_html", "table_html", "show_custom_cache", "custom_cache_widget"]
