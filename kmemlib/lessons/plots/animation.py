"""Matplotlib animations as self-contained HTML that plays on a static, offline page.

``FuncAnimation.to_jshtml()`` embeds every frame, but its player links FontAwesome from a CDN
for the button icons. :func:`offline_jshtml` drops that link and draws the icons with plain
Unicode characters, so the player needs nothing from another site.
"""

from __future__ import annotations

import re

from matplotlib.animation import Animation

# FontAwesome 4 classes used by matplotlib's player -> a Unicode glyph with the same meaning.
_ICONS = {
    "fa fa-minus": "\u2212",
    "fa fa-fast-backward": "\u23ee",
    "fa fa-step-backward": "\u23f4\u2009|",
    "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-pause": "\u23f8",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "|\u2009\u23f5",
    "fa fa-fast-forward": "\u23ed",
    "fa fa-plus": "+",
}
_CDN_LINK = re.compile(r"<link\s+rel=\"stylesheet\"\s+href=\"https?://[^\"]*font-awesome[^\"]*\"\s*/?>", re.S)
_ICON = re.compile(r"<i class=\"(fa [^\"]+)\"></i>")


def offline_jshtml(anim: Animation, *, default_mode: str = "once", **kwargs: object) -> str:
    """``anim.to_jshtml()`` with the CDN stylesheet removed and the button icons as text."""
    html = anim.to_jshtml(default_mode=default_mode, **kwargs)
    html, n_links = _CDN_LINK.subn("", html)
    html = _ICON.sub(lambda m: f'<span aria-hidden="true">{_ICONS.get(m.group(1), "?")}</span>', html)
    if n_links != 1 or "font-awesome" in html:
        raise RuntimeError("matplotlib's to_jshtml() template changed: the FontAwesome link was not found once")
    return html
