"""Step-through widget for Part I, chapter 3: allocate and free on a small buddy zone.

Thin layer over :class:`kmemlib.lessons.plots.buddy.BuddyStepper` (the allocator calls, names and undo) and
:func:`kmemlib.lessons.plots.buddy.frame_figure` (the picture); the tests drive the stepper directly.
Controls: zone geometry, ``alloc_pages(order)``, ``__free_pages(block)``, undo, reset, and a step
slider (with play button) that walks through every event of every call so far.
"""

from __future__ import annotations

import textwrap

import ipywidgets as widgets
from IPython.display import display

from ...mm.pages import MAX_PAGE_ORDER
from ..plots.buddy import BuddyStepper, Frame, frame_figure

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
    live = stepper.live()
    lines.append(textwrap.fill("live allocations: " + (", ".join(f"{n}=PFN {p} (order {o})"
                                                                   for n, (p, o) in live.items()) or "none"), 66))
    return "\n".join(lines)


def buddy_widget(nr_pages: int = 64, max_page_order: int = 5, script: tuple | list = ()) -> widgets.Widget:
    """The step-through widget; ``script`` (``("alloc", order)`` / ``("free", name)`` steps) is run
    first so that the page opens on an interesting state."""
    state = {"stepper": BuddyStepper(nr_pages, max_page_order)}
    state["stepper"].run(script)
    geometry = (nr_pages, max_page_order)
    choices = list(ZONE_CHOICES)
    if geometry not in [g for _, g in choices]:
        choices.insert(0, (f"{nr_pages} pages, max order {max_page_order}", geometry))
    zone_dd = widgets.Dropdown(options=choices, value=geometry, description="zone")
    order_dd = widgets.Dropdown(options=list(range(max_page_order + 1)), value=0, description="order",
                                layout=widgets.Layout(width="150px"))
    alloc_btn = widgets.Button(description="alloc_pages", button_style="primary")
    free_dd = widgets.Dropdown(options=[], description="block", layout=widgets.Layout(width="200px"))
    free_btn = widgets.Button(description="__free_pages", button_style="success")
    back_btn = widgets.Button(description="undo last call", icon="undo")
    reset_btn = widgets.Button(description="reset")
    step = widgets.IntSlider(value=0, min=0, max=0, description="step", continuous_update=False,
                             layout=widgets.Layout(width="70%"))
    play = widgets.Play(value=0, min=0, max=0, interval=900)
    widgets.jslink((play, "value"), (step, "value"))
    out = widgets.Output()
    msg = widgets.HTML()

    def frames() -> list[Frame]:
        return state["stepper"].frames()

    def render(*_):
        fr = frames()
        i = min(step.value, len(fr) - 1)
        out.clear_output(wait=True)
        with out:
            display(frame_figure(fr[i]))
            print(call_log(state["stepper"], fr, i))

    def refresh(to_end: bool = True):
        st = state["stepper"]
        fr = frames()
        live = st.live()
        keep = free_dd.value
        free_dd.options = [(f"{n}: PFN {p}, o{o}", n) for n, (p, o) in live.items()]
        if live:        # ipywidgets 8 leaves the selection empty when options change
            free_dd.value = keep if keep in live else next(iter(live))
        order_dd.options = list(range(st.max_page_order + 1))
        last = len(fr) - 1
        step.max = play.max = last
        if to_end:
            play.value = last           # jslink copies play -> step when a page loads
            if step.value == last:
                render()
            else:
                step.value = last       # triggers render

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
    return widgets.VBox([
        widgets.HBox([zone_dd, reset_btn, back_btn]),
        widgets.HBox([order_dd, alloc_btn, free_dd, free_btn]),
        widgets.HBox([play, step]),
        msg, out,
    ])


__all__ = ["ZONE_CHOICES", "call_log", "buddy_widget"]
