"""Widget: which allocation API for a request? (size, contiguity, context, many objects).

A thin ipywidgets layer over :func:`kmemlib.mm.vmalloc.choose_api`; the table shows every API's
computed cost (:class:`kmemlib.mm.vmalloc.ApiCost`) for the chosen size.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ...errors import InvalidFlagsError, InvalidSizeError
from ...mm.vmalloc import Recommendation, choose_api


def recommendation_html(rec: Recommendation) -> str:
    """The recommendation, its reasons and a per-API cost table as HTML."""
    api = rec.api or "no allocator API"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in rec.reasons)
    head = ("<tr><th>API</th><th>allowed here</th><th>how</th><th>data B</th><th>metadata B</th>"
            "<th>total B</th><th>waste B</th></tr>")
    body = []
    for row in rec.table():
        style = " class='kmem-chosen'" if row["chosen"] else ""
        if row["ok"]:
            nums = f"<td>{row['data']}</td><td>{row['metadata']}</td><td>{row['total']}</td><td>{row['waste']}</td>"
        else:
            nums = "<td colspan=4>-</td>"
        body.append(f"<tr{style}><td><code>{row['api']}</code></td><td>{'yes' if row['allowed'] else 'no'}</td>"
                    f"<td style='text-align:left'>{html.escape(str(row['via']))}</td>{nums}</tr>")
    return (f"<p><b>{rec.size} bytes → use <code>{html.escape(api)}</code></b></p><ul>{reasons}</ul>"
            f"<table>{head}{''.join(body)}</table>")


MAX_SIZE = 64 << 20
"""Largest size the widget's box takes (64 MiB)."""
STATIC_SIZES: tuple[int, ...] = (1, 64, 100, 1000, 4096, 8192, 8193, 20000, 65536, 100000, 1 << 20, 3 << 20,
                                 (4 << 20) + 1, 16 << 20, MAX_SIZE)
"""Sizes the static page stores (a typed size snaps to the nearest); live, any size 1..MAX_SIZE."""


def show_choice(size: int = 20000, contiguous: bool = False, atomic: bool = False,
                many_objects: bool = False) -> str:
    """The widget's output: :func:`recommendation_html` of :func:`choose_api`."""
    return recommendation_html(choose_api(size, contiguous=contiguous, atomic=atomic, many_objects=many_objects))


def api_choice_widget(size: int = 20000, contiguous: bool = False, atomic: bool = False,
                      many_objects: bool = False) -> widgets.Widget:
    """Controls: size in bytes and three yes/no questions; output: recommendation and costs."""
    from .base import Part, explorer  # noqa: PLC0415

    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise InvalidSizeError(f"api_choice_widget: size must be a whole number of bytes in 1..{MAX_SIZE}, "
                               f"got {size!r}")
    for name, v in (("contiguous", contiguous), ("atomic", atomic), ("many_objects", many_objects)):
        if not isinstance(v, bool):
            raise InvalidFlagsError(f"api_choice_widget: {name} must be True or False, got {v!r}")
    size_w = widgets.BoundedIntText(value=size, min=1, max=MAX_SIZE, description="size (B)")
    c_w = widgets.Checkbox(value=contiguous, description="physically contiguous?", indent=False)
    a_w = widgets.Checkbox(value=atomic, description="atomic context?", indent=False)
    m_w = widgets.Checkbox(value=many_objects, description="many same-size objects?", indent=False)
    return explorer({"size": size_w, "contiguous": c_w, "atomic": a_w, "many_objects": m_w},
                    [Part(show_choice, ("size", "contiguous", "atomic", "many_objects"))],
                    layout=[["size"], ["contiguous", "atomic", "many_objects"]],
                    static_values={"size": sorted(set(STATIC_SIZES) | {size})})


__all__ = ["MAX_SIZE", "STATIC_SIZES", "recommendation_html", "show_choice", "api_choice_widget"]
