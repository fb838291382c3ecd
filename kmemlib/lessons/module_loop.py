"""A kernel module that calls kmalloc()/ksize()/kfree() in a loop, modelled line by line.

The module is ``kmemlib/data/modules/kmalloc_sweep.c`` (illustrative code written for the book):
starting at ``start`` bytes it calls ``kmalloc(req, GFP_KERNEL)``, prints the request, what
``ksize()`` reports, the bytes nobody asked for and their share of the allocation, frees the
object, adds ``step`` and repeats until kmalloc returns NULL. :func:`module_loop` runs the same
loop against a :class:`kmemlib.mm.slub.SlubAllocator` and returns one :class:`LoopRow` per call,
including the exact line the module's ``pr_info`` would print.

Kernel behaviour modelled: ``kmalloc(0)`` → ``ZERO_SIZE_PTR`` and ``ksize(ZERO_SIZE_PTR) == 0``
(``__do_kmalloc_node``, ``ksize``); up to ``KMALLOC_MAX_CACHE_SIZE`` a ``kmalloc-*`` slab object;
above it ``alloc_pages(get_order(size))`` (``___kmalloc_large_node``), so ``ksize`` is the folio
size; above ``KMALLOC_MAX_SIZE`` the order exceeds ``MAX_PAGE_ORDER``, ``__alloc_pages`` refuses
(``WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER, gfp)``) and kmalloc returns NULL.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ..errors import InvalidSizeError
from ..mm.argcheck import check_int, show
from ..mm import gfp as _gfp
from ..mm import kmalloc as _km
from ..mm.pages import get_order
from ..mm.slub import SlubAllocator

MODULE_NAME = "kmalloc_sweep"
"""``KBUILD_MODNAME`` of the module; every printed line starts with ``kmalloc_sweep: ``."""
DEFAULT_STEP = 200 * 1024
"""The module's default ``step`` parameter: 204800 bytes (200 KiB)."""
MAX_ROWS = 100_000
"""Refuse loops longer than this (a 1-byte step would make 4 million calls)."""


@dataclass(frozen=True)
class LoopRow:
    """One iteration of the module's loop."""

    i: int
    request: int
    result: str                 # "object" | "ZERO_SIZE_PTR" | "NULL"
    actual: int | None          # ksize(p); 0 for ZERO_SIZE_PTR; None when kmalloc returned NULL
    wastage: int | None         # actual - request (objects only)
    waste_permille: int | None  # wastage * 1000 // actual, the integer the module prints as NN.N%
    path: str                   # "slab" | "pages" for objects (what the module prints), else ""
    cache: str | None           # kmalloc cache (slab path)
    order: int | None           # page order (page path) or the order that was refused (NULL)
    reason: str                 # why: cache name, "order N", "ZERO_SIZE_PTR", or why it failed
    line: str                   # the pr_info line, with the "kmalloc_sweep: " prefix

    @property
    def waste_pct(self) -> float | None:
        """Exact waste in percent of the allocation (the module prints it truncated to 0.1 %)."""
        if self.actual is None or self.wastage is None:
            return None
        return 100.0 * self.wastage / self.actual


def module_source() -> str:
    """The C source of the module (``kmemlib/data/modules/kmalloc_sweep.c``)."""
    return resources.files("kmemlib").joinpath("data/modules/kmalloc_sweep.c").read_text()


def _pr(text: str) -> str:
    return f"{MODULE_NAME}: {text}"


def module_header(step: int = DEFAULT_STEP, start: int = 0, *, kmalloc_max_cache_size: int = _km.KMALLOC_MAX_CACHE_SIZE,
                  kmalloc_max_size: int = _km.KMALLOC_MAX_SIZE) -> list[str]:
    """The two lines the module prints before its loop (parameters, then column titles)."""
    return [_pr(f"step={step} start={start} KMALLOC_MAX_CACHE_SIZE={kmalloc_max_cache_size} "
                f"KMALLOC_MAX_SIZE={kmalloc_max_size}"),
            _pr(f"{'i':>4} {'request':>10} {'actual':>10} {'wastage':>10} {'waste%':>8}  path")]


def _check_rows(rows: object) -> None:
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, LoopRow) for r in rows):
        raise InvalidSizeError(f"rows must be the LoopRow list module_loop() returns, got {show(rows)}")


def module_footer(rows: list[LoopRow]) -> str:
    """The line the module prints after its loop."""
    _check_rows(rows)
    return _pr(f"done after {len(rows)} calls")


def _check_arg(v: object, what: str, lo: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < lo or v >= 1 << 64:
        raise InvalidSizeError(f"{what} must be an int in {lo}..2**64-1 (unsigned long), got {v!r}")
    return v


def module_loop(step: int = DEFAULT_STEP, start: int = 0, limit: int | None = None, gfp: int = _gfp.GFP_KERNEL, *,
                allocator: SlubAllocator | None = None, max_rows: int = MAX_ROWS) -> list[LoopRow]:
    """Run the kmalloc_sweep module's loop: ``kmalloc(req, gfp)``, ``ksize``, ``kfree``, ``req += step``.

    Models a kernel module calling kmalloc/ksize/kfree in a loop (see the module docstring); the
    loop ends with the first NULL, whose row is included. ``limit`` (not a module parameter) stops
    earlier, without calling kmalloc, once the request would exceed ``limit`` bytes. ``allocator``
    defaults to a fresh :class:`SlubAllocator` with a 1 GiB zone; pass a fragmented one to see an
    earlier NULL from an out-of-memory zone. Raises :class:`InvalidSizeError` for ``step == 0``
    (the module returns -EINVAL) and for loops longer than ``max_rows`` calls.
    """
    _check_arg(step, "step", 1)
    _check_arg(start, "start", 0)
    if limit is not None:
        _check_arg(limit, "limit", 0)
    _km.check_kmalloc_gfp(gfp)
    a = allocator if allocator is not None else SlubAllocator()
    max_cache, max_size = a.kmalloc_max_cache_size, a.kmalloc_max_size
    last = max_size if limit is None else min(limit, max_size)
    calls = (max(last - start, -1) // step) + 1 + (limit is None or limit > max_size)
    if calls > max_rows:
        raise InvalidSizeError(f"step {step} from {start} makes {calls} calls (max_rows={max_rows})")
    rows: list[LoopRow] = []
    req, i = start, 0
    while limit is None or req <= limit:
        p = a.kmalloc(req, gfp, caller=MODULE_NAME)
        if p is None:
            order = get_order(req, a.page_shift) if req else None
            reason = (f"order {order} > MAX_PAGE_ORDER {a.params.max_page_order}" if req > max_size
                      else f"out of memory (order {order})")
            line = _pr(f"{i:>4} {req:>10} {'-':>10} {'-':>10} {'-':>8}  NULL (kmalloc failed)")
            rows.append(LoopRow(i, req, "NULL", None, None, None, "", None, order, reason, line))
            break
        if p == _km.ZERO_SIZE_PTR:
            ks = a.ksize(p)
            line = _pr(f"{i:>4} {req:>10} {ks:>10} {'-':>10} {'-':>8}  ZERO_SIZE_PTR")
            rows.append(LoopRow(i, req, "ZERO_SIZE_PTR", ks, None, None, "", None, None, "ZERO_SIZE_PTR", line))
        else:
            info = a.allocation(p)
            actual = a.ksize(p)
            waste = actual - req
            permille = waste * 1000 // actual
            path = "slab" if req <= max_cache else "pages"
            line = _pr(f"{i:>4} {req:>10} {actual:>10} {waste:>10} {permille // 10:>5}.{permille % 10}%  {path}")
            reason = info.cache if info.cache is not None else f"order {info.order}"
            rows.append(LoopRow(i, req, "object", actual, waste, permille, path, info.cache, info.order, reason, line))
            a.kfree(p)
        req += step
        i += 1
    return rows


def module_output(rows: list[LoopRow], step: int = DEFAULT_STEP, start: int = 0) -> str:
    """The whole ``dmesg`` output of one load of the module (without timestamps)."""
    _check_rows(rows)
    return "\n".join([*module_header(step, start), *(r.line for r in rows), module_footer(rows)]) + "\n"


__all__ = ["MODULE_NAME", "DEFAULT_STEP", "MAX_ROWS", "LoopRow", "module_source", "module_header", "module_footer",
           "module_loop", "module_output"]
