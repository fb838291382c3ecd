"""Hypothesis property tests over random alloc/free traces of kmemlib.mm.page_alloc.Zone."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmemlib.mm import gfp
from kmemlib.mm.page_alloc import Zone
from kmemlib.mm.vmstat import fill_contig_page_info

GFPS = [gfp.GFP_KERNEL, gfp.GFP_HIGHUSER_MOVABLE, gfp.FLAGS["RECLAIMABLE"] | gfp.GFP_KERNEL]

op = st.tuples(st.booleans(), st.integers(0, 10), st.integers(0, 2), st.integers(0, 10 ** 6))
geometry = st.tuples(st.integers(1, 5000), st.integers(0, 3000), st.sampled_from([3, 5, 9]))


def check_invariants(z: Zone, live: list[tuple[int, int]]) -> None:
    free = z.free_blocks()
    spans = sorted([(p, p + (1 << o)) for p, o, _ in free] + [(p, p + (1 << o)) for p, o in live])
    # no two blocks overlap, every block inside the zone
    for (s1, e1), (s2, _) in zip(spans, spans[1:]):
        assert e1 <= s2
    assert all(z.start_pfn <= s and e <= z.end_pfn for s, e in spans)
    # pages conserved
    assert sum(e - s for s, e in spans) == z.nr_pages
    # buddyinfo agrees with the free lists; per-type rows sum to it
    row = [0] * z.nr_page_orders
    for _, o, _ in free:
        row[o] += 1
    assert z.nr_free() == row
    assert [sum(c) for c in zip(*(z.nr_free_type(mt) for mt in range(5)))] == row
    assert fill_contig_page_info(row, 0).free_pages == z.free_pages_count()
    # free lists hold exactly the free blocks, with their migrate type
    listed = sorted((p, o, mt) for mt in range(5) for o in range(z.nr_page_orders) for p in z.free_list(mt, o))
    assert listed == free
    # no free block has a free buddy of the same order (it would have merged), blocks aligned
    heads = {(p, o) for p, o, _ in free}
    for p, o, mt in free:
        assert p % (1 << o) == 0
        if o < z.max_page_order and (p ^ (1 << o), o) in heads:
            bmt = [m for q, oo, m in free if q == p ^ (1 << o)][0]
            assert o >= z.pageblock_order and bmt != mt   # only unmergeable types may sit side by side


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geometry, st.lists(op, max_size=120))
def test_random_traces_conserve_and_coalesce(geom, ops):
    nr, start, pbo = geom
    z = Zone(nr, start_pfn=start, pageblock_order=pbo, log_events=False)
    initial = z.free_blocks()
    live: list[tuple[int, int]] = []
    for is_free, order, g, pick in ops:
        if is_free and live:
            p, o = live.pop(pick % len(live))
            z.free_pages(p, o)
        else:
            p = z.alloc_pages(order, GFPS[g])
            if p is not None:
                assert p % (1 << order) == 0
                live.append((p, order))
        check_invariants(z, live)
    for p, o in live:
        z.free_pages(p, o)
    check_invariants(z, [])
    # freeing everything coalesces back to the initial blocks (pageblock types may have changed)
    assert [(p, o) for p, o, _ in z.free_blocks()] == [(p, o) for p, o, _ in initial]


@settings(max_examples=40, deadline=None)
@given(st.lists(op, max_size=80))
def test_event_replay_matches(ops):
    z = Zone(2048, start_pfn=512)
    before = z.snapshot()
    n0 = len(z.events)
    live = []
    for is_free, order, g, pick in ops:
        if is_free and live:
            p, o = live.pop(pick % len(live))
            z.free_pages(p, o)
        elif pick % 7 == 0:
            p = z.alloc_pages_exact(1 + pick % (64 * 4096), GFPS[g])
            if p is not None:
                live.extend((q, 0) for q in range(p, p + (1 + pick % (64 * 4096) + 4095) // 4096))
        else:
            p = z.alloc_pages(order, GFPS[g])
            if p is not None:
                live.append((p, order))
    r = Zone(2048, start_pfn=512)
    r.restore(before)
    for ev in z.events[n0:]:
        r.apply(ev)
    assert r.fingerprint() == z.fingerprint()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=1, max_size=40))
def test_same_type_trace_restores_exact_free_lists(orders):
    # One migrate type only, no fallbacks: freeing in reverse order restores the lists exactly.
    z = Zone(4096, initial_migratetype=0, log_events=False)
    initial = [z.free_list(0, o) for o in range(11)]
    got = [(z.alloc_pages(o), o) for o in orders]
    for p, o in reversed(got):
        if p is not None:
            z.free_pages(p, o)
    assert [z.free_list(0, o) for o in range(11)] == initial
