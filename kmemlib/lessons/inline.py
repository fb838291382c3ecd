"""Computed names in the chapters' prose, shown as inline code in every front end.

A chapter puts a computed value into a sentence with an inline expression, ``{eval}`name` ``. Numbers and plain
strings render as text both in the book (myst-nb) and in JupyterLab (jupyterlab-myst). A *name* — a cache, a
function, a call site — should look like the code around it. ``IPython.display.Markdown("`kmalloc-192`")`` does
in the book, but JupyterLab renders a Markdown result as a paragraph of its own inside an inline box: a small
block with a gap after it, out of line with the text. :func:`code` returns a value whose preferred MIME type in
both front ends is ``text/html``, one inline ``<span>`` holding ``<code>`` elements:

* myst-nb (``eval`` role) puts ``text/html`` into the paragraph as raw inline HTML; the markup is the one Sphinx
  writes for a Markdown literal, so it looks like every other inline code on the page;
* jupyterlab-myst renders it with JupyterLab's HTML renderer inside its inline box; the ``<span>`` makes
  JupyterLab's inline-code style (background, padding) apply, as it does to Markdown's own inline code;
* ``text/markdown`` (backticks) is what a plain copy of the notebook shows (Colab, downloads), ``text/plain`` the
  bare names.
"""

from __future__ import annotations

from html import escape

from ..mm.argcheck import check_str, show
from ..errors import InvalidArgumentError

__all__ = ["InlineCode", "code"]


class InlineCode:
    """One or more names shown as inline code, separated by ``sep`` (see :func:`code`)."""

    __slots__ = ("names", "sep")

    def __init__(self, names: tuple[str, ...], sep: str) -> None:
        self.names = names
        self.sep = sep

    @staticmethod
    def _code_html(name: str) -> str:
        # as Sphinx writes a literal: one <span class="pre"> per word, the spaces between them kept
        words = " ".join(f'<span class="pre">{escape(w)}</span>' if w else "" for w in name.split(" "))
        return f'<code class="docutils literal notranslate">{words}</code>'

    @staticmethod
    def _code_markdown(name: str) -> str:
        fence = "`"
        while fence in name:
            fence += "`"
        pad = " " if name.startswith("`") or name.endswith("`") else ""
        return f"{fence}{pad}{name}{pad}{fence}"

    def _repr_html_(self) -> str:
        return f'<span class="kmem-inline-code">{escape(self.sep).join(map(self._code_html, self.names))}</span>'

    def _repr_markdown_(self) -> str:
        return self.sep.join(map(self._code_markdown, self.names))

    def __str__(self) -> str:
        return self.sep.join(self.names)

    def __repr__(self) -> str:  # text/plain: the names without quotes
        return str(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InlineCode) and (self.names, self.sep) == (other.names, other.sep)

    def __hash__(self) -> int:
        return hash((self.names, self.sep))


def code(*names: str, sep: str = ", ") -> InlineCode:
    """``names`` as inline code for an ``{eval}`` expression: ``code(plan.cache)`` → `kmalloc-192`.

    Several names are joined by ``sep`` (``code("kmalloc-2k", "kmalloc-4k")`` → `kmalloc-2k`, `kmalloc-4k`).
    Each name must be a non-empty one-line string.
    """
    if not names:
        raise InvalidArgumentError("code() needs at least one name")
    for i, name in enumerate(names):
        check_str(name, f"name {i + 1}")
        if not name.strip() or "\n" in name or "\r" in name:
            raise InvalidArgumentError(f"name {i + 1} must be a non-empty single line, got {show(name)}")
    check_str(sep, "sep")
    if "\n" in sep or "\r" in sep:
        raise InvalidArgumentError(f"sep must be on one line, got {show(sep)}")
    return InlineCode(tuple(names), sep)
