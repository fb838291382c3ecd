"""Every piece of text on every page is legible, in the light and in the dark theme (issue 12, item 6).

Headless Chromium opens each page, and for each visible element that holds text computes its colour and the
colour it stands on (its own background, else the first ancestor's, with translucent layers composited over the
page), then the WCAG contrast ratio. Text must reach 4.5:1, large text (24 px, or 18.66 px bold) 3:1.

Pictures are not text here: figures are checked on their pixels by test_browser.py, widget pictures by
test_browser_widgets.py. The page chrome (sidebars, header, footer) is the theme's and is left out.
"""

from __future__ import annotations

import pytest

from conftest import toc_entries
from test_browser import browser, opened_page, site  # noqa: F401 - fixtures

TOC = toc_entries()

CONTRAST_JS = r"""
(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) => { const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]); };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const pageBg = parse(getComputedStyle(document.body).backgroundColor)[3] > 0
    ? parse(getComputedStyle(document.body).backgroundColor)
    : parse(getComputedStyle(document.documentElement).backgroundColor);
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.backgroundImage && cs.backgroundImage !== 'none') return null;   // a gradient or picture: not judged
      const c = parse(cs.backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = pageBg[3] > 0 ? pageBg : [255, 255, 255, 1];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  };
  const bad = [];
  let checked = 0;
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (!el || seen.has(el)) continue;
    seen.add(el);
    if (el.closest('.bd-sidebar-primary, .bd-sidebar-secondary, .bd-header, footer, script, style, .visually-hidden,'
                   + ' .sr-only, mjx-assistive-mml, .jupyter-widgets, svg, .toggle-hidden')) continue;
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (r.width < 1 || r.height < 1 || cs.visibility === 'hidden' || +cs.opacity === 0) continue;
    if (el.closest('details:not([open])') && !el.closest('summary')) continue;
    const bg = background(el);
    if (!bg) continue;
    let fg = parse(cs.color);
    fg = over(fg, bg);
    const size = parseFloat(cs.fontSize), bold = +cs.fontWeight >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    const got = ratio(fg, bg);
    checked++;
    if (got < need)
      bad.push(`${el.tagName.toLowerCase()}.${[...el.classList].slice(0, 2).join('.')} "${n.textContent.trim().slice(0, 40)}"`
               + ` ${got.toFixed(2)}:1 (${cs.color} on rgb(${bg.slice(0, 3).map(Math.round).join(', ')}))`);
  }
  return {checked, bad};
})()
"""


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("docname", TOC)
def test_every_text_is_legible(browser, site, docname, theme):  # noqa: F811 - fixtures
    with opened_page(browser, f"{site}{docname}.html", theme=theme) as session:
        got = browser.evaluate(session, CONTRAST_JS)
    assert got["checked"] > 20, f"{docname}: only {got['checked']} text elements found"
    assert not got["bad"], (f"{docname} ({theme}): {len(got['bad'])} text elements below the WCAG contrast: "
                            + "; ".join(got["bad"][:8]))
