"""The buddy page allocator of ``mm/page_alloc.c`` (Linux 6.x), modelled PFN for PFN.

What is modelled exactly (hold it next to the kernel source):

* ``free_area[order].free_list[migratetype]`` as doubly linked lists with the kernel's head/tail
  placement; ``nr_free`` per order (the /proc/buddyinfo row) and per migrate type
  (/proc/pagetypeinfo).
* Allocation: ``__rmqueue_smallest`` (head of the smallest non-empty list, ``expand()`` keeps the
  low half and puts each upper half at a list head), then the fallbacks of ``__rmqueue``:
  ``__rmqueue_claim`` (largest order downward, ``try_to_steal_block`` claims whole pageblocks) and
  ``__rmqueue_steal`` (smallest order upward), with the ``fallbacks[]`` table and
  ``can_steal_fallback``; ``boost_watermark`` on a sub-pageblock claim.
* Freeing: ``free_one_page`` -> ``split_large_buddy`` (a block above ``pageblock_order`` is freed
  one pageblock at a time, each with its pageblock's type) -> ``__free_one_page`` (buddy =
  ``pfn ^ (1 << order)``, merge while the buddy is a free block of the same order in the same
  zone, migrate-type check at and above ``pageblock_order``,
  ``change_pageblock_range`` on a cross-type merge, head vs tail placement with ``FPI_TO_TAIL``,
  ``buddy_merge_likely`` and the optional ``page_alloc.shuffle`` coin at ``MAX_PAGE_ORDER``).
* ``alloc_pages_exact``/``make_alloc_exact`` (``split_page`` then the tail pages freed one by one as
  order 0 with ``FPI_TO_TAIL``) and ``free_pages_exact``.
* Boot: the zone's pages are released like ``__free_pages_memory`` (largest naturally aligned
  blocks, ascending PFN, ``FPI_TO_TAIL``), every pageblock ``MIGRATE_MOVABLE`` as after
  ``memmap_init``.

Kernel version of the fallback path: the ``__rmqueue_claim``/``__rmqueue_steal`` split (upstream
"mm: page_alloc: speed up fallbacks in rmqueue_bulk()", 6.15, backported to 6.12.y stable; later
upstream code renames ``try_to_steal_block`` to ``try_to_claim_block``) is what the Debian 6.12.117
source used here ships, and what 6.18 runs. Kernels with the older single ``__rmqueue_fallback``
(upstream <= 6.14, 6.12.0) behave differently when a claim fails: they split the *largest* fallback
block without retyping it (``steal_suitable_fallback``), or the smallest one for a MOVABLE request
that may not claim. That older path is **not** modelled and ``kernel_version`` does not switch it.

Documented simplifications:

* **No per-CPU page lists.** In the kernel, order <= 3 (and ``HPAGE_PMD_ORDER``) requests are served
  from, and freed to, per-CPU lists first (``pcp_allowed_order``), and pages sitting there are not
  in /proc/buddyinfo. Here every request goes straight to the zone's free lists (as if
  ``percpu_pagelist_high_fraction`` made the PCP lists empty), so the PFN returned is what
  ``rmqueue_buddy`` would return.
* No CMA, no guard pages, no page reporting, no compaction capture; ``MIGRATE_HIGHATOMIC`` lists are
  used when the caller passes ``ALLOC_HIGHATOMIC``/``ALLOC_OOM``/``ALLOC_NON_BLOCK`` but pageblocks are
  only reserved for them by :meth:`Zone.reserve_highatomic_pageblock` when asked.
* ``prep_move_freepages_block`` counts "movable" pages as the pages of live allocations made with a
  MOVABLE migrate type (the kernel looks at ``PageLRU``/``__PageMovable`` per page).
* Zones are contiguous (no memory holes inside ``[start_pfn, start_pfn + nr_pages)``).

Memory grows with the number of free and allocated blocks, not pages: free blocks live in a dict
keyed by PFN (``[prev, next, order, migratetype]``), allocated blocks in a dict PFN -> order, and the
only array is one migrate type per pageblock (the kernel's pageblock bitmap).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..errors import (
    BadFreeError,
    DoubleFreeError,
    InvalidFlagsError,
    InvalidOrderError,
    InvalidArgumentError,
    InvalidSizeError,
    InvalidStateError,
    OutOfZoneError,
    UnknownZoneError,
)
from .argcheck import check_bool, check_int, check_str, is_int, show
from . import gfp as _gfp
from . import watermarks as wm
from .mmzone import (
    NR_WMARK,
    WMARK_HIGH,
    WMARK_LOW,
    WMARK_MIN,
    WMARK_PROMO,
    ZONE_DEVICE,
    ZONE_DMA,
    ZONE_DMA32,
    ZONE_MOVABLE,
    ZONE_NAMES,
    ZONE_NORMAL,
)
from .pages import MAX_PAGE_ORDER, PAGE_SHIFT, fls64, pfn_to_virt, virt_to_pfn
from .argcheck import U64_MAX

MIGRATE_UNMOVABLE = _gfp.MIGRATE_UNMOVABLE
MIGRATE_MOVABLE = _gfp.MIGRATE_MOVABLE
MIGRATE_RECLAIMABLE = _gfp.MIGRATE_RECLAIMABLE
MIGRATE_PCPTYPES = _gfp.MIGRATE_PCPTYPES
MIGRATE_HIGHATOMIC = _gfp.MIGRATE_HIGHATOMIC
MIGRATE_ISOLATE = 4
"""``MIGRATE_ISOLATE`` on a kernel without CONFIG_CMA (this machine): the 5th and last type."""
MIGRATE_TYPES = 5
MIGRATETYPE_NAMES_NO_CMA = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")
"""Names printed by /proc/pagetypeinfo (``migratetype_names[]`` in mm/vmstat.c) without CMA."""

MAX_ZONE_PAGES = 1 << 28
"""The model's largest zone: 2^28 pages (1 TiB of 4 KiB pages; boot-time freeing takes about a second)."""
MAX_PHYSMEM_BITS = 52
"""x86-64's ``MAX_PHYSMEM_BITS`` with 5-level paging: every PFN is below ``1 << (52 - PAGE_SHIFT)``."""
MAX_NUMNODES = 1024
"""``1 << CONFIG_NODES_SHIFT`` (10 on Debian's x86-64 kernels)."""
ALLOC_FLAGS_MASK = 0xFFF
"""Every ``alloc_flags`` bit of mm/internal.h (``ALLOC_*``); higher bits are rejected."""


def _check_mt(mt: object, name: str = "migratetype", exc: type = InvalidFlagsError) -> int:
    """A migrate type ``0..MIGRATE_TYPES-1`` (an int, not 1.0 or True)."""
    if type(mt) is int and 0 <= mt < MIGRATE_TYPES:
        return mt
    return check_int(mt, name, 0, MIGRATE_TYPES - 1, exc=exc,
                     what="MIGRATE_UNMOVABLE..MIGRATE_ISOLATE")


def _check_alloc_flags(alloc_flags: object) -> int:
    return check_int(alloc_flags, "alloc_flags", 0, ALLOC_FLAGS_MASK, exc=InvalidFlagsError,
                     what="ALLOC_* bits of mm/internal.h")


FALLBACKS = {
    MIGRATE_UNMOVABLE: (MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE),
    MIGRATE_MOVABLE: (MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE),
    MIGRATE_RECLAIMABLE: (MIGRATE_UNMOVABLE, MIGRATE_MOVABLE),
}
"""``fallbacks[]`` of mm/page_alloc.c: where each PCP type looks when its own lists are empty."""

from .internal import (  # noqa: E402  (mm/internal.h)
    ALLOC_CMA,
    ALLOC_CPUSET,
    ALLOC_HIGHATOMIC,
    ALLOC_KSWAPD,
    ALLOC_MIN_RESERVE,
    ALLOC_NO_WATERMARKS,
    ALLOC_NOFRAGMENT,
    ALLOC_NON_BLOCK,
    ALLOC_OOM,
    ALLOC_RESERVES,
    ALLOC_WMARK_HIGH,
    ALLOC_WMARK_LOW,
    ALLOC_WMARK_MASK,
    ALLOC_WMARK_MIN,
    FPI_NONE,
    FPI_TO_TAIL,
)

_FREE_BITS = _gfp.FLAGS  # short names, no mangling issues
_MT_CACHE: dict[int, int] = {}   # gfp -> gfp_migratetype(gfp), only for flag words that passed


def max_page_order_from(max_order: int, *, exclusive: bool) -> int:
    """Largest order handed out, from a kernel's ``MAX_ORDER`` value.

    ``exclusive=True`` is the <= 6.3 meaning (``MAX_ORDER = 11``, ``free_area[MAX_ORDER]``, largest
    order 10); ``exclusive=False`` is 6.4+ (``MAX_ORDER``/``MAX_PAGE_ORDER = 10``, inclusive).
    """
    if not isinstance(max_order, int) or isinstance(max_order, bool):
        raise InvalidOrderError(f"MAX_ORDER must be an int, got {max_order!r}")
    largest = max_order - 1 if exclusive else max_order
    if largest < 0:
        raise InvalidOrderError(f"MAX_ORDER={max_order} (exclusive={exclusive}) leaves no order")
    return largest


def migratetype_is_mergeable(mt: int) -> bool:
    """``migratetype_is_mergeable()``: only types below ``MIGRATE_PCPTYPES`` merge across pageblocks."""
    _check_mt(mt)
    return mt < MIGRATE_PCPTYPES


def can_steal_fallback(order: int, start_mt: int, pageblock_order: int,
                       page_group_by_mobility_disabled: bool = False) -> bool:
    """``can_steal_fallback()``: may a fallback of this order claim the whole pageblock?"""
    check_int(order, "order", 0, 20, exc=InvalidOrderError)
    _check_mt(start_mt, "start_mt")
    check_int(pageblock_order, "pageblock_order", 0, 20, exc=InvalidOrderError)
    check_bool(page_group_by_mobility_disabled, "page_group_by_mobility_disabled")
    if order >= pageblock_order:
        return True
    return (order >= pageblock_order // 2 or start_mt == MIGRATE_RECLAIMABLE
            or start_mt == MIGRATE_UNMOVABLE or page_group_by_mobility_disabled)


@dataclass(frozen=True, slots=True)
class Event:
    """One step of an operation, in the order the kernel performs it.

    ``kind`` is one of

    * ``"alloc"`` — a request starts (``pfn`` -1, ``order`` requested, ``migratetype`` requested);
    * ``"take"`` — a block leaves the head of ``free_list[migratetype][order]`` to be allocated
      (``__rmqueue_smallest`` / ``__rmqueue_steal``);
    * ``"split"`` — ``expand()`` puts an upper half at the head of ``free_list[migratetype][order]``;
    * ``"allocated"`` — the caller gets ``pfn`` of ``order``;
    * ``"fail"`` — the request returns NULL (``pfn`` -1);
    * ``"free"`` — a free starts: block ``pfn``/``order`` leaves the caller;
    * ``"merge"`` — the free buddy ``pfn`` of ``order`` is unlinked and merged;
    * ``"give"`` — a block goes back on ``free_list[migratetype][order]`` (``to_tail`` says where);
    * ``"pageblock"`` — pageblock at ``pfn`` changes to ``migratetype`` (``from_migratetype`` was);
    * ``"move"`` — free block ``pfn`` moves to the tail of ``free_list[migratetype][order]`` from
      ``from_migratetype`` (``move_to_free_list``).

    ``op`` numbers the public call the event belongs to, so widgets can step per call or per event.
    """

    kind: str
    pfn: int
    order: int
    migratetype: int
    op: int = 0
    to_tail: bool = False
    from_migratetype: int = -1


EVENT_KINDS = frozenset({"alloc", "take", "split", "allocated", "fail", "free", "merge", "give", "pageblock",
                         "move"})
EVENT_LOG_SIZE = 10_000
"""Default length of a zone's event log: the most recent events are kept, older ones are dropped."""


class EventLog(list):
    """A zone's recent :class:`Event` records, bounded: the last ``maxlen`` events are always kept.

    A plain list for reading (``len``, indexing, slicing ``log[n0:]``, ``del log[k:]``, iteration). After each
    public call, once it holds ``2 * maxlen`` events, the oldest are dropped down to ``maxlen`` (``maxlen=None``:
    never), so memory stays bounded however long a zone runs while appending stays a list append.
    :attr:`dropped` counts the events dropped so far; :meth:`mark` / :meth:`since` number events absolutely,
    so ``m = log.mark(); ...; log.since(m)`` is right even when a trim happened in between.
    """

    def __init__(self, iterable=(), maxlen: int | None = EVENT_LOG_SIZE) -> None:
        if maxlen is not None:
            check_int(maxlen, "event_log_size", 1, 1 << 40, exc=InvalidSizeError, what="or None for unbounded")
        super().__init__(iterable)
        self.maxlen = maxlen
        self.dropped = 0
        self._limit = (1 << 62) if maxlen is None else 2 * maxlen

    def trim(self) -> None:
        """Drop the oldest events down to ``maxlen`` once the log holds ``2 * maxlen`` (amortised O(1))."""
        if len(self) >= self._limit:
            n = len(self) - self.maxlen
            del self[:n]
            self.dropped += n

    def mark(self) -> int:
        """Absolute number of events logged so far (not changed by dropping old ones)."""
        return self.dropped + len(self)

    def since(self, mark: int) -> list:
        """The events logged after :meth:`mark` returned ``mark`` (those not dropped yet)."""
        check_int(mark, "mark", 0)
        return self[max(0, mark - self.dropped):]

    def clear(self) -> None:
        """Forget every event (they count as dropped)."""
        self.dropped += len(self)
        super().clear()

    def __repr__(self) -> str:
        return f"EventLog({len(self)} events, maxlen={self.maxlen}, dropped={self.dropped})"


@dataclass(frozen=True)
class ZoneState:
    """An immutable copy of a zone's allocator state (see :meth:`Zone.snapshot`)."""

    free_lists: tuple          # free_lists[mt][order] = tuple of PFNs, head first
    pageblock_types: tuple     # one migrate type per pageblock, from the zone's first pageblock
    allocated: tuple           # sorted (pfn, order, migratetype) of live allocations
    watermark_boost: int = 0
    op: int = 0
    start_pfn: int | None = None     # the zone's span, so a state cannot be restored into another zone
    nr_pages: int | None = None

    def fingerprint(self) -> int:
        """A hash that changes whenever anything in the state does."""
        return hash((self.free_lists, self.pageblock_types, self.allocated, self.watermark_boost))


class Zone:
    """One ``struct zone``: free lists per order and migrate type, pageblock types, watermarks.

    ``nr_pages`` pages starting at ``start_pfn`` are spanned (and present). Unless
    ``populate=False`` they are all released at creation like the boot-time
    ``__free_pages_memory`` (largest aligned blocks, ascending PFN, to the list tails), every
    pageblock ``initial_migratetype`` (MOVABLE, as after ``memmap_init``). ``managed_pages``
    (default ``nr_pages``) only feeds watermarks and ``lowmem_reserve``.

    ``pageblock_order`` is capped at ``max_page_order`` (the kernel's ``PAGE_BLOCK_MAX_ORDER``).
    The watermarks start at 0 (no check); :func:`kmemlib.mm.watermarks.setup_per_zone_wmarks` sets them
    and ``watermark_check`` (``None``, ``"min"``, ``"low"``, ``"high"``) makes :meth:`alloc_pages`
    refuse requests that fail :meth:`zone_watermark_ok` like ``get_page_from_freelist``.
    """

    def __init__(self, nr_pages: int, *, start_pfn: int = 0, name: str = "Normal", node: int = 0,
                 max_page_order: int = MAX_PAGE_ORDER, pageblock_order: int = 9,
                 page_shift: int = PAGE_SHIFT, managed_pages: int | None = None,
                 present_pages: int | None = None,
                 initial_migratetype: int = MIGRATE_MOVABLE, populate: bool = True,
                 log_events: bool = True, shuffle_seed: int | None = None,
                 watermark_check: str | None = None, kernel_version: tuple[int, int] = (6, 18),
                 zone_idx: int = 2, event_log_size: int | None = EVENT_LOG_SIZE) -> None:
        for pname, value in (("nr_pages", nr_pages), ("start_pfn", start_pfn),
                             ("max_page_order", max_page_order), ("pageblock_order", pageblock_order),
                             ("page_shift", page_shift)):
            check_int(value, f"Zone {pname}", exc=InvalidSizeError)
        if nr_pages <= 0:
            raise InvalidSizeError(f"Zone needs nr_pages >= 1, got {nr_pages}")
        if nr_pages > MAX_ZONE_PAGES:
            raise InvalidSizeError(f"Zone nr_pages {nr_pages} is more than the model's limit of {MAX_ZONE_PAGES} "
                                   f"pages (MAX_ZONE_PAGES, 1 TiB of 4 KiB pages)")
        if start_pfn < 0:
            raise InvalidSizeError(f"Zone start_pfn must be >= 0, got {start_pfn}")
        if not 0 <= max_page_order <= 20:
            raise InvalidOrderError(f"max_page_order must be in 0..20, got {max_page_order}")
        if pageblock_order < 0:
            raise InvalidOrderError(f"pageblock_order must be >= 0, got {pageblock_order}")
        # pageblock_order = min(HPAGE_PMD_ORDER, PAGE_BLOCK_MAX_ORDER <= MAX_PAGE_ORDER)
        pageblock_order = min(pageblock_order, max_page_order)
        if not 10 <= page_shift <= 20:
            raise InvalidSizeError(f"page_shift must be in 10..20, got {page_shift}")
        if start_pfn + nr_pages > 1 << (MAX_PHYSMEM_BITS - page_shift):
            raise InvalidSizeError(f"Zone [{start_pfn}, {start_pfn + nr_pages}) ends above the "
                                   f"{MAX_PHYSMEM_BITS}-bit physical address space (MAX_PHYSMEM_BITS)")
        _check_mt(initial_migratetype, "initial_migratetype")
        if watermark_check not in (None, "min", "low", "high"):
            raise InvalidFlagsError(f"watermark_check must be None/'min'/'low'/'high', got {show(watermark_check)}")
        check_str(name, "Zone name")
        if not name or any(c.isspace() for c in name) or not name.isprintable():
            raise InvalidArgumentError(f"Zone name must be a non-empty word (it is printed in /proc), "
                                       f"got {name!r}")
        check_int(node, "Zone node", 0, MAX_NUMNODES - 1)
        check_int(zone_idx, "Zone zone_idx", 0, len(ZONE_NAMES) - 1, what="ZONE_DMA..ZONE_DEVICE")
        for pname, value in (("present_pages", present_pages), ("managed_pages", managed_pages)):
            if value is not None:
                check_int(value, f"Zone {pname}", 0, nr_pages, exc=InvalidSizeError, what="at most nr_pages")
        if (present_pages if present_pages is not None else nr_pages) < \
                (managed_pages if managed_pages is not None else nr_pages):
            raise InvalidSizeError(f"Zone managed_pages {managed_pages} > present_pages {present_pages}: "
                                   "the kernel has managed <= present <= spanned")
        check_bool(populate, "Zone populate")
        check_bool(log_events, "Zone log_events")
        if shuffle_seed is not None:
            check_int(shuffle_seed, "Zone shuffle_seed", what="or None")
        if (not isinstance(kernel_version, tuple) or len(kernel_version) != 2
                or not all(is_int(v) and 0 <= v < 1000 for v in kernel_version)):
            raise InvalidArgumentError(f"Zone kernel_version must be a (major, minor) tuple such as (6, 18), "
                                       f"got {show(kernel_version)}")
        events = EventLog(maxlen=event_log_size)
        self.name = name
        self.node = node
        self.zone_idx = zone_idx
        self.start_pfn = start_pfn
        self.nr_pages = nr_pages
        self.spanned_pages = nr_pages
        self.present_pages = nr_pages if present_pages is None else present_pages
        self.managed_pages = nr_pages if managed_pages is None else managed_pages
        self.end_pfn = start_pfn + nr_pages
        self.page_shift = page_shift
        self.max_page_order = max_page_order
        self.nr_page_orders = max_page_order + 1
        self.pageblock_order = pageblock_order
        self.pageblock_nr_pages = 1 << pageblock_order
        self.kernel_version = tuple(kernel_version)
        self.watermark_check = watermark_check
        self.page_group_by_mobility_disabled = False
        # watermarks: _watermark[WMARK_*] and the boost, lowmem_reserve[] per higher zone index
        self._watermark = [0, 0, 0, 0]
        self.watermark_boost = 0
        self.watermark_boost_factor = 15000
        self.lowmem_reserve: list[int] = [0] * 5
        self.nr_reserved_highatomic = 0
        self._rng = random.Random(shuffle_seed) if shuffle_seed is not None else None

        no = self.nr_page_orders
        self._blk: dict[int, list[int]] = {}       # free block pfn -> [prev, next, order, mt]
        self._head = [-1] * (MIGRATE_TYPES * no)   # index mt * no + order
        self._tail = [-1] * (MIGRATE_TYPES * no)
        self._cnt = [0] * (MIGRATE_TYPES * no)
        self._nr_free = [0] * no                   # free_area[order].nr_free
        self._mask = [0] * MIGRATE_TYPES           # bit o set when free_list[mt][o] is non-empty
        self._free = 0                             # NR_FREE_PAGES (Isolate excluded, as the kernel)
        self._alloc: dict[int, int] = {}           # allocated head pfn -> order << 3 | mt
        self._pb_base = start_pfn >> pageblock_order
        nr_pb = ((self.end_pfn - 1) >> pageblock_order) - self._pb_base + 1
        self._pb = [initial_migratetype] * nr_pb
        self._op = 0
        self.events: EventLog = events
        self._log: EventLog | None = None
        if populate:
            self._boot_free()
        self.log_events = log_events

    # ------------------------------------------------------------------ properties
    @property
    def log_events(self) -> bool:
        """Whether operations append :class:`Event` records to :attr:`events`."""
        return self._log is not None

    @log_events.setter
    def log_events(self, on: bool) -> None:
        check_bool(on, "log_events")
        self._log = self.events if on else None

    @property
    def naming(self) -> dict[str, object]:
        """How :attr:`kernel_version` names the largest order (``MAX_ORDER`` vs ``MAX_PAGE_ORDER``)."""
        value = self.max_page_order + 1 if self.kernel_version <= (6, 3) else self.max_page_order
        return {"macro": "MAX_ORDER" if self.kernel_version < (6, 8) else "MAX_PAGE_ORDER",
                "value": value, "exclusive": self.kernel_version <= (6, 3),
                "largest_order": self.max_page_order, "nr_page_orders": self.nr_page_orders}

    @property
    def wmark_min(self) -> int:
        """``min_wmark_pages(zone)`` = ``_watermark[WMARK_MIN] + watermark_boost``."""
        return self._watermark[WMARK_MIN] + self.watermark_boost

    @property
    def wmark_low(self) -> int:
        """``low_wmark_pages(zone)``."""
        return self._watermark[WMARK_LOW] + self.watermark_boost

    @property
    def wmark_high(self) -> int:
        """``high_wmark_pages(zone)``."""
        return self._watermark[WMARK_HIGH] + self.watermark_boost

    @property
    def wmark_promo(self) -> int:
        """``promo_wmark_pages(zone)``."""
        return self._watermark[WMARK_PROMO] + self.watermark_boost

    def set_watermarks(self, wmin: int, low: int, high: int, promo: int) -> None:
        """Set ``_watermark[]`` directly (``__setup_per_zone_wmarks`` does it from min_free_kbytes)."""
        vals = (wmin, low, high, promo)
        for wname, v in zip(("min", "low", "high", "promo"), vals):
            check_int(v, f"watermark {wname}", 0, MAX_ZONE_PAGES, exc=InvalidSizeError, what="pages")
        self._watermark = list(vals)
        self.watermark_boost = 0

    def __repr__(self) -> str:
        return (f"Zone({self.name!r}, start_pfn={self.start_pfn}, nr_pages={self.nr_pages}, "
                f"free={self._free}, nr_free={self._nr_free})")

    # ------------------------------------------------------------------ queries
    def nr_free(self) -> list[int]:
        """``free_area[order].nr_free`` for every order: one /proc/buddyinfo row."""
        return list(self._nr_free)

    def nr_free_type(self, migratetype: int) -> list[int]:
        """Blocks on ``free_list[migratetype][order]`` per order: one /proc/pagetypeinfo row."""
        _check_mt(migratetype)
        no = self.nr_page_orders
        return self._cnt[migratetype * no:(migratetype + 1) * no]

    def free_pages_count(self) -> int:
        """Free pages in the buddy lists (``zone_page_state(zone, NR_FREE_PAGES)``, Isolate excluded)."""
        return self._free

    def nr_free_highatomic(self) -> int:
        """``zone->nr_free_highatomic``: free pages on the MIGRATE_HIGHATOMIC lists."""
        return sum(c << o for o, c in enumerate(self.nr_free_type(MIGRATE_HIGHATOMIC)))

    def free_list(self, migratetype: int, order: int) -> list[int]:
        """PFNs on ``free_area[order].free_list[migratetype]``, head first."""
        _check_mt(migratetype)
        self._check_order(order)
        out = []
        blk = self._blk
        p = self._head[migratetype * self.nr_page_orders + order]
        while p >= 0:
            out.append(p)
            p = blk[p][1]
        return out

    def free_blocks(self) -> list[tuple[int, int, int]]:
        """Every free block as ``(pfn, order, migratetype)``, sorted by PFN."""
        return sorted((p, n[2], n[3]) for p, n in self._blk.items())

    def allocated_blocks(self) -> list[tuple[int, int]]:
        """Every live allocation as ``(pfn, order)``, sorted by PFN."""
        return sorted((p, v >> 3) for p, v in self._alloc.items())

    def is_free(self, pfn: int) -> bool:
        """Whether page ``pfn`` lies inside a free buddy block."""
        self._check_pfn(pfn)
        return self._free_block_containing(pfn) is not None

    def buddy_order(self, pfn: int) -> int | None:
        """``buddy_order()`` of a PageBuddy head, or None when ``pfn`` is not a free block head."""
        self._check_pfn(pfn)
        n = self._blk.get(pfn)
        return None if n is None else n[2]

    def get_pageblock_migratetype(self, pfn: int) -> int:
        """``get_pfnblock_migratetype()``: migrate type of the pageblock holding ``pfn``."""
        self._check_pfn(pfn)
        return self._pb[(pfn >> self.pageblock_order) - self._pb_base]

    def pageblock_counts(self) -> list[int]:
        """Pageblocks per migrate type ("Number of blocks type" row of /proc/pagetypeinfo).

        Like ``pagetypeinfo_showblockcount_print``: steps of ``pageblock_nr_pages`` from
        ``zone_start_pfn`` (which need not be aligned) to the zone end.
        """
        counts = [0] * MIGRATE_TYPES
        for pfn in range(self.start_pfn, self.end_pfn, self.pageblock_nr_pages):
            counts[self._pb[(pfn >> self.pageblock_order) - self._pb_base]] += 1
        return counts

    def set_pageblock_migratetype(self, pfn: int, migratetype: int) -> None:
        """``set_pageblock_migratetype()`` for a pageblock with no free pages on other lists.

        Raises when free blocks of the pageblock sit on another type's lists (use
        :meth:`move_freepages_block` for that)."""
        self._check_pfn(pfn)
        _check_mt(migratetype)
        start = pfn & ~(self.pageblock_nr_pages - 1)
        big = self._free_block_containing(max(start, self.start_pfn))
        if big is not None and big[1] > self.pageblock_order and self._blk[big[0]][3] != migratetype:
            raise BadFreeError(f"pageblock {start} lies inside free block {big[0]} of order {big[1]}; "
                               "retyping it alone would leave free pages on another type's list")
        for p in range(max(start, self.start_pfn), min(start + self.pageblock_nr_pages, self.end_pfn)):
            n = self._blk.get(p)
            if n is not None and n[3] != migratetype:
                raise BadFreeError(f"pageblock {start} has free block {p} on the {n[3]} list; "
                                   "use move_freepages_block")
        self._set_pb(start, migratetype)

    # ------------------------------------------------------------------ state
    def snapshot(self) -> ZoneState:
        """An immutable copy of the free lists, pageblock types and allocations."""
        no = self.nr_page_orders
        lists = tuple(tuple(tuple(self.free_list(mt, o)) for o in range(no)) for mt in range(MIGRATE_TYPES))
        allocated = tuple(sorted((p, v >> 3, v & 7) for p, v in self._alloc.items()))
        return ZoneState(lists, tuple(self._pb), allocated, self.watermark_boost, self._op,
                         self.start_pfn, self.nr_pages)

    def _check_state(self, state: object) -> None:
        """Every check of :meth:`restore`: shape, span, blocks inside the zone, aligned, not overlapping."""
        if not isinstance(state, ZoneState):
            raise InvalidStateError(f"restore() needs a ZoneState from Zone.snapshot(), got {show(state)}")
        if state.start_pfn is not None and (state.start_pfn, state.nr_pages) != (self.start_pfn, self.nr_pages):
            raise InvalidStateError(
                f"the state is a snapshot of zone [{state.start_pfn}, {state.start_pfn + (state.nr_pages or 0)}) "
                f"and cannot be restored into zone {self.name} [{self.start_pfn}, {self.end_pfn})")
        no = self.nr_page_orders
        fl, pbt = state.free_lists, state.pageblock_types
        if (not isinstance(fl, tuple) or len(fl) != MIGRATE_TYPES
                or any(not isinstance(x, tuple) or len(x) != no for x in fl)
                or not isinstance(pbt, tuple) or len(pbt) != len(self._pb)):
            raise InvalidStateError("the state comes from a zone of another geometry "
                                    f"(needs {MIGRATE_TYPES} migrate types x {no} orders, {len(self._pb)} pageblocks)")
        for t in pbt:
            _check_mt(t, "pageblock type in the state", InvalidStateError)
        check_int(state.watermark_boost, "watermark_boost of the state", 0, MAX_ZONE_PAGES, exc=InvalidStateError)
        check_int(state.op, "op of the state", 0, exc=InvalidStateError)
        spans = []
        for per_order in fl:
            for o, pfns in enumerate(per_order):
                if not isinstance(pfns, tuple):
                    raise InvalidStateError(f"free list of order {o} in the state is not a tuple of PFNs")
                for p in pfns:
                    spans.append((self._check_state_block(p, o, "free block"), o))
        if not isinstance(state.allocated, tuple):
            raise InvalidStateError("allocations of the state must be a tuple of (pfn, order, migratetype)")
        for item in state.allocated:
            if not isinstance(item, tuple) or len(item) != 3:
                raise InvalidStateError(f"allocation {show(item)} in the state is not (pfn, order, migratetype)")
            p, o, mt = item
            check_int(o, "order of an allocation in the state", 0, self.max_page_order, exc=InvalidStateError)
            _check_mt(mt, "migrate type of an allocation in the state", InvalidStateError)
            spans.append((self._check_state_block(p, o, "allocation"), o))
        spans.sort()
        for (p1, o1), (p2, o2) in zip(spans, spans[1:]):
            if p1 + (1 << o1) > p2:
                raise InvalidStateError(f"blocks {p1} (order {o1}) and {p2} (order {o2}) of the state overlap")

    def _check_state_block(self, pfn: object, order: int, what: str) -> int:
        if not is_int(pfn) or not self.start_pfn <= pfn or pfn + (1 << order) > self.end_pfn:
            raise InvalidStateError(f"{what} {show(pfn)} of order {order} in the state lies outside zone "
                                    f"{self.name} [{self.start_pfn}, {self.end_pfn})")
        if pfn & ((1 << order) - 1):
            raise InvalidStateError(f"{what} {pfn} of order {order} in the state is not aligned to 2^{order} pages")
        return pfn

    def restore(self, state: ZoneState) -> None:
        """Put the zone back into ``state`` (from :meth:`snapshot` of this zone, or of one with the same span).

        The state is checked first (:class:`InvalidStateError`, zone unchanged): same span and geometry, every
        block inside the zone, aligned, none overlapping."""
        self._check_state(state)
        no = self.nr_page_orders
        self._blk = {}
        self._head = [-1] * (MIGRATE_TYPES * no)
        self._tail = [-1] * (MIGRATE_TYPES * no)
        self._cnt = [0] * (MIGRATE_TYPES * no)
        self._nr_free = [0] * no
        self._mask = [0] * MIGRATE_TYPES
        self._free = 0
        for mt, per_order in enumerate(state.free_lists):
            for o, pfns in enumerate(per_order):
                for p in pfns:
                    self._add(p, o, mt, True)
        self._pb = list(state.pageblock_types)
        self._alloc = {p: (o << 3) | mt for p, o, mt in state.allocated}
        self.watermark_boost = state.watermark_boost
        self._op = state.op

    def fingerprint(self) -> int:
        """Hash of the whole allocator state; equal before and after any rejected call."""
        return self.snapshot().fingerprint()

    def apply(self, ev: Event) -> None:
        """Replay one :class:`Event` onto this zone (for step-through widgets).

        Starting from the :meth:`snapshot` taken before the logged calls, applying their events in
        order reproduces every intermediate state and ends in the same state as the real calls.
        An event that does not fit the zone (a PFN outside it, an unknown kind, order or migrate type, a
        block that is not free where the event takes one, or that overlaps a free block where it adds one)
        raises :class:`InvalidStateError` and changes nothing.
        """
        self._check_event(ev)
        k = ev.kind
        if k in ("take", "merge"):
            self._del(ev.pfn)
        elif k in ("split", "give"):
            self._add(ev.pfn, ev.order, ev.migratetype, ev.to_tail)
        elif k == "allocated":
            self._alloc[ev.pfn] = (ev.order << 3) | ev.migratetype
        elif k == "free":
            self._alloc.pop(ev.pfn, None)
        elif k == "pageblock":
            self._pb[(ev.pfn >> self.pageblock_order) - self._pb_base] = ev.migratetype
        elif k == "move":
            self._del(ev.pfn)
            self._add(ev.pfn, ev.order, ev.migratetype, True)
        elif k in ("alloc", "fail"):
            pass
        else:
            raise InvalidFlagsError(f"unknown event kind {k!r}")
        self._op = ev.op

    def _check_event(self, ev: object) -> None:
        """Every check of :meth:`apply`."""
        if not isinstance(ev, Event):
            raise InvalidStateError(f"apply() needs an Event, got {show(ev)}")
        k = ev.kind
        if k not in EVENT_KINDS:
            raise InvalidStateError(f"unknown event kind {show(k)} (expected one of {', '.join(sorted(EVENT_KINDS))})")
        check_int(ev.order, f"order of the {k!r} event", 0, self.max_page_order, exc=InvalidStateError)
        check_int(ev.op, f"op of the {k!r} event", 0, exc=InvalidStateError)
        if type(ev.migratetype) is not int or not 0 <= ev.migratetype < MIGRATE_TYPES:
            raise InvalidStateError(f"migratetype of the {k!r} event must be 0..{MIGRATE_TYPES - 1}, "
                                    f"got {show(ev.migratetype)}")
        if k in ("alloc", "fail"):
            return
        pfn, order = ev.pfn, ev.order
        if not is_int(pfn) or not self.start_pfn <= pfn < self.end_pfn:
            raise InvalidStateError(f"{k!r} event: PFN {show(pfn)} is outside zone {self.name} "
                                    f"[{self.start_pfn}, {self.end_pfn})")
        if k in ("pageblock", "free"):
            return
        if pfn & ((1 << order) - 1) or pfn + (1 << order) > self.end_pfn:
            raise InvalidStateError(f"{k!r} event: block {pfn} of order {order} is not aligned or runs past "
                                    f"the zone end {self.end_pfn}")
        if k in ("take", "merge", "move"):
            n = self._blk.get(pfn)
            if n is None or n[2] != order:
                raise InvalidStateError(f"{k!r} event: there is no free block {pfn} of order {order} to take "
                                        "(the events do not follow this zone's state)")
            return
        # split, give, allocated: the block must not overlap a free block
        fb = self._free_block_containing(pfn)
        if fb is None:
            size = 1 << order
            if size <= 4096:
                hit = next((p for p in range(pfn + 1, pfn + size) if p in self._blk), None)
            else:
                hit = next((p for p in self._blk if pfn < p < pfn + size), None)
            if hit is not None:
                fb = (hit, self._blk[hit][2])
        if fb is not None:
            raise InvalidStateError(f"{k!r} event: block {pfn} of order {order} overlaps free block {fb[0]} "
                                    f"of order {fb[1]} (the events do not follow this zone's state)")
        ab = self._alloc_block_containing(pfn)
        if ab is None or (k == "allocated" and ab[0] == pfn):
            size = 1 << order
            ab = None
            if size <= 4096:
                hit = next((p for p in range(pfn + 1, pfn + size) if p in self._alloc), None)
            else:
                hit = next((p for p in self._alloc if pfn < p < pfn + size), None)
            if hit is not None:
                ab = (hit, self._alloc[hit] >> 3)
        if ab is not None:
            raise InvalidStateError(f"{k!r} event: block {pfn} of order {order} overlaps allocation {ab[0]} "
                                    f"of order {ab[1]} (the events do not follow this zone's state)")

    # ------------------------------------------------------------------ list primitives
    def _add(self, pfn: int, order: int, mt: int, tail: bool) -> None:
        """``__add_to_free_list()`` + ``set_buddy_order()`` (list_add or list_add_tail)."""
        idx = mt * self.nr_page_orders + order
        if tail:
            t = self._tail[idx]
            self._blk[pfn] = [t, -1, order, mt]
            if t < 0:
                self._head[idx] = pfn
                self._mask[mt] |= 1 << order
            else:
                self._blk[t][1] = pfn
            self._tail[idx] = pfn
        else:
            h = self._head[idx]
            self._blk[pfn] = [-1, h, order, mt]
            if h < 0:
                self._tail[idx] = pfn
                self._mask[mt] |= 1 << order
            else:
                self._blk[h][0] = pfn
            self._head[idx] = pfn
        self._cnt[idx] += 1
        self._nr_free[order] += 1
        if mt != MIGRATE_ISOLATE:
            self._free += 1 << order

    def _del(self, pfn: int) -> list[int]:
        """``del_page_from_free_list()``: unlink a free block in O(1); returns its node."""
        n = self._blk.pop(pfn)
        prv, nxt, order, mt = n
        idx = mt * self.nr_page_orders + order
        if prv < 0:
            self._head[idx] = nxt
        else:
            self._blk[prv][1] = nxt
        if nxt < 0:
            self._tail[idx] = prv
        else:
            self._blk[nxt][0] = prv
        if prv < 0 and nxt < 0:
            self._mask[mt] &= ~(1 << order)
        self._cnt[idx] -= 1
        self._nr_free[order] -= 1
        if mt != MIGRATE_ISOLATE:
            self._free -= 1 << order
        return n

    def _set_pb(self, pfn: int, mt: int) -> None:
        i = (pfn >> self.pageblock_order) - self._pb_base
        old = self._pb[i]
        if old != mt:
            self._pb[i] = mt
            if self._log is not None:
                self._log.append(Event("pageblock", pfn & ~(self.pageblock_nr_pages - 1),
                                       self.pageblock_order, mt, self._op, False, old))

    def _change_pageblock_range(self, pfn: int, order: int, mt: int) -> None:
        """``change_pageblock_range()``: retype every pageblock of a block of ``order``."""
        step = self.pageblock_nr_pages
        for p in range(pfn, pfn + (1 << order), step):
            self._set_pb(p, mt)

    # ------------------------------------------------------------------ boot
    def _boot_free(self) -> None:
        """``__free_pages_memory()``: largest aligned blocks, ascending, each through ``__free_pages_core``
        -> ``__free_pages_ok`` (``split_large_buddy``) with FPI_TO_TAIL."""
        start, end, maxo = self.start_pfn, self.end_pfn, self.max_page_order
        pb, base, pbo = self._pb, self._pb_base, self.pageblock_order
        while start < end:
            order = min(maxo, (start & -start).bit_length() - 1) if start else maxo
            while start + (1 << order) > end:
                order -= 1
            if order > pbo:                     # __free_pages_ok -> free_one_page
                self._split_large_buddy(start, order, True)
            else:
                self._free_one_page(start, order, pb[(start >> pbo) - base], True)
            start += 1 << order

    # ------------------------------------------------------------------ validation
    def _check_order(self, order: object) -> int:
        if not isinstance(order, int) or isinstance(order, bool):
            raise InvalidOrderError(f"order must be an int, got {order!r}")
        if order < 0 or order > self.max_page_order:
            raise InvalidOrderError(f"order {order} outside 0..MAX_PAGE_ORDER ({self.max_page_order})")
        return order

    def _check_pfn(self, pfn: object) -> int:
        if not isinstance(pfn, int) or isinstance(pfn, bool):
            raise OutOfZoneError(f"PFN must be an int, got {pfn!r}")
        if not self.start_pfn <= pfn < self.end_pfn:
            raise OutOfZoneError(f"PFN {pfn} is outside zone {self.name} "
                                 f"[{self.start_pfn}, {self.end_pfn})")
        return pfn

    def _free_block_containing(self, pfn: int) -> tuple[int, int] | None:
        blk = self._blk
        for o in range(self.nr_page_orders):
            head = pfn & ~((1 << o) - 1)
            n = blk.get(head)
            if n is not None and n[2] >= o:
                return head, n[2]
        return None

    def _alloc_block_containing(self, pfn: int) -> tuple[int, int] | None:
        al = self._alloc
        for o in range(self.nr_page_orders):
            head = pfn & ~((1 << o) - 1)
            v = al.get(head)
            if v is not None and (v >> 3) >= o:
                return head, v >> 3
        return None

    def _check_free(self, pfn: object, order: object) -> int:
        """Every check of :meth:`free_pages`; returns the pageblock migrate type."""
        order = self._check_order(order)
        pfn = self._check_pfn(pfn)
        if pfn + (1 << order) > self.end_pfn:
            raise OutOfZoneError(f"block {pfn} of order {order} runs past zone {self.name} end {self.end_pfn}")
        v = self._alloc.get(pfn)
        if v is None:
            fb = self._free_block_containing(pfn)
            if fb is not None:
                raise DoubleFreeError(f"PFN {pfn} is not allocated: it is free, part of free block {fb[0]} of "
                                      f"order {fb[1]} — it was never allocated, or it was freed already "
                                      "(a double free)")
            ab = self._alloc_block_containing(pfn)
            if ab is not None:
                raise BadFreeError(f"PFN {pfn} is not the head of an allocation: it lies inside "
                                   f"block {ab[0]} of order {ab[1]}")
            raise BadFreeError(f"PFN {pfn} in zone {self.name} was never allocated (reserved page)")
        if v >> 3 != order:
            raise BadFreeError(f"wrong order on free: PFN {pfn} was allocated with order {v >> 3}, "
                               f"freed with order {order}")
        return self._pb[(pfn >> self.pageblock_order) - self._pb_base]

    # ------------------------------------------------------------------ freeing
    def _free_one_page(self, pfn: int, order: int, mt: int, to_tail_flag: bool) -> None:
        """``__free_one_page()``: merge with free buddies, then head or tail of the free list.

        The list operations of ``_del``/``_add`` are inlined here: this is the hot path."""
        blk = self._blk
        maxo = self.max_page_order
        pbo = self.pageblock_order
        no = self.nr_page_orders
        head, tail, cnt, nrf, mask = self._head, self._tail, self._cnt, self._nr_free, self._mask
        log = self._log
        freed = 1 << order
        buddy_pfn = 0
        while order < maxo:
            buddy_pfn = pfn ^ (1 << order)
            n = blk.get(buddy_pfn)
            if n is None or n[2] != order:
                break
            buddy_mt = n[3]
            if order >= pbo:
                buddy_mt = self._pb[(buddy_pfn >> pbo) - self._pb_base]
                if buddy_mt != mt and (buddy_mt >= MIGRATE_PCPTYPES or mt >= MIGRATE_PCPTYPES):
                    break
            # __del_page_from_free_list(buddy): O(1) unlink
            del blk[buddy_pfn]
            prv, nxt, _, bmt = n
            idx = bmt * no + order
            if prv < 0:
                head[idx] = nxt
            else:
                blk[prv][1] = nxt
            if nxt < 0:
                tail[idx] = prv
                if prv < 0:
                    mask[bmt] &= ~(1 << order)
            else:
                blk[nxt][0] = prv
            cnt[idx] -= 1
            nrf[order] -= 1
            if log is not None:
                log.append(Event("merge", buddy_pfn, order, buddy_mt, self._op))
            if buddy_mt != mt:
                self._change_pageblock_range(buddy_pfn, order, mt)
            pfn &= buddy_pfn
            order += 1
        if to_tail_flag:
            to_tail = True
        elif order >= maxo and self._rng is not None:
            to_tail = self._rng.random() < 0.5          # shuffle_pick_tail()
        elif order >= maxo - 1:
            to_tail = False                              # buddy_merge_likely: too high
        else:
            higher = buddy_pfn & pfn
            hn = blk.get(higher ^ (1 << (order + 1)))
            to_tail = hn is not None and hn[2] == order + 1
        # __add_to_free_list()
        idx = mt * no + order
        if to_tail:
            t = tail[idx]
            blk[pfn] = [t, -1, order, mt]
            if t < 0:
                head[idx] = pfn
                mask[mt] |= 1 << order
            else:
                blk[t][1] = pfn
            tail[idx] = pfn
        else:
            h = head[idx]
            blk[pfn] = [-1, h, order, mt]
            if h < 0:
                tail[idx] = pfn
                mask[mt] |= 1 << order
            else:
                blk[h][0] = pfn
            head[idx] = pfn
        cnt[idx] += 1
        nrf[order] += 1
        if mt != MIGRATE_ISOLATE:            # account_freepages(): Isolate is not counted
            self._free += freed
        if log is not None:
            log.append(Event("give", pfn, order, mt, self._op, to_tail))

    def _split_large_buddy(self, pfn: int, order: int, to_tail_flag: bool) -> None:
        """``split_large_buddy()`` (6.10+): free a block above ``pageblock_order`` one pageblock at a
        time, each with its own pageblock's migrate type, so ``__free_one_page`` re-merges them
        (and retypes pageblocks) exactly as the kernel does."""
        pbo = self.pageblock_order
        chunk = min(order, pbo)
        pb, base = self._pb, self._pb_base
        for p in range(pfn, pfn + (1 << order), 1 << chunk):
            self._free_one_page(p, chunk, pb[(p >> pbo) - base], to_tail_flag)

    def free_pages(self, pfn: int, order: int) -> None:
        """``__free_pages(page, order)``: give a block back (``free_one_page`` with ``FPI_NONE``;
        above ``pageblock_order`` via ``split_large_buddy``, one pageblock at a time).

        Raises :class:`OutOfZoneError`, :class:`DoubleFreeError`, :class:`BadFreeError` (not
        allocated, not a head, wrong order) or :class:`InvalidOrderError`; the zone is unchanged then.
        """
        v = self._alloc.get(pfn) if type(pfn) is int else None
        if v is None or v >> 3 != order or type(order) is not int:
            self._check_free(pfn, order)            # raises the precise error
        mt = self._pb[(pfn >> self.pageblock_order) - self._pb_base]
        self._op += 1
        del self._alloc[pfn]
        if self._log is not None:
            self._log.trim()
            self._log.append(Event("free", pfn, order, mt, self._op))
        if order > self.pageblock_order:
            self._split_large_buddy(pfn, order, False)
        else:
            self._free_one_page(pfn, order, mt, False)

    # ------------------------------------------------------------------ allocation
    def _expand(self, pfn: int, low: int, high: int, mt: int) -> None:
        """``expand()``: keep the low 2^low pages, upper halves to the heads of lower lists."""
        log = self._log
        size = 1 << high
        while high > low:
            high -= 1
            size >>= 1
            self._add(pfn + size, high, mt, False)
            if log is not None:
                log.append(Event("split", pfn + size, high, mt, self._op))

    def _take(self, pfn: int, order: int, mt: int) -> None:
        self._del(pfn)
        if self._log is not None:
            self._log.append(Event("take", pfn, order, mt, self._op))

    def _rmqueue_smallest(self, order: int, mt: int) -> int:
        """``__rmqueue_smallest()``: head of the smallest non-empty list of ``mt``; -1 if none."""
        m = self._mask[mt] >> order
        if not m:
            return -1
        cur = order + (m & -m).bit_length() - 1
        pfn = self._head[mt * self.nr_page_orders + cur]
        self._take(pfn, cur, mt)
        self._expand(pfn, order, cur, mt)
        return pfn

    def _find_suitable_fallback(self, order: int, mt: int) -> tuple[int, bool]:
        """``find_suitable_fallback(area, order, mt, false, &can_steal)``."""
        if self._nr_free[order] == 0:
            return -1, False
        for fmt in FALLBACKS[mt]:
            if self._mask[fmt] >> order & 1:
                return fmt, can_steal_fallback(order, mt, self.pageblock_order,
                                               self.page_group_by_mobility_disabled)
        return -1, False

    def _boost_watermark(self) -> bool:
        """``boost_watermark()``: raise the watermarks after a fragmenting fallback."""
        if not self.watermark_boost_factor:
            return False
        if self.pageblock_nr_pages * 4 > self.managed_pages:
            return False
        max_boost = self._watermark[WMARK_HIGH] * self.watermark_boost_factor // 10000
        if not max_boost:
            return False
        max_boost = max(self.pageblock_nr_pages, max_boost)
        self.watermark_boost = min(self.watermark_boost + self.pageblock_nr_pages, max_boost)
        return True

    def _prep_move_freepages_block(self, pfn: int) -> tuple[int, int, int] | None:
        """``prep_move_freepages_block()``: (start_pfn, free pages, movable pages) or None."""
        start = pfn & ~(self.pageblock_nr_pages - 1)
        end = start + self.pageblock_nr_pages
        if start < self.start_pfn or end - 1 >= self.end_pfn:
            return None
        free = movable = 0
        blk, al = self._blk, self._alloc
        p = start
        while p < end:
            n = blk.get(p)
            if n is not None:
                free += 1 << n[2]
                p += 1 << n[2]
                continue
            v = al.get(p)
            if v is not None:
                if v & 7 == MIGRATE_MOVABLE:
                    movable += 1 << (v >> 3)
                p += 1 << (v >> 3)
                continue
            p += 1
        return start, free, movable

    def move_freepages_block(self, pfn: int, old_mt: int, new_mt: int) -> int:
        """``__move_freepages_block()``: move the pageblock's free blocks to ``new_mt`` list tails.

        ``old_mt`` is only checked (the kernel uses it for accounting); returns the pages moved.
        Raises :class:`OutOfZoneError` / :class:`InvalidFlagsError` before changing anything."""
        self._check_pfn(pfn)
        for t in (old_mt, new_mt):
            if type(t) is not int or t not in range(MIGRATE_TYPES):
                raise InvalidFlagsError(f"unknown migrate type {t!r}")
        start = pfn & ~(self.pageblock_nr_pages - 1)
        end = min(start + self.pageblock_nr_pages, self.end_pfn)
        moved = 0
        p = max(start, self.start_pfn)
        blk = self._blk
        while p < end:
            n = blk.get(p)
            if n is None:
                p += 1
                continue
            order, from_mt = n[2], n[3]
            self._del(p)
            self._add(p, order, new_mt, True)
            if self._log is not None:
                self._log.append(Event("move", p, order, new_mt, self._op, True, from_mt))
            p += 1 << order
            moved += 1 << order
        self._set_pb(start, new_mt)
        return moved

    def _try_to_steal_block(self, pfn: int, current_order: int, order: int, start_mt: int,
                            alloc_flags: int) -> int:
        """``try_to_steal_block()``: claim the pageblock(s) of a fallback block, or -1."""
        block_type = self._pb[(pfn >> self.pageblock_order) - self._pb_base]
        if block_type == MIGRATE_HIGHATOMIC:
            return -1
        if current_order >= self.pageblock_order:
            self._take(pfn, current_order, block_type)
            self._change_pageblock_range(pfn, current_order, start_mt)
            self._expand(pfn, order, current_order, start_mt)
            return pfn
        self._boost_watermark()
        prep = self._prep_move_freepages_block(pfn)
        if prep is None:
            return -1
        start, free_pages, movable_pages = prep
        if start_mt == MIGRATE_MOVABLE:
            alike = movable_pages
        elif block_type == MIGRATE_MOVABLE:
            alike = self.pageblock_nr_pages - (free_pages + movable_pages)
        else:
            alike = 0
        if free_pages + alike >= (1 << (self.pageblock_order - 1)) or self.page_group_by_mobility_disabled:
            self.move_freepages_block(start, block_type, start_mt)
            return self._rmqueue_smallest(order, start_mt)
        return -1

    def _rmqueue_claim(self, order: int, start_mt: int, alloc_flags: int) -> int:
        """``__rmqueue_claim()``: largest fallback block first, claiming whole pageblocks."""
        min_order = order
        if order < self.pageblock_order and alloc_flags & ALLOC_NOFRAGMENT:
            min_order = self.pageblock_order
        no = self.nr_page_orders
        for cur in range(self.max_page_order, min_order - 1, -1):
            fmt, can_steal = self._find_suitable_fallback(cur, start_mt)
            if fmt == -1:
                continue
            if not can_steal:
                break
            pfn = self._head[fmt * no + cur]
            got = self._try_to_steal_block(pfn, cur, order, start_mt, alloc_flags)
            if got >= 0:
                return got
        return -1

    def _rmqueue_steal(self, order: int, start_mt: int) -> int:
        """``__rmqueue_steal()``: smallest fallback block, leaving the pageblock's type alone."""
        no = self.nr_page_orders
        for cur in range(order, no):
            fmt, _ = self._find_suitable_fallback(cur, start_mt)
            if fmt == -1:
                continue
            pfn = self._head[fmt * no + cur]
            self._take(pfn, cur, fmt)
            self._expand(pfn, order, cur, fmt)
            return pfn
        return -1

    def rmqueue(self, order: int, migratetype: int, alloc_flags: int = 0) -> int:
        """``rmqueue_buddy()`` / ``__rmqueue()`` without watermark checks: PFN or -1.

        Order: HIGHATOMIC lists for ``ALLOC_HIGHATOMIC``; ``__rmqueue_smallest``; ``__rmqueue_claim``;
        ``__rmqueue_steal`` (skipped under ``ALLOC_NOFRAGMENT``); HIGHATOMIC lists again for
        ``ALLOC_OOM``/``ALLOC_NON_BLOCK``. This is the claim/steal ``__rmqueue`` of 6.12.117 and 6.15+
        (see the module docstring for the older ``__rmqueue_fallback``). Checks its arguments; the
        allocation is not recorded (use :meth:`alloc_pages`).
        """
        self._check_order(order)
        _check_mt(migratetype)
        _check_alloc_flags(alloc_flags)
        return self._rmqueue(order, migratetype, alloc_flags)

    def _rmqueue(self, order: int, migratetype: int, alloc_flags: int) -> int:
        pfn = -1
        if alloc_flags & ALLOC_HIGHATOMIC:
            pfn = self._rmqueue_smallest(order, MIGRATE_HIGHATOMIC)
        if pfn < 0:
            pfn = self._rmqueue_smallest(order, migratetype)
            if pfn < 0 and migratetype < MIGRATE_PCPTYPES:
                pfn = self._rmqueue_claim(order, migratetype, alloc_flags)
                if pfn < 0 and not alloc_flags & ALLOC_NOFRAGMENT:
                    pfn = self._rmqueue_steal(order, migratetype)
            if pfn < 0 and alloc_flags & (ALLOC_OOM | ALLOC_NON_BLOCK):
                pfn = self._rmqueue_smallest(order, MIGRATE_HIGHATOMIC)
        return pfn

    def zone_watermark_ok(self, order: int, mark: int, highest_zoneidx: int | None = None,
                          alloc_flags: int = 0, free_pages: int | None = None) -> bool:
        """``zone_watermark_ok()`` / ``__zone_watermark_ok()`` on this zone (see kmemlib.mm.watermarks)."""
        if free_pages is not None:
            check_int(free_pages, "free_pages", -MAX_ZONE_PAGES, MAX_ZONE_PAGES, exc=InvalidSizeError)
        return wm.zone_watermark_ok_free(self, order, mark, self.zone_idx if highest_zoneidx is None else highest_zoneidx,
                  alloc_flags, self._free if free_pages is None else free_pages)

    def alloc_pages(self, order: int, gfp: int = _gfp.GFP_KERNEL, *, alloc_flags: int = 0) -> int | None:
        """``alloc_pages(gfp, order)`` on this zone: head PFN of 2^order pages, or None (OOM).

        The migrate type comes from ``gfp_migratetype(gfp)``. With :attr:`watermark_check` set the
        request first needs ``zone_watermark_ok`` at that watermark (like ``get_page_from_freelist``).
        Raises :class:`InvalidOrderError` / :class:`InvalidFlagsError` on bad input.
        """
        if type(order) is not int or order < 0 or order > self.max_page_order:
            self._check_order(order)
        if type(alloc_flags) is not int or alloc_flags & ~ALLOC_FLAGS_MASK:
            _check_alloc_flags(alloc_flags)
        mt = _MT_CACHE.get(gfp) if type(gfp) is int else None
        if mt is None:
            mt = _gfp.gfp_migratetype(gfp)
            _MT_CACHE[gfp] = mt
        self._op += 1
        log = self._log
        if log is None and self.watermark_check is None and not alloc_flags:
            m = self._mask[mt] >> order
            if m:
                # __rmqueue_smallest() + expand(), inlined: the hot path
                cur = order + (m & -m).bit_length() - 1
                no = self.nr_page_orders
                head, tail, cnt, nrf, mask, blk = (self._head, self._tail, self._cnt, self._nr_free,
                                                   self._mask, self._blk)
                idx = mt * no + cur
                pfn = head[idx]
                nxt = blk.pop(pfn)[1]
                head[idx] = nxt
                if nxt < 0:
                    tail[idx] = -1
                    mask[mt] &= ~(1 << cur)
                else:
                    blk[nxt][0] = -1
                cnt[idx] -= 1
                nrf[cur] -= 1
                size = 1 << cur
                while cur > order:
                    cur -= 1
                    size >>= 1
                    p = pfn + size
                    idx = mt * no + cur
                    h = head[idx]
                    blk[p] = [-1, h, cur, mt]
                    if h < 0:
                        tail[idx] = p
                        mask[mt] |= 1 << cur
                    else:
                        blk[h][0] = p
                    head[idx] = p
                    cnt[idx] += 1
                    nrf[cur] += 1
                self._free -= 1 << order
                self._alloc[pfn] = (order << 3) | mt
                return pfn
        if log is not None:
            log.trim()
            log.append(Event("alloc", -1, order, mt, self._op))
        if self.watermark_check is not None and not alloc_flags & ALLOC_NO_WATERMARKS:
            mark = {"min": self.wmark_min, "low": self.wmark_low, "high": self.wmark_high}[self.watermark_check]
            if not self.zone_watermark_ok(order, mark, alloc_flags=alloc_flags):
                if log is not None:
                    log.append(Event("fail", -1, order, mt, self._op))
                return None
        pfn = self._rmqueue(order, mt, alloc_flags)
        if pfn < 0:
            if log is not None:
                log.append(Event("fail", -1, order, mt, self._op))
            return None
        self._alloc[pfn] = (order << 3) | mt
        if log is not None:
            log.append(Event("allocated", pfn, order, mt, self._op))
        return pfn

    # ------------------------------------------------------------------ exact allocations
    def _exact_nr(self, size: object) -> tuple[int, int]:
        check_int(size, "alloc_pages_exact size", exc=InvalidSizeError, what="bytes")
        if size <= 0:
            raise InvalidSizeError(f"alloc_pages_exact size must be >= 1 byte, got {size}")
        if size > U64_MAX:
            raise InvalidSizeError(f"alloc_pages_exact size {size} does not fit a 64-bit size_t")
        order = fls64((size - 1) >> self.page_shift)
        if order > self.max_page_order:
            raise InvalidOrderError(f"size {size} needs order {order} > MAX_PAGE_ORDER ({self.max_page_order})")
        nr = (size + (1 << self.page_shift) - 1) >> self.page_shift
        return order, nr

    def alloc_pages_exact(self, size: int, gfp: int = _gfp.GFP_KERNEL) -> int | None:
        """``alloc_pages_exact()`` + ``make_alloc_exact()``: first PFN of ``DIV_ROUND_UP(size, PAGE_SIZE)``
        contiguous pages, or None.

        Takes an order-``get_order(size)`` block, ``split_page``s it into order-0 pages and frees
        pages ``[nr, 2^order)`` one by one, ascending, as order 0 with ``FPI_TO_TAIL`` so they
        re-coalesce. The kept pages are order-0 allocations (free them with :meth:`free_pages_exact`
        or one by one with ``free_pages(pfn, 0)``).
        """
        order, nr = self._exact_nr(size)
        _gfp.check_gfp(gfp)
        if gfp & (_FREE_BITS["COMP"] | _FREE_BITS["HIGHMEM"]):
            gfp &= ~(_FREE_BITS["COMP"] | _FREE_BITS["HIGHMEM"])   # WARN_ON_ONCE + clear, as the kernel
        pfn = self.alloc_pages(order, gfp)
        if pfn is None:
            return None
        self._make_alloc_exact(pfn, order, nr)
        return pfn

    def _make_alloc_exact(self, pfn: int, order: int, nr: int) -> None:
        """``make_alloc_exact()``: split_page, keep ``nr`` pages, free the rest to the tails."""
        v = self._alloc.pop(pfn)
        mt = v & 7
        for p in range(pfn, pfn + nr):          # split_page(): 2^order order-0 pages
            self._alloc[p] = mt
        log = self._log
        if log is not None:
            log.append(Event("allocated", pfn, 0, mt, self._op))   # the head is now order 0
            for p in range(pfn + 1, pfn + nr):
                log.append(Event("allocated", p, 0, mt, self._op))
        for p in range(pfn + nr, pfn + (1 << order)):
            if log is not None:
                log.append(Event("free", p, 0, mt, self._op))
            self._free_one_page(p, 0, self._pb[(p >> self.pageblock_order) - self._pb_base], True)

    def free_pages_exact(self, pfn: int, size: int) -> None:
        """``free_pages_exact()``: free ``PAGE_ALIGN(size)`` bytes from ``pfn`` page by page (order 0).

        Every page is checked before any is freed, so a bad call changes nothing.

        The model has no per-CPU page lists: the pages go straight back to the buddy free lists and
        merge. The kernel's ``free_page()`` puts order-0 pages on the freeing CPU's list
        (``free_unref_page``, ``pcp_allowed_order``: orders up to ``PAGE_ALLOC_COSTLY_ORDER``), where
        ``/proc/buddyinfo`` does not count them until the list is drained; ``pages_exact_probe`` showed
        exactly that on Debian's 6.1 and 6.12 (``kmemlib lab compare``)."""
        check_int(size, "free_pages_exact size", 1, U64_MAX, exc=InvalidSizeError, what="bytes")
        nr = (size + (1 << self.page_shift) - 1) >> self.page_shift
        self._check_pfn(pfn)
        if pfn + nr > self.end_pfn:
            raise OutOfZoneError(f"free_pages_exact: size {size} covers {nr} pages from PFN {pfn}, which run "
                                 f"past zone {self.name} end {self.end_pfn} — is the size right?")
        self._check_free(pfn, 0)
        for p in range(pfn + 1, pfn + nr):
            v = self._alloc.get(p)
            if v is None or v >> 3:
                what = ("is free" if self._free_block_containing(p) is not None
                        else "is not one of the pages that allocation kept")
                raise BadFreeError(f"free_pages_exact(PFN {pfn}, size {size}): the size covers {nr} pages, but page "
                                   f"{p} (page {p - pfn} of them) {what} — was the block allocated with a "
                                   "smaller size?")
        for p in range(pfn, pfn + nr):
            self.free_pages(p, 0)

    # ------------------------------------------------------------------ address-based kernel APIs
    def get_free_pages(self, gfp: int, order: int) -> int | None:
        """``__get_free_pages(gfp, order)``: direct-map address of the block, or None."""
        pfn = self.alloc_pages(order, gfp)
        return None if pfn is None else pfn_to_virt(pfn, self.page_shift)

    def free_pages_addr(self, addr: int, order: int) -> None:
        """``free_pages(addr, order)``: free by direct-map address."""
        if not isinstance(addr, int) or isinstance(addr, bool):
            raise OutOfZoneError(f"address must be an int, got {addr!r}")
        if addr & ((1 << self.page_shift) - 1):
            raise BadFreeError(f"address {addr:#x} is not page aligned")
        self.free_pages(virt_to_pfn(addr, self.page_shift), order)

    def reserve_highatomic_pageblock(self, pfn: int) -> bool:
        """``reserve_highatomic_pageblock()``: turn the pageblock of ``pfn`` into MIGRATE_HIGHATOMIC.

        Returns False when the 1 %-of-zone limit is reached (or the zone is too small)."""
        self._check_pfn(pfn)
        if self.managed_pages // 100 < self.pageblock_nr_pages:
            return False
        max_managed = -(-(self.managed_pages // 100) // self.pageblock_nr_pages) * self.pageblock_nr_pages
        if self.nr_reserved_highatomic >= max_managed:
            return False
        mt = self._pb[(pfn >> self.pageblock_order) - self._pb_base]
        if not migratetype_is_mergeable(mt):
            return False
        if self._prep_move_freepages_block(pfn) is None:
            return False
        self.move_freepages_block(pfn, mt, MIGRATE_HIGHATOMIC)
        self.nr_reserved_highatomic += self.pageblock_nr_pages
        return True


# ---------------------------------------------------------------------- kernel-named functions
def _check_zone_arg(zone: object, fn: str) -> None:
    if not isinstance(zone, (Zone, Node)):
        raise InvalidArgumentError(f"{fn}(zone, ...): the first argument must be a Zone or a Node, got {show(zone)}")


def _gfp_order_call(fn: str, zone: "Zone", gfp: object, order: object, call):
    """Run ``call()``; when it rejects the order and the two arguments look swapped, say so."""
    _check_zone_arg(zone, fn)
    try:
        return call()
    except (InvalidOrderError, InvalidFlagsError) as exc:
        maxo = zone.zones[0].max_page_order if isinstance(zone, Node) else zone.max_page_order
        if is_int(gfp) and is_int(order) and 0 <= gfp <= maxo and order > maxo:
            raise type(exc)(f"{exc}. {fn}(zone, gfp, order) takes the GFP flags first and the order second, "
                            f"like the kernel's {fn}(gfp, order): were they swapped? For order {gfp} write "
                            f"{fn}(zone, GFP_KERNEL, {gfp}) (the method zone.alloc_pages(order, gfp) takes the "
                            "order first).") from None
        raise


def alloc_pages(zone: "Zone", gfp: int, order: int) -> int | None:
    """``alloc_pages(gfp, order)``: head PFN (standing for ``struct page *``) or None."""
    return _gfp_order_call("alloc_pages", zone, gfp, order, lambda: zone.alloc_pages(order, gfp))


def __get_free_pages(zone: "Zone", gfp: int, order: int) -> int | None:  # noqa: N807 - kernel name
    """``__get_free_pages(gfp, order)``: direct-map address, or None."""
    return _gfp_order_call("__get_free_pages", zone, gfp, order, lambda: zone.get_free_pages(gfp, order))


def get_free_pages(zone: "Zone", gfp: int, order: int) -> int | None:
    """Alias of :func:`__get_free_pages` that is importable without name mangling."""
    return _gfp_order_call("get_free_pages", zone, gfp, order, lambda: zone.get_free_pages(gfp, order))


def get_zeroed_page(zone: "Zone", gfp: int = _gfp.GFP_KERNEL) -> int | None:
    """``get_zeroed_page(gfp)`` = ``__get_free_pages(gfp | __GFP_ZERO, 0)``."""
    _check_zone_arg(zone, "get_zeroed_page")
    _gfp.check_gfp(gfp)
    return zone.get_free_pages(gfp | _FREE_BITS["ZERO"], 0)


def __free_pages(zone: "Zone", pfn: int, order: int) -> None:  # noqa: N807 - kernel name
    """``__free_pages(page, order)``: free by PFN."""
    _check_zone_arg(zone, "__free_pages")
    zone.free_pages(pfn, order)


def free_pages(zone: "Zone", addr: int, order: int) -> None:
    """``free_pages(addr, order)``: free by direct-map address."""
    _check_zone_arg(zone, "free_pages")
    zone.free_pages_addr(addr, order)


def free_page(zone: "Zone", addr: int) -> None:
    """``free_page(addr)`` = ``free_pages(addr, 0)``."""
    _check_zone_arg(zone, "free_page")
    zone.free_pages_addr(addr, 0)


def alloc_pages_exact(zone: "Zone", size: int, gfp: int = _gfp.GFP_KERNEL) -> int | None:
    """``alloc_pages_exact(size, gfp)``: direct-map address of ``DIV_ROUND_UP(size, PAGE_SIZE)`` pages."""
    _check_zone_arg(zone, "alloc_pages_exact")
    pfn = zone.alloc_pages_exact(size, gfp)
    return None if pfn is None else pfn_to_virt(pfn, zone.page_shift)


def free_pages_exact(zone: "Zone", virt: int, size: int) -> None:
    """``free_pages_exact(virt, size)``."""
    _check_zone_arg(zone, "free_pages_exact")
    if not isinstance(virt, int) or isinstance(virt, bool):
        raise OutOfZoneError(f"address must be an int, got {virt!r}")
    if virt & ((1 << zone.page_shift) - 1):
        raise BadFreeError(f"address {virt:#x} is not page aligned")
    zone.free_pages_exact(virt_to_pfn(virt, zone.page_shift), size)


__all__ = [
    "Zone", "ZoneState", "Event", "EventLog", "EVENT_LOG_SIZE", "EVENT_KINDS", "MAX_ZONE_PAGES", "FALLBACKS", "FPI_NONE", "FPI_TO_TAIL",
    "MIGRATE_UNMOVABLE", "MIGRATE_MOVABLE", "MIGRATE_RECLAIMABLE", "MIGRATE_PCPTYPES",
    "MIGRATE_HIGHATOMIC", "MIGRATE_ISOLATE", "MIGRATE_TYPES", "MIGRATETYPE_NAMES_NO_CMA",
    "ALLOC_WMARK_MIN", "ALLOC_WMARK_LOW", "ALLOC_WMARK_HIGH", "ALLOC_NO_WATERMARKS", "ALLOC_OOM",
    "ALLOC_NON_BLOCK", "ALLOC_MIN_RESERVE", "ALLOC_CMA", "ALLOC_NOFRAGMENT", "ALLOC_HIGHATOMIC",
    "ALLOC_KSWAPD", "ALLOC_RESERVES", "WMARK_MIN", "WMARK_LOW", "WMARK_HIGH", "WMARK_PROMO",
    "max_page_order_from", "migratetype_is_mergeable", "can_steal_fallback",
    "alloc_pages", "__get_free_pages", "get_free_pages", "get_zeroed_page", "__free_pages",
    "free_pages", "free_page", "alloc_pages_exact", "free_pages_exact",
]


# ---------------------------------------------------------------------- nodes


def gfp_zone(gfp: int) -> int:
    """``gfp_zone()`` on x86-64: the highest zone index a request may use."""
    _gfp.check_gfp(gfp)
    f = _gfp.FLAGS
    if gfp & f["DMA"]:
        if gfp & f["DMA32"]:
            raise InvalidFlagsError("__GFP_DMA and __GFP_DMA32 together are invalid (GFP_ZONE_BAD)")
        return ZONE_DMA
    if gfp & f["DMA32"]:
        return ZONE_DMA32
    if gfp & f["MOVABLE"] and gfp & f["HIGHMEM"]:
        return ZONE_MOVABLE
    return ZONE_NORMAL


def gfp_to_alloc_flags(gfp: int, order: int) -> int:
    """``gfp_to_alloc_flags()`` (slow path): MIN watermark, reserves for __GFP_HIGH / non-blocking.

    Without ``__GFP_DIRECT_RECLAIM`` (and without ``__GFP_NOMEMALLOC``) the caller gets
    ``ALLOC_NON_BLOCK``, plus ``ALLOC_HIGHATOMIC`` when ``order > 0`` and ``__GFP_HIGH`` is set;
    non-blocking ``__GFP_HIGH`` drops ``ALLOC_CPUSET``. Not modelled: the real-time task boost
    (``ALLOC_MIN_RESERVE``) and CMA."""
    _gfp.check_gfp(gfp)
    check_int(order, "order", 0, 20, exc=InvalidOrderError)
    f = _gfp.FLAGS
    flags = ALLOC_WMARK_MIN | ALLOC_CPUSET
    if gfp & f["HIGH"]:
        flags |= ALLOC_MIN_RESERVE
    if gfp & f["KSWAPD_RECLAIM"]:
        flags |= ALLOC_KSWAPD
    if not gfp & f["DIRECT_RECLAIM"]:
        if not gfp & f["NOMEMALLOC"]:
            flags |= ALLOC_NON_BLOCK
            if order > 0 and flags & ALLOC_MIN_RESERVE:
                flags |= ALLOC_HIGHATOMIC
        if flags & ALLOC_MIN_RESERVE:
            flags &= ~ALLOC_CPUSET
    return flags


class Node:
    """``pg_data_t``: the zones of one NUMA node and the zonelist walk of ``__alloc_pages``.

    ``zones`` are :class:`Zone` objects with distinct ``zone_idx`` (DMA 0, DMA32 1, Normal 2,
    Movable 3). :meth:`alloc_pages` follows ``get_page_from_freelist``: zones from the highest
    allowed by ``gfp_zone(gfp)`` downward, each needing ``zone_watermark_ok`` at the LOW watermark
    (with ``ALLOC_NOFRAGMENT`` first when the preferred zone is Normal: ``alloc_flags_nofragment``
    with ``nr_online_nodes == 1``, where DMA32 need not be populated), then
    one slow-path pass at the MIN watermark with ``gfp_to_alloc_flags``. Reclaim, compaction and
    the OOM killer are not modelled: if both passes fail the result is None.
    """

    def __init__(self, zones: list[Zone], node_id: int = 0) -> None:
        if not isinstance(zones, (list, tuple)) or not zones:
            raise InvalidArgumentError(f"Node needs a non-empty list of Zone objects, got {show(zones)}")
        for z in zones:
            if not isinstance(z, Zone):
                raise InvalidArgumentError(f"Node zones must be Zone objects, got {show(z)}")
        check_int(node_id, "node_id", 0, MAX_NUMNODES - 1)
        if len({z.page_shift for z in zones}) != 1 or len({z.max_page_order for z in zones}) != 1:
            raise InvalidArgumentError("the zones of a node need the same page_shift and max_page_order")
        idx = [z.zone_idx for z in zones]
        if len(set(idx)) != len(idx):
            raise InvalidSizeError(f"zones need distinct zone_idx, got {idx}")
        spans = sorted((z.start_pfn, z.end_pfn, z.name) for z in zones if z.nr_pages)
        for (s1, e1, n1), (s2, _e2, n2) in zip(spans, spans[1:]):
            if s2 < e1:
                raise InvalidSizeError(f"zones {n1} and {n2} overlap")
        self.node_id = node_id
        self.zones = sorted(zones, key=lambda z: z.zone_idx)
        for z in self.zones:
            z.node = node_id

    @classmethod
    def from_sizes(cls, dma: int = 4095, dma32: int = 0, normal: int = 0, *, node_id: int = 0,
                   min_free_kbytes: int | None = None, **zone_kwargs) -> "Node":
        """A node laid out like x86-64 by hand: DMA from PFN 1 (below 16 MiB), DMA32 from 4096
        (below 4 GiB), Normal from 2^20 (or right after DMA32 when that ends lower).

        Sizes are pages (0 leaves the zone out). Watermarks and ``lowmem_reserve`` are then set
        from ``min_free_kbytes`` (default: ``calculate_min_free_kbytes`` of the managed lowmem)."""
        for pname, v in (("dma", dma), ("dma32", dma32), ("normal", normal)):
            check_int(v, f"Node.from_sizes {pname}", 0, MAX_ZONE_PAGES, exc=InvalidSizeError, what="pages")
        if min_free_kbytes is not None:
            check_int(min_free_kbytes, "min_free_kbytes", 0, 1 << 40, exc=InvalidSizeError)
        zones = []
        if dma:
            if dma > 4095:
                raise InvalidSizeError(f"ZONE_DMA holds at most 4095 pages (PFN 1..4095), got {dma}")
            zones.append(Zone(dma, start_pfn=1, name="DMA", zone_idx=ZONE_DMA, **zone_kwargs))
        if dma32:
            if dma32 > (1 << 20) - 4096:
                raise InvalidSizeError(f"ZONE_DMA32 holds at most {(1 << 20) - 4096} pages, got {dma32}")
            zones.append(Zone(dma32, start_pfn=4096, name="DMA32", zone_idx=ZONE_DMA32, **zone_kwargs))
        if normal:
            start = 1 << 20 if dma32 else 4096
            zones.append(Zone(normal, start_pfn=start, name="Normal", zone_idx=ZONE_NORMAL, **zone_kwargs))
        if not zones:
            raise InvalidSizeError("a node needs at least one non-empty zone")
        node = cls(zones, node_id)
        node.setup_watermarks(min_free_kbytes)
        return node

    def setup_watermarks(self, min_free_kbytes: int | None = None, *, watermark_scale_factor: int = 10,
                         lowmem_reserve_ratio: tuple[int, ...] | None = None) -> int:
        """``init_per_zone_wmark_min()``: min_free_kbytes (computed if None), watermarks, lowmem_reserve.

        Returns the ``min_free_kbytes`` used."""
        lowmem = sum(z.managed_pages for z in self.zones if z.zone_idx != ZONE_MOVABLE)
        if min_free_kbytes is None:
            min_free_kbytes = wm.calculate_min_free_kbytes(lowmem << (self.zones[0].page_shift - 10))
        managed = [0] * 5
        for z in self.zones:
            managed[z.zone_idx] = z.managed_pages
        # compute everything (and raise) before any zone is touched
        rows = wm.compute_lowmem_reserve(managed, lowmem_reserve_ratio or wm.SYSCTL_LOWMEM_RESERVE_RATIO)
        wm.setup_per_zone_wmarks(self.zones, min_free_kbytes, watermark_scale_factor=watermark_scale_factor)
        for z in self.zones:
            z.lowmem_reserve = rows[z.zone_idx]
        self.min_free_kbytes = min_free_kbytes
        return min_free_kbytes

    def zone(self, name: str) -> Zone:
        """The zone called ``name`` ("DMA", "DMA32", "Normal", ...)."""
        for z in self.zones:
            if z.name == name:
                return z
        raise UnknownZoneError(f"node {self.node_id} has no zone {show(name)} "
                               f"(it has: {', '.join(z.name for z in self.zones)})")

    def zone_of(self, pfn: int) -> Zone:
        """``page_zone(pfn_to_page(pfn))``; raises :class:`OutOfZoneError` outside every zone."""
        if isinstance(pfn, int) and not isinstance(pfn, bool):
            for z in self.zones:
                if z.start_pfn <= pfn < z.end_pfn:
                    return z
        raise OutOfZoneError(f"PFN {pfn!r} is in no zone of node {self.node_id}")

    def zonelist(self, gfp: int) -> list[Zone]:
        """Zones a request may use, preferred first (``for_next_zone_zonelist_nodemask``)."""
        high = gfp_zone(gfp)
        return [z for z in reversed(self.zones) if z.zone_idx <= high and z.managed_pages > 0]

    def _get_page_from_freelist(self, order: int, gfp: int, alloc_flags: int,
                                zones: list[Zone], high: int) -> int | None:
        mt = _gfp.gfp_migratetype(gfp)
        while True:
            for z in zones:
                mark = (z.wmark_min, z.wmark_low, z.wmark_high)[alloc_flags & ALLOC_WMARK_MASK] \
                    if not alloc_flags & ALLOC_NO_WATERMARKS else 0
                if not alloc_flags & ALLOC_NO_WATERMARKS and not z.zone_watermark_ok(
                        order, mark, high, alloc_flags):
                    continue
                pfn = z.alloc_pages(order, gfp, alloc_flags=alloc_flags | ALLOC_NO_WATERMARKS) \
                    if z.watermark_check else z.alloc_pages(order, gfp, alloc_flags=alloc_flags)
                if pfn is not None:
                    return pfn
            if alloc_flags & ALLOC_NOFRAGMENT:
                alloc_flags &= ~ALLOC_NOFRAGMENT
                continue
            return None

    def alloc_pages(self, order: int, gfp: int = _gfp.GFP_KERNEL) -> int | None:
        """``__alloc_pages(gfp, order)`` on this node: PFN or None (see the class docstring)."""
        if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= self.zones[0].max_page_order:
            raise InvalidOrderError(f"order {show(order)} outside 0..{self.zones[0].max_page_order}")
        high = gfp_zone(gfp)
        _gfp.gfp_migratetype(gfp)
        zones = self.zonelist(gfp)
        if not zones:
            return None
        flags = ALLOC_WMARK_LOW | (ALLOC_KSWAPD if gfp & _gfp.FLAGS["KSWAPD_RECLAIM"] else 0)
        # alloc_flags_nofragment(): preferred zone Normal; DMA32 must be populated only when
        # nr_online_nodes > 1 (the model is one node, so it is never checked).
        if zones[0].zone_idx == ZONE_NORMAL:
            flags |= ALLOC_NOFRAGMENT
        pfn = self._get_page_from_freelist(order, gfp, flags, zones, high)
        if pfn is None:
            pfn = self._get_page_from_freelist(order, gfp, gfp_to_alloc_flags(gfp, order), zones, high)
        return pfn

    def free_pages(self, pfn: int, order: int) -> None:
        """``__free_pages()``: give the block back to the zone that holds it."""
        self.zone_of(pfn).free_pages(pfn, order)

    def get_free_pages(self, gfp: int, order: int) -> int | None:
        """``__get_free_pages(gfp, order)`` on this node: direct-map address or None."""
        pfn = self.alloc_pages(order, gfp)
        return None if pfn is None else pfn_to_virt(pfn, self.zones[0].page_shift)

    def free_pages_addr(self, addr: int, order: int) -> None:
        """``free_pages(addr, order)`` on this node."""
        if not isinstance(addr, int) or isinstance(addr, bool):
            raise OutOfZoneError(f"address must be an int, got {addr!r}")
        self.zone_of(virt_to_pfn(addr, self.zones[0].page_shift)).free_pages_addr(addr, order)

    def alloc_pages_exact(self, size: int, gfp: int = _gfp.GFP_KERNEL) -> int | None:
        """``alloc_pages_exact()`` on the node: allocate through the zonelist, then trim the tail
        (``__GFP_COMP``/``__GFP_HIGHMEM`` are cleared first, as ``alloc_pages_exact_noprof`` does)."""
        order, nr = Zone._exact_nr(self.zones[0], size)
        _gfp.check_gfp(gfp)
        gfp &= ~(_FREE_BITS["COMP"] | _FREE_BITS["HIGHMEM"])
        pfn = self.alloc_pages(order, gfp)
        if pfn is None:
            return None
        z = self.zone_of(pfn)
        z._make_alloc_exact(pfn, order, nr)
        return pfn

    def free_pages_exact(self, pfn: int, size: int) -> None:
        """``free_pages_exact()`` on the node (by PFN)."""
        self.zone_of(pfn).free_pages_exact(pfn, size)

    @property
    def page_shift(self) -> int:
        """``PAGE_SHIFT`` of the node's zones."""
        return self.zones[0].page_shift

    def nr_free(self) -> dict[str, list[int]]:
        """/proc/buddyinfo rows by zone name (populated zones)."""
        return {z.name: z.nr_free() for z in self.zones if z.present_pages}

    def free_pages_count(self) -> int:
        """Free pages in all zones."""
        return sum(z.free_pages_count() for z in self.zones)

    def fingerprint(self) -> int:
        """Hash of every zone's state."""
        return hash(tuple(z.fingerprint() for z in self.zones))

    def __repr__(self) -> str:
        return f"Node({self.node_id}, zones={[z.name for z in self.zones]})"


__all__ += ["Node", "gfp_zone", "gfp_to_alloc_flags", "ZONE_DMA", "ZONE_DMA32", "ZONE_NORMAL",
            "ZONE_MOVABLE", "ZONE_DEVICE", "ZONE_NAMES"]
