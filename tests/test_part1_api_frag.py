"""Part I, chapters 4-6: the page allocator API (alloc_pages vs alloc_pages_exact, GFP flags), watermarks and
external fragmentation (workload, watermarks, indices, compaction sketch).

Expected values are worked out by hand from the kernel's rules (mm/page_alloc.c make_alloc_exact,
__free_one_page, __setup_per_zone_wmarks, __zone_watermark_ok; mm/vmstat.c fill_contig_page_info,
unusable_free_index, __fragmentation_index) or read from the shipped snapshot / the live kernel.
"""

from __future__ import annotations

from math import isqrt
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from kmemlib.mm import gfp, watermarks as wm
from kmemlib.mm.page_alloc import (ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, Zone, alloc_pages_exact,
                           free_pages_exact)
from kmemlib.errors import InvalidOrderError, InvalidSizeError
from kmemlib.lessons.plots.fragmentation import (free_by_order_figure, free_bytes_by_order, index_figure,
                                        index_table, page_map_figure)
from kmemlib.lessons.plots.page_api import exact_vs_pages, exact_vs_pages_figure, format_comparison, gfp_rows
from kmemlib.readers.procfs import read_min_free_kbytes, read_zoneinfo
from kmemlib.readers.snapshots import snapshot_dir
from kmemlib.lessons.workloads import (PAGE_FREE, PAGE_MOVABLE, PAGE_UNMOVABLE, compaction_sketch,
                               format_summary, fragmenting_workload, nr_free_from_page_map, page_map,
                               summarize)

KiB = 1024
FRESH_1024 = [0] * 10 + [1]          # a fresh zone of 1024 pages is one order-10 block


def aligned_decomposition(start: int, end: int) -> list[tuple[int, int]]:
    """Largest naturally aligned blocks covering [start, end), ascending (hand rule, test-side)."""
    out = []
    while start < end:
        order = (start & -start).bit_length() - 1 if start else 20
        while start + (1 << order) > end:
            order -= 1
        out.append((start, order))
        start += 1 << order
    return out


# ============================================================== chapter 4: alloc_pages vs _exact
def test_33k_costs_64k_with_alloc_pages_and_36k_exact():
    c = exact_vs_pages(33 * KiB)
    # 33 KiB = 8.25 pages -> 9 pages; next power of two 16 pages = order 4
    assert (c.order, c.block_pages, c.nr_pages, c.given_back) == (4, 16, 9, 7)
    assert (c.bytes_pages, c.bytes_exact) == (64 * KiB, 36 * KiB)
    assert c.unused_bytes_pages == 31 * KiB and c.unused_bytes_exact == 3 * KiB
    # fresh zone: order-10 block at PFN 0 split down to order 4; the caller gets PFN 0
    assert c.pfn == 0
    # pages 9..15 freed one by one: 9 stays alone (buddy 8 is kept), 10+11 -> order 1,
    # 12+13 -> order 1, 14+15 -> order 1 which merges with 12 -> order 2 at 12
    assert c.tail_blocks == ((9, 0), (10, 1), (12, 2))
    merges = [(e.pfn, e.order) for e in c.trim_events if e.kind == "merge"]
    assert merges == [(10, 0), (12, 0), (14, 0), (12, 1)]
    assert [e.pfn for e in c.trim_events if e.kind == "free"] == list(range(9, 16))
    assert all(e.to_tail for e in c.trim_events if e.kind == "give")          # FPI_TO_TAIL
    # alloc_pages: one block of each order 4..9 left; exact: plus the three tail blocks
    assert list(c.nr_free_pages) == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0]
    assert list(c.nr_free_exact) == [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0]
    assert list(c.nr_free_fresh) == FRESH_1024
    text = format_comparison(c)
    for needle in ("33792 bytes", "get_order = 4", "16 pages", "9 pages", "9:0, 10:1, 12:2"):
        assert needle in text
    assert max(len(line) for line in text.splitlines()) <= 66


def test_one_byte_is_one_page_with_either_call():
    c = exact_vs_pages(1)
    assert (c.order, c.nr_pages, c.given_back, c.tail_blocks) == (0, 1, 0, ())
    assert c.unused_bytes_pages == c.unused_bytes_exact == 4095
    assert c.nr_free_exact == c.nr_free_pages == (1,) * 10 + (0,)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 6, 7, 8, 9, 100, 513, 1023, 1024])
def test_exact_page_multiples(k):
    c = exact_vs_pages(k * 4096)
    order = (k - 1).bit_length()                # ceil(log2 k)
    assert (c.order, c.nr_pages, c.given_back) == (order, k, (1 << order) - k)
    assert c.unused_bytes_exact == 0
    # the given-back tail forms exactly the aligned decomposition of [k, 2^order)
    assert list(c.tail_blocks) == aligned_decomposition(k, 1 << order)
    if (1 << order) == k:                       # power of two: nothing to give back
        assert c.nr_free_exact == c.nr_free_pages
    free_exact = sum(n << o for o, n in enumerate(c.nr_free_exact))
    free_pages = sum(n << o for o, n in enumerate(c.nr_free_pages))
    assert (free_exact, free_pages) == (1024 - k, 1024 - (1 << order))


def test_slider_ends():
    lo = exact_vs_pages(1 * KiB)
    assert (lo.order, lo.nr_pages, lo.given_back, lo.unused_bytes_exact) == (0, 1, 0, 3 * KiB)
    hi = exact_vs_pages(4096 * KiB)             # the whole MAX_PAGE_ORDER block
    assert (hi.order, hi.nr_pages, hi.given_back) == (10, 1024, 0)
    assert hi.nr_free_pages == hi.nr_free_exact == (0,) * 11
    with pytest.raises(InvalidOrderError):
        exact_vs_pages(4096 * KiB + 1)
    for bad in (0, -5, 1.5, True):
        with pytest.raises(InvalidSizeError):
            exact_vs_pages(bad)


def test_free_pages_exact_recoalesces_to_a_fresh_zone():
    z = Zone(1024)
    addr = alloc_pages_exact(z, 33 * KiB)
    assert z.free_pages_count() == 1024 - 9
    free_pages_exact(z, addr, 33 * KiB)
    assert z.nr_free() == FRESH_1024


def test_exact_figure_and_format_for_large_size():
    c = exact_vs_pages(3 * 1024 * KiB + 5)      # 769 pages of an order-10 block
    assert (c.order, c.nr_pages, c.given_back) == (10, 769, 255)
    assert list(c.tail_blocks) == aligned_decomposition(769, 1024)
    fig = exact_vs_pages_figure(c)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["alloc_pages_exact", "alloc_pages"]
    assert "769" in ax.get_title() and "255" in ax.get_title()
    assert ax.get_xlabel().startswith("page index")


def test_widget_builds_over_the_plain_functions():
    from kmemlib.lessons.widgets.page_api import MAX_KIB, exact_vs_pages_widget
    w = exact_vs_pages_widget(33)
    slider = w.children[0].children[0]
    values = [v for _, v in slider.options]
    assert (values[0], values[-1], slider.value) == (1, MAX_KIB, 33)
    assert MAX_KIB == 4096


# ============================================================== chapter 4: GFP flags
def test_gfp_rows_zone_migratetype_sleep_reserves():
    rows = {r.name: r for r in gfp_rows({
        "GFP_KERNEL": gfp.GFP_KERNEL, "GFP_ATOMIC": gfp.GFP_ATOMIC, "GFP_NOWAIT": gfp.GFP_NOWAIT,
        "GFP_KERNEL | __GFP_ZERO": gfp.GFP_KERNEL | gfp.__GFP_ZERO,
        "GFP_KERNEL | __GFP_DMA": gfp.GFP_KERNEL | gfp.__GFP_DMA,
        "GFP_DMA32": gfp.GFP_DMA32,
        "GFP_HIGHUSER_MOVABLE": gfp.GFP_HIGHUSER_MOVABLE,
        "GFP_KERNEL | __GFP_RECLAIMABLE": gfp.GFP_KERNEL | gfp.__GFP_RECLAIMABLE})}
    k = rows["GFP_KERNEL"]
    assert (k.zone, k.migratetype, k.can_sleep, k.zeroed, k.reserves) == ("Normal", "Unmovable", True, False, "min")
    a = rows["GFP_ATOMIC"]
    assert (a.zone, a.can_sleep, a.reserves) == ("Normal", False, "3/8 of min")
    assert rows["GFP_NOWAIT"].reserves == "min" and not rows["GFP_NOWAIT"].can_sleep
    assert rows["GFP_KERNEL | __GFP_ZERO"].zeroed
    assert rows["GFP_KERNEL | __GFP_DMA"].zone == "DMA"
    assert rows["GFP_DMA32"].zone == "DMA32"
    m = rows["GFP_HIGHUSER_MOVABLE"]
    assert (m.zone, m.migratetype) == ("Movable", "Movable")
    assert rows["GFP_KERNEL | __GFP_RECLAIMABLE"].migratetype == "Reclaimable"


def test_atomic_reserve_label_matches_watermark_check():
    # min 800: __GFP_HIGH halves it (400), non-blocking takes a quarter of that off (300)
    z = Zone(1024)
    flags = ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK
    assert wm.zone_watermark_ok_free(z, 0, 800, 2, flags, 301)
    assert not wm.zone_watermark_ok_free(z, 0, 800, 2, flags, 300)
    assert 800 * 3 // 8 == 300


# ============================================================== chapter 6: the workload
@pytest.fixture(scope="module")
def run():
    return fragmenting_workload()


def test_workload_leaves_much_free_memory_but_no_high_order_block(run):
    z = run.zone
    assert run.nr_free_before == [0] * 10 + [8]           # 8192 pages = 8 order-10 blocks
    assert run.free_pages >= 0.6 * z.nr_pages             # plenty free ...
    assert all(c == 0 for c in run.nr_free_after[5:])      # ... but nothing of order >= 5
    assert run.largest_free_order == 4
    assert run.free_pages == sum(c << o for o, c in enumerate(run.nr_free_after)) == z.free_pages_count()
    kept_pages = sum(1 << o for _p, o, _mt in run.kept)
    assert run.free_pages + kept_pages == z.nr_pages
    assert run.nr_allocs == len(run.kept) + run.nr_frees
    assert sum(run.nr_free_filled) == 0                    # fill=1.0 used every page


def test_watermark_check_fails_at_order_5_and_passes_at_order_0(run):
    z = run.zone
    for mark in (z.wmark_min, z.wmark_low, z.wmark_high):
        assert run.free_pages > mark + 4 * 512             # far above every watermark
        assert wm.zone_watermark_ok(z, 0, mark)
        assert wm.zone_watermark_ok(z, 4, mark)
        assert not wm.zone_watermark_ok(z, 5, mark)
        assert not wm.zone_watermark_ok(z, 10, mark)
    assert z.alloc_pages(5) is None                        # and the allocator agrees


def test_simulated_zone_watermarks_by_hand(run):
    z = run.zone
    # 8192 pages = 32768 KiB; int_sqrt(32768*16) = 724 KiB -> pages_min = 181;
    # step = max(181 >> 2, 8192*10/10000) = 45 -> min 181, low 226, high 271, promo 316
    assert run.min_free_kbytes == isqrt(32768 * 16) == 724
    boost = z.watermark_boost
    assert (z.wmark_min - boost, z.wmark_low - boost, z.wmark_high - boost, z.wmark_promo - boost) == \
        (181, 226, 271, 316)
    # the unmovable requests fell back to movable pageblocks (boost_watermark): one pageblock,
    # since max_boost = max(512, 271*15000/10000 = 406)
    assert boost == 512


def test_workload_is_deterministic_and_seed_dependent(run):
    again = fragmenting_workload()
    assert again.nr_free_after == run.nr_free_after and again.kept == run.kept
    other = fragmenting_workload(seed=2)
    assert other.kept != run.kept


def test_workload_rejects_bad_parameters():
    for kw in ({"keep": 1.5}, {"fill": -0.1}, {"unmovable_share": "x"}, {"nr_pages": 0},
               {"seed": 1.0}):
        with pytest.raises(InvalidSizeError):
            fragmenting_workload(**kw)
    with pytest.raises(InvalidOrderError):
        fragmenting_workload(max_unmovable_order=11)


@pytest.mark.parametrize("keep,order", [(0.05, 0), (0.05, 10), (0.95, 0), (0.95, 10), (0.3, 5)])
def test_summary_at_widget_ends(keep, order):
    r = fragmenting_workload(keep=keep)
    s = summarize(r.zone, order)
    row = r.nr_free_after
    assert s.free_pages == sum(c << o for o, c in enumerate(row))
    # order 0: only the free-pages test, free - 0 > low
    assert s.order0_ok == (s.free_pages > r.zone.wmark_low)
    has_block = any(row[order:])
    assert s.order_ok == (s.free_pages - ((1 << order) - 1) > r.zone.wmark_low and has_block)
    assert (s.fragmentation_index == -1000) == has_block
    text = format_summary(s)
    assert f"order {order}" in text and str(s.free_pages) in text
    if keep == 0.95:                       # ~5 % free: below the (boosted) low watermark
        assert not s.order0_ok and "FAILS" in text
    if keep == 0.05 and order == 0:
        assert s.order0_ok


def test_widget_for_the_workload_builds():
    from kmemlib.lessons.widgets.fragmentation import workload_widget
    w = workload_widget()
    keep_s, order_s = w.children[0].children
    keeps = [v for _, v in keep_s.options]
    assert (keep_s.value, order_s.value, keeps[0], keeps[-1], order_s.max) == (0.3, 5, 0.05, 0.95, 10)


# ============================================================== chapter 6: indices
def test_index_table_hand_cases():
    # spec example: buddyinfo [10, 0, 0, 0] at order 3 -> fragmentation 1000 - (1000 + 10*1000/8)/10 = 775
    t = index_table([10, 0, 0, 0])
    assert t[3]["fragmentation"] == 775 and t[3]["unusable"] == 1000
    assert t[0]["fragmentation"] == -1000 and t[0]["unusable"] == 0
    # [2, 1, 1, 0]: free = 2 + 2 + 4 = 8 pages, 4 blocks
    t = index_table([2, 1, 1, 0])
    assert [r["unusable"] for r in t] == [0, (8 - 3 * 2) * 1000 // 8, (8 - 4) * 1000 // 8, 1000]
    assert [r["fragmentation"] for r in t] == [-1000, -1000, -1000, 1000 - (1000 + 8 * 1000 // 8) // 4]
    assert [r["extfrag"] for r in t] == [0, 25, 50, 100]
    assert index_table([0, 0, 0])[1] == {"order": 1, "unusable": 1000, "fragmentation": 0, "extfrag": 0}


def test_indices_of_the_workload_by_hand(run):
    row = run.nr_free_after
    free = sum(c << o for o, c in enumerate(row))
    blocks = sum(row)
    t = index_table(row)
    for o in range(5, 11):                                  # nothing suitable
        assert t[o]["unusable"] == 1000
        assert t[o]["fragmentation"] == 1000 - (1000 + free * 1000 // (1 << o)) // blocks
    for o in range(0, 5):
        assert t[o]["fragmentation"] == -1000
        suitable = sum(c << (k - o) for k, c in enumerate(row) if k >= o)
        assert t[o]["unusable"] == (free - (suitable << o)) * 1000 // free


def test_snapshot_indices_and_figures():
    from kmemlib.readers.procfs import read_buddyinfo
    rows = {r.zone: r.nr_free for r in read_buddyinfo(snapshot_dir())}
    t = index_table(rows["Normal"])
    assert t[10]["fragmentation"] == -1000          # the snapshot has order-10 blocks free
    assert all(0 <= r["unusable"] <= 1000 for r in t)
    assert [r["unusable"] for r in t] == sorted(r["unusable"] for r in t)   # grows with order
    assert free_bytes_by_order([1, 1], 12) == [4096, 8192]
    for fig in (free_by_order_figure(rows), index_figure(rows), page_map_figure({"x": [0, 1, 2, 0] * 256})):
        assert isinstance(fig, Figure)
        for ax in fig.axes:
            if ax.get_label() != "<colorbar>":
                assert ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(InvalidSizeError):
        free_by_order_figure({"a": [1, 2], "b": [1]})
    with pytest.raises(InvalidSizeError):
        free_by_order_figure(rows, unit="TiB")


# ============================================================== chapter 5: watermarks of a machine
def _check_zoneinfo_watermarks(root):
    zones = [z for z in read_zoneinfo(root) if z.node == 0]
    mfk = read_min_free_kbytes(root)
    assert mfk is not None
    marks = wm.compute_wmarks([z.managed for z in zones], mfk,
                              zone_idx=list(range(len(zones))))
    for z, (wmin, low, high, promo) in zip(zones, marks):
        if z.managed:
            assert (z.min - z.boost, z.low - z.boost, z.high - z.boost) == (wmin, low, high), z.name
            if z.promo is not None:
                assert z.promo - z.boost == promo


def test_snapshot_watermarks_recomputed_from_min_free_kbytes():
    _check_zoneinfo_watermarks(snapshot_dir())


@pytest.mark.live
def test_live_watermarks_recomputed_from_min_free_kbytes():
    if not Path("/proc/zoneinfo").is_file() or not Path("/proc/sys/vm/min_free_kbytes").is_file():
        pytest.skip("no /proc/zoneinfo on this machine")
    _check_zoneinfo_watermarks("/")


# ============================================================== chapter 6: page maps, compaction sketch
def test_nr_free_from_page_map_hand_cases():
    F, M = PAGE_FREE, PAGE_MOVABLE
    assert nr_free_from_page_map([F] * 8, max_page_order=3) == [0, 0, 0, 1]
    assert nr_free_from_page_map([F, F, F, F, M, F, F, F], max_page_order=3) == [1, 1, 1, 0]
    assert nr_free_from_page_map([F] * 16, max_page_order=2) == [0, 0, 4]      # capped at MAX
    assert nr_free_from_page_map([F, F], start_pfn=1, max_page_order=3) == [2, 0, 0, 0]  # 1, 2 unaligned


def test_page_map_agrees_with_the_zone(run):
    pages = page_map(run.zone)
    assert pages.count(PAGE_FREE) == run.free_pages
    # __free_one_page always merges free buddies, so the zone's free lists are the maximal
    # aligned decomposition of its free pages
    assert nr_free_from_page_map(pages) == run.nr_free_after


def test_compaction_sketch(run):
    before_zone = run.zone.snapshot()
    sk = compaction_sketch(run.zone)
    assert run.zone.snapshot() == before_zone                  # the zone is not touched
    b, a = sk.before, sk.after
    for state in (PAGE_FREE, PAGE_MOVABLE, PAGE_UNMOVABLE):
        assert a.count(state) == b.count(state)
    assert all((x == PAGE_UNMOVABLE) == (y == PAGE_UNMOVABLE) for x, y in zip(a, b))
    free_idx = [i for i, v in enumerate(a) if v == PAGE_FREE]
    mov_idx = [i for i, v in enumerate(a) if v == PAGE_MOVABLE]
    assert max(free_idx) < min(mov_idx)                        # scanners met: movable all on top
    assert len(sk.moves) == sum(1 for i in range(len(b)) if b[i] == PAGE_MOVABLE and a[i] == PAGE_FREE)
    assert all(b[f] == PAGE_MOVABLE and a[t] == PAGE_MOVABLE and b[t] == PAGE_FREE for f, t in sk.moves)
    assert sk.nr_free_before == run.nr_free_after
    assert sum(c << o for o, c in enumerate(sk.nr_free_after)) == run.free_pages
    assert sk.nr_free_after[10] >= 1                           # order-10 blocks again


# ============================================================== chapter 5: the check on a drained zone
def test_zone_just_above_low_fails_high_orders_on_the_free_pages_test():
    """The watermarks chapter: 20 pages above low, orders 0-4 pass (2^4 - 1 = 15 < 20) and order 5 fails the
    free-pages test although a larger free block exists; 100 pages above low (its exercise) passes up to order 6."""
    for margin, top in ((20, 4), (100, 6)):
        z = Zone(8192)
        wm.setup_per_zone_wmarks([z], wm.calculate_min_free_kbytes(8192 * 4))
        assert (z.wmark_min, z.wmark_low) == (181, 226)
        while z.free_pages_count() > z.wmark_low + margin:
            assert z.alloc_pages(0, gfp.GFP_KERNEL) is not None
        ok = [o for o in range(11) if wm.zone_watermark_ok(z, o, z.wmark_low)]
        assert ok == list(range(top + 1))
        assert max(o for o, c in enumerate(z.nr_free()) if c) > top + 1      # a block is there: test 1 fails


def test_gfp_atomic_floor_on_the_32_mib_zone():
    """min 181: GFP_ATOMIC's mark is 181 - 90 = 91, minus 91 // 4 = 22: 69; it passes at 70 free pages."""
    z = Zone(8192)
    wm.setup_per_zone_wmarks([z], wm.calculate_min_free_kbytes(8192 * 4))
    flags = ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK
    assert wm.zone_watermark_ok_free(z, 0, z.wmark_min, z.zone_idx, flags, 70)
    assert not wm.zone_watermark_ok_free(z, 0, z.wmark_min, z.zone_idx, flags, 69)
