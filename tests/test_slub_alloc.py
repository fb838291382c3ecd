"""SlubAllocator: kmalloc/kfree/ksize, caches, merging, slabs from the buddy Zone, accounting, reports."""

import pytest

from kmemlib.mm import gfp as G
from kmemlib.mm import kmalloc as K
from kmemlib.mm import slub as S
from kmemlib.mm.page_alloc import Zone
from kmemlib.errors import (BadFreeError, DoubleFreeError, InvalidAlignError, InvalidFlagsError, InvalidSizeError)
from kmemlib.mm.pages import PAGE_OFFSET
from kmemlib.mm.slab_flags import (SLAB_ACCOUNT, SLAB_HWCACHE_ALIGN, SLAB_POISON, SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE,
                                SLAB_STORE_USER, SLAB_TYPESAFE_BY_RCU)
from kmemlib.readers.sysfs import parse_slabinfo


def alloc(nr_pages=4096, **kw):
    return S.SlubAllocator(Zone(nr_pages, log_events=False), **kw)


def _state(a):
    return (a.proc_slabinfo(), a.totals(), a.zone.nr_free(), dict(a._live))


def test_ksize_worked_examples():
    a = alloc()
    assert a.ksize(a.kmalloc(100)) == 128
    assert a.ksize(a.kmalloc(65)) == 96
    p = a.kmalloc(8193)
    assert a.ksize(p) == 16384 and a.allocation(p).order == 2
    assert a.kmalloc(0) == K.ZERO_SIZE_PTR == 16
    assert a.ksize(K.ZERO_SIZE_PTR) == 0 and a.ksize(None) == 0
    assert a.kmalloc(K.KMALLOC_MAX_SIZE + 1) is None
    big = a.kmalloc(K.KMALLOC_MAX_SIZE)
    assert big is not None and a.ksize(big) == 4 * 1024 * 1024


def test_kmalloc_caches_like_create_kmalloc_caches():
    a = alloc()
    names = [c.name for c in a.slab_caches]
    assert names[:2] == ["kmem_cache", "kmem_cache_node"]
    assert names[2:15] == K.kmalloc_cache_names(K.KMALLOC_NORMAL)
    assert names[15:28] == K.kmalloc_cache_names(K.KMALLOC_RECLAIM)
    assert names[28:41] == K.kmalloc_cache_names(K.KMALLOC_DMA)
    assert names[41:54] == K.kmalloc_cache_names(K.KMALLOC_CGROUP)
    assert names[54] == "kmalloc_buckets" and len(names) == 55
    # NO_OBJ_EXT shares NORMAL's caches; with nokmem, CGROUP does too.
    assert a.kmalloc_caches[K.KMALLOC_NO_OBJ_EXT][7] is a.kmalloc_caches[K.KMALLOC_NORMAL][7]
    b = alloc(memcg_kmem=False)
    assert b.kmalloc_caches[K.KMALLOC_CGROUP][7] is b.kmalloc_caches[K.KMALLOC_NORMAL][7]
    assert not any(c.name.startswith("kmalloc-cg-") for c in b.slab_caches)


def test_kmalloc_type_routes_to_cache():
    a = alloc()
    assert a.allocation(a.kmalloc(200, G.GFP_KERNEL_ACCOUNT)).cache == "kmalloc-cg-256"
    assert a.allocation(a.kmalloc(200, G.GFP_DMA)).cache == "dma-kmalloc-256"
    assert a.allocation(a.kmalloc(200, G.GFP_KERNEL | G.__GFP_RECLAIMABLE)).cache == "kmalloc-rcl-256"
    assert a.allocation(a.kzalloc(200)).cache == "kmalloc-256"


def test_slabs_come_from_the_zone_and_go_back():
    z = Zone(1024, log_events=False)
    a = S.SlubAllocator(z)
    free0 = z.free_pages_count()
    ptrs = [a.kmalloc(512) for _ in range(17)]       # kmalloc-512: order 1, 16 objects per slab
    c = a.find_cache("kmalloc-512")
    assert c.nr_slabs == 2 and c.slab_pages == 4
    assert z.free_pages_count() == free0 - 4
    # objects are consecutive 512-byte slots of the first slab
    assert ptrs[1] - ptrs[0] == 512
    first = a.slab_of(ptrs[0])
    assert first.base == ptrs[0] and (first.base - PAGE_OFFSET) % (2 * 4096) == 0
    for p in ptrs:
        a.kfree(p)
    # both slabs empty; min_partial = 5 keeps them on the partial list
    assert c.inuse_objects == 0 and c.nr_slabs == 2
    assert a.totals().objects_inuse == 0


def test_empty_slabs_beyond_min_partial_are_discarded():
    a = alloc()
    c = a.find_cache("kmalloc-4k")            # 8 objects per order-3 slab, min_partial 6
    assert (c.objects, c.order, c.min_partial) == (8, 3, 6)
    ptrs = [a.kmalloc(4096) for _ in range(8 * 10)]
    assert c.nr_slabs == 10
    for p in ptrs:
        a.kfree(p)
    # the CPU slab plus min_partial empty slabs stay; the rest went back to the zone
    assert c.nr_slabs == 1 + c.min_partial
    assert len(c.partial) == c.min_partial
    assert all(s.inuse == 0 for s in c.slabs.values())


def test_order_fallback_to_min_when_zone_fragmented():
    z = Zone(8, log_events=False)      # 8 pages: one order-3 block
    a = S.SlubAllocator(z, create_kmalloc_caches=False, boot_caches=False)
    c = a.kmem_cache_create("big", 3000)            # slab_size 3000 → order 3 (10 objs), min order 0
    assert (c.order, c.objects, c.min_order, c.min_objects) == (3, 10, 0, 1)
    hole = z.alloc_pages(0)                          # break the order-3 block
    p = a.kmem_cache_alloc(c)
    assert p is not None
    assert a.slab_of(p).order == 0 and c.stat["order_fallback"] == 1
    z.free_pages(hole, 0)


def test_out_of_memory_is_none_and_state_kept():
    z = Zone(1, log_events=False)
    a = S.SlubAllocator(z, create_kmalloc_caches=True, boot_caches=False)
    p = a.kmalloc(8)
    assert p is not None
    before = _state(a)
    assert a.kmalloc(2048) is None            # needs an order-3 slab, then order 0: no page left
    assert a.kmalloc(9000) is None
    assert _state(a) == before


def test_double_free_and_bad_frees_raise_without_change():
    a = alloc()
    p = a.kmalloc(100)
    q = a.kmalloc(100)
    a.kfree(p)
    before = _state(a)
    with pytest.raises(DoubleFreeError):
        a.kfree(p)
    with pytest.raises(BadFreeError, match="not at the start"):
        a.kfree(q + 8)
    with pytest.raises(BadFreeError, match="never allocated"):
        a.kfree(PAGE_OFFSET + (1 << 30))
    with pytest.raises(BadFreeError):
        a.kfree(12345)
    with pytest.raises(BadFreeError):
        a.kfree("p")
    big = a.kmalloc(20000)
    a.kfree(big)
    before = _state(a)
    with pytest.raises(DoubleFreeError):
        a.kfree(big)
    assert _state(a) == before
    a.kfree(None)
    a.kfree(K.ZERO_SIZE_PTR)
    assert _state(a) == before


def test_free_into_wrong_cache():
    a = alloc()
    c1 = a.kmem_cache_create("one", 100, 0, SLAB_RED_ZONE)     # unmergeable
    c2 = a.kmem_cache_create("two", 300)
    p = a.kmem_cache_alloc(c1)
    before = _state(a)
    with pytest.raises(BadFreeError, match="wrong slab cache"):
        a.kmem_cache_free(c2, p)
    assert _state(a) == before
    a.kmem_cache_free(c1, p)


def test_bad_sizes_flags_align():
    a = alloc()
    before = _state(a)
    for bad in (-1, 1 << 64, 2.0, "8", None):
        with pytest.raises(InvalidSizeError):
            a.kmalloc(bad)
    with pytest.raises(InvalidFlagsError):
        a.kmalloc(8, 1 << 40)
    with pytest.raises(InvalidFlagsError):
        a.kmalloc(8, G.GFP_KERNEL | G.__GFP_HIGHMEM)
    with pytest.raises(InvalidAlignError):
        a.kmem_cache_create("x", 64, 24)
    with pytest.raises(InvalidSizeError):
        a.kmem_cache_create("x", 0)
    with pytest.raises(InvalidSizeError):
        a.kmem_cache_create("x", K.KMALLOC_MAX_SIZE + 1)
    with pytest.raises(InvalidFlagsError):
        a.kmem_cache_create("x", 64, 0, 1 << 40)
    with pytest.raises(S.InvalidNameError):
        a.kmem_cache_create("kmalloc-8", 64)
    with pytest.raises(S.InvalidNameError):
        a.kmem_cache_create("with space", 64)
    with pytest.raises(InvalidSizeError):
        a.kcalloc(-1, 8)
    assert _state(a) == before


def test_kcalloc_overflow_and_krealloc():
    a = alloc()
    assert a.kcalloc(1 << 32, 1 << 32) is None              # overflows size_t: NULL
    p = a.kcalloc(10, 10)
    assert a.allocation(p).requested == 100 and a.ksize(p) == 128
    q = a.krealloc(p, 120)                                   # fits in ksize: same object
    assert q == p and a.allocation(p).requested == 120
    r = a.krealloc(p, 300)
    assert r != p and a.allocation(r).cache == "kmalloc-512"
    with pytest.raises(BadFreeError):
        a.kfree(p)
    assert a.krealloc(r, 0) == K.ZERO_SIZE_PTR
    assert a.totals().objects_inuse == 0
    s = a.krealloc(None, 50)
    assert a.ksize(s) == 64


def test_merging_and_sysfs_names():
    a = alloc()
    c1 = a.kmem_cache_create("foo", 20)                # slot 24
    c2 = a.kmem_cache_create("bar", 24)                # same slot → merged into foo
    assert c2 is c1 and c1.refcount == 2 and c1.object_size == 24
    assert c1.sysfs_name == ":0000024"
    c3 = a.kmem_cache_create("acct", 24, 0, SLAB_ACCOUNT)       # MERGE_SAME differs → new cache
    assert c3 is not c1 and c3.sysfs_name == ":A-0000024"
    c4 = a.kmem_cache_create("rcl", 100, 0, SLAB_RECLAIM_ACCOUNT)
    assert c4.sysfs_name == ":a-0000104"
    c5 = a.kmem_cache_create("ctor", 24, 0, 0, ctor=lambda: None)   # ctor → unmergeable, own name
    assert c5 is not c1 and c5.sysfs_name == "ctor"
    c6 = a.kmem_cache_create("rcu", 24, 0, SLAB_TYPESAFE_BY_RCU)
    assert c6.sysfs_name == "rcu" and c6.size == 32                # free pointer outside
    c7 = a.kmem_cache_create("hw", 20, 0, SLAB_HWCACHE_ALIGN)       # align 32 → slot 32, not 24
    assert c7 is not c1 and c7.size == 32
    c8 = a.kmem_cache_create("user", 24, usersize=24)               # hardened usercopy: unmergeable
    assert c8 is not c1
    ent = a.sysfs_entries()
    assert ent["foo"] == ent["bar"] == ":0000024" and ent["acct"] == ":A-0000024"
    assert ent["kmalloc-8"] == "kmalloc-8"
    # slabinfo shows the first creator's name once
    rows = [r.name for r in parse_slabinfo(a.proc_slabinfo())]
    assert "foo" in rows and "bar" not in rows
    # destroying an alias drops a reference only
    a.kmem_cache_destroy(c2)
    assert c1.refcount == 1 and not c1.dead
    a.kmem_cache_destroy(c1)
    assert c1.dead
    with pytest.raises(S.CacheDestroyedError):
        a.kmem_cache_alloc(c1)


def test_destroy_busy_cache_raises():
    a = alloc()
    c = a.kmem_cache_create("busy", 200, 0, SLAB_POISON)
    p = a.kmem_cache_alloc(c)
    before = _state(a)
    with pytest.raises(S.CacheBusyError):
        a.kmem_cache_destroy(c)
    assert _state(a) == before
    a.kmem_cache_free(c, p)
    free_before = a.zone.free_pages_count()
    a.kmem_cache_destroy(c)
    assert a.zone.free_pages_count() == free_before + 1
    with pytest.raises(BadFreeError):
        a.kmem_cache_destroy(a.find_cache("kmalloc-64"))


def test_debug_cache_ksize_and_addresses():
    a = alloc()
    c = a.kmem_cache_create("dbg", 100, 0, SLAB_RED_ZONE | SLAB_STORE_USER)
    # 100 → 104; fp middle; +64 tracks → 168; +8 → 176; left pad 8 → 184
    assert (c.size, c.red_left_pad, c.ksize) == (184, 8, 100)
    p = a.kmem_cache_alloc(c)
    slab = a.slab_of(p)
    assert p == slab.base + 8                          # object after the left red zone
    q = a.kmem_cache_alloc(c)
    assert q - p == 184
    su = a.kmem_cache_create("su", 100, 0, SLAB_STORE_USER)
    assert su.ksize == su.inuse == 104


def test_accounting_and_traces():
    a = alloc()
    for _ in range(3):
        a.kmalloc(100, caller="foo_init")
    a.kmalloc(65, caller="bar_probe")
    a.kmalloc(9000, caller="big_buf")
    rows = a.alloc_traces()
    assert rows[0].caller == "big_buf" and rows[0].waste == 16384 - 9000
    foo = next(r for r in rows if r.caller == "foo_init")
    assert (foo.count, foo.requested, foo.allocated, foo.waste, foo.caches) == (3, 300, 384, 84, ("kmalloc-128",))
    st = a.cache_stats(a.find_cache("kmalloc-128"))
    assert (st.objects_inuse, st.requested_bytes, st.allocated_bytes, st.request_waste) == (3, 300, 384, 84)
    assert (st.nr_slabs, st.slab_bytes, st.objects_total, st.free_slot_bytes, st.tail_waste) == (1, 4096, 32, 29 * 128, 0)
    assert st.loss == 4096 - 3 * 128
    t = a.totals()
    assert t.requested_bytes == 300 + 65 + 9000
    assert t.allocated_bytes == 384 + 96 + 16384
    assert t.large_allocs == 1 and t.large_pages == 4
    sl = a.slab_stats(a.find_cache("kmalloc-96"))
    assert len(sl) == 1 and sl[0].tail_waste == 4096 - 42 * 96 == 64 and sl[0].where == "cpu"


def test_proc_slabinfo_format_matches_kernel_row_format():
    a = alloc()
    for _ in range(50):
        a.kmalloc(96)
    text = a.proc_slabinfo()
    line = next(l for l in text.splitlines() if l.startswith("kmalloc-96 "))
    # "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu"
    # the 34 free objects sit in the CPU slab, so they count as active (get_slabinfo)
    assert line == "kmalloc-96            84     84     96   42    1 : tunables    0    0    0 : slabdata      2      2      0"
    rows = parse_slabinfo(text)
    assert rows[-1].name == "kmem_cache" and rows[0].name == "kmalloc_buckets"   # newest first
    rep = a.slabinfo_report(only_used=True)
    assert "kmalloc-96" in rep.splitlines()[1]


def test_active_objs_counts_cpu_slab_free_objects():
    a = alloc()
    ptrs = [a.kmalloc(96) for _ in range(84)]        # two full slabs
    a.kfree(ptrs[0])                                  # first slab → partial list (1 free)
    row = next(r for r in parse_slabinfo(a.proc_slabinfo()) if r.name == "kmalloc-96")
    assert (row.active_objs, row.num_objs) == (83, 84)
    a.kfree(ptrs[-1])                                 # cpu slab: free object still "active"
    row = next(r for r in parse_slabinfo(a.proc_slabinfo()) if r.name == "kmalloc-96")
    assert (row.active_objs, row.num_objs) == (83, 84)


def test_page_size_parameter():
    p = S.SlubParams(page_shift=14)
    a = S.SlubAllocator(Zone(256, page_shift=14, log_events=False), params=p)
    x = a.kmalloc(20000)
    assert a.allocation(x).cache == "kmalloc-32k" and a.ksize(x) == 32768
    y = a.kmalloc(40000)
    assert a.ksize(y) == 65536 and a.allocation(y).cache is None
