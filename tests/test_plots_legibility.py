"""Every figure the chapters show is legible in the book: text at least 10 CSS px when the figure is fitted into
the text column of a 1280 px wide page, and no text drawn over other text, over a legend, over the bars of a bar
chart, or (for text anchored in data coordinates) outside its axes.

The figures are built with the arguments the chapters use; :mod:`figure_checks` measures what the renderer draws.
"""

from __future__ import annotations

from functools import lru_cache

import pytest

from figure_checks import BOOK_COLUMN_PX, drawn_texts, overlaps, png_width, small_texts

from kmemlib.lessons import slab_design
from kmemlib.lessons.module_loop import module_loop
from kmemlib.lessons.plots import buddy as B
from kmemlib.lessons.plots import fragmentation as F
from kmemlib.lessons.plots import kmalloc as K
from kmemlib.lessons.plots import page_api as A
from kmemlib.lessons.plots import pages as P
from kmemlib.lessons.plots import slab as S
from kmemlib.lessons.workloads import compaction_sketch, fragmenting_workload, page_map
from kmemlib.mm import vmalloc
from kmemlib.readers import slab_usage, sysfs
from kmemlib.readers.procfs import read_buddyinfo, read_zoneinfo
from kmemlib.readers.snapshots import snapshot_dir

ROOT = snapshot_dir()


@lru_cache(maxsize=1)
def _buddy_frames():
    st = B.BuddyStepper(64, 5)
    st.run(B.DEMO_SCRIPT)
    after = st.op_frames()
    return st.frames(), [0] + after, ["boot"] + [f"call {i + 1}" for i in range(len(after))]


@lru_cache(maxsize=1)
def _fragmentation():
    run = fragmenting_workload()
    return run, compaction_sketch(run.zone)


@lru_cache(maxsize=1)
def _api_costs():
    sizes = sorted({int(2 ** (k / 8)) for k in range(0, 8 * 23 + 1)})
    return sizes, {api: [fn(s) for s in sizes] for api, fn in (("kmalloc", vmalloc.kmalloc_cost),
                                                                ("vmalloc", vmalloc.vmalloc_cost),
                                                                ("kvmalloc", vmalloc.kvmalloc_cost),
                                                                ("kmem_cache", vmalloc.kmem_cache_cost))}


FLAG_OPTIONS = [{}, {"hwcache_align": True}, {"poison": True}, {"red_zone": True}, {"store_user": True},
                {"ctor": True}, {"typesafe_by_rcu": True}]

FIGURES = {
    # Part I
    "zone_map": lambda: P.zone_map_figure(P.zone_rows(read_zoneinfo(ROOT)), title="Zones (snapshot)"),
    "buddyinfo": lambda: P.buddyinfo_figure(read_buddyinfo(ROOT), title="Free memory by block size (snapshot)"),
    "waste_sweep": lambda: P.waste_sweep_figure(),
    "order_cost_132k": lambda: P.order_cost_figure(132 * 1024),
    "order_cost_8m": lambda: P.order_cost_figure(8 << 20),
    "buddy_frame": lambda: B.frame_figure(_buddy_frames()[0][0]),
    "buddy_frames": lambda: B.frames_figure(*_buddy_frames()),
    "exact_vs_pages": lambda: A.exact_vs_pages_figure(A.exact_vs_pages(33 * 1024)),
    "free_by_order": lambda: F.free_by_order_figure(
        {"fresh zone": _fragmentation()[0].nr_free_before, "after the workload": _fragmentation()[0].nr_free_after},
        title="Free memory by block order, simulated zone"),
    "page_map": lambda: F.page_map_figure({"after the workload": page_map(_fragmentation()[0].zone)},
                                          pageblock_nr_pages=512, title="The simulated zone, 8192 pages"),
    "index": lambda: F.index_figure({"fresh zone": _fragmentation()[0].nr_free_before,
                                     "after the workload": _fragmentation()[0].nr_free_after,
                                     "after the compaction sketch": _fragmentation()[1].nr_free_after},
                                    title="External-fragmentation indices of the simulated zone"),
    "page_map_compaction": lambda: F.page_map_figure(
        {"after the workload": _fragmentation()[1].before, "after the compaction sketch": _fragmentation()[1].after},
        pageblock_nr_pages=512, title="Illustration: moving the movable pages"),
    # Part II
    "sawtooth": lambda: K.plot_sawtooth(),
    "small_zoom": lambda: K.plot_small_zoom(),
    "module_loop": lambda: K.plot_module_loop(module_loop()),
    "cache_layout": lambda: S.cache_layout_figure(slab_design.design_cache(100)),
    "cache_layout_debug": lambda: S.cache_layout_figure(
        slab_design.design_cache(100, red_zone=True, poison=True, store_user=True)),
    "slot_comparison": lambda: S.slot_comparison_figure(
        [slab_design.design_cache(100, **o) for o in FLAG_OPTIONS],
        ["none", "HWCACHE_ALIGN", "POISON", "RED_ZONE", "STORE_USER", "ctor", "TYPESAFE_BY_RCU"]),
    "model_vs_kernel": lambda: S.model_vs_live_figure(sysfs.compare_live(ROOT)),
    "loss_breakdown": lambda: S.loss_breakdown_figure(slab_usage.live_usage(ROOT), 12),
    "api_cost": lambda: S.api_cost_figure(*_api_costs()),
}


@pytest.fixture(scope="module", params=sorted(FIGURES))
def figure(request):
    import matplotlib.pyplot as plt

    fig = FIGURES[request.param]()
    yield fig
    plt.close(fig)


def test_every_figure_text_is_at_least_10_px_at_book_width(figure):
    assert drawn_texts(figure), "the figure draws no text at all?"
    small = small_texts(figure, min_px=10.0, column_px=BOOK_COLUMN_PX)
    assert not small, f"text below 10 px when the {png_width(figure)} px PNG is shown {BOOK_COLUMN_PX} px wide: {small}"


def test_no_figure_text_overlaps(figure):
    assert overlaps(figure) == []


def test_figures_have_an_opaque_background(figure):
    """A transparent PNG shows the page behind it: dark text on the dark theme's background is unreadable."""
    assert figure.get_facecolor()[3] == 1.0
    assert figure.patch.get_visible()


def test_the_checker_sees_small_and_overlapping_text():
    """The measuring code itself: a 6 pt label on a wide figure is too small, and two texts on one spot collide."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3), dpi=100)
    ax = fig.subplots()
    ax.text(0.5, 0.5, "tiny", fontsize=6)
    ax.text(0.5, 0.5, "same spot", fontsize=12)
    assert ("tiny", round(6 * 100 / 72 * BOOK_COLUMN_PX / png_width(fig), 1)) in small_texts(fig)
    assert any("overlaps" in p for p in overlaps(fig))
