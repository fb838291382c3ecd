"""The one HTML-table builder every chapter uses."""

import pytest

from kmemlib.errors import InvalidSizeError
from kmemlib.lessons.plots.tables import dict_table, html_table
from kmemlib.lessons.widgets.kmalloc import html_table as kmalloc_table
from kmemlib.lessons.widgets.slab import table_html


LONG = "a sentence long enough to wrap at its spaces"


def test_nowrap_applies_to_all_data_columns_but_the_last():
    t = html_table(["a", "b", "c"], [[LONG, LONG, LONG]], "lrr", nowrap=True)
    assert t.count("white-space:nowrap") == 2
    assert f'<td style="text-align:right">{LONG}</td>' in t


def test_short_cells_stay_on_one_line_long_ones_break_only_between_words():
    """No mid-cell wraps such as '(87.5 / %)' or 'kmalloc-' / '2k' (issue 12)."""
    t = html_table(["waste", "caches"], [["7 B (87.5 %)", "kmalloc-2k, kmalloc-8k and two more caches here"]], "ll")
    assert '<td style="text-align:left;white-space:nowrap">7 B (87.5 %)</td>' in t
    assert '<span style="white-space:nowrap">kmalloc-2k,</span> <span style="white-space:nowrap">kmalloc-8k</span>' in t


def test_dict_table_aligns_numeric_columns_right_and_spells_booleans():
    t = dict_table([{"name": "kmalloc-8", "size": 8, "merged": True, "ctor": None}], caption="c")
    assert '<th style="text-align:left">name</th><th style="text-align:right">size</th>' in t
    assert ">yes</td>" in t and '<td style="text-align:left;white-space:nowrap"></td>' in t
    assert "<caption>c</caption>" in t
    assert "no rows" in dict_table([])


def test_chapter_helpers_delegate_to_one_style():
    rows = [[1, "x"]]
    assert 'class="table kmem-table"' in kmalloc_table(["n", "s"], rows)
    assert 'class="table kmem-table"' in table_html([{"n": 1}])
    with pytest.raises(InvalidSizeError):
        kmalloc_table(["n"], [[1]], align="center")
    with pytest.raises(InvalidSizeError):
        html_table(["a", "b"], [[1]])
