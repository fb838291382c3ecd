"""Slab memory use of a live kernel (or a snapshot), as the kernel's ``tools/mm/slabinfo`` reports it.

From ``/sys/kernel/slab/<cache>/`` (mm/slub.c ``*_show``): ``objects`` (objects in use, per-CPU
slabs counted as in use), ``total_objects``, ``slabs``, ``order``, ``object_size`` and
``slab_size``. Like ``tools/mm/slabinfo`` (``slab_size()``/``slab_waste()``), the bytes of a cache
are ``slabs * (PAGE_SIZE << order)`` — exact unless some slabs fell back to the minimum order —
its efficiency is ``objects * object_size / bytes`` and its loss ``bytes - objects * object_size``.
The loss is split here into three parts that add up to it exactly:

* ``slot_overhead`` = ``objects * (slab_size - object_size)``: alignment and metadata per object;
* ``free_slots`` = ``(total_objects - objects) * slab_size``: slots allocated but empty;
* ``tail`` = ``bytes - total_objects * slab_size``: leftover at the end of each slab.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..mm.pages import PAGE_SHIFT
from ..errors import ParseError
from .sysfs import read_sysfs_slab


@dataclass(frozen=True)
class LiveUsage:
    """One cache directory of ``/sys/kernel/slab`` with its memory use."""

    name: str
    aliases: tuple[str, ...]
    object_size: int
    slab_size: int
    objs_per_slab: int
    order: int
    objects: int
    total_objects: int
    slabs: int
    bytes: int

    @property
    def used(self) -> int:
        """``objects * object_size``."""
        return self.objects * self.object_size

    @property
    def loss(self) -> int:
        """``tools/mm/slabinfo``'s Loss: ``bytes - objects * object_size``."""
        return self.bytes - self.used

    @property
    def efficiency(self) -> float:
        """``tools/mm/slabinfo``'s %Eff (100 for an empty cache, as the tool prints)."""
        return 100.0 * self.used / self.bytes if self.bytes else 100.0

    @property
    def slot_overhead(self) -> int:
        return self.objects * (self.slab_size - self.object_size)

    @property
    def free_slots(self) -> int:
        return (self.total_objects - self.objects) * self.slab_size

    @property
    def tail(self) -> int:
        return self.bytes - self.total_objects * self.slab_size


def _check_usage(usage: object) -> None:
    if not isinstance(usage, (list, tuple)) or not all(isinstance(u, LiveUsage) for u in usage):
        raise ParseError(f"usage must be the list live_usage() returns, got {usage!r:.60}")


def live_usage(root: str | os.PathLike = "/", page_shift: int = PAGE_SHIFT) -> list[LiveUsage]:
    """Memory use of every cache in ``<root>/sys/kernel/slab``, largest loss first (ties by name).

    Caches whose ``objects``/``slabs`` files are missing are skipped.
    """
    if isinstance(page_shift, bool) or not isinstance(page_shift, int) or not 10 <= page_shift <= 20:
        raise ParseError(f"page_shift must be an int in 10..20, got {page_shift!r:.60}")
    out = []
    for name, c in read_sysfs_slab(root).items():
        if not all(k in c.attrs for k in ("objects", "total_objects", "slabs")):
            continue
        order = c.order
        slabs = c.int("slabs")
        if order > 20:
            raise ParseError(f"/sys/kernel/slab/{name}/order: {order} is above MAX_PAGE_ORDER (20 at most)")
        out.append(LiveUsage(name, tuple(c.alias_names), c.object_size, c.slab_size, c.objs_per_slab, order,
                             c.int("objects"), c.int("total_objects"), slabs, slabs << (order + page_shift)))
    out.sort(key=lambda u: (-u.loss, u.name))
    return out


def usage_report(usage: list[LiveUsage], top: int | None = 15) -> list[dict[str, object]]:
    """Rows like ``slabinfo -L`` (sorted by loss): name, objects, objsize, slab size, space, O/S, O,
    %Eff, loss and its three parts."""
    _check_usage(usage)
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 0):
        raise ParseError(f"top must be None or a non-negative int, got {top!r:.60}")
    rows = []
    for u in usage[:top] if top is not None else usage:
        rows.append({"cache": u.name, "objects": u.objects, "objsize": u.object_size, "slab_size": u.slab_size,
                     "space": u.bytes, "objs/slab": u.objs_per_slab, "order": u.order,
                     "eff %": round(u.efficiency, 1), "loss": u.loss, "slot overhead": u.slot_overhead,
                     "free slots": u.free_slots, "slab tail": u.tail})
    return rows


@dataclass(frozen=True)
class UsageTotals:
    """Sums over caches."""

    caches: int
    bytes: int
    used: int
    loss: int
    slot_overhead: int
    free_slots: int
    tail: int

    @property
    def efficiency(self) -> float:
        return 100.0 * self.used / self.bytes if self.bytes else 100.0


def usage_totals(usage: list[LiveUsage]) -> UsageTotals:
    """Totals of :func:`live_usage`."""
    _check_usage(usage)
    return UsageTotals(len(usage), sum(u.bytes for u in usage), sum(u.used for u in usage),
                       sum(u.loss for u in usage), sum(u.slot_overhead for u in usage),
                       sum(u.free_slots for u in usage), sum(u.tail for u in usage))


__all__ = ["LiveUsage", "live_usage", "usage_report", "UsageTotals", "usage_totals"]
