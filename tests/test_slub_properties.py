"""Property tests: objects never overlap, slab counts and waste totals stay consistent over random traces."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmemlib.mm import gfp as G
from kmemlib.mm import slub as S
from kmemlib.mm.page_alloc import Zone
from kmemlib.mm.slab_flags import SLAB_HWCACHE_ALIGN, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TYPESAFE_BY_RCU

FLAG_CHOICES = [0, SLAB_HWCACHE_ALIGN, SLAB_RED_ZONE, SLAB_POISON, SLAB_STORE_USER, SLAB_TYPESAFE_BY_RCU,
                SLAB_RED_ZONE | SLAB_STORE_USER | SLAB_POISON]


def check_invariants(a: S.SlubAllocator, live: dict[int, int]) -> None:
    zone_pages_used = a.zone.nr_pages - a.zone.free_pages_count()
    t = a.totals()
    assert t.pages_used == zone_pages_used
    assert t.objects_inuse + t.large_allocs == len(live)
    assert t.requested_bytes == sum(live.values())
    alloc_sum = 0
    for s in a.slab_caches:
        slabs = list(s.slabs.values())
        assert s.nr_slabs == len(slabs)
        assert s.total_objects == sum(sl.objects for sl in slabs)
        assert s.inuse_objects == sum(sl.inuse for sl in slabs)
        assert s.slab_pages == sum(1 << sl.order for sl in slabs)
        assert s.requested_bytes == sum(sl.requested for sl in slabs)
        st_ = a.cache_stats(s)
        # every byte of the cache's pages is requested, rounding waste, slot overhead, free or tail
        assert st_.slab_bytes == (st_.requested_bytes + st_.request_waste + st_.slot_overhead
                                  + st_.free_slot_bytes + st_.tail_waste)
        alloc_sum += st_.allocated_bytes
        for sl in slabs:
            assert len(sl.freelist) == sl.objects - sl.inuse
            assert len(set(sl.freelist)) == len(sl.freelist)
            assert sl.objects * s.size <= sl.slab_bytes
            # partial-list membership follows the kernel's rules
            if sl is not s.cpu_slab:
                assert (sl in s.partial) == (sl.inuse < sl.objects)
        assert len([sl for sl in s.partial if sl.inuse == 0]) <= max(s.min_partial, 0) + 1
    large = sum((a.page_size << a.allocation(p).order) for p in live if a.allocation(p).cache is None)
    assert t.allocated_bytes == alloc_sum + large


def check_no_overlap(a: S.SlubAllocator, live: dict[int, int]) -> None:
    spans = []
    for p, req in live.items():
        info = a.allocation(p)
        spans.append((p, p + info.allocated, info.cache))
        assert info.allocated >= req
    spans.sort()
    for (s0, e0, c0), (s1, e1, c1) in zip(spans, spans[1:]):
        assert e0 <= s1, f"{c0} [{s0:#x},{e0:#x}) overlaps {c1} [{s1:#x},{e1:#x})"
    # every slab object lies inside its slab's pages, in a slot of its own
    for p in live:
        info = a.allocation(p)
        if info.cache is None:
            continue
        sl = a.slab_of(p)
        s = sl.cache
        off = p - sl.base - s.red_left_pad
        assert off % s.size == 0 and 0 <= off // s.size < sl.objects
        assert p + s.ksize <= sl.base + sl.slab_bytes


trace = st.lists(st.tuples(st.booleans(), st.integers(0, 10_000), st.integers(0, 2**31)), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=trace, seed=st.integers(0, 2**32 - 1))
def test_random_kmalloc_kfree_trace(ops, seed):
    rng = random.Random(seed)
    a = S.SlubAllocator(Zone(2048, log_events=False))
    live: dict[int, int] = {}
    for is_alloc, size, pick in ops:
        if is_alloc or not live:
            gfp = rng.choice([G.GFP_KERNEL, G.GFP_KERNEL_ACCOUNT, G.GFP_DMA, G.GFP_KERNEL | G.__GFP_RECLAIMABLE])
            p = a.kmalloc(size, gfp, caller=f"site{size % 5}")
            if p is None or size == 0:
                continue
            assert p not in live
            live[p] = size
        else:
            p = sorted(live)[pick % len(live)]
            a.kfree(p)
            del live[p]
    check_no_overlap(a, live)
    check_invariants(a, live)
    traces = a.alloc_traces(top=None)
    assert sum(r.count for r in traces) == len(live)
    assert sum(r.requested for r in traces) == sum(live.values())
    for p in list(live):
        a.kfree(p)
    live.clear()
    check_invariants(a, live)
    assert a.totals().objects_inuse == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(1, 20_000), align=st.sampled_from([0, 8, 16, 64, 256]),
       flags=st.sampled_from(FLAG_CHOICES), n=st.integers(1, 120), seed=st.integers(0, 2**32 - 1))
def test_custom_cache_objects_never_overlap(size, align, flags, n, seed):
    rng = random.Random(seed)
    a = S.SlubAllocator(Zone(8192, log_events=False), boot_caches=False, create_kmalloc_caches=False)
    c = a.kmem_cache_create("c", size, align, flags)
    assert c.size >= c.object_size and c.size % c.align == 0
    live: dict[int, int] = {}
    for _ in range(n):
        if live and rng.random() < 0.3:
            p = rng.choice(sorted(live))
            a.kmem_cache_free(c, p)
            del live[p]
        else:
            p = a.kmem_cache_alloc(c)
            if p is None:
                continue
            assert p % c.align == 0          # objects keep the cache alignment (left pad is ALIGN(8, align))
            live[p] = c.object_size
    check_no_overlap(a, live)
    check_invariants(a, live)
    # the drawn layout tiles each slot exactly
    pos = 0
    for r in c.regions():
        if not r.overlaps_object:
            assert r.start == pos
            pos += r.length
    assert pos == c.size
