"""Hand-worked kernel cases for kmemlib.mm.page_alloc (mm/page_alloc.c)."""

import pytest

from kmemlib.mm import gfp
from kmemlib.mm.page_alloc import (
    MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, Event, Node, Zone,
    __get_free_pages, alloc_pages, alloc_pages_exact, free_pages, free_pages_exact, get_zeroed_page,
    max_page_order_from,
)
from kmemlib.errors import (
    BadFreeError, DoubleFreeError, InvalidFlagsError, InvalidOrderError, InvalidSizeError, OutOfZoneError,
)
from kmemlib.mm.pages import PAGE_OFFSET, get_order


def test_contract_order0_from_order10():
    # An order-0 request on a zone that is one free order-10 block: __rmqueue_smallest takes
    # the order-10 head, expand() keeps PFN 0 and leaves one free block at each order 0..9.
    z = Zone(1024)
    assert z.nr_free() == [0] * 10 + [1]
    assert z.alloc_pages(0) == 0
    assert z.nr_free() == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    assert z.free_pages_count() == 1023
    # expand() put the upper halves at 512, 256, ..., 1 (order 9 .. 0)
    assert [(p, o) for p, o, _ in z.free_blocks()] == [(1 << o, o) for o in range(10)]
    z.free_pages(0, 0)
    assert z.nr_free() == [0] * 10 + [1]


def test_expand_keeps_low_half_and_upper_halves_go_to_heads():
    z = Zone(2048, initial_migratetype=MIGRATE_UNMOVABLE)   # two order-10 blocks: 0 then 1024
    assert z.free_list(MIGRATE_UNMOVABLE, 10) == [0, 1024]   # boot frees to the tail, ascending
    assert z.alloc_pages(8) == 0                             # head of the order-10 list, low part
    assert z.free_list(MIGRATE_UNMOVABLE, 9) == [512]
    assert z.free_list(MIGRATE_UNMOVABLE, 8) == [256]
    assert z.alloc_pages(8) == 256                           # smallest non-empty order first
    assert z.alloc_pages(8) == 512                           # splits 512@9: keeps 512, 768 to head
    assert z.free_list(MIGRATE_UNMOVABLE, 8) == [768]


def test_buddy_is_pfn_xor_size_and_merges_up():
    z = Zone(1024, initial_migratetype=MIGRATE_UNMOVABLE)
    pages = [z.alloc_pages(0) for _ in range(4)]
    assert pages == [0, 1, 2, 3]
    z.free_pages(1, 0)                 # buddy 1^1 = 0 is allocated: stays order 0
    assert z.buddy_order(1) == 0
    z.free_pages(0, 0)                 # buddy 0^1 = 1 is free: merge to 0@1; 0^2 = 2 allocated
    assert z.buddy_order(0) == 1 and z.buddy_order(1) is None
    z.free_pages(3, 0)
    z.free_pages(2, 0)                 # 2+3 -> 2@1, buddy 0@1 free -> 0@2 -> ... -> 0@10
    assert z.nr_free() == [0] * 10 + [1]
    merges = [(e.pfn, e.order) for e in z.events if e.kind == "merge"][-10:]
    assert merges[:3] == [(3, 0), (0, 1), (4, 2)]


def test_head_vs_tail_placement_buddy_merge_likely():
    # Free 2@0 while 3 is allocated: block 2@0's order-1 combined block is 2; its order-1 buddy
    # is 0@1. If 0@1 is free, buddy_merge_likely() is true -> tail; else head.
    z = Zone(1024, initial_migratetype=MIGRATE_UNMOVABLE)
    for _ in range(4):
        z.alloc_pages(0)
    # the order-2 block 4 and up are free; 0..3 allocated
    z.free_pages(0, 0)
    z.free_pages(1, 0)                 # 0@1 free now
    # free list order-0 gets a sentinel block first so head/tail differ
    z2 = Zone(1024, initial_migratetype=MIGRATE_UNMOVABLE)
    del z2
    z.free_pages(2, 0)                 # buddy 3 allocated; higher buddy 0@1 free -> to tail
    give = [e for e in z.events if e.kind == "give"][-1]
    assert (give.pfn, give.order, give.to_tail) == (2, 0, True)
    # now a case where the higher buddy is not free: head
    y = Zone(1024, initial_migratetype=MIGRATE_UNMOVABLE)
    for _ in range(4):
        y.alloc_pages(0)
    y.free_pages(2, 0)                 # higher buddy 0@1 is allocated -> head
    give = [e for e in y.events if e.kind == "give"][-1]
    assert (give.pfn, give.order, give.to_tail) == (2, 0, False)


def test_tail_placement_visible_in_list_order():
    z = Zone(1024, initial_migratetype=MIGRATE_UNMOVABLE)
    for _ in range(8):
        z.alloc_pages(0)               # 0..7 allocated, 8@3 free ...
    z.free_pages(5, 0)                 # buddy 4 used; higher 4@1's buddy 6@1 used -> head
    z.free_pages(0, 0)                 # higher 0@1's buddy 2@1 used -> head
    assert z.free_list(MIGRATE_UNMOVABLE, 0) == [0, 5]
    z.free_pages(2, 0)
    z.free_pages(3, 0)                 # 2+3 -> 2@1; its buddy 0@1 not free (1 used) -> higher
    # is 0@2 whose buddy 4@2 is not free -> head
    assert z.free_list(MIGRATE_UNMOVABLE, 1) == [2]
    z.free_pages(7, 0)                 # buddy 6 used; higher 6@1 buddy 4@1 not free -> head
    assert z.free_list(MIGRATE_UNMOVABLE, 0) == [7, 0, 5]
    z.free_pages(1, 0)                 # 0+1 -> 0@1, buddy 2@1 free -> 0@2; buddy 4@2 not free;
    # higher 0@3's buddy 8@3 is free -> buddy_merge_likely -> tail of order-2 list
    give = [e for e in z.events if e.kind == "give"][-1]
    assert (give.pfn, give.order, give.to_tail) == (0, 2, True)


def test_alloc_pages_exact_33k_keeps_9_of_16_and_tail_recoalesces():
    size = 33 * 1024
    assert get_order(size) == 4
    z = Zone(1024, initial_migratetype=MIGRATE_UNMOVABLE)
    pfn = z.alloc_pages_exact(size)
    assert pfn == 0
    assert z.allocated_blocks() == [(p, 0) for p in range(9)]
    # tail pages 9..15 freed as order 0 with FPI_TO_TAIL re-coalesce into 9@0, 10@1, 12@2
    low = [(p, o) for p, o, _ in z.free_blocks() if p < 16]
    assert low == [(9, 0), (10, 1), (12, 2)]
    frees = [e for e in z.events if e.kind == "give" and e.pfn < 16]
    assert all(e.to_tail for e in frees)
    assert z.nr_free() == [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0]
    z.free_pages_exact(pfn, size)
    assert z.nr_free() == [0] * 10 + [1]


def test_module_functions_use_direct_map_addresses():
    z = Zone(1024)
    addr = __get_free_pages(z, gfp.GFP_KERNEL, 2)
    assert addr == PAGE_OFFSET
    assert alloc_pages(z, gfp.GFP_KERNEL, 0) == 4
    page = get_zeroed_page(z)
    assert page == PAGE_OFFSET + 5 * 4096
    free_pages(z, addr, 2)
    a = alloc_pages_exact(z, 5000)
    free_pages_exact(z, a, 5000)
    z.free_pages(4, 0)
    free_pages(z, page, 0)
    assert z.nr_free() == [0] * 10 + [1]


def test_fallback_claims_whole_block_for_unmovable():
    # At boot every pageblock is MOVABLE; a GFP_KERNEL (UNMOVABLE) request falls back via
    # __rmqueue_claim: the largest block (order 10 >= pageblock_order) is taken whole and both
    # of its pageblocks become UNMOVABLE.
    z = Zone(2048)
    assert z.alloc_pages(0, gfp.GFP_KERNEL) == 0
    assert z.get_pageblock_migratetype(0) == MIGRATE_UNMOVABLE
    assert z.get_pageblock_migratetype(512) == MIGRATE_UNMOVABLE
    assert z.get_pageblock_migratetype(1024) == MIGRATE_MOVABLE
    assert z.nr_free_type(MIGRATE_UNMOVABLE) == [1] * 10 + [0]
    assert z.nr_free_type(MIGRATE_MOVABLE) == [0] * 10 + [1]


def test_fallback_steal_for_movable_small_order():
    # MOVABLE request, only UNMOVABLE free blocks of order < pageblock_order/2: claim breaks
    # (can_steal false), __rmqueue_steal takes the smallest fallback block, pageblock type kept.
    z = Zone(1024, initial_migratetype=MIGRATE_UNMOVABLE)
    assert z.alloc_pages(0) == 0                   # leaves UNMOVABLE blocks of orders 0..9
    for o in range(4, 10):                         # use up orders >= 4
        z.alloc_pages(o)
    got = z.alloc_pages(1, gfp.GFP_HIGHUSER_MOVABLE)
    assert got == 2                                # smallest UNMOVABLE block of order >= 1
    assert z.get_pageblock_migratetype(2) == MIGRATE_UNMOVABLE
    kinds = [e.kind for e in z.events if e.op == z.events[-1].op]
    assert "pageblock" not in kinds and "move" not in kinds


def test_fallback_claim_moves_free_pages_of_pageblock():
    # RECLAIMABLE request in a zone with only MOVABLE pageblocks partly used: claim of a
    # sub-pageblock block moves the pageblock's free blocks (>= half free) and retypes it.
    z = Zone(1024)
    m = z.alloc_pages(0, gfp.GFP_HIGHUSER_MOVABLE)
    assert m == 0
    z.alloc_pages(9, gfp.GFP_HIGHUSER_MOVABLE)     # 512@9 gone; pageblock 0 has 511 free pages
    got = z.alloc_pages(0, gfp.FLAGS["RECLAIMABLE"] | gfp.GFP_KERNEL)
    assert z.get_pageblock_migratetype(0) == MIGRATE_RECLAIMABLE
    assert got == 1
    assert z.nr_free_type(MIGRATE_MOVABLE) == [0] * 11


def test_oom_is_none_not_exception():
    z = Zone(16, max_page_order=4)
    assert z.alloc_pages(4) == 0
    assert z.alloc_pages(0) is None
    assert z.events[-1].kind == "fail"


def test_bad_input_raises_and_leaves_state_unchanged():
    z = Zone(1024, start_pfn=1024)
    a = z.alloc_pages(2)
    b = z.alloc_pages_exact(3 * 4096)
    before = z.fingerprint()
    cases = [
        (InvalidOrderError, lambda: z.alloc_pages(-1)),
        (InvalidOrderError, lambda: z.alloc_pages(11)),
        (InvalidOrderError, lambda: z.alloc_pages(1.0)),
        (InvalidFlagsError, lambda: z.alloc_pages(0, 1 << 40)),
        (InvalidFlagsError, lambda: z.alloc_pages(0, gfp.GFP_MOVABLE_MASK)),
        (InvalidSizeError, lambda: z.alloc_pages_exact(0)),
        (InvalidSizeError, lambda: z.alloc_pages_exact(-5)),
        (InvalidOrderError, lambda: z.alloc_pages_exact(4096 * 2048)),
        (OutOfZoneError, lambda: z.free_pages(0, 0)),
        (OutOfZoneError, lambda: z.free_pages(4096, 0)),
        (BadFreeError, lambda: z.free_pages(a, 1)),          # wrong order
        (BadFreeError, lambda: z.free_pages(a + 1, 0)),      # inside an allocation
        (DoubleFreeError, lambda: z.free_pages(a + 600, 0)),  # free page
        (InvalidOrderError, lambda: z.free_pages(a, 11)),
        (BadFreeError, lambda: z.free_pages_exact(b, 8 * 4096)),  # runs into free pages (a wrong size)
        (InvalidSizeError, lambda: z.free_pages_exact(b, 0)),
    ]
    for exc, call in cases:
        with pytest.raises(exc):
            call()
        assert z.fingerprint() == before, exc
    z.free_pages(a, 2)
    with pytest.raises(DoubleFreeError):
        z.free_pages(a, 2)
    assert issubclass(DoubleFreeError, BadFreeError)


def test_never_allocated_page_in_snapshot_zone_is_bad_free():
    z = Zone(1024, populate=False)
    with pytest.raises(BadFreeError):
        z.free_pages(0, 0)


def test_replay_events_reproduces_state():
    z = Zone(4096)
    start = z.snapshot()
    n0 = len(z.events)
    live = []
    for i in range(60):
        if i % 3 == 2 and live:
            p, o = live.pop(i % len(live))
            z.free_pages(p, o)
        else:
            o = i % 5
            g = (gfp.GFP_KERNEL, gfp.GFP_HIGHUSER_MOVABLE, gfp.FLAGS["RECLAIMABLE"] | gfp.GFP_KERNEL)[i % 3]
            p = z.alloc_pages(o, g)
            if p is not None:
                live.append((p, o))
    p = z.alloc_pages_exact(5 * 4096)
    end = z.snapshot()
    r = Zone(4096)
    r.restore(start)
    for ev in z.events[n0:]:
        assert isinstance(ev, Event)
        r.apply(ev)
    assert r.snapshot().fingerprint() == end.fingerprint()


def test_max_order_naming_parameter():
    assert max_page_order_from(11, exclusive=True) == 10
    assert max_page_order_from(10, exclusive=False) == 10
    old = Zone(1024, kernel_version=(6, 1))
    assert old.naming["macro"] == "MAX_ORDER" and old.naming["value"] == 11 and old.naming["exclusive"]
    assert Zone(1024).naming == {"macro": "MAX_PAGE_ORDER", "value": 10, "exclusive": False,
                                 "largest_order": 10, "nr_page_orders": 11}
    small = Zone(256, max_page_order=max_page_order_from(9, exclusive=True), pageblock_order=5)
    assert small.nr_free() == [0] * 8 + [1]


def test_node_zonelist_and_dma():
    node = Node.from_sizes(4095, 4096, 4096, min_free_kbytes=128)
    p = node.alloc_pages(0, gfp.GFP_DMA)
    assert node.zone_of(p).name == "DMA"
    q = node.alloc_pages(0, gfp.GFP_KERNEL)
    assert node.zone_of(q).name == "Normal"
    r = node.alloc_pages(0, gfp.GFP_DMA32)
    assert node.zone_of(r).name == "DMA32"
    node.free_pages(p, 0)
    with pytest.raises(OutOfZoneError):
        node.free_pages(10 ** 9, 0)
