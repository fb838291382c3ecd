"""Widget for Part I, chapter 5: how much a fragmenting workload keeps, and what an order-N
request then sees.

A thin layer over :func:`kmemlib.lessons.workloads.fragmenting_workload`,
:func:`kmemlib.lessons.workloads.summarize` / :func:`~kmemlib.lessons.workloads.format_summary` and
:func:`kmemlib.lessons.plots.fragmentation.free_by_order_figure`; the tests call those directly.
"""

from __future__ import annotations

import ipywidgets as widgets
from IPython.display import display

from ..plots.fragmentation import free_by_order_figure
from ..workloads import format_summary, fragmenting_workload, summarize


def workload_widget(keep: float = 0.3, order: int = 5, seed: int = 1) -> widgets.VBox:
    """Sliders for the share of allocations the workload keeps and the order of a request; shows
    the watermark check and indices for that order and the free memory by order."""
    keep_s = widgets.FloatSlider(value=keep, min=0.05, max=0.95, step=0.05, description="keep",
                                 readout_format=".2f", continuous_update=False)
    order_s = widgets.IntSlider(value=order, min=0, max=10, description="order", continuous_update=False)
    out = widgets.Output()

    def render(change: dict | None = None) -> None:
        run = fragmenting_workload(seed=seed, keep=keep_s.value)
        summary = summarize(run.zone, order_s.value)
        with out:
            out.clear_output(wait=True)
            print(format_summary(summary))
            display(free_by_order_figure({f"after the workload (keep={keep_s.value:.2f})": run.nr_free_after},
                                         unit="MiB", title=f"Free memory by block order, seed {seed}"))

    keep_s.observe(render, names="value")
    order_s.observe(render, names="value")
    render()
    return widgets.VBox([widgets.HBox([keep_s, order_s]), out])


__all__ = ["workload_widget"]
