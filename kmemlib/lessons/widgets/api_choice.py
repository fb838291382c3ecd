"""Widget: which allocation API for a request? (size, contiguity, context, many objects).

A thin ipywidgets layer over :func:`kmemlib.mm.vmalloc.choose_api`; the table shows every API's
computed cost (:class:`kmemlib.mm.vmalloc.ApiCost`) for the chosen size.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
from IPython.display import HTML, display

from ...mm.vmalloc import Recommendation, choose_api


def recommendation_html(rec: Recommendation) -> str:
    """The recommendation, its reasons and a per-API cost table as HTML."""
    api = rec.api or "no allocator API"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in rec.reasons)
    head = ("<tr><th>API</th><th>allowed here</th><th>how</th><th>data B</th><th>metadata B</th>"
            "<th>total B</th><th>waste B</th></tr>")
    body = []
    for row in rec.table():
        style = " style='font-weight:bold;background:#e8f4e8'" if row["chosen"] else ""
        if row["ok"]:
            nums = f"<td>{row['data']}</td><td>{row['metadata']}</td><td>{row['total']}</td><td>{row['waste']}</td>"
        else:
            nums = "<td colspan=4>-</td>"
        body.append(f"<tr{style}><td><code>{row['api']}</code></td><td>{'yes' if row['allowed'] else 'no'}</td>"
                    f"<td style='text-align:left'>{html.escape(str(row['via']))}</td>{nums}</tr>")
    return (f"<p><b>{rec.size} bytes → use <code>{html.escape(api)}</code></b></p><ul>{reasons}</ul>"
            f"<table>{head}{''.join(body)}</table>")


def show_choice(size: int = 20000, contiguous: bool = False, atomic: bool = False,
                many_objects: bool = False) -> None:
    """The widget's callback: display :func:`recommendation_html` of :func:`choose_api`."""
    display(HTML(recommendation_html(choose_api(size, contiguous=contiguous, atomic=atomic,
                                                many_objects=many_objects))))


def api_choice_widget(size: int = 20000, contiguous: bool = False, atomic: bool = False,
                      many_objects: bool = False) -> widgets.Widget:
    """Controls: size in bytes and three yes/no questions; output: recommendation and costs."""
    size_w = widgets.BoundedIntText(value=size, min=1, max=64 << 20, description="size (B)")
    c_w = widgets.Checkbox(value=contiguous, description="physically contiguous?", indent=False)
    a_w = widgets.Checkbox(value=atomic, description="atomic context?", indent=False)
    m_w = widgets.Checkbox(value=many_objects, description="many same-size objects?", indent=False)
    out = widgets.interactive_output(show_choice, {"size": size_w, "contiguous": c_w, "atomic": a_w,
                                                   "many_objects": m_w})
    return widgets.VBox([widgets.HBox([size_w]), widgets.HBox([c_w, a_w, m_w]), out])


__all__ = ["recommendation_html", "show_choice", "api_choice_widget"]
