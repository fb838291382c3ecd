"""Widget timings: the live buddy widget's redraw per call, and what the static build spends per widget.

Live (a kernel): one click on alloc_pages / undo / reset or a zone change redraws the buddy widget's output once;
target <= 250 ms from the click to the new output (the front end adds the message round trip). Static (the book
build, ``KMEMBOOK_STATIC_WIDGETS=1``): time to evaluate each chapter widget over its whole domain, and the size of
what it stores in the page (target: the book builds in <= 2 minutes; every page <= 3 MB transferred, checked by
tests/test_browser_widgets.py). Not a test: prints tables.

Usage: python bench/bench_widgets.py
"""

from __future__ import annotations

import json
import os
import time

import ipywidgets


def live_buddy() -> None:
    from kmemlib.lessons.plots.buddy import DEMO_SCRIPT
    from kmemlib.lessons.widgets import buddy_widget

    os.environ.pop("KMEMBOOK_STATIC_WIDGETS", None)
    box = buddy_widget(64, 5, script=DEMO_SCRIPT[:4])
    out = box.children[-1]
    buttons = {w.description: w for row in box.children for w in getattr(row, "children", ())
               if isinstance(w, ipywidgets.Button)}
    zone = box.children[0].children[0]
    print("live buddy widget: one user action -> redraws and time to the last one (target: 1 redraw, <= 250 ms)")
    print(f"{'action':<22}{'redraws':>8}{'ms':>8}")
    for name, act in (("alloc_pages", lambda: buttons["alloc_pages"].click()),
                      ("undo last call", lambda: buttons["undo last call"].click()),
                      ("reset", lambda: buttons["reset"].click()),
                      ("zone change", lambda: setattr(zone, "value", zone.options[-1][1]))):
        if name == "reset":
            buttons["alloc_pages"].click()
        draws: list[float] = []
        out.observe(lambda ch: draws.append(time.perf_counter()), names="value")
        t = time.perf_counter()
        act()
        out.unobserve_all()
        print(f"{name:<22}{len(draws):>8}{(draws[-1] - t) * 1000 if draws else 0:>8.1f}")


def static_widgets() -> None:
    from kmemlib.lessons.plots.buddy import DEMO_SCRIPT
    from kmemlib.lessons.widgets import (api_choice_widget, buddy_widget, custom_cache_widget,
                                         exact_vs_pages_widget, kmalloc_plan_explorer, kmalloc_type_picker,
                                         module_loop_explorer, order_widget, workload_widget)

    os.environ["KMEMBOOK_STATIC_WIDGETS"] = "1"
    cases = [("ch2 order_widget", order_widget), ("ch3 buddy_widget", lambda: buddy_widget(64, 5, DEMO_SCRIPT[:4])),
             ("ch4 exact_vs_pages_widget", lambda: exact_vs_pages_widget(33)),
             ("ch6 workload_widget", workload_widget), ("ch7 kmalloc_type_picker", kmalloc_type_picker),
             ("ch8 kmalloc_plan_explorer", kmalloc_plan_explorer), ("ch9 module_loop_explorer", module_loop_explorer),
             ("ch10 custom_cache_widget", custom_cache_widget), ("ch12 api_choice_widget", api_choice_widget)]
    print("\nstatic build: every output of each widget, computed and stored")
    print(f"{'widget':<28}{'outputs':>9}{'s':>7}{'stored KB':>11}")
    for name, make in cases:
        t = time.perf_counter()
        pick = make()._kmem_pick
        dt = time.perf_counter() - t
        size = len(json.dumps(pick.tokens)) + len(json.dumps(pick.parts))
        n = sum(len(p["outputs"]) for p in pick.parts)
        print(f"{name:<28}{n:>9}{dt:>7.2f}{size / 1000:>11.0f}")
    os.environ.pop("KMEMBOOK_STATIC_WIDGETS")


if __name__ == "__main__":
    live_buddy()
    static_widgets()
