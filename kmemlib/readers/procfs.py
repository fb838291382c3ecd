"""/proc/buddyinfo, /proc/pagetypeinfo and /proc/zoneinfo: parse, format, read, rebuild.

Formats are those of ``mm/vmstat.c`` (``frag_show_print``, ``pagetypeinfo_showfree_print``,
``pagetypeinfo_showblockcount_print``, ``zoneinfo_show_print``); formatting a parsed file gives it
back byte for byte. Every reader takes ``root``: ``"/"`` for the live kernel or a snapshot directory
laid out like ``/`` (see :mod:`kmemlib.readers.snapshots`). Malformed text raises
:class:`kmemlib.errors.ParseError` naming the file and line.

:func:`node_from_snapshot` builds a :class:`kmemlib.mm.page_alloc.Node` whose zones have the snapshot's
geometry (start_pfn, spanned/present/managed pages), watermarks, ``lowmem_reserve`` and **exactly**
the snapshot's free lists per migrate type and order. The PFNs of the free blocks are not in /proc,
so they are placed by :func:`layout_free_blocks`: every free block below MAX_PAGE_ORDER gets a buddy
that holds at least one page in use, so no two free blocks could merge, and each migrate type gets
pageblocks of its own. Pages that are neither free nor allocated through the model are "reserved"
(freeing them raises :class:`kmemlib.errors.BadFreeError`). Pageblock counts per type are not
reproduced (the placement decides them).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import KmemError, ParseError, SourceUnavailableError
from ..mm.page_alloc import MAX_NUMNODES, MAX_PHYSMEM_BITS, MAX_ZONE_PAGES, MIGRATE_MOVABLE, MIGRATE_TYPES, \
    MIGRATETYPE_NAMES_NO_CMA, Node, Zone
from ..mm.watermarks import ZONE_NAMES
from .shipped import snapshot_dir
from .text import check_str, read_text, s64, u64

# ---------------------------------------------------------------------- helpers


def _read(root: str | os.PathLike, rel: str) -> tuple[str, str]:
    if not isinstance(root, (str, os.PathLike)):
        raise SourceUnavailableError(f"root must be a path such as '/' or a snapshot folder, got {root!r}")
    path = Path(root) / rel
    return read_text(path), str(path)


def _int(tok: str, fname: str, lineno: int, what: str) -> int:
    """An unsigned field (``%lu``/``%u``)."""
    return u64(tok, fname, lineno, what)


MIGRATETYPE_NAMES_ALL = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate")
"""Every name ``migratetype_names[]`` (mm/vmstat.c) can print; CMA only with CONFIG_CMA."""
_NAME = r"([!-~]+)"          # a zone or type name: printable ASCII, no blank


def _node_id(tok: str, fname: str, lineno: int) -> int:
    node = u64(tok, fname, lineno, "node id")
    if node >= MAX_NUMNODES:
        raise ParseError(f"{fname}:{lineno}: node {node} is not below MAX_NUMNODES ({MAX_NUMNODES})")
    return node


# ---------------------------------------------------------------------- /proc/buddyinfo
@dataclass
class BuddyInfoRow:
    """One /proc/buddyinfo line: ``free_area[order].nr_free`` of one zone."""

    node: int
    zone: str
    nr_free: list[int]


_BUDDY_RE = re.compile(r"Node ([0-9]+), zone +" + _NAME + r" ((?: *[0-9]+ )+)", re.ASCII)


def parse_buddyinfo(text: str, fname: str = "/proc/buddyinfo") -> list[BuddyInfoRow]:
    """Parse /proc/buddyinfo text (``"Node %d, zone %8s "`` + ``"%6lu "`` per order).

    Exactly the kernel's format: one line per populated zone (no duplicates), 1..21 unsigned counts, the same
    number on every line; anything else raises :class:`ParseError` naming the line."""
    check_str(text, fname)
    rows = []
    width = None
    seen: dict[tuple[int, str], int] = {}
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        m = _BUDDY_RE.fullmatch(line)
        if not m:
            raise ParseError(f"{fname}:{lineno}: expected 'Node N, zone NAME' and one count per order, "
                             f"got {line[:100]!r}")
        counts = [u64(t, fname, lineno, f"order {o} count") for o, t in enumerate(m.group(3).split())]
        if width is not None and len(counts) != width:
            raise ParseError(f"{fname}:{lineno}: {len(counts)} orders, earlier lines had {width}")
        if len(counts) > 21:
            raise ParseError(f"{fname}:{lineno}: {len(counts)} orders; the model handles at most 21 (0..20)")
        width = len(counts)
        key = (_node_id(m.group(1), fname, lineno), m.group(2))
        if key in seen:
            raise ParseError(f"{fname}:{lineno}: node {key[0]} zone {key[1]} again (first on line {seen[key]})")
        seen[key] = lineno
        rows.append(BuddyInfoRow(key[0], key[1], counts))
    if not rows:
        raise ParseError(f"{fname}:1: no zones in buddyinfo")
    return rows


def _list_of(v: object, cls: type, what: str) -> list:
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, cls) for x in v):
        raise ParseError(f"{what} must be a list of {cls.__name__} objects, got {v!r:.60}")
    return list(v)


def format_buddyinfo(rows: list[BuddyInfoRow]) -> str:
    """``frag_show_print()`` for every row."""
    _list_of(rows, BuddyInfoRow, "rows")
    return "".join(f"Node {r.node}, zone {r.zone:>8} " + "".join(f"{c:6d} " for c in r.nr_free) + "\n"
                   for r in rows)


def read_buddyinfo(root: str | os.PathLike = "/") -> list[BuddyInfoRow]:
    """Parse ``<root>/proc/buddyinfo``."""
    text, fname = _read(root, "proc/buddyinfo")
    return parse_buddyinfo(text, fname)


def buddyinfo_rows(node_or_zones) -> list[BuddyInfoRow]:
    """Rows of a model :class:`Node` (or list of zones): populated zones in zone order."""
    zones = node_or_zones.zones if isinstance(node_or_zones, Node) else _list_of(node_or_zones, Zone, "zones")
    return [BuddyInfoRow(z.node, z.name, z.nr_free()) for z in zones if z.present_pages]


def buddyinfo_text(node_or_zones) -> str:
    """/proc/buddyinfo of a model node or zones, in the kernel's format."""
    return format_buddyinfo(buddyinfo_rows(node_or_zones))


# ---------------------------------------------------------------------- /proc/pagetypeinfo
@dataclass
class PageTypeFreeRow:
    """``Node %4d, zone %8s, type %12s`` + counts (``overflow[o]`` marks a ``>`` capped count)."""

    node: int
    zone: str
    type: str
    counts: list[int]
    overflow: list[bool] = field(default_factory=list)


@dataclass
class PageTypeBlockRow:
    """``Node %d, zone %8s`` + pageblocks per migrate type."""

    node: int
    zone: str
    counts: list[int]


@dataclass
class PageTypeInfo:
    """Parsed /proc/pagetypeinfo (one node per section; several nodes follow each other)."""

    pageblock_order: int
    pages_per_block: int
    nr_orders: int
    free: list[PageTypeFreeRow]
    type_names: list[str]
    blocks: list[PageTypeBlockRow]
    mixed: list[PageTypeBlockRow] = field(default_factory=list)

    def counts(self, node: int, zone: str) -> dict[str, list[int]]:
        """Free blocks per order by migrate type name for one zone."""
        return {r.type: r.counts for r in self.free if r.node == node and r.zone == zone}


_PT_FREE_RE = re.compile(r"Node +([0-9]+), zone +([!-~]+), type +" + _NAME + r" ((?: *>?[0-9]+ )+)", re.ASCII)
_PT_BLOCK_RE = re.compile(r"Node ([0-9]+), zone +" + _NAME + r" ((?: *[0-9]+ )+)", re.ASCII)


def parse_pagetypeinfo(text: str, fname: str = "/proc/pagetypeinfo") -> PageTypeInfo:
    """Parse /proc/pagetypeinfo (single- or multi-node; the ``mixed blocks`` part of PAGE_OWNER too).

    Checked like the kernel writes it: known migrate type names (CMA kept), one free-count line per zone and
    type and every type of the block header for every zone, one block-count line per zone, the same zones in
    both parts (a file cut short is rejected), counts unsigned and below 2^64."""
    check_str(text, fname)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 4:
        raise ParseError(f"{fname}:1: truncated pagetypeinfo ({len(lines)} lines)")
    pbo = pages = nr_orders = None
    free: list[PageTypeFreeRow] = []
    blocks: list[PageTypeBlockRow] = []
    mixed: list[PageTypeBlockRow] = []
    names: list[str] = []
    section = None
    free_seen: dict[tuple, int] = {}
    block_seen: dict[tuple, int] = {}
    for lineno, line in enumerate(lines, 1):
        if line.startswith("Page block order:"):
            v = _int(line.split(":", 1)[1].strip(), fname, lineno, "pageblock order")
            if v > 20:
                raise ParseError(f"{fname}:{lineno}: pageblock order {v} is above 20")
            if pbo is not None and v != pbo:
                raise ParseError(f"{fname}:{lineno}: pageblock order changes from {pbo} to {v}")
            pbo = v
            section = "head"
        elif line.startswith("Pages per block:"):
            pages = _int(line.split(":", 1)[1].strip(), fname, lineno, "pages per block")
            if pbo is None:
                raise ParseError(f"{fname}:{lineno}: 'Pages per block' before 'Page block order'")
        elif line == "":
            continue
        elif line.startswith("Free pages count per migrate type at order"):
            nums = line[len("Free pages count per migrate type at order"):].split()
            orders = [_int(t, fname, lineno, "order") for t in nums]
            if orders != list(range(len(orders))) or not orders or len(orders) > 21:
                raise ParseError(f"{fname}:{lineno}: order header is not 0..N (N <= 20): {nums[:30]}")
            if nr_orders is not None and len(orders) != nr_orders:
                raise ParseError(f"{fname}:{lineno}: {len(orders)} orders, an earlier node had {nr_orders}")
            nr_orders = len(orders)
            section = "free"
        elif line.startswith("Number of blocks type"):
            new_names = line[len("Number of blocks type"):].split()
            bad = [n for n in new_names if n not in MIGRATETYPE_NAMES_ALL]
            if bad or not new_names or len(set(new_names)) != len(new_names) \
                    or new_names != [n for n in MIGRATETYPE_NAMES_ALL if n in new_names]:
                raise ParseError(f"{fname}:{lineno}: block header must list migrate types once each, in the "
                                 f"kernel's order ({' '.join(MIGRATETYPE_NAMES_ALL)}), got {new_names[:10]}")
            if names and new_names != names:
                raise ParseError(f"{fname}:{lineno}: migrate types {new_names} differ from an earlier node's {names}")
            names = new_names
            section = "blocks"
        elif line.startswith("Number of mixed blocks"):
            section = "mixed"
        elif section == "free":
            m = _PT_FREE_RE.fullmatch(line)
            if not m:
                raise ParseError(f"{fname}:{lineno}: not a free-count line: {line!r}")
            toks = m.group(4).split()
            if len(toks) != nr_orders:
                raise ParseError(f"{fname}:{lineno}: {len(toks)} counts for {nr_orders} orders")
            if m.group(3) not in MIGRATETYPE_NAMES_ALL:
                raise ParseError(f"{fname}:{lineno}: unknown migrate type {m.group(3)!r} "
                                 f"(expected one of {', '.join(MIGRATETYPE_NAMES_ALL)})")
            key = (_node_id(m.group(1), fname, lineno), m.group(2), m.group(3))
            if key in free_seen:
                raise ParseError(f"{fname}:{lineno}: node {key[0]} zone {key[1]} type {key[2]} again "
                                 f"(first on line {free_seen[key]})")
            free_seen[key] = lineno
            free.append(PageTypeFreeRow(key[0], key[1], key[2],
                                        [u64(t.removeprefix(">"), fname, lineno, f"order {o} count")
                                         for o, t in enumerate(toks)], [t.startswith(">") for t in toks]))
        elif section in ("blocks", "mixed"):
            m = _PT_BLOCK_RE.fullmatch(line)
            if not m:
                raise ParseError(f"{fname}:{lineno}: not a block-count line: {line!r}")
            counts = [u64(t, fname, lineno, "block count") for t in m.group(3).split()]
            if len(counts) != len(names):
                raise ParseError(f"{fname}:{lineno}: {len(counts)} counts for {len(names)} types")
            key = (_node_id(m.group(1), fname, lineno), m.group(2), section)
            if key in block_seen:
                raise ParseError(f"{fname}:{lineno}: node {key[0]} zone {key[1]} again in the {section} counts "
                                 f"(first on line {block_seen[key]})")
            block_seen[key] = lineno
            (blocks if section == "blocks" else mixed).append(PageTypeBlockRow(key[0], key[1], counts))
        else:
            raise ParseError(f"{fname}:{lineno}: unexpected line {line!r}")
    if pbo is None or pages is None or nr_orders is None:
        raise ParseError(f"{fname}:1: missing 'Page block order', 'Pages per block' or order header")
    if pages != 1 << pbo:
        raise ParseError(f"{fname}:2: {pages} pages per block but pageblock order {pbo}")
    end = len(lines)
    if not names:
        raise ParseError(f"{fname}:{end}: the file ends before 'Number of blocks type' (truncated?)")
    free_zones = {(n, z) for n, z, _t in free_seen}
    block_zones = {(n, z) for n, z, sec in block_seen if sec == "blocks"}
    if not free_zones:
        raise ParseError(f"{fname}:{end}: no free-count lines (truncated after the header?)")
    if free_zones != block_zones:
        missing = sorted(free_zones ^ block_zones)
        raise ParseError(f"{fname}:{end}: zones {missing} have free counts but no block counts, or the other "
                         "way round (truncated?)")
    for node, zone in sorted(free_zones):
        types = [t for (n, z, t) in free_seen if (n, z) == (node, zone)]
        if types != names:
            raise ParseError(f"{fname}:{free_seen[(node, zone, types[0])]}: node {node} zone {zone} has free "
                             f"counts for {types}, expected one line for each of {names}")
    return PageTypeInfo(pbo, pages, nr_orders, free, names, blocks, mixed)


def format_pagetypeinfo(info: PageTypeInfo) -> str:
    """``pagetypeinfo_show()`` per node, in the kernel's format."""
    if not isinstance(info, PageTypeInfo):
        raise ParseError(f"info must be a PageTypeInfo, got {info!r:.60}")
    out = []
    nodes = sorted({r.node for r in info.free} | {r.node for r in info.blocks})
    for node in nodes:
        out.append(f"Page block order: {info.pageblock_order}\nPages per block:  {info.pages_per_block}\n\n")
        out.append(f"{'Free pages count per migrate type at order':<43} "
                   + "".join(f"{o:6d} " for o in range(info.nr_orders)) + "\n")
        for r in info.free:
            if r.node != node:
                continue
            ov = r.overflow or [False] * len(r.counts)
            out.append(f"Node {r.node:4d}, zone {r.zone:>8}, type {r.type:>12} "
                       + "".join(f"{'>' if o else ''}{c:6d} " for c, o in zip(r.counts, ov)) + "\n")
        out.append(f"\n{'Number of blocks type ':<23}" + "".join(f"{n:>12} " for n in info.type_names) + "\n")
        for r in info.blocks:
            if r.node == node:
                out.append(f"Node {r.node}, zone {r.zone:>8} " + "".join(f"{c:12d} " for c in r.counts) + "\n")
        if info.mixed:
            out.append(f"\n{'Number of mixed blocks ':<23}" + "".join(f"{n:>12} " for n in info.type_names) + "\n")
            for r in info.mixed:
                if r.node == node:
                    out.append(f"Node {r.node}, zone {r.zone:>8} " + "".join(f"{c:12d} " for c in r.counts) + "\n")
    return "".join(out)


def read_pagetypeinfo(root: str | os.PathLike = "/") -> PageTypeInfo:
    """Parse ``<root>/proc/pagetypeinfo`` (root-only on a live kernel: SourceUnavailableError otherwise)."""
    text, fname = _read(root, "proc/pagetypeinfo")
    return parse_pagetypeinfo(text, fname)


def pagetypeinfo_of(node: Node) -> PageTypeInfo:
    """The :class:`PageTypeInfo` of a model node (free lists capped at 100000 like the kernel)."""
    if not isinstance(node, Node):
        raise ParseError(f"node must be a Node, got {node!r:.60}")
    z0 = node.zones[0]
    free, blocks = [], []
    for z in node.zones:
        if not z.present_pages:
            continue
        for mt in range(MIGRATE_TYPES):
            counts = z.nr_free_type(mt)
            capped = [min(c, 100000) for c in counts]
            free.append(PageTypeFreeRow(node.node_id, z.name, MIGRATETYPE_NAMES_NO_CMA[mt], capped,
                                        [c >= 100000 for c in counts]))
        blocks.append(PageTypeBlockRow(node.node_id, z.name, z.pageblock_counts()))
    return PageTypeInfo(z0.pageblock_order, z0.pageblock_nr_pages, z0.nr_page_orders, free,
                        list(MIGRATETYPE_NAMES_NO_CMA), blocks)


def pagetypeinfo_text(node: Node) -> str:
    """/proc/pagetypeinfo of a model node, in the kernel's format."""
    return format_pagetypeinfo(pagetypeinfo_of(node))


# ---------------------------------------------------------------------- /proc/zoneinfo
_WM_KEYS = ("boost", "min", "low", "high", "promo", "spanned", "present", "managed", "cma")


@dataclass
class PageSet:
    """One ``cpu: N`` block of a zone's ``pagesets`` (field names and values in file order)."""

    cpu: int
    fields: list[tuple[str, int]]
    stat_threshold: int | None = None


@dataclass
class ZoneInfo:
    """One zone of /proc/zoneinfo."""

    node: int
    name: str
    free: int
    boost: int
    min: int
    low: int
    high: int
    promo: int | None
    spanned: int
    present: int
    managed: int
    cma: int | None
    protection: list[int]
    node_stats: list[tuple[str, int]] | None = None
    stats: list[tuple[str, int]] = field(default_factory=list)
    pagesets: list[PageSet] = field(default_factory=list)
    node_unreclaimable: int | None = None
    start_pfn: int | None = None
    populated: bool = True
    pageset_width: int = 10

    @property
    def watermarks(self) -> dict[str, int]:
        """The zone's ``min``/``low``/``high``/``promo`` lines (boost included, as the kernel prints)."""
        return {"min": self.min, "low": self.low, "high": self.high, "promo": self.promo}


_KEY = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)


def _kv(line: str, fname: str, lineno: int) -> tuple[str, int]:
    toks = line.split(" ")
    toks = [t for t in toks if t]
    if len(toks) != 2 or not _KEY.fullmatch(toks[0]):
        raise ParseError(f"{fname}:{lineno}: expected 'name value', got {line[:100]!r}")
    return toks[0], _int(toks[1], fname, lineno, toks[0])


def parse_zoneinfo(text: str, fname: str = "/proc/zoneinfo") -> list[ZoneInfo]:
    """Parse /proc/zoneinfo into one :class:`ZoneInfo` per zone (populated or not).

    Checked like the kernel writes it: one block per zone (no duplicates), each field once, unsigned values
    below 2^64 (signed only in ``protection`` and the pagesets), ``min <= low <= high (<= promo)``,
    ``managed <= present <= spanned``, ``pages free <= managed``, a zone end below 2^64."""
    check_str(text, fname)
    zones: list[ZoneInfo] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    seen: dict[tuple[int, str], int] = {}
    i = 0
    n = len(lines)

    def err(msg: str) -> ParseError:
        return ParseError(f"{fname}:{i + 1}: {msg}")

    while i < n:
        line = lines[i]
        m = re.fullmatch(r"Node ([0-9]+), zone +" + _NAME, line, re.ASCII)
        if not m:
            raise err(f"expected 'Node N, zone NAME', got {line[:100]!r}")
        node, name = _node_id(m.group(1), fname, i + 1), m.group(2)
        if (node, name) in seen:
            raise err(f"node {node} zone {name} again (first on line {seen[(node, name)]})")
        seen[(node, name)] = i + 1
        zone_line = i + 1
        i += 1
        node_stats = None
        if i < n and lines[i] == "  per-node stats":
            node_stats = []
            i += 1
            while i < n and lines[i].startswith("      ") and not lines[i].startswith("       "):
                node_stats.append(_kv(lines[i], fname, i + 1))
                i += 1
        if i >= n or not lines[i].startswith("  pages free"):
            raise err("expected '  pages free'")
        fm = re.fullmatch(r"  pages free +([0-9]+)", lines[i], re.ASCII)
        if not fm:
            raise err(f"expected '  pages free N', got {lines[i][:100]!r}")
        free = _int(fm.group(1), fname, i + 1, "pages free")
        i += 1
        vals: dict[str, int] = {}
        while i < n and lines[i].startswith("        ") and not lines[i].lstrip().startswith("protection"):
            k, v = _kv(lines[i], fname, i + 1)
            if k not in _WM_KEYS:
                raise err(f"unknown zone field {k!r}")
            if k in vals:
                raise err(f"zone {name} field {k!r} again")
            vals[k] = v
            i += 1
        for k in ("boost", "min", "low", "high", "spanned", "present", "managed"):
            if k not in vals:
                raise err(f"zone {name} lacks '{k}'")
        if i >= n:
            raise err("missing protection line")
        pm = re.fullmatch(r"        protection: \(([-0-9, ]*)\)", lines[i], re.ASCII)
        if not pm:
            raise err(f"bad protection line {lines[i][:100]!r}")
        protection = [s64(t.strip(), fname, i + 1, "protection") for t in pm.group(1).split(",")]
        if not 1 <= len(protection) <= 8:
            raise err(f"protection lists {len(protection)} zones, expected one per zone type (1..8)")
        wm = [vals["min"], vals["low"], vals["high"]] + ([vals["promo"]] if "promo" in vals else [])
        if wm != sorted(wm):
            raise ParseError(f"{fname}:{zone_line}: zone {name}: watermarks min {vals['min']}, low {vals['low']}, "
                             f"high {vals['high']}" + (f", promo {vals['promo']}" if "promo" in vals else "")
                             + " are not in increasing order (the kernel keeps min <= low <= high <= promo)")
        if not vals["managed"] <= vals["present"] <= vals["spanned"]:
            raise ParseError(f"{fname}:{zone_line}: zone {name}: managed {vals['managed']}, present "
                             f"{vals['present']}, spanned {vals['spanned']} (the kernel has managed <= present "
                             "<= spanned)")
        if free > vals["managed"]:
            raise ParseError(f"{fname}:{zone_line}: zone {name}: {free} pages free but only {vals['managed']} managed")
        i += 1
        z = ZoneInfo(node, name, free, vals["boost"], vals["min"], vals["low"], vals["high"], vals.get("promo"),
                     vals["spanned"], vals["present"], vals["managed"], vals.get("cma"), protection, node_stats)
        z.populated = False
        # populated zones continue with stats, pagesets, node_unreclaimable, start_pfn
        if i < n and lines[i].startswith("      "):
            z.populated = True
            while i < n and lines[i].startswith("      "):
                z.stats.append(_kv(lines[i], fname, i + 1))
                i += 1
            if i >= n or lines[i] != "  pagesets":
                raise err("expected '  pagesets'")
            i += 1
            while i < n and lines[i].startswith("    cpu: "):
                ps = PageSet(_int(lines[i].split(":")[1].strip(), fname, i + 1, "cpu"), [])
                i += 1
                while i < n and lines[i].startswith("              "):
                    body = lines[i][14:]
                    fm = re.fullmatch(r"([a-z_0-9]+):( +)(-?[0-9]+)", body, re.ASCII)
                    if not fm:
                        raise err(f"bad pageset line {lines[i][:100]!r}")
                    z.pageset_width = len(fm.group(1)) + 1 + len(fm.group(2))
                    ps.fields.append((fm.group(1), s64(fm.group(3), fname, i + 1, fm.group(1))))
                    i += 1
                if i < n and lines[i].startswith("  vm stats threshold:"):
                    ps.stat_threshold = s64(lines[i].split(":")[1].strip(), fname, i + 1, "threshold")
                    i += 1
                z.pagesets.append(ps)
            if i + 1 >= n or not lines[i].startswith("  node_unreclaimable:") \
                    or not lines[i + 1].startswith("  start_pfn:"):
                raise err("expected node_unreclaimable and start_pfn")
            z.node_unreclaimable = _int(lines[i].split(":")[1].strip(), fname, i + 1, "node_unreclaimable")
            z.start_pfn = _int(lines[i + 1].split(":")[1].strip(), fname, i + 2, "start_pfn")
            if z.start_pfn + z.spanned > 1 << 64:
                raise err(f"zone {name} [{z.start_pfn}, +{z.spanned}) ends above 2^64")
            i += 2
        zones.append(z)
    if not zones:
        raise ParseError(f"{fname}:1: no zones in zoneinfo")
    for node in sorted({z.node for z in zones}):
        mine = [z for z in zones if z.node == node]
        if any(len(z.protection) != len(mine) for z in mine):
            raise ParseError(f"{fname}:{len(lines)}: node {node} has {len(mine)} zones but its protection lines "
                             f"list {len(mine[0].protection)}: the kernel prints every zone of a node (truncated?)")
    return zones


def format_zoneinfo(zones: list[ZoneInfo]) -> str:
    """``zoneinfo_show_print()`` for every zone, in the kernel's format (6.x field set)."""
    _list_of(zones, ZoneInfo, "zones")
    out = []
    for z in zones:
        out.append(f"Node {z.node}, zone {z.name:>8}")
        if z.node_stats is not None:
            out.append("\n  per-node stats")
            out.extend(f"\n      {k:<12} {v}" for k, v in z.node_stats)
        out.append(f"\n  pages free     {z.free}")
        vals = {"boost": z.boost, "min": z.min, "low": z.low, "high": z.high, "promo": z.promo,
                "spanned": z.spanned, "present": z.present, "managed": z.managed, "cma": z.cma}
        out.extend(f"\n        {k:<8} {vals[k]}" for k in _WM_KEYS if vals[k] is not None)
        out.append("\n        protection: (" + ", ".join(str(p) for p in z.protection) + ")")
        if not z.populated:
            out.append("\n")
            continue
        out.extend(f"\n      {k:<12} {v}" for k, v in z.stats)
        out.append("\n  pagesets")
        for ps in z.pagesets:
            out.append(f"\n    cpu: {ps.cpu}")
            out.extend(f"\n              {k + ':':<{z.pageset_width}}{v}" for k, v in ps.fields)
            if ps.stat_threshold is not None:
                out.append(f"\n  vm stats threshold: {ps.stat_threshold}")
        out.append(f"\n  node_unreclaimable:  {z.node_unreclaimable}\n  start_pfn:           {z.start_pfn}\n")
    return "".join(out)


def read_zoneinfo(root: str | os.PathLike = "/") -> list[ZoneInfo]:
    """Parse ``<root>/proc/zoneinfo``."""
    text, fname = _read(root, "proc/zoneinfo")
    return parse_zoneinfo(text, fname)


def read_min_free_kbytes(root: str | os.PathLike = "/") -> int | None:
    """``<root>/proc/sys/vm/min_free_kbytes``, or None where absent (snapshots may leave it out)."""
    try:
        text, fname = _read(root, "proc/sys/vm/min_free_kbytes")
    except SourceUnavailableError:
        return None
    if not text.endswith("\n") or text.count("\n") != 1:
        raise ParseError(f"{fname}:1: expected one line with a number, got {text[:40]!r}")
    return _int(text[:-1], fname, 1, "min_free_kbytes")


def read_vm_int(root: str | os.PathLike, name: str, default: int | None = None) -> int | None:
    """An integer ``<root>/proc/sys/vm/<name>`` (``default`` where the file is absent)."""
    try:
        text, fname = _read(root, f"proc/sys/vm/{name}")
    except SourceUnavailableError:
        return default
    return _int(text.strip(), fname, 1, name)


def read_lowmem_reserve_ratio(root: str | os.PathLike = "/") -> list[int] | None:
    """``<root>/proc/sys/vm/lowmem_reserve_ratio`` (one ratio per zone index), or None where absent."""
    try:
        text, fname = _read(root, "proc/sys/vm/lowmem_reserve_ratio")
    except SourceUnavailableError:
        return None
    return [_int(t, fname, 1, "lowmem_reserve_ratio") for t in text.split()]


def read_kernel_version(root: str | os.PathLike = "/") -> tuple[int, int] | None:
    """``(major, minor)`` from ``<root>/proc/version`` ("Linux version 6.12.117+deb12-amd64 ..."),
    or None where the file is absent (the 6.18 snapshots do not have it)."""
    try:
        text, fname = _read(root, "proc/version")
    except SourceUnavailableError:
        return None
    m = re.match(r"Linux version (\d+)\.(\d+)", text)
    if not m:
        raise ParseError(f"{fname}:1: not a 'Linux version X.Y' line")
    return int(m.group(1)), int(m.group(2))


# ---------------------------------------------------------------------- model from a snapshot
def _check_counts(counts_by_mt: object, nr_orders: int | None) -> None:
    if not isinstance(counts_by_mt, dict):
        raise ParseError(f"free counts must be a dict migrate type -> counts per order, got {counts_by_mt!r}")
    for mt, counts in counts_by_mt.items():
        if isinstance(mt, bool) or not isinstance(mt, int) or not 0 <= mt < MIGRATE_TYPES:
            raise ParseError(f"unknown migrate type {mt!r} in the free counts")
        if not isinstance(counts, (list, tuple)) or (nr_orders is not None and len(counts) != nr_orders) \
                or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= MAX_ZONE_PAGES for c in counts):
            raise ParseError(f"free counts of migrate type {mt} must be {nr_orders or 'one per order'} "
                             f"non-negative ints, got {counts!r}")


def layout_free_blocks(start_pfn: int, end_pfn: int, counts_by_mt: dict[int, list[int]], *,
                       max_page_order: int = 10, pageblock_order: int = 9
                       ) -> tuple[list[tuple[int, int, int]], dict[int, int]]:
    """Place free blocks so the free lists have exactly ``counts_by_mt[mt][order]`` blocks.

    Returns ``([(pfn, order, mt)], {pageblock start pfn: mt})``. Rules: blocks are naturally
    aligned inside ``[start_pfn, end_pfn)``; a free block below ``max_page_order`` always has a
    buddy that keeps at least one page in use (it could not be free, or merge, in the kernel);
    each migrate type uses pageblocks of its own. Raises :class:`ParseError` when the counts do
    not fit the span.
    """
    _check_counts(counts_by_mt, max_page_order + 1 if isinstance(max_page_order, int) else None)
    for pname, v in (("start_pfn", start_pfn), ("end_pfn", end_pfn), ("max_page_order", max_page_order),
                     ("pageblock_order", pageblock_order)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ParseError(f"layout_free_blocks: {pname} must be a non-negative int, got {v!r}")
    if end_pfn - start_pfn > MAX_ZONE_PAGES or max_page_order > 20:
        raise ParseError(f"layout_free_blocks: span [{start_pfn}, {end_pfn}) / max_page_order {max_page_order} "
                         f"is more than the model handles")
    need = sum(c << o for counts in counts_by_mt.values() for o, c in enumerate(counts))
    if need > max(0, end_pfn - start_pfn):
        raise ParseError(f"free lists hold {need} pages, more than PFNs [{start_pfn}, {end_pfn}) can")
    # fresh regions: the largest aligned blocks of the span (like __free_pages_memory), grouped
    # by pageblock (regions of pageblock order or more are groups of their own)
    groups: list[list[tuple[int, int]]] = []
    s = start_pfn
    cur_pb = None
    while s < end_pfn:
        order = min(max_page_order, (s & -s).bit_length() - 1) if s else max_page_order
        while s + (1 << order) > end_pfn:
            order -= 1
        pb = s >> pageblock_order
        if order >= pageblock_order or pb != cur_pb:
            groups.append([])
            cur_pb = None if order >= pageblock_order else pb
        groups[-1].append((s, order))
        s += 1 << order
    placed: list[tuple[int, int, int]] = []
    pb_types: dict[int, int] = {}
    for mt in sorted(counts_by_mt, key=lambda t: -sum(c << o for o, c in enumerate(counts_by_mt[t]))):
        counts = counts_by_mt[mt]
        if not any(counts):
            continue
        mixed: list[list[int]] = [[] for _ in range(max_page_order + 1)]   # regions keeping a used page
        fresh: list[tuple[int, int]] = []

        def claim_group(need: int) -> bool:
            # the lowest group that has a region of at least the needed order
            gi = next((i for i, g in enumerate(groups) if any(o >= need for _p, o in g)), None)
            if gi is None:
                return False
            g = groups.pop(gi)
            for p, o in g:
                for q in range(p & ~((1 << pageblock_order) - 1), p + (1 << o), 1 << pageblock_order):
                    pb_types[q] = mt
            fresh.extend(g)
            fresh.sort(key=lambda r: (-r[1], r[0]))
            return True

        for order in range(max_page_order, -1, -1):
            for _ in range(counts[order]):
                while True:
                    k = next((k for k in range(order + 1, max_page_order + 1) if mixed[k]), None)
                    if k is not None:
                        p = mixed[k].pop()
                        while k > order + 1:          # split: both halves must keep a used page
                            k -= 1
                            mixed[k].append(p + (1 << k))
                        placed.append((p + (1 << order), order, mt))   # upper half free ...
                        mixed[order].append(p)                         # ... lower half in use
                        break
                    hit = next((i for i, r in enumerate(fresh) if r[1] == order), None)
                    if hit is not None:
                        p, _o = fresh.pop(hit)
                        placed.append((p, order, mt))
                        break
                    big = next((i for i, r in enumerate(fresh) if r[1] > order), None)
                    if big is not None:
                        p, o = fresh.pop(big)
                        mixed[o].append(p)
                        continue
                    if not claim_group(order):
                        raise ParseError(f"free lists of migrate type {mt} do not fit in PFNs "
                                         f"[{start_pfn}, {end_pfn}) (order {order})")
    placed.sort()
    return placed, pb_types


def zone_from_counts(name: str, start_pfn: int, spanned: int, counts_by_mt: dict[int, list[int]], *,
                     present: int | None = None, managed: int | None = None, zone_idx: int = 2,
                     node: int = 0, pageblock_order: int = 9, log_events: bool = True) -> Zone:
    """A :class:`Zone` whose free lists hold exactly ``counts_by_mt[mt][order]`` blocks."""
    _check_counts(counts_by_mt, None)
    if len({len(c) for c in counts_by_mt.values()}) > 1 or any(not 1 <= len(c) <= 21 for c in counts_by_mt.values()):
        raise ParseError("free counts must have the same number of orders (1..21) for every migrate type")
    nr_orders = len(next(iter(counts_by_mt.values()))) if counts_by_mt else 11
    z = Zone(spanned, start_pfn=start_pfn, name=name, node=node, zone_idx=zone_idx,
             max_page_order=nr_orders - 1, pageblock_order=pageblock_order, present_pages=present,
             managed_pages=managed, populate=False, log_events=False)
    placed, pb_types = layout_free_blocks(start_pfn, start_pfn + spanned, counts_by_mt,
                                          max_page_order=nr_orders - 1, pageblock_order=pageblock_order)
    for pfn, mt in pb_types.items():
        z._pb[(pfn >> pageblock_order) - z._pb_base] = mt
    for pfn, order, mt in placed:          # ascending PFN, to the tails (as at boot)
        z._add(pfn, order, mt, True)
    z.log_events = log_events
    return z


def node_from_snapshot(root: str | os.PathLike | None = None, *, node_id: int = 0,
                       log_events: bool = True) -> Node:
    """A model :class:`Node` from ``<root>/proc/{zoneinfo,pagetypeinfo,buddyinfo}``.

    ``root`` None means the shipped default snapshot. Zones get start_pfn, spanned, present and
    managed pages, watermarks (incl. boost) and ``lowmem_reserve`` from zoneinfo, and free lists
    per migrate type from pagetypeinfo (buddyinfo, all as Movable, when pagetypeinfo is absent).
    A ``>`` capped pagetypeinfo count is recovered from buddyinfo. Unpopulated zones are left out.
    The model has no ``MIGRATE_CMA``: free CMA blocks are counted as Movable (movable allocations may use
    them). Where the files overlap they must agree: the same populated zones in all three, pagetypeinfo's
    per-type counts adding up to buddyinfo's, and buddyinfo's free pages close to zoneinfo's ``pages free``
    (files read moments apart on a live kernel differ a little); otherwise :class:`ParseError`.
    """
    if isinstance(node_id, bool) or not isinstance(node_id, int) or not 0 <= node_id < MAX_NUMNODES:
        raise ParseError(f"node_id must be an int in 0..{MAX_NUMNODES - 1}, got {node_id!r}")
    if not isinstance(log_events, bool):
        raise ParseError(f"log_events must be True or False, got {log_events!r}")
    if root is None:
        root = snapshot_dir()
    if not isinstance(root, (str, os.PathLike)):
        raise SourceUnavailableError(f"root must be a path such as '/' or a snapshot folder, got {root!r:.60}")
    zpath, bpath, ppath = (str(Path(root) / rel) for rel in ("proc/zoneinfo", "proc/buddyinfo", "proc/pagetypeinfo"))
    zinfo = [z for z in read_zoneinfo(root) if z.node == node_id]
    buddy = {r.zone: r.nr_free for r in read_buddyinfo(root) if r.node == node_id}
    try:
        pti = read_pagetypeinfo(root)
    except SourceUnavailableError:
        pti = None
    populated = [zi for zi in zinfo if zi.populated and zi.start_pfn is not None]
    names = {zi.name for zi in populated}
    if set(buddy) != names:
        raise ParseError(f"{bpath}: node {node_id} lists zones {sorted(buddy)}, but {zpath} has populated zones "
                         f"{sorted(names)}")
    if pti is not None:
        pt_zones = {r.zone for r in pti.free if r.node == node_id}
        if pt_zones != names:
            raise ParseError(f"{ppath}: node {node_id} lists zones {sorted(pt_zones)}, but {zpath} has populated "
                             f"zones {sorted(names)}")
        if pti.nr_orders != len(next(iter(buddy.values()), [0] * pti.nr_orders)):
            raise ParseError(f"{ppath}: {pti.nr_orders} orders, {bpath} has {len(next(iter(buddy.values())))}")
    zones = []
    for zi in populated:
        if zi.spanned > MAX_ZONE_PAGES:
            raise ParseError(f"{zpath}: zone {zi.name} spans {zi.spanned} pages, more than the model handles "
                             f"({MAX_ZONE_PAGES} pages, MAX_ZONE_PAGES)")
        if zi.start_pfn + zi.spanned > 1 << (MAX_PHYSMEM_BITS - 12):
            raise ParseError(f"{zpath}: zone {zi.name} ends at PFN {zi.start_pfn + zi.spanned}, above the "
                             f"{MAX_PHYSMEM_BITS}-bit physical address space")
        idx = ZONE_NAMES.index(zi.name) if zi.name in ZONE_NAMES else len(zones)
        row = buddy[zi.name]
        if pti is not None:
            by_name = pti.counts(node_id, zi.name)
            counts: dict[int, list[int]] = {}
            for mt, mname in enumerate(MIGRATETYPE_NAMES_NO_CMA):
                if mname in by_name:
                    counts[mt] = list(by_name[mname])
            rows = [r for r in pti.free if r.node == node_id and r.zone == zi.name]
            for r in rows:
                if any(r.overflow):
                    mt = MIGRATE_MOVABLE if r.type == "CMA" else MIGRATETYPE_NAMES_NO_CMA.index(r.type)
                    for o, ov in enumerate(r.overflow):
                        if ov:
                            others = sum(c[o] for t, c in by_name.items() if t != r.type)
                            if row[o] < others:
                                raise ParseError(f"{bpath}: zone {zi.name} order {o}: {row[o]} free blocks, fewer "
                                                 f"than the {others} that {ppath} lists besides {r.type}")
                            counts[mt][o] = row[o] - others
            if "CMA" in by_name:                  # no MIGRATE_CMA in the model: CMA blocks count as Movable
                counts.setdefault(MIGRATE_MOVABLE, [0] * pti.nr_orders)
                cma = [row[o] - sum(c[o] for t, c in by_name.items() if t != "CMA")
                       if any(r.overflow[o] for r in rows if r.type == "CMA") else by_name["CMA"][o]
                       for o in range(pti.nr_orders)]
                counts[MIGRATE_MOVABLE] = [a + b for a, b in zip(counts[MIGRATE_MOVABLE], cma)]
            summed = [sum(c[o] for c in counts.values()) for o in range(pti.nr_orders)]
            pti_pages, buddy_pages = (sum(c << o for o, c in enumerate(x)) for x in (summed, row))
            if abs(pti_pages - buddy_pages) > _tolerance(zi):
                raise ParseError(f"{ppath}: zone {zi.name} has {pti_pages} free pages by migrate type, but "
                                 f"{bpath} says {buddy_pages}")
            pbo = pti.pageblock_order
        else:
            counts = {MIGRATE_MOVABLE: list(row)}
            pbo = 9
        buddy_pages = sum(c << o for o, c in enumerate(row))
        if abs(buddy_pages - zi.free) > _tolerance(zi):
            raise ParseError(f"{bpath}: zone {zi.name} has {buddy_pages} free pages, but {zpath} says "
                             f"pages free {zi.free}")
        try:
            z = zone_from_counts(zi.name, zi.start_pfn, zi.spanned, counts, present=zi.present,
                                 managed=zi.managed, zone_idx=idx, node=node_id, pageblock_order=pbo,
                                 log_events=log_events)
            z.set_watermarks(zi.min - zi.boost, zi.low - zi.boost, zi.high - zi.boost,
                             (zi.promo if zi.promo is not None else zi.high) - zi.boost)
        except ParseError:
            raise
        except KmemError as exc:
            raise ParseError(f"{zpath}: zone {zi.name} cannot be modelled: {exc}") from None
        z.watermark_boost = zi.boost
        z.lowmem_reserve = list(zi.protection)
        zones.append(z)
    if not zones:
        raise ParseError(f"{zpath}:1: no populated zone on node {node_id}")
    return Node(zones, node_id)


def _tolerance(zi: ZoneInfo) -> int:
    """How far two files read moments apart may disagree about a zone's free pages (1/16 of it, >= 4096)."""
    return max(4096, zi.managed // 16)


__all__ = [
    "BuddyInfoRow", "parse_buddyinfo", "format_buddyinfo", "read_buddyinfo", "buddyinfo_rows",
    "buddyinfo_text", "PageTypeFreeRow", "PageTypeBlockRow", "PageTypeInfo", "parse_pagetypeinfo",
    "format_pagetypeinfo", "read_pagetypeinfo", "pagetypeinfo_of", "pagetypeinfo_text", "PageSet",
    "ZoneInfo", "parse_zoneinfo", "format_zoneinfo", "read_zoneinfo", "read_min_free_kbytes",
    "layout_free_blocks", "zone_from_counts", "node_from_snapshot",
]
