"""Issue 15 for the figure and table functions of kmemlib.lessons.plots: arbitrary values at the boundary.

Every public function of ``kmemlib/lessons/plots/*.py`` is called with valid arguments except one, which gets an
arbitrary Python value (int, also huge and negative, bool, float incl. nan/inf, str, bytes, None, list, Decimal):
the call either succeeds or raises a KmemError, never another exception. Every figure is closed again.
Bounded with max_examples and derandomize=True so the file runs in well under a minute.
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.animation import Animation  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from kmemlib.errors import InvalidArgumentError, InvalidSizeError, KmemError  # noqa: E402
from kmemlib.lessons import kmalloc_waste as kw  # noqa: E402
from kmemlib.lessons import module_loop as ml  # noqa: E402
from kmemlib.lessons.plots import animation as pan  # noqa: E402
from kmemlib.lessons.plots import buddy as pb  # noqa: E402
from kmemlib.lessons.plots import fragmentation as pf  # noqa: E402
from kmemlib.lessons.plots import kmalloc as pk  # noqa: E402
from kmemlib.lessons.plots import page_api as pa  # noqa: E402
from kmemlib.lessons.plots import pages as pp  # noqa: E402
from kmemlib.lessons.plots import slab as ps  # noqa: E402
from kmemlib.lessons.plots import tables as pt  # noqa: E402
from kmemlib.mm import gfp  # noqa: E402
from kmemlib.mm.slub import SlubAllocator, make_geometry  # noqa: E402
from kmemlib.mm.vmalloc import kmalloc_cost  # noqa: E402
from kmemlib.readers.procfs import BuddyInfoRow, read_zoneinfo  # noqa: E402
from kmemlib.readers.slab_usage import live_usage  # noqa: E402
from kmemlib.readers.snapshots import snapshot_dir  # noqa: E402
from kmemlib.readers.sysfs import compare_live  # noqa: E402

junk = st.one_of(
    st.integers(-2 ** 70, 2 ** 70), st.sampled_from([2 ** 64, 2 ** 64 - 1, -1, 0, 1 << 40, 10 ** 30]), st.booleans(),
    st.floats(), st.sampled_from([1.0, 0.0, 0.5, 1.8e19, math.nan, math.inf]), st.text(max_size=4),
    st.binary(max_size=4), st.none(), st.lists(st.integers(-1, 4), max_size=3),
    st.decimals(min_value=-10, max_value=10 ** 6, allow_nan=False, places=0),
    st.sampled_from([[], (), {}, {"a": 1}, [[1]], [1.5], (True, 2), [None], ["x"], (8.0, 4.0)]),
)


@lru_cache(maxsize=None)
def fixtures() -> dict:
    """Valid objects built once (cheap: small zones, a shipped snapshot)."""
    stepper = pb.BuddyStepper()
    stepper.run(pb.DEMO_SCRIPT[:3])
    frames = stepper.frames()
    a = SlubAllocator()
    p = a.kmalloc(100)
    axes_fig = Figure()
    ax1, ax2 = axes_fig.subplots(2, 1)
    snap = snapshot_dir()
    return {
        "frames": frames, "stepper": stepper, "zone": stepper.zone, "start": stepper.initial,
        "events": stepper.events(), "ax1": ax1, "ax2": ax2,
        "loop_rows": ml.module_loop(step=1 << 20, start=0, limit=3 << 20),
        "slots": kw.slab_occupancy(a, a.slab_of(p)),
        "geom": make_geometry("t", 100),
        "buddyinfo": [BuddyInfoRow(0, "Normal", [3, 2, 1, 0, 1, 0, 0, 0, 0, 0, 1])],
        "zoneinfo": read_zoneinfo(snap),
        "zone_rows": [pp.ZoneRow(0, "DMA32", 4096, 1 << 20, (1 << 20) - 4096, 1000000, 990000, 5000)],
        "cost": pp.order_cost(5000),
        "cmp": pa.exact_vs_pages(5000),
        "report": compare_live(snap),
        "usage": live_usage(snap),
        "api_sizes": [1, 100, 5000],
        "api_costs": {"kmalloc": [kmalloc_cost(s) for s in (1, 100, 5000)]},
    }


def F(key: str):
    return lambda: fixtures()[key]


def V(value):
    return lambda: value


ROWS = {"fresh": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4], "after": [9, 5, 3, 1, 0, 0, 0, 0, 0, 0, 0]}

# (function, {parameter: factory of a valid value}); one parameter at a time gets junk
CASES = [
    (pf.free_bytes_by_order, {"nr_free": V([1, 2, 3]), "page_shift": V(12)}),
    (pf.free_by_order_figure, {"rows": V(ROWS), "page_shift": V(12), "title": V("t"), "unit": V("MiB")}),
    (pf.index_table, {"nr_free": V([1, 2, 3, 0])}),
    (pf.index_figure, {"rows": V(ROWS), "title": V("t")}),
    (pf.page_map_figure, {"maps": V({"x": [0, 1, 2, 3] * 64}), "pages_per_row": V(32), "pageblock_nr_pages": V(64),
                          "title": V("t")}),
    (pk.human_bytes, {"n": V(4096)}),
    (pk.plot_sawtooth, {"lo": V(1), "hi": V(1 << 13), "basis": V("request"), "per_class": V(3),
                        "mark_peaks": V(True), "figsize": V((6, 3))}),
    (pk.plot_small_zoom, {"lo": V(1), "hi": V(128), "basis": V("allocation"), "coarse_step": V(32),
                          "figsize": V((6, 3))}),
    (pk.plot_module_loop, {"rows": F("loop_rows"), "curve": V(False), "figsize": V((6, 4))}),
    (pk.plot_slab_slots, {"slots": F("slots"), "title": V("t"), "head": V(0), "figsize": V((6, 3))}),
    (pp.fmt_bytes, {"n": V(4097)}),
    (pp.buddyinfo_table, {"rows": F("buddyinfo")}),
    (pp.order_cost, {"size": V(5000), "page_shift": V(12), "max_page_order": V(10)}),
    (pp.order_cost_text, {"cost": F("cost")}),
    (pp.size_choices, {"lo": V(1), "hi": V(1 << 16), "steps_per_octave": V(2), "extra": V((4097,))}),
    (pp.order_sweep, {"sizes": V([1, 5000, 1 << 23]), "page_shift": V(12), "max_page_order": V(10)}),
    (pp.sweep_sizes, {"lo": V(1), "hi": V(1 << 16), "points_per_octave": V(4)}),
    (pp.waste_sweep_figure, {"sizes": V([1, 2, 4097, 1 << 20, 1 << 23]), "page_shift": V(12),
                             "max_page_order": V(10), "mark": V((5000,))}),
    (pp.order_cost_figure, {"size": V(5000), "page_shift": V(12), "max_page_order": V(10)}),
    (pp.max_order_history, {"versions": V(((6, 1), (6, 8)))}),
    (pp.address_rows, {"pfns": V([0, 1, 4096]), "page_shift": V(12)}),
    (pp.zone_rows, {"zoneinfo": F("zoneinfo")}),
    (pp.zone_map_figure, {"rows": F("zone_rows"), "page_shift": V(12), "title": V("t")}),
    (pp.buddyinfo_figure, {"rows": F("buddyinfo"), "page_shift": V(12), "title": V("t")}),
    (pa.exact_vs_pages, {"size": V(5000), "zone_pages": V(64), "page_shift": V(12)}),
    (pa.format_comparison, {"cmp": F("cmp")}),
    (pa.exact_vs_pages_figure, {"cmp": F("cmp")}),
    (pa.gfp_rows, {"words": V({"GFP_KERNEL": gfp.GFP_KERNEL, "GFP_ATOMIC": gfp.GFP_ATOMIC})}),
    (pt.html_table, {"header": V(["a", "b"]), "rows": V([[1, "x"], [2, "y"]]), "align": V("lr"), "caption": V("c"),
                     "escape": V(True), "nowrap": V(False)}),
    (pt.dict_table, {"rows": V([{"a": 1, "b": None}]), "caption": V("c")}),
    (pb.block_name, {"i": V(27)}),
    (pb.describe_event, {"ev": lambda: fixtures()["events"][0], "zone": F("zone"), "names": V({0: "A"}),
                         "in_flight": V(None)}),
    (pb.frames_from_events, {"zone": F("zone"), "start": F("start"), "events": F("events"), "names": V({0: "A"}),
                             "start_caption": V("s")}),
    (pb.BuddyStepper, {"nr_pages": V(32), "max_page_order": V(4), "start_pfn": V(0)}),
    (pb.order_colors, {"max_page_order": V(5)}),
    (pb.draw_frame, {"frame": lambda: fixtures()["frames"][1], "ax_bar": F("ax1"), "ax_lists": F("ax2"),
                     "show_caption": V(True)}),
    (pb.frame_figure, {"frame": lambda: fixtures()["frames"][0]}),
    (pb.frames_figure, {"frames": F("frames"), "indices": V([0, 2]), "titles": V(["a", "b"])}),
    (pb.event_table, {"frames": F("frames")}),
    (ps.draw_object_layout, {"ax": F("ax1"), "g": F("geom")}),
    (ps.draw_slab_layout, {"ax": F("ax2"), "g": F("geom"), "max_slots": V(8)}),
    (ps.cache_layout_figure, {"g": F("geom"), "figsize": V((6, 4))}),
    (ps.slot_comparison_figure, {"geoms": lambda: [fixtures()["geom"]], "labels": V(["x"]), "figsize": V((6, 3))}),
    (ps.model_vs_live_figure, {"report": F("report"), "figsize": V((6, 3))}),
    (ps.loss_breakdown_figure, {"usage": F("usage"), "top": V(5), "figsize": V((6, 3))}),
    (ps.api_cost_figure, {"sizes": F("api_sizes"), "costs_by_api": F("api_costs"), "figsize": V((6, 3))}),
]
# only the junk half for these: a valid call renders every animation frame (seconds), covered in test_plots_animation
JUNK_ONLY = [
    (pb.buddy_animation, {"frames": F("frames"), "interval": V(100), "dpi": V(20)}),
    (pan.offline_jshtml, {"anim": F("frames"), "default_mode": V("once")}),
]
SLOTS = [(fn, name) for fn, spec in CASES + JUNK_ONLY for name in spec]


def _release(out: object) -> None:
    if isinstance(out, Figure):
        plt.close(out)
    elif isinstance(out, Animation):
        plt.close(out._kmem_fig)


def _call(fn, spec: dict, bad_name: str | None = None, bad_value: object = None) -> object:
    kwargs = {k: make() for k, make in spec.items()}
    if bad_name is not None:
        kwargs[bad_name] = bad_value
    return fn(**kwargs)


def test_every_public_plot_function_is_covered():
    mods = (pan, pb, pf, pk, pa, pp, ps, pt)
    public = {f"{m.__name__}.{n}" for m in mods for n in getattr(m, "__all__", dir(m))
              if callable(getattr(m, n)) and getattr(getattr(m, n), "__module__", "") == m.__name__
              and not n.startswith("_") and n not in ("Frame", "OrderCost", "AddressRow", "ZoneRow", "ExactComparison",
                                                        "GfpRow")}
    public |= {f"{pan.__name__}.offline_jshtml", f"{pt.__name__}.html_table", f"{pt.__name__}.dict_table"}
    covered = {f"{fn.__module__}.{fn.__name__}" for fn, _ in CASES + JUNK_ONLY}
    assert public <= covered, sorted(public - covered)


@pytest.mark.parametrize("fn,spec", CASES, ids=[fn.__name__ for fn, _ in CASES])
def test_valid_arguments_still_work(fn, spec):
    _release(_call(fn, spec))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.integers(0, len(SLOTS) - 1), junk)
def test_one_arbitrary_argument_gives_success_or_a_kmem_error(i, value):
    fn, name = SLOTS[i]
    spec = dict((CASES + JUNK_ONLY)[[f for f, _ in CASES + JUNK_ONLY].index(fn)][1])
    if fn in (pb.buddy_animation, pan.offline_jshtml):
        if fn is pan.offline_jshtml and name == "default_mode":
            spec["anim"] = V(None)      # never render: the anim check fires first
        try:
            out = _call(fn, spec, name, value)
        except KmemError:
            return
        _release(out)
        return
    try:
        out = _call(fn, spec, name, value)
    except KmemError:
        return
    finally:
        plt.close("all")
    _release(out)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.integers(0, len(CASES) - 1), junk)
def test_one_arbitrary_entry_inside_a_list_argument(i, value):
    """Junk inside an otherwise valid list or dict (a float in a buddyinfo row, None among the frames)."""
    fn, spec = CASES[i]
    for name, make in spec.items():
        good = make()
        if isinstance(good, list) and good:
            bad = [value] + good[1:]
        elif isinstance(good, dict) and good:
            k = next(iter(good))
            bad = {**good, k: value}
        else:
            continue
        try:
            _release(_call(fn, spec, name, bad))
        except KmemError:
            pass
        finally:
            plt.close("all")


@pytest.mark.parametrize("fn,kwargs,name", [
    (pk.plot_sawtooth, {"lo": True}, "lo"),
    (pk.plot_small_zoom, {"hi": 128.0}, "hi"),
    (pk.plot_module_loop, {"rows": [1, 2]}, "rows"),
    (pk.human_bytes, {"n": Decimal(4096)}, "n"),
    (pf.free_by_order_figure, {"rows": {"x": [1, 2.5]}}, "rows"),
    (pf.page_map_figure, {"maps": {"x": [0, 1, 7]}}, "maps"),
    (pp.order_cost, {"size": 5000, "page_shift": 40}, "page_shift"),
    (pp.size_choices, {"steps_per_octave": 10 ** 9}, "steps_per_octave"),
    (pp.buddyinfo_figure, {"rows": [None]}, "rows"),
    (pa.exact_vs_pages, {"size": 5000, "zone_pages": 2 ** 64}, "zone_pages"),
    (pt.html_table, {"header": "ab", "rows": []}, "header"),
    (pb.BuddyStepper, {"nr_pages": True}, "nr_pages"),
    (pb.frames_figure, {"frames": [], "indices": [0]}, "indices"),
    (ps.cache_layout_figure, {"g": None}, "g"),
    (ps.api_cost_figure, {"sizes": [1, 2], "costs_by_api": {"kmalloc": [kmalloc_cost(1)]}}, "costs_by_api"),
])
def test_message_names_the_argument_and_the_value(fn, kwargs, name):
    with pytest.raises(KmemError) as info:
        _release(fn(**kwargs))
    plt.close("all")
    assert name in str(info.value)


def test_checks_run_before_any_figure_is_built():
    before = plt.get_fignums()
    for call in (lambda: ps.cache_layout_figure(make_geometry("t", 64), figsize=(8, "4")),
                 lambda: ps.loss_breakdown_figure(fixtures()["usage"], top=1.5),
                 lambda: pf.page_map_figure({"x": [0, 1]}, pages_per_row=False)):
        with pytest.raises((InvalidArgumentError, InvalidSizeError)):
            call()
    assert plt.get_fignums() == before


def test_bool_is_not_an_int_and_floats_are_not_sizes():
    for bad in (True, 1.0, Decimal(1), "1"):
        with pytest.raises(KmemError, match="must be"):
            pp.order_cost_figure(bad)
        with pytest.raises(KmemError, match="must be"):
            pb.block_name(bad)
    assert pp.order_cost(1).order == 0 and pb.block_name(1) == "B"


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.sampled_from(["alloc", "free", "run"]), junk)
def test_buddy_stepper_methods_reject_junk_and_keep_their_state(method, value):
    stepper = pb.BuddyStepper(16, 3)
    stepper.alloc(1)
    before = (stepper.zone.snapshot(), len(stepper.ops), len(stepper.events()), stepper.live())
    try:
        getattr(stepper, method)(value)
    except KmemError:
        assert (stepper.zone.snapshot(), len(stepper.ops), len(stepper.events()), stepper.live()) == before
