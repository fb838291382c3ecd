"""/proc/buddyinfo, /proc/pagetypeinfo, /proc/zoneinfo: parse, format, read, rebuild."""

from pathlib import Path

import pytest

from kmemlib.mm import gfp
from kmemlib.mm.page_alloc import Node, Zone
from kmemlib.errors import ParseError, SourceUnavailableError
from kmemlib.readers.procfs import (
    buddyinfo_text, format_buddyinfo, format_pagetypeinfo, format_zoneinfo, layout_free_blocks,
    node_from_snapshot, pagetypeinfo_of, pagetypeinfo_text, parse_buddyinfo, parse_pagetypeinfo,
    parse_zoneinfo, read_buddyinfo, read_pagetypeinfo, read_zoneinfo,
)
from kmemlib.readers.snapshots import list_snapshots, snapshot_dir

FILES = {"buddyinfo": (parse_buddyinfo, format_buddyinfo),
         "pagetypeinfo": (parse_pagetypeinfo, format_pagetypeinfo),
         "zoneinfo": (parse_zoneinfo, format_zoneinfo)}


def _snapshot_files():
    for name in list_snapshots():
        for f in FILES:
            path = snapshot_dir(name) / "proc" / f
            if path.is_file():
                yield pytest.param(path, f, id=f"{name}-{f}")


@pytest.mark.parametrize("path,kind", list(_snapshot_files()))
def test_snapshot_round_trip_byte_exact(path: Path, kind: str):
    parse, fmt = FILES[kind]
    text = path.read_text()
    assert fmt(parse(text, str(path))) == text


def test_snapshot_values():
    root = snapshot_dir()
    rows = read_buddyinfo(root)
    assert [r.zone for r in rows] == ["DMA", "DMA32", "Normal"]
    assert all(len(r.nr_free) == 11 for r in rows)
    pti = read_pagetypeinfo(root)
    assert (pti.pageblock_order, pti.pages_per_block) == (9, 512)
    assert pti.type_names == ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"]
    # per-type rows add up to buddyinfo (both read at the same moment)
    for r in rows:
        per = pti.counts(0, r.zone)
        assert [sum(c) for c in zip(*per.values())] == r.nr_free
    zi = read_zoneinfo(root)
    assert [z.name for z in zi] == ["DMA", "DMA32", "Normal", "Movable", "Device"]
    assert zi[0].start_pfn == 1 and zi[0].node_stats is not None and not zi[3].populated


def test_node_from_snapshot_matches_free_lists():
    root = snapshot_dir()
    node = node_from_snapshot(root, log_events=False)
    assert buddyinfo_text(node) == (root / "proc/buddyinfo").read_text()
    real = read_pagetypeinfo(root)
    model = pagetypeinfo_of(node)
    assert [(r.zone, r.type, r.counts) for r in model.free] == [(r.zone, r.type, r.counts) for r in real.free]
    zi = {z.name: z for z in read_zoneinfo(root)}
    for z in node.zones:
        assert (z.start_pfn, z.nr_pages, z.managed_pages) == (zi[z.name].start_pfn, zi[z.name].spanned,
                                                              zi[z.name].managed)
        assert (z.wmark_min, z.wmark_low, z.wmark_high) == (zi[z.name].min, zi[z.name].low, zi[z.name].high)
        # a consistent buddy state: no free block has a free same-order buddy below MAX_PAGE_ORDER
        heads = {(p, o) for p, o, _ in z.free_blocks()}
        assert not any(o < 10 and (p ^ (1 << o), o) in heads for p, o in heads)
        # free blocks sit in pageblocks of their own migrate type
        assert all(z.get_pageblock_migratetype(p) == mt for p, o, mt in z.free_blocks())
    # the model allocates and frees on top of it
    normal = node.zone("Normal")
    before = normal.snapshot()
    pfn = node.alloc_pages(3, gfp.GFP_KERNEL)
    assert node.zone_of(pfn) is normal
    assert normal.nr_free_type(0)[3] == before_count(before, 0, 3) - 1    # head of Unmovable order 3
    node.free_pages(pfn, 3)
    # same blocks on the same lists (the freed block may go to the tail: buddy_merge_likely)
    assert [[sorted(lst) for lst in per] for per in normal.snapshot().free_lists] == \
        [[sorted(lst) for lst in per] for per in before.free_lists]


def before_count(state, mt, order):
    return len(state.free_lists[mt][order])


def test_layout_rejects_what_does_not_fit():
    with pytest.raises(ParseError):
        layout_free_blocks(0, 1024, {1: [0] * 10 + [2]})
    placed, _ = layout_free_blocks(0, 1024, {1: [1] * 10 + [0]})
    assert sorted(o for _, o, _ in placed) == list(range(10))


def test_model_pagetypeinfo_text_format():
    node = Node.from_sizes(4095, 4096, 0)
    text = pagetypeinfo_text(node)
    parsed = parse_pagetypeinfo(text)
    assert format_pagetypeinfo(parsed) == text
    assert text.startswith("Page block order: 9\nPages per block:  512\n\n"
                           "Free pages count per migrate type at order       0 ")  # %-43s + " " + %6d
    assert "Node    0, zone      DMA, type    Unmovable      0 " in text
    assert parsed.blocks[0].counts == node.zone("DMA").pageblock_counts()


def test_buddyinfo_text_of_a_zone():
    z = Zone(1024)
    z.alloc_pages(0)
    assert buddyinfo_text([z]) == "Node 0, zone   Normal" + "      1" * 10 + "      0 \n"


@pytest.mark.parametrize("kind,text,line", [
    ("buddyinfo", "Node 0, zone      DMA      0      x \n", 1),
    ("buddyinfo", "Node 0, zone DMA 1 2 \nNode 0, zone DMA32 1 2 3 \n", 2),
    ("buddyinfo", "", 1),
    ("pagetypeinfo", "Page block order: 9\nPages per block:  512\n\n"
                     "Free pages count per migrate type at order      0      1 \n"
                     "Node    0, zone      DMA, type    Unmovable      0 \n", 5),
    ("pagetypeinfo", "Page block order: 9\nPages per block:  500\n\n"
                     "Free pages count per migrate type at order      0 \n", 2),
    ("zoneinfo", "Node 0, zone DMA\n  pages free     1\n        min      x\n", 3),
    ("zoneinfo", "Nod 0\n", 1),
])
def test_malformed_text_raises_parse_error_with_file_and_line(kind, text, line):
    parse, _ = FILES[kind]
    with pytest.raises(ParseError, match=rf"/proc/{kind}:{line}:"):
        parse(text, f"/proc/{kind}")


def test_missing_root_is_source_unavailable(tmp_path):
    with pytest.raises(SourceUnavailableError):
        read_buddyinfo(tmp_path)


@pytest.mark.live
@pytest.mark.parametrize("kind", sorted(FILES))
def test_live_proc_parses_and_round_trips(kind):
    path = Path("/proc") / kind
    try:
        text = path.read_text()
    except (FileNotFoundError, PermissionError):
        pytest.skip(f"{path} absent or unreadable here")
    parse, fmt = FILES[kind]
    assert fmt(parse(text, str(path))) == text


@pytest.mark.live
def test_live_node_builds():
    try:
        node = node_from_snapshot("/", log_events=False)
    except SourceUnavailableError:
        pytest.skip("live /proc files absent")
    assert node.zones and all(z.free_pages_count() > 0 for z in node.zones)
