"""Values of the chapters' inline expressions render inline in every front end (issue 12, points 1 and 6).

A chapter's ``{eval}`expr` `` is rendered from the MIME bundle the notebook stores in the Markdown cell's
``user_expressions`` (jupyterlab-myst) or from the one the build computes (myst-nb). Both front ends pick the
richest type: ``text/html`` before ``text/markdown`` before ``text/plain``. JupyterLab renders a ``text/markdown``
result as a paragraph of its own (a block inside the sentence), so names shown as code come from
:func:`kmemlib.lessons.inline.code` (inline HTML), and everything else is text. The browser side is in
tests/test_jupyterlab.py (JupyterLab) and tests/test_book_build.py (the built pages).
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from IPython.core.formatters import DisplayFormatter

from conftest import source_of, toc_entries
from kmemlib.errors import KmemError
from kmemlib.lessons.inline import InlineCode, code

NOTEBOOKS = [p for p in (source_of(d) for d in toc_entries()) if p is not None and p.suffix == ".ipynb"]

# HTML elements that stay inside a line of text
INLINE_TAGS = {"span", "code", "a", "b", "i", "em", "strong", "sub", "sup", "kbd", "var", "samp", "abbr", "small"}
# the MIME types either front end may pick before text/plain, richest first (myst-nb's html priority, JupyterLab's
# rendermime ranks)
RICH = ("application/vnd.jupyter.widget-view+json", "application/javascript", "text/html", "image/svg+xml",
        "image/png", "image/gif", "image/jpeg", "text/markdown", "text/latex")


def bundle(obj: object) -> dict[str, str]:
    data, _ = DisplayFormatter().format(obj)
    return data


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.roots = 0
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.roots += self._depth == 0
        self._depth += 1

    def handle_endtag(self, tag):
        self._depth -= 1

    def handle_data(self, data):
        self.roots += self._depth == 0 and bool(data.strip())


def html_tags(html: str) -> tuple[list[str], int]:
    p = _Tags()
    p.feed(html)
    p.close()
    return p.tags, p.roots


# ------------------------------------------------------------------------------------------------ the helper
def test_code_is_inline_html_markdown_and_plain_text():
    data = bundle(code("kmalloc-192"))
    assert data["text/plain"] == "kmalloc-192"            # no quotes
    assert data["text/markdown"] == "`kmalloc-192`"       # the plain copies (Colab, downloads)
    tags, roots = html_tags(data["text/html"])
    assert roots == 1 and set(tags) <= INLINE_TAGS and tags[:2] == ["span", "code"]
    assert re.sub(r"<[^>]+>", "", data["text/html"]) == "kmalloc-192"


def test_code_joins_several_names_and_keeps_spaces():
    value = code("kmalloc-2k", "kmalloc-4k", "kmalloc-8k")
    data = bundle(value)
    assert data["text/plain"] == str(value) == "kmalloc-2k, kmalloc-4k, kmalloc-8k"
    assert data["text/markdown"] == "`kmalloc-2k`, `kmalloc-4k`, `kmalloc-8k`"
    assert data["text/html"].count("<code") == 3
    spaced = bundle(code("barfs_alloc_inode+0x1e/0x80 [barfs]"))["text/html"]
    assert re.sub(r"<[^>]+>", "", spaced) == "barfs_alloc_inode+0x1e/0x80 [barfs]"
    assert bundle(code("a", "b", sep=" and "))["text/plain"] == "a and b"
    assert f"{code('kmalloc')}()" == "kmalloc()"
    assert code("x") == code("x") != code("x", "y") and len({code("x"), code("x")}) == 1


def test_code_escapes_html_and_backticks():
    data = bundle(code("<b>&", "a`b"))
    assert "<b>" not in data["text/html"] and "&lt;b&gt;&amp;" in data["text/html"]
    assert data["text/markdown"] == "`<b>&`, ``a`b``"


@pytest.mark.parametrize("args, kwargs", [((), {}), (("",), {}), (("  ",), {}), ((None,), {}), ((192,), {}),
                                          (("a\nb",), {}), (("a", b"b"), {}), (("a",), {"sep": None}),
                                          (("a",), {"sep": "\n"})])
def test_code_rejects_bad_names(args, kwargs):
    with pytest.raises(KmemError):
        code(*args, **kwargs)


def test_inline_code_is_the_public_type():
    assert isinstance(code("x"), InlineCode)


# ------------------------------------------------------------------------------------------- every chapter
def _expressions(path: Path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for expr in cell.metadata.get("user_expressions", []):
            yield i, expr["expression"], expr["result"]


def test_chapters_store_inline_expressions():
    assert sum(1 for p in NOTEBOOKS for _ in _expressions(p)) > 100


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_inline_expression_yields_a_block(path):
    """Every stored value renders inside its sentence: inline HTML or one line of text, never Markdown or a picture."""
    bad = []
    for cell, expr, result in _expressions(path):
        where = f"cell {cell} {{eval}}`{expr}`"
        if result.get("status") != "ok":
            bad.append(f"{where}: {result.get('ename')}: {result.get('evalue')}")
            continue
        data = result["data"]
        preferred = next((m for m in RICH if m in data), "text/plain")
        if preferred == "text/html":
            tags, roots = html_tags(data["text/html"])
            if roots != 1 or not set(tags) <= INLINE_TAGS:
                bad.append(f"{where}: block HTML {data['text/html'][:80]!r}")
        elif preferred != "text/plain":
            bad.append(f"{where}: {preferred} renders as a block in JupyterLab (use kmemlib.lessons.inline.code)")
        text = data.get("text/plain", "")
        if "\n" in text:
            bad.append(f"{where}: a multi-line text/plain {text[:60]!r}")
        elif re.fullmatch(r"(['\"]).*\1", text):
            # a str: both front ends strip the quotes; an escape inside would show as a backslash
            if ast.literal_eval(text) != text[1:-1]:
                bad.append(f"{where}: the str shows escapes {text[:60]!r}")
    assert not bad, f"{path.name}:\n" + "\n".join(bad)
