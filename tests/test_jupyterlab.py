"""A chapter opened in JupyterLab reads as it does in the book (issue 12, point 1).

Starts ``jupyter lab`` (with jupyterlab-myst, from requirements.txt) on 127.0.0.1 with a random token, opens one
chapter in headless Chromium (tools/headless.py) and checks the rendered Markdown *before anything is run*:
no raw MyST role or directive, the numbers the notebook stores for its inline expressions are in the text, links
to other chapters are links, exercises are rendered as exercises with folded solutions, strings show without quotes, and values shown as code
(kmemlib.lessons.inline.code) sit inside their sentence like Markdown's own inline code. A screenshot goes to
``_build/screenshots/jupyterlab__<chapter>.png``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest

from conftest import ROOT, SCREENSHOT_DIR, in_ci

import headless  # tools/headless.py

pytestmark = pytest.mark.browser

CHAPTERS = ["book/part1/01-pages-and-frames.ipynb",  # a literal `page_shift` next to {eval}`page_shift`
            "book/part1/02-order.ipynb",       # exercises, links, numbers, strings
            "book/part2/01-why-slab.ipynb",    # names shown as code (kmemlib.lessons.inline.code), one a list
            "book/part2/05-live-kernel.ipynb"]  # a code name with a space in it

# Lab settings for a deterministic page: every cell rendered (no virtual scrolling), no news pop-up.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}

STATE_JS = r"""
(() => {
  const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-MarkdownCell'));
  return {
    markdownCells: cells.length,
    rendered: cells.filter(c => c.classList.contains('jp-mod-rendered')).length,
    // rendered Markdown only (not the hidden editor), folded solutions included
    text: cells.map(c => {
      const copy = c.cloneNode(true);
      copy.querySelectorAll('.jp-InputArea-editor, .cm-editor, .jp-InputPrompt').forEach(e => e.remove());
      return copy.textContent;
    }).join('\n\n'),
    exercises: document.querySelectorAll('.jp-MarkdownCell aside.myst-exercise').length,
    solutions: document.querySelectorAll('.jp-MarkdownCell details.myst-exercise').length,
    openSolutions: document.querySelectorAll('.jp-MarkdownCell details.myst-exercise[open]').length,
    links: Array.from(document.querySelectorAll('.jp-MarkdownCell a')).map(a => a.getAttribute('href') || ''),
    inlineCode: Array.from(document.querySelectorAll('.jp-MarkdownCell code')).map(c => c.innerText),
    // expressions rendered through a MIME renderer (everything but text/plain): jupyterlab-myst puts each in an
    // inline box; what is inside must stay one line of inline elements, like the Markdown around it
    richExpressions: Array.from(document.querySelectorAll('.jp-MarkdownCell .myst-RenderedExpression')).map(e => {
      const box = e.parentElement, line = e.closest('p, li, td, th, dd');
      const style = line ? getComputedStyle(line) : null;
      const range = document.createRange();
      range.selectNodeContents(e);
      return {
        text: e.textContent,
        boxDisplay: getComputedStyle(box).display,
        inLine: line ? line.tagName : null,
        blocks: Array.from(e.querySelectorAll('*'))
          .filter(x => !x.classList.contains('lm-Widget') && getComputedStyle(x).display !== 'inline')
          .map(x => x.tagName),
        height: box.getBoundingClientRect().height,
        lineHeight: style ? (parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize)) : 0,
        gapAfter: box.getBoundingClientRect().right - range.getBoundingClientRect().right,
        codeBackgrounds: Array.from(e.querySelectorAll('code')).map(c => getComputedStyle(c).backgroundColor),
      };
    }),
    // the look of Markdown's own inline code, for comparison
    literalBackground: (() => {
      const c = document.querySelector('.jp-MarkdownCell p > code');
      return c ? getComputedStyle(c).backgroundColor : null;
    })(),
  };
})()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    binary = headless.find_browser()
    if binary is None:
        msg = f"no Chromium found (install Debian's `chromium` or set {headless.BROWSER_ENV})"
        if in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    with headless.Browser(binary) as b:
        yield b


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``jupyter lab`` serving the repository on 127.0.0.1; yields its base URL and token."""
    settings = tmp_path_factory.mktemp("lab-settings")
    workspaces = tmp_path_factory.mktemp("lab-workspaces")
    for rel, value in SETTINGS.items():
        path = settings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path_factory.mktemp("lab-log") / "lab.log", "w+")  # noqa: SIM115 - closed below
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}", "--ServerApp.allow_root=True",
           f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={workspaces}", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
           "jupyterlab.NeverCheckForUpdate"]
    env = dict(os.environ, JUPYTER_NO_CONFIG="1")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"jupyter lab did not start:\n{log.read()[-3000:]}", pytrace=False)
            time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _stored_values(path: Path) -> list[str]:
    """The text JupyterLab should show for each inline expression (text/plain, quotes stripped; the text of
    kmemlib.lessons.inline.code's HTML is its text/plain)."""
    nb = nbformat.read(path, as_version=4)
    values = []
    for cell in nb.cells:
        for expr in cell.metadata.get("user_expressions", []):
            data = expr["result"].get("data", {})
            if "text/plain" in data and "text/markdown" not in data or "text/html" in data:
                values.append(re.sub(r"^(['\"])(.*)\1$", r"\2", data["text/plain"], flags=re.S))
    return values


def _stored_rich(path: Path) -> list[dict]:
    """The stored results JupyterLab renders with a MIME renderer (not text/plain), in document order."""
    nb = nbformat.read(path, as_version=4)
    return [e["result"]["data"] for c in nb.cells if c.cell_type == "markdown"
            for e in c.metadata.get("user_expressions", []) if set(e["result"].get("data", {})) - {"text/plain"}]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_reads_right_in_jupyterlab(browser, lab, chapter):
    base, token = lab
    session = browser.open_tab(1280, 1000)
    try:
        browser.load(session, f"{base}/lab/tree/{chapter}?reset&token={token}", timeout=90)
        deadline = time.monotonic() + 90
        state = browser.evaluate(session, STATE_JS)
        while time.monotonic() < deadline and not (
                state["markdownCells"] and state["exercises"] and "{eval}" not in state["text"]):
            browser.pump(0.5)
            state = browser.evaluate(session, STATE_JS)
        browser.pump(1.0)
        state = browser.evaluate(session, STATE_JS)
        data = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        import base64

        (SCREENSHOT_DIR / f"jupyterlab__{Path(chapter).stem}.png").write_bytes(base64.b64decode(data))
    finally:
        browser.close_tab(session)

    nb = nbformat.read(ROOT / chapter, as_version=4)
    n_markdown = sum(c.cell_type == "markdown" for c in nb.cells)
    assert state["markdownCells"] == n_markdown and state["rendered"] == n_markdown, state["markdownCells"]
    text = state["text"]
    raw = re.findall(r"\{(?:eval|glue|doc|exercise|solution)[^}]*\}|^```|^:::", text, re.M)
    assert not raw, f"raw MyST in JupyterLab: {raw[:5]}"
    # inline expressions render as their values, not as code: no expression source left in a <code>
    expressions = {e["expression"] for c in nb.cells for e in c.metadata.get("user_expressions", [])}
    assert expressions, f"{chapter} has no inline expressions to check"
    # (an expression without a value would show as its source in <code>; prose may also say `step` literally)
    literal = {m for c in nb.cells if c.cell_type == "markdown"
               for m in re.findall(r"(?<!`)`([^`]+)`", re.sub(r"\{eval\}`[^`]*`", " ", c.source))}
    unrendered = expressions & set(state["inlineCode"]) - literal
    assert not unrendered, sorted(unrendered)[:5]
    missing = [v for v in _stored_values(ROOT / chapter) if v not in text]
    assert not missing, f"values not shown: {missing[:5]}"
    # strings show without their quotes
    quoted = [q for c in nb.cells for e in c.metadata.get("user_expressions", [])
              if re.fullmatch(r"(['\"]).+\1", q := e["result"].get("data", {}).get("text/plain", "")) and q in text]
    assert not quoted, f"strings shown with quotes: {quoted[:5]}"
    # values shown as code sit inside their sentence: an inline box one line high, no block inside, no gap after,
    # the code styled as Markdown's own inline code
    rich = state["richExpressions"]
    stored = _stored_rich(ROOT / chapter)
    assert len(rich) >= len(stored), (len(rich), len(stored))
    assert {r["text"] for r in rich} == {d["text/plain"] for d in stored}, rich
    for r in rich:
        assert r["boxDisplay"] in ("inline", "inline-block") and r["inLine"], r
        assert not r["blocks"], f"block elements in an inline value: {r}"
        assert r["height"] <= 1.25 * r["lineHeight"], f"an inline value taller than a line: {r}"
        assert r["gapAfter"] <= 3, f"a gap after an inline value: {r}"
        assert r["codeBackgrounds"] and set(r["codeBackgrounds"]) == {state["literalBackground"]}, r
    assert any(urlsplit(h).path.endswith(".ipynb") for h in state["links"]), state["links"]
    n_ex = sum(len(re.findall(r"^(`{3,}|:{3,})\{exercise\}", c.source, re.M)) for c in nb.cells)
    assert state["exercises"] == n_ex > 0 and state["solutions"] == n_ex, state
    assert state["openSolutions"] == 0, "solutions must start folded"
