"""Watermarks (__setup_per_zone_wmarks) and __zone_watermark_ok."""

import pytest

from kmemlib.mm import gfp
from kmemlib.mm.page_alloc import ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, MIGRATE_UNMOVABLE, Node, Zone
from kmemlib.errors import InvalidSizeError, SourceUnavailableError
from kmemlib.readers.procfs import read_min_free_kbytes, read_zoneinfo
from kmemlib.readers.snapshots import snapshot_dir
from kmemlib.mm.watermarks import (
    ZONE_MOVABLE, calculate_min_free_kbytes, compute_lowmem_reserve, compute_wmarks,
    recommended_min_free_kbytes, zone_watermark_ok,
)


def test_hand_worked_wmarks_from_spec():
    # this machine: min_free_kbytes 67584 -> pages_min 16896; DMA managed 3840 of 1530421 lowmem
    marks = compute_wmarks([3840, 772917, 753664], 67584)
    assert marks[0] == (42, 52, 62, 72)        # 16896*3840/1530421 = 42, step max(10, 3) = 10
    assert marks[2][0] == 16896 * 753664 // 1530421
    # Movable zone: min clamped to SWAP_CLUSTER_MAX, step 0 when empty
    assert compute_wmarks([3840, 0], 67584, zone_idx=[0, ZONE_MOVABLE])[1] == (32, 32, 32, 32)


def test_min_free_kbytes_formulas():
    assert calculate_min_free_kbytes(16 * 1024) == 512         # kernel comment table: 16MB -> 512k
    assert calculate_min_free_kbytes(4096 * 1024) == 8192      # 4096MB -> 8192k
    assert calculate_min_free_kbytes(1) == 128
    assert calculate_min_free_kbytes(10 ** 12) == 262144
    # khugepaged: 512 pages * 3 zones * (2 + 9) = 16896 pages = 67584 KiB (spec, this machine)
    assert recommended_min_free_kbytes(8000, 3, 1_500_000) == 67584
    assert recommended_min_free_kbytes(8000, 3, 100_000) == max(100_000 // 20 * 4, 8000)
    with pytest.raises(InvalidSizeError):
        calculate_min_free_kbytes(-1)


def test_lowmem_reserve_hand_worked():
    rows = compute_lowmem_reserve([3840, 772917, 753664, 0, 0])
    assert rows[0] == [0, 772917 // 256, (772917 + 753664) // 256, 5963, 5963]
    assert rows[1] == [0, 0, 753664 // 256, 2944, 2944]
    assert rows[2] == [0] * 5


def _check_against(root):
    zones = [z for z in read_zoneinfo(root)]
    mfk = read_min_free_kbytes(root)
    if mfk is None:
        pytest.skip("no min_free_kbytes in this root")
    managed = [z.managed for z in zones]
    idx = list(range(len(zones)))
    marks = compute_wmarks(managed, mfk, zone_idx=idx)
    checked = 0
    for z, (wmin, low, high, promo) in zip(zones, marks):
        if z.name == "Device":
            continue       # ZONE_DEVICE is never set up by __setup_per_zone_wmarks' for_each_zone
        assert (z.min - z.boost, z.low - z.boost, z.high - z.boost) == (wmin, low, high), z.name
        if z.promo is not None:
            assert z.promo - z.boost == promo
        checked += 1
    assert checked >= 1
    lr = compute_lowmem_reserve([z.managed for z in zones] + [0] * (5 - len(zones)))
    for i, z in enumerate(zones):
        assert z.protection == lr[i][:len(z.protection)]


@pytest.mark.live
def test_watermarks_equal_live_zoneinfo():
    try:
        _check_against("/")
    except SourceUnavailableError:
        pytest.skip("/proc/zoneinfo or min_free_kbytes absent")


def test_zone_watermark_ok_fails_high_order_with_plenty_free():
    # 1024 free pages, all order 0 (every other page allocated): order-0 check passes,
    # an order-3 request fails although 1024 pages are free.
    z = Zone(2048, initial_migratetype=MIGRATE_UNMOVABLE)
    pages = [z.alloc_pages(0) for _ in range(2048)]
    for p in pages[::2]:
        z.free_pages(p, 0)
    z.set_watermarks(100, 125, 150, 175)
    assert z.free_pages_count() == 1024
    assert zone_watermark_ok(z, 0, z.wmark_low)
    assert not zone_watermark_ok(z, 3, z.wmark_low)
    z.watermark_check = "low"
    assert z.alloc_pages(3) is None
    assert z.alloc_pages(0) is not None


def test_watermark_reserves_and_lowmem_reserve():
    z = Zone(1024, initial_migratetype=MIGRATE_UNMOVABLE)
    for _ in range(1024 - 120):
        z.alloc_pages(0)
    assert z.free_pages_count() == 120
    z.set_watermarks(200, 220, 240, 260)
    assert not zone_watermark_ok(z, 0, z.wmark_min)
    # __GFP_HIGH: min - min/2 = 100 < 120
    assert zone_watermark_ok(z, 0, z.wmark_min, alloc_flags=ALLOC_MIN_RESERVE)
    z.set_watermarks(100, 110, 120, 130)
    z.lowmem_reserve = [0, 50, 50, 50, 50]
    assert zone_watermark_ok(z, 0, z.wmark_min, highest_zoneidx=0)
    assert not zone_watermark_ok(z, 0, z.wmark_min, highest_zoneidx=2)
    # GFP_ATOMIC: min/2 then a quarter off: 100 -> 50 -> 38; 120 > 38 + 50
    assert zone_watermark_ok(z, 0, z.wmark_min, highest_zoneidx=2,
                             alloc_flags=ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK)


def test_node_falls_back_to_lower_zone_below_watermark():
    node = Node.from_sizes(4095, 8192, 2048, min_free_kbytes=1024)
    normal = node.zone("Normal")
    assert normal.wmark_low > 0
    got = [node.alloc_pages(0, gfp.GFP_KERNEL) for _ in range(2048)]
    zones = [node.zone_of(p).name for p in got]
    # Normal serves while free > low watermark (+ lowmem_reserve[Normal] = 0), then DMA32 takes over
    n_normal = zones.count("Normal")
    assert n_normal == 2048 - normal.wmark_low
    assert zones[n_normal:] == ["DMA32"] * (2048 - n_normal)


def test_snapshot_watermarks():
    _check_against(snapshot_dir())
