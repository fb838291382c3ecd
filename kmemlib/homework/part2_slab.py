"""Assignment ``kmalloc`` (Part II): kmalloc size classes, ksize waste and SLUB cache geometry.

Answers come from :func:`kmemlib.mm.kmalloc.kmalloc_plan` and :func:`kmemlib.mm.slub.make_geometry` with the book's default
machine (x86-64, 4 KiB pages, 2 CPUs, ``slub_max_order`` 3, the 6.7+ ``calculate_order``), never from a formula of
this module.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from ..mm import gfp as _gfp
from ..mm.kmalloc import kmalloc_plan
from ..mm.slab_flags import SLAB_HWCACHE_ALIGN
from ..mm.slub import make_geometry
from .answers import PAGE_ALLOCATOR, as_cache_name_list, as_int, as_int_list, as_record
from .assignment import Assignment
from .problem import Generated, Question, Verdict

__all__ = ["ASSIGNMENT", "cache_question", "waste_question", "large_question", "geometry_question",
           "slab_waste_question"]

_GFPS = {"GFP_KERNEL": _gfp.GFP_KERNEL, "GFP_KERNEL_ACCOUNT": _gfp.GFP_KERNEL_ACCOUNT,
         "GFP_KERNEL | GFP_DMA": _gfp.GFP_KERNEL | _gfp.GFP_DMA}
# request-size bands that exercise every rule of kmalloc_slab(): (low, high) inclusive
_BANDS = [(1, 8), (9, 16), (17, 32), (33, 64), (65, 96), (97, 128), (129, 192), (193, 256), (257, 512),
          (513, 1024), (1025, 2048), (2049, 4096), (4097, 8192)]
_STRUCT_NAMES = ["inode_info", "sk_buff", "dentry", "file", "task_io", "bio", "request", "ext4_extent",
                 "nfs_page", "kiocb", "urb", "skb_frag", "pipe_buf", "msg_hdr", "net_dev_stats"]


def _plan_cache(size: int, gfp: int) -> str:
    plan = kmalloc_plan(size, gfp)
    return plan.cache if plan.via == "slab" else PAGE_ALLOCATOR


# --------------------------------------------------------------------------- q1: which cache
def _gen_cache(rng: random.Random) -> Generated:
    bands = rng.sample(_BANDS, 4)
    reqs = []
    for i, (lo, hi) in enumerate(bands):
        size = rng.randint(lo, hi)
        if i == 3 and rng.random() < 0.25:
            size = rng.randint(8193, 65536)
        flags = "GFP_KERNEL" if i < 2 else rng.choice(list(_GFPS))
        reqs.append((size, flags))
    answer = [_plan_cache(size, _GFPS[flags]) for size, flags in reqs]
    rows = "\n".join(f"{chr(97 + i)}. `kmalloc({size}, {flags})`" for i, (size, flags) in enumerate(reqs))
    prompt = ("On x86-64 (4 KiB pages, `KMALLOC_MIN_SIZE` = 8, no random kmalloc caches), which cache serves each "
              f"request? Use the kernel's names (e.g. `kmalloc-64`, `kmalloc-cg-1k`, `dma-kmalloc-8k`) or "
              f"`\"page allocator\"` when no kmalloc cache is used.\n\n{rows}")
    return Generated(prompt, {"requests": [{"size": s, "gfp": f} for s, f in reqs]}, answer)


def _grade_cache(answer: list[str], expected: list[str], data: Mapping[str, Any]) -> Verdict:
    if len(answer) != len(expected):
        return Verdict(0.0, f"expected {len(expected)} cache names, got {len(answer)}")
    wrong = [i for i, (a, e) in enumerate(zip(answer, expected)) if a != e]
    if not wrong:
        return Verdict(1.0, "correct")
    hints = []
    for i in wrong:
        a, e = answer[i], expected[i]
        size_a, size_e = a.rsplit("-", 1)[-1], e.rsplit("-", 1)[-1]
        if a != PAGE_ALLOCATOR and e != PAGE_ALLOCATOR and size_a == size_e:
            hints.append(f"{chr(97 + i)}: right size, wrong type — kmalloc_type() picks DMA for __GFP_DMA, "
                         "cg for __GFP_ACCOUNT, otherwise the normal caches")
        else:
            hints.append(f"{chr(97 + i)}: wrong size class — up to 192 bytes kmalloc_size_index[(size-1)/8] "
                         "decides (so 96 and 192 exist), above that the next power of two, and above "
                         "KMALLOC_MAX_CACHE_SIZE (8 KiB) the page allocator")
    return Verdict(0.0, "; ".join(hints))


def cache_question(qid: str = "q1", points: float = 2) -> Question:
    """Name the kmalloc cache of four requests."""
    return Question(qid, "Which kmalloc cache?", points, "a list of four cache names (strings)",
                    _gen_cache, as_cache_name_list, _grade_cache,
                    hint=('kmalloc_type() picks DMA for __GFP_DMA, cg for __GFP_ACCOUNT, else the normal '
                          'caches; up to 192 bytes kmalloc_size_index[(size-1)/8] decides (96 and 192 '
                          'exist), above that the next power of two, above 8 KiB the page allocator'))


# --------------------------------------------------------------------------- q2: waste per struct
def _gen_waste(rng: random.Random) -> Generated:
    names = rng.sample(_STRUCT_NAMES, 3)
    sizes = []
    for lo, hi in rng.sample(_BANDS[3:], 3):
        size = rng.randint(lo, hi)
        sizes.append(size + (-size % 8) if rng.random() < 0.7 else size)  # C structs are mostly 8-aligned
    answer = [kmalloc_plan(s, _gfp.GFP_KERNEL).waste for s in sizes]
    rows = "\n".join(f"- `struct {n}`: `sizeof` = {s} bytes" for n, s in zip(names, sizes))
    prompt = ("Each structure is allocated on its own with `kzalloc(sizeof(struct X), GFP_KERNEL)`. How many "
              "bytes does each allocation waste, i.e. `ksize(p) - sizeof(struct X)`? (No debug options: ksize is "
              f"the cache's slot size.)\n\n{rows}")
    return Generated(prompt, {"structs": [{"name": n, "size": s} for n, s in zip(names, sizes)]}, answer)


def _grade_waste(answer: list[int], expected: list[int], data: Mapping[str, Any]) -> Verdict:
    if len(answer) != len(expected):
        return Verdict(0.0, f"expected {len(expected)} numbers, got {len(answer)}")
    wrong = [i for i, (a, e) in enumerate(zip(answer, expected)) if a != e]
    if not wrong:
        return Verdict(1.0, "correct")
    structs = data["structs"]
    neg = any(answer[i] < 0 for i in wrong)
    return Verdict(0.0, f"{len(wrong)} of {len(expected)} wrong (struct "
                   + ", ".join(structs[i]["name"] for i in wrong) + "): "
                   + ("waste cannot be negative; " if neg else "")
                   + "remember ksize rounds up to the size of the kmalloc cache that serves the request "
                     "(96 and 192 exist too), and the waste is that minus sizeof")


def waste_question(qid: str = "q2", points: float = 2) -> Question:
    """Bytes wasted by ``kzalloc`` of three structures."""
    return Question(qid, "How much does kmalloc waste?", points, "a list of three integers (bytes)",
                    _gen_waste, lambda v: as_int_list(v), _grade_waste,
                    hint=('ksize() is the size of the kmalloc cache that serves the request (96 and 192 '
                          'exist too); the waste is that minus sizeof'))


# --------------------------------------------------------------------------- q3: large kmalloc
def _gen_large(rng: random.Random) -> Generated:
    name = rng.choice(_STRUCT_NAMES)
    elem = rng.choice([24, 40, 56, 72, 104, 136, 200, 328])
    count = rng.randint(8193 // elem + 1, (1 << 20) // elem)
    size = count * elem
    plan = kmalloc_plan(size, _gfp.GFP_KERNEL)
    prompt = (f"A driver allocates an array with `kmalloc_array({count}, sizeof(struct {name}), GFP_KERNEL)`, "
              f"where `sizeof(struct {name})` = {elem}. That is {size} bytes, more than `KMALLOC_MAX_CACHE_SIZE`. "
              "Give `(order, waste)`: the page order of the allocation and the bytes wasted "
              "(`ksize(p) - size`).")
    return Generated(prompt, {"count": count, "elem_size": elem, "size": size},
                     {"order": plan.order, "waste": plan.waste})


_LARGE_FIELDS = (("order", as_int), ("waste", as_int))


def _grade_large(answer: dict, expected: dict, data: Mapping[str, Any]) -> Verdict:
    o_ok, w_ok = answer["order"] == expected["order"], answer["waste"] == expected["waste"]
    if o_ok and w_ok:
        return Verdict(1.0, "correct")
    if o_ok:
        return Verdict(0.5, "the order is right but the number of wasted bytes is off: remember ksize() of a "
                            "large kmalloc is the whole folio, PAGE_SIZE << order")
    if w_ok:
        return Verdict(0.5, "the waste is right but the order is off: get_order(size) = fls64((size-1) >> 12)")
    return Verdict(0.0, "both are off: large kmalloc calls alloc_pages(order = get_order(size)) and ksize() "
                        "is PAGE_SIZE << order")


def large_question(qid: str = "q3", points: float = 2) -> Question:
    """Order and waste of a kmalloc above 8 KiB."""
    return Question(qid, "Large kmalloc", points, "(order, waste) as a tuple, or a dict with those keys",
                    _gen_large, lambda v: as_record(v, _LARGE_FIELDS), _grade_large,
                    hint=('a large kmalloc calls alloc_pages(get_order(size)) and ksize() is the whole '
                          'folio, PAGE_SIZE << order'))


# --------------------------------------------------------------------------- q4: custom cache geometry
def _random_cache(rng: random.Random, hwcache: bool | None = None) -> tuple[str, int, int, int, str]:
    name = rng.choice(_STRUCT_NAMES) + "_cache"
    band = rng.choice([(20, 200), (200, 700), (700, 2000), (2000, 5000)])
    size = rng.randint(*band)
    if rng.random() < 0.6:
        size += -size % 8
    align = rng.choice([0, 0, 8, 16, 32, 64])
    if hwcache is None:
        hwcache = rng.random() < 0.5
    flags = SLAB_HWCACHE_ALIGN if hwcache else 0
    flag_text = "SLAB_HWCACHE_ALIGN" if hwcache else "0"
    return name, size, align, flags, flag_text


def _gen_geometry(rng: random.Random) -> Generated:
    name, size, align, flags, flag_text = _random_cache(rng)
    g = make_geometry(name, size, align, flags)
    prompt = (f"A module creates `kmem_cache_create(\"{name}\", {size}, {align}, {flag_text}, NULL)` on the "
              "book's machine (x86-64, 4 KiB pages, 64-byte cache lines, 2 CPUs, no slub_debug, `slub_max_order` "
              "= 3, Linux ≥ 6.7). Give `(slab_size, order, objs_per_slab)` as sysfs would show them: the slot "
              "size `s->size`, the slab order and the objects per slab.")
    return Generated(prompt, {"name": name, "object_size": size, "align": align, "flags": flag_text},
                     {"slab_size": g.size, "order": g.order, "objs_per_slab": g.objects})


_GEOM_FIELDS = (("slab_size", as_int), ("order", as_int), ("objs_per_slab", as_int))


def _grade_geometry(answer: dict, expected: dict, data: Mapping[str, Any]) -> Verdict:
    ok = {k: answer[k] == expected[k] for k in expected}
    if all(ok.values()):
        return Verdict(1.0, "correct")
    msgs = []
    if not ok["slab_size"]:
        msgs.append("slab_size is off: align = calculate_alignment() (SLAB_HWCACHE_ALIGN halves the 64-byte line "
                    "while the object fits in half), then s->size = ALIGN(ALIGN(size, 8), align); the free "
                    "pointer sits inside the object")
    if not ok["order"]:
        msgs.append("the order is off: calculate_order() starts at get_order(min_objects * size) with "
                    "min_objects = 4 * (fls(nr_cpus) + 1) = 12 and accepts the first order whose leftover is at "
                    "most 1/16 of the slab (then 1/8, 1/4, 1/2)")
    if not ok["objs_per_slab"]:
        msgs.append("objs_per_slab is off: it is (PAGE_SIZE << order) / s->size")
    return Verdict(sum(ok.values()) / 3, "; ".join(msgs))


def geometry_question(qid: str = "q4", points: float = 3) -> Question:
    """slab_size, order and objects per slab of a custom cache."""
    return Question(qid, "Geometry of a custom cache", points,
                    "(slab_size, order, objs_per_slab) as a tuple, or a dict with those keys",
                    _gen_geometry, lambda v: as_record(v, _GEOM_FIELDS), _grade_geometry,
                    hint=('align = calculate_alignment(), s->size = ALIGN(ALIGN(size, 8), align); '
                          'calculate_order() starts at get_order(min_objects * size) and accepts the first '
                          'order whose leftover is small enough; objs_per_slab = (PAGE_SIZE << order) / '
                          's->size'))


# --------------------------------------------------------------------------- q5: where the bytes go
def _gen_slab_waste(rng: random.Random) -> Generated:
    name, size, align, flags, flag_text = _random_cache(rng, hwcache=True)
    g = make_geometry(name, size, align, flags)
    prompt = (f"For `kmem_cache_create(\"{name}\", {size}, {align}, {flag_text}, NULL)` on the same machine, give "
              "`(per_object, per_slab)`: the bytes each slot adds beyond the object (`s->size - object_size`) and "
              "the bytes left over at the end of each slab of the preferred order.")
    return Generated(prompt, {"name": name, "object_size": size, "align": align, "flags": flag_text},
                     {"per_object": g.slot_overhead, "per_slab": g.slab_waste})


_SW_FIELDS = (("per_object", as_int), ("per_slab", as_int))


def _grade_slab_waste(answer: dict, expected: dict, data: Mapping[str, Any]) -> Verdict:
    ok = {k: answer[k] == expected[k] for k in expected}
    if all(ok.values()):
        return Verdict(1.0, "correct")
    msgs = []
    if not ok["per_object"]:
        msgs.append("per_object is off: find s->size first (hardware cache alignment, then ALIGN to it)")
    if not ok["per_slab"]:
        msgs.append("per_slab is off: the leftover is (PAGE_SIZE << order) - objs_per_slab * s->size, with the "
                    "order calculate_order() picks")
    return Verdict(sum(ok.values()) / 2, "; ".join(msgs))


def slab_waste_question(qid: str = "q5", points: float = 2) -> Question:
    """Per-object and per-slab waste of a hardware-cache-aligned cache."""
    return Question(qid, "Where do the bytes go?", points, "(per_object, per_slab) as a tuple, or a dict",
                    _gen_slab_waste, lambda v: as_record(v, _SW_FIELDS), _grade_slab_waste,
                    hint=('find s->size first (hardware cache alignment, then ALIGN to it); the leftover is'
                          ' (PAGE_SIZE << order) - objs_per_slab * s->size'))


ASSIGNMENT = Assignment(
    "kmalloc", "Homework 2 — kmalloc and slab caches", "Part II",
    (cache_question(), waste_question(), large_question(), geometry_question(), slab_waste_question()),
    "kmalloc size classes and types, ksize waste, large kmalloc, custom cache geometry and slab leftovers")
