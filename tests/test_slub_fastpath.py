"""SlubAllocator's kmalloc/kfree fast path agrees with the generic slab path it shortcuts.

``kmalloc``/``kfree`` inline the CPU-slab / partial-list steps and look the cache up in
precomputed tables. Here the same seeded trace runs on two fresh allocators: one through
``kmalloc``/``kfree``, the other through ``kmem_cache_alloc``/``kmem_cache_free`` on the cache
that :func:`kmemlib.mm.kmalloc.kmalloc_index` and :func:`kmemlib.mm.kmalloc.kmalloc_type` (computed
independently of the allocator's tables) name for the request. Addresses, slab choice, partial
lists and every report must agree, and the totals must equal sums recomputed from the live
allocations and from counters the test keeps itself.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from kmemlib.mm import gfp as G
from kmemlib.mm import kmalloc as K
from kmemlib.mm import slub as S
from kmemlib.mm.page_alloc import Zone
from kmemlib.errors import BadFreeError, DoubleFreeError, InvalidFlagsError, InvalidSizeError

GFPS = [G.GFP_KERNEL, G.GFP_KERNEL_ACCOUNT, G.GFP_DMA, G.GFP_KERNEL | G.__GFP_RECLAIMABLE, G.GFP_ATOMIC,
        G.GFP_KERNEL | G.__GFP_NO_OBJ_EXT, G.GFP_KERNEL | G.__GFP_ZERO]


def _size(rng: random.Random, max_cache: int = K.KMALLOC_MAX_CACHE_SIZE) -> int:
    r = rng.random()
    if r < 0.6:
        return rng.randint(1, 256)
    if r < 0.9:
        return rng.randint(257, 2048)
    if r < 0.99:
        return rng.randint(2049, max_cache)
    return rng.randint(max_cache + 1, 2 * max_cache + 65536)


def _cache_for(b: S.SlubAllocator, size: int, gfp: int) -> S.KmemCache:
    """kmalloc_slab() worked from the kmalloc module, not from the allocator's lookup tables."""
    type_ = K.kmalloc_effective_type(K.kmalloc_type(gfp))
    name = K.kmalloc_cache_name(K.kmalloc_index(size, b.params.kmalloc_min_size), type_)
    return b.find_cache(name)


def _layout(a: S.SlubAllocator) -> list:
    """Which slabs each cache holds, which is the CPU slab, the partial list order, each freelist."""
    return [(s.name, s.cpu_slab.pfn if s.cpu_slab else None, [sl.pfn for sl in s.partial],
             sorted((pfn, sl.order, sl.inuse, sl.requested, tuple(sl.freelist)) for pfn, sl in s.slabs.items()),
             s.stat) for s in a.slab_caches]


def _check_totals(a: S.SlubAllocator, per_cache_allocs: Counter, per_cache_frees: Counter) -> None:
    infos = list(a.allocations())
    slab = [i for i in infos if i.cache is not None]
    large = [i for i in infos if i.cache is None]
    t = a.totals()
    assert t.objects_inuse == len(slab)
    assert t.slab_requested == sum(i.requested for i in slab)
    assert t.slab_allocated == sum(i.allocated for i in slab)
    assert t.large_allocs == len(large)
    assert t.large_requested == sum(i.requested for i in large)
    assert t.large_pages == sum(1 << i.order for i in large)
    assert t.requested_bytes == sum(i.requested for i in infos)
    assert t.allocated_bytes == sum(i.allocated for i in infos)
    assert t.pages_used == a.zone.nr_pages - a.zone.free_pages_count()
    live_by_cache = Counter(i.cache for i in slab)
    for s in a.slab_caches:
        assert s.inuse_objects == live_by_cache[s.name] == sum(sl.inuse for sl in s.slabs.values())
        assert s.requested_bytes == sum(i.requested for i in slab if i.cache == s.name)
        assert s.stat["alloc"] == per_cache_allocs[s.name]
        assert s.stat["free"] == per_cache_frees[s.name]
        for sl in s.slabs.values():
            assert len(sl.freelist) == sl.objects - sl.inuse
            if sl is not s.cpu_slab:
                assert (sl in s.partial) == (sl.inuse < sl.objects)


@pytest.mark.parametrize("seed,nr_ops,window,zone_pages,params", [
    (1, 6000, 1, 1 << 14, {}),
    (2, 8000, 300, 1 << 14, {}),
    (3, 12000, 5000, 1 << 14, {}),
    (4, 6000, 3000, 1024, {}),                      # the zone runs out: order fallback and None results
    (5, 4000, 500, 1 << 12, {"kmalloc_min_size": 64}),
    (6, 3000, 400, 1 << 11, {"page_shift": 16}),    # KMALLOC_MAX_CACHE_SIZE 128 KiB: beyond the size table
])
def test_kmalloc_matches_kmem_cache_alloc_of_the_looked_up_cache(seed, nr_ops, window, zone_pages, params):
    rng = random.Random(seed)
    p = S.SlubParams(**params)

    def new():
        return S.SlubAllocator(Zone(zone_pages, page_shift=p.page_shift, log_events=False), params=p)
    a, b = new(), new()
    max_cache = a.kmalloc_max_cache_size
    live: list[int] = []
    allocs: Counter = Counter()
    frees: Counter = Counter()
    nones = 0
    for i in range(nr_ops):
        size, gfp = _size(rng, max_cache), rng.choice(GFPS)
        caller = rng.choice([None, "drv_probe", "net_rx"])
        pa = a.kmalloc(size, gfp, caller=caller)
        if size <= max_cache:
            c = _cache_for(b, size, gfp)
            pb = b.kmem_cache_alloc(c, gfp, caller=caller, requested=size)
            if pb is not None:
                allocs[c.name] += 1
        else:
            pb = b.kmalloc(size, gfp, caller=caller)
        assert pa == pb, (i, size, gfp)
        if pa is None:
            nones += 1
        else:
            live.append(pa)
        if len(live) >= window or (live and rng.random() < 0.3):
            j = rng.randrange(len(live))
            live[j], live[-1] = live[-1], live[j]
            p = live.pop()
            info = b.allocation(p)
            if info.cache is None:
                b.kfree(p)
            else:
                b.kmem_cache_free(b.find_cache(info.cache), p)
                frees[info.cache] += 1
            a.kfree(p)
        if i % 1000 == 999:
            assert a.proc_slabinfo() == b.proc_slabinfo()
            assert a.totals() == b.totals()
            assert _layout(a) == _layout(b)
            assert list(a.allocations()) == list(b.allocations())
            _check_totals(a, allocs, frees)
    for p in live:
        a.kfree(p)
        info = b.allocation(p)
        if info.cache is not None:
            frees[info.cache] += 1
        b.kfree(p)
    assert a.proc_slabinfo() == b.proc_slabinfo() and a.totals() == b.totals() and _layout(a) == _layout(b)
    _check_totals(a, allocs, frees)
    assert a.totals().objects_inuse == 0 and a.totals().large_allocs == 0
    if zone_pages == 1024:
        assert nones > 0 and sum(s.stat["order_fallback"] for s in a.slab_caches) > 0


def test_fast_path_keeps_validation_and_errors():
    a = S.SlubAllocator(Zone(4096, log_events=False))
    p = a.kmalloc(8)                       # warms the GFP_KERNEL lookup and the kmalloc-8 CPU slab
    q = a.kmalloc(1, G.__GFP_DMA)          # gfp value 1 (== True) now validated
    before = (a.proc_slabinfo(), a.totals(), dict(a._live))
    with pytest.raises(InvalidSizeError):
        a.kmalloc(True)
    with pytest.raises(InvalidSizeError):
        a.kmalloc(8.0)
    with pytest.raises(InvalidSizeError):
        a.kmalloc(-1)
    with pytest.raises(InvalidFlagsError):
        a.kmalloc(8, True)                 # bool is not a GFP value even though True == __GFP_DMA
    with pytest.raises(InvalidFlagsError):
        a.kmalloc(8, float(G.GFP_KERNEL))
    with pytest.raises(InvalidFlagsError):
        a.kmalloc(0, 1 << 60)
    assert (a.proc_slabinfo(), a.totals(), dict(a._live)) == before
    assert a.kmalloc(0) == K.ZERO_SIZE_PTR
    assert a.allocation(q).cache == "dma-kmalloc-8"
    a.kfree(p)
    with pytest.raises(DoubleFreeError):
        a.kfree(p)
    with pytest.raises(BadFreeError):
        a.kfree(q + 4)
    with pytest.raises(BadFreeError):
        a.kfree([q])
    a.kfree(None)
    a.kfree(K.ZERO_SIZE_PTR)
    a.kfree(q)
    assert a.totals().objects_inuse == 0
    c = a.find_cache("kmalloc-8")
    assert c.stat == {"alloc": 1, "free": 1, "alloc_slab": 1, "free_slab": 0, "order_fallback": 0}


def test_lifo_reuse_and_partial_head_like_slub():
    """Hand-worked: a freed object is handed out next (LIFO freelist); with the CPU slab full the
    next object comes from the head of the partial list, and a slab that was full goes to its tail."""
    a = S.SlubAllocator(Zone(4096, log_events=False))
    s = a.find_cache("kmalloc-4k")          # 8 objects per order-3 slab
    first = [a.kmalloc(4096) for _ in range(8)]
    second = [a.kmalloc(4000) for _ in range(8)]
    s1, s2 = a.slab_of(first[0]), a.slab_of(second[0])
    assert s1 is not s2 and s.cpu_slab is s2 and first == [s1.obj0 + i * 4096 for i in range(8)]
    a.kfree(first[3])
    a.kfree(first[5])
    assert list(s.partial) == [s1]           # s1 was full: added once to the partial list
    a.kfree(second[2])                       # s2 is the CPU slab: stays off the partial list
    assert a.kmalloc(4096) == second[2]      # LIFO from the CPU slab
    assert a.kmalloc(4096) == first[5]       # CPU slab full again: partial head, last freed first
    assert s.cpu_slab is s1 and not s.partial
    assert a.kmalloc(4096) == first[3]


@pytest.mark.parametrize("min_size", [8, 16, 32, 64, 128])
def test_size_table_is_kmalloc_slab(min_size):
    """The precomputed size -> index table equals kmalloc_slab()'s rule for every size it covers."""
    a = S.SlubAllocator(Zone(256, log_events=False), params=S.SlubParams(kmalloc_min_size=min_size),
                        create_kmalloc_caches=False, boot_caches=False)
    table = a._kmalloc_idx
    assert len(table) == a.kmalloc_max_cache_size + 1
    assert all(table[n] == K.kmalloc_slab_index(n, min_size) for n in range(1, len(table)))
