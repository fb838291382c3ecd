"""Response time of the static site's widgets: from a control's event to its new output, in the reader's browser.

Opens every widget page of the built book (``_build/html``, ``make book`` first) in headless Chromium from
``file://`` and, inside the page, changes every control of every widget (``kmem-widgets.js``' PickModel) a few
times: a drop-down by selecting, a check box by clicking, a slider by arrow keys on its handle, a number box by
typing and leaving it. The stored output is shown within that same event, so the time is measured in the page
around the event's dispatch (no DevTools round trip in it); "output changed" counts the changes whose output was
different afterwards (some neighbouring values share an output). Target: <= 100 ms per change. Not a test: prints a table.

Usage: python bench/bench_widgets_static.py [--html _build/html]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import headless  # noqa: E402

MEASURE_JS = r"""
(() => {
  const times = [];
  let changed = 0;
  document.querySelectorAll('[class*="kmem-pick-"]').forEach(box => {
    const outs = () => Array.from(box.querySelectorAll('.kmem-out')).map(o => o.innerHTML).join('');
    const timed = (f) => { const before = outs(), t = performance.now(); f(); times.push(performance.now() - t);
                           if (outs() !== before) changed++; };
    box.querySelectorAll('[class*="kmem-c-"]').forEach(c => {
      for (let k = 0; k < 4; k++) {
        const sel = c.querySelector('select'), box_ = c.querySelector('input[type="checkbox"]'),
              num = c.querySelector('input[type="number"], input[type="text"]'), h = c.querySelector('.noUi-handle');
        if (sel) timed(() => { sel.selectedIndex = (sel.selectedIndex + 1) % sel.options.length;
                               sel.dispatchEvent(new Event('change', {bubbles: true})); });
        else if (box_) timed(() => box_.click());
        else if (h) timed(() => h.dispatchEvent(new KeyboardEvent('keydown', {key: k % 2 ? 'ArrowLeft' : 'ArrowRight',
                                                                                   bubbles: true})));
        else if (num) timed(() => { num.value = String(Number(num.value) + 7);
                                    num.dispatchEvent(new Event('change', {bubbles: true})); });
      }
    });
  });
  return {times: times, changed: changed};
})()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    args = parser.parse_args()
    binary = headless.find_browser()
    if binary is None:
        print("no Chromium found", file=sys.stderr)
        return 1
    pages = sorted(p for p in args.html.rglob("*.html") if "PickModel" in p.read_text(encoding="utf-8"))
    print(f"{'page':<40}{'changes':>8}{'output changed':>15}{'median ms':>11}{'max ms':>9}")
    with headless.Browser(binary) as b:
        for page in pages:
            s = b.open_tab()
            b.load(s, page.as_uri())
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline and not headless.page_done(b.evaluate(s, headless.PAGE_STATE_JS)):
                b.pump(0.2)
            b.pump(0.5)
            res = b.evaluate(s, MEASURE_JS)
            times = res["times"]
            b.close_tab(s)
            name = str(page.relative_to(args.html))
            print(f"{name:<40}{len(times):>8}{res['changed']:>15}{statistics.median(times):>11.1f}{max(times):>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
