"""Widget for Part I, chapter 4: ``alloc_pages`` vs ``alloc_pages_exact`` for a size slider.

A thin layer: the slider calls :func:`kmemlib.lessons.plots.page_api.exact_vs_pages` and shows
:func:`~kmemlib.lessons.plots.page_api.format_comparison` and
:func:`~kmemlib.lessons.plots.page_api.exact_vs_pages_figure`; the tests call those directly.
"""

from __future__ import annotations

import ipywidgets as widgets
from IPython.display import display

from ...mm.pages import MAX_PAGE_ORDER, PAGE_SIZE
from ..plots.page_api import exact_vs_pages, exact_vs_pages_figure, format_comparison

MAX_KIB = (PAGE_SIZE << MAX_PAGE_ORDER) // 1024
"""Largest size on the slider: one MAX_PAGE_ORDER block (4096 KiB with 4 KiB pages)."""


def exact_vs_pages_widget(kib: int = 33) -> widgets.VBox:
    """A size slider (1 KiB .. one MAX_PAGE_ORDER block) and, below it, the comparison of
    ``alloc_pages(get_order(size))`` and ``alloc_pages_exact(size)`` for that size."""
    slider = widgets.IntSlider(value=kib, min=1, max=MAX_KIB, step=1, description="size (KiB)",
                               continuous_update=False, layout=widgets.Layout(width="95%"))
    out = widgets.Output()

    def render(change: dict | None = None) -> None:
        cmp = exact_vs_pages(slider.value * 1024)
        with out:
            out.clear_output(wait=True)
            print(format_comparison(cmp))
            display(exact_vs_pages_figure(cmp))

    slider.observe(render, names="value")
    render()
    return widgets.VBox([slider, out])


__all__ = ["MAX_KIB", "exact_vs_pages_widget"]
