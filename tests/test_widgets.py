"""The book's widgets: argument checks before any widget is built, the plain functions behind them, and the two
modes of one definition (live: compute on change; static: every output stored, picked by the page's JavaScript)."""

from __future__ import annotations

import itertools
import time

import ipywidgets
import pytest
from ipywidgets.widgets.widget import _instances as WIDGETS

from kmemlib.errors import InvalidAlignError, InvalidFlagsError, InvalidOrderError, InvalidSizeError, KmemError
from kmemlib.lessons.widgets import (api_choice_widget, buddy_widget, custom_cache_widget, exact_vs_pages_widget,
                                     explorer, interact, kmalloc_plan_explorer, kmalloc_type_picker,
                                     module_loop_explorer, order_widget, workload_widget)
from kmemlib.lessons.widgets import buddy as wbuddy
from kmemlib.lessons.widgets import base as wx
from kmemlib.lessons.widgets import kmalloc as wkm
from kmemlib.lessons.widgets import slab as wslab
from kmemlib.mm import kmalloc as km
from kmemlib.mm.pages import get_order


@pytest.fixture
def static(monkeypatch):
    monkeypatch.setenv(wx.STATIC_ENV, "1")


@pytest.fixture
def live(monkeypatch):
    monkeypatch.delenv(wx.STATIC_ENV, raising=False)


BAD_CALLS = [
    (custom_cache_widget, {"align": 3}, InvalidAlignError),
    (custom_cache_widget, {"object_size": 0}, InvalidSizeError),
    (custom_cache_widget, {"poison": "yes"}, InvalidFlagsError),
    (custom_cache_widget, {"nonsense": True}, InvalidFlagsError),
    (kmalloc_plan_explorer, {"gfp_name": "GFP_NOWAIT"}, InvalidFlagsError),
    (kmalloc_plan_explorer, {"size": -1}, InvalidSizeError),
    (kmalloc_type_picker, {"size": 0}, InvalidSizeError),
    (kmalloc_type_picker, {"size": 10**6}, InvalidSizeError),
    (module_loop_explorer, {"step_kib": 0}, InvalidSizeError),
    (order_widget, {"default": -5}, InvalidSizeError),
    (order_widget, {"default": 16 << 20}, InvalidSizeError),
    (order_widget, {"default": 1.5}, InvalidSizeError),
    (exact_vs_pages_widget, {"kib": 0}, InvalidSizeError),
    (exact_vs_pages_widget, {"kib": 5000}, InvalidSizeError),
    (workload_widget, {"keep": 0.33}, InvalidSizeError),
    (workload_widget, {"order": 11}, InvalidOrderError),
    (api_choice_widget, {"size": 0}, InvalidSizeError),
    (api_choice_widget, {"atomic": 1}, InvalidFlagsError),
    (buddy_widget, {"max_page_order": -1}, InvalidOrderError),
    (buddy_widget, {"nr_pages": 0}, InvalidSizeError),
    (buddy_widget, {"script": [("alloc", 9)]}, InvalidOrderError),
]


@pytest.mark.parametrize(("fn", "kwargs", "error"), BAD_CALLS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_bad_arguments_raise_kmemlib_errors_before_any_widget_is_built(live, fn, kwargs, error):
    before = len(WIDGETS)
    with pytest.raises(error) as info:
        fn(**kwargs)
    assert isinstance(info.value, KmemError)
    assert len(str(info.value).splitlines()) == 1
    assert len(WIDGETS) == before, "a widget was built before the arguments were checked"


def test_the_package_exports_every_widget_function():
    import kmemlib.lessons.widgets as w  # noqa: PLC0415

    for name in ("buddy_widget", "order_widget", "custom_cache_widget", "kmalloc_plan_explorer",
                 "kmalloc_type_picker", "module_loop_explorer", "exact_vs_pages_widget", "workload_widget",
                 "api_choice_widget", "explorer", "interact"):
        assert name in w.__all__ and callable(getattr(w, name))


def _outputs(box) -> list[str]:
    return [c.value for c in box.children if "kmem-out" in c._dom_classes]


def test_live_widget_recomputes_for_any_value(live):
    box = kmalloc_plan_explorer(size=100)
    exact = next(c for c in box.children[0].children if isinstance(c, ipywidgets.BoundedIntText))
    exact.value = 12345  # stored nowhere: computed on demand
    (card,) = _outputs(box)
    assert card == wkm.plan_card_html(12345, "GFP_KERNEL")
    assert not hasattr(box, "_kmem_pick")


def test_live_slider_sets_the_exact_box(live):
    box = kmalloc_plan_explorer(size=100)
    slider = box.children[0].children[0]
    slider.value = 4097
    assert _outputs(box) == [wkm.plan_card_html(4097, "GFP_KERNEL")]


def test_static_widget_stores_every_combination(static):
    box = kmalloc_type_picker(size=100)
    pick = box._kmem_pick
    names, domains = pick.names, pick.domains
    (part,) = pick.parts
    doms = [domains[i] for i in part["args"]]
    for k, combo in enumerate(itertools.product(*doms)):
        values = dict(zip([names[i] for i in part["args"]], combo))
        html = pick.output_html(0, k)
        assert html == wkm.type_choice_for(**values)


def test_static_number_box_snaps_to_stored_sizes(static):
    box = custom_cache_widget(object_size=100)
    pick = box._kmem_pick
    i = pick.names.index("object_size")
    assert pick.snap[i] is True
    assert 100 in pick.domains[i]


def test_static_buddy_disables_live_only_controls_and_says_how_to_run_live(static):
    box = buddy_widget(64, 5, script=wbuddy.DEMO_SCRIPT[:4])
    buttons = [w for row in box.children for w in getattr(row, "children", ()) if isinstance(w, ipywidgets.Button)]
    assert buttons and all(b.disabled for b in buttons)
    note = next(c for c in box.children if "kmem-note" in c._dom_classes)
    assert "live" in note.value
    pick = box._kmem_pick
    assert pick.bounds and pick.bounds[0]["maxes"][0] == len(wbuddy._recorded(64, 5)[1]) - 1


def test_recorded_buddy_frames_follow_the_recorded_script():
    st, frames = wbuddy._recorded(32, 3)
    assert all(o <= 3 for op, o in wbuddy.recorded_script(3) if op == "alloc")
    assert wbuddy.recorded_frame_html((32, 3), 10**6) == wbuddy.recorded_frame_html((32, 3), len(frames) - 1)


def test_live_buddy_redraws_once_per_call(live):
    box = buddy_widget(64, 5)
    out = next(c for c in box.children if "kmem-out" in c._dom_classes)
    draws = []
    out.observe(lambda ch: draws.append(time.perf_counter()), names="value")
    buttons = {w.description: w for row in box.children for w in getattr(row, "children", ())
               if isinstance(w, ipywidgets.Button)}
    buttons["alloc_pages"].click()
    assert len(draws) == 1
    buttons["alloc_pages"].click()
    for name in ("undo last call", "reset"):
        draws.clear()
        t = time.perf_counter()
        buttons[name].click()
        assert len(draws) == 1, f"{name}: {len(draws)} redraws"
        assert draws[0] - t < 0.25 + 0.5  # generous on a loaded machine; the benchmark is in bench/
    zone = box.children[0].children[0]
    draws.clear()
    zone.value = zone.options[-1][1]
    assert len(draws) == 1


def test_plain_functions_match_the_model():
    rows = dict(wkm.plan_card_rows(100))
    assert rows["ksize()"] == f"{km.kmalloc_plan(100).allocated} bytes"
    assert wkm.type_choice(dma=True)["type"] == "KMALLOC_DMA" or "dma" in wkm.type_choice(dma=True)["cache"]
    svg = wslab.cache_layout_svg(wslab.design_cache(100, 0, red_zone=True))
    assert svg.startswith("<svg") and "red" in svg


def test_interact_prints_and_returns(live):
    def show(kib):
        print(f"{kib} KiB -> order {get_order(kib * 1024)}")

    box = interact(show, kib=ipywidgets.IntSlider(value=5, min=1, max=64))
    assert _outputs(box) == [wx.text_html(f"5 KiB -> order {get_order(5 * 1024)}")]


def test_explorer_refuses_an_unbounded_static_control(static):
    with pytest.raises(wx.WidgetArgumentError):
        explorer({"n": ipywidgets.IntText(value=1)}, [wx.Part(lambda n: str(n), ("n",))])


def test_static_pick_names_each_parts_own_function(static):
    pick = workload_widget()._kmem_pick
    assert [r["function"].rsplit(":", 1)[1] for r in pick.render] == ["show_watermark_check_text",
                                                                      "show_free_by_order"]
    assert [r["args"] for r in pick.render] == [["keep", "order"], ["keep"]]

