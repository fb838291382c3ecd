"""Widget for Part I, chapter 2: a log-scale request-size slider showing what ``get_order()`` costs.

Thin layer: :func:`show_order_cost` prints :func:`kmemlib.lessons.plots.pages.order_cost_text` and returns
:func:`kmemlib.lessons.plots.pages.order_cost_figure`; the tests call those directly.
"""

from __future__ import annotations

import ipywidgets as widgets

from ...errors import InvalidSizeError
from ...mm.pages import MAX_PAGE_ORDER, PAGE_SHIFT
from ..plots.pages import KiB, MiB, order_cost, order_cost_figure, order_cost_text, size_choices
from .base import Part, explorer


def show_order_cost(size: int, *, page_shift: int = PAGE_SHIFT, max_page_order: int = MAX_PAGE_ORDER):
    """Print the cost of a ``size``-byte page-allocator request and return the figure of its block."""
    print(order_cost_text(order_cost(size, page_shift=page_shift, max_page_order=max_page_order)))
    return order_cost_figure(size, page_shift=page_shift, max_page_order=max_page_order)


def order_widget(default: int = 132 * KiB, lo: int = 1, hi: int = 8 * MiB) -> widgets.Widget:
    """A ``SelectionSlider`` over log-spaced sizes ``lo``..``hi`` (every power of two, quarter steps
    between, plus 4097 B and 132 KiB) wired to :func:`show_order_cost`."""
    for name, v in (("default", default), ("lo", lo), ("hi", hi)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidSizeError(f"order_widget: {name} must be a whole number of bytes, got {v!r}")
    if not 1 <= lo <= hi:
        raise InvalidSizeError(f"order_widget: needs 1 <= lo <= hi bytes, got lo={lo}, hi={hi}")
    if not lo <= default <= hi:
        raise InvalidSizeError(f"order_widget: default={default} bytes is outside the slider's {lo}..{hi} bytes")
    options = size_choices(lo, hi)
    if default not in [v for _, v in options]:
        options = sorted(options + [(f"{default} B", default)], key=lambda t: t[1])
    slider = widgets.SelectionSlider(options=options, value=default, description="request size",
                                     continuous_update=False, style={"description_width": "initial"},
                                     layout=widgets.Layout(width="95%"))
    return explorer({"size": slider}, [Part(show_order_cost, ("size",))])


__all__ = ["show_order_cost", "order_widget"]
