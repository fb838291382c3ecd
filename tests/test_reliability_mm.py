"""Issue 15 (and issue 11's engine messages): every case the fuzzing found, one assertion each.

A rejected call raises a KmemError naming what is wrong and leaves the allocator exactly as it was
(state fingerprint, op counter and event log included); the valid calls the issue lists succeed or
return NULL as the kernel would.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from kmemlib.errors import (BadFreeError, DoubleFreeError, InvalidArgumentError, InvalidFlagsError,
                            InvalidNameError, InvalidOrderError, InvalidSizeError, InvalidStateError, KmemError,
                            UnknownZoneError)
from kmemlib.lessons.workloads import fragmenting_workload
from kmemlib.mm import gfp
from kmemlib.mm.kmalloc import kmalloc_size_roundup
from kmemlib.mm.page_alloc import Event, EventLog, Node, Zone, ZoneState
from kmemlib.mm.page_alloc import alloc_pages as module_alloc_pages
from kmemlib.mm.page_alloc import get_zeroed_page
from kmemlib.mm.pages import get_order
from kmemlib.mm.slab_flags import SLAB_RECLAIM_ACCOUNT
from kmemlib.mm.slub import SlubAllocator, SlubParams, make_geometry


def zone_state(z: Zone) -> tuple:
    return z.fingerprint(), z._op, len(z.events), z.free_pages_count()


def slub_state(a: SlubAllocator) -> tuple:
    return (a.proc_slabinfo(), sorted(a._live), a.zone.fingerprint(),
            tuple(sorted((s.name, tuple(sl.freelist)) for s in a.slab_caches for sl in s.slabs.values())))


def rejects(exc, call, *states):
    before = [s() for s in states]
    with pytest.raises(exc) as info:
        call()
    assert [s() for s in states] == before
    return str(info.value)


# ---------------------------------------------------------------------- SLUB: floats are not pointers
def test_kfree_of_a_float_is_rejected_and_the_freelist_stays_ints():
    a = SlubAllocator()
    p = a.kmalloc(64)
    big = a.kmalloc(100_000)
    for addr in (float(p), float(big), Decimal(p), str(p), [p], True, 0.0, False):
        msg = rejects(BadFreeError, lambda addr=addr: a.kfree(addr), lambda: slub_state(a))
        assert "not a pointer" in msg
    a.kfree(p)
    a.kfree(big)
    q = a.kmalloc(64)
    assert type(q) is int


def test_slab_of_ksize_krealloc_reject_non_ints():
    a = SlubAllocator()
    p = a.kmalloc(64)
    for call in (lambda: a.slab_of(1.8e19), lambda: a.slab_of(float(p)), lambda: a.ksize(0.0),
                 lambda: a.ksize(float(p)), lambda: a.krealloc(float(p), 10), lambda: a.allocation(float(p))):
        rejects(BadFreeError, call, lambda: slub_state(a))
    assert a.ksize(None) == a.ksize(0) == 0


def test_kzalloc_kcalloc_check_gfp_before_or_ing_zero():
    a = SlubAllocator()
    for call in (lambda: a.kzalloc(8, None), lambda: a.kcalloc(2, 8, "GFP_KERNEL"), lambda: a.kzalloc(8, 1.5)):
        rejects(InvalidFlagsError, call, lambda: slub_state(a))


def test_parameter_objects_are_checked():
    with pytest.raises(InvalidArgumentError, match="params must be a SlubParams"):
        make_geometry("x", 8, params=None)
    with pytest.raises(InvalidArgumentError, match="zone must be a Zone"):
        SlubAllocator(zone="x")
    with pytest.raises(KmemError):
        SlubParams(hardened_usercopy="no")
    with pytest.raises(KmemError):
        SlubParams(max_page_order=10 ** 6)


def test_kmalloc_size_roundup_checks_page_shift():
    with pytest.raises(InvalidSizeError, match="page_shift"):
        kmalloc_size_roundup(2 ** 30, page_shift=40)


@pytest.mark.parametrize("name", ["a\tb", "a\nb", "a b", "", "x/y", "\x00", 5, None])
def test_cache_names_slabinfo_cannot_show_are_rejected(name):
    a = SlubAllocator()
    rejects(InvalidNameError, lambda: a.kmem_cache_create(name, 32), lambda: slub_state(a))


def test_destroying_a_cache_merged_into_a_kmalloc_cache_drops_its_reference():
    a = SlubAllocator(params=SlubParams(hardened_usercopy=False))
    c = a.kmem_cache_create("foo", 64, 0, SLAB_RECLAIM_ACCOUNT)
    assert c.name == "kmalloc-rcl-64" and c.refcount == 2
    a.kmem_cache_destroy(c)
    assert c.refcount == 1
    with pytest.raises(BadFreeError):            # the kmalloc cache itself stays
        a.kmem_cache_destroy(c)


def test_kmalloc_larger_than_the_zones_max_order_returns_null():
    a = SlubAllocator(Zone(4096, max_page_order=3))
    assert a.kmalloc(100_000) is None
    assert a.kmalloc(8192) is not None


# ---------------------------------------------------------------------- Zone
def test_alloc_flags_are_checked_before_the_op_counter_moves():
    z = Zone(1024)
    for bad in (None, -1, 1 << 20, 1.0, True):
        rejects(InvalidFlagsError, lambda bad=bad: z.alloc_pages(0, alloc_flags=bad), lambda: zone_state(z))


def test_query_methods_check_their_arguments():
    z = Zone(1024)
    for call, exc in ((lambda: z.free_list(9, 0), InvalidFlagsError), (lambda: z.free_list(0, 11), InvalidOrderError),
                      (lambda: z.nr_free_type("x"), InvalidFlagsError), (lambda: z.is_free(1.5), KmemError),
                      (lambda: z.buddy_order(None), KmemError), (lambda: z.zone_watermark_ok(0, "x"), KmemError),
                      (lambda: z.zone_watermark_ok(0, 0, 9), KmemError), (lambda: z.rmqueue(0, 0, None), KmemError)):
        rejects(exc, call, lambda: zone_state(z))


@pytest.mark.parametrize("mt", [1.0, True, "1", None, 5, -1])
def test_migrate_types_are_ints_in_range(mt):
    z = Zone(1024)
    with pytest.raises(InvalidFlagsError):
        Zone(1024, initial_migratetype=mt)
    rejects(InvalidFlagsError, lambda: z.set_pageblock_migratetype(0, mt), lambda: zone_state(z))
    rejects(InvalidFlagsError, lambda: z.move_freepages_block(0, 1, mt), lambda: zone_state(z))


def test_huge_zones_are_refused_at_once():
    t0 = time.perf_counter()
    for n in (2 ** 64, 3 * 10 ** 9):
        with pytest.raises(InvalidSizeError, match="limit"):
            Zone(n)
    assert time.perf_counter() - t0 < 1


def test_restore_rejects_another_zones_state_and_forged_states():
    z = Zone(1024)
    other = Zone(1024, start_pfn=4096)
    msg = rejects(InvalidStateError, lambda: z.restore(other.snapshot()), lambda: zone_state(z))
    assert "[4096, 5120)" in msg
    good = z.snapshot()
    forged = [
        ZoneState(good.free_lists, good.pageblock_types, ((2000, 0, 1),)),                # outside
        ZoneState(good.free_lists, good.pageblock_types, ((0, 0, 1),)),                   # overlaps a free block
        ZoneState(good.free_lists, good.pageblock_types, ((3, 1, 1),)),                   # misaligned
        ZoneState(good.free_lists, (9,) * len(good.pageblock_types), ()),                 # bad pageblock type
        ZoneState(good.free_lists[:2], good.pageblock_types, ()),                         # wrong shape
        "state",
    ]
    for st in forged:
        rejects(InvalidStateError, lambda st=st: z.restore(st), lambda: zone_state(z))
    z.restore(good)


@pytest.mark.parametrize("ev", [
    Event("move", 1000, -1, -1), Event("bogus", 0, 0, 0), Event("give", 5000, 0, 1), Event("give", 0, 0, 1),
    Event("take", 3, 0, 1), Event("split", 1.5, 0, 1), Event("pageblock", 0, 9, 7), Event("alloc", -1, 0, 1, op=-1),
    ("give", 0, 0, 1),
])
def test_apply_rejects_events_that_do_not_fit_the_zone(ev):
    z = Zone(1024)
    rejects(InvalidStateError, lambda: z.apply(ev), lambda: zone_state(z))


def test_node_checks_its_zones_and_names_missing_ones():
    with pytest.raises(InvalidArgumentError):
        Node([])
    with pytest.raises(InvalidArgumentError):
        Node(["DMA"])
    node = Node.from_sizes(dma=100, normal=2048)
    with pytest.raises(UnknownZoneError, match="has no zone 'DMA32'.*DMA, Normal") as info:
        node.zone("DMA32")
    assert isinstance(info.value, KeyError)
    assert node.zone("Normal").name == "Normal"


def test_event_log_is_bounded_and_marks_survive_trimming():
    z = Zone(1 << 12, event_log_size=100)
    assert isinstance(z.events, EventLog) and z.events.maxlen == 100
    for _ in range(300):
        m = z.events.mark()
        p = z.alloc_pages(0)
        evs = z.events.since(m)
        assert [e.kind for e in evs][0] == "alloc" and evs[-1].kind == "allocated"
        z.free_pages(p, 0)
        assert len(z.events) < 2 * 100 + 20
    assert z.events.dropped > 0
    with pytest.raises(InvalidSizeError):
        Zone(16, event_log_size=0)


# ---------------------------------------------------------------------- issue 11: messages in the reader's terms
def test_freeing_a_never_allocated_page_does_not_just_say_double_free():
    z = Zone(1024)
    msg = rejects(DoubleFreeError, lambda: z.free_pages(500, 0), lambda: zone_state(z))
    assert "not allocated" in msg and "never allocated" in msg


def test_free_pages_exact_with_the_wrong_size_says_so():
    z = Zone(1024)
    pfn = z.alloc_pages_exact(3 * 4096)
    msg = rejects(BadFreeError, lambda: z.free_pages_exact(pfn, 8 * 4096), lambda: zone_state(z))
    assert "size" in msg and "smaller size" in msg and "double free" not in msg
    z.free_pages_exact(pfn, 3 * 4096)


def test_get_order_of_a_huge_size_talks_about_size_t():
    with pytest.raises(InvalidSizeError) as info:
        get_order(10 ** 30)
    assert "size_t" in str(info.value) and "fls64" not in str(info.value)


def test_swapped_gfp_and_order_get_a_hint():
    z = Zone(1024)
    msg = rejects(InvalidOrderError, lambda: module_alloc_pages(z, 3, gfp.GFP_KERNEL), lambda: zone_state(z))
    assert "swapped" in msg
    assert module_alloc_pages(z, gfp.GFP_KERNEL, 3) is not None
    with pytest.raises(InvalidArgumentError):
        module_alloc_pages("zone", gfp.GFP_KERNEL, 0)
    with pytest.raises(InvalidFlagsError):
        get_zeroed_page(z, None)


def test_fragmenting_workload_has_a_bound():
    t0 = time.perf_counter()
    with pytest.raises(InvalidSizeError, match="more than this workload handles"):
        fragmenting_workload(nr_pages=10 ** 7)
    assert time.perf_counter() - t0 < 1


def test_long_run_with_the_default_event_log_stays_bounded():
    import random
    import tracemalloc

    z = Zone(1 << 16)                                   # log_events=True, default event_log_size
    rng = random.Random(15)
    live: list[tuple[int, int]] = []
    tracemalloc.start()
    try:
        for i in range(40_000):                         # ~250,000 events: about 25 MB if all were kept
            if live and (rng.random() < 0.5 or len(live) > 2000):
                p, o = live.pop(rng.randrange(len(live)))
                z.free_pages(p, o)
            else:
                o = rng.choice((0, 0, 0, 1, 2, 3))
                p = z.alloc_pages(o)
                if p is not None:
                    live.append((p, o))
            if i == 5_000:
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert len(z.events) < 2 * z.events.maxlen + 100 and z.events.dropped > 100_000
    assert peak < 6 << 20, f"memory grew by {peak / 2**20:.1f} MiB"
