"""Matplotlib animations as self-contained HTML that plays on a static, offline page.

``FuncAnimation.to_jshtml()`` embeds every frame, but its player links FontAwesome from a CDN
for the button icons. :func:`offline_jshtml` drops that link and draws the icons as small inline
SVGs, so the player needs nothing from another site and no icon or emoji font.
"""

from __future__ import annotations

import re

from matplotlib.animation import Animation

def _svg(path: str) -> str:
    return (f'<svg viewBox="0 0 16 16" width="1em" height="1em" style="vertical-align:-0.125em" '
            f'fill="currentColor" focusable="false"><path d="{path}"/></svg>')


# FontAwesome 4 classes used by matplotlib's player -> a small inline SVG icon with the same meaning: drawn by the
# browser itself, so it needs no icon font and no emoji font (U+23EE... show as boxes on many systems).
_ICONS = {
    "fa fa-minus": _svg("M2 7h12v2H2z"),
    "fa fa-fast-backward": _svg("M2 2h2v12H2zM9 2v12L4 8zM15 2v12L10 8z"),
    "fa fa-step-backward": _svg("M3 2h2v12H3zM13 2v12L5 8z"),
    "fa fa-play fa-flip-horizontal": _svg("M13 2v12L3 8z"),
    "fa fa-pause": _svg("M3 2h4v12H3zM9 2h4v12H9z"),
    "fa fa-play": _svg("M3 2v12l10-6z"),
    "fa fa-step-forward": _svg("M3 2v12l8-6zM11 2h2v12h-2z"),
    "fa fa-fast-forward": _svg("M1 2v12l5-6zM7 2v12l5-6zM12 2h2v12h-2z"),
    "fa fa-plus": _svg("M7 2h2v5h5v2H9v5H7V9H2V7h5z"),
}
_CDN_LINK = re.compile(r"<link\s+rel=\"stylesheet\"\s+href=\"https?://[^\"]*font-awesome[^\"]*\"\s*/?>", re.S)
_ICON = re.compile(r"<i class=\"(fa [^\"]+)\"></i>")


def offline_jshtml(anim: Animation, *, default_mode: str = "once", **kwargs: object) -> str:
    """``anim.to_jshtml()`` with the CDN stylesheet removed and the button icons as inline SVG."""
    html = anim.to_jshtml(default_mode=default_mode, **kwargs)
    html, n_links = _CDN_LINK.subn("", html)
    html = _ICON.sub(lambda m: f'<span aria-hidden="true">{_ICONS.get(m.group(1), "?")}</span>', html)
    if n_links != 1 or "font-awesome" in html:
        raise RuntimeError("matplotlib's to_jshtml() template changed: the FontAwesome link was not found once")
    return html
