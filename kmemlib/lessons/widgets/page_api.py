"""Widget for Part I, chapter 4: ``alloc_pages`` vs ``alloc_pages_exact`` for a size slider.

A thin layer: the slider calls :func:`show_exact_vs_pages`, which prints
:func:`~kmemlib.lessons.plots.page_api.format_comparison` of :func:`kmemlib.lessons.plots.page_api.exact_vs_pages` and returns
:func:`~kmemlib.lessons.plots.page_api.exact_vs_pages_figure`; the tests call those directly.
"""

from __future__ import annotations

import ipywidgets as widgets

from ...errors import InvalidSizeError
from ...mm.pages import MAX_PAGE_ORDER, PAGE_SIZE
from ..plots.page_api import exact_vs_pages, exact_vs_pages_figure, format_comparison
from .base import Part, explorer

MAX_KIB = (PAGE_SIZE << MAX_PAGE_ORDER) // 1024
"""Largest size on the slider: one MAX_PAGE_ORDER block (4096 KiB with 4 KiB pages)."""
KIB_CHOICES: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 20, 24, 28, 32, 33, 40, 48, 64, 65, 96, 100,
                                128, 129, 192, 256, 384, 512, 513, 768, 1024, 1536, 2048, 2049, 3072, MAX_KIB)
"""Sizes on the slider (KiB): small ones one by one, then the powers of two, a KiB past some of them, and
a few between."""


def show_exact_vs_pages(kib: int):
    """Print the comparison for ``kib`` KiB and return its figure."""
    cmp = exact_vs_pages(kib * 1024)
    print(format_comparison(cmp))
    return exact_vs_pages_figure(cmp)


def exact_vs_pages_widget(kib: int = 33) -> widgets.Widget:
    """A size slider (1 KiB .. one MAX_PAGE_ORDER block) and, below it, the comparison of
    ``alloc_pages(get_order(size))`` and ``alloc_pages_exact(size)`` for that size."""
    if isinstance(kib, bool) or not isinstance(kib, int) or not 1 <= kib <= MAX_KIB:
        raise InvalidSizeError(f"exact_vs_pages_widget: kib must be a whole number of KiB in 1..{MAX_KIB}, "
                               f"got {kib!r}")
    choices = sorted(set(KIB_CHOICES) | {kib})
    slider = widgets.SelectionSlider(options=[(f"{k} KiB", k) for k in choices], value=kib,
                                     description="size", continuous_update=False,
                                     layout=widgets.Layout(width="95%"))
    return explorer({"kib": slider}, [Part(show_exact_vs_pages, ("kib",))])


__all__ = ["MAX_KIB", "KIB_CHOICES", "show_exact_vs_pages", "exact_vs_pages_widget"]
