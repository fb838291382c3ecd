"""kmalloc size classes and request arithmetic (kmemlib.mm.kmalloc) against hand-worked kernel cases."""

import pytest

from kmemlib.mm import gfp as G
from kmemlib.mm import kmalloc as K
from kmemlib.errors import InvalidFlagsError, InvalidSizeError


def test_constants_x86_64():
    assert K.KMALLOC_MIN_SIZE == 8
    assert K.KMALLOC_MAX_CACHE_SIZE == 8192
    assert K.KMALLOC_MAX_SIZE == 4 * 1024 * 1024
    assert K.KMALLOC_MAX_ORDER == 10
    assert K.ZERO_SIZE_PTR == 16


def test_kmalloc_info_sizes_and_names():
    assert [K.KMALLOC_INFO[i][0] for i in range(22)] == [
        0, 96, 192, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
        16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152]
    assert K.kmalloc_cache_name(10) == "kmalloc-1k"
    assert K.kmalloc_cache_name(1, K.KMALLOC_CGROUP) == "kmalloc-cg-96"
    assert K.kmalloc_cache_name(13, K.KMALLOC_DMA) == "dma-kmalloc-8k"
    assert K.kmalloc_cache_name(2, K.KMALLOC_RECLAIM) == "kmalloc-rcl-192"


def test_create_order_13_caches_per_type():
    names = K.kmalloc_cache_names()
    assert names == ["kmalloc-96", "kmalloc-192", "kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64",
                     "kmalloc-128", "kmalloc-256", "kmalloc-512", "kmalloc-1k", "kmalloc-2k",
                     "kmalloc-4k", "kmalloc-8k"]
    assert sum(len(K.kmalloc_cache_names(t)) for t in K.KMALLOC_CREATED_TYPES) == 52


@pytest.mark.parametrize("size,index", [
    (0, 0), (1, 3), (8, 3), (9, 4), (16, 4), (17, 5), (33, 6), (64, 6), (65, 1), (96, 1), (97, 7),
    (128, 7), (129, 2), (192, 2), (193, 8), (256, 8), (257, 9), (4096, 12), (4097, 13), (8192, 13),
    (8193, 14), (2 * 1024 * 1024, 21)])
def test___kmalloc_index(size, index):
    assert K.kmalloc_index(size) == index


def test___kmalloc_index_bug_above_2m():
    with pytest.raises(InvalidSizeError):
        K.kmalloc_index(2 * 1024 * 1024 + 1)


def test_runtime_index_matches_compile_time_for_every_cache_size():
    # kmalloc_slab() (table + fls) and __kmalloc_index() must agree for 1..8192.
    for size in range(1, 8193):
        assert K.kmalloc_slab_index(size) == K.kmalloc_index(size), size


def test_size_index_table_is_the_kernels():
    assert K.kmalloc_size_index_table() == (3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7,
                                            2, 2, 2, 2, 2, 2, 2, 2)


def test_size_index_table_patched_for_large_min_size():
    t64 = K.kmalloc_size_index_table(64)
    assert t64[(8 - 1) // 8] == 6 and t64[(56 - 1) // 8] == 6      # below 64 → kmalloc-64
    assert t64[(72 - 1) // 8] == 7 and t64[(96 - 1) // 8] == 7     # no 96 cache
    assert t64[(136 - 1) // 8] == 2                                 # 192 kept
    t128 = K.kmalloc_size_index_table(128)
    assert t128[(192 - 1) // 8] == 8                                # no 192 cache
    assert K.kmalloc_cache_indices(64) == [2, 6, 7, 8, 9, 10, 11, 12, 13]
    assert K.kmalloc_cache_indices(128) == [7, 8, 9, 10, 11, 12, 13]
    assert K.kmalloc_size_roundup(65, kmalloc_min_size=64) == 128
    assert K.kmalloc_size_roundup(1, kmalloc_min_size=64) == 64
    with pytest.raises(InvalidSizeError):
        K.kmalloc_size_index_table(48)
    with pytest.raises(InvalidSizeError):
        K.kmalloc_size_index_table(512)


@pytest.mark.parametrize("size,rounded", [
    (0, 0), (1, 8), (100, 128), (65, 96), (96, 96), (150, 192), (200, 256), (8192, 8192),
    (8193, 16384), (16385, 32768), (4 * 1024 * 1024, 4 * 1024 * 1024), (4 * 1024 * 1024 + 1, 4 * 1024 * 1024 + 1)])
def test_kmalloc_size_roundup(size, rounded):
    assert K.kmalloc_size_roundup(size) == rounded


def test_kmalloc_type_priority():
    assert K.kmalloc_type(G.GFP_KERNEL) == K.KMALLOC_NORMAL
    assert K.kmalloc_type(G.GFP_ATOMIC) == K.KMALLOC_NORMAL
    assert K.kmalloc_type(G.GFP_KERNEL_ACCOUNT) == K.KMALLOC_CGROUP
    assert K.kmalloc_type(G.GFP_KERNEL | G.__GFP_RECLAIMABLE) == K.KMALLOC_RECLAIM
    assert K.kmalloc_type(G.GFP_KERNEL | G.__GFP_RECLAIMABLE | G.__GFP_ACCOUNT) == K.KMALLOC_RECLAIM
    assert K.kmalloc_type(G.GFP_KERNEL | G.__GFP_DMA | G.__GFP_RECLAIMABLE | G.__GFP_ACCOUNT) == K.KMALLOC_DMA
    assert K.kmalloc_type(G.GFP_KERNEL | G.__GFP_NO_OBJ_EXT) == K.KMALLOC_NO_OBJ_EXT
    assert K.kmalloc_effective_type(K.KMALLOC_NO_OBJ_EXT) == K.KMALLOC_NORMAL
    assert K.kmalloc_effective_type(K.KMALLOC_CGROUP, memcg_kmem=False) == K.KMALLOC_NORMAL
    with pytest.raises(InvalidFlagsError):
        K.kmalloc_type(1 << 40)


def test_plan_worked_examples():
    p = K.kmalloc_plan(100)
    assert (p.cache, p.via, p.allocated, p.waste) == ("kmalloc-128", "slab", 128, 28)
    assert p.waste_pct_of_request == pytest.approx(28.0)
    assert p.waste_pct_of_allocation == pytest.approx(21.875)
    p = K.kmalloc_plan(65, G.GFP_KERNEL_ACCOUNT)
    assert (p.cache, p.allocated) == ("kmalloc-cg-96", 96)
    p = K.kmalloc_plan(8193)
    assert (p.cache, p.via, p.order, p.allocated) == (None, "page allocator", 2, 16384)
    p = K.kmalloc_plan(0)
    assert (p.via, p.allocated) == ("ZERO_SIZE_PTR", 0)
    p = K.kmalloc_plan(K.KMALLOC_MAX_SIZE + 1)
    assert (p.via, p.allocated, p.cache) == ("fail", 0, None)
    p = K.kmalloc_plan(K.KMALLOC_MAX_SIZE)
    assert (p.via, p.order) == ("page allocator", 10)
    assert K.kmalloc_plan(200, G.GFP_DMA).cache == "dma-kmalloc-256"
    assert K.kmalloc_plan(3000, G.GFP_KERNEL | G.__GFP_RECLAIMABLE).cache == "kmalloc-rcl-4k"


def test_plan_with_other_page_size():
    # 16 KiB pages: KMALLOC_MAX_CACHE_SIZE = 32 KiB, so 20000 bytes still come from a slab cache.
    p = K.kmalloc_plan(20000, page_shift=14)
    assert (p.via, p.allocated, p.cache) == ("slab", 32768, "kmalloc-32k")
    p = K.kmalloc_plan(40000, page_shift=14)
    assert (p.via, p.order, p.allocated) == ("page allocator", 2, 65536)


@pytest.mark.parametrize("bad", [-1, 1 << 64, 1.5, "8", None, True])
def test_bad_sizes_raise(bad):
    with pytest.raises(InvalidSizeError):
        K.kmalloc_plan(bad)
    with pytest.raises(InvalidSizeError):
        K.kmalloc_size_roundup(bad)


def test_bad_gfp_raise():
    with pytest.raises(InvalidFlagsError):
        K.kmalloc_plan(8, 1 << 30)
    with pytest.raises(InvalidFlagsError):
        K.kmalloc_plan(8, G.GFP_KERNEL | G.__GFP_HIGHMEM)
    with pytest.raises(InvalidFlagsError):
        K.kmalloc_plan(8, G.GFP_DMA32)


def test_kmalloc_min_size_256_is_rejected_cleanly():
    """KMALLOC_MIN_SIZE=256 would route 72..96 B to a kmalloc-128 cache that is never created."""
    import pytest
    from kmemlib.errors import InvalidSizeError
    from kmemlib.mm.kmalloc import kmalloc_size_index_table
    from kmemlib.mm.slub import SlubAllocator, SlubParams

    with pytest.raises(InvalidSizeError, match="KMALLOC_MIN_SIZE"):
        kmalloc_size_index_table(256)
    with pytest.raises(InvalidSizeError, match="KMALLOC_MIN_SIZE"):
        SlubAllocator(params=SlubParams(kmalloc_min_size=256))
    # 128 is the largest accepted value and still serves 80 B from kmalloc-128
    a = SlubAllocator(params=SlubParams(kmalloc_min_size=128))
    assert a.ksize(a.kmalloc(80)) == 128
