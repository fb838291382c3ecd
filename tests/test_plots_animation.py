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
    # every control button still has a visible label, and all frames are embedded
    assert html.count('<span aria-hidden="true">') == 9
    assert html.count("data:image/png;base64") == len(frames)


def test_player_buttons_need_no_emoji_font():
    """U+23E9..23FA (media controls) show as empty boxes where no emoji font is installed (issue 12)."""
    demo = BuddyStepper(nr_pages=16, max_page_order=4)
    demo.alloc(0)
    html = offline_jshtml(buddy_animation(demo.frames(), dpi=40))
    labels = re.findall(r'<span aria-hidden="true">([^<]*)</span>', html)
    assert labels and all(ch.isascii() for label in labels for ch in label), labels
