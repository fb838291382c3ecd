"""Part II, chapters 1-3 (kmalloc): size classes, types, waste sweeps, the module loop, figures, widgets.

Expected values are worked by hand from the kernel rules (include/linux/slab.h, mm/slab_common.c,
mm/slub.c, kernel-facts §1): the 13 kmalloc caches 8..8k with 96 and 192, KMALLOC_MAX_CACHE_SIZE =
8192, KMALLOC_MAX_SIZE = 4 MiB, pages = 4096 bytes, large kmalloc = 4096 << get_order(size).
"""

from __future__ import annotations

import math

import pytest
from matplotlib.figure import Figure

from kmemlib.mm import gfp
from kmemlib.mm import kmalloc as km
from kmemlib.lessons import kmalloc_waste as kw
from kmemlib.lessons import module_loop as ml
from kmemlib.mm.page_alloc import Zone
from kmemlib.errors import InvalidFlagsError, InvalidSizeError, KmemError
from kmemlib.lessons.plots import kmalloc as pk
from kmemlib.mm.slub import SlubAllocator
from kmemlib.lessons.widgets import kmalloc as wk

MiB = 1 << 20
# request -> (via, cache or order, allocated), worked by hand from kmalloc_size_index[] / get_order
KEY_CASES = {
    0: ("ZERO_SIZE_PTR", None, 0),
    1: ("slab", "kmalloc-8", 8),
    8: ("slab", "kmalloc-8", 8),
    9: ("slab", "kmalloc-16", 16),
    64: ("slab", "kmalloc-64", 64),
    65: ("slab", "kmalloc-96", 96),
    96: ("slab", "kmalloc-96", 96),
    97: ("slab", "kmalloc-128", 128),
    192: ("slab", "kmalloc-192", 192),
    193: ("slab", "kmalloc-256", 256),
    8192: ("slab", "kmalloc-8k", 8192),
    8193: ("page allocator", 2, 16384),          # 3 pages -> 4 pages = order 2
    4 * MiB: ("page allocator", 10, 4 * MiB),     # 1024 pages = order 10 = MAX_PAGE_ORDER
    4 * MiB + 1: ("fail", None, 0),               # order 11 > MAX_PAGE_ORDER
}


def _pages_block(size: int) -> int:
    """Hand rule for the large path: round the page count up to a power of two."""
    pages = -(-size // 4096)
    return 4096 * (1 << (pages - 1).bit_length())


# ----------------------------------------------------------------------------- size classes, types
def test_size_classes_cover_every_size_once():
    classes = kw.size_classes()
    slab = [c for c in classes if c.via == "slab"]
    assert [c.allocated for c in slab] == [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]
    assert [c.name for c in slab][4] == "kmalloc-96" and slab[6].name == "kmalloc-192"
    assert classes[0].lo == 1 and classes[-1].hi == 4 * MiB
    for a, b in zip(classes, classes[1:]):
        assert b.lo == a.hi + 1
    for c in classes:
        assert c.hi == c.allocated          # each class ends exactly at its size: zero waste there
    large = [c for c in classes if c.via == "page allocator"]
    assert [c.order for c in large] == list(range(2, 11))
    assert large[0].lo == 8193


def test_size_class_geometry_matches_live_kernel_values():
    # /sys/kernel/slab/kmalloc-96: align 32, 42 objects in an order-0 slab, 4096 - 42*96 = 64 left over
    c96 = next(c for c in kw.size_classes() if c.name == "kmalloc-96")
    assert (c96.align, c96.order, c96.objs_per_slab, c96.slab_leftover) == (32, 0, 42, 64)
    c8k = next(c for c in kw.size_classes() if c.name == "kmalloc-8k")
    assert (c8k.align, c8k.order, c8k.objs_per_slab) == (8192, 3, 4)
    c65 = next(c for c in kw.size_classes() if c.name == "kmalloc-96")
    assert c65.max_waste == 31 and math.isclose(c65.max_waste_pct, 100 * 31 / 96)


def test_class_thresholds():
    th = kw.class_thresholds()
    assert th[:8] == [8, 16, 32, 64, 96, 128, 192, 256]
    assert th[-1] == 2 * MiB and 8192 in th and 4 * MiB not in th


@pytest.mark.parametrize("flags,type_name,cache", [
    (gfp.GFP_KERNEL, "normal", "kmalloc-128"),
    (gfp.GFP_ATOMIC, "normal", "kmalloc-128"),
    (gfp.GFP_KERNEL_ACCOUNT, "cg", "kmalloc-cg-128"),
    (gfp.GFP_KERNEL | gfp.__GFP_RECLAIMABLE, "rcl", "kmalloc-rcl-128"),
    (gfp.GFP_KERNEL | gfp.GFP_DMA, "dma", "dma-kmalloc-128"),
    (gfp.GFP_KERNEL_ACCOUNT | gfp.__GFP_RECLAIMABLE, "rcl", "kmalloc-rcl-128"),   # RECLAIMABLE beats ACCOUNT
    (gfp.GFP_KERNEL_ACCOUNT | gfp.GFP_DMA | gfp.__GFP_RECLAIMABLE, "dma", "dma-kmalloc-128"),  # DMA first
])
def test_kmalloc_type_row(flags, type_name, cache):
    row = kw.kmalloc_type_row(flags, 100)
    assert (row.type_name, row.cache) == (type_name, cache)


def test_kmalloc_type_table_and_errors():
    rows = kw.kmalloc_type_table(65)
    assert {r.type_name for r in rows} == {"normal", "cg", "rcl", "dma"}
    assert rows[0].cache == "kmalloc-96"
    with pytest.raises(InvalidSizeError):
        kw.kmalloc_type_row(gfp.GFP_KERNEL, 8193)      # not a slab request
    with pytest.raises(InvalidFlagsError):
        kw.kmalloc_type_row(gfp.GFP_KERNEL | gfp.__GFP_DMA32, 100)


@pytest.mark.parametrize("dma,rcl,acct,expected", [
    (False, False, False, "kmalloc-128"), (True, False, False, "dma-kmalloc-128"),
    (False, True, False, "kmalloc-rcl-128"), (False, False, True, "kmalloc-cg-128"),
    (False, True, True, "kmalloc-rcl-128"), (True, True, True, "dma-kmalloc-128"),
])
def test_type_choice_widget_function(dma, rcl, acct, expected):
    r = wk.type_choice(dma, rcl, acct, 100)
    assert r["cache"] == expected
    assert r["gfp"].startswith("GFP_KERNEL")
    assert expected in wk.type_choice_html(dma, rcl, acct, 100)


# ----------------------------------------------------------------------------- sweeps and plans
@pytest.mark.parametrize("size", sorted(KEY_CASES))
def test_sweep_key_values(size):
    via, where, allocated = KEY_CASES[size]
    (plan,) = kw.sweep([size])
    assert plan.via == via
    assert plan.allocated == allocated
    if via == "slab":
        assert plan.cache == where
    if via == "page allocator":
        assert plan.order == where and plan.allocated == _pages_block(size)
    if via in ("slab", "page allocator"):
        assert plan.waste == allocated - size
        assert math.isclose(kw.waste_pct(plan), 100 * (allocated - size) / allocated)
        assert math.isclose(kw.waste_pct(plan, "request"), 100 * (allocated - size) / size)
    else:
        assert kw.waste_pct(plan) == 0.0


def test_waste_pct_bases():
    plan = km.kmalloc_plan(1)
    assert kw.waste_pct(plan) == 87.5            # 7 of 8 bytes
    assert kw.waste_pct(plan, "request") == 700.0
    with pytest.raises(InvalidFlagsError):
        kw.waste_pct(plan, "slot")


def test_sawtooth_maxima_just_above_each_threshold():
    th = kw.class_thresholds()
    nxt = [c.allocated for c in kw.size_classes()]
    for t in th:
        at, above, two = (kw.waste_pct(km.kmalloc_plan(s)) for s in (t, t + 1, t + 2))
        assert at == 0.0                             # a class's own size wastes nothing
        assert above > at and above > two            # the tooth top is the first byte of the next class
        alloc = next(a for a in nxt if a > t)
        assert math.isclose(above, 100 * (alloc - t - 1) / alloc)
    peaks = kw.tooth_peaks()
    assert [p.request for p in peaks] == [t + 1 for t in th]
    # the two odd caches make lower teeth: 65 -> 96 and 129 -> 192
    by_req = {p.request: p for p in peaks}
    assert by_req[65].allocated == 96 and by_req[129].allocated == 192
    assert by_req[8193].allocated == 16384 and by_req[2 * MiB + 1].allocated == 4 * MiB


def test_sawtooth_sizes_include_every_tooth_edge():
    sizes = kw.sawtooth_sizes()
    assert sizes[0] == 1 and sizes[-1] == 4 * MiB and sizes == sorted(set(sizes))
    for t in kw.class_thresholds():
        assert t in sizes and t + 1 in sizes
    xs, ys = kw.waste_curve()
    assert max(ys) == 87.5 and len(xs) == len(ys)
    with pytest.raises(InvalidSizeError):
        kw.sawtooth_sizes(0, 10)
    with pytest.raises(InvalidSizeError):
        kw.waste_curve(1, 1 << 22, every_byte=True)


@pytest.mark.parametrize("call, named", [
    (lambda: kw.sawtooth_sizes(True, 10), "lo"),
    (lambda: kw.sawtooth_sizes(1, 2.0), "hi"),
    (lambda: kw.sawtooth_sizes(5, 1), "lo <= hi"),
    (lambda: kw.sawtooth_sizes(1, 10, 10**9), "per_class"),
    (lambda: kw.waste_curve(True, 5, every_byte=True), "lo"),
    (lambda: kw.waste_curve(1, 5, every_byte=1), "every_byte"),
])
def test_sawtooth_and_waste_curve_reject_junk_arguments(call, named):
    """Bools are not sizes, a sweep is bounded, and every_byte is a switch: a kmemlib error names the argument."""
    with pytest.raises(KmemError, match=named):
        call()


def test_small_zoom_every_byte():
    xs, ys = kw.waste_curve(1, 256, every_byte=True)
    assert xs == list(range(1, 257))
    # a 32-byte step sees 0 % at 32, 64, 96, 128, 192, 256 but the bytes just above waste a lot
    for s in (32, 64, 96, 128, 192, 256):
        assert ys[s - 1] == 0.0
    assert ys[33 - 1] == 100 * 31 / 64 and ys[97 - 1] == 100 * 31 / 128


def test_roundup_vs_ksize():
    rows = {r.request: r for r in kw.roundup_vs_ksize([0, 1, 100, 8192, 8193, 4 * MiB, 4 * MiB + 1])}
    for n in (1, 100, 8192, 8193, 4 * MiB):
        r = rows[n]
        assert r.result == "object" and r.agree
        assert r.roundup == (KEY_CASES.get(n, (None, None, 128))[2] if n != 100 else 128)
    assert rows[0].result == "ZERO_SIZE_PTR" and rows[0].roundup == 0 and rows[0].ksize == 0
    big = rows[4 * MiB + 1]
    assert big.result == "NULL" and big.roundup == 4 * MiB + 1 and big.ksize == 0 and not big.agree
    # debugging (red zone, poison, store user) keeps ksize = the cache's object size but costs slot space:
    # kmalloc-8 with FZPU: 8 + 8 right redzone + 8 free pointer + 64 tracks + 8 orig_size + 16 = 112
    assert rows[1].slot == 8 and rows[1].slot_debug == 112
    assert rows[8193].slot == rows[8193].slot_debug == 16384     # page allocator: no slab metadata


# ----------------------------------------------------------------------------- the module loop
def test_module_loop_every_row():
    rows = ml.module_loop()                       # step 200 KiB from 0, to the first NULL
    step = 200 * 1024
    assert len(rows) == 22                        # 0, 1*step .. 20*step (<= 4 MiB), then 21*step fails
    assert [r.request for r in rows] == [i * step for i in range(22)]
    z = rows[0]
    assert (z.result, z.actual, z.wastage, z.waste_permille) == ("ZERO_SIZE_PTR", 0, None, None)
    for r in rows[1:21]:
        assert r.result == "object" and r.path == "pages"
        assert r.actual == _pages_block(r.request)
        assert r.wastage == r.actual - r.request
        assert r.waste_permille == r.wastage * 1000 // r.actual
        assert r.order == (r.actual // 4096).bit_length() - 1
    fail = rows[21]
    assert fail.result == "NULL" and fail.request == 4300800 > km.KMALLOC_MAX_SIZE
    assert fail.actual is None and fail.order == 11 and "MAX_PAGE_ORDER" in fail.reason
    # hand-worked rows: 50 pages -> 64; 500 -> 512; 550 -> 1024 (just over 2 MiB doubles the block)
    assert (rows[1].actual, rows[1].wastage, rows[1].waste_permille) == (262144, 57344, 218)
    assert (rows[10].actual, rows[10].wastage, rows[10].waste_permille) == (2 * MiB, 49152, 23)
    assert (rows[11].actual, rows[11].wastage, rows[11].waste_permille) == (4 * MiB, 1941504, 462)
    assert (rows[20].actual, rows[20].wastage) == (4 * MiB, 98304)


def test_module_loop_printed_lines():
    rows = ml.module_loop()
    assert rows[1].line == "kmalloc_sweep:    1     204800     262144      57344    21.8%  pages"
    assert rows[0].line.endswith("ZERO_SIZE_PTR") and " 0          0 " in rows[0].line
    assert rows[-1].line.endswith("NULL (kmalloc failed)")
    out = ml.module_output(rows)
    lines = out.splitlines()
    assert lines[0] == "kmalloc_sweep: step=204800 start=0 KMALLOC_MAX_CACHE_SIZE=8192 KMALLOC_MAX_SIZE=4194304"
    assert lines[-1] == "kmalloc_sweep: done after 22 calls"
    assert len(lines) == 2 + 22 + 1
    # every data line has its columns where the header has them
    head = lines[1]
    for ln in lines[2:-1]:
        assert len(ln) >= head.index("path")


def test_module_source_matches_model():
    src = ml.module_source()
    assert "static unsigned long step = 200 * 1024;" in src
    assert 'pr_info("%4s %10s %10s %10s %8s  %s\\n"' in src          # header widths used by module_header
    assert "%5zu.%zu%%" in src and "permille = waste * 1000 / actual" in src
    assert "ZERO_SIZE_PTR" in src and "kfree(p);" in src and "ksize(p)" in src
    assert 'KBUILD_MODNAME ": "' in src


def test_module_loop_crossing_the_slab_limit():
    rows = ml.module_loop(step=100, start=8000, limit=8400)
    assert [r.request for r in rows] == [8000, 8100, 8200, 8300, 8400]
    assert [r.reason for r in rows] == ["kmalloc-8k", "kmalloc-8k", "order 2", "order 2", "order 2"]
    assert [r.path for r in rows] == ["slab", "slab", "pages", "pages", "pages"]
    assert rows[2].actual == 16384


def test_module_loop_with_accounting_flags_and_small_zone():
    rows = ml.module_loop(step=64, start=0, limit=200, gfp=gfp.GFP_KERNEL_ACCOUNT)
    assert [r.cache for r in rows[1:]] == ["kmalloc-cg-64", "kmalloc-cg-128", "kmalloc-cg-192", "kmalloc-cg-256"][:len(rows) - 1]
    # a 2 MiB zone has no order-10 block: the loop fails with "out of memory" below KMALLOC_MAX_SIZE
    a = SlubAllocator(Zone(512))
    rows = ml.module_loop(allocator=a)
    assert rows[-1].result == "NULL" and rows[-1].request <= km.KMALLOC_MAX_SIZE
    assert rows[-1].reason.startswith("out of memory")
    assert a.totals().large_allocs == 0           # every successful call was freed again


@pytest.mark.parametrize("kwargs", [dict(step=0), dict(step=-1), dict(step=True), dict(start=-5),
                                    dict(step=1), dict(limit=-1), dict(gfp=gfp.__GFP_HIGHMEM)])
def test_module_loop_rejects(kwargs):
    with pytest.raises((InvalidSizeError, InvalidFlagsError)):
        ml.module_loop(**kwargs)


# ----------------------------------------------------------------------------- slab occupancy (chapter 1)
def test_slab_occupancy_and_freelist():
    a = SlubAllocator()
    ps = [a.kmalloc(100) for _ in range(20)]
    slab = a.slab_of(ps[0])
    assert all(a.slab_of(p) is slab for p in ps) and slab.objects == 32
    a.kfree(ps[3])
    a.kfree(ps[7])
    slots = kw.slab_occupancy(a, slab)
    assert len(slots) == 32 and sum(v.used for v in slots) == 18
    assert all(v.requested == 100 for v in slots if v.used)
    assert kw.freelist_head(slab) == 7                      # LIFO: last freed, first reused
    assert slots[7].next_free == 3 and slots[3].next_free == 20 and slots[31].next_free is None
    assert slots[3].freeptr_offset == 64                    # ALIGN_DOWN(128 / 2, 8): middle of the object
    assert a.kmalloc(100) == ps[7]


# ----------------------------------------------------------------------------- figures
def _texts(fig: Figure) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " ".join(
        ax.get_xlabel() + ax.get_ylabel() + ax.get_title() for ax in fig.axes)


def test_plot_sawtooth():
    fig = pk.plot_sawtooth()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert "request size" in ax.get_xlabel() and "% of allocated" in ax.get_ylabel()
    vlines = [ln.get_xdata()[0] for ln in ax.lines if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == ln.get_xdata()[1]]
    assert km.KMALLOC_MAX_CACHE_SIZE in vlines and km.KMALLOC_MAX_SIZE in vlines
    assert "KMALLOC_MAX_CACHE_SIZE" in _texts(fig)
    fig_r = pk.plot_sawtooth(basis="request")
    assert "% of requested" in fig_r.axes[0].get_ylabel()


def test_plot_small_zoom_and_loop_and_slab():
    fig = pk.plot_small_zoom()
    assert "kmalloc-96" in _texts(fig) and "kmalloc-192" in _texts(fig)
    fig = pk.plot_module_loop(ml.module_loop())
    assert len(fig.axes) == 2 and "ZERO_SIZE_PTR" in _texts(fig) and "NULL" in _texts(fig)
    a = SlubAllocator()
    p = a.kmalloc(100)
    fig = pk.plot_slab_slots(kw.slab_occupancy(a, a.slab_of(p)), head=0)
    assert "slot index" in fig.axes[0].get_xlabel()


def test_human_bytes():
    assert [pk.human_bytes(v) for v in (1, 8, 96, 4096, 32768, 1 << 21, 1 << 22)] == \
        ["1", "8", "96", "4K", "32K", "2M", "4M"]


# ----------------------------------------------------------------------------- widget functions
@pytest.mark.parametrize("size", sorted(KEY_CASES))
def test_plan_card_rows(size):
    via, where, allocated = KEY_CASES[size]
    rows = dict(wk.plan_card_rows(size))
    assert rows["request"] == f"kmalloc({size}, GFP_KERNEL)"
    if via == "ZERO_SIZE_PTR":
        assert "ZERO_SIZE_PTR" in rows["result"] and rows["ksize()"] == "0"
    elif via == "fail":
        assert rows["result"].startswith("NULL") and "11 > MAX_PAGE_ORDER" in rows["result"]
        assert rows["kmalloc_size_roundup()"].startswith(str(size))
    else:
        assert rows["ksize()"] == f"{allocated} bytes"
        assert rows["kmalloc_size_roundup()"] == f"{allocated} bytes"
        assert rows["waste"] == f"{allocated - size} bytes"
        assert rows["waste % of allocation"] == f"{100 * (allocated - size) / allocated:.1f} %"
        assert (where in rows["path"]) if via == "slab" else (f"order {where}" in rows["path"])


def test_plan_card_gfp_and_html():
    assert "kmalloc-cg-96" in dict(wk.plan_card_rows(65, "GFP_KERNEL_ACCOUNT"))["path"]
    assert "dma-kmalloc-8k" in dict(wk.plan_card_rows(8192, "GFP_KERNEL | GFP_DMA"))["path"]
    assert "<table" in wk.plan_card_html(100) and "kmalloc-128" in wk.plan_card_html(100)
    with pytest.raises(InvalidFlagsError):
        wk.plan_card_rows(100, "GFP_NOPE")
    with pytest.raises(InvalidSizeError):
        wk.plan_card_rows(-1)


def test_loop_table_html_and_widgets_build():
    html = wk.loop_table_html(ml.module_loop())
    assert html.count("<tr>") == 23 and "NULL" in html and "ZERO_SIZE_PTR" in html and "46.2 %" in html
    pytest.importorskip("ipywidgets")
    assert wk.kmalloc_plan_explorer(100).children
    assert wk.kmalloc_type_picker().children


def test_html_table_escapes():
    t = wk.html_table(["a", "b<"], [[1, "x&y"]])
    assert "b&lt;</th>" in t and "x&amp;y" in t and t.count("<tr>") == 2
