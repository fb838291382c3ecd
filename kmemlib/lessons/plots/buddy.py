"""Step-through data and figures for the buddy allocator chapter (Part I, chapter 3).

Everything is computed by replaying the :class:`kmemlib.mm.page_alloc.Event` log of a real
:class:`kmemlib.mm.page_alloc.Zone` onto a copy of the zone (:meth:`Zone.restore` + :meth:`Zone.apply`), so
every frame is an exact intermediate state of ``__rmqueue_smallest``/``expand()`` or
``__free_one_page()`` (mm/page_alloc.c, Linux 6.12):

* :class:`BuddyStepper` — a small zone plus a history of named allocations and frees, with undo;
  :meth:`BuddyStepper.frames` gives one :class:`Frame` per event.
* :func:`frames_from_events` — the replay itself (usable on any zone's log).
* :func:`describe_event` — one sentence per event, naming the kernel function.
* :func:`draw_frame` / :func:`frame_figure` / :func:`frames_figure` — a zone as a bar of PFNs (free
  blocks coloured by order, allocations grey with their name, the block in flight hatched) above its
  free lists and its /proc/buddyinfo line.
* :func:`buddy_animation` — the frames as a ``FuncAnimation`` (``to_jshtml()`` plays offline).

Requests use ``GFP_HIGHUSER_MOVABLE`` and every pageblock is MOVABLE, so only one migrate type's
lists are involved (fallbacks between migrate types are left to a later chapter).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from matplotlib import colormaps
from matplotlib.animation import FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...errors import BadFreeError, InvalidOrderError, InvalidSizeError
from ...mm import gfp as _gfp
from ...mm.page_alloc import MIGRATE_MOVABLE, MIGRATE_TYPES, Event, Zone, ZoneState
from ...readers.procfs import buddyinfo_text

MOVABLE_GFP = _gfp.GFP_HIGHUSER_MOVABLE
"""The GFP flags of every request made by :class:`BuddyStepper` (MIGRATE_MOVABLE)."""

DEMO_SCRIPT: tuple[tuple, ...] = (
    ("alloc", 2), ("alloc", 0), ("alloc", 3), ("alloc", 1),
    ("free", "A"), ("free", "B"), ("free", "D"), ("free", "C"),
)
"""The chapter's sequence: four allocations that split the first order-5 block, then four frees;
freeing D and then C coalesces everything back (on a 64-page zone with max order 5)."""


def block_name(i: int) -> str:
    """Name of the ``i``-th successful allocation: A..Z, then A1..Z1, ..."""
    q, r = divmod(i, 26)
    return chr(ord("A") + r) + (str(q) if q else "")


@dataclass(frozen=True)
class Frame:
    """One picture of the zone: the state after ``event`` (None for the starting state).

    ``in_flight`` is the block the current operation holds that is on no free list and not yet
    handed out (being split, or being merged), as ``(pfn, order)``.
    """

    index: int
    op: int                                   # 0 = start, then 1, 2, ... per alloc/free call
    event: Event | None
    caption: str
    free_blocks: tuple[tuple[int, int], ...]  # (pfn, order), by PFN
    allocated: tuple[tuple[int, int, str], ...]  # (pfn, order, name), by PFN
    free_lists: tuple[tuple[int, ...], ...]   # per order, head first (all migrate types)
    nr_free: tuple[int, ...]                  # /proc/buddyinfo row
    in_flight: tuple[int, int] | None
    start_pfn: int
    nr_pages: int
    max_page_order: int
    buddyinfo: str


def describe_event(ev: Event, zone: Zone, names: dict[int, str] | None = None,
                   in_flight: tuple[int, int] | None = None) -> str:
    """One sentence for ``ev``, evaluated on ``zone`` in the state *before* ``ev`` is applied."""
    names = names or {}
    k, pfn, o = ev.kind, ev.pfn, ev.order
    if k == "alloc":
        return f"alloc_pages(GFP_HIGHUSER_MOVABLE, order {o}): needs {1 << o} page(s)"
    if k == "take":
        lst = "the head of" if zone.free_list(ev.migratetype, o)[:1] == [pfn] else "within"
        return (f"__rmqueue_smallest: smallest non-empty list is free_list[{o}]; "
                f"take block {pfn} (order {o}) from {lst} it")
    if k == "split":
        lo = pfn - (1 << o)
        return (f"expand: split order {o + 1} block {lo} in two; upper half {pfn} (order {o}) "
                f"goes to the head of free_list[{o}], keep {lo}")
    if k == "allocated":
        who = names.get(pfn, "")
        return f"caller gets PFN {pfn}..{pfn + (1 << o) - 1} (order {o}){' = ' + who if who else ''}"
    if k == "fail":
        return f"no free block of order >= {o}: alloc_pages returns NULL"
    if k == "free":
        who = names.get(pfn, "")
        return f"__free_pages({who + ' = ' if who else ''}PFN {pfn}, order {o})"
    if k == "merge":
        cur = in_flight[0] if in_flight else pfn ^ (1 << o)
        return (f"__free_one_page: buddy of {cur} at order {o} is {cur} ^ {1 << o} = {pfn}, free at "
                f"order {o}: unlink it and merge into block {cur & pfn} (order {o + 1})")
    if k == "give":
        if o >= zone.max_page_order:
            why = f"order {o} = max_page_order, no further merging"
        else:
            b = pfn ^ (1 << o)
            if not zone.start_pfn <= b < zone.end_pfn:
                why = f"buddy {b} is outside the zone"
            elif zone.buddy_order(b) is not None:
                why = f"buddy {b} is free but at order {zone.buddy_order(b)}, not {o}"
            elif zone.is_free(b):
                why = f"buddy {b} lies inside a larger free block"
            else:
                why = f"buddy {b} (= {pfn} ^ {1 << o}) is not a free order-{o} block"
        where = "tail" if ev.to_tail else "head"
        return f"{why}; put block {pfn} (order {o}) at the {where} of free_list[{o}]"
    if k == "pageblock":
        return f"pageblock {pfn} changes migrate type {ev.from_migratetype} -> {ev.migratetype}"
    if k == "move":
        return f"free block {pfn} (order {o}) moves to migrate type {ev.migratetype}"
    return k


def _state_frame(zone: Zone, index: int, op: int, ev: Event | None, caption: str,
                 names: dict[int, str], in_flight: tuple[int, int] | None) -> Frame:
    no = zone.nr_page_orders
    lists = tuple(tuple(p for mt in range(MIGRATE_TYPES) for p in zone.free_list(mt, o)) for o in range(no))
    return Frame(index=index, op=op, event=ev, caption=caption,
                 free_blocks=tuple((p, o) for p, o, _ in zone.free_blocks()),
                 allocated=tuple((p, o, names.get(p, "?")) for p, o in zone.allocated_blocks()),
                 free_lists=lists, nr_free=tuple(zone.nr_free()), in_flight=in_flight,
                 start_pfn=zone.start_pfn, nr_pages=zone.nr_pages, max_page_order=zone.max_page_order,
                 buddyinfo=buddyinfo_text([zone]).rstrip("\n"))


def _replica(zone: Zone) -> Zone:
    return Zone(zone.nr_pages, start_pfn=zone.start_pfn, name=zone.name, node=zone.node,
                max_page_order=zone.max_page_order, pageblock_order=zone.pageblock_order,
                page_shift=zone.page_shift, populate=False, log_events=False)


def frames_from_events(zone: Zone, start: ZoneState, events: list[Event],
                       names: dict[int, str] | None = None, start_caption: str = "start") -> list[Frame]:
    """Replay ``events`` from ``start`` on a copy of ``zone``'s geometry: one :class:`Frame` for the
    start plus one per event. ``names`` maps allocated PFNs to labels (``"A"``, ``"B"``, ...)."""
    names = dict(names or {})
    z = _replica(zone)
    z.restore(start)
    frames = [_state_frame(z, 0, 0, None, start_caption, names, None)]
    in_flight: tuple[int, int] | None = None
    for i, ev in enumerate(events, 1):
        caption = describe_event(ev, z, names, in_flight)
        z.apply(ev)
        k = ev.kind
        if k == "take":
            in_flight = (ev.pfn, ev.order)
        elif k == "split" and in_flight is not None:
            in_flight = (in_flight[0], ev.order)
        elif k == "free":
            in_flight = (ev.pfn, ev.order)
        elif k == "merge" and in_flight is not None:
            in_flight = (in_flight[0] & ev.pfn, ev.order + 1)
        elif k in ("allocated", "give", "fail"):
            in_flight = None
        frames.append(_state_frame(z, i, ev.op, ev, caption, names, in_flight))
    return frames


@dataclass
class _Op:
    kind: str          # "alloc" / "free"
    order: int
    name: str          # allocation name (for free: the name freed)
    pfn: int | None    # result of alloc (None on failure) or PFN freed
    before: ZoneState
    events: list[Event] = field(default_factory=list)


class BuddyStepper:
    """A small zone that the reader allocates from and frees to, with names and undo.

    ``alloc(order)`` calls :meth:`Zone.alloc_pages` with ``GFP_HIGHUSER_MOVABLE`` and names the
    block ``A``, ``B``, ... (a failed request consumes no name); ``free(name)`` calls
    :meth:`Zone.free_pages`; ``back()`` undoes the last call. ``pageblock_order`` is set to
    ``max_page_order`` so the whole toy zone behaves like one pageblock range of one type.
    Real x86-64 zones use ``MAX_PAGE_ORDER`` 10 and pageblock order 9.
    """

    def __init__(self, nr_pages: int = 64, max_page_order: int = 5, *, start_pfn: int = 0) -> None:
        if not isinstance(nr_pages, int) or not 1 <= nr_pages <= 4096:
            raise InvalidSizeError(f"BuddyStepper zones have 1..4096 pages, got {nr_pages!r}")
        self.zone = Zone(nr_pages, start_pfn=start_pfn, max_page_order=max_page_order,
                         pageblock_order=max_page_order, log_events=True)
        self.initial = self.zone.snapshot()
        self._base_events = len(self.zone.events)
        self.ops: list[_Op] = []

    # -- queries
    @property
    def max_page_order(self) -> int:
        return self.zone.max_page_order

    def _name_gen_state(self) -> int:
        return sum(1 for op in self.ops if op.kind == "alloc" and op.pfn is not None)

    def names(self) -> dict[int, str]:
        """PFN -> name of every allocation made so far (live or freed, latest wins)."""
        out = {}
        for op in self.ops:
            if op.kind == "alloc" and op.pfn is not None:
                out[op.pfn] = op.name
        return out

    def live(self) -> dict[str, tuple[int, int]]:
        """Live allocations: name -> (pfn, order), in allocation order."""
        out: dict[str, tuple[int, int]] = {}
        for op in self.ops:
            if op.kind == "alloc" and op.pfn is not None:
                out[op.name] = (op.pfn, op.order)
            elif op.kind == "free":
                out.pop(op.name, None)
        return out

    def events(self) -> list[Event]:
        """Events of every call so far (boot events excluded)."""
        return [e for op in self.ops for e in op.events]

    # -- actions
    def alloc(self, order: int) -> int | None:
        """``alloc_pages(GFP_HIGHUSER_MOVABLE, order)``; returns the PFN or None (out of memory)."""
        if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= self.max_page_order:
            raise InvalidOrderError(f"order {order!r} outside 0..{self.max_page_order}")
        before = self.zone.snapshot()
        n0 = self.zone.events.mark()        # absolute: right even when the bounded log drops old events
        pfn = self.zone.alloc_pages(order, MOVABLE_GFP)
        name = block_name(self._name_gen_state()) if pfn is not None else ""
        self.ops.append(_Op("alloc", order, name, pfn, before, self.zone.events.since(n0)))
        return pfn

    def free(self, name: str) -> None:
        """``__free_pages()`` of the live allocation called ``name``."""
        live = self.live()
        if name not in live:
            raise BadFreeError(f"no live allocation named {name!r} (live: {', '.join(live) or 'none'})")
        pfn, order = live[name]
        before = self.zone.snapshot()
        n0 = self.zone.events.mark()
        self.zone.free_pages(pfn, order)
        self.ops.append(_Op("free", order, name, pfn, before, self.zone.events.since(n0)))

    def back(self) -> bool:
        """Undo the last call; False when there is nothing to undo."""
        if not self.ops:
            return False
        op = self.ops.pop()
        self.zone.restore(op.before)
        del self.zone.events[len(self.zone.events) - len(op.events):]
        return True

    def reset(self) -> None:
        """Undo every call."""
        while self.back():
            pass

    def run(self, script: tuple | list) -> None:
        """Apply ``("alloc", order)`` / ``("free", name)`` steps in order."""
        for step in script:
            if step[0] == "alloc":
                self.alloc(step[1])
            elif step[0] == "free":
                self.free(step[1])
            else:
                raise InvalidSizeError(f"unknown script step {step!r}")

    # -- frames
    def frames(self) -> list[Frame]:
        """The starting state plus one frame per event of every call so far."""
        cap = (f"{self.zone.nr_pages} free pages: boot released them as the largest aligned blocks "
               f"(order <= {self.max_page_order})")
        return frames_from_events(self.zone, self.initial, self.events(), self.names(), cap)

    def op_frames(self) -> list[int]:
        """Index (into :meth:`frames`) of the last frame of every call: the state after it."""
        out, i = [], 0
        for op in self.ops:
            i += len(op.events)
            out.append(i)
        return out


# ---------------------------------------------------------------------- drawing
def order_colors(max_page_order: int) -> list:
    """One colour per order 0..max_page_order (small orders light, large orders dark)."""
    cmap = colormaps["viridis_r"]
    return [cmap(0.12 + 0.8 * o / max(1, max_page_order)) for o in range(max_page_order + 1)]


def _draw_bar(ax, frame: Frame, *, highlight: bool = True) -> None:
    """The zone as a bar of PFNs: free blocks coloured by order, allocations grey with their name."""
    colors = order_colors(frame.max_page_order)
    s, n = frame.start_pfn, frame.nr_pages
    min_label = 1 if n <= 32 else 2
    for p, o in frame.free_blocks:
        ax.add_patch(Rectangle((p, 0), 1 << o, 1, facecolor=colors[o], edgecolor="k", lw=1))
        if (1 << o) >= min_label:
            ax.text(p + (1 << o) / 2, 0.5, f"o{o}", ha="center", va="center", fontsize=10,
                    color="white" if o > frame.max_page_order / 2 else "black")
    for p, o, name in frame.allocated:
        ax.add_patch(Rectangle((p, 0), 1 << o, 1, facecolor="0.55", edgecolor="k", lw=1))
        ax.text(p + (1 << o) / 2, 0.5, name, ha="center", va="center", fontsize=11, color="white",
                weight="bold")
    if frame.in_flight is not None:
        p, o = frame.in_flight
        ax.add_patch(Rectangle((p, 0), 1 << o, 1, facecolor="#ffd27f", edgecolor="k", lw=1, hatch="//"))
    ev = frame.event
    if highlight and ev is not None and ev.pfn >= 0:
        ax.add_patch(Rectangle((ev.pfn, -0.04), 1 << ev.order, 1.08, fill=False, edgecolor="red", lw=2.5))
    if getattr(ax, "_kmem_geometry", None) != (s, n):
        ax.set_xlim(s, s + n)
        ax.set_ylim(-0.1, 1.1)
        ax.set_yticks([])
        step = max(1, n // 16)
        step = 1 << (step.bit_length() - 1)
        ax.set_xticks(range(s, s + n + 1, step))
        ax.tick_params(axis="x", labelsize=9)
        ax._kmem_geometry = (s, n)


def _wipe(ax) -> None:
    """Remove the patches and texts a previous frame drew, keeping the axes' set-up (fast redraw)."""
    for artist in list(ax.patches) + list(ax.texts):
        artist.remove()


def draw_frame(frame: Frame, ax_bar, ax_lists, *, show_caption: bool = True) -> None:
    """Draw ``frame`` on two axes: the PFN bar and the free lists (both are cleared first)."""
    _wipe(ax_bar)
    _wipe(ax_lists)
    colors = order_colors(frame.max_page_order)
    _draw_bar(ax_bar, frame)
    ax_bar.set_xlabel("PFN (4 KiB pages). oN = free block of order N, grey = allocated,\n"
                      "hatched = block in flight, red frame = block of this step", fontsize=9)
    title = f"step {frame.index}" + (f" (call {frame.op})" if frame.op else "")
    text = title + (": " + frame.caption if show_caption else "")
    ax_bar.set_title(textwrap.fill(text, 92, subsequent_indent="    "), fontsize=10, loc="left")
    # free lists, one row per order, head first
    mo = frame.max_page_order
    for o in range(mo + 1):
        y = mo - o
        ax_lists.text(-0.2, y, f"free_list[{o}] ({1 << o:>2} pg)", ha="right", va="center", fontsize=10,
                      family="monospace")
        for j, p in enumerate(frame.free_lists[o][:10]):
            ax_lists.add_patch(Rectangle((j * 1.25, y - 0.35), 1.0, 0.7, facecolor=colors[o], edgecolor="k"))
            ax_lists.text(j * 1.25 + 0.5, y, str(p), ha="center", va="center", fontsize=10,
                          color="white" if o > mo / 2 else "black")
            if j:
                ax_lists.text(j * 1.25 - 0.125, y, "→", ha="center", va="center", fontsize=9)
        if len(frame.free_lists[o]) > 10:
            ax_lists.text(10 * 1.25, y, f"... +{len(frame.free_lists[o]) - 10}", va="center", fontsize=9)
    ax_lists.set_xlim(-4.6, 13)
    ax_lists.set_ylim(-1.3, mo + 0.6)
    ax_lists.axis("off")
    ax_lists.text(-4.5, -1.0, "/proc/buddyinfo: " + " ".join(frame.buddyinfo.split()[4:]) +
                  "   (free blocks per order 0.." + str(mo) + ")", fontsize=10, family="monospace",
                  va="center")


class _QuietCanvas(FigureCanvasAgg):
    """Agg canvas whose ``draw_idle`` does nothing: ``FuncAnimation`` would otherwise render every
    frame once more than the writer needs."""

    def draw_idle(self, *args, **kwargs) -> None:  # noqa: D102
        pass


def _figure(max_page_order: int, width: float = 7.0, dpi: int = 100,
            quiet: bool = False) -> tuple[Figure, object, object]:
    fig = Figure(figsize=(width, 2.2 + 0.25 * (max_page_order + 2)), dpi=dpi, layout="constrained")
    (_QuietCanvas if quiet else FigureCanvasAgg)(fig)
    ax_bar, ax_lists = fig.subplots(2, 1, height_ratios=[1.1, 0.3 * (max_page_order + 2)])
    return fig, ax_bar, ax_lists


def frame_figure(frame: Frame) -> Figure:
    """A Figure of one :class:`Frame` (PFN bar above, free lists and buddyinfo below)."""
    fig, a, b = _figure(frame.max_page_order)
    draw_frame(frame, a, b)
    return fig


def frames_figure(frames: list[Frame], indices: list[int], titles: list[str] | None = None) -> Figure:
    """Several frames' PFN bars stacked (no free lists), for a static before/after comparison."""
    if not indices:
        raise InvalidSizeError("frames_figure needs at least one index")
    fig = Figure(figsize=(7, 0.95 * len(indices) + 0.8), layout="constrained")
    axes = fig.subplots(len(indices), 1, squeeze=False)[:, 0]
    for k, (ax, i) in enumerate(zip(axes, indices)):
        f = frames[i]
        _draw_bar(ax, f, highlight=False)
        t = titles[k] if titles else f"after step {f.index}"
        ax.set_title(f"{t} — buddyinfo: {' '.join(f.buddyinfo.split()[4:])}", fontsize=9, loc="left")
    axes[-1].set_xlabel("PFN (grey = allocated, coloured = free block of order oN)")
    return fig


def buddy_animation(frames: list[Frame], *, interval: int = 1200, dpi: int = 100) -> FuncAnimation:
    """A ``FuncAnimation`` with one frame per :class:`Frame`; render with ``.to_jshtml()``.

    ``dpi`` sets the resolution of the embedded PNG frames (it bounds the page size and build time)."""
    if not frames:
        raise InvalidSizeError("buddy_animation needs at least one frame")
    fig, a, b = _figure(frames[0].max_page_order, dpi=dpi, quiet=True)
    # lay the figure out once (constrained layout) on the widest caption, then freeze the layout
    draw_frame(max(frames, key=lambda f: len(f.caption)), a, b)
    fig.canvas.draw()
    fig.set_layout_engine("none")

    def update(i: int):
        draw_frame(frames[i], a, b)
        return []

    anim = FuncAnimation(fig, update, frames=len(frames), init_func=lambda: [], interval=interval,
                         blit=False, repeat=False)
    anim._kmem_fig = fig  # keep the figure reachable for callers that want to close it
    return anim


def event_table(frames: list[Frame]) -> list[dict]:
    """One row per frame: step, call, event kind, PFN, order, sentence, buddyinfo counts."""
    return [{"step": f.index, "call": f.op, "event": f.event.kind if f.event else "start",
             "pfn": f.event.pfn if f.event else None, "order": f.event.order if f.event else None,
             "what happens": f.caption, "nr_free": list(f.nr_free)} for f in frames]


__all__ = ["MOVABLE_GFP", "DEMO_SCRIPT", "Frame", "describe_event", "frames_from_events", "BuddyStepper",
           "order_colors", "block_name", "draw_frame", "frame_figure", "frames_figure", "buddy_animation", "event_table",
           "MIGRATE_MOVABLE"]
