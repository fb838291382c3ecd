"""The book's build gate: the -W build itself, plus what the built HTML must contain.

The build (a session fixture in conftest.py) executes every notebook; a failing cell or any Sphinx warning fails
``test_book_builds_with_warnings_as_errors``. The other tests check the output a reader gets: every toc page,
no script or stylesheet from another host, widget state embedded, .ipynb downloads and launch buttons.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml

from conftest import HTML_DIR, ROOT, source_of, toc_entries

import offline_assets  # tools/offline_assets.py (conftest puts tools/ on sys.path)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


# ----------------------------------------------------------------------------------------------------- helpers
class _Tags(HTMLParser):
    """Collect the tags of a page with the attributes that make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.scripts: list[tuple[dict, str]] = []  # (attrs, body) of every <script>
        self._script: dict | None = None
        self._body: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self._script, self._body = a, []
            if a.get("src"):
                self.fetches.append((tag, "src", a["src"]))
            if "data-jupyter-widgets-cdn" in a:
                self.fetches.append((tag, "data-jupyter-widgets-cdn", a["data-jupyter-widgets-cdn"]))
        elif tag == "link" and a.get("rel", "") in ("stylesheet", "preload", "icon", "modulepreload", "prefetch"):
            self.fetches.append((tag, "href", a.get("href", "")))
        elif tag in ("img", "iframe", "source", "embed", "audio", "video") and a.get("src"):
            self.fetches.append((tag, "src", a["src"]))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._body.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._body)))
            self._script = None


def parse(html_file: Path) -> _Tags:
    tags = _Tags()
    tags.feed(html_file.read_text(encoding="utf-8"))
    return tags


def is_remote(url: str) -> bool:
    """A URL the browser would fetch from another host (anything with a scheme or //host, except data:)."""
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "data")


def html_of(docname: str) -> Path:
    return HTML_DIR / f"{docname}.html"


TOC = toc_entries()
NOTEBOOKS = [d for d in TOC if (source_of(d) or Path()).suffix == ".ipynb"]


# ------------------------------------------------------------------------------------------------- the build
def test_book_builds_with_warnings_as_errors(book_build):
    """`jupyter-book build . -W -n --keep-going --all` succeeds: no failing cell, no Sphinx warning."""
    problems = [line for line in book_build.log.splitlines() if re.search(r"WARNING|ERROR|Traceback|CRITICAL", line)
                and "Kernel is running over TCP" not in line]
    assert book_build.returncode == 0, (
        f"{' '.join(book_build.command)} failed (exit {book_build.returncode}):\n" + "\n".join(problems[-40:])
        + "\n--- log tail ---\n" + book_build.log[-3000:]
    )
    assert "build succeeded" in book_build.log or book_build.seconds == 0.0


def test_toc_is_a_jb_book_with_existing_sources():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["format"] == "jb-book"
    assert toc["root"] == "book/intro"
    missing = [d for d in TOC if source_of(d) is None]
    assert not missing, f"toc entries without a .ipynb/.md source: {missing}"
    assert len(set(TOC)) == len(TOC), "a file appears twice in _toc.yml"


def test_every_notebook_in_book_is_in_the_toc():
    """only_build_toc_files would silently skip a notebook that was forgotten in _toc.yml."""
    in_toc = {source_of(d) for d in TOC}
    notebooks = {p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}
    orphans = sorted(str(p.relative_to(ROOT)) for p in notebooks - in_toc)
    assert not orphans, f"notebooks under book/ missing from _toc.yml (they would not be published): {orphans}"


@pytest.mark.parametrize("docname", TOC)
def test_every_toc_page_is_built(book_build, docname):
    assert html_of(docname).is_file(), f"{docname}.html was not produced"


# --------------------------------------------------------------------------------------------- offline pages
def test_no_page_fetches_from_another_host(book_build):
    """Scripts, styles, images and the widget CDN prefix of every built page point into the site itself."""
    offenders = []
    for page in sorted(HTML_DIR.rglob("*.html")):
        for tag, attr, value in parse(page).fetches:
            if is_remote(value):
                offenders.append(f"{page.relative_to(HTML_DIR)}: <{tag} {attr}={value!r}>")
    assert not offenders, "remote resources in the built HTML:\n" + "\n".join(offenders)


def test_no_inline_script_names_a_cdn(book_build):
    cdn = re.compile(r"cdn\.jsdelivr|cdnjs|unpkg\.com|googleapis|polyfill\.io")
    offenders = []
    for page in sorted(HTML_DIR.rglob("*.html")):
        for attrs, body in parse(page).scripts:
            if not attrs.get("src") and cdn.search(body):
                offenders.append(f"{page.relative_to(HTML_DIR)}: {cdn.search(body).group(0)}")
    assert not offenders, offenders


def test_offline_javascript_is_in_the_site(book_build):
    static = HTML_DIR / "_static"
    for rel in ("kmem-offline/requirejs/require.js", "kmem-offline/html-manager/embed-amd.js",
                "kmem-offline/mathjax/tex-chtml.js", "kmem-widgets-setup.js", "kmem-mathjax-compat.js",
                "kmem-math-fit.js"):
        assert (static / rel).is_file(), f"_static/{rel} missing from the built site"
    fonts = list((static / "kmem-offline/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    assert fonts, "MathJax CHTML fonts were not copied"


# ---------------------------------------------------------------------------------------------------- widgets
def _widget_views_in_outputs(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(1 for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", []) if WIDGET_VIEW in o.get("data", {}))


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_widget_state_is_embedded(book_build, docname):
    """Every widget view on a page has its model in the page's embedded widget state."""
    tags = parse(html_of(docname))
    views = [json.loads(body) for attrs, body in tags.scripts if attrs.get("type") == WIDGET_VIEW]
    states = [json.loads(body) for attrs, body in tags.scripts if attrs.get("type") == WIDGET_STATE]
    if _widget_views_in_outputs(source_of(docname)) and not views:
        pytest.fail(f"{docname}: the stored notebook shows widgets but the page has none")
    if not views:
        return
    assert len(states) == 1, f"{docname}: {len(states)} widget-state scripts for {len(views)} views"
    models = states[0]["state"]
    for view in views:
        assert view["model_id"] in models, f"{docname}: view of {view['model_id']} has no embedded state"
    srcs = [attrs.get("src", "") for attrs, _ in tags.scripts]
    assert any("html-manager/embed-amd.js" in s for s in srcs), f"{docname}: embed-amd.js not loaded"
    assert any("requirejs/require.js" in s for s in srcs), f"{docname}: require.js not loaded"


def test_the_book_exercises_widgets_math_and_exercises(book_build):
    """The gate itself: at least one page has a widget, typeset math, an exercise with a folded solution."""
    pages = [html_of(d).read_text(encoding="utf-8") for d in TOC if html_of(d).is_file()]
    assert any(WIDGET_VIEW in p for p in pages), "no page embeds a widget"
    assert any('class="math' in p for p in pages), "no page has math"
    assert any("exercise" in p and "solution" in p and "dropdown" in p for p in pages), "no exercise/solution"


# -------------------------------------------------------------------------------------- downloads and launch
@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_notebook_is_downloadable_and_launchable(book_build, docname):
    assert (HTML_DIR / "_sources" / f"{docname}.ipynb").is_file(), f"{docname}.ipynb not offered for download"
    links = parse(html_of(docname)).links
    assert any(href.endswith(f"_sources/{docname}.ipynb") for href in links), "no .ipynb download link"
    assert any("mybinder.org" in h and f"{docname}.ipynb" in h for h in links), "no Binder launch button"
    assert any("colab.research.google.com" in h and f"{docname}.ipynb" in h for h in links), "no Colab button"


# ------------------------------------------------------------------------------- tools/offline_assets (unit)
def _tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_offline_assets_checks_integrity():
    data = b"some tarball"
    offline_assets._check_integrity(data, _integrity(data))
    with pytest.raises(RuntimeError, match="integrity mismatch"):
        offline_assets._check_integrity(data + b"!", _integrity(data))


def test_offline_assets_unpacks_only_the_wanted_files(tmp_path):
    asset = offline_assets.NpmAsset("x", "x", "1.0.0", "", strip="package/dist/", keep_suffixes=(".js", ".woff"))
    data = _tgz({"package/dist/a.js": b"a", "package/dist/f/b.woff": b"b", "package/dist/a.js.map": b"m",
                 "package/src/c.js": b"c", "package/LICENSE": b"L"})
    assert offline_assets._unpack(data, asset, tmp_path) == 3
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == \
        ["LICENSE", "a.js", "f/b.woff"]


def test_offline_assets_refuses_path_traversal(tmp_path):
    asset = offline_assets.NpmAsset("x", "x", "1.0.0", "", strip="package/", keep_suffixes=(".js",))
    data = _tgz({"package/../../evil.js": b"x"})
    with pytest.raises(RuntimeError, match="unsafe path"):
        offline_assets._unpack(data, asset, tmp_path / "out")


def test_offline_assets_pins_versions_and_integrity():
    for asset in offline_assets.ASSETS:
        assert re.fullmatch(r"\d+\.\d+\.\d+", asset.version), asset
        assert asset.integrity.startswith("sha512-"), asset
        assert asset.tarball_url.startswith("https://registry.npmjs.org/"), asset
    manager = {a.package: a for a in offline_assets.ASSETS}["@jupyter-widgets/html-manager"]
    import ipywidgets

    # ipywidgets declares which html-manager it speaks to (a caret range on 1.x).
    declared = ipywidgets._version.__html_manager_version__
    assert declared.startswith("^1.") and manager.version.startswith("1."), (declared, manager.version)


def test_config_serves_javascript_locally():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    for uri in [cfg["mathjax_path"], *cfg["nb_ipywidgets_js"]]:
        assert not is_remote(uri), uri
    assert "sphinx_thebe" not in cfg["extensions"]


# --------------------------------------------------------------------------- MyST in the text (issue 12, point 1)
class _MainText(HTMLParser):
    """The text a reader sees in a page's <main> (no scripts, styles or code blocks: code may show roles)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._main = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "pre"):
            self._skip += 1
        if tag == "main":
            self._main += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "pre"):
            self._skip -= 1
        if tag == "main":
            self._main -= 1

    def handle_data(self, data):
        if self._main and not self._skip:
            self.parts.append(data)


RAW_MYST = re.compile(r"\{(?:glue|eval|doc|ref|numref|exercise|solution|download|term)(?::\w*)?\}`?|"
                      r"^(`{3,}|:{3,})\{[\w:-]+\}", re.M)


@pytest.mark.parametrize("docname", TOC)
def test_no_raw_myst_in_the_page_text(book_build, docname):
    """No MyST role or directive is left as text on a page (the ch5/ch7 leaks of issue 12), no repr of an object."""
    text = _MainText()
    text.feed(html_of(docname).read_text(encoding="utf-8"))
    body = "".join(text.parts)
    leaks = [m.group(0) for m in RAW_MYST.finditer(body)]
    assert not leaks, f"{docname}: raw MyST in the text: {leaks[:5]}"
    reprs = re.findall(r"<[\w.]+ object at 0x[0-9a-f]+>|<IPython\.core\.display\.\w+ object>|np\.float64\(", body)
    assert not reprs, f"{docname}: a Python repr in the text: {reprs[:3]}"


class _InlineCodeValues(HTMLParser):
    """Where each ``{eval}`` value made by kmemlib.lessons.inline.code sits: the element that holds its line."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    INLINE = {"span", "code", "a", "b", "i", "em", "strong", "sub", "sup", "kbd", "var", "samp", "abbr", "small"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.holders: list[str] = []  # per value: the nearest ancestor that is not an inline element

    def handle_starttag(self, tag, attrs):
        if "kmem-inline-code" in (dict(attrs).get("class") or "").split():
            self.holders.append(next((t for t in reversed(self.stack) if t not in self.INLINE), ""))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_code_values_sit_inside_their_sentence(book_build, docname):
    """Each name a chapter shows as code through {eval} (text/html) is inline in a paragraph, list item or cell."""
    nb = nbformat.read(source_of(docname), as_version=4)
    expected = 0
    for cell in nb.cells:
        html = {e["expression"] for e in cell.metadata.get("user_expressions", [])
                if "text/html" in e["result"].get("data", {})}
        expected += sum(1 for expr in re.findall(r"\{eval\}`([^`]+)`", cell.source) if expr in html)
    found = _InlineCodeValues()
    found.feed(html_of(docname).read_text(encoding="utf-8"))
    assert len(found.holders) == expected, (found.holders, expected)
    assert all(h in ("p", "li", "td", "th", "dd", "dt", "caption") for h in found.holders), found.holders


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_strings_show_without_quotes(book_build, docname):
    """An {eval} value that is a str reads as its text on the page, not as its repr in quotes."""
    nb = nbformat.read(source_of(docname), as_version=4)
    quoted = {t for c in nb.cells for e in c.metadata.get("user_expressions", [])
              if re.fullmatch(r"(['\"]).+\1", t := e["result"].get("data", {}).get("text/plain", ""))}
    text = _MainText()
    text.feed(html_of(docname).read_text(encoding="utf-8"))
    body = "".join(text.parts)
    shown = sorted(q for q in quoted if q in body)
    assert not shown, f"{docname}: strings shown with their quotes: {shown[:5]}"


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_downloaded_notebook_is_plain_markdown(book_build, docname):
    """The .ipynb behind the download button (and Colab) has its numbers resolved and no MyST markup."""
    import notebook_eval  # tools/notebook_eval.py

    nb = nbformat.read(HTML_DIR / "_sources" / f"{docname}.ipynb", as_version=4)
    source = nbformat.read(source_of(docname), as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not notebook_eval.raw_myst(markdown), notebook_eval.raw_myst(markdown)[:5]
    assert "{eval}" not in markdown and "user_expressions" not in json.dumps([c.metadata for c in nb.cells])
    assert len(nb.cells) == len(source.cells), "the plain copy keeps every cell"
    if "{eval}" in "\n".join(c.source for c in source.cells):
        # the values are the build's: every expression's value from the page is in the copy
        assert markdown != "\n".join(c.source for c in source.cells if c.cell_type == "markdown")
    for link in re.findall(r"\]\(([^)]+)\)", markdown):
        assert not link.endswith((".ipynb", ".md")), f"{docname}: relative notebook link {link!r} in the plain copy"


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_colab_button_opens_the_plain_copy(book_build, docname):
    links = [h for h in parse(html_of(docname)).links if "colab.research.google.com" in h]
    assert links and all(h.endswith(f"/blob/gh-pages/_sources/{docname}.ipynb") for h in links), links


# ------------------------------------------------------------------------------------ weight (issue 12, point 9)
SITE_BUDGET = 12_000_000
"""Bytes of the whole built site (_build/html), everything a host serves."""


def test_site_fits_its_size_budget(book_build):
    files = [p for p in HTML_DIR.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    biggest = sorted(files, key=lambda p: p.stat().st_size, reverse=True)[:8]
    assert total <= SITE_BUDGET, f"the site is {total:,} bytes > {SITE_BUDGET:,}; biggest: " + ", ".join(
        f"{p.relative_to(HTML_DIR)} {p.stat().st_size:,}" for p in biggest)


def test_site_ships_only_the_javascript_it_uses(book_build):
    static = HTML_DIR / "_static"
    assert not list(static.rglob("*.map")), "source maps are not loaded by any page"
    assert not (static / "kmem-offline/html-manager/libembed-amd.js").exists(), "unused copy of embed-amd.js"
    mathjax = {str(p.relative_to(static / "kmem-offline/mathjax")) for p in (static / "kmem-offline/mathjax").rglob("*")
               if p.is_file() and p.name not in (".kmem-asset", "LICENSE")}
    assert mathjax and all(m.startswith(offline_assets.MATHJAX_FILES) for m in mathjax), sorted(mathjax)[:10]


@pytest.mark.parametrize("docname", TOC)
def test_math_and_widget_javascript_only_where_needed(book_build, docname):
    """A page loads MathJax only if it has math, the widget manager only if it has widgets."""
    tags = parse(html_of(docname))
    page = html_of(docname).read_text(encoding="utf-8")
    srcs = [attrs.get("src", "") for attrs, _ in tags.scripts]
    has_math = 'class="math' in page
    assert any("mathjax" in s for s in srcs) == has_math, f"{docname}: math={has_math}, scripts={srcs}"
    assert any("kmem-math-fit.js" in s for s in srcs) == has_math, f"{docname}: math={has_math}, scripts={srcs}"
    assert not any("fontawesome.js" in s for s in srcs), f"{docname} loads the theme's 1.5 MB icon script"
    has_widgets = any(attrs.get("type") == WIDGET_VIEW for attrs, _ in tags.scripts)
    assert any("embed-amd.js" in s for s in srcs) == has_widgets, f"{docname}: widgets={has_widgets}"


def test_no_header_bar_with_only_a_search_box(book_build):
    """pydata-sphinx-theme's top header would hold only a second search box: it is empty (no navbar items)."""
    for docname in TOC:
        page = html_of(docname).read_text(encoding="utf-8")
        header = re.search(r'<header id="pst-header"[^>]*>(.*?)</header>', page, re.S)
        assert header is None or not header.group(1).strip(), f"{docname}: header bar has {header.group(1)[:200]!r}"
