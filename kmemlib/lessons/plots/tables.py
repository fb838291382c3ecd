"""HTML tables for the chapters' static output.

Notebook outputs are rendered by the book as CommonMark, which has no pipe tables, so every
chapter displays its tables as HTML built here: one style for the whole book, cells escaped.
"""

from __future__ import annotations

import html
import re

from ...errors import InvalidSizeError

_ALIGN = {"l": "text-align:left", "r": "text-align:right"}
SHORT_CELL = 28
"""Cells with at most this many characters of text stay on one line."""
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\s<>]*[-/.][^\s<>]*")  # a word with a hyphen, slash or dot: no line break inside it


def html_table(header: list[str], rows: list[list[object]], align: str = "", *, caption: str = "",
               escape: bool = True, nowrap: bool = False) -> str:
    """A small HTML table; ``align`` is one ``l``/``r`` per column (default: all right).

    Cells, headers and the optional ``caption`` are HTML-escaped unless ``escape=False`` (for cells
    that carry their own markup, e.g. ``<code>``). Short cells (:data:`SHORT_CELL`) stay on one line, longer
    ones break only between words; ``nowrap`` keeps the data cells of every column but the last on one line."""
    al = align or "r" * len(header)
    if len(al) != len(header) or any(len(r) != len(header) for r in rows):
        raise InvalidSizeError("html_table: every row needs one cell per header column")
    if set(al) - set(_ALIGN):
        raise InvalidSizeError(f"html_table: align must use only 'l' and 'r', got {align!r}")
    esc = html.escape if escape else (lambda t: t)
    last = len(header) - 1

    def td(c: object, a: str, i: int) -> str:
        text = str(c)
        # a short cell (a number with its unit, "kmalloc-2k", "12 / 16 / 20") never breaks across lines; a longer
        # one breaks only at spaces, never inside a word such as "kmalloc-2k" or "32..64"
        short = len(_TAG.sub("", text)) <= SHORT_CELL
        style = _ALIGN[a] + (";white-space:nowrap" if (nowrap and i < last) or short else "")
        body = esc(text)
        if not short and escape:
            body = _WORD.sub(lambda m: f'<span style="white-space:nowrap">{m.group(0)}</span>', body)
        return f'<td style="{style}">{body}</td>'

    head = "".join(f'<th style="{_ALIGN[a]}">{esc(str(h))}</th>' for h, a in zip(header, al))
    body = "".join("<tr>" + "".join(td(c, a, i) for i, (c, a) in enumerate(zip(r, al))) + "</tr>" for r in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<table class="table kmem-table" style="font-size:0.8em">{cap}'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def dict_table(rows: list[dict[str, object]], *, caption: str | None = None) -> str:
    """:func:`html_table` of dict rows: the first row's keys are the header, numeric columns are
    right-aligned, ``True``/``False``/``None`` read as yes/no/empty."""
    if not rows:
        return "<p><i>(no rows)</i></p>"
    keys = list(rows[0])

    def text(v: object) -> object:
        return "yes" if v is True else "no" if v is False else "" if v is None else v

    def numeric(v: object) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    align = "".join("r" if numeric(rows[0].get(k)) else "l" for k in keys)
    body = [[text(r.get(k)) for k in keys] for r in rows]
    return html_table([str(k) for k in keys], body, align, caption=caption or "")
