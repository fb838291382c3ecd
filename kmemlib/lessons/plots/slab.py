"""Figures for Part II: one slot's layout, one slab's layout, model vs live kernel, losses, API costs.

Every function returns a ``matplotlib.figure.Figure`` built from kmemlib data (the engine's
:meth:`kmemlib.mm.slub.CacheGeometry.regions`, :func:`kmemlib.readers.sysfs.compare_live`,
:func:`kmemlib.readers.slab_usage.live_usage`, :mod:`kmemlib.mm.vmalloc`); callers close it.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ...mm.slab_flags import slab_flag_names
from ...mm.slub import CacheGeometry

REGION_COLORS: dict[str, str] = {
    "left redzone": "#d62728",
    "object": "#4c72b0",
    "free pointer": "#ff7f0e",
    "right redzone": "#e377c2",
    "padding": "#c7c7c7",
    "alloc track": "#2ca02c",
    "free track": "#98df8a",
    "orig_size": "#9467bd",
    "metadata padding": "#f7b6d2",
}
"""Colour of each :class:`kmemlib.mm.slub.Region` kind."""
SLOT_COLORS = ("#4c72b0", "#7f9fcf")
LEFTOVER_COLOR = "#bbbbbb"


def _title(g: CacheGeometry) -> str:
    names = [n for n in slab_flag_names(g.flags).split("|") if n not in ("0", "__OBJECT_POISON")]
    flags = "|".join(n.replace("SLAB_", "") for n in names) or "no flags"
    return f"{g.name}: object_size {g.object_size}, align {g.align}, {flags}"


def draw_object_layout(ax, g: CacheGeometry) -> None:
    """Draw one slot of ``g`` on ``ax``: one bar per region, the in-object free pointer as a band
    over the object, byte offsets on the x axis."""
    regions = g.regions()
    for r in regions:
        color = REGION_COLORS.get(r.kind, "#999999")
        if r.overlaps_object:
            ax.add_patch(Rectangle((r.start, 0.05), r.length, 0.3, facecolor=color, edgecolor="black",
                                   hatch="//", lw=0.8, zorder=3))
            ax.annotate(f"free pointer\n(offset {g.offset}, inside the object)", (r.start + r.length / 2, 0.05),
                        xytext=(r.start + r.length / 2, -0.25), ha="center", va="top", fontsize=9,
                        arrowprops={"arrowstyle": "->", "lw": 0.8})
            continue
        ax.add_patch(Rectangle((r.start, 0), r.length, 1, facecolor=color, edgecolor="black", lw=0.8, zorder=2))
        if r.length >= 0.07 * g.size:
            label = ax.text(r.start + r.length / 2, 0.68, f"{r.kind}\n{r.length} B", ha="center", va="center",
                            fontsize=9, color="white" if r.kind in ("object", "left redzone") else "black",
                            zorder=4)
            label._kmem_region = (r.start, r.start + r.length)
    ax.set_xlim(0, g.size)
    ax.set_ylim(-1.3, 1.25)
    ax.set_yticks([])
    # a tick at every region boundary, but none closer than 6 % of the slot to the one before it
    ticks = []
    for t in sorted({0, *(r.start for r in regions if not r.overlaps_object)}):
        if not ticks or t - ticks[-1] >= 0.06 * g.size:
            ticks.append(t)
    if g.size - ticks[-1] < 0.06 * g.size and len(ticks) > 1:
        ticks.pop()
    ticks.append(g.size)
    ax.set_xticks(ticks)
    ax.tick_params(axis="x", labelsize=9)
    ax.set_xlabel("byte offset within one slot (slab_size = %d bytes)" % g.size)
    kinds = []
    for r in regions:
        if r.kind not in kinds:
            kinds.append(r.kind)
    ax.legend(handles=[Patch(facecolor=REGION_COLORS.get(k, "#999"), edgecolor="black",
                             hatch="//" if k == "free pointer" and not g.layout.freeptr_outside else None, label=k)
                       for k in kinds], loc="upper center", bbox_to_anchor=(0.5, 1.45), ncol=min(len(kinds), 5),
              fontsize=9, frameon=False)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)


def _drop_labels_wider_than_their_region(ax) -> None:
    """Remove the in-bar region labels that do not fit inside their region (the legend names it)."""
    renderer = ax.figure.canvas.get_renderer()
    for t in list(ax.texts):
        span = getattr(t, "_kmem_region", None)
        if span is None:
            continue
        x0, x1 = ax.transData.transform([(span[0], 0), (span[1], 0)])[:, 0]
        ext = t.get_window_extent(renderer)
        if ext.x0 < x0 - 1 or ext.x1 > x1 + 1:
            t.remove()


def draw_slab_layout(ax, g: CacheGeometry, max_slots: int = 128) -> None:
    """Draw one slab of ``g`` (``PAGE_SIZE << order`` bytes): alternating slots, leftover in grey,
    page boundaries as dotted lines. Above ``max_slots`` slots only the slots are shaded as a band."""
    total = g.slab_bytes
    if g.objects <= max_slots:
        for i in range(g.objects):
            ax.add_patch(Rectangle((i * g.size, 0), g.size, 1, facecolor=SLOT_COLORS[i % 2], edgecolor="white",
                                   lw=0.3))
    else:
        ax.add_patch(Rectangle((0, 0), g.objects * g.size, 1, facecolor=SLOT_COLORS[0], edgecolor="none"))
    used = g.objects * g.size
    if g.slab_waste:
        ax.add_patch(Rectangle((used, 0), g.slab_waste, 1, facecolor=LEFTOVER_COLOR, edgecolor="black",
                               hatch="xx", lw=0.6))
    for p in range(1, total // g.page_size):
        ax.axvline(p * g.page_size, color="black", ls=":", lw=0.8)
    ax.set_xlim(0, total)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel(f"bytes in one order-{g.order} slab ({total} bytes = {total // g.page_size} page(s), "
                  "dotted lines = page boundaries)")
    ax.legend(handles=[Patch(facecolor=SLOT_COLORS[0], label=f"{g.objects} slots of {g.size} B"),
                       Patch(facecolor=LEFTOVER_COLOR, hatch="xx", edgecolor="black",
                             label=f"leftover {g.slab_waste} B")],
              loc="upper center", bbox_to_anchor=(0.5, 1.35), ncol=2, fontsize=9, frameon=False)


def cache_layout_figure(g: CacheGeometry, *, figsize: tuple[float, float] = (8, 4.8)) -> Figure:
    """One slot (top) and one slab (bottom) of a cache geometry, with the key numbers in the title."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=figsize, gridspec_kw={"height_ratios": [1.4, 1], "hspace": 1.3})
    draw_object_layout(ax1, g)
    draw_slab_layout(ax2, g)
    fig.suptitle(f"{_title(g)}\nslab_size {g.size}, ksize {g.ksize}, order {g.order}, "
                 f"{g.objects} objects/slab, leftover {g.slab_waste} B", fontsize=10)
    fig.subplots_adjust(top=0.78, bottom=0.13, left=0.04, right=0.98)
    _drop_labels_wider_than_their_region(ax1)
    return fig


def slot_comparison_figure(geoms: Sequence[CacheGeometry], labels: Sequence[str] | None = None,
                           *, figsize: tuple[float, float] = (8, 4)) -> Figure:
    """Several slots on one common byte axis (same object, different flags), one row each."""
    labels = list(labels) if labels is not None else [g.name for g in geoms]
    fig, ax = plt.subplots(figsize=figsize)
    width = max(g.size for g in geoms)
    seen: list[str] = []
    for row, g in enumerate(geoms):
        y = len(geoms) - 1 - row
        for r in g.regions():
            color = REGION_COLORS.get(r.kind, "#999")
            if r.overlaps_object:
                ax.add_patch(Rectangle((r.start, y + 0.05), r.length, 0.25, facecolor=color, edgecolor="black",
                                       hatch="//", lw=0.6, zorder=3))
            else:
                ax.add_patch(Rectangle((r.start, y), r.length, 0.8, facecolor=color, edgecolor="black", lw=0.6))
            if r.kind not in seen:
                seen.append(r.kind)
        ax.text(g.size + width * 0.01, y + 0.4, f"{g.size} B (ksize {g.ksize})", va="center", fontsize=9)
    ax.set_yticks([len(geoms) - 1 - i + 0.4 for i in range(len(geoms))])
    ax.set_yticklabels(labels, fontsize=9)
    ax.set_xlim(0, width * 1.45)
    ax.set_ylim(-0.2, len(geoms))
    ax.set_xlabel("byte offset within the slot")
    ax.set_title(f"One {geoms[0].object_size}-byte object, slot layout per flag", fontsize=10)
    ax.legend(handles=[Patch(facecolor=REGION_COLORS.get(k, "#999"), edgecolor="black", label=k) for k in seen],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def model_vs_live_figure(report, *, figsize: tuple[float, float] = (8, 4)) -> Figure:
    """Predicted vs actual slab_size (left) and objects per slab (right) of every cache in a
    :class:`kmemlib.readers.sysfs.ComparisonReport`; mismatches in red."""
    fig, axes = plt.subplots(1, 2, figsize=figsize)
    for ax, field, label in ((axes[0], "slab_size", "slab_size (bytes)"),
                             (axes[1], "objs_per_slab", "objects per slab")):
        ok = [(c.predicted[field], c.actual[field]) for c in report.caches if c.match]
        bad = [(c.predicted[field], c.actual[field]) for c in report.caches if not c.match]
        if ok:
            ax.scatter([a for _, a in ok], [p for p, _ in ok], s=14, alpha=0.6, label=f"match ({len(ok)})")
        if bad:
            ax.scatter([a for _, a in bad], [p for p, _ in bad], s=30, color="red", marker="x",
                       label=f"mismatch ({len(bad)})")
        vals = [v for c in report.caches for v in (c.predicted[field], c.actual[field]) if v > 0]
        lo, hi = min(vals), max(vals)
        ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, ls="--", label="predicted = kernel")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xlabel(f"kernel: {label}")
        ax.set_ylabel(f"model: {label}")
        ax.legend(fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Model vs kernel, {report.total} caches: {report.matched} match on every field", fontsize=10)
    fig.tight_layout()
    return fig


def loss_breakdown_figure(usage, top: int = 12, *, figsize: tuple[float, float] = (8, 4.5)) -> Figure:
    """Stacked horizontal bars of the ``top`` caches by loss (:func:`kmemlib.readers.slab_usage.live_usage`):
    slot overhead, free slots and slab tail, in KiB."""
    rows = list(usage)[:top][::-1]
    fig, ax = plt.subplots(figsize=figsize)
    names = [u.name for u in rows]
    left = [0.0] * len(rows)
    for attr, label, color in (("slot_overhead", "slot overhead (align/metadata)", "#dd8452"),
                               ("free_slots", "free slots", "#55a868"),
                               ("tail", "slab tail leftover", "#8172b3")):
        vals = [getattr(u, attr) / 1024 for u in rows]
        ax.barh(names, vals, left=left, label=label, color=color)
        left = [a + b for a, b in zip(left, vals)]
    ax.set_xlabel("loss (KiB) = slab bytes - objects x object_size")
    ax.set_title(f"Top {len(rows)} caches by loss", fontsize=10)
    ax.tick_params(axis="y", labelsize=9)
    ax.legend(fontsize=9, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def api_cost_figure(sizes: Sequence[int], costs_by_api: dict[str, Sequence[object]], *,
                    figsize: tuple[float, float] = (8, 4)) -> Figure:
    """Bytes of memory used per byte requested (``total_bytes / request``), per API, against the
    request size (log-log). ``costs_by_api`` maps an API name to a list of
    :class:`kmemlib.mm.vmalloc.ApiCost`, one per size; requests an API cannot serve are left out."""
    fig, ax = plt.subplots(figsize=figsize)
    styles = {"kmalloc": ("-", 2.2), "kvmalloc": ("--", 1.2), "vmalloc": ("-", 1.2), "kmem_cache": (":", 1.4),
              "alloc_pages": ("-.", 1.0)}
    for api, costs in costs_by_api.items():
        xs = [s for s, c in zip(sizes, costs) if c.ok]
        ys = [c.total_bytes / c.request for c in costs if c.ok]
        ls, lw = styles.get(api, ("-", 1.2))
        ax.plot(xs, ys, label=api, ls=ls, lw=lw, drawstyle="steps-post")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.9)
    ax.axhline(1, color="black", lw=0.6)
    ax.set_xlabel("request size (bytes, log scale)")
    ax.set_ylabel("bytes used per byte requested")
    ax.set_title("Memory cost of each API by request size (1 = no overhead)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


__all__ = ["REGION_COLORS", "draw_object_layout", "draw_slab_layout", "cache_layout_figure",
           "slot_comparison_figure", "model_vs_live_figure", "loss_breakdown_figure", "api_cost_figure"]
