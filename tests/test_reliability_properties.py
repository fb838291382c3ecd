"""Issue 15: hypothesis over the public API with arbitrary Python values.

Every call either succeeds or raises a KmemError; a call that raised changed nothing (state fingerprint, op
counter, event log); after every successful call the allocator's invariants hold. Values: ints (also huge and
negative), bools, floats (nan, inf, 1.8e19), str, bytes, None, lists, Decimal, mixed with valid values and
live pointers so that many calls succeed. Bounded with max_examples so the file runs in well under a minute.
"""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmemlib.errors import KmemError
from kmemlib.mm import gfp, kmalloc, pages, slub
from kmemlib.mm.page_alloc import Event, Node, Zone
from kmemlib.mm.slub import SlubAllocator, SlubParams

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


class Live:
    """Placeholder resolved at call time: a live PFN / pointer / cache of the allocator under test."""

    def __init__(self, what: str, i: int) -> None:
        self.what, self.i = what, i

    def __repr__(self) -> str:
        return f"Live({self.what}, {self.i})"


junk = st.one_of(
    st.integers(-2 ** 70, 2 ** 70), st.sampled_from([2 ** 64, 2 ** 64 - 1, -1, 1 << 40, 10 ** 30]), st.booleans(),
    st.floats(), st.sampled_from([1.0, 0.0, 1.8e19, math.nan, math.inf]), st.text(max_size=4),
    st.binary(max_size=4), st.none(), st.lists(st.integers(0, 4), max_size=3),
    st.decimals(min_value=-10, max_value=10 ** 6, allow_nan=False, places=0),
)
GFPS = [gfp.GFP_KERNEL, gfp.GFP_ATOMIC, gfp.GFP_HIGHUSER_MOVABLE, gfp.GFP_KERNEL | gfp.__GFP_RECLAIMABLE,
        gfp.GFP_KERNEL_ACCOUNT, gfp.GFP_DMA]
valid = st.one_of(st.integers(0, 6), st.integers(0, 3), st.integers(500, 1600), st.sampled_from(GFPS),
                  st.integers(1, 70000), st.integers(0, 1))
live = st.builds(Live, st.sampled_from(["pfn", "addr", "cache"]), st.integers(0, 50))
arg = st.one_of(junk, valid, valid, valid, valid, valid, live, live, live)
call = st.tuples(st.integers(0, 10 ** 6), st.lists(arg, min_size=4, max_size=4), st.integers(0, 10 ** 6),
                st.booleans())


def sane(kind: str, n: int, pool: dict):
    """A well-typed value of ``kind`` (so that about half the calls can succeed)."""
    live_pfn = pool.get("pfn") or [512 + n % 1024]
    live_addr = pool.get("addr") or [pages.pfn_to_virt(512 + n % 1024)]
    return {"order": n % 7, "gfp": GFPS[n % len(GFPS)], "pfn": live_pfn[n % len(live_pfn)], "mt": n % 5,
            "size": 1 + n % 40000, "addr": live_addr[n % len(live_addr)], "mark": n % 64, "flags": 0,
            "n": n % 5, "cache": (pool.get("cache") or [None])[n % max(1, len(pool.get("cache") or []))],
            "name": f"c{n % 7}", "align": (0, 8, 64)[n % 3], "x": n}[kind]


def resolve(v, pool: dict):
    if isinstance(v, Live):
        items = pool.get(v.what) or [None]
        return items[v.i % len(items)]
    return v


# ---------------------------------------------------------------------- Zone
def zone_state(z: Zone) -> tuple:
    return z.fingerprint(), z._op, len(z.events), z.events[-1] if z.events else None, z.free_pages_count()


def zone_invariants(z: Zone) -> None:
    free = z.free_blocks()
    spans = sorted([(p, p + (1 << o)) for p, o, _ in free] + [(p, p + (1 << o)) for p, o in z.allocated_blocks()])
    for (s1, e1), (s2, _) in zip(spans, spans[1:]):
        assert e1 <= s2
    assert all(type(s) is int and z.start_pfn <= s and e <= z.end_pfn for s, e in spans)
    row = [0] * z.nr_page_orders
    for p, o, mt in free:
        assert p % (1 << o) == 0 and type(mt) is int and 0 <= mt < 5
        row[o] += 1
    assert z.nr_free() == row
    listed = sorted((p, o, mt) for mt in range(5) for o in range(z.nr_page_orders) for p in z.free_list(mt, o))
    assert listed == free
    assert z.free_pages_count() == sum(1 << o for _, o, mt in free if mt != 4)
    assert all(type(t) is int and 0 <= t < 5 for t in z._pb)


ZONE_CALLS = [("alloc_pages", "order gfp"), ("alloc_pages", "order"), ("free_pages", "pfn order"),
              ("alloc_pages_exact", "size gfp"), ("free_pages_exact", "pfn size"), ("get_free_pages", "gfp order"),
              ("free_pages_addr", "addr order"), ("nr_free_type", "mt"), ("free_list", "mt order"), ("is_free", "pfn"),
              ("buddy_order", "pfn"), ("get_pageblock_migratetype", "pfn"), ("set_pageblock_migratetype", "pfn mt"),
              ("move_freepages_block", "pfn mt mt"), ("zone_watermark_ok", "order mark x flags"),
              ("set_watermarks", "mark mark mark mark"), ("reserve_highatomic_pageblock", "pfn"),
              ("apply", "x pfn order mt"), ("restore", "x"), ("free_pages", "pfn order")]


@SETTINGS
@given(st.lists(call, max_size=25))
def test_zone_api_with_arbitrary_values(calls):
    z = Zone(1024, start_pfn=512, max_page_order=6, pageblock_order=4)
    saved = [z.snapshot()]
    for which, raw, n, clean in calls:
        name, kinds = ZONE_CALLS[which % len(ZONE_CALLS)]
        kinds = kinds.split()
        pool = {"pfn": [p for p, _ in z.allocated_blocks()], "addr": [pages.pfn_to_virt(p) for p, _ in
                                                                     z.allocated_blocks()], "cache": []}
        args = [sane(k, n + i, pool) if clean else resolve(v, pool) for i, (k, v) in enumerate(zip(kinds, raw))]
        if name == "restore":
            args = [saved[(args[0] if isinstance(args[0], int) and not isinstance(args[0], bool) else 0)
                          % len(saved)] if args else None] + args[1:]
        if name == "apply" and len(args) >= 4:
            args = [Event(*(["give", "take", "split", "move", "merge", "allocated", "free", "pageblock", "zz"]
                            [hash(str(args[0])) % 9], *args[1:4]))]
        before = zone_state(z)
        try:
            getattr(z, name)(*args)
        except KmemError:
            assert zone_state(z) == before, (name, args)
            continue
        except TypeError as exc:        # wrong number of arguments is Python's business, not the model's
            assert "positional argument" in str(exc), (name, args, exc)
            assert zone_state(z) == before
            continue
        zone_invariants(z)
        saved.append(z.snapshot())


@SETTINGS
@given(st.lists(arg, max_size=3), st.dictionaries(st.sampled_from(
    ["start_pfn", "max_page_order", "pageblock_order", "page_shift", "managed_pages", "present_pages",
     "initial_migratetype", "populate", "log_events", "shuffle_seed", "watermark_check", "kernel_version",
     "zone_idx", "name", "node", "event_log_size"]), arg, max_size=3))
def test_zone_and_node_constructors(args, kwargs):
    args = [resolve(a, {}) for a in args]
    kwargs = {k: resolve(v, {}) for k, v in kwargs.items()}
    if isinstance(args[0] if args else None, int) and not isinstance(args[0], bool) and abs(args[0]) > 1 << 20:
        args[0] = 1 << 20                # keep a valid size from booting a huge zone
    try:
        z = Zone(*args[:1], **kwargs)
    except KmemError:
        return
    except TypeError as exc:
        assert "argument" in str(exc)
        return
    zone_invariants(z)
    for zones in ([z], [], [z, z], ["x"], None, z):
        try:
            Node(zones)
        except KmemError:
            pass


# ---------------------------------------------------------------------- SLUB
def slub_state(a: SlubAllocator) -> tuple:
    return (sorted(a._live), a.zone.fingerprint(), a._large_pages, a._large_count, a._large_requested,
            tuple((s.name, s.refcount, s.nr_slabs, tuple((sl.pfn, tuple(sl.freelist), sl.requested)
                                                        for sl in s.slabs.values())) for s in a.slab_caches))


def slub_invariants(a: SlubAllocator) -> None:
    assert all(type(p) is int for p in a._live)
    live_slab = sum(1 for e in a._live.values() if e[0] is not slub._LARGE)
    assert live_slab == sum(s.inuse_objects for s in a.slab_caches)
    for s in a.slab_caches:
        for sl in s.slabs.values():
            assert all(type(i) is int and 0 <= i < sl.objects for i in sl.freelist)
            assert len(set(sl.freelist)) == len(sl.freelist)
    slab_pages = sum(s.slab_pages for s in a.slab_caches)
    assert sum(1 << o for _, o in a.zone.allocated_blocks()) == slab_pages + a._large_pages
    zone_invariants(a.zone)


SLUB_CALLS = [("kmalloc", "size gfp"), ("kmalloc", "size"), ("kzalloc", "size gfp"), ("kfree", "addr"),
              ("ksize", "addr"), ("krealloc", "addr size gfp"), ("kmalloc_array", "n size gfp"),
              ("kcalloc", "n size gfp"), ("kmem_cache_create", "name size align flags"),
              ("kmem_cache_create", "name size"), ("kmem_cache_destroy", "cache"), ("kmem_cache_alloc", "cache gfp"),
              ("kmem_cache_free", "cache addr"), ("slab_of", "addr"), ("allocation", "addr"), ("find_cache", "name"),
              ("cache_stats", "cache"), ("kfree", "addr"), ("alloc_traces", "n")]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(call, max_size=25), st.booleans())
def test_slub_api_with_arbitrary_values(calls, hardened):
    a = SlubAllocator(Zone(1 << 12, max_page_order=8, log_events=False),
                      params=SlubParams(max_page_order=8, hardened_usercopy=hardened), boot_caches=False)
    created = []
    for which, raw, n, clean in calls:
        name, kinds = SLUB_CALLS[which % len(SLUB_CALLS)]
        kinds = kinds.split()
        pool = {"pfn": [], "addr": sorted(a._live), "cache": created + a.slab_caches[:3]}
        args = [sane(k, n + i, pool) if clean else resolve(v, pool) for i, (k, v) in enumerate(zip(kinds, raw))]
        if name == "kmem_cache_create" and args and isinstance(args[0], int):
            args[0] = f"c{args[0]}"
        before = slub_state(a)
        try:
            out = getattr(a, name)(*args)
        except KmemError:
            assert slub_state(a) == before, (name, args)
            continue
        except TypeError as exc:
            assert "positional argument" in str(exc), (name, args, exc)
            assert slub_state(a) == before
            continue
        if name == "kmem_cache_create":
            created.append(out)
        slub_invariants(a)


# ---------------------------------------------------------------------- pure functions
PURE = [pages.get_order, pages.fls64, pages.ilog2, pages.ALIGN, pages.pfn_to_virt, pages.virt_to_pfn,
        kmalloc.kmalloc_size_roundup, kmalloc.kmalloc_plan, kmalloc.kmalloc_slab_index, kmalloc.kmalloc_type,
        kmalloc.kmalloc_cache_name, kmalloc.kmalloc_index, slub.calculate_order, slub.make_geometry,
        slub.kmalloc_cache_geometry, gfp.gfp_migratetype, gfp.gfp_names, gfp.check_gfp, SlubParams]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.integers(0, len(PURE) - 1), st.lists(arg, max_size=4))
def test_pure_functions_raise_only_kmem_errors(i, args):
    fn = PURE[i]
    args = [resolve(v, {}) for v in args]
    if fn is slub.make_geometry and args:
        args[0] = str(args[0])
    try:
        fn(*args)
    except KmemError:
        pass
    except TypeError as exc:
        assert "argument" in str(exc), (fn, args, exc)


def test_decimal_and_float_sizes_are_not_sizes():
    for bad in (Decimal(64), 64.0, "64", True):
        try:
            kmalloc.kmalloc_size_roundup(bad)
        except KmemError:
            continue
        raise AssertionError(bad)
