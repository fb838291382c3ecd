"""What a reader sees of a matplotlib figure in the built book: text sizes in CSS pixels and overlaps.

The book shows a figure as the PNG that IPython makes of it (``bbox_inches="tight"`` at the figure's dpi), scaled
down to the text column when it is wider. :func:`drawn_texts` draws the figure once and records every piece of text
the renderer really draws (tick labels outside the view are never drawn, so they do not count).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

BOOK_COLUMN_PX = 672
"""Width in CSS px of a figure in the book's text column at a 1280 px wide window (measured in Chromium: a
``{glue:figure}`` is 672 px wide, a plain cell output 684 px)."""


@dataclass
class DrawnText:
    text: str
    size_pt: float
    artist: Text | None
    bbox: Bbox | None          # display coordinates (pixels of the figure at its dpi)


def png_width(fig: Figure) -> int:
    """Width in pixels of the PNG IPython makes of ``fig`` (``print_figure(..., bbox_inches='tight')``)."""
    buf = io.BytesIO()
    FigureCanvasAgg(fig) if fig.canvas is None else None
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=fig.dpi)
    from PIL import Image
    buf.seek(0)
    return Image.open(buf).size[0]


def drawn_texts(fig: Figure) -> list[DrawnText]:
    """Every non-empty text the Agg renderer draws for ``fig``, with its size and window extent."""
    out: list[DrawnText] = []
    orig = RendererAgg.draw_text

    def record(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if s and s.strip():
            out.append(DrawnText(s, prop.get_size_in_points(), mtext, None))
        return orig(self, gc, x, y, s, prop, angle, ismath, mtext)

    canvas = FigureCanvasAgg(fig)
    RendererAgg.draw_text = record
    try:
        canvas.draw()
    finally:
        RendererAgg.draw_text = orig
    renderer = canvas.get_renderer()
    for d in out:
        if d.artist is not None:
            d.bbox = Text.get_window_extent(d.artist, renderer)
    return out


def scale_to_column(fig: Figure, column_px: int = BOOK_COLUMN_PX) -> float:
    """CSS px per point of font size once the figure's PNG is fitted into the column."""
    return fig.dpi / 72 * min(1.0, column_px / png_width(fig))


def small_texts(fig: Figure, min_px: float = 10.0, column_px: int = BOOK_COLUMN_PX) -> list[tuple[str, float]]:
    """Texts drawn smaller than ``min_px`` CSS px at the column width: ``(text, px)``."""
    k = scale_to_column(fig, column_px)
    return [(d.text, round(d.size_pt * k, 1)) for d in drawn_texts(fig) if d.size_pt * k < min_px - 1e-6]


def _overlap(a: Bbox, b: Bbox, tol: float = 1.0) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tol) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tol)


def _inside(a: Bbox, b: Bbox, tol: float = 1.0) -> bool:
    return a.x0 >= b.x0 - tol and a.x1 <= b.x1 + tol and a.y0 >= b.y0 - tol and a.y1 <= b.y1 + tol


def overlaps(fig: Figure) -> list[str]:
    """Texts that collide: two drawn texts, a text and a legend it is not part of, a data text that leaves its
    axes, or a text drawn over a bar of a bar chart."""
    texts = [d for d in drawn_texts(fig) if d.bbox is not None]
    canvas = fig.canvas
    renderer = canvas.get_renderer()
    problems = []
    legends = [leg for ax in fig.axes for leg in ([ax.get_legend()] if ax.get_legend() else [])] + list(fig.legends)
    legend_texts = {id(t) for leg in legends for t in [*leg.get_texts(), leg.get_title()]}
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if a.artist is b.artist:
                continue
            if _overlap(a.bbox, b.bbox):
                problems.append(f"{a.text!r} overlaps {b.text!r}")
        if id(a.artist) not in legend_texts:
            for leg in legends:
                if _overlap(a.bbox, leg.get_window_extent(renderer)):
                    problems.append(f"{a.text!r} is under a legend")
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        bars = [p.get_window_extent(renderer) for c in ax.containers for p in getattr(c, "patches", [])]
        for t in ax.texts:
            if not t.get_visible() or not t.get_text().strip():
                continue
            data_anchored = t.get_transform() == ax.transData or (
                isinstance(t, Annotation) and t.anncoords in ("data", "offset points", "offset pixels"))
            ext = Text.get_window_extent(t, renderer)     # the text only, not an annotation's arrow
            if data_anchored and not _inside(ext, box):
                problems.append(f"{t.get_text()!r} leaves its axes")
            if any(_overlap(ext, bb) and not _inside(ext, bb) for bb in bars):
                problems.append(f"{t.get_text()!r} is drawn over a bar")
    return problems
