"""Figures of Part II: kmalloc waste (the sawtooth and its zoom), the module loop, one slab's slots.

Every function builds a new :class:`matplotlib.figure.Figure` (no pyplot state, nothing shown) from
the data functions of :mod:`kmemlib.lessons.kmalloc_waste` and :mod:`kmemlib.lessons.module_loop`.
"""

from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from ...mm import kmalloc as _km
from ..kmalloc_waste import SlotView, class_thresholds, size_classes, waste_curve, waste_pct
from ..module_loop import LoopRow

_SLAB_BG = "#e8f1fb"
_PAGE_BG = "#fdf0e6"
_LINE = "#1f5fa8"
_WASTE = "#e07b39"
_REQ = "#4c8bd6"


def human_bytes(n: float) -> str:
    """``8``, ``96``, ``4K``, ``2M`` style labels (powers of 1024, no decimals unless needed)."""
    for unit, shift in (("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{int(n) >> shift}{unit}"
    return f"{int(n)}" if float(n).is_integer() else f"{n:g}"


def _ylabel(basis: str) -> str:
    return "waste (% of allocated bytes)" if basis == "allocation" else "waste (% of requested bytes)"


def plot_sawtooth(lo: int = 1, hi: int = _km.KMALLOC_MAX_SIZE, basis: str = "allocation", *,
                  per_class: int = 40, mark_peaks: bool = True, figsize: tuple[float, float] = (8, 4.4)) -> Figure:
    """Waste % against request size on a log-2 x axis: the kmalloc caches below
    ``KMALLOC_MAX_CACHE_SIZE``, the page allocator above it, up to ``KMALLOC_MAX_SIZE``."""
    sizes, pct = waste_curve(lo, hi, basis, per_class=per_class)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    split = _km.KMALLOC_MAX_CACHE_SIZE
    ax.axvspan(lo, min(split, hi), color=_SLAB_BG, zorder=0)
    if hi > split:
        ax.axvspan(split, hi, color=_PAGE_BG, zorder=0)
    ax.plot(sizes, pct, color=_LINE, lw=1.4, zorder=3)
    ax.fill_between(sizes, pct, color=_LINE, alpha=0.12, zorder=2)
    if mark_peaks:
        peaks = [t + 1 for t in class_thresholds(hi) if lo <= t + 1 <= hi]
        peak_pct = [waste_pct(_km.kmalloc_plan(p), basis) for p in peaks]
        ax.plot(peaks, peak_pct, "o", ms=3.5, color=_WASTE, zorder=4, label="first byte of a class (tooth top)")
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo, hi * 1.15)
    ticks = [t for t in (1, 8, 64, 512, 4096, 32768, 1 << 18, 1 << 21, 1 << 22) if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: human_bytes(v)))
    top = max(pct) if pct else 100
    ax.set_ylim(0, top * 1.12 if basis == "request" else 100)
    if lo < split <= hi:
        ax.axvline(split, color="black", lw=1.2, ls="--", zorder=5)
        ax.annotate(f"KMALLOC_MAX_CACHE_SIZE = {human_bytes(split)}\nslab caches | page allocator",
                    xy=(split, ax.get_ylim()[1] * 0.97), xytext=(4, 0), textcoords="offset points",
                    ha="left", va="top", fontsize=9)
    if hi >= _km.KMALLOC_MAX_SIZE:
        ax.axvline(_km.KMALLOC_MAX_SIZE, color="#b22222", lw=1.2, zorder=5)
        ax.annotate("KMALLOC_MAX_SIZE:\nlarger → NULL", xy=(_km.KMALLOC_MAX_SIZE, ax.get_ylim()[1] * 0.78),
                    xytext=(-4, 0), textcoords="offset points", ha="right", va="top", fontsize=9,
                    color="#b22222")
    ax.set_xlabel("request size (bytes, log scale; K = 1024, M = 1024²)")
    ax.set_ylabel(_ylabel(basis))
    ax.set_title("kmalloc(): bytes handed out but not requested, 1 B to KMALLOC_MAX_SIZE")
    ax.grid(axis="y", alpha=0.4)
    if mark_peaks:
        ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
    return fig


def plot_small_zoom(lo: int = 1, hi: int = 256, basis: str = "allocation", *, coarse_step: int | None = 32,
                    figsize: tuple[float, float] = (8, 4.4)) -> Figure:
    """Every request from ``lo`` to ``hi`` bytes (linear axis), the caches named at their boundaries,
    and what a sweep in steps of ``coarse_step`` bytes would sample (it misses the teeth)."""
    sizes, pct = waste_curve(lo, hi, basis, every_byte=True)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.vlines(sizes, 0, pct, color=_LINE, lw=1.0, alpha=0.85, label="every request size")
    for c in size_classes(include_large=False):
        if lo <= c.hi <= hi:
            ax.axvline(c.hi + 0.5, color="grey", lw=0.7, ls=":")
            ax.text(c.hi + 0.5, 1.01, c.name, rotation=90, ha="center", va="bottom",
                    fontsize=9, transform=ax.get_xaxis_transform())
    if coarse_step:
        coarse = [s for s in range(coarse_step, hi + 1, coarse_step) if s >= lo]
        if coarse:
            idx = {s: i for i, s in enumerate(sizes)}
            ax.plot(coarse, [pct[idx[s]] for s in coarse], "X", color=_WASTE, ms=7, zorder=5,
                    label=f"a sweep in steps of {coarse_step} B sees only these")
    ax.set_xlim(lo - 1, hi + 2)
    ax.set_ylim(0, 100 if basis == "allocation" else max(pct) * 1.1)
    ax.set_xlabel("request size (bytes)")
    ax.set_ylabel(_ylabel(basis))
    ax.set_title(f"Zoom: every request from {lo} to {hi} bytes; the dotted lines end each cache's range", pad=72)
    ax.legend(loc="upper right", fontsize=9, framealpha=0.95)
    ax.grid(axis="y", alpha=0.4)
    return fig


def plot_module_loop(rows: Sequence[LoopRow], *, curve: bool = True, figsize: tuple[float, float] = (8, 6)) -> Figure:
    """The module loop's rows: request and ``ksize`` per call (top) and waste % (bottom), with the
    continuous waste curve behind the samples, ``ZERO_SIZE_PTR`` and the NULL row marked."""
    fig = Figure(figsize=figsize, layout="constrained")
    top, bot = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    mib = float(1 << 20)
    objs = [r for r in rows if r.result == "object"]
    step = (rows[1].request - rows[0].request) if len(rows) > 1 else 1 << 20
    width = max(step / mib * 0.7, 0.004)
    xs = [r.request / mib for r in objs]
    top.bar(xs, [r.request / mib for r in objs], width=width, color=_REQ, label="request")
    top.bar(xs, [r.wastage / mib for r in objs], width=width, bottom=[r.request / mib for r in objs],
            color=_WASTE, label="wastage (ksize − request)")
    for k in range(_km.KMALLOC_MAX_ORDER + 1):
        level = (4096 << k) / mib
        if level >= 0.2:
            top.axhline(level, color="grey", lw=0.6, ls=":")
            top.text(1.005, level, f"order {k}", transform=top.get_yaxis_transform(), fontsize=9,
                     va="center", ha="left", color="dimgray")
    for r in rows:
        if r.result == "ZERO_SIZE_PTR":
            # above the first, short bars (and below the legend), the arrow down to x = 0
            top.annotate("kmalloc(0) →\nZERO_SIZE_PTR", xy=(r.request / mib, 0), xytext=(1, 78),
                         textcoords="offset points", ha="left", fontsize=9,
                         arrowprops=dict(arrowstyle="->", lw=0.8))
        elif r.result == "NULL":
            for ax in (top, bot):
                ax.plot([r.request / mib], [0], "X", color="#b22222", ms=9, zorder=6, clip_on=False)
            # in the lower panel's empty upper right corner (the top panel's bars fill theirs)
            bot.annotate(f"kmalloc({r.request}) → NULL", xy=(r.request / mib, 0), xytext=(-10, 118),
                         textcoords="offset points", ha="right", va="top", fontsize=9, color="#b22222",
                         arrowprops=dict(arrowstyle="->", lw=0.8, color="#b22222"))
    for ax in (top, bot):
        ax.axvline(_km.KMALLOC_MAX_SIZE / mib, color="#b22222", lw=1.0, ls="--")
    top.text(_km.KMALLOC_MAX_SIZE / mib, 1.0, " KMALLOC_MAX_SIZE", color="#b22222", fontsize=9,
             transform=top.get_xaxis_transform(), va="bottom", ha="center")
    top.set_ylabel("MiB")
    top.set_title("kmalloc_sweep: every call's request and what ksize() reports", pad=14)
    top.legend(loc="upper left", fontsize=9, bbox_to_anchor=(0.0, 0.92))
    if curve and rows:
        hi = min(max(r.request for r in rows), _km.KMALLOC_MAX_SIZE)
        lo = max(1, min(r.request for r in rows))
        if lo < hi:
            cs, cp = waste_curve(lo, hi, "allocation", per_class=2)
            bot.plot([c / mib for c in cs], cp, color=_LINE, lw=0.9, alpha=0.5, label="every request size")
    bot.plot(xs, [r.waste_pct for r in objs], "o", color=_WASTE, ms=5, zorder=5, label="the loop's calls")
    bot.set_ylim(0, 60)
    bot.set_ylabel("waste (% of ksize)")
    bot.set_xlabel("request (MiB)")
    bot.legend(loc="upper left", fontsize=9, ncols=2)
    bot.grid(axis="y", alpha=0.4)
    return fig


def plot_slab_slots(slots: Sequence[SlotView], *, title: str = "", head: int | None = None,
                    figsize: tuple[float, float] = (8, 3.2)) -> Figure:
    """One slab drawn slot by slot: used slots with the requested bytes and the rounding waste, free
    slots with their free pointer, and the free list as arrows from each free slot to the next."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    n = len(slots)
    for v in slots:
        x = v.index
        if v.used:
            frac = (v.requested or 0) / v.size
            ax.add_patch(Rectangle((x, 0), frac, 1, color=_REQ, lw=0))
            ax.add_patch(Rectangle((x + frac, 0), 1 - frac, 1, color=_WASTE, lw=0))
        else:
            ax.add_patch(Rectangle((x, 0), 1, 1, facecolor="white", edgecolor="none"))
            fp = (v.freeptr_offset or 0) / v.size
            ax.add_patch(Rectangle((x + fp, 0.35), 8 / v.size, 0.3, color="black", lw=0))
        ax.add_patch(Rectangle((x, 0), 1, 1, fill=False, edgecolor="dimgray", lw=0.6))
    free = [v for v in slots if not v.used]
    for v in free:
        if v.next_free is not None:
            dist = abs(v.next_free - v.index)
            arm = 6 if dist == 1 else 14 + min(dist, 20)
            ax.add_patch(FancyArrowPatch((v.index + 0.5, 1.0), (v.next_free + 0.5, 1.0),
                                         connectionstyle=f"arc,angleA=90,angleB=90,armA={arm},armB={arm},rad=2",
                                         arrowstyle="-|>", mutation_scale=7, lw=0.7, color="dimgray"))
    if head is not None:
        ax.annotate("next object\n(freelist head)", xy=(head + 0.5, 0), xytext=(head + 0.5, -0.75),
                    ha="center", va="top", fontsize=9, arrowprops=dict(arrowstyle="->", lw=0.8))
    ax.set_xlim(-0.3, n + 0.3)
    ax.set_ylim(-1.6, 2.6)
    ax.set_yticks([])
    ax.set_xticks(range(0, n + 1, max(1, n // 8)))
    ax.set_xlabel(f"slot index (each slot {slots[0].size if slots else 0} bytes)")
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    handles = [Rectangle((0, 0), 1, 1, color=_REQ), Rectangle((0, 0), 1, 1, color=_WASTE),
               Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="dimgray"),
               Rectangle((0, 0), 1, 1, color="black")]
    ax.legend(handles, ["requested", "rounding waste", "free slot", "free pointer"], loc="lower right",
              ncols=2, fontsize=9, frameon=False)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


__all__ = ["human_bytes", "plot_sawtooth", "plot_small_zoom", "plot_module_loop", "plot_slab_slots"]
