"""Part I, chapters 1-3: the plain functions behind the figures and widgets.

Expected values are worked out by hand from the kernel's rules (get_order() = fls64((size-1) >> 12),
expand() keeps the low half and puts the upper half on the list head, __free_one_page() merges with
buddy = pfn ^ (1 << order)), not read back from the implementation.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

from kmemlib.errors import BadFreeError, InvalidOrderError, InvalidSizeError
from kmemlib.lessons.plots import buddy as pb
from kmemlib.lessons.plots import pages as pp
from kmemlib.readers.procfs import read_buddyinfo, read_zoneinfo
from kmemlib.readers.snapshots import snapshot_dir
from kmemlib.lessons.widgets import buddy as wb
from kmemlib.lessons.widgets import order as wo

KiB, MiB = 1024, 1024 * 1024


# ---------------------------------------------------------------------------------------------- chapter 2
@pytest.mark.parametrize("size, order, given, wasted, fits", [
    (1, 0, 4096, 4095, True),                  # slider's low end
    (4096, 0, 4096, 0, True),                  # exactly one page
    (4097, 1, 8192, 4095, True),               # one byte more: two pages
    (132 * KiB, 6, 256 * KiB, 124 * KiB, True),  # 33 pages -> next power of two is 64
    (4 * MiB, 10, 4 * MiB, 0, True),           # the largest block (MAX_PAGE_ORDER 10)
    (4 * MiB + 1, 11, 8 * MiB, 4 * MiB - 1, False),
    (8 * MiB, 11, 8 * MiB, 0, False),          # slider's high end: above MAX_PAGE_ORDER
])
def test_order_cost_control_values(size, order, given, wasted, fits):
    c = pp.order_cost(size)
    assert (c.order, c.bytes_given, c.wasted, c.fits) == (order, given, wasted, fits)
    assert c.pages == 1 << order
    assert c.pages_needed == math.ceil(size / 4096)
    assert c.waste_pct_of_request == pytest.approx(100 * wasted / size)
    assert c.waste_pct_of_allocation == pytest.approx(100 * wasted / given)


def test_order_cost_132k_percentages():
    c = pp.order_cost(132 * KiB)
    # 124/132 of the request, 124/256 of the block
    assert c.waste_pct_of_request == pytest.approx(100 * 124 / 132)
    assert c.waste_pct_of_allocation == pytest.approx(48.4375)


def test_order_cost_other_page_size_and_max_order():
    c = pp.order_cost(132 * KiB, page_shift=14, max_page_order=3)   # 16 KiB pages: 9 pages -> order 4
    assert (c.order, c.bytes_given, c.fits) == (4, 256 * KiB, False)


@pytest.mark.parametrize("bad", [0, -1])
def test_order_cost_rejects_bad_sizes(bad):
    with pytest.raises(InvalidSizeError):
        pp.order_cost(bad)


def test_order_cost_text_mentions_failure_only_above_max():
    assert "NULL" in pp.order_cost_text(pp.order_cost(8 * MiB))
    assert "NULL" not in pp.order_cost_text(pp.order_cost(4 * MiB))
    text = pp.order_cost_text(pp.order_cost(132 * KiB))
    assert "get_order()     : 6" in text and "48.44 %" in text and "93.94 %" in text


@pytest.mark.parametrize("n, label", [(1, "1 B"), (4096, "4 KiB"), (4097, "4097 B"), (132 * KiB, "132 KiB"),
                                      (1536 * KiB, "1.5 MiB"), (8 * MiB, "8 MiB"), (3 * 1024 ** 3, "3 GiB")])
def test_fmt_bytes(n, label):
    assert pp.fmt_bytes(n) == label


def test_size_choices_log_spaced_with_control_values():
    choices = pp.size_choices()
    values = [v for _, v in choices]
    assert values[0] == 1 and values[-1] == 8 * MiB
    assert values == sorted(set(values))
    for v in (4096, 4097, 132 * KiB, 4 * MiB):
        assert v in values
    assert all(b / a <= 2 for a, b in zip(values, values[1:]))          # never skips an octave
    assert all(1 << k in values for k in range(24))                     # every power of two
    assert dict((v, lab) for lab, v in choices)[132 * KiB] == "132 KiB"
    with pytest.raises(InvalidSizeError):
        pp.size_choices(0, 10)


def test_sweep_sizes_and_waste_pattern():
    sizes = pp.sweep_sizes(1, 8 * MiB, 16)
    costs = pp.order_sweep(sizes)
    for c in costs:
        assert 0 <= c.waste_pct_of_allocation < 100
        if c.size >= 4096:
            assert c.waste_pct_of_allocation < 50          # at most just under half the block
    # the sawtooth: waste is 0 at every power of two from a page up, just under 50 % one byte later
    by_size = {c.size: c for c in costs}
    for k in range(12, 23):
        assert by_size[1 << k].wasted == 0
        assert by_size[(1 << k) + 1].waste_pct_of_allocation == pytest.approx(50, abs=0.03)


def test_figures_for_chapter2():
    fig = pp.waste_sweep_figure()
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert "% of the allocation" in fig.axes[1].get_ylabel()
    for size in (1, 4096, 4097, 132 * KiB, 8 * MiB):
        f = pp.order_cost_figure(size)
        title = f.axes[0].get_title()
        assert f"order {pp.order_cost(size).order}" in title
        assert ("NULL" in title) == (size == 8 * MiB)


def test_max_order_history():
    rows = {r["version"]: r for r in pp.max_order_history()}
    assert (rows["6.3"]["macro"], rows["6.3"]["value"], rows["6.3"]["meaning"]) == ("MAX_ORDER", 11, "exclusive")
    assert (rows["6.4"]["macro"], rows["6.4"]["value"], rows["6.4"]["meaning"]) == ("MAX_ORDER", 10, "inclusive")
    assert (rows["6.8"]["macro"], rows["6.8"]["value"]) == ("MAX_PAGE_ORDER", 10)
    # the same allocator in every version: orders 0..10, 11 columns in /proc/buddyinfo, 4 MiB blocks
    assert {(r["largest_order"], r["free_areas"], r["largest_block"]) for r in rows.values()} == {(10, 11, "4 MiB")}


def test_show_order_cost_prints_for_slider_ends(capsys):
    for size in (1, 8 * MiB):
        wo.show_order_cost(size)
    out = capsys.readouterr().out
    assert "request         : 1 bytes" in out and "order 11 > MAX_PAGE_ORDER 10" in out


def test_order_widget_controls():
    w = wo.order_widget()
    slider = w.children[0].children[0]
    assert slider.value == 132 * KiB
    assert slider.options[0][1] == 1 and slider.options[-1][1] == 8 * MiB
    w2 = wo.order_widget(default=12345)                 # a size not on the grid is added
    assert w2.children[0].children[0].value == 12345


# ---------------------------------------------------------------------------------------------- chapter 1
def test_address_rows():
    rows = pp.address_rows([0, 1, 0x100000])
    assert [r.phys for r in rows] == [0, 4096, 1 << 32]
    assert rows[1].virt == 0xFFFF_8880_0000_1000         # PAGE_OFFSET + 4 KiB
    assert rows[2].virt - rows[0].virt == 4 * 1024 ** 3


def test_zone_rows_snapshot_x86_boundaries():
    rows = pp.zone_rows(read_zoneinfo(snapshot_dir()))
    by = {r.name: r for r in rows}
    assert set(by) == {"DMA", "DMA32", "Normal"}          # Movable/Device are unpopulated
    assert by["DMA"].end_pfn == (16 * MiB) >> 12          # MAX_DMA_PFN: below 16 MiB
    assert by["DMA32"].start_pfn == by["DMA"].end_pfn
    assert by["DMA32"].end_pfn == (4 * 1024 * MiB) >> 12  # MAX_DMA32_PFN: below 4 GiB
    assert by["Normal"].start_pfn == by["DMA32"].end_pfn
    for r in rows:
        assert r.managed <= r.present <= r.spanned
    fig = pp.zone_map_figure(rows)
    assert fig.axes[0].get_xlabel() == "physical address (GiB)"


def test_buddyinfo_figure_snapshot():
    rows = read_buddyinfo(snapshot_dir())
    fig = pp.buddyinfo_figure(rows)
    assert len(fig.axes[0].get_xticks()) == 11
    with pytest.raises(InvalidSizeError):
        pp.buddyinfo_figure([])


def test_zone_map_figure_labels_every_zone_once():
    rows = pp.zone_rows(read_zoneinfo(snapshot_dir()))
    fig = pp.zone_map_figure(rows)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for r in rows:
        assert sum(t.startswith(r.name + "\n") for t in texts) == 1
    with pytest.raises(InvalidSizeError):
        pp.zone_map_figure([])


def test_html_table_escape_caption_align():
    t = pp.html_table(["a", "b<"], [[1, "x&y"]], caption="c<d")
    assert "b&lt;" in t and "x&amp;y" in t and "<caption>c&lt;d</caption>" in t
    raw = pp.html_table(["mask"], [["<code>GFP_KERNEL</code>"]], escape=False)
    assert "<td style=\"text-align:right;white-space:nowrap\"><code>GFP_KERNEL</code></td>" in raw
    with pytest.raises(InvalidSizeError):
        pp.html_table(["a", "b"], [[1]])
    with pytest.raises(InvalidSizeError):
        pp.html_table(["a"], [[1]], align="c")


def test_buddyinfo_table_snapshot():
    rows = read_buddyinfo(snapshot_dir())
    t = pp.buddyinfo_table(rows)
    # one header cell per order (11 on x86-64) plus the zone column; one body row per zone
    assert t.count("<th style") == 12
    assert t.count("<tr>") == len(rows) + 1
    for r in rows:
        assert f"{r.node}, {r.zone}" in t
    with pytest.raises(InvalidSizeError):
        pp.buddyinfo_table([])


@pytest.mark.live
def test_buddyinfo_figure_live():
    if not Path("/proc/buddyinfo").is_file() or not Path("/proc/zoneinfo").is_file():
        pytest.skip("no /proc/buddyinfo here")
    assert isinstance(pp.buddyinfo_figure(read_buddyinfo("/")), Figure)
    assert pp.zone_rows(read_zoneinfo("/"))


# ---------------------------------------------------------------------------------------------- chapter 3
# Hand-worked state after each call of DEMO_SCRIPT on 64 pages, max order 5 (two order-5 blocks at boot):
DEMO_EXPECTED = [
    # alloc 2: 0/5 -> split 16/4, 8/3, 4/2; A = 0
    ({"A": (0, 2)}, [(4, 2), (8, 3), (16, 4), (32, 5)], [0, 0, 1, 1, 1, 1]),
    # alloc 0: smallest list is [2] = 4 -> split 6/1, 5/0; B = 4
    ({"A": (0, 2), "B": (4, 0)}, [(5, 0), (6, 1), (8, 3), (16, 4), (32, 5)], [1, 1, 0, 1, 1, 1]),
    # alloc 3: list [3] = 8, no split; C = 8
    ({"A": (0, 2), "B": (4, 0), "C": (8, 3)}, [(5, 0), (6, 1), (16, 4), (32, 5)], [1, 1, 0, 0, 1, 1]),
    # alloc 1: list [1] = 6; D = 6
    ({"A": (0, 2), "B": (4, 0), "C": (8, 3), "D": (6, 1)}, [(5, 0), (16, 4), (32, 5)], [1, 0, 0, 0, 1, 1]),
    # free A: buddy 0^4 = 4 is allocated (B) -> no merge
    ({"B": (4, 0), "C": (8, 3), "D": (6, 1)}, [(0, 2), (5, 0), (16, 4), (32, 5)], [1, 0, 1, 0, 1, 1]),
    # free B: buddy 5 free at 0 -> 4/1; buddy 6 is D -> stop
    ({"C": (8, 3), "D": (6, 1)}, [(0, 2), (4, 1), (16, 4), (32, 5)], [0, 1, 1, 0, 1, 1]),
    # free D: 6^2 = 4 free/1 -> 4/2; 4^4 = 0 free/2 -> 0/3; 0^8 = 8 is C -> stop
    ({"C": (8, 3)}, [(0, 3), (16, 4), (32, 5)], [0, 0, 0, 1, 1, 1]),
    # free C: 8^8 = 0 free/3 -> 0/4; 0^16 = 16 free/4 -> 0/5 = max order -> stop
    ({}, [(0, 5), (32, 5)], [0, 0, 0, 0, 0, 2]),
]
# events per call: alloc: 1 + take + (source order - order) splits + allocated; free: free + merges + give
DEMO_EVENTS = [1 + 1 + 3 + 1, 1 + 1 + 2 + 1, 3, 3, 2, 3, 4, 4]


def test_stepper_initial_state():
    st = pb.BuddyStepper(64, 5)
    f = st.frames()
    assert len(f) == 1 and f[0].free_blocks == ((0, 5), (32, 5)) and f[0].nr_free == (0, 0, 0, 0, 0, 2)
    st48 = pb.BuddyStepper(48, 4)
    assert st48.frames()[0].free_blocks == ((0, 4), (16, 4), (32, 4))
    st100 = pb.BuddyStepper(100, 5)                        # boot: 3 x 32 pages + 4 pages
    assert st100.frames()[0].free_blocks == ((0, 5), (32, 5), (64, 5), (96, 2))


def test_stepper_each_step_of_demo_script():
    st = pb.BuddyStepper(64, 5)
    for k, (step, (live, free, nr)) in enumerate(zip(pb.DEMO_SCRIPT, DEMO_EXPECTED)):
        st.run([step])
        assert st.live() == live, k
        assert [(p, o) for p, o, _ in st.zone.free_blocks()] == free, k
        assert st.zone.nr_free() == nr, k
        frames = st.frames()
        last = frames[st.op_frames()[-1]]
        assert list(last.free_blocks) == free and list(last.nr_free) == nr
        assert last.buddyinfo.split()[4:] == [str(c) for c in nr]
    assert [len(op.events) for op in st.ops] == DEMO_EVENTS


def test_demo_frames_invariants():
    st = pb.BuddyStepper(64, 5)
    st.run(pb.DEMO_SCRIPT)
    frames = st.frames()
    assert len(frames) == 1 + sum(DEMO_EVENTS)
    prev = None
    for f in frames:
        # every page is free, allocated, or held by the call in progress - exactly once
        pages = [p for b, o in f.free_blocks for p in range(b, b + (1 << o))]
        pages += [p for b, o, _ in f.allocated for p in range(b, b + (1 << o))]
        if f.in_flight:
            pages += list(range(f.in_flight[0], f.in_flight[0] + (1 << f.in_flight[1])))
        assert sorted(pages) == list(range(64)), f.index
        if f.event is not None and f.event.kind == "merge":
            cur_pfn, cur_order = prev.in_flight
            assert f.event.order == cur_order and f.event.pfn == cur_pfn ^ (1 << cur_order)
            assert f.in_flight == (cur_pfn & f.event.pfn, cur_order + 1)
        if f.event is not None and f.event.kind == "split":
            assert f.event.pfn == f.in_flight[0] + (1 << f.event.order)   # the upper half goes to the list
            assert f.free_lists[f.event.order][0] == f.event.pfn          # ... at its head
        prev = f
    assert frames[-1].free_blocks == frames[0].free_blocks


def test_give_placement_head_or_tail():
    """buddy_merge_likely(): the freed block goes to the list tail when its parent's buddy is free."""
    st = pb.BuddyStepper(64, 5)
    st.run(pb.DEMO_SCRIPT)
    gives = [(f.event.pfn, f.event.order, f.event.to_tail) for f in st.frames()
             if f.event is not None and f.event.kind == "give"]
    assert gives == [
        (0, 2, False),   # free A: parent 0/3's buddy 8 is C (allocated) -> head
        (4, 1, True),    # free B: parent 4/2's buddy 0 is free at order 2 -> tail
        (0, 3, True),    # free D: parent 0/4's buddy 16 is free at order 4 -> tail
        (0, 5, False),   # free C: order >= max_page_order - 1 -> never "likely" -> head
    ]


def test_captions_name_kernel_functions():
    st = pb.BuddyStepper(64, 5)
    st.run(pb.DEMO_SCRIPT)
    caps = {f.event.kind: f.caption for f in st.frames() if f.event is not None}
    assert caps["take"].startswith("__rmqueue_smallest")
    assert caps["split"].startswith("expand")
    assert caps["merge"].startswith("__free_one_page")
    assert "max_page_order" in caps["give"]                # the last give stops at the maximum order
    assert "8 ^ 8 = 0" in st.frames()[28].caption


def test_stepper_back_and_reset():
    st = pb.BuddyStepper(64, 5)
    st.run(pb.DEMO_SCRIPT[:4])
    fp4 = st.zone.fingerprint()
    n4 = len(st.frames())
    st.run(pb.DEMO_SCRIPT[4:])
    for _ in range(4):
        assert st.back()
    assert st.zone.fingerprint() == fp4 and len(st.frames()) == n4
    assert st.live() == DEMO_EXPECTED[3][0]
    st.reset()
    assert not st.back()
    assert st.zone.fingerprint() == pb.BuddyStepper(64, 5).zone.fingerprint()
    st.alloc(0)                                           # names restart after undo
    assert list(st.live()) == ["A"]


def test_stepper_failure_and_errors():
    st = pb.BuddyStepper(32, 3)                           # four order-3 blocks
    for _ in range(4):
        assert st.alloc(3) is not None
    before = st.zone.fingerprint()
    assert st.alloc(0) is None                            # out of memory is a result, not an error
    assert st.zone.fingerprint() == before
    assert list(st.live()) == ["A", "B", "C", "D"]        # a failed request takes no name
    assert st.frames()[-1].event.kind == "fail"
    with pytest.raises(BadFreeError):
        st.free("Z")
    with pytest.raises(InvalidOrderError):
        st.alloc(4)
    assert st.zone.fingerprint() == before
    assert pb.block_name(0) == "A" and pb.block_name(25) == "Z" and pb.block_name(26) == "A1"


def test_frame_figures_and_animation():
    st = pb.BuddyStepper(64, 5)
    st.run(pb.DEMO_SCRIPT)
    frames = st.frames()
    fig = pb.frame_figure(frames[24])
    assert "step 24" in fig.axes[0].get_title(loc="left")
    assert isinstance(pb.frames_figure(frames, [0, *st.op_frames()]), Figure)
    anim = pb.buddy_animation(frames, dpi=40)
    assert isinstance(anim, FuncAnimation)
    html = anim.to_jshtml()
    assert len(re.findall(r"frames\[\d+\] = ", html)) == len(frames) == 31
    # after the last frame is drawn, the picture is the final state: two free order-5 blocks, no allocation
    bar = anim._kmem_fig.axes[0]
    assert sorted(t.get_text() for t in bar.texts) == ["o5", "o5"]
    assert frames[-1].allocated == ()


def test_event_table_rows():
    st = pb.BuddyStepper(64, 5)
    st.run(pb.DEMO_SCRIPT[:1])
    rows = pb.event_table(st.frames())
    assert [r["event"] for r in rows] == ["start", "alloc", "take", "split", "split", "split", "allocated"]
    assert [r["pfn"] for r in rows[3:6]] == [16, 8, 4]


def test_call_log_and_widget():
    st = pb.BuddyStepper(64, 5)
    st.run(pb.DEMO_SCRIPT[:4])
    frames = st.frames()
    log = wb.call_log(st, frames, len(frames) - 1)
    assert ">  17  caller gets PFN 6..7 (order 1) = D" in log
    assert "D=PFN 6 (order 1)" in log
    # the log fits the book's column (its <pre> box shows about 70 characters)
    assert max(len(line) for line in log.splitlines()) <= 68
    w = wb.buddy_widget(script=pb.DEMO_SCRIPT[:4])
    (zone_row, action_row, step_row, _msg, _note, _out) = w.children
    order_dd, alloc_btn, free_dd, free_btn = action_row.children
    step = step_row.children[1]
    assert step.max == len(frames) - 1 == step.value
    assert [v for _, v in free_dd.options] == ["A", "B", "C", "D"]
    free_dd.value = "D"
    free_btn.click()                                       # free D: buddy 6 ^ 2 = 4 is B -> no merge
    assert step.max == len(frames) - 1 + 2
    order_dd.value = 5
    alloc_btn.click()                                      # takes 32/5
    assert [v for _, v in free_dd.options] == ["A", "B", "C", "E"]
    zone_row.children[2].click()                           # undo
    zone_row.children[0].value = (48, 4)                   # new geometry resets the zone
    assert step.max == 0 and free_dd.options == ()
