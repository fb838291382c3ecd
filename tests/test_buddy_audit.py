"""Audit of kmemlib.mm.page_alloc / watermarks / fragmentation against the Linux 6.12.117 source.

Every expected value below is worked out by hand from the kernel function named in the comment
(paths relative to linux-source-6.12/), not taken from the model.
"""

import pytest

from kmemlib.mm import gfp
from kmemlib.mm.page_alloc import (
    ALLOC_CPUSET, ALLOC_HIGHATOMIC, ALLOC_KSWAPD, ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, ALLOC_WMARK_MIN,
    MIGRATE_HIGHATOMIC, MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, Node, Zone, gfp_to_alloc_flags,
)
from kmemlib.errors import BadFreeError, InvalidFlagsError, InvalidSizeError, OutOfZoneError
from kmemlib.mm.vmstat import fill_contig_page_info, format_extfrag_index, fragmentation_index


# ---------------------------------------------------------------- free_one_page / split_large_buddy
def _order10_block_over_two_pageblocks(upper_mt: int) -> Zone:
    """Zone of two order-10 blocks (PFN 0 and 1024, pageblock_order 9); block 0 allocated as
    MOVABLE, then its upper pageblock (512..1023) retyped to ``upper_mt``."""
    z = Zone(2048)
    assert z.alloc_pages(10, gfp.GFP_HIGHUSER_MOVABLE) == 0
    z.set_pageblock_migratetype(512, upper_mt)
    return z


def test_free_above_pageblock_order_merges_into_the_upper_pageblocks_type():
    # mm/page_alloc.c:free_one_page -> split_large_buddy: an order-10 free is done as two
    # order-9 __free_one_page calls, each with ITS pageblock's type.
    #   1. PFN 0, MOVABLE: buddy 512 is not free -> head of free_list[MOVABLE][9].
    #   2. PFN 512, UNMOVABLE: buddy 0 is free at order 9; order >= pageblock_order so
    #      buddy_mt = MOVABLE != UNMOVABLE, both mergeable -> merge, and
    #      change_pageblock_range(buddy 0, 9, UNMOVABLE); order 10 == MAX_PAGE_ORDER ends the
    #      loop; buddy_merge_likely is false at order >= MAX_PAGE_ORDER-1 -> head of
    #      free_list[UNMOVABLE][10].
    z = _order10_block_over_two_pageblocks(MIGRATE_UNMOVABLE)
    z.free_pages(0, 10)
    assert z.free_list(MIGRATE_UNMOVABLE, 10) == [0]
    assert z.free_list(MIGRATE_MOVABLE, 10) == [1024]
    assert z.get_pageblock_migratetype(0) == MIGRATE_UNMOVABLE
    assert z.get_pageblock_migratetype(512) == MIGRATE_UNMOVABLE
    assert z.pageblock_counts() == [2, 2, 0, 0, 0]
    assert z.nr_free() == [0] * 10 + [2]
    assert z.free_pages_count() == 2048


def test_free_above_pageblock_order_does_not_merge_into_highatomic():
    # Same as above with the upper pageblock MIGRATE_HIGHATOMIC (not mergeable,
    # migratetype_is_mergeable): step 2 stops at done_merging, so the two halves stay order-9
    # blocks on their own types' lists.
    z = _order10_block_over_two_pageblocks(MIGRATE_HIGHATOMIC)
    z.free_pages(0, 10)
    assert z.free_list(MIGRATE_MOVABLE, 9) == [0]
    assert z.free_list(MIGRATE_HIGHATOMIC, 9) == [512]
    assert z.nr_free() == [0] * 9 + [2, 1]
    assert z.nr_free_highatomic() == 512
    assert z.get_pageblock_migratetype(0) == MIGRATE_MOVABLE


def test_free_above_pageblock_order_event_log_replays():
    # The event log follows split_large_buddy: give 0/9, then merge 0/9 and give 0/10.
    z = _order10_block_over_two_pageblocks(MIGRATE_UNMOVABLE)
    before = z.snapshot()
    z.events.clear()
    z.free_pages(0, 10)
    kinds = [(e.kind, e.pfn, e.order) for e in z.events if e.kind in ("free", "give", "merge")]
    assert kinds == [("free", 0, 10), ("give", 0, 9), ("merge", 0, 9), ("give", 0, 10)]
    replay = Zone(2048, populate=False, log_events=False)
    replay.restore(before)
    for ev in z.events:
        replay.apply(ev)
    assert replay.fingerprint() == z.fingerprint()


# ---------------------------------------------------------------- ALLOC_NOFRAGMENT on one node
def test_nofragment_on_uma_does_not_need_a_populated_dma32():
    # mm/page_alloc.c:alloc_flags_nofragment: with nr_online_nodes == 1, ALLOC_NOFRAGMENT is set
    # whenever the preferred zone is ZONE_NORMAL; populated_zone(DMA32) is only checked when
    # nr_online_nodes > 1.
    # Node: DMA = PFN 1..4095, Normal = 65536 pages from PFN 4096, no DMA32.
    # Normal: every page allocated MOVABLE, then every odd PFN freed -> 32768 free order-0
    # MOVABLE blocks, nothing of order >= pageblock_order.
    # GFP_KERNEL order 0 (UNMOVABLE), first get_page_from_freelist pass (ALLOC_WMARK_LOW |
    # ALLOC_NOFRAGMENT):
    #   Normal: watermark ok (32768 free > low 620); __rmqueue_smallest(UNMOVABLE) finds nothing;
    #     __rmqueue_claim starts at min_order = pageblock_order = 9 -> nothing; __rmqueue_steal is
    #     skipped under ALLOC_NOFRAGMENT -> NULL.
    #   DMA: watermark ok (4095 free > low 37 + lowmem_reserve[NORMAL] 65536/256 = 256);
    #     __rmqueue_claim: order 10, MOVABLE list [1024, 2048, 3072] (boot order) ->
    #     try_to_steal_block takes the head, PFN 1024, and claims its pageblocks.
    node = Node.from_sizes(dma=4095, normal=65536)
    normal = node.zone("Normal")
    normal.log_events = False
    pfns = [normal.alloc_pages(0, gfp.GFP_HIGHUSER_MOVABLE) for _ in range(65536)]
    assert sorted(pfns) == list(range(4096, 4096 + 65536))
    for p in range(4097, 4096 + 65536, 2):
        normal.free_pages(p, 0)
    assert normal.nr_free() == [32768] + [0] * 10
    assert node.alloc_pages(0, gfp.GFP_KERNEL) == 1024
    dma = node.zone("DMA")
    assert dma.get_pageblock_migratetype(1024) == MIGRATE_UNMOVABLE
    assert dma.get_pageblock_migratetype(1536) == MIGRATE_UNMOVABLE
    assert normal.nr_free() == [32768] + [0] * 10          # Normal untouched


# ---------------------------------------------------------------- gfp_to_alloc_flags
def test_gfp_to_alloc_flags_highatomic_needs_gfp_high():
    # mm/page_alloc.c:gfp_to_alloc_flags: without __GFP_DIRECT_RECLAIM (and without
    # __GFP_NOMEMALLOC) ALLOC_NON_BLOCK is set; ALLOC_HIGHATOMIC only when order > 0 AND
    # ALLOC_MIN_RESERVE (__GFP_HIGH); ALLOC_CPUSET is dropped for non-blocking __GFP_HIGH.
    # GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN
    assert gfp_to_alloc_flags(gfp.GFP_NOWAIT, 1) == (ALLOC_WMARK_MIN | ALLOC_CPUSET | ALLOC_KSWAPD
                                                     | ALLOC_NON_BLOCK)
    # GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM
    assert gfp_to_alloc_flags(gfp.GFP_ATOMIC, 1) == (ALLOC_WMARK_MIN | ALLOC_KSWAPD | ALLOC_MIN_RESERVE
                                                     | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC)
    assert gfp_to_alloc_flags(gfp.GFP_ATOMIC, 0) == (ALLOC_WMARK_MIN | ALLOC_KSWAPD | ALLOC_MIN_RESERVE
                                                     | ALLOC_NON_BLOCK)
    # __GFP_NOMEMALLOC: no ALLOC_NON_BLOCK, hence no ALLOC_HIGHATOMIC either
    assert gfp_to_alloc_flags(gfp.GFP_ATOMIC | gfp.__GFP_NOMEMALLOC, 1) == (
        ALLOC_WMARK_MIN | ALLOC_KSWAPD | ALLOC_MIN_RESERVE)
    # GFP_KERNEL can block: only the MIN watermark, cpuset and kswapd
    assert gfp_to_alloc_flags(gfp.GFP_KERNEL, 3) == ALLOC_WMARK_MIN | ALLOC_CPUSET | ALLOC_KSWAPD


# ---------------------------------------------------------------- extfrag text (already right)
def test_fragmentation_index_can_be_negative_and_prints_like_c():
    # mm/vmstat.c:__fragmentation_index with one free order-0 page at order 1:
    # free_pages 1, blocks 1, suitable 0 -> 1000 - (1000 + 1*1000/2) / 1 = -500; extfrag_show_print
    # prints "%2d.%03d " of (-500/1000, -500%1000) = (0, -500) -> " 0.-500 ".
    row = [1] + [0] * 10
    assert fill_contig_page_info(row, 1).free_blocks_suitable == 0
    assert fragmentation_index(row, 1) == -500
    text = format_extfrag_index([(0, "Normal", row)])
    assert text.split("zone   Normal ")[1].startswith("-1.000  0.-500  0.-250 ")


# ---------------------------------------------------------------- rejected calls leave state unchanged
def test_set_pageblock_migratetype_rejects_pageblock_inside_a_larger_free_block():
    # Zone(2048): PFN 0..1023 is one free order-10 block on free_list[MOVABLE][10]. Pageblock
    # 512..1023 holds free pages of that block, so retyping it alone would leave free pages on
    # another type's list (the docstring's rejected case; the kernel splits such a buddy first,
    # move_freepages_block_isolate/split_large_buddy).
    z = Zone(2048)
    before = z.fingerprint()
    with pytest.raises(BadFreeError):
        z.set_pageblock_migratetype(512, MIGRATE_UNMOVABLE)
    assert z.fingerprint() == before
    assert z.get_pageblock_migratetype(512) == MIGRATE_MOVABLE


def test_move_freepages_block_bad_input_leaves_state_unchanged():
    z = Zone(2048)
    z.alloc_pages(0, gfp.GFP_HIGHUSER_MOVABLE)       # pageblock 0 now holds free blocks of order 0..9
    before = z.fingerprint()
    with pytest.raises(InvalidFlagsError):
        z.move_freepages_block(0, MIGRATE_MOVABLE, 9)
    with pytest.raises(OutOfZoneError):
        z.move_freepages_block(4096, MIGRATE_MOVABLE, MIGRATE_UNMOVABLE)
    assert z.fingerprint() == before


def test_node_setup_watermarks_bad_ratios_leave_watermarks_unchanged():
    node = Node.from_sizes(dma=4095, dma32=8192, normal=0, min_free_kbytes=1024)
    marks = [(z.wmark_min, z.wmark_low, z.wmark_high) for z in node.zones]
    with pytest.raises(InvalidSizeError):
        node.setup_watermarks(4096, lowmem_reserve_ratio=(256,))
    assert [(z.wmark_min, z.wmark_low, z.wmark_high) for z in node.zones] == marks


def test_node_rejects_overlapping_zones_without_touching_them():
    a = Zone(1024, start_pfn=0, name="DMA", zone_idx=0, node=3)
    b = Zone(1024, start_pfn=512, name="DMA32", zone_idx=1, node=3)
    with pytest.raises(InvalidSizeError):
        Node([a, b], node_id=0)
    assert (a.node, b.node) == (3, 3)


# ---------------------------------------------------------------- alloc_pages_exact on a node
def test_node_alloc_pages_exact_clears_gfp_highmem_like_the_kernel():
    # mm/page_alloc.c:alloc_pages_exact_noprof clears __GFP_COMP|__GFP_HIGHMEM before
    # __get_free_pages, so GFP_HIGHUSER_MOVABLE is served from ZONE_NORMAL (gfp_zone without
    # __GFP_HIGHMEM), never from ZONE_MOVABLE. Zones: Normal PFN 4096.., Movable above it.
    normal = Zone(4096, start_pfn=4096, name="Normal", zone_idx=2)
    movable = Zone(4096, start_pfn=8192, name="Movable", zone_idx=3)
    node = Node([normal, movable])
    node.setup_watermarks(128)
    pfn = node.alloc_pages_exact(3 * 4096, gfp.GFP_HIGHUSER_MOVABLE)
    assert node.zone_of(pfn) is normal
    assert pfn == 4096                  # head of free_list[MOVABLE][10] of Normal, low part kept
