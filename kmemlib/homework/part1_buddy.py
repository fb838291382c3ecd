"""Assignment ``buddy`` (Part I): the buddy page allocator and its watermarks.

Every generator is a pure function of its ``random.Random`` and computes its answer by running kmemlib's
:class:`~kmemlib.mm.page_alloc.Zone` — the same code the book's chapters use — never by a formula of its own.  Requests are
movable (``GFP_HIGHUSER_MOVABLE``) and each zone's pageblocks are all MOVABLE, so only ``__rmqueue_smallest`` /
``expand`` / ``__free_one_page`` are involved, not the migrate-type fallbacks.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from ..mm import gfp as _gfp
from ..mm.page_alloc import Zone
from ..mm.pages import PAGE_SHIFT, PAGE_SIZE, get_order
from ..mm.watermarks import ALLOC_MIN_RESERVE
from .answers import as_bool, as_int, as_int_list, as_list, as_record
from .assignment import Assignment
from .problem import Generated, Question, Verdict

__all__ = ["ASSIGNMENT", "free_lists_question", "alloc_pfns_question", "merge_question", "watermark_question",
           "exact_question"]

MOVABLE = _gfp.GFP_HIGHUSER_MOVABLE


def _zone(nr_pages: int, max_order: int) -> Zone:
    return Zone(nr_pages, max_page_order=max_order, pageblock_order=max_order, log_events=False)


def _trace_text(trace: list[tuple[str, str, int]]) -> str:
    lines = []
    for i, (op, name, order) in enumerate(trace, 1):
        if op == "alloc":
            lines.append(f"{i}. `{name} = alloc_pages(GFP_HIGHUSER_MOVABLE, {order})`")
        else:
            lines.append(f"{i}. `__free_pages({name}, {order})`")
    return "\n".join(lines)


def _random_trace(rng: random.Random, zone: Zone, n_alloc: int, n_free: int,
                  max_req: int) -> tuple[list[tuple[str, str, int]], list[int | None]]:
    """Allocations (named A, B, ...) then frees of some of them, run on ``zone``; returns the trace and PFNs."""
    trace, pfns, live = [], [], []
    for i in range(n_alloc):
        name = chr(ord("A") + i)
        order = rng.randint(0, max_req)
        pfn = zone.alloc_pages(order, MOVABLE)
        trace.append(("alloc", name, order))
        pfns.append(pfn)
        if pfn is not None:
            live.append((name, pfn, order))
    for name, pfn, order in rng.sample(live, min(n_free, len(live))):
        zone.free_pages(pfn, order)
        trace.append(("free", name, order))
    return trace, pfns


def _list_grader(noun: str, hint: str):
    def grade(answer: list[int], expected: list[int], data: Mapping[str, Any]) -> Verdict:
        if len(answer) != len(expected):
            return Verdict(0.0, f"expected {len(expected)} {noun}, got {len(answer)}")
        wrong = [i for i, (a, e) in enumerate(zip(answer, expected)) if a != e]
        if not wrong:
            return Verdict(1.0, "correct")
        return Verdict(0.0, f"{len(wrong)} of {len(expected)} {noun} are off (positions {wrong}); {hint}")
    return grade


# --------------------------------------------------------------------------- q1: free lists after a trace
def _gen_free_lists(rng: random.Random) -> Generated:
    max_order = rng.choice([3, 4])
    nr_pages = (1 << max_order) * rng.choice([2, 3])
    zone = _zone(nr_pages, max_order)
    trace, _ = _random_trace(rng, zone, n_alloc=rng.randint(3, 4), n_free=1, max_req=2)
    prompt = (f"A zone has **{nr_pages} pages** (PFN 0–{nr_pages - 1}), `MAX_PAGE_ORDER` = {max_order}, and "
              f"all of it starts free (boot frees the largest aligned blocks in ascending PFN order, each to the "
              f"tail of its list). Run this trace:\n\n{_trace_text(trace)}\n\n"
              f"What is the zone's `/proc/buddyinfo` row afterwards, i.e. `free_area[order].nr_free` for orders "
              f"0..{max_order}?")
    data = {"nr_pages": nr_pages, "max_page_order": max_order, "trace": [list(t) for t in trace]}
    return Generated(prompt, data, zone.nr_free())


def free_lists_question(qid: str = "q1", points: float = 2) -> Question:
    """Predict ``nr_free`` per order after an allocation/free trace."""
    return Question(
        qid, "Buddy free lists after a trace", points, "a list with one count per order, lowest order first",
        _gen_free_lists, as_int_list,
        _list_grader("per-order counts", "remember that expand() keeps the lower half and puts every upper half "
                     "on the free list of its order, and that a freed block merges with its buddy "
                     "(PFN xor 2^order) whenever that buddy is free with the same order"),
        hint=('expand() keeps the lower half and puts every upper half on the free list of its '
              'order; a freed block merges with its buddy (PFN xor 2^order) while that buddy is'
              ' free with the same order'))


# --------------------------------------------------------------------------- q2: PFNs returned
def _gen_alloc_pfns(rng: random.Random) -> Generated:
    max_order = rng.choice([3, 4])
    nr_pages = (1 << max_order) * 2
    zone = _zone(nr_pages, max_order)
    n = rng.randint(3, 5)
    trace, pfns = _random_trace(rng, zone, n_alloc=n, n_free=0, max_req=2)
    names = ", ".join(t[1] for t in trace)
    prompt = (f"A fresh zone has **{nr_pages} pages** (PFN 0–{nr_pages - 1}) and `MAX_PAGE_ORDER` = {max_order}; "
              f"its free lists start as boot leaves them (ascending PFNs). Run:\n\n{_trace_text(trace)}\n\n"
              f"Which PFN does each call return? Answer `[{names}]` in that order (use `None`/-1 for a failed "
              f"allocation).")
    data = {"nr_pages": nr_pages, "max_page_order": max_order, "trace": [list(t) for t in trace]}
    return Generated(prompt, data, [-1 if p is None else p for p in pfns])


def _norm_pfns(value: Any) -> list[int]:
    if isinstance(value, (list, tuple)):
        value = [-1 if v is None else v for v in value]
    return as_int_list(value)


def alloc_pfns_question(qid: str = "q2", points: float = 2) -> Question:
    """Predict the PFN returned by each allocation of a trace."""
    return Question(
        qid, "Which pages does the allocator hand out?", points, "a list of PFNs, one per allocation",
        _gen_alloc_pfns, _norm_pfns,
        _list_grader("PFNs", "__rmqueue_smallest() takes the HEAD of the smallest non-empty list of order >= "
                     "the request, and expand() returns the lowest-addressed part of the block it splits"),
        hint=('__rmqueue_smallest() takes the head of the smallest non-empty list of order >= '
              'the request, and expand() returns the lowest-addressed part of the block it '
              'splits'))


# --------------------------------------------------------------------------- q3: merging on free
def _gen_merge(rng: random.Random) -> Generated:
    max_order = 5
    nr_pages = 64
    zone = _zone(nr_pages, max_order)
    blocks = []
    while zone.free_pages_count():   # hand out every page in blocks of order 0..2
        order = rng.randint(0, 2)
        while (pfn := zone.alloc_pages(order, MOVABLE)) is None:
            order -= 1
        blocks.append((pfn, order))
    target = rng.choice([b for b in blocks if b[1] <= 1])
    p, o = target
    # free, with probability, everything in the buddy region at each level, then some noise
    level = o
    to_free: set[tuple[int, int]] = set()
    while level < max_order and rng.random() < 0.7:
        base = (p >> level ^ 1) << level
        to_free |= {b for b in blocks if base <= b[0] < base + (1 << level)}
        level += 1
    if level < max_order:  # the buddy region at `level` keeps at least one allocated block
        base = (p >> level ^ 1) << level
        region = [b for b in blocks if base <= b[0] < base + (1 << level)]
        keep = rng.choice(region)
        to_free |= {b for b in region if b != keep and rng.random() < 0.5}
    to_free |= {b for b in blocks if b != target and rng.random() < 0.3}
    to_free.discard(target)
    if level < max_order:
        to_free.discard(keep)
    order_of_frees = sorted(to_free)
    rng.shuffle(order_of_frees)
    for b in order_of_frees:
        zone.free_pages(*b)
    free_now = [(pfn, order) for pfn, order, _ in zone.free_blocks()]
    zone.log_events = True
    zone.free_pages(p, o)
    give = [e for e in zone.events if e.kind == "give"][-1]
    prompt = (f"In a zone of {nr_pages} pages (`MAX_PAGE_ORDER` = {max_order}) the free blocks are, as "
              f"`(PFN, order)`:\n\n`{free_now}`\n\nEvery other page is allocated. Now the order-{o} block at "
              f"**PFN {p}** is freed with `__free_pages()`. Give `(buddy_pfn, pfn, order)`: the PFN of its buddy "
              f"at order {o}, and the PFN and order of the free block it finally ends up in after "
              f"`__free_one_page()` has merged all it can.")
    data = {"nr_pages": nr_pages, "max_page_order": max_order, "free_blocks": [list(b) for b in free_now],
            "freed": [p, o]}
    return Generated(prompt, data, {"buddy_pfn": p ^ (1 << o), "pfn": give.pfn, "order": give.order})


_MERGE_FIELDS = (("buddy_pfn", as_int), ("pfn", as_int), ("order", as_int))


def _grade_merge(answer: dict, expected: dict, data: Mapping[str, Any]) -> Verdict:
    parts = {k: answer[k] == expected[k] for k in expected}
    score = (parts["buddy_pfn"] + 2 * (parts["pfn"] and parts["order"])) / 3
    if all(parts.values()):
        return Verdict(1.0, "correct")
    msgs = []
    if not parts["buddy_pfn"]:
        msgs.append("the buddy PFN is off: __find_buddy_pfn() is pfn ^ (1 << order)")
    if not (parts["pfn"] and parts["order"]):
        which = " and ".join(k for k in ("pfn", "order") if not parts[k])
        msgs.append(f"the merged block's {which} {'is' if ' and ' not in which else 'are'} off: merging continues "
                    "only while the buddy is a free block of exactly the current order, and each step the block "
                    "starts at pfn & buddy_pfn")
    return Verdict(score, "; ".join(msgs))


def merge_question(qid: str = "q3", points: float = 3) -> Question:
    """Follow ``__free_one_page()``: buddy PFN and the final merged block."""
    return Question(qid, "Freeing and merging", points,
                    "(buddy_pfn, pfn, order) as a tuple, or a dict with those keys",
                    _gen_merge, lambda v: as_record(v, _MERGE_FIELDS), _grade_merge,
                    hint=('the buddy is pfn ^ (1 << order); merging continues only while the buddy is a '
                          'free block of exactly the current order, and each step the block starts at pfn &'
                          ' buddy_pfn'))


# --------------------------------------------------------------------------- q4: watermark check
def _gen_watermark(rng: random.Random) -> Generated:
    max_order = 6
    nr_pages = 256
    zone = _zone(nr_pages, max_order)
    pages = [zone.alloc_pages(0, MOVABLE) for _ in range(nr_pages)]
    keep_free = rng.uniform(0.2, 0.6)
    for pfn in sorted(pages, key=lambda _: rng.random()):
        if rng.random() < keep_free:
            zone.free_pages(pfn, 0)
    free = zone.free_pages_count()
    wmin = rng.randint(max(1, free // 4), max(2, free))
    step = max(wmin >> 2, rng.randint(2, 8))
    zone.set_watermarks(wmin, wmin + step, wmin + 2 * step, wmin + 3 * step)
    marks = {"min": zone.wmark_min, "low": zone.wmark_low, "high": zone.wmark_high}
    nr_free = zone.nr_free()
    top = max((o for o, c in enumerate(nr_free) if c), default=0)
    requests: list[tuple[int, str, bool]] = []
    orders = sorted({0, max(0, top - 1), top, min(max_order, top + 1), rng.randint(0, 4)})
    while len(requests) < 3:
        req = (rng.choice(orders), rng.choice(["min", "low", "high"]), len(requests) == 2 and rng.random() < 0.5)
        if req not in requests:
            requests.append(req)
    answer = [zone.zone_watermark_ok(order, marks[mark], alloc_flags=ALLOC_MIN_RESERVE if high else 0)
              for order, mark, high in requests]
    lines = "\n".join(f"{chr(97 + i)}. order {order} against the **{mark}** watermark"
                      + (" with `ALLOC_MIN_RESERVE` (a `__GFP_HIGH` caller)" if high else "")
                      for i, (order, mark, high) in enumerate(requests))
    prompt = (f"A zone's buddyinfo row (orders 0..{max_order}) is `{nr_free}`; all free pages are on MOVABLE "
              f"lists, there is no HIGHATOMIC reserve and `lowmem_reserve` is 0. Its watermarks are min = "
              f"{marks['min']}, low = {marks['low']}, high = {marks['high']} pages. For each request, does "
              f"`zone_watermark_ok()` pass?\n\n{lines}\n\nAnswer a list of three yes/no values.")
    data = {"nr_free": nr_free, "watermarks": marks,
            "requests": [{"order": o, "mark": m, "alloc_min_reserve": h} for o, m, h in requests]}
    return Generated(prompt, data, answer)


def _grade_watermark(answer: list[bool], expected: list[bool], data: Mapping[str, Any]) -> Verdict:
    wrong = [chr(97 + i) for i, (a, e) in enumerate(zip(answer, expected)) if a != e]
    if not wrong:
        return Verdict(1.0, "correct")
    return Verdict((len(expected) - len(wrong)) / len(expected),
                   f"request(s) {', '.join(wrong)} wrong: free pages minus (2^order - 1) must be strictly above the "
                   "mark (halved for ALLOC_MIN_RESERVE), and an order > 0 request also needs a free block of at "
                   "least that order")


def watermark_question(qid: str = "q4", points: float = 3) -> Question:
    """Decide ``__zone_watermark_ok()`` for three requests."""
    def norm(v: Any) -> list[bool]:
        return [as_bool(x) for x in as_list(v, "yes/no values", 3)]
    return Question(qid, "Will the watermark check pass?", points, "a list of three yes/no (True/False) values",
                    _gen_watermark, norm, _grade_watermark,
                    hint=('free pages minus (2^order - 1) must be strictly above the mark (halved for '
                          'ALLOC_MIN_RESERVE), and an order > 0 request also needs a free block of at least'
                          ' that order'))


# --------------------------------------------------------------------------- q5: get_order and exact allocations
def _gen_exact(rng: random.Random) -> Generated:
    sizes = []
    for _ in range(3):
        pages = rng.choice([1, 2, 3, 5, 6, 7, 9, 12, 17, 20, 33])
        sizes.append(max(1, (pages - 1) * PAGE_SIZE + rng.randint(1, PAGE_SIZE)))
    answer = []
    for size in sizes:
        zone = Zone(1024, log_events=False)
        before = zone.free_pages_count()
        pfn = zone.alloc_pages_exact(size, _gfp.GFP_KERNEL)
        assert pfn is not None
        used = before - zone.free_pages_count()
        order = get_order(size, PAGE_SHIFT)
        answer.append([order, (1 << order) - used])
    rows = "\n".join(f"- `alloc_pages_exact({s}, GFP_KERNEL)`" for s in sizes)
    prompt = (f"With 4 KiB pages, for each call give `[order, pages_returned]`: the order of the block it "
              f"allocates (`get_order(size)`) and how many of that block's pages it hands straight back to the "
              f"buddy allocator.\n\n{rows}")
    return Generated(prompt, {"sizes": sizes, "page_size": PAGE_SIZE}, answer)


def _norm_pairs(value: Any) -> list[list[int]]:
    return [as_int_list(r, 2) for r in as_list(value, "[order, pages_returned] pairs", 3)]


def _grade_exact(answer: list[list[int]], expected: list[list[int]], data: Mapping[str, Any]) -> Verdict:
    ok = sum((a[0] == e[0]) + (a[1] == e[1]) for a, e in zip(answer, expected))
    if ok == 6:
        return Verdict(1.0, "correct")
    msgs = []
    if any(a[0] != e[0] for a, e in zip(answer, expected)):
        msgs.append("an order is off: get_order(size) = fls64((size - 1) >> PAGE_SHIFT)")
    if any(a[1] != e[1] for a, e in zip(answer, expected)):
        msgs.append("a returned-page count is off: alloc_pages_exact keeps DIV_ROUND_UP(size, PAGE_SIZE) pages "
                    "and frees the rest of the 2^order block")
    return Verdict(ok / 6, "; ".join(msgs))


def exact_question(qid: str = "q5", points: float = 2) -> Question:
    """``get_order`` and the pages ``alloc_pages_exact`` gives back."""
    return Question(qid, "Orders and exact allocations", points, "three [order, pages_returned] pairs",
                    _gen_exact, _norm_pairs, _grade_exact,
                    hint=('get_order(size) = fls64((size - 1) >> PAGE_SHIFT); alloc_pages_exact() keeps '
                          'DIV_ROUND_UP(size, PAGE_SIZE) pages and frees the rest of the 2^order block'))


ASSIGNMENT = Assignment(
    "buddy", "Homework 1 — the buddy page allocator", "Part I",
    (free_lists_question(), alloc_pfns_question(), merge_question(), watermark_question(), exact_question()),
    "free lists after a trace, which PFNs come back, merging on free, the watermark check, alloc_pages_exact")
