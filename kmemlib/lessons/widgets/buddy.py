"""Step-through widget for Part I, chapter 3: allocate and free on a small buddy zone.

Thin layer over :class:`kmemlib.lessons.plots.buddy.BuddyStepper` (the allocator calls, names and undo) and
:func:`kmemlib.lessons.plots.buddy.frame_figure` (the picture); the tests drive the stepper directly.
Controls: zone geometry, ``alloc_pages(order)``, ``__free_pages(block)``, undo, reset, and a step
slider (with play button) that walks through every event of every call so far.
"""

from __future__ import annotations

import textwrap

import html
from functools import lru_cache

import ipywidgets as widgets
from matplotlib.colors import to_hex

from ...errors import InvalidOrderError, InvalidSizeError
from ...mm.pages import MAX_PAGE_ORDER
from ..plots.buddy import DEMO_SCRIPT, BuddyStepper, Frame, order_colors
from .base import Bound, Part, explorer, static_mode, text_html

ZONE_CHOICES: tuple[tuple[str, tuple[int, int]], ...] = (
    ("64 pages, max order 5", (64, 5)),
    ("128 pages, max order 6", (128, 6)),
    ("48 pages, max order 4", (48, 4)),
    ("32 pages, max order 3", (32, 3)),
)
"""Zone geometries offered by the widget as ``(label, (nr_pages, max_page_order))``."""


def call_log(stepper: BuddyStepper, frames: list[Frame], step: int) -> str:
    """Text of the call that ``step`` belongs to: one line per event, ``>`` marking ``step``."""
    f = frames[step]
    lines = [f"zone: {stepper.zone.nr_pages} pages, max_page_order {stepper.max_page_order} "
             f"(real x86-64 zones: {MAX_PAGE_ORDER})"]
    if f.op == 0:
        lines.append("> " + f.caption)
    else:
        for g in frames:
            if g.op == f.op:
                mark = "> " if g.index == step else "  "
                lines.append(textwrap.fill(g.caption, 66, initial_indent=f"{mark}{g.index:3d}  ",
                                           subsequent_indent=" " * 7))
    lines.append("")
    lines.append(f.buddyinfo)
    items = [f"{n}=PFN {p} (order {o})" for p, o, n in f.allocated] or ["none"]
    line = "live allocations at this step:"
    for k, item in enumerate(items):  # wrap between allocations, never inside one
        sep = " " if k == 0 else ", "
        if len(line) + len(sep) + len(item) > 66:
            lines.append(line + ("," if k else ""))
            line, sep = "  ", ""
        line += sep + item
    lines.append(line)
    return "\n".join(lines)


def recorded_script(max_page_order: int) -> tuple:
    """The scenario the static page records for a zone: :data:`~kmemlib.lessons.plots.buddy.DEMO_SCRIPT` with every
    order capped at the zone's ``max_page_order``."""
    return tuple(("alloc", min(x, max_page_order)) if op == "alloc" else (op, x) for op, x in DEMO_SCRIPT)


@lru_cache(maxsize=16)
def _recorded(nr_pages: int, max_page_order: int) -> tuple[BuddyStepper, list[Frame]]:
    st = BuddyStepper(nr_pages, max_page_order)
    st.run(recorded_script(max_page_order))
    return st, st.frames()


def _t(x: float, y: float, text: str, *, size: int = 12, fill: str = "currentColor", anchor: str = "middle",
       weight: str = "normal", family: str = "sans-serif") -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' fill='{fill}' text-anchor='{anchor}' "
            f"font-weight='{weight}' font-family='{family}' dominant-baseline='middle'>{html.escape(text)}</text>")


def frame_svg(frame: Frame, width: int = 640) -> str:
    """One :class:`~kmemlib.lessons.plots.buddy.Frame` as a small inline SVG, in the colours and marks of
    :func:`~kmemlib.lessons.plots.buddy.draw_frame`: the zone as a bar of PFNs (free blocks coloured by order and
    labelled ``oN``, allocations grey with their name, the block in flight hatched, the block of this step framed
    in red), then one row per free list, head first. Text takes the page's colour (dark mode)."""
    colors = [to_hex(c) for c in order_colors(frame.max_page_order)]
    mo = frame.max_page_order
    s, n = frame.start_pfn, frame.nr_pages
    left, bar_w = 8, width - 16
    sx = bar_w / n
    h_lists = 26 * (mo + 1)
    height = 116 + h_lists
    out = [f"<svg viewBox='0 0 {width} {height}' style='max-width:100%;height:auto' role='img' "
           f"aria-label='buddy zone, step {frame.index}'>",
           "<defs><pattern id='kmem-hatch' width='6' height='6' patternUnits='userSpaceOnUse' "
           "patternTransform='rotate(45)'><rect width='6' height='6' fill='#ffd27f'/>"
           "<line x1='0' y1='0' x2='0' y2='6' stroke='black' stroke-width='1.5'/></pattern></defs>"]
    y0, bh = 8, 40

    def block(p: int, o: int, fill: str, label: str, ink: str, weight: str = "normal") -> None:
        x, w = left + (p - s) * sx, (1 << o) * sx
        out.append(f"<rect x='{x:.1f}' y='{y0}' width='{w:.1f}' height='{bh}' fill='{fill}' stroke='black'/>")
        if label and w >= 8.5 * len(label) + 2:
            out.append(_t(x + w / 2, y0 + bh / 2, label, fill=ink, weight=weight, size=14))

    for p, o in frame.free_blocks:
        block(p, o, colors[o], f"o{o}", "white" if o > mo / 2 else "black")
    for p, o, name in frame.allocated:
        block(p, o, "#8c8c8c", name, "white", "bold")
    if frame.in_flight is not None:
        p, o = frame.in_flight
        block(p, o, "url(#kmem-hatch)", "", "black")
    ev = frame.event
    if ev is not None and ev.pfn >= 0:
        x, w = left + (ev.pfn - s) * sx, (1 << ev.order) * sx
        out.append(f"<rect x='{x:.1f}' y='{y0 - 3}' width='{w:.1f}' height='{bh + 6}' fill='none' stroke='red' "
                   "stroke-width='3'/>")
    step = max(1, n // 16)
    step = 1 << (step.bit_length() - 1)
    for p in range(s, s + n + 1, step):
        out.append(_t(left + (p - s) * sx, y0 + bh + 14, str(p), size=13))
    out.append(_t(left, y0 + bh + 34, "PFN. oN = free block of order N, grey = allocated,", size=13, anchor="start"))
    out.append(_t(left, y0 + bh + 52, "hatched = in flight, red frame = block of this step", size=13, anchor="start"))
    y = 116
    for o in range(mo + 1):
        yy = y + 26 * (mo - o) + 13
        out.append(_t(left + 196, yy, f"free_list[{o}] ({1 << o:>2} pg)", size=14, anchor="end",
                      family="monospace"))
        for j, p in enumerate(frame.free_lists[o][:9]):
            x = left + 206 + j * 46
            out.append(f"<rect x='{x}' y='{yy - 10}' width='38' height='20' fill='{colors[o]}' stroke='black'/>")
            out.append(_t(x + 19, yy, str(p), size=13, fill="white" if o > mo / 2 else "black"))
            if j:
                out.append(_t(x - 4, yy, "→", size=11))
        if len(frame.free_lists[o]) > 9:
            out.append(_t(left + 206 + 9 * 46, yy, f"+{len(frame.free_lists[o]) - 9}", size=13, anchor="start"))
    out.append("</svg>")
    return "".join(out)


def frame_html(stepper: BuddyStepper, frames: list[Frame], step: int) -> str:
    """One step of the widget: :func:`frame_svg` and :func:`call_log`."""
    return frame_svg(frames[step]) + text_html(call_log(stepper, frames, step))


def recorded_frame_html(zone: tuple[int, int] | list[int], step: int) -> str:
    """Step ``step`` of the recorded scenario (:func:`recorded_script`) on a zone ``(nr_pages, max_page_order)``
    (a step past its end shows the last one)."""
    st, fr = _recorded(*zone)
    return frame_html(st, fr, min(step, len(fr) - 1))


def _check(nr_pages: object, max_page_order: object, script: object) -> None:
    if isinstance(nr_pages, bool) or not isinstance(nr_pages, int) or not 1 <= nr_pages <= 4096:
        raise InvalidSizeError(f"buddy_widget: nr_pages must be a whole number of pages in 1..4096, got {nr_pages!r}")
    if isinstance(max_page_order, bool) or not isinstance(max_page_order, int) or \
            not 0 <= max_page_order <= MAX_PAGE_ORDER:
        raise InvalidOrderError(f"buddy_widget: max_page_order must be in 0..{MAX_PAGE_ORDER}, got {max_page_order!r}")
    if not isinstance(script, (tuple, list)):
        raise InvalidSizeError(f"buddy_widget: script must be a list of ('alloc', order) / ('free', name) steps, "
                               f"got {script!r}")
    BuddyStepper(nr_pages, max_page_order).run(script)  # raises the stepper's own error on a bad step


def buddy_widget(nr_pages: int = 64, max_page_order: int = 5, script: tuple | list = ()) -> widgets.Widget:
    """The step-through widget; ``script`` (``("alloc", order)`` / ``("free", name)`` steps) is run
    first so that the page opens on an interesting state.

    Live: allocate, free, undo and reset change the zone, the step slider (and play) walks through every event
    of every call so far. On the static page the step slider walks through a recorded scenario for each zone
    (:func:`recorded_script`); allocate/free/undo/reset are disabled there."""
    _check(nr_pages, max_page_order, script)
    static = static_mode()
    state = {"stepper": BuddyStepper(nr_pages, max_page_order), "busy": False}
    state["stepper"].run(script)
    geometry = (nr_pages, max_page_order)
    choices = list(ZONE_CHOICES)
    if geometry not in [g for _, g in choices]:
        choices.insert(0, (f"{nr_pages} pages, max order {max_page_order}", geometry))
    zone_dd = widgets.Dropdown(options=choices, value=geometry, description="zone",
                               layout=widgets.Layout(width="auto"))
    order_dd = widgets.Dropdown(options=list(range(max_page_order + 1)), value=0, description="order",
                                layout=widgets.Layout(width="150px"))
    alloc_btn = widgets.Button(description="alloc_pages", button_style="primary", layout=widgets.Layout(width="auto"))
    free_dd = widgets.Dropdown(options=[], description="block", layout=widgets.Layout(width="200px"))
    free_btn = widgets.Button(description="__free_pages", button_style="success", layout=widgets.Layout(width="auto"))
    back_btn = widgets.Button(description="undo last call", layout=widgets.Layout(width="auto"))
    reset_btn = widgets.Button(description="reset", layout=widgets.Layout(width="auto"))
    step = widgets.IntSlider(value=0, min=0, max=0, description="step", continuous_update=False,
                             layout=widgets.Layout(width="auto", flex="1 1 240px"))
    play = widgets.Play(value=0, min=0, max=0, interval=900, show_repeat=False)
    widgets.jslink((play, "value"), (step, "value"))
    msg = widgets.HTML()
    rows = [[zone_dd, reset_btn, back_btn], [order_dd, alloc_btn, free_dd, free_btn], [play, "step"], [msg]]
    controls = {"zone": zone_dd, "step": step}

    if static:
        lasts = [len(_recorded(*g)[1]) - 1 for _, g in choices]
        first = _recorded(*geometry)
        k = len(script)
        prefix = tuple(tuple(x) for x in script) == recorded_script(max_page_order)[:k]
        start = sum(len(op.events) for op in first[0].ops[:k]) if prefix else lasts[0]
        i0 = [g for _, g in choices].index(geometry)
        step.max = play.max = lasts[i0]
        step.value = play.value = start
        return explorer(controls, [Part(recorded_frame_html, ("zone", "step"))], layout=rows,
                        static_values={"step": list(range(max(lasts) + 1))},
                        bounds=[Bound("zone", (step, play), lasts)],
                        live_only=[order_dd, alloc_btn, free_dd, free_btn, back_btn, reset_btn])

    def live_frame(step):
        fr = state["stepper"].frames()
        return frame_html(state["stepper"], fr, min(step, len(fr) - 1))

    box = explorer(controls, [Part(live_frame, ("step",))], layout=rows, manual=True)

    def render(*_):
        if not state["busy"]:
            box.kmem_refresh()

    def refresh():
        """Bring every control in line with the stepper, then draw once (at the last step)."""
        st = state["stepper"]
        state["busy"] = True
        try:
            live = st.live()
            keep = free_dd.value
            free_dd.options = [(f"{n}: PFN {p}, o{o}", n) for n, (p, o) in live.items()]
            if live:        # ipywidgets 8 leaves the selection empty when options change
                free_dd.value = keep if keep in live else next(iter(live))
            order_dd.options = list(range(st.max_page_order + 1))
            last = len(st.frames()) - 1
            step.max = play.max = last
            play.value = step.value = last
        finally:
            state["busy"] = False
        box.kmem_refresh()

    def on_alloc(_):
        pfn = state["stepper"].alloc(order_dd.value)
        msg.value = ("" if pfn is not None
                     else f"<b>alloc_pages(order {order_dd.value}) returned NULL</b>: no free block large enough")
        refresh()

    def on_free(_):
        if free_dd.value is None:
            msg.value = "<b>nothing to free</b>"
            return
        state["stepper"].free(free_dd.value)
        msg.value = ""
        refresh()

    def on_back(_):
        msg.value = "" if state["stepper"].back() else "<b>nothing to undo</b>"
        refresh()

    def on_reset(_):
        state["stepper"].reset()
        msg.value = ""
        refresh()

    def on_zone(change):
        n, mo = change["new"]
        state["stepper"] = BuddyStepper(n, mo)
        msg.value = ""
        refresh()

    alloc_btn.on_click(on_alloc)
    free_btn.on_click(on_free)
    back_btn.on_click(on_back)
    reset_btn.on_click(on_reset)
    zone_dd.observe(on_zone, names="value")
    step.observe(render, names="value")
    refresh()
    return box


__all__ = ["ZONE_CHOICES", "call_log", "recorded_script", "frame_svg", "frame_html", "recorded_frame_html", "buddy_widget"]
