"""Cost model of vmalloc, kvmalloc and friends, and a "which API when" decision function.

What a request of ``size`` bytes really costs under each kernel allocation API, in bytes of
physical memory (data plus bookkeeping) and of kernel virtual address space:

* ``vmalloc`` — ``__vmalloc_node_range_noprof()`` (mm/vmalloc.c, Linux 6.12): the size is rounded
  up to whole pages (``__get_vm_area_node``: ``ALIGN(size, 1 << shift)``), one guard page of
  address space is added unless ``VM_NO_GUARD``, a ``struct vm_struct`` is ``kzalloc``'d, a
  ``struct vmap_area`` comes from the ``vmap_area`` cache, and ``__vmalloc_area_node`` allocates
  the ``struct page *`` array with kmalloc — or, above one page of pointers, with a nested vmalloc.
  The pages are order-0 pages mapped side by side: virtually, not physically, contiguous.
* ``kvmalloc`` — ``__kvmalloc_node_noprof()`` (mm/util.c, 6.12; ``kvmalloc_node`` in older
  kernels): first ``kmalloc`` with ``kmalloc_gfp_adjust()`` (for ``size > PAGE_SIZE``:
  ``__GFP_NOWARN``, ``__GFP_NORETRY`` unless ``__GFP_RETRY_MAYFAIL``, ``__GFP_NOFAIL`` cleared).
  If that fails and ``size > PAGE_SIZE`` and the caller may sleep, fall back to vmalloc with
  ``VM_ALLOW_HUGE_VMAP``: on x86-64 (PSE) a request of at least ``PMD_SIZE`` (2 MiB) per node is
  mapped with 2 MiB pages and rounded up to a multiple of 2 MiB.
* ``kmalloc`` (:func:`kmemlib.mm.kmalloc.kmalloc_plan`), ``alloc_pages`` and a dedicated
  ``kmem_cache`` (:func:`kmemlib.mm.slub.make_geometry`) for comparison.

Page tables are not counted: vmalloc's PTE pages are shared with neighbouring areas and are not
freed by ``vfree``; :attr:`ApiCost.pte_pages` gives the upper bound for one area.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InvalidSizeError
from .kmalloc import KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, kmalloc_plan
from .pages import ALIGN, MAX_PAGE_ORDER, PAGE_ALLOC_COSTLY_ORDER, PAGE_SHIFT, PAGE_SIZE, get_order
from .slub import DEFAULT_PARAMS, SlubParams, make_geometry

PTR_SIZE: int = 8
"""``sizeof(struct page *)`` on 64-bit."""
VM_STRUCT_SIZE: int = 72
"""``sizeof(struct vm_struct)`` (include/linux/vmalloc.h, 6.12, 64-bit, HAVE_ARCH_HUGE_VMALLOC):
next, addr, size, flags, pages (5 x 8), page_order + nr_pages (2 x 4), phys_addr, caller,
requested_size (3 x 8)."""
VMAP_AREA_SIZE: int = 72
"""``sizeof(struct vmap_area)``: va_start, va_end, rb_node (24), list (16), vm/subtree, flags.
The ``vmap_area`` cache is ``KMEM_CACHE(vmap_area, SLAB_PANIC)``: slot size 72 (sysfs ``:0000072``)."""
PMD_SHIFT: int = 21
PMD_SIZE: int = 1 << PMD_SHIFT
"""2 MiB: the huge-mapping granularity kvmalloc's vmalloc fallback uses on x86-64."""
PTRS_PER_PTE: int = 512
INT_MAX: int = (1 << 31) - 1
"""kvmalloc refuses sizes above ``INT_MAX`` ("Don't even allow crazy sizes")."""

APIS: tuple[str, ...] = ("kmalloc", "kmem_cache", "alloc_pages", "vmalloc", "kvmalloc")


def _check_size(size: object, what: str = "size") -> int:
    if not isinstance(size, int) or isinstance(size, bool):
        raise InvalidSizeError(f"{what} must be an int, got {size!r}")
    if size < 0 or size >= 1 << 64:
        raise InvalidSizeError(f"{what} must be a size_t (0 .. 2**64-1), got {size}")
    return size


@dataclass(frozen=True)
class ApiCost:
    """What one API spends to serve one request of ``request`` bytes (``ok`` False: it cannot).

    ``data_bytes`` hold the caller's data (the slab slot, the page block, the vmalloc pages);
    ``metadata_bytes`` are bookkeeping allocated for this request only (vm_struct, vmap_area,
    page array; for ``kmem_cache`` the slab's tail leftover divided by its objects, rounded up).
    ``va_bytes`` is kernel virtual address space reserved (vmalloc: including the guard page).
    """

    api: str
    request: int
    ok: bool
    via: str
    data_bytes: int = 0
    metadata_bytes: int = 0
    va_bytes: int = 0
    contiguous: bool = False
    atomic_ok: bool = False
    order: int | None = None
    pte_pages: int = 0
    notes: tuple[str, ...] = ()
    parts: tuple[tuple[str, int], ...] = field(default=())

    @property
    def total_bytes(self) -> int:
        """Physical memory charged to this request: data plus bookkeeping."""
        return self.data_bytes + self.metadata_bytes

    @property
    def waste(self) -> int:
        """``total_bytes - request`` (0 when the API cannot serve the request)."""
        return self.total_bytes - self.request if self.ok else 0

    @property
    def waste_pct(self) -> float:
        """Waste as a percentage of the request."""
        return 100.0 * self.waste / self.request if self.ok and self.request else 0.0


def _kmalloc_bytes(size: int) -> int:
    """Bytes a nested ``kmalloc(size)`` really takes (``kmalloc_size_roundup``)."""
    plan = kmalloc_plan(size)
    return plan.allocated


def vmalloc_cost(size: int, *, huge: bool = False, guard: bool = True, nr_online_nodes: int = 1,
                 totalram_pages: int | None = None, page_shift: int = PAGE_SHIFT) -> ApiCost:
    """Cost of ``vmalloc(size)`` (``__vmalloc_node_range_noprof`` → ``__get_vm_area_node`` →
    ``__vmalloc_area_node``, mm/vmalloc.c, 6.12).

    ``huge`` models ``VM_ALLOW_HUGE_VMAP`` (kvmalloc's fallback, ``vmalloc_huge``): with at least
    ``PMD_SIZE`` per node the area is aligned and sized to 2 MiB and mapped with 2 MiB pages.
    ``guard=False`` is ``VM_NO_GUARD``. ``size == 0`` and sizes above ``totalram_pages`` fail
    (the kernel WARNs and returns NULL): ``ok`` is False.
    """
    _check_size(size)
    if nr_online_nodes < 1:
        raise InvalidSizeError(f"nr_online_nodes must be >= 1, got {nr_online_nodes}")
    page_size = 1 << page_shift
    if size == 0:
        return ApiCost("vmalloc", 0, False, "fails: vmalloc(0) WARNs and returns NULL")
    if totalram_pages is not None and (size >> page_shift) > totalram_pages:
        return ApiCost("vmalloc", size, False, "fails: size exceeds total RAM pages")
    shift = page_shift
    if huge and size // nr_online_nodes >= PMD_SIZE:
        shift = PMD_SHIFT
    area = ALIGN(size, 1 << shift)                    # get_vm_area_size(): without the guard page
    nr_pages = area >> page_shift
    guard_bytes = page_size if guard else 0
    array_size = nr_pages * PTR_SIZE
    nested: ApiCost | None = None
    if array_size > page_size:                         # "the recursion is strictly bounded"
        nested = vmalloc_cost(array_size, guard=True, page_shift=page_shift)
        array_bytes = nested.total_bytes
        array_how = f"nested vmalloc({array_size})"
    else:
        array_bytes = _kmalloc_bytes(array_size)
        array_how = f"kmalloc({array_size})"
    vm_struct = _kmalloc_bytes(VM_STRUCT_SIZE)
    parts = (("pages", area), ("struct vm_struct (kzalloc)", vm_struct),
             ("struct vmap_area", VMAP_AREA_SIZE), (f"page array: {array_how}", array_bytes))
    mapping = "2 MiB mappings" if shift == PMD_SHIFT else f"{page_size}-byte pages"
    notes = [f"{nr_pages} pages of {page_size} bytes, {mapping}, not physically contiguous"]
    if guard:
        notes.append(f"+{guard_bytes} bytes of unmapped guard page (address space only)")
    pte = -(-nr_pages // PTRS_PER_PTE) + 1 if shift == page_shift else 0
    return ApiCost("vmalloc", size, True, f"vmalloc: {nr_pages} page{'s' if nr_pages != 1 else ''}" + (" (huge)" if shift != page_shift else ""),
                   data_bytes=area, metadata_bytes=vm_struct + VMAP_AREA_SIZE + array_bytes,
                   va_bytes=area + guard_bytes,
                   contiguous=False, atomic_ok=False, order=None, pte_pages=pte, notes=tuple(notes), parts=parts)


def kmalloc_cost(size: int, *, max_free_order: int | None = None) -> ApiCost:
    """Cost of ``kmalloc(size, GFP_KERNEL)`` (:func:`kmemlib.mm.kmalloc.kmalloc_plan`): the slot
    (``ksize``) of a kmalloc cache up to ``KMALLOC_MAX_CACHE_SIZE``, a ``get_order(size)`` block
    up to ``KMALLOC_MAX_SIZE``. ``max_free_order`` (None = no limit) is the largest order the page
    allocator can currently provide: a larger page-allocator request fails."""
    _check_size(size)
    plan = kmalloc_plan(size)
    if plan.via == "ZERO_SIZE_PTR":
        return ApiCost("kmalloc", 0, False, "kmalloc(0) returns ZERO_SIZE_PTR: nothing is allocated",
                       contiguous=True, atomic_ok=True)
    if plan.via == "fail":
        return ApiCost("kmalloc", size, False, f"fails: more than KMALLOC_MAX_SIZE ({KMALLOC_MAX_SIZE})",
                       contiguous=True, atomic_ok=True)
    if plan.via == "slab":
        return ApiCost("kmalloc", size, True, f"slab cache {plan.cache}", data_bytes=plan.allocated,
                       va_bytes=plan.allocated, contiguous=True, atomic_ok=True,
                       notes=(f"ksize() = {plan.allocated}",), parts=((plan.cache or "slab", plan.allocated),))
    if max_free_order is not None and plan.order is not None and plan.order > max_free_order:
        return ApiCost("kmalloc", size, False, f"fails: needs an order-{plan.order} block, largest free is "
                       f"order {max_free_order}", contiguous=True, atomic_ok=True, order=plan.order)
    notes = [f"order-{plan.order} block from the page allocator"]
    if plan.order is not None and plan.order > PAGE_ALLOC_COSTLY_ORDER:
        notes.append(f"order > PAGE_ALLOC_COSTLY_ORDER ({PAGE_ALLOC_COSTLY_ORDER}): may fail under fragmentation")
    return ApiCost("kmalloc", size, True, f"page allocator, order {plan.order}", data_bytes=plan.allocated,
                   va_bytes=plan.allocated, contiguous=True, atomic_ok=True, order=plan.order,
                   notes=tuple(notes), parts=((f"order-{plan.order} block", plan.allocated),))


def alloc_pages_cost(size: int, *, max_free_order: int | None = None,
                     max_page_order: int = MAX_PAGE_ORDER) -> ApiCost:
    """Cost of ``alloc_pages(GFP_KERNEL, get_order(size))`` (mm/page_alloc.c): a
    ``PAGE_SIZE << order`` block, physically contiguous, up to ``MAX_PAGE_ORDER``."""
    _check_size(size)
    if size == 0:
        return ApiCost("alloc_pages", 0, False, "nothing to allocate", contiguous=True, atomic_ok=True)
    order = get_order(size)
    if order > max_page_order:
        return ApiCost("alloc_pages", size, False, f"fails: order {order} > MAX_PAGE_ORDER ({max_page_order})",
                       contiguous=True, atomic_ok=True, order=order)
    if max_free_order is not None and order > max_free_order:
        return ApiCost("alloc_pages", size, False, f"fails: needs order {order}, largest free is order "
                       f"{max_free_order}", contiguous=True, atomic_ok=True, order=order)
    block = PAGE_SIZE << order
    return ApiCost("alloc_pages", size, True, f"order-{order} block", data_bytes=block, va_bytes=block,
                   contiguous=True, atomic_ok=True, order=order, parts=((f"order-{order} block", block),))


def kmem_cache_cost(size: int, *, params: SlubParams = DEFAULT_PARAMS) -> ApiCost:
    """Per-object cost in a dedicated cache ``kmem_cache_create("x", size, 0, 0, NULL)``
    (:func:`kmemlib.mm.slub.make_geometry`): the slot size plus the slab's tail leftover shared by
    its objects (rounded up). Only sensible for many objects of one size."""
    _check_size(size)
    if size == 0:
        return ApiCost("kmem_cache", 0, False, "nothing to allocate", contiguous=True, atomic_ok=True)
    if size > KMALLOC_MAX_SIZE:
        return ApiCost("kmem_cache", size, False, "fails: an object must fit in an order-"
                       f"{MAX_PAGE_ORDER} slab", contiguous=True, atomic_ok=True)
    g = make_geometry("custom", size, 0, 0, params=params)
    share = -(-g.slab_waste // g.objects)
    return ApiCost("kmem_cache", size, True, f"own cache: {g.objects} x {g.size} B in order-{g.order} slabs",
                   data_bytes=g.size, metadata_bytes=share, va_bytes=g.size, contiguous=True, atomic_ok=True,
                   order=g.order,
                   notes=(f"slab of {g.slab_bytes} bytes holds {g.objects} objects, {g.slab_waste} bytes left over",),
                   parts=(("slot", g.size), ("share of slab leftover", share)))


def kvmalloc_cost(size: int, *, can_block: bool = True, max_free_order: int | None = None,
                  huge_vmap: bool = True, nr_online_nodes: int = 1) -> ApiCost:
    """Cost of ``kvmalloc(size, GFP_KERNEL)`` (``__kvmalloc_node_noprof``, mm/util.c, 6.12).

    kmalloc is tried first (for ``size > PAGE_SIZE`` with ``__GFP_NOWARN|__GFP_NORETRY``,
    ``kmalloc_gfp_adjust``); it fails above ``KMALLOC_MAX_SIZE`` or when the needed order is above
    ``max_free_order``. Then: ``size <= PAGE_SIZE`` → NULL (no fallback for sub-page requests);
    ``can_block`` False (GFP_ATOMIC/GFP_NOWAIT) → NULL; ``size > INT_MAX`` → NULL; else vmalloc
    with ``VM_ALLOW_HUGE_VMAP`` (``huge_vmap``: 2 MiB mappings when ``size / nodes >= PMD_SIZE``).
    """
    _check_size(size)
    km = kmalloc_cost(size, max_free_order=max_free_order)
    if km.ok:
        gfp = "GFP_KERNEL" if size <= PAGE_SIZE else "GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY"
        return ApiCost("kvmalloc", size, True, f"kmalloc ({km.via})", km.data_bytes, km.metadata_bytes,
                       km.va_bytes, contiguous=True, atomic_ok=False, order=km.order,
                       notes=(f"kmalloc({size}, {gfp}) succeeded",) + km.notes, parts=km.parts)
    if size == 0:
        return ApiCost("kvmalloc", 0, False, "kmalloc(0) returns ZERO_SIZE_PTR: nothing is allocated")
    if size <= PAGE_SIZE:
        return ApiCost("kvmalloc", size, False, "fails: no vmalloc fallback for sub-page requests")
    if not can_block:
        return ApiCost("kvmalloc", size, False, "fails: vmalloc cannot be used without __GFP_DIRECT_RECLAIM")
    if size > INT_MAX:
        return ApiCost("kvmalloc", size, False, "fails: size > INT_MAX")
    # A huge mapping needs order-(PMD_SHIFT - PAGE_SHIFT) blocks; without them the `fail:` path of
    # __vmalloc_node_range_noprof() retries the whole area with PAGE_SIZE pages.
    huge_blocks = max_free_order is None or max_free_order >= PMD_SHIFT - PAGE_SHIFT
    vm = vmalloc_cost(size, huge=huge_vmap and huge_blocks, nr_online_nodes=nr_online_nodes)
    why = km.via.replace("fails: ", "")
    notes: tuple[str, ...] = (f"kmalloc failed ({why})",)
    if huge_vmap and not huge_blocks and size // nr_online_nodes >= PMD_SIZE:
        notes += (f"no free order-{PMD_SHIFT - PAGE_SHIFT} block for a 2 MiB mapping: "
                  f"vmalloc retries with {PAGE_SIZE}-byte pages",)
    return ApiCost("kvmalloc", size, True, f"vmalloc fallback ({vm.via.removeprefix('vmalloc: ')})",
                   vm.data_bytes, vm.metadata_bytes, vm.va_bytes, contiguous=False, atomic_ok=False,
                   order=None, pte_pages=vm.pte_pages, notes=notes + vm.notes, parts=vm.parts)


def api_costs(size: int, *, atomic: bool = False, max_free_order: int | None = None,
              params: SlubParams = DEFAULT_PARAMS) -> dict[str, ApiCost]:
    """:class:`ApiCost` of ``size`` under every API of :data:`APIS`."""
    return {"kmalloc": kmalloc_cost(size, max_free_order=max_free_order),
            "kmem_cache": kmem_cache_cost(size, params=params),
            "alloc_pages": alloc_pages_cost(size, max_free_order=max_free_order),
            "vmalloc": vmalloc_cost(size),
            "kvmalloc": kvmalloc_cost(size, can_block=not atomic, max_free_order=max_free_order)}


@dataclass(frozen=True)
class Recommendation:
    """Result of :func:`choose_api`: the API to use (None: no allocator API fits), why, and the
    cost of every API for this size (``allowed`` lists those the constraints permit)."""

    size: int
    contiguous: bool
    atomic: bool
    many_objects: bool
    api: str | None
    reasons: tuple[str, ...]
    costs: dict[str, ApiCost]
    allowed: tuple[str, ...]

    def table(self) -> list[dict[str, object]]:
        """One row per API: allowed?, served?, via, data/metadata/total bytes, waste."""
        rows = []
        for name in APIS:
            c = self.costs[name]
            rows.append({"api": name, "allowed": name in self.allowed, "ok": c.ok, "via": c.via,
                         "data": c.data_bytes, "metadata": c.metadata_bytes, "total": c.total_bytes,
                         "waste": c.waste, "contiguous": c.contiguous if c.ok else None,
                         "chosen": name == self.api})
        return rows


def choose_api(size: int, *, contiguous: bool = False, atomic: bool = False, many_objects: bool = False,
               max_free_order: int | None = None, params: SlubParams = DEFAULT_PARAMS) -> Recommendation:
    """Which allocation API to use for ``size`` bytes, with reasons and every API's cost.

    Rules (the kernel's own guidance in mm/util.c, mm/vmalloc.c and Documentation/core-api/memory-allocation.rst):

    * ``atomic`` (GFP_ATOMIC, cannot sleep): vmalloc and kvmalloc's fallback are out
      (vmalloc needs ``__GFP_DIRECT_RECLAIM``);
    * ``contiguous`` (physically contiguous, e.g. for DMA): vmalloc and kvmalloc are out;
    * ``many_objects`` of this one size: a dedicated ``kmem_cache`` when it is allowed and costs
      strictly less per object than kmalloc (same cost: kmalloc, the cache buys no memory);
    * otherwise kmalloc up to ``PAGE_SIZE`` (kvmalloc would be kmalloc anyway);
      kvmalloc from ``PAGE_SIZE + 1`` (contiguous when it is cheap, vmalloc when not);
      above ``KMALLOC_MAX_SIZE`` the cheaper of vmalloc and kvmalloc (both are vmalloc then);
      physically contiguous above ``KMALLOC_MAX_SIZE``: no allocator API (CMA / boot-time reservation).
    """
    _check_size(size)
    if size == 0:
        raise InvalidSizeError("size 0: there is nothing to allocate (kmalloc(0) returns ZERO_SIZE_PTR)")
    for name, v in (("contiguous", contiguous), ("atomic", atomic), ("many_objects", many_objects)):
        if not isinstance(v, bool):
            raise InvalidSizeError(f"{name} must be a bool, got {v!r}")
    costs = api_costs(size, atomic=atomic, max_free_order=max_free_order, params=params)
    allowed = ["kmalloc", "kmem_cache", "alloc_pages", "vmalloc", "kvmalloc"]
    reasons: list[str] = []
    if atomic:
        allowed = [a for a in allowed if a not in ("vmalloc", "kvmalloc")]
        reasons.append("atomic context: vmalloc may sleep (it needs __GFP_DIRECT_RECLAIM), so vmalloc and "
                       "kvmalloc's fallback are out; use GFP_ATOMIC with kmalloc/kmem_cache_alloc/alloc_pages")
    if contiguous:
        allowed = [a for a in allowed if a not in ("vmalloc", "kvmalloc")]
        reasons.append("physically contiguous memory needed: only the slab and page allocators provide it")
    if not many_objects:
        allowed = [a for a in allowed if a != "kmem_cache"]
    usable = [a for a in allowed if costs[a].ok]
    api: str | None
    km, kc = costs["kmalloc"], costs["kmem_cache"]
    if not usable:
        api = None
        if size > KMALLOC_MAX_SIZE and (contiguous or atomic):
            reasons.append(f"{size} bytes is more than the largest buddy block (KMALLOC_MAX_SIZE = "
                           f"{KMALLOC_MAX_SIZE}), at any time and in any context: reserve it at boot "
                           "(CMA, e.g. dma_alloc_coherent backed by CMA, or memblock)")
        else:
            reasons.append("no API can serve this request under these constraints")
    elif "kmem_cache" in usable and (not km.ok or kc.total_bytes < km.total_bytes):
        api = "kmem_cache"
        reasons.append(f"many objects of one size: a dedicated cache costs {kc.total_bytes} bytes per object "
                       f"(slot {kc.data_bytes} + {kc.metadata_bytes} share of slab leftover) vs "
                       + (f"{km.total_bytes} with kmalloc" if km.ok else "kmalloc failing"))
    elif size <= PAGE_SIZE or (("vmalloc" not in usable and "kvmalloc" not in usable)
                               and "kmalloc" in usable):
        api = "kmalloc" if "kmalloc" in usable else usable[0]
        if size <= PAGE_SIZE:
            reasons.append(f"up to PAGE_SIZE ({PAGE_SIZE}) kmalloc is the default; kvmalloc would only "
                           "call kmalloc")
        else:
            reasons.append(f"kmalloc gives {km.total_bytes} contiguous bytes"
                           + (f" via an order-{km.order} block" if km.order is not None else ""))
        if "kmem_cache" in allowed and kc.ok and km.ok:
            reasons.append(f"a dedicated cache would cost {kc.total_bytes} bytes per object, "
                           f"kmalloc {km.total_bytes}: no memory gain")
        if km.order is not None and km.order > PAGE_ALLOC_COSTLY_ORDER:
            reasons.append(f"order {km.order} > PAGE_ALLOC_COSTLY_ORDER: can fail on a fragmented system")
    elif size <= KMALLOC_MAX_SIZE and "kvmalloc" in usable:
        api = "kvmalloc"
        reasons.append(f"more than a page and no need for physical contiguity: kvmalloc tries kmalloc "
                       f"({km.total_bytes if km.ok else 'failing'} bytes) without retrying hard and falls back "
                       f"to vmalloc ({costs['vmalloc'].total_bytes} bytes)")
    else:
        cands = [a for a in ("vmalloc", "kvmalloc") if a in usable]
        api = min(cands, key=lambda a: (costs[a].total_bytes, a))
        reasons.append(f"more than KMALLOC_MAX_SIZE ({KMALLOC_MAX_SIZE}): only vmalloc-backed memory works; "
                       f"vmalloc costs {costs['vmalloc'].total_bytes} bytes, kvmalloc (2 MiB mappings) "
                       f"{costs['kvmalloc'].total_bytes}")
    return Recommendation(size, contiguous, atomic, many_objects, api, tuple(reasons), costs, tuple(allowed))


__all__ = [
    "PTR_SIZE", "VM_STRUCT_SIZE", "VMAP_AREA_SIZE", "PMD_SHIFT", "PMD_SIZE", "PTRS_PER_PTE", "INT_MAX", "APIS",
    "ApiCost", "vmalloc_cost", "kmalloc_cost", "alloc_pages_cost", "kmem_cache_cost", "kvmalloc_cost",
    "api_costs", "Recommendation", "choose_api",
]
