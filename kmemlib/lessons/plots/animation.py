"""Matplotlib animations as self-contained HTML that plays on a static, offline page.

``FuncAnimation.to_jshtml()`` embeds every frame, but its player links FontAwesome from a CDN
for the button icons. :func:`offline_jshtml` drops that link and labels the buttons with plain
text, so the player needs nothing from another site.
"""

from __future__ import annotations

import re

from matplotlib.animation import Animation

# FontAwesome 4 classes used by matplotlib's player -> a plain-text label with the same meaning (no emoji-font
# symbols such as U+23EE..23F8, which many systems draw as empty boxes).
_ICONS = {
    "fa fa-minus": "slower",
    "fa fa-fast-backward": "|&lt;&lt;",
    "fa fa-step-backward": "|&lt;",
    "fa fa-play fa-flip-horizontal": "&lt;",
    "fa fa-pause": "||",
    "fa fa-play": "&gt;",
    "fa fa-step-forward": "&gt;|",
    "fa fa-fast-forward": "&gt;&gt;|",
    "fa fa-plus": "faster",
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
