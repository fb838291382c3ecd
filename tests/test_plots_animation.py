"""The animation player the static pages embed must not reach outside the site."""

import re

import matplotlib

matplotlib.use("Agg")

from kmemlib.lessons.plots.animation import offline_jshtml  # noqa: E402
from kmemlib.lessons.plots.buddy import BuddyStepper, buddy_animation  # noqa: E402


def test_offline_jshtml_has_no_remote_urls_and_keeps_every_frame():
    demo = BuddyStepper(nr_pages=16, max_page_order=4)
    demo.alloc(0)
    demo.alloc(1)
    frames = demo.frames()
    html = offline_jshtml(buddy_animation(frames, dpi=40))
    assert not re.search(r"(href|src)=\"https?://", html)
    assert "font-awesome" not in html and 'class="fa ' not in html
    # every control button still has a visible icon (inline SVG, no font needed), and all frames are embedded
    assert html.count('<span aria-hidden="true"><svg viewBox="0 0 16 16"') == 9
    assert not re.search("[\u2300-\u23ff\U0001F300-\U0001FAFF]", html), "a symbol that needs an emoji font"
    assert html.count("data:image/png;base64") == len(frames)
