"""Fragmentation indices with the kernel's integer math (mm/vmstat.c)."""

import pytest

from kmemlib.mm.page_alloc import Zone
from kmemlib.errors import InvalidOrderError
from kmemlib.mm.vmstat import (
    ContigPageInfo, __fragmentation_index, extfrag_for_order, fill_contig_page_info, format_extfrag_index,
    format_index, format_unusable_index, fragmentation_index, unusable_free_index, unusable_index,
)


def test_spec_example_ten_order0_blocks_at_order3():
    row = [10] + [0] * 10
    info = fill_contig_page_info(row, 3)
    assert info == ContigPageInfo(10, 10, 0)
    # 1000 - (1000 + 10*1000/8) / 10 = 1000 - 2250/10 = 775
    assert __fragmentation_index(3, info) == 775
    assert format_index(775, width2=True) == " 0.775 "
    assert unusable_free_index(3, info) == 1000
    assert extfrag_for_order(row, 3) == 100


def test_fill_contig_page_info_hand_worked():
    row = [3, 2, 0, 1] + [0] * 7          # 3 + 4 + 8 = 15 pages in 6 blocks
    info = fill_contig_page_info(row, 1)
    assert info == ContigPageInfo(15, 6, 2 + (1 << 2))
    # unusable at order 1: (15 - 6*2) * 1000 / 15 = 200
    assert unusable_free_index(1, info) == 200
    assert unusable_index(row, 3) == (15 - 8) * 1000 // 15 == 466
    assert fragmentation_index(row, 1) == -1000      # a suitable block exists
    assert fragmentation_index(row, 4) == 1000 - (1000 + 15 * 1000 // 16) // 6
    assert extfrag_for_order(row, 2) == (15 - 8) * 100 // 15


def test_empty_zone_conventions():
    row = [0] * 11
    assert unusable_index(row, 0) == 1000
    assert fragmentation_index(row, 5) == 0
    assert extfrag_for_order(row, 5) == 0
    assert format_index(-1000, width2=True) == "-1.000 "
    assert format_index(1000) == "1.000 "


def test_text_formats_and_zone_input():
    z = Zone(1024)
    z.alloc_pages(0)
    text = format_unusable_index([(0, "Normal", z)])
    # 1023 free pages; at order k the 2^k - 1 pages in blocks below k are unusable:
    # (2^k - 1) * 1000 / 1023 -> 0, 0, 2, 6, ...
    assert text.startswith("Node 0, zone   Normal 0.000 0.000 0.002 0.006 0.014 ")
    assert text.endswith("1.000 \n")
    ext = format_extfrag_index([(0, "Normal", z.nr_free())])
    # orders 0..9 have a free block (-1.000); order 10 does not: 1000 - (1000 + 1023*1000/1024)/10
    assert ext == "Node 0, zone   Normal " + "-1.000 " * 10 + f" 0.{1000 - (1000 + 1023000 // 1024) // 10:03d} \n"


def test_bad_order():
    with pytest.raises(InvalidOrderError):
        fill_contig_page_info([0] * 11, 11)
