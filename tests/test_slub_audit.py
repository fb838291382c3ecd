"""Audit of the SLUB/kmalloc model against the Linux 6.12 source, for cases the live comparison
cannot reach (debug flags, ctor, RCU, merging, KMALLOC_MIN_SIZE != 8, slab_debug=, huge sizes).

Every expected value is worked by hand from the kernel function named in the comment; nothing is
copied from the model's output.
"""

import pytest

from kmemlib.mm import kmalloc as K
from kmemlib.mm import slub as S
from kmemlib.errors import BadFreeError, InvalidFlagsError, InvalidSizeError
from kmemlib.mm.slab_flags import (SLAB_ACCOUNT, SLAB_CACHE_DMA, SLAB_CACHE_DMA32, SLAB_CONSISTENCY_CHECKS,
                                SLAB_HWCACHE_ALIGN, SLAB_NOLEAKTRACE, SLAB_NO_USER_FLAGS, SLAB_POISON,
                                SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TYPESAFE_BY_RCU,
                                kmem_cache_flags)
from kmemlib.readers.sysfs import SysfsCache, model_cache, parse_slabinfo

FZPU = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER


# ------------------------------------------------------------------ min_objects (calculate_order)

@pytest.mark.parametrize("nr, expected", [(1, 8), (2, 12), (3, 12), (4, 16), (7, 16), (8, 20), (15, 20),
                                          (16, 24), (31, 24), (32, 28), (64, 32)])
def test_min_objects_is_4_times_fls_plus_1(nr, expected):
    # mm/slub.c:calculate_order: min_objects = 4 * (fls(nr_cpus) + 1); fls(3) == 2, fls(4) == 3.
    # (kernel-facts.md §3's "3-4 -> 16, 5-8 -> 20" table is off by one CPU.)
    assert S.slub_min_objects_for(nr) == expected


def test_one_present_cpu_uses_nr_cpu_ids():
    # calculate_order: "if (nr_cpus <= 1) nr_cpus = nr_cpu_ids"
    assert S.slub_min_objects_for(1, 8) == 20


# ------------------------------------------------------------------ kmem_cache_flags (slab_debug=)

def test_no_user_flags_cache_ignores_slab_debug():
    # mm/slub.c:kmem_cache_flags: "if (flags & SLAB_NO_USER_FLAGS) return flags;"
    assert kmem_cache_flags(SLAB_NO_USER_FLAGS, "x", FZPU) == SLAB_NO_USER_FLAGS
    assert kmem_cache_flags(SLAB_NO_USER_FLAGS, "x", FZPU, ("x",)) == SLAB_NO_USER_FLAGS


def test_no_user_flags_geometry_has_no_red_zone():
    p = S.SlubParams(slub_debug=SLAB_RED_ZONE)
    # Without NO_USER_FLAGS: 64 -> +8 right red zone word = 72 (inuse), free pointer in the middle,
    # +8 padding word = 80, + red_left_pad ALIGN(8, 8) = 88 (calculate_sizes).
    assert S.make_geometry("y", 64, 0, 0, params=p).size == 88
    assert S.make_geometry("x", 64, 0, SLAB_NO_USER_FLAGS, params=p).size == 64


def test_noleaktrace_drops_global_store_user_only():
    # kmem_cache_flags: NOLEAKTRACE clears STORE_USER from the *global* slub_debug ...
    assert kmem_cache_flags(SLAB_NOLEAKTRACE, "kmemleak_object", SLAB_STORE_USER | SLAB_RED_ZONE) \
        == SLAB_NOLEAKTRACE | SLAB_RED_ZONE
    # ... but a block naming the cache applies its flags in full ("let the user enable it").
    assert kmem_cache_flags(SLAB_NOLEAKTRACE, "kmemleak_object", SLAB_STORE_USER, ("kmemleak_object",)) \
        == SLAB_NOLEAKTRACE | SLAB_STORE_USER


def test_slab_list_glob_compares_the_prefix_before_the_star():
    # kmem_cache_flags: with a '*' the comparison length is the part before it (strncmp), wherever
    # the star is; without one the names must be equal.
    assert kmem_cache_flags(0, "kmalloc-rcl-16", SLAB_RED_ZONE, ("kmalloc-*-8",)) == SLAB_RED_ZONE
    assert kmem_cache_flags(0, "dentry", SLAB_RED_ZONE, ("dent",)) == 0
    assert kmem_cache_flags(0, "dentry", SLAB_RED_ZONE, ("dent*",)) == SLAB_RED_ZONE


# ------------------------------------------------------------------ calculate_sizes with debug flags

def test_kmalloc_8k_red_zone_left_pad_is_a_whole_object():
    # create_boot_cache: align 8192; calculate_sizes: 8192 -> 8200 (RZ word), offset middle 4096,
    # +8 = 8208, red_left_pad = ALIGN(8, 8192) = 8192 -> 16400 -> ALIGN(.., 8192) = 24576.
    # calculate_order: max_objects = 32768/24576 = 1, min_order 3, fraction 4 accepts 8192 leftover.
    g = S.kmalloc_cache_geometry(13, K.KMALLOC_NORMAL, S.SlubParams(slub_debug=SLAB_RED_ZONE))
    assert (g.size, g.red_left_pad, g.offset, g.order, g.objects) == (24576, 8192, 4096, 3, 1)
    assert g.ksize == 8192 and g.cpu_partial == 0


def test_kmalloc_store_user_red_zone_orig_size():
    # kmalloc-64 with slab_debug=FZPU: 64 -> 72 (RZ), POISON moves the free pointer out: offset 72,
    # 80; 2 tracks (2*32) = 144; orig_size (SLAB_KMALLOC) 152; +8 = 160; red_left_pad 64 -> 224;
    # ALIGN(224, 64) = 256. 16 per order-0 slab.
    g = S.kmalloc_cache_geometry(6, K.KMALLOC_NORMAL, S.SlubParams(slub_debug=FZPU))
    assert (g.size, g.inuse, g.offset, g.red_left_pad, g.order, g.objects) == (256, 72, 72, 64, 0, 16)
    assert g.layout.orig_size_bytes == 8 and g.layout.track_bytes == 64
    assert g.ksize == 64


def test_red_zone_and_orig_size_move_free_pointer_out_without_poison():
    # calculate_sizes: RED_ZONE && slub_debug_orig_size() (STORE_USER on a kmalloc cache) -> outside.
    g = S.kmalloc_cache_geometry(7, K.KMALLOC_NORMAL, S.SlubParams(slub_debug=SLAB_RED_ZONE | SLAB_STORE_USER))
    assert g.offset == g.inuse == 136
    # Same flags on a non-kmalloc cache: no orig_size, free pointer in the middle (64).
    h = S.make_geometry("c128", 128, 128, SLAB_RED_ZONE | SLAB_STORE_USER)
    assert h.offset == 64 and h.layout.orig_size_bytes == 0


# ------------------------------------------------------------------ ksize per flag combination

@pytest.mark.parametrize("flags, ctor, ksize", [
    (0, False, 104),                                 # slab_ksize: s->size (ALIGN(100, 8))
    (SLAB_RED_ZONE, False, 100),                     # object_size
    (SLAB_POISON, False, 100),                       # object_size
    (SLAB_STORE_USER, False, 104),                   # s->inuse
    (SLAB_TYPESAFE_BY_RCU, False, 104),              # s->inuse (slot is 112: free pointer outside)
    (0, True, 112),                                  # ctor, no debug: s->size, free pointer word included
    (SLAB_RED_ZONE | SLAB_TYPESAFE_BY_RCU, False, 100),
])
def test_ksize_per_flag_combination(flags, ctor, ksize):
    a = S.SlubAllocator()
    c = a.kmem_cache_create("t", 100, 0, flags, (lambda o: None) if ctor else None)
    p = a.kmem_cache_alloc(c)
    assert a.ksize(p) == ksize


def test_ksize_large_kmalloc_is_folio_size():
    a = S.SlubAllocator()
    # __ksize: not a slab folio -> folio_size = PAGE_SIZE << get_order(8193) = 16384
    assert a.ksize(a.kmalloc(8193)) == 16384
    assert a.ksize(a.kmalloc(4 << 20)) == 4 << 20
    assert a.kmalloc((4 << 20) + 1) is None          # order 11 > MAX_PAGE_ORDER: NULL


# ------------------------------------------------------------------ kmalloc_size_roundup, KMALLOC_MIN_SIZE

def test_kmalloc_size_roundup_zero_and_huge():
    # slab_common.c:kmalloc_size_roundup returns 'size' for 0 and for > KMALLOC_MAX_SIZE.
    assert K.kmalloc_size_roundup(0) == 0
    assert K.kmalloc_size_roundup((4 << 20) + 1) == (4 << 20) + 1
    assert K.kmalloc_size_roundup(2 ** 64 - 1) == 2 ** 64 - 1
    assert K.kmalloc_size_roundup(8193) == 16384 and K.kmalloc_size_roundup(4 << 20) == 4 << 20
    with pytest.raises(InvalidSizeError):
        K.kmalloc_size_roundup(2 ** 64)


@pytest.mark.parametrize("minsize, sizes", [
    # setup_kmalloc_cache_index_table: < KMALLOC_MIN_SIZE -> SHIFT_LOW; >= 64 drops the 96 cache
    # (72..96 -> 7), >= 128 drops the 192 cache (136..192 -> 8).
    (16, {1: 16, 8: 16, 9: 16, 17: 32, 65: 96, 129: 192}),
    (64, {1: 64, 8: 64, 65: 128, 96: 128, 129: 192, 193: 256}),
    (128, {1: 128, 100: 128, 129: 256, 192: 256}),
])
def test_kmalloc_min_size_index_table(minsize, sizes):
    for size, want in sizes.items():
        assert K.kmalloc_size_roundup(size, kmalloc_min_size=minsize) == want
    a = S.SlubAllocator(params=S.SlubParams(kmalloc_min_size=minsize))
    for size, want in sizes.items():
        assert a.ksize(a.kmalloc(size)) == want


# ------------------------------------------------------------------ kmalloc_array overflow / bad input

def test_kmalloc_array_overflow_and_out_of_range_operands():
    a = S.SlubAllocator()
    # check_mul_overflow on size_t: 2**32 * 2**32 = 2**64 overflows -> NULL
    assert a.kmalloc_array(2 ** 32, 2 ** 32) is None
    assert a.kcalloc(2 ** 63, 2) is None
    # n and size are size_t: values that no size_t can hold are bad input, not a 0-byte request
    before = a.proc_slabinfo()
    with pytest.raises(InvalidSizeError):
        a.kmalloc_array(2 ** 64, 0)
    with pytest.raises(InvalidSizeError):
        a.kcalloc(0, 2 ** 64)
    assert a.proc_slabinfo() == before


# ------------------------------------------------------------------ merging and sysfs names

def test_merge_widens_object_size_and_inuse():
    a = S.SlubAllocator()
    x = a.kmem_cache_create("x", 100)        # slot 104, sysfs :0000104
    y = a.kmem_cache_create("y", 104)        # __kmem_cache_alias: object_size = max(100, 104)
    assert y is x and x.refcount == 2
    assert (x.object_size, x.inuse, x.size) == (104, 104, 104)
    z = a.kmem_cache_create("z", 97)         # ALIGN(97, 8) = 104 -> same slot, nothing widens
    assert z is x and (x.object_size, x.inuse) == (104, 104)
    assert a.sysfs_entries()["z"] == ":0000104"
    # /proc/slabinfo keeps the first creator's name once
    assert [r.name for r in parse_slabinfo(a.proc_slabinfo())].count("x") == 1


def test_plain_cache_merges_into_consistency_checks_cache():
    # find_mergeable compares only SLAB_MERGE_SAME; CONSISTENCY_CHECKS is not in SLAB_NEVER_MERGE.
    a = S.SlubAllocator()
    f = a.kmem_cache_create("f", 64, 0, SLAB_CONSISTENCY_CHECKS)
    assert f.sysfs_name == ":F-0000064"
    assert a.kmem_cache_create("g", 64) is f


def test_unique_id_letter_order():
    # create_unique_id: d D a F A, then '-', then %07u
    flags = SLAB_ACCOUNT | SLAB_CONSISTENCY_CHECKS | SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA32 | SLAB_CACHE_DMA
    assert S.create_unique_id(flags, 64) == ":dDaFA-0000064"


def test_sysfs_dma32_letter_is_read_back():
    c = SysfsCache(":D-0000064", {"object_size": "64\n", "slab_size": "64\n", "align": "8\n",
                                  "order": "0\n", "objs_per_slab": "64\n"})
    assert c.flags & SLAB_CACHE_DMA32
    assert S.create_unique_id(c.flags, 64) == ":D-0000064"


def test_sysfs_kmalloc_cache_with_debug_flags():
    # A snapshot of a kernel booted with slab_debug=FZPU: sysfs shows the flag files; the model of
    # kmalloc-64 must carry them (see test_kmalloc_store_user_red_zone_orig_size: 256 bytes).
    attrs = {"object_size": "64\n", "slab_size": "256\n", "align": "64\n", "order": "0\n",
             "objs_per_slab": "16\n", "red_zone": "1\n", "poison": "1\n", "store_user": "1\n",
             "sanity_checks": "1\n", "min_partial": "5\n", "cpu_partial": "0\n"}
    g = model_cache(SysfsCache("kmalloc-64", attrs))
    assert (g.size, g.order, g.objects, g.cpu_partial) == (256, 0, 16, 0)
    # red zone only: 64 -> 72, +8 = 80, red_left_pad 64 -> 144 -> ALIGN 192; 21 per order-0 slab
    attrs2 = {"object_size": "64\n", "slab_size": "192\n", "align": "64\n", "order": "0\n",
              "objs_per_slab": "21\n", "red_zone": "1\n"}
    g2 = model_cache(SysfsCache("kmalloc-64", attrs2))
    assert (g2.size, g2.order, g2.objects) == (192, 0, 21)


# ------------------------------------------------------------------ pre-6.7 calculate_order

def test_pre_67_order_differs_in_the_documented_window():
    old = S.SlubParams(order_algorithm="6.1")
    # 6.7+: min_objects = min(12, 32768/11000 = 2) = 2, min_order = get_order(22000) = 3,
    # 32768 % 11000 = 10768 > 32768/4 but <= 32768/2 -> order 3 (2 objects).
    assert S.calculate_order(11000) == 3
    # 6.1: loop min_objects 2..2 with fractions 16, 8, 4 fails (order 3 leftover 10768 > 8192), then
    # calc_slab_order(size, 1, 3, 1): first order with >= 1 object is 2 (16384 % 11000 = 5384 <= 16384).
    assert S.calculate_order(11000, old) == 2
    # Outside the window both agree (kmalloc-8k: order 3, 4 objects).
    assert S.calculate_order(8192) == S.calculate_order(8192, old) == 3


# ------------------------------------------------------------------ /proc/slabinfo active_objs

def test_proc_slabinfo_active_objs_is_approximate_beyond_10000_partial_slabs():
    # count_partial_free_approx: with more than MAX_PARTIAL_TO_SCAN (10000) partial slabs, count the
    # free objects of the first 5000 and the last 5000 and scale by nr_partial / 10000 (mult_frac).
    p = S.SlubParams(slub_max_order=0)       # 1024-byte objects: 4 per order-0 slab
    a = S.SlubAllocator(params=p)
    c = a.kmem_cache_create("big", 1024, 0, 0)
    assert (c.order, c.objects) == (0, 4)
    nslabs = 10003
    addrs = [a.kmem_cache_alloc(c) for _ in range(4 * nslabs)]
    slabs = []
    for ad in addrs:
        sl = a.slab_of(ad)
        if not slabs or slabs[-1] is not sl:
            slabs.append(sl)
    assert len(slabs) == nslabs and c.cpu_slab is slabs[-1]
    by_slab = {}
    for ad in addrs:
        by_slab.setdefault(id(a.slab_of(ad)), []).append(ad)
    # one free in each of the first 10002 slabs (they join the partial list in that order) ...
    for sl in slabs[:-1]:
        a.kmem_cache_free(c, by_slab[id(sl)][0])
    # ... and a second free in the two slabs in the middle of the list, which the scan skips
    for sl in slabs[5000:5002]:
        a.kmem_cache_free(c, by_slab[id(sl)][1])
    assert len(c.partial) == 10002
    row = next(r for r in parse_slabinfo(a.proc_slabinfo()) if r.name == "big")
    # scanned: 10000 slabs x 1 free; mult_frac(10000, 10002, 10000) = 10002 (the exact count is 10004)
    assert row.num_objs == 4 * nslabs == 40012
    assert row.active_objs == 40012 - 10002


# ------------------------------------------------------------------ bad input: precise errors, no state change

def _state(a):
    return a.proc_slabinfo(), dict(a._live), a.zone.nr_free()


@pytest.mark.parametrize("call", [
    lambda a, p: a.kfree([p]),
    lambda a, p: a.ksize({}),
    lambda a, p: a.krealloc([p], 10),
    lambda a, p: a.kmem_cache_free(a.find_cache("kmalloc-128"), [p]),
    lambda a, p: a.allocation([p]),
    lambda a, p: a.slab_of([p]),
])
def test_unhashable_pointer_is_a_bad_free_not_a_type_error(call):
    a = S.SlubAllocator()
    p = a.kmalloc(100)
    before = _state(a)
    with pytest.raises(BadFreeError):
        call(a, p)
    assert _state(a) == before


def test_gfp_must_be_an_int_even_after_it_was_seen():
    from kmemlib.mm.gfp import GFP_KERNEL
    a = S.SlubAllocator()
    a.kmalloc(8, GFP_KERNEL)                 # the int GFP_KERNEL is now in the type cache
    before = _state(a)
    for bad in (float(GFP_KERNEL), [GFP_KERNEL]):
        with pytest.raises(InvalidFlagsError):
            a.kmalloc(8, bad)
    assert _state(a) == before


def test_without_hardened_usercopy_typed_kmalloc_caches_are_mergeable():
    # create_kmalloc_cache sets refcount = 1 after create_boot_cache; without HARDENED_USERCOPY
    # usersize is 0, so only KMALLOC_NORMAL (SLAB_NO_MERGE with MEMCG) stays unmergeable.
    from kmemlib.mm.slab_flags import SLAB_RECLAIM_ACCOUNT as RA
    a = S.SlubAllocator(params=S.SlubParams(hardened_usercopy=False))
    assert a.find_cache("kmalloc-8").sysfs_name == "kmalloc-8"
    assert a.find_cache("kmalloc-cg-8").sysfs_name == ":A-0000008"
    assert a.find_cache("dma-kmalloc-8").sysfs_name == ":d-0000008"
    c = a.kmem_cache_create("foo", 8, 0, RA)
    assert c is a.find_cache("kmalloc-rcl-8") and a.sysfs_entries()["foo"] == ":a-0000008"
