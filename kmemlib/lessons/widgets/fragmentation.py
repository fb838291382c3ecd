"""Widget for Part I, chapter 6: how much a fragmenting workload keeps, and what an order-N
request then sees.

A thin layer over :func:`kmemlib.lessons.workloads.fragmenting_workload`,
:func:`kmemlib.lessons.workloads.summarize` / :func:`~kmemlib.lessons.workloads.format_summary` and
:func:`kmemlib.lessons.plots.fragmentation.free_by_order_figure`; the tests call those directly.
"""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets

from ...errors import InvalidOrderError, InvalidSizeError
from ...mm.pages import MAX_PAGE_ORDER
from ..plots.fragmentation import free_by_order_figure
from ..workloads import fragmenting_workload, format_summary, summarize
from .base import Part, explorer

KEEP_CHOICES: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""The shares the ``keep`` slider offers (0.05 … 0.95)."""


@lru_cache(maxsize=32)
def _run(seed: int, keep: float):
    return fragmenting_workload(seed=seed, keep=keep)


def show_watermark_check(keep: float, order: int, seed: int = 1) -> str:
    """The watermark check and fragmentation indices for an order-``order`` request after the workload."""
    return format_summary(summarize(_run(seed, keep).zone, order))


def show_free_by_order(keep: float, seed: int = 1):
    """Free memory by block order after the workload (a figure)."""
    return free_by_order_figure({f"after the workload (keep={keep:.2f})": _run(seed, keep).nr_free_after},
                                unit="MiB", title=f"Free memory by block order, seed {seed}")




def workload_widget(keep: float = 0.3, order: int = 5, seed: int = 1) -> widgets.VBox:
    """Sliders for the share of allocations the workload keeps and the order of a request; shows
    the watermark check and indices for that order and the free memory by order."""
    if isinstance(keep, bool) or not isinstance(keep, (int, float)) or round(keep, 2) not in KEEP_CHOICES:
        raise InvalidSizeError(f"workload_widget: keep must be one of {KEEP_CHOICES}, got {keep!r}")
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= MAX_PAGE_ORDER:
        raise InvalidOrderError(f"workload_widget: order must be in 0..{MAX_PAGE_ORDER}, got {order!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidSizeError(f"workload_widget: seed must be an integer, got {seed!r}")
    keep_s = widgets.SelectionSlider(options=[(f"{k:.2f}", k) for k in KEEP_CHOICES], value=round(keep, 2),
                                     description="keep", continuous_update=False)
    order_s = widgets.IntSlider(value=order, min=0, max=MAX_PAGE_ORDER, description="order",
                                continuous_update=False)
    return explorer({"keep": keep_s, "order": order_s},
                    [Part(show_watermark_check_text, ("keep", "order"), {"seed": seed}),
                     Part(show_free_by_order, ("keep",), {"seed": seed})],
                    layout=[["keep", "order"]])


def show_watermark_check_text(keep: float, order: int, seed: int = 1) -> None:
    """Print :func:`show_watermark_check` (the widget's text part)."""
    print(show_watermark_check(keep, order, seed))


__all__ = ["KEEP_CHOICES", "show_watermark_check", "show_watermark_check_text", "show_free_by_order",
           "workload_widget"]
