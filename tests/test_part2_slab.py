"""Tests for the Part II chapters 4-6 helpers: custom cache design, merging, struct tuning, live usage,
the call-site workload, the vmalloc/kvmalloc cost model and the API decision function.

Expected values are worked by hand from the kernel formulas (kernel-facts.md §1-§4; mm/slub.c
calculate_sizes/calculate_order, mm/vmalloc.c __vmalloc_node_range_noprof, mm/util.c
__kvmalloc_node_noprof, Linux 6.12) — see the comment above each case.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib.figure import Figure

from kmemlib.errors import InvalidSizeError
from kmemlib.mm.pages import PAGE_SIZE
from kmemlib.lessons.plots import slab as plots
from kmemlib.lessons.slab_design import (OPTIONS, design_cache, flag_effects, kmalloc_class, merge_demo, slab_flags_for,
                                 struct_tuning, summarize)
from kmemlib.mm.slab_flags import SLAB_HWCACHE_ALIGN, SLAB_POISON, SLAB_RED_ZONE
from kmemlib.readers.slab_usage import live_usage, usage_report, usage_totals
from kmemlib.readers.snapshots import snapshot_dir
from kmemlib.readers.sysfs import compare_live
from kmemlib.mm.vmalloc import (PMD_SIZE, alloc_pages_cost, api_costs, choose_api, kmalloc_cost, kmem_cache_cost,
                             kvmalloc_cost, vmalloc_cost)
from kmemlib.lessons.widgets.api_choice import api_choice_widget, recommendation_html, show_choice
from kmemlib.lessons.widgets.slab import custom_cache_widget, show_custom_cache, summary_html, table_html
from kmemlib.lessons.workloads_slab import DEFAULT_SITES, run_workload, trace_table

MiB = 1 << 20


# --------------------------------------------------------------------------- custom cache geometry, flag by flag
# (object_size, option) -> (align, slab_size, ksize, free pointer outside?, offset, order, objects), by hand:
#  100 none:  ALIGN(100,8)=104; offset ALIGN_DOWN(50,8)=48 inside; order 0 (12*104 <= 4096), 4096//104=39
#  100 hwc:   align 64 (100 > 32), size ALIGN(104,64)=128; 4096//128=32
#  100 poison: 104, free pointer outside at 104 -> 112; ksize=object_size; 4096//112=36
#  100 rz:    104 != 100 so no extra word; inuse 104; ptr inside 48; +8 +left pad 8 -> 120; 4096//120=34
#  100 su:    104 + 2*32 tracks = 168; ksize = inuse 104; 4096//168=24
#  100 ctor:  104 + 8 (ptr outside) = 112; ksize = s->size = 112 (no debug flags)
#  100 rcu:   104 + 8 = 112; ksize = inuse 104
#  24 hwc:    ralign 64 -> 32 (24 <= 32) -> stays 32 (24 > 16); size 32; 128 objects
#  104 rz:    size == object_size -> +8 = 112 (inuse); ptr inside 48; +8 +8 = 128; 32 objects
#  4 rz:      ALIGN(4,8)=8 (!=4, no extra); object < 8 -> ptr outside at 8 -> 16; +8 +8 = 32
#  1032 su:   1032 + 64 = 1096; min_objects 12 -> order 2 has 14 objs, 1040 left > 16384/16 -> order 3,
#             32768//1096 = 29, 984 left <= 32768/16
CASES = [
    (100, "none", 8, 104, 104, False, 48, 0, 39),
    (100, "hwcache_align", 64, 128, 128, False, 48, 0, 32),
    (100, "poison", 8, 112, 100, True, 104, 0, 36),
    (100, "red_zone", 8, 120, 100, False, 48, 0, 34),
    (100, "store_user", 8, 168, 104, False, 48, 0, 24),
    (100, "ctor", 8, 112, 112, True, 104, 0, 36),
    (100, "typesafe_by_rcu", 8, 112, 104, True, 104, 0, 36),
    (24, "hwcache_align", 32, 32, 32, False, 8, 0, 128),
    (104, "red_zone", 8, 128, 104, False, 48, 0, 32),
    (4, "red_zone", 8, 32, 4, True, 8, 0, 128),
    (1032, "store_user", 8, 1096, 1032, False, 512, 3, 29),
]


@pytest.mark.parametrize("size,opt,align,slab_size,ksize,outside,offset,order,objects", CASES)
def test_design_cache_flag_cases(size, opt, align, slab_size, ksize, outside, offset, order, objects):
    kw = {} if opt == "none" else {opt: True}
    g = design_cache(size, **kw)
    assert (g.align, g.size, g.ksize, g.layout.freeptr_outside, g.offset, g.order, g.objects) == \
        (align, slab_size, ksize, outside, offset, order, objects)
    s = summarize(g)
    assert s.leftover == (PAGE_SIZE << order) - objects * slab_size
    assert s.overhead_per_object == slab_size - size
    assert s.freeptr.startswith("outside" if outside else "inside")


def test_all_debug_flags_together():
    # 100 with RED_ZONE|POISON|STORE_USER: 104, ptr outside -> 112, tracks -> 176, rz word -> 184, left pad -> 192
    g = design_cache(100, red_zone=True, poison=True, store_user=True)
    assert (g.size, g.ksize, g.red_left_pad, g.objects) == (192, 100, 8, 21)
    kinds = [r.kind for r in g.regions()]
    assert kinds == ["left redzone", "object", "right redzone", "free pointer", "alloc track", "free track",
                     "metadata padding"]
    # regions tile the slot exactly
    regs = g.regions()
    assert regs[0].start == 0 and sum(r.length for r in regs) == g.size
    assert all(a.start + a.length == b.start for a, b in zip(regs, regs[1:]))


def test_caller_align_is_respected():
    # align 128 requested for a 100-byte object: slot ALIGN(104, 128) = 128
    g = design_cache(100, 128)
    assert (g.align, g.size) == (128, 128)


def test_slab_flags_for_and_bad_option():
    assert slab_flags_for(hwcache_align=True, poison=True) == SLAB_HWCACHE_ALIGN | SLAB_POISON
    assert slab_flags_for(ctor=True) == 0
    with pytest.raises(ValueError):
        slab_flags_for(bogus=True)


def test_flag_effects_debug_flags_change_ksize_and_stop_merging():
    rows = flag_effects((100,))
    by = {r["option"]: r for r in rows}
    assert set(by) == {"none", *OPTIONS}
    assert by["none"]["mergeable"] and by["hwcache_align"]["mergeable"]
    for opt in ("poison", "red_zone", "store_user", "typesafe_by_rcu", "ctor"):
        assert not by[opt]["mergeable"], opt
    # poison/red_zone shrink ksize to object_size; without debug flags ksize is the slot
    assert by["poison"]["ksize"] == 100 and by["red_zone"]["ksize"] == 100 and by["none"]["ksize"] == 104


# --------------------------------------------------------------------------- merging
def test_merge_demo_names_and_merges():
    rows = {r.name: r for r in merge_demo()}
    assert rows["foo_req"].sysfs_dir == ":0000200" and rows["foo_req"].merged_into is None
    # 196 rounds to 200: same slot size -> merged, object_size widened to max = 200
    assert rows["bar_ctx"].sysfs_dir == ":0000200" and rows["bar_ctx"].merged_into == "foo_req"
    assert rows["foo_req"].refcount == 2
    # HWCACHE_ALIGN: align 64 -> slot 256 -> a different cache
    assert rows["baz_node"].sysfs_dir == ":0000256"
    # MERGE_SAME flags must match: ACCOUNT ('A') and RECLAIM_ACCOUNT ('a') get their own caches
    assert rows["foo_req_acct"].sysfs_dir == ":A-0000200"
    assert rows["bar_ctx_acct"].merged_into == "foo_req_acct"
    assert rows["qux_tmp"].sysfs_dir == ":a-0000200"
    # SLAB_NEVER_MERGE flags and a ctor: unmergeable, directory named after the cache
    for n in ("foo_dbg", "foo_poison", "foo_rcu", "foo_ctor"):
        assert rows[n].sysfs_dir == n and rows[n].merged_into is None
    assert rows["foo_dbg"].slab_size == 224   # 200 + 8 (rz word, 200 == ALIGN(200,8)) + 8 + 8 left pad


# --------------------------------------------------------------------------- struct tuning (1032-byte example)
def test_struct_tuning_1032():
    rows = {r.strategy: r for r in struct_tuning(1032, 1024, 10000)}
    km = rows["kmalloc(1032)"]
    # kmalloc(1032): fls(1031) = 11 -> kmalloc-2k, order 3 with 16 objects, 1016 bytes wasted per object
    assert (km.cache, km.slab_size, km.order, km.objects_per_slab) == ("kmalloc-2k", 2048, 3, 16)
    assert km.waste_per_object == 1016
    assert km.memory_bytes == 625 * 32768
    own = rows["kmem_cache 1032 B"]
    # min_objects 12 -> get_order(12384) = 2; 16384 // 1032 = 15, 904 left <= 1024 -> order 2
    assert (own.slab_size, own.order, own.objects_per_slab) == (1032, 2, 15)
    assert own.waste_per_object == pytest.approx(904 / 15)
    assert own.slabs_needed == 667 and own.memory_bytes == 667 * 16384
    trimmed = rows["kmalloc(1024) (trimmed)"]
    assert (trimmed.cache, trimmed.order, trimmed.objects_per_slab, trimmed.waste_bytes) == ("kmalloc-1k", 2, 16, 0)
    assert rows["kmem_cache 1024 B (trimmed)"].memory_bytes == 625 * 16384
    assert kmalloc_class(1032) == ("kmalloc-2k", 2048)


# --------------------------------------------------------------------------- live usage (snapshot + live)
def _snapshot_attrs(name: str) -> dict[str, str]:
    data = json.loads((snapshot_dir() / "sys/kernel/slab.json").read_text())
    return data["caches"][name]


def test_live_usage_snapshot_kmalloc_2k_by_hand():
    usage = {u.name: u for u in live_usage(snapshot_dir())}
    a = _snapshot_attrs("kmalloc-2k")
    slabs = int(a["slabs"].split()[0])
    objects = int(a["objects"].split()[0])
    u = usage["kmalloc-2k"]
    assert u.bytes == slabs * (PAGE_SIZE << 3)
    assert u.loss == slabs * 32768 - objects * 2048


def test_live_usage_parts_add_up_and_sorted():
    usage = live_usage(snapshot_dir())
    assert len(usage) == 235
    for u in usage:
        assert u.slot_overhead + u.free_slots + u.tail == u.loss
        assert u.tail >= 0
    losses = [u.loss for u in usage]
    assert losses == sorted(losses, reverse=True)
    t = usage_totals(usage)
    assert t.loss == t.slot_overhead + t.free_slots + t.tail == t.bytes - t.used
    rows = usage_report(usage, 5)
    assert len(rows) == 5 and rows[0]["cache"] == usage[0].name


def test_compare_snapshot_all_match():
    rep = compare_live(snapshot_dir())
    assert rep.total == 235 and rep.matched == rep.total


@pytest.mark.live
def test_live_usage_live_kernel():
    if not Path("/sys/kernel/slab").is_dir():
        pytest.skip("no /sys/kernel/slab")
    try:
        usage = live_usage("/")
    except Exception as e:  # unreadable without root
        pytest.skip(f"cannot read live slab data: {e}")
    assert usage and all(u.slot_overhead + u.free_slots + u.tail == u.loss for u in usage)


# --------------------------------------------------------------------------- call-site workload
def test_workload_deterministic_and_consistent():
    r1, r2 = run_workload(7, 3000), run_workload(7, 3000)
    assert r1.top_wasters(None) == r2.top_wasters(None)
    rows = r1.top_wasters(None)
    t = r1.totals()
    assert sum(r.requested for r in rows) == t.requested_bytes
    assert sum(r.allocated for r in rows) == t.allocated_bytes
    assert [r.waste for r in rows] == sorted((r.waste for r in rows), reverse=True)
    by = {r.caller: r for r in rows}
    inode = by["barfs_alloc_inode+0x1e/0x80 [barfs]"]
    assert inode.caches == ("kmalloc-2k",) and inode.waste == inode.count * (2048 - 1032)
    xfer = by["baz_usb_alloc_xfer_buf+0x12/0x60 [baz_usb]"]
    assert xfer.caches == ("kmalloc-8k",) and xfer.waste == xfer.count * (8192 - 4100)
    table = trace_table(rows)
    assert table[0]["call site"] == rows[0].caller and table[0]["waste"] == rows[0].waste


def test_workload_dedicated_caches_same_requests_less_waste():
    fixed = [s.caller for s in DEFAULT_SITES if s.fixed]
    base, fixed_run = run_workload(3, 3000), run_workload(3, 3000, dedicated_caches=fixed)
    assert base.allocs == fixed_run.allocs and base.frees == fixed_run.frees
    assert base.totals().requested_bytes == fixed_run.totals().requested_bytes
    assert fixed_run.totals().request_waste < base.totals().request_waste
    assert fixed_run.totals().pages_used < base.totals().pages_used
    by = {r.caller: r for r in fixed_run.top_wasters(None)}
    # 1032 in its own cache: slot 1032, ksize 1032, no rounding waste
    assert by["barfs_alloc_inode+0x1e/0x80 [barfs]"].waste == 0
    assert fixed_run.caches["barfs_alloc_inode+0x1e/0x80 [barfs]"] == "barfs_inode_cache"


def test_workload_bad_input():
    with pytest.raises(InvalidSizeError):
        run_workload(steps=-1)
    with pytest.raises(InvalidSizeError):
        run_workload(dedicated_caches=["nope"])
    with pytest.raises(InvalidSizeError):   # variable-size site cannot get a fixed cache
        run_workload(dedicated_caches=["barfs_d_alloc_name+0x33/0xb0 [barfs]"])


# --------------------------------------------------------------------------- vmalloc / kvmalloc cost model
# vmalloc(n): PAGE_ALIGN(n) of pages + kzalloc(72) vm_struct (kmalloc-96) + 72-byte vmap_area
# + page array: kmalloc(8 * pages) if <= PAGE_SIZE, else a nested vmalloc of it. Guard page: +4096 of VA.
VMALLOC_CASES = [
    # size, pages, total bytes, va bytes
    (1, 1, 4096 + 96 + 72 + 8, 8192),
    (PAGE_SIZE, 1, 4096 + 96 + 72 + 8, 8192),
    (PAGE_SIZE + 1, 2, 8192 + 96 + 72 + 16, 12288),
    # 1024 pages: array 8192 B > PAGE_SIZE -> nested vmalloc(8192) = 8192 + 96 + 72 + kmalloc(16)
    (4 * MiB, 1024, 4 * MiB + 96 + 72 + (8192 + 96 + 72 + 16), 4 * MiB + 4096),
    # 1025 pages: array 8200 -> nested vmalloc(8200) = 3 pages + 96 + 72 + kmalloc(24) = 32 (kmalloc-32)
    (4 * MiB + 1, 1025, 1025 * 4096 + 96 + 72 + (12288 + 96 + 72 + 32), 1025 * 4096 + 4096),
]


@pytest.mark.parametrize("size,pages,total,va", VMALLOC_CASES)
def test_vmalloc_cost(size, pages, total, va):
    c = vmalloc_cost(size)
    assert c.ok and not c.contiguous and not c.atomic_ok
    assert c.data_bytes == pages * PAGE_SIZE
    assert c.total_bytes == total and c.va_bytes == va
    assert c.waste == total - size
    assert sum(b for _, b in c.parts) == c.total_bytes


def test_vmalloc_no_guard_and_failures():
    assert vmalloc_cost(1, guard=False).va_bytes == PAGE_SIZE
    assert not vmalloc_cost(0).ok
    assert not vmalloc_cost(10 * PAGE_SIZE, totalram_pages=5).ok
    with pytest.raises(InvalidSizeError):
        vmalloc_cost(-1)
    with pytest.raises(InvalidSizeError):
        vmalloc_cost("4096")  # type: ignore[arg-type]


KVMALLOC_CASES = [
    # size, via prefix, total, contiguous
    (1, "kmalloc", 8, True),                      # kmalloc-8
    (PAGE_SIZE, "kmalloc", 4096, True),           # kmalloc-4k
    (PAGE_SIZE + 1, "kmalloc", 8192, True),       # kmalloc-8k
    (4 * MiB, "kmalloc", 4 * MiB, True),          # order-10 block
    # > KMALLOC_MAX_SIZE: kmalloc fails; vmalloc with VM_ALLOW_HUGE_VMAP, >= PMD_SIZE -> ALIGN(size, 2 MiB) = 6 MiB
    # 1536 pages -> array 12288 -> nested vmalloc(12288) = 12288 + 96 + 72 + kmalloc(24)=32
    (4 * MiB + 1, "vmalloc fallback", 6 * MiB + 96 + 72 + (12288 + 96 + 72 + 32), False),
]


@pytest.mark.parametrize("size,via,total,contig", KVMALLOC_CASES)
def test_kvmalloc_cost(size, via, total, contig):
    c = kvmalloc_cost(size)
    assert c.ok and c.via.startswith(via)
    assert c.total_bytes == total and c.contiguous == contig


def test_kvmalloc_fallback_rules():
    # without huge mappings the fallback costs what vmalloc costs
    assert kvmalloc_cost(4 * MiB + 1, huge_vmap=False).total_bytes == vmalloc_cost(4 * MiB + 1).total_bytes
    # below PMD_SIZE huge mappings are not used even when allowed
    assert kvmalloc_cost(PMD_SIZE - 1, max_free_order=0).data_bytes == PMD_SIZE
    # fragmented memory: order 3 needed for 20480 bytes, only order 2 free -> vmalloc of 5 pages
    c = kvmalloc_cost(5 * PAGE_SIZE, max_free_order=2)
    assert c.via.startswith("vmalloc fallback") and c.data_bytes == 5 * PAGE_SIZE
    # sub-page requests are never sent to vmalloc; kmalloc of the slab path always succeeds here
    assert kvmalloc_cost(100, max_free_order=0).ok
    # non-blocking context: no vmalloc fallback
    assert not kvmalloc_cost(4 * MiB + 1, can_block=False).ok
    assert not kvmalloc_cost(0).ok


def test_kmalloc_alloc_pages_kmem_cache_costs():
    assert kmalloc_cost(100).total_bytes == 128
    assert kmalloc_cost(8193).order == 2 and kmalloc_cost(8193).total_bytes == 16384
    assert not kmalloc_cost(4 * MiB + 1).ok
    assert not kmalloc_cost(8193, max_free_order=1).ok
    assert alloc_pages_cost(PAGE_SIZE + 1).total_bytes == 2 * PAGE_SIZE
    assert not alloc_pages_cost(4 * MiB + 1).ok
    # 100-byte objects in their own cache: slot 104, 39 per page, 40 bytes left -> ceil(40/39) = 2 per object
    kc = kmem_cache_cost(100)
    assert (kc.data_bytes, kc.metadata_bytes, kc.total_bytes) == (104, 2, 106)
    assert set(api_costs(100)) == {"kmalloc", "kmem_cache", "alloc_pages", "vmalloc", "kvmalloc"}


# --------------------------------------------------------------------------- decision function branches
@pytest.mark.parametrize("size,kw,api", [
    (100, {}, "kmalloc"),                                   # <= PAGE_SIZE
    (100, {"many_objects": True}, "kmem_cache"),            # 106 < 128 per object
    (1032, {"many_objects": True}, "kmem_cache"),           # 1093 < 2048
    (1024, {"many_objects": True}, "kmalloc"),              # same cost: no gain
    (20000, {}, "kvmalloc"),                                # > PAGE_SIZE, not contiguous
    (20000, {"contiguous": True}, "kmalloc"),               # order-3 block
    (20000, {"atomic": True}, "kmalloc"),                   # no vmalloc in atomic context
    (5 * MiB, {}, "vmalloc"),                               # vmalloc 5 MiB + meta < kvmalloc 6 MiB (huge)
    (6 * MiB, {}, "kvmalloc"),                              # same bytes: huge mappings for free
    (5 * MiB, {"contiguous": True}, None),                  # bigger than any buddy block
    (5 * MiB, {"atomic": True}, None),
])
def test_choose_api_branches(size, kw, api):
    rec = choose_api(size, **kw)
    assert rec.api == api
    assert rec.reasons
    if api is not None:
        assert rec.costs[api].ok and api in rec.allowed
    if kw.get("atomic") or kw.get("contiguous"):
        assert "vmalloc" not in rec.allowed and "kvmalloc" not in rec.allowed


def test_choose_api_fragmented_contiguous_fails():
    rec = choose_api(64 * 1024, contiguous=True, max_free_order=2)
    assert rec.api is None


def test_choose_api_bad_input():
    with pytest.raises(InvalidSizeError):
        choose_api(0)
    with pytest.raises(InvalidSizeError):
        choose_api(-5)
    with pytest.raises(InvalidSizeError):
        choose_api(100, atomic=1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- plots and widgets (plain callbacks)
@pytest.mark.parametrize("opt", ["none", *OPTIONS])
def test_cache_layout_figure_each_flag(opt):
    kw = {} if opt == "none" else {opt: True}
    for size in (24, 100, 1032, 5000):
        fig = plots.cache_layout_figure(design_cache(size, **kw))
        assert isinstance(fig, Figure) and len(fig.axes) == 2
        assert "slot" in fig.axes[0].get_xlabel() and "slab" in fig.axes[1].get_xlabel()
        matplotlib.pyplot.close(fig)


def test_other_figures():
    geoms = [design_cache(100), design_cache(100, red_zone=True)]
    figs = [plots.slot_comparison_figure(geoms, ["none", "rz"]),
            plots.model_vs_live_figure(compare_live(snapshot_dir())),
            plots.loss_breakdown_figure(live_usage(snapshot_dir())),
            plots.api_cost_figure([1, 100, 5000], {"kmalloc": [kmalloc_cost(s) for s in (1, 100, 5000)]})]
    for fig in figs:
        assert isinstance(fig, Figure) and all(ax.get_xlabel() for ax in fig.axes)
        matplotlib.pyplot.close(fig)


def test_widget_callbacks_and_html():
    show_custom_cache(100, 0, red_zone=True)
    show_choice(20000)
    assert "slab_size" in summary_html(summarize(design_cache(100)))
    html = recommendation_html(choose_api(20000))
    assert "kvmalloc" in html and "<table>" in html
    assert "no allocator API" in recommendation_html(choose_api(5 * MiB, contiguous=True))
    assert custom_cache_widget() is not None and api_choice_widget() is not None


def test_table_html():
    html = table_html([{"a": 1, "b": "x<y", "c": True}], caption="cap")
    assert "<caption>cap</caption>" in html and "x&lt;y" in html and ">yes<" in html and "text-align:right" in html
    assert "no rows" in table_html([])


def test_kvmalloc_huge_mapping_needs_order9_blocks():
    """__vmalloc_node_range_noprof(): without order-9 blocks the huge attempt falls back to 4 KiB pages."""
    from kmemlib.mm.vmalloc import kvmalloc_cost

    size = 3 * 1024 * 1024
    huge = kvmalloc_cost(size, max_free_order=9)        # kmalloc needs order 10: fails; 2 MiB pages exist
    small = kvmalloc_cost(size, max_free_order=5)       # neither order 10 nor order 9 is free
    assert huge.data_bytes == 4 * 1024 * 1024             # rounded up to two 2 MiB mappings
    assert small.data_bytes == size                       # 768 pages of 4 KiB, no rounding beyond a page
    assert any("retries with 4096-byte pages" in n for n in small.notes)
    assert not any("retries" in n for n in huge.notes)
