"""SLUB geometry (kmemlib.mm.slub pure functions) against hand-worked cases from mm/slub.c."""

import pytest

from kmemlib.mm import kmalloc as K
from kmemlib.mm import slub as S
from kmemlib.errors import InvalidAlignError, InvalidFlagsError, InvalidSizeError
from kmemlib.mm.slab_flags import (SLAB_ACCOUNT, SLAB_CACHE_DMA, SLAB_HWCACHE_ALIGN, SLAB_KMALLOC, SLAB_POISON,
                                SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TYPESAFE_BY_RCU)


def test_calculate_alignment():
    # HWCACHE_ALIGN halves the 64-byte line while the object fits in half of it.
    assert S.calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 232) == 64
    assert S.calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 24) == 32
    assert S.calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 16) == 16
    assert S.calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 4) == 8
    assert S.calculate_alignment(0, 0, 100) == 8
    assert S.calculate_alignment(0, 4, 100) == 8
    assert S.calculate_alignment(0, 128, 100) == 128
    with pytest.raises(InvalidAlignError):
        S.calculate_alignment(0, 24, 100)


def test_kmem_cache_232_to_256():
    g = S.make_geometry("kmem_cache", 232, 0, SLAB_HWCACHE_ALIGN)
    assert (g.size, g.align, g.order, g.objects) == (256, 64, 0, 16)
    assert g.slot_overhead == 24 and g.slab_waste == 0
    assert g.min_partial == 5 and g.cpu_partial == 52


def test_task_struct_5888x5_leaves_3328():
    g = S.make_geometry("task_struct", 5888, 64, 0)
    assert (g.size, g.order, g.objects) == (5888, 3, 5)
    assert g.slab_waste == 32768 - 5 * 5888 == 3328
    assert g.cpu_partial == 6 and g.cpu_partial_slabs == 3      # DIV_ROUND_UP(12, 5)
    assert g.min_partial == 6                                      # ilog2(5888)/2 = 6


def test_free_pointer_middle_by_default():
    lay = S.calculate_sizes(100, 0, 8)
    assert (lay.size, lay.inuse, lay.offset, lay.red_left_pad) == (104, 104, 48, 0)
    assert not lay.freeptr_outside


def test_free_pointer_outside_for_ctor_rcu_poison():
    for kw, flags in (({"ctor": True}, 0), ({}, SLAB_TYPESAFE_BY_RCU), ({}, SLAB_POISON)):
        lay = S.calculate_sizes(100, flags, 8, **kw)
        assert (lay.inuse, lay.offset, lay.size) == (104, 104, 112)
        assert lay.freeptr_outside
    lay = S.calculate_sizes(100, SLAB_TYPESAFE_BY_RCU, 8, freeptr_offset=16)
    assert (lay.offset, lay.size) == (16, 104)


def test_red_zone_cases():
    # object_size 100: ALIGN → 104 (room for a red zone already), +8 tail word, left pad 8.
    lay = S.calculate_sizes(100, SLAB_RED_ZONE, 8)
    assert (lay.inuse, lay.offset, lay.red_left_pad, lay.size) == (104, 48, 8, 120)
    # object_size 64 == ALIGN(64): one extra red zone word.
    lay = S.calculate_sizes(64, SLAB_RED_ZONE, 64)
    assert lay.inuse == 72 and lay.red_left_pad == 64 and lay.size == 192   # 72+8=80 +64 =144 → 192
    # tiny objects move the free pointer out
    lay = S.calculate_sizes(4, SLAB_RED_ZONE, 8)
    assert (lay.inuse, lay.offset, lay.size) == (8, 8, 32)                 # 8 +8 fp +8 +8 pad


def test_store_user_and_kmalloc_orig_size():
    lay = S.calculate_sizes(128, SLAB_STORE_USER, 8)
    assert lay.size == 128 + 64 and lay.track_bytes == 64
    lay = S.calculate_sizes(128, SLAB_STORE_USER | SLAB_KMALLOC, 8)
    assert lay.size == 128 + 64 + 8
    # kmalloc + red zone + store_user: free pointer outside (orig_size may extend the red zone)
    lay = S.calculate_sizes(128, SLAB_STORE_USER | SLAB_KMALLOC | SLAB_RED_ZONE, 128)
    # 128 → 136 (red word); fp outside → 144; tracks 208; orig 216; +8 = 224; left pad 128 → 352 → 384
    assert (lay.inuse, lay.offset, lay.red_left_pad, lay.size) == (136, 136, 128, 384)
    assert S.calculate_sizes(128, SLAB_STORE_USER, 8, track_size=24).size == 128 + 48


def test_slab_ksize_cases():
    assert S.slab_ksize(0, 100, 104, 128) == 128
    assert S.slab_ksize(SLAB_RED_ZONE, 100, 104, 128) == 100
    assert S.slab_ksize(SLAB_POISON, 100, 104, 128) == 100
    assert S.slab_ksize(SLAB_STORE_USER, 100, 104, 128) == 104
    assert S.slab_ksize(SLAB_TYPESAFE_BY_RCU, 100, 104, 128) == 104


# 4 * (fls(nr) + 1): fls(3) = 2, so 2-3 CPUs → 12, 4-7 → 16, 8-15 → 20, ... (kernel-facts §3 lists
# "3-4 → 16, 5-8 → 20", which does not follow from the formula in mm/slub.c; the formula wins).
@pytest.mark.parametrize("nr,mo", [(1, 8), (2, 12), (3, 12), (4, 16), (7, 16), (8, 20), (15, 20), (16, 24),
                                   (31, 24), (32, 28), (63, 28), (64, 32)])
def test_min_objects_by_cpu_count(nr, mo):
    assert S.slub_min_objects_for(nr) == mo


def test_min_objects_single_cpu_uses_nr_cpu_ids():
    assert S.slub_min_objects_for(1, nr_cpu_ids=64) == 32


def test_min_objects_changes_order():
    # 512-byte slot: 2 CPUs → min_objects 12 → 6144 bytes → order 1 (16 objs);
    # 64 CPUs → 32 objects → 16384 → order 2.
    assert S.calculate_order(512, S.SlubParams(nr_cpus=2)) == 1
    assert S.calculate_order(512, S.SlubParams(nr_cpus=64)) == 2
    assert S.calculate_order(512, S.SlubParams(nr_cpus=1)) == 0    # 8 objects = 4096 bytes


def test_calculate_order_algorithms_differ_exactly_on_10928_12280():
    new = S.SlubParams()
    old = S.SlubParams(order_algorithm="6.1")
    diff = [s for s in range(8, 32769, 8) if S.calculate_order(s, new) != S.calculate_order(s, old)]
    assert diff[0] == 10928 and diff[-1] == 12280
    assert diff == list(range(10928, 12281, 8))
    assert (S.calculate_order(10928, new), S.order_objects(3, 10928)) == (3, 2)
    assert (S.calculate_order(10928, old), S.order_objects(2, 10928)) == (2, 1)
    for nr in (1, 4, 16, 64):
        p_new, p_old = S.SlubParams(nr_cpus=nr), S.SlubParams(nr_cpus=nr, order_algorithm="6.1")
        for s in (10928, 11000, 12280):
            assert S.calculate_order(s, p_new) == 3 and S.calculate_order(s, p_old) == 2
        for s in (10920, 12288):
            assert S.calculate_order(s, p_new) == S.calculate_order(s, p_old)


def test_calculate_order_large_objects():
    assert S.calculate_order(32768 + 8) == 4            # beyond slab_max_order: get_order(size)
    assert S.calculate_order(4 * 1024 * 1024) == 10
    assert S.calculate_order(4 * 1024 * 1024 + 8) == -1


def test_oo():
    oo = S.oo_make(3, 5888)
    assert S.oo_order(oo) == 3 and S.oo_objects(oo) == 5


def test_unique_id_naming():
    assert S.create_unique_id(0, 24) == ":0000024"
    assert S.create_unique_id(SLAB_ACCOUNT, 192) == ":A-0000192"
    assert S.create_unique_id(SLAB_RECLAIM_ACCOUNT, 104) == ":a-0000104"
    assert S.create_unique_id(SLAB_CACHE_DMA | SLAB_ACCOUNT, 64) == ":dA-0000064"


def test_kmalloc_cache_geometry_matches_spec():
    g = S.kmalloc_cache_geometry(1)
    assert (g.name, g.size, g.align, g.order, g.objects) == ("kmalloc-96", 96, 32, 0, 42)
    g = S.kmalloc_cache_geometry(2, K.KMALLOC_CGROUP)
    assert (g.name, g.align, g.objects) == ("kmalloc-cg-192", 64, 21)
    g = S.kmalloc_cache_geometry(13)
    assert (g.align, g.order, g.objects, g.min_partial, g.cpu_partial) == (8192, 3, 4, 6, 6)
    g = S.kmalloc_cache_geometry(12, K.KMALLOC_DMA)
    assert g.name == "dma-kmalloc-4k" and g.flags & SLAB_CACHE_DMA


def test_layout_regions_tile_the_slot():
    for flags, ctor in ((0, False), (SLAB_RED_ZONE, False), (SLAB_RED_ZONE | SLAB_STORE_USER | SLAB_POISON, False),
                        (0, True), (SLAB_STORE_USER | SLAB_KMALLOC | SLAB_RED_ZONE, False)):
        g = S.make_geometry("x", 100, 0, flags, ctor=ctor)
        regs = [r for r in g.regions() if not r.overlaps_object]
        pos = 0
        for r in regs:
            assert r.start == pos, (flags, regs)
            pos += r.length
        assert pos == g.size


def test_bad_input():
    with pytest.raises(InvalidSizeError):
        S.make_geometry("x", 0)
    with pytest.raises(InvalidSizeError):
        S.make_geometry("x", -5)
    with pytest.raises(InvalidSizeError):
        S.make_geometry("x", 4 * 1024 * 1024 + 1)
    with pytest.raises(InvalidAlignError):
        S.make_geometry("x", 64, 48)
    with pytest.raises(InvalidFlagsError):
        S.make_geometry("x", 64, 0, 1 << 40)
    with pytest.raises(InvalidFlagsError):
        S.make_geometry("x", 64, 0, 0, freeptr_offset=8)
    with pytest.raises(InvalidSizeError):
        S.make_geometry("x", 64, 0, SLAB_TYPESAFE_BY_RCU, freeptr_offset=64)
    with pytest.raises(InvalidSizeError):
        S.SlubParams(slub_max_order=11)
    with pytest.raises(InvalidFlagsError):
        S.SlubParams(order_algorithm="5.0")
