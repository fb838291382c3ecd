"""Open every chapter of the built book in headless Chromium, the way a reader would.

For each page of ``_toc.yml``, served from a local HTTP server on 127.0.0.1 (and once more from ``file://``,
which is how a reader opens ``_build/html/index.html`` without a server), check that it renders, that its widgets
appear with their default output, that its math is typeset, that no JavaScript error occurs and that no request
leaves localhost. Chromium resolves no host name but localhost (``--host-resolver-rules``), so the page is seen as
an offline reader sees it. A screenshot per chapter goes to ``_build/screenshots/`` (a CI artifact).

Needs Chromium (Debian package ``chromium``; ``make test`` installs it when run as root). Without it these tests
skip, except under CI (``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import base64
import gzip
import threading
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from conftest import HTML_DIR, SCREENSHOT_DIR, in_ci, toc_entries

import headless  # tools/headless.py

pytestmark = pytest.mark.browser

TOC = toc_entries()


PAGE_BUDGET = 3_000_000
"""Bytes a reader's browser may download for one page, everything it loads included (issue 12, point 9)."""

COMPRESSED = (".html", ".js", ".css", ".json", ".svg", ".ipynb", ".txt", ".map")


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves the built site as a static host does (GitHub Pages): text files gzip-compressed on request."""

    _gzipped: dict[str, bytes] = {}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path = Path(self.translate_path(self.path))
        if not (path.is_file() and path.suffix in COMPRESSED and "gzip" in self.headers.get("Accept-Encoding", "")):
            return super().do_GET()
        key = str(path)
        if key not in self._gzipped:
            self._gzipped[key] = gzip.compress(path.read_bytes(), compresslevel=6)
        body = self._gzipped[key]
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def browser():
    binary = headless.find_browser()
    if binary is None:
        msg = ("no Chromium found: install Debian's `chromium` package (`make test` does so when run as root) "
               f"or point {headless.BROWSER_ENV} at a Chromium binary")
        if in_ci():
            pytest.fail(msg + " - under CI the browser test must run", pytrace=False)
        pytest.skip(msg)
    with headless.Browser(binary) as b:
        yield b


@pytest.fixture(scope="module")
def site(book_build):
    if not (HTML_DIR / "index.html").is_file():
        pytest.fail(f"the book was not built (exit {book_build.returncode}); see _build/build.log", pytrace=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(HTML_DIR)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def opened_page(browser, url: str, width: int = 1280, theme: str = "light", settle: float = 1.0):
    """A tab ``width`` px wide on ``url``, in the theme's ``theme`` mode, given ``settle`` s to render; closed after."""
    session = browser.open_tab(width=width)
    try:
        browser.load(session, url)
        if theme == "dark":
            browser.evaluate(session, "document.documentElement.dataset.theme = 'dark'; "
                                      "localStorage.setItem('theme', 'dark'); true")
        browser.pump(settle)
        yield session
    finally:
        browser.close_tab(session)


def _leaves_localhost(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "file"):
        return False
    return parts.hostname not in ("127.0.0.1", "localhost")


def check_page(browser, url: str, screenshot=None) -> dict:
    state, report = headless.render(browser, url, screenshot=screenshot)
    where = f"{url}\n state: {state}"
    assert state["readyState"] == "complete", where
    assert state["h1"] and state["mainTextLength"] > 200, f"page looks empty: {where}"
    if state["widgetViews"]:
        assert state["widgetState"], f"widget views without embedded state: {where}"
        assert state["widgetsRendered"] >= state["widgetViews"], f"widgets did not render: {where}"
        assert state["outputWidgetsWithText"] >= state["outputModelsWithContent"], \
            f"an Output widget lost its default output: {where}"
    if state["mathNodes"]:
        assert state["mathJaxLoaded"], f"MathJax did not load: {where}"
        assert state["mathUntypeset"] == 0, f"math left untypeset: {where}"
        assert not state["mathErrors"], f"MathJax errors {state['mathErrors']}: {where}"
    assert not report.js_errors, "JavaScript errors:\n  " + "\n  ".join(report.js_errors) + f"\n{where}"
    outside = [u for u in report.requests if _leaves_localhost(u)]
    assert not outside, f"requests leaving localhost: {outside}\n{where}"
    state["transferredBytes"] = report.bytes_received
    state["requests"] = len(report.requests)
    return state


@pytest.mark.parametrize("docname", TOC)
def test_chapter_renders_over_http(browser, site, docname):
    shot = SCREENSHOT_DIR / f"{docname.replace('/', '__')}.png"
    state = check_page(browser, f"{site}{docname}.html", screenshot=shot)
    assert shot.is_file() and shot.stat().st_size > 10_000
    # the page's weight as a reader gets it (compressed like a static host serves it), everything included
    assert state["transferredBytes"] <= PAGE_BUDGET, (
        f"{docname}: {state['transferredBytes']:,} bytes in {state['requests']} requests > {PAGE_BUDGET:,}")
    if not state["mathNodes"]:
        assert not state["mathJaxScript"], f"{docname} has no math but loads MathJax"
    if not state["widgetViews"]:
        assert not state["widgetJsLoaded"], f"{docname} has no widgets but loads the widget manager"


@pytest.mark.parametrize("docname", TOC)
def test_chapter_renders_from_file(browser, site, docname):
    """Opening the HTML straight from disk (no server) must work too: README tells readers to do that."""
    check_page(browser, (HTML_DIR / f"{docname}.html").as_uri())


def test_index_redirects_to_the_first_page(browser, site):
    session = browser.open_tab()
    try:
        browser.load(session, site + "index.html")
        browser.pump(1.0)
        path = browser.evaluate(session, "location.pathname")
    finally:
        browser.close_tab(session)
    assert path.endswith(f"/{TOC[0]}.html"), path


# ---------------------------------------------------------------- reading the page (issue 12: layout, plumbing)
# Each page at a desktop width, a phone width and in the theme's dark mode: nothing wider than the window (wide
# content must scroll inside its own box), no table cut off by a box that hides its overflow, no code cell that
# shows build plumbing (glue(...), assert, nbval), and every figure on an opaque background.

LAYOUT_JS = r"""
(async () => {
  const vw = document.documentElement.clientWidth;
  const scrolls = el => { for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const visible = el => { const r = el.getBoundingClientRect(); const cs = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none'; };
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if ((r.right > vw + 1 || r.left < -1) && !scrolls(el) && !el.closest('.bd-sidebar-primary, .bd-sidebar-secondary, .visually-hidden, .sr-only, .jupyter-widgets'))
      wide.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
  }
  const clipped = [];
  for (const t of document.querySelectorAll('main table')) {
    for (let a = t.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'hidden' || o === 'clip') { if (a.scrollWidth > a.clientWidth + 1) clipped.push((t.textContent || '').slice(0, 60)); break; }
      if (o === 'auto' || o === 'scroll') break;
    }
  }
  const plumbing = [];
  for (const cell of document.querySelectorAll('main .cell .cell_input')) {
    const text = cell.textContent || '';
    if (/\bglue\(|\bassert\b|nbval/.test(text)) plumbing.push(text.trim().slice(0, 80));
  }
  const transparent = [];
  for (const img of document.querySelectorAll('main .cell_output img, main figure img')) {
    if (!img.complete || !img.naturalWidth || !/png|^data:image\/png/.test(img.src)) continue;
    const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
    try { const a = ctx.getImageData(1, 1, 1, 1).data[3]; if (a < 255) transparent.push(img.src.slice(-40)); }
    catch (e) { /* a tainted canvas (file://): cannot read pixels */ }
  }
  const overflowing = [];
  for (const t of document.querySelectorAll('main table')) {
    if (t.closest('.jupyter-widgets')) continue;
    const box = t.parentElement;
    if (t.getBoundingClientRect().width > box.clientWidth + 1) overflowing.push((t.textContent || '').slice(0, 60));
  }
  const longCode = [];
  for (const pre of document.querySelectorAll('main div.cell_input pre, main div.highlight pre')) {
    if (pre.getBoundingClientRect().width > 0 && pre.scrollWidth > pre.clientWidth + 1)
      longCode.push((pre.textContent || '').trim().slice(0, 60));
  }
  return {vw, wide: wide.slice(0, 12), clipped, plumbing, transparent, overflowing, longCode};
})()
"""

VIEWS = {"desktop": (1280, "light"), "phone": (390, "light"), "dark": (1280, "dark")}

# Math (issue 12, point 6): once MathJax has typeset the page (and book/_static/kmem-math-fit.js has scaled what is
# wider than the column), no formula scrolls in its box or sticks out of its text block, and none is typeset
# smaller than MATH_MIN_SIZE of the text around it.
MATH_MIN_SIZE = 0.9
MATH_JS = r"""
(async () => {
  if (!document.querySelector('main .math')) return {formulas: 0, bad: []};
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  for (let i = 0; i < 150 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++) await sleep(100);
  await MathJax.startup.promise;
  const bad = [];
  let formulas = 0;
  for (const m of document.querySelectorAll('main mjx-container')) {
    if (m.closest('.jupyter-widgets') || !m.getBoundingClientRect().width) continue;
    formulas++;
    let block = m.parentElement;
    while (block && ['inline', 'inline-block', 'contents'].includes(getComputedStyle(block).display)) block = block.parentElement;
    const bs = getComputedStyle(block), br = block.getBoundingClientRect();
    const right = br.right - parseFloat(bs.paddingRight) - parseFloat(bs.borderRightWidth);
    const math = m.querySelector('mjx-math') || m;
    const scrolls = getComputedStyle(m).overflowX !== 'visible' && m.scrollWidth > m.clientWidth + 1;
    const sticksOut = math.getBoundingClientRect().right > right + 1;
    const size = parseFloat(getComputedStyle(m).fontSize) / parseFloat(bs.fontSize);
    if (scrolls || sticksOut || size < %(min_size)s)
      bad.push({formula: m.textContent.slice(0, 50), scrolls, sticksOut, size: Math.round(size * 100) / 100,
                width: Math.round(m.scrollWidth), room: Math.round(m.clientWidth)});
  }
  return {formulas, bad};
})()
""" % {"min_size": MATH_MIN_SIZE}

# Figures in dark mode (issue 12, point 6): every figure (matplotlib PNGs in the outputs, the widgets' SVGs) keeps
# its light background, undimmed and not inverted, on a light card: its text contrasts with its background as on
# the light page. Measured on the pixels the reader sees (a screenshot of each figure).
FIGURE_CONTRAST = 4.5
FIGURES_JS = r"""
(async () => {
  const figs = Array.from(document.querySelectorAll(
      'main div.cell_output img, main figure img, main .kmem-figure svg'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 40 && r.height > 40; });
  await Promise.all(figs.map(e => e.decode ? e.decode().catch(() => null) : null));
  window.kmemFigures = figs;
  return figs.map(e => ({filter: getComputedStyle(e).filter, name: (e.getAttribute('src') || e.tagName).slice(-30)}));
})()
"""
# scrolls figure i into view; its box in page coordinates (what Page.captureScreenshot's clip takes)
FIGURE_BOX_JS = """
(() => {
  const e = window.kmemFigures[%d];
  e.scrollIntoView({block: 'center'});
  const r = e.getBoundingClientRect();
  return {x: r.left + scrollX, y: r.top + scrollY, width: Math.min(r.width, innerWidth), height: Math.min(r.height, innerHeight)};
})()
"""


def _luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour (0-255 channels)."""
    def lin(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = rgb[:3]
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def _contrast(l1: float, l2: float) -> float:
    hi, lo = max(l1, l2), min(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def figure_legibility(png: bytes) -> dict:
    """Background (the most common colour), its luminance, and the contrast of the figure's darkest marks (its text
    and axes: the darkest 0.2 % of the pixels) against it."""
    import io

    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(rgb, axis=0, return_counts=True)
    background = tuple(int(c) for c in colours[counts.argmax()])
    lin = rgb / 255.0
    lin = np.where(lin <= 0.04045, lin / 12.92, ((lin + 0.055) / 1.055) ** 2.4)
    lums = np.sort(lin @ np.array([0.2126, 0.7152, 0.0722]))
    dark = float(lums[max(0, len(lums) // 500 - 1)])
    bg = _luminance(background)
    return {"background": background, "luminance": round(bg, 3), "contrast": round(_contrast(bg, dark), 2)}


def check_dark_figures(browser, session) -> list[str]:
    """Problems with the page's figures in dark mode (empty when every one reads as on the light page)."""
    problems = []
    for i, fig in enumerate(browser.evaluate(session, FIGURES_JS, await_promise=True)):
        if fig["filter"] != "none":
            problems.append(f"{fig['name']}: filtered ({fig['filter']})")
        clip = browser.evaluate(session, FIGURE_BOX_JS % i) | {"scale": 1}
        browser.pump(0.1)
        shot = browser.send("Page.captureScreenshot", {"format": "png", "clip": clip}, session=session)["data"]
        got = figure_legibility(base64.b64decode(shot))
        if got["luminance"] < 0.85 or got["contrast"] < FIGURE_CONTRAST:
            problems.append(f"{fig['name']}: background {got['background']} (luminance {got['luminance']}), "
                            f"text contrast {got['contrast']}:1")
    return problems


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("docname", TOC)
def test_page_reads_right_at_every_width_and_theme(browser, site, docname, view):
    width, theme = VIEWS[view]
    with opened_page(browser, f"{site}{docname}.html", width, theme, settle=1.5) as session:
        got = browser.evaluate(session, LAYOUT_JS, await_promise=True)
        math = browser.evaluate(session, MATH_JS, await_promise=True)
        figures = check_dark_figures(browser, session) if theme == "dark" else []
    where = f"{docname} at {width} px, {theme}"
    assert not math["bad"], f"{where}: math that scrolls, sticks out or is shrunk too far: {math['bad']}"
    assert not figures, f"{where}: figures not legible in dark mode: {figures}"
    assert not got["wide"], f"{where}: elements wider than the {got['vw']} px window: {got['wide']}"
    assert not got["clipped"], f"{where}: tables cut off by their box: {got['clipped']}"
    assert not got["transparent"], f"{where}: figures on a transparent background: {got['transparent']}"
    if width >= 1280:   # on a desktop every table fits the column; on a phone a wide one scrolls in its box
        assert not got["overflowing"], f"{where}: tables wider than the column: {got['overflowing']}"
    assert not got["longCode"], f"{where}: code lines hidden behind a scroll bar: {got['longCode']}"


@pytest.mark.parametrize("docname", TOC)
def test_no_build_plumbing_shown(browser, site, docname):
    """Readers see code that teaches: no code cell on the page (folded ones included) shows glue(), assert or
    nbval checks (they run in removed cells and in the tests)."""
    with opened_page(browser, f"{site}{docname}.html", settle=0.5) as session:
        got = browser.evaluate(session, LAYOUT_JS, await_promise=True)
    assert not got["plumbing"], f"{docname}: code cells show build plumbing: {got['plumbing']}"


def test_math_fits_again_when_the_window_narrows(browser, site):
    """A page opened wide and then narrowed to a phone's width (a rotated tablet, a resized window), its folded
    solutions opened: kmem-math-fit.js fits the math again, nothing scrolls or sticks out."""
    docname = "book/part1/02-order"   # get_order()'s display formula needs about 0.8 of its size at 390 px
    with opened_page(browser, f"{site}{docname}.html") as session:
        wide = browser.evaluate(session, MATH_JS, await_promise=True)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": 390, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.pump(1.0)
        narrowed = browser.evaluate(session, MATH_JS, await_promise=True)
        opened = browser.evaluate(session, "(() => { const b = document.querySelectorAll("
                                           "'main .dropdown .toggle-button'); b.forEach(e => e.click()); "
                                           "return b.length; })()")
        browser.pump(1.0)
        narrow = browser.evaluate(session, MATH_JS, await_promise=True)
        scaled = browser.evaluate(session, "document.querySelectorAll('main mjx-container.kmem-math-scaled').length")
    assert wide["formulas"] >= 5 and not wide["bad"], wide
    assert not narrowed["bad"], narrowed
    assert opened >= 1
    assert narrow["formulas"] >= wide["formulas"] and not narrow["bad"], narrow
    assert scaled >= 1, "nothing needed fitting at 390 px: the test lost its subject"
