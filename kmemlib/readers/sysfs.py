"""Read the live kernel's slab caches (``/sys/kernel/slab``, ``/proc/slabinfo``) and check the model.

Every reader takes ``root``: ``"/"`` for this machine, or a snapshot directory laid out like ``/``
(see :mod:`kmemlib.readers.snapshots`). A snapshot stores ``/sys/kernel/slab`` compactly as
``<root>/sys/kernel/slab.json`` (every readable attribute of every cache directory, plus the alias
symlinks); a real ``<root>/sys/kernel/slab/`` directory is preferred when present.

Attribute meanings follow mm/slub.c (``*_show`` functions, ``slab_attrs[]``); /proc/slabinfo
follows ``print_slabinfo_header``/``cache_show`` in mm/slab_common.c. Nothing here ever writes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Collection

from ..errors import KmemError, ParseError, SourceUnavailableError
from ..mm import kmalloc as _km
from ..mm.slab_flags import (
    SLAB_TYPESAFE_BY_RCU,
    SLAB_ACCOUNT,
    SLAB_CACHE_DMA,
    SLAB_CACHE_DMA32,
    SLAB_CONSISTENCY_CHECKS,
    SLAB_DEBUG_FLAGS,
    SLAB_KMALLOC,
    SLAB_RECLAIM_ACCOUNT,
    SYSFS_FLAG_FILES,
)
from ..mm.slub import (DEFAULT_PARAMS, CacheGeometry, SlubParams, create_unique_id, kmalloc_cache_geometry,
                       make_geometry, params_for_kernel)
from ..mm.version import DEFAULT_KERNEL_VERSION, version_tuple
from .procfs import read_kernel_version
from .text import check_str, read_text, u64

SLAB_JSON = "sys/kernel/slab.json"
SLAB_DIR = "sys/kernel/slab"
SLABINFO = "proc/slabinfo"
CPU_PRESENT = "sys/devices/system/cpu/present"
WRITE_ONLY_ATTRS = frozenset({"validate", "shrink"})
"""Attributes that are triggers: not read (mm/slub.c ``SLAB_ATTR_WO`` style, or side effects)."""
INT_ATTRS = ("object_size", "slab_size", "align", "order", "objs_per_slab", "aliases", "usersize",
             "min_partial", "cpu_partial")

FREEPTR_OFFSET_CACHES_6_18: frozenset[str] = frozenset({"filp", "bfilp", "vm_area_struct"})
"""SLAB_TYPESAFE_BY_RCU caches that Linux 6.18 creates with ``kmem_cache_args.freeptr_offset``
(files_cachep/bfilp_cachep in fs/file_table.c since 6.13, vm_area_cachep since 6.18). sysfs cannot
show this, and it decides whether the free pointer adds a word (``calculate_sizes``)."""


def freeptr_offset_caches_for(kernel_version: str = DEFAULT_KERNEL_VERSION) -> frozenset[str]:
    """The caches a kernel release creates with ``freeptr_offset`` (``kmem_cache_args``, 6.12+).

    * before 6.12: none (``freeptr_offset`` did not exist; on 6.1 ``filp`` and ``vm_area_struct``
      are not even ``SLAB_TYPESAFE_BY_RCU``);
    * 6.12 up to 6.17: ``filp`` (Debian's 6.12.117 ``files_init()`` passes ``f_freeptr``; it is RCU
      since 6.12. Its 184-byte objects fill a 192-byte slot either way);
    * 6.18 on: :data:`FREEPTR_OFFSET_CACHES_6_18` (``vm_area_struct`` became RCU with an offset in 6.18).
    """
    v = version_tuple(kernel_version)
    if v < (6, 12):
        return frozenset()
    if v < (6, 18):
        return frozenset({"filp"})
    return FREEPTR_OFFSET_CACHES_6_18


def kernel_version_of(root: str | os.PathLike = "/") -> str:
    """``"6.12"`` from ``<root>/proc/version``; the default model version where the file is absent."""
    v = read_kernel_version(root)
    return f"{v[0]}.{v[1]}" if v else DEFAULT_KERNEL_VERSION


# --------------------------------------------------------------------------------------------
# Low-level readers
# --------------------------------------------------------------------------------------------

NR_CPUS_MAX = 8192
"""Largest ``CONFIG_NR_CPUS`` (MAXSMP on x86-64): CPU numbers in a cpulist are below it."""
_CPU_RANGE = re.compile(r"(0|[1-9][0-9]*)(?:-(0|[1-9][0-9]*))?", re.ASCII)
_UNIQUE_ID = re.compile(r":(?:[dDaFA]+-)?[0-9]{7,}", re.ASCII)
"""A ``create_unique_id()`` directory name: ':', the flag letters and '-' if any, the size as %07u."""


def _read_text(path: Path) -> str:
    return read_text(path)


def _check_params(params: object, name: str) -> None:
    if not isinstance(params, SlubParams):
        raise ParseError(f"{name} must be a SlubParams, got {params!r:.60}")


def _root(root: object) -> Path:
    if not isinstance(root, (str, os.PathLike)):
        raise SourceUnavailableError(f"root must be a path such as '/' or a snapshot folder, got {root!r}")
    return Path(root)


def parse_cpulist(text: str, source: str = "cpulist") -> list[int]:
    """CPU numbers of a cpulist such as ``0-1,4,6-7`` (``cpulist_parse``); every CPU below NR_CPUS (8192)."""
    check_str(text, source)
    cpus: list[int] = []
    t = text[:-1] if text.endswith("\n") else text
    if not t:
        return cpus
    for part in t.split(","):
        m = _CPU_RANGE.fullmatch(part)
        if not m:
            raise ParseError(f"{source}: malformed cpulist element {part[:40]!r} (expected N or N-M)")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise ParseError(f"{source}: bad cpu range {part!r} (end below start)")
        if hi >= NR_CPUS_MAX:
            raise ParseError(f"{source}: cpu {hi} in {part[:40]!r} is not below NR_CPUS ({NR_CPUS_MAX})")
        if cpus and lo <= cpus[-1]:
            raise ParseError(f"{source}: cpu range {part!r} is not in increasing order")
        cpus.extend(range(lo, hi + 1))
    return cpus


def read_present_cpus(root: str | os.PathLike = "/") -> int:
    """``num_present_cpus()``: number of CPUs in ``<root>/sys/devices/system/cpu/present``."""
    path = _root(root) / CPU_PRESENT
    n = len(parse_cpulist(_read_text(path), str(path)))
    if n < 1:
        raise ParseError(f"{path}: no present CPU")
    return n


def _first_int(text: str, where: str) -> int:
    tok = text.split(" ")[0].rstrip("\n") if text else ""
    if not tok:
        raise ParseError(f"{where}: empty, expected an integer")
    return u64(tok, where, 1, "the value")


@dataclass
class SysfsCache:
    """One ``/sys/kernel/slab/<dir>`` (a real cache) with the alias symlinks that point to it."""

    dirname: str
    attrs: dict[str, str]
    alias_names: list[str] = field(default_factory=list)

    def int(self, attr: str) -> int:
        """Leading integer of an attribute (per-node files read as their total)."""
        if attr not in self.attrs:
            raise ParseError(f"/sys/kernel/slab/{self.dirname}/{attr} is missing")
        return _first_int(self.attrs[attr], f"/sys/kernel/slab/{self.dirname}/{attr}")

    @property
    def object_size(self) -> int:
        return self.int("object_size")

    @property
    def slab_size(self) -> int:
        return self.int("slab_size")

    @property
    def align(self) -> int:
        return self.int("align")

    @property
    def order(self) -> int:
        return self.int("order")

    @property
    def objs_per_slab(self) -> int:
        return self.int("objs_per_slab")

    @property
    def ctor(self) -> str:
        return self.attrs.get("ctor", "").strip()

    @property
    def mergeable_name(self) -> bool:
        """The directory is a ``create_unique_id`` name (``:...``), i.e. the cache is mergeable."""
        return self.dirname.startswith(":")

    @property
    def is_kmalloc(self) -> bool:
        return self.kmalloc_index_type() is not None

    def kmalloc_index_type(self) -> tuple[int, int] | None:
        """``(kmalloc_info index, type)`` when the directory is a kmalloc cache name."""
        for type_, prefix in sorted(_km.KMALLOC_TYPE_PREFIX.items(), key=lambda kv: -len(kv[1])):
            if self.dirname.startswith(prefix):
                short = self.dirname[len(prefix):]
                for idx, (_, s) in enumerate(_km.KMALLOC_INFO):
                    if idx and s == short:
                        return idx, type_
        return None

    @property
    def flags(self) -> int:
        """SLAB flags visible in sysfs (flag files, the ``d``/``D``/``a``/``F``/``A`` letters of a merged
        name as ``create_unique_id`` writes them, SLAB_KMALLOC for kmalloc names). ACCOUNT/NO_MERGE
        (and DMA32) of unmergeable caches are invisible."""
        f = 0
        for attr, bit in SYSFS_FLAG_FILES.items():
            if attr in self.attrs and self.attrs[attr].strip() == "1":
                f |= bit
        if self.mergeable_name:
            letters = self.dirname[1:].split("-")[0] if "-" in self.dirname else ""
            for ch, bit in (("d", SLAB_CACHE_DMA), ("D", SLAB_CACHE_DMA32), ("a", SLAB_RECLAIM_ACCOUNT),
                            ("F", SLAB_CONSISTENCY_CHECKS), ("A", SLAB_ACCOUNT)):
                if ch in letters:
                    f |= bit
        if self.is_kmalloc:
            f |= SLAB_KMALLOC
        return f

    def names(self) -> list[str]:
        """The directory name and every alias."""
        return [self.dirname, *self.alias_names]


def _check_dirname(name: str, where: str) -> None:
    """A cache directory name sysfs can hold: a ``create_unique_id`` name, or a printable name without blanks."""
    if name.startswith(":"):
        if not _UNIQUE_ID.fullmatch(name):
            raise ParseError(f"{where}/{name}: a ':' directory must be a create_unique_id() name such as "
                             "':0000064' or ':a-0000104'")
    elif not name or not name.isprintable() or any(c.isspace() for c in name) or "/" in name or len(name) > 255:
        raise ParseError(f"{where}: {name[:60]!r} is not a cache name (printable, no blanks)")


def _read_slab_dir(base: Path) -> dict[str, SysfsCache]:
    try:
        entries = sorted(os.listdir(base))
    except OSError as e:
        raise SourceUnavailableError(f"{base} is unreadable: {e.strerror or e}") from e
    caches: dict[str, SysfsCache] = {}
    links: dict[str, str] = {}
    for name in entries:
        p = base / name
        _check_dirname(name, str(base))
        if p.is_symlink():
            try:
                links[name] = os.path.basename(os.readlink(p))
            except OSError as e:
                raise SourceUnavailableError(f"{p} cannot be read: {e.strerror or e}") from None
            continue
        if not p.is_dir():
            continue
        attrs: dict[str, str] = {}
        try:
            names = sorted(os.listdir(p))
        except FileNotFoundError:
            continue            # cache destroyed while we were reading
        for attr in names:
            if attr in WRITE_ONLY_ATTRS:
                continue
            try:
                attrs[attr] = read_text(p / attr)
            except SourceUnavailableError:
                continue        # e.g. attributes that are not readable on this config
        caches[name] = SysfsCache(name, attrs)
    return _attach_links(caches, links, str(base))


def _attach_links(caches: dict[str, SysfsCache], links: dict[str, str], where: str) -> dict[str, SysfsCache]:
    for alias, target in links.items():
        if not isinstance(alias, str) or not isinstance(target, str):
            raise ParseError(f"{where}: alias {str(alias)[:60]!r} must name a cache directory (a string), "
                             f"got {str(target)[:60]!r}")
        _check_dirname(alias, where)
        if alias in caches:
            raise ParseError(f"{where}/{alias}: both a cache directory and an alias")
    for alias, target in sorted(links.items()):
        if target not in caches:
            raise ParseError(f"{where}/{alias}: alias points to {target!r}, which is not a cache directory")
        caches[target].alias_names.append(alias)
    return caches


def _read_slab_json(path: Path) -> dict[str, SysfsCache]:
    text = _read_text(path)
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError("the top level must be an object")
        caches_raw = data["caches"]
        links = data.get("links", {})
        if not isinstance(caches_raw, dict) or not isinstance(links, dict):
            raise TypeError("caches/links must be objects")
        caches = {}
        for name, attrs in caches_raw.items():
            if not isinstance(attrs, dict) or not all(isinstance(v, str) for v in attrs.values()):
                raise TypeError(f"attributes of {name[:60]!r} must map names to strings")
            _check_dirname(name, str(path))
            caches[name] = SysfsCache(name, dict(attrs))
    except (ValueError, KeyError, TypeError) as e:
        raise ParseError(f"{path}: malformed slab snapshot ({str(e)[:200]})") from None
    except RecursionError:
        raise ParseError(f"{path}: malformed slab snapshot (nested too deeply)") from None
    return _attach_links(caches, links, str(path))


def read_sysfs_slab(root: str | os.PathLike = "/") -> dict[str, SysfsCache]:
    """Every cache directory of ``<root>/sys/kernel/slab`` with its aliases resolved.

    Falls back to ``<root>/sys/kernel/slab.json`` (snapshot form). Raises
    :class:`SourceUnavailableError` when neither exists, :class:`ParseError` when malformed.
    """
    root = _root(root)
    d = root / SLAB_DIR
    if d.is_dir():
        caches = _read_slab_dir(d)
    elif (root / SLAB_JSON).is_file():
        caches = _read_slab_json(root / SLAB_JSON)
    else:
        raise SourceUnavailableError(f"neither {d} nor {root / SLAB_JSON} exists")
    for c in caches.values():        # validate the geometry attributes up front
        for attr in ("object_size", "slab_size", "align", "order", "objs_per_slab"):
            c.int(attr)
    return caches


@dataclass(frozen=True)
class SlabinfoRow:
    """One ``/proc/slabinfo`` row (``cache_show``)."""

    name: str
    active_objs: int
    num_objs: int
    objsize: int          # s->size, the slot size
    objperslab: int
    pagesperslab: int
    limit: int
    batchcount: int
    sharedfactor: int
    active_slabs: int
    num_slabs: int
    sharedavail: int


def parse_slabinfo(text: str, source: str = "/proc/slabinfo") -> list[SlabinfoRow]:
    """Parse ``/proc/slabinfo`` version 2.1 text.

    Checked like ``cache_show`` writes it: the two header lines, then one row per cache (no duplicate names),
    unsigned numbers below 2^64, ``active_objs <= num_objs`` and ``active_slabs <= num_slabs``."""
    check_str(text, source)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != "slabinfo - version: 2.1":
        raise ParseError(f"{source}:1: expected 'slabinfo - version: 2.1', got {lines[0][:60] if lines else ''!r}")
    if len(lines) < 2 or not lines[1].startswith("# name "):
        raise ParseError(f"{source}:2: expected the '# name <active_objs> ...' header line")
    rows = []
    seen: dict[str, int] = {}
    for no, line in enumerate(lines[2:], start=3):
        parts = [p for p in line.split(" ") if p]
        # name a n s o p : tunables l b s : slabdata a n s
        if len(parts) != 16 or parts[6] != ":" or parts[7] != "tunables" or parts[11] != ":" \
                or parts[12] != "slabdata" or not parts[0].isprintable() or any(c.isspace() for c in parts[0]):
            raise ParseError(f"{source}:{no}: malformed row {line[:100]!r}")
        nums = [u64(x, source, no, "a slabinfo field") for x in parts[1:6] + parts[8:11] + parts[13:16]]
        if parts[0] in seen:
            raise ParseError(f"{source}:{no}: cache {parts[0]!r} again (first on line {seen[parts[0]]})")
        seen[parts[0]] = no
        row = SlabinfoRow(parts[0], *nums)
        if row.active_objs > row.num_objs or row.active_slabs > row.num_slabs:
            raise ParseError(f"{source}:{no}: {parts[0]}: more active objects or slabs than there are")
        rows.append(row)
    return rows


def read_slabinfo(root: str | os.PathLike = "/") -> list[SlabinfoRow]:
    """Rows of ``<root>/proc/slabinfo``."""
    path = _root(root) / SLABINFO
    return parse_slabinfo(_read_text(path), str(path))


# --------------------------------------------------------------------------------------------
# Model of a live cache and the comparison
# --------------------------------------------------------------------------------------------

def params_for_root(root: str | os.PathLike = "/", base: SlubParams = DEFAULT_PARAMS,
                    kernel_version: str | None = None) -> SlubParams:
    """``base`` with ``nr_cpus`` read from ``<root>/sys/devices/system/cpu/present``, for the kernel
    release ``kernel_version`` (default: read from ``<root>/proc/version``, see
    :func:`kmemlib.mm.slub.params_for_kernel`)."""
    root = _root(root)
    _check_params(base, "base")
    if kernel_version is not None and not isinstance(kernel_version, str):
        raise ParseError(f"kernel_version must be a release string such as '6.12.0', got {kernel_version!r:.60}")
    version = kernel_version or kernel_version_of(root)
    return params_for_kernel(version, base, nr_cpus=read_present_cpus(root))


def model_cache(c: SysfsCache, params: SlubParams = DEFAULT_PARAMS,
                freeptr_offset_caches: Collection[str] = FREEPTR_OFFSET_CACHES_6_18) -> CacheGeometry:
    """Model of a live cache built from its sysfs attributes (``kmem_cache_create`` replayed).

    kmalloc caches are rebuilt from their *name* (``new_kmalloc_cache``: size, natural alignment,
    type flags) plus the debug flag files (red_zone, poison, store_user, sanity_checks, trace: what
    ``kmem_cache_flags`` added at boot for ``slab_debug=``), so object_size and align are
    predictions too. Other caches use
    sysfs object_size, align (``calculate_alignment`` is idempotent), the flag files, ctor
    presence and whether the cache is known to use ``freeptr_offset``.
    """
    if not isinstance(c, SysfsCache):
        raise ParseError(f"model_cache needs a SysfsCache from read_sysfs_slab(), got {c!r:.60}")
    _check_params(params, "params")
    kt = c.kmalloc_index_type()
    if kt is not None:
        debug = c.flags & SLAB_DEBUG_FLAGS
        if debug:
            params = replace(params, slub_debug=debug, slub_debug_slabs=(c.dirname,))
        return kmalloc_cache_geometry(kt[0], kt[1], params)
    names = set(c.names())
    # only an RCU cache can have a free-pointer offset: a name in the set that is not RCU on this
    # kernel (6.1's filp, say) is an ordinary cache
    fpo = 0 if names & set(freeptr_offset_caches) and c.flags & SLAB_TYPESAFE_BY_RCU else None
    return make_geometry(c.dirname, c.object_size, c.align, c.flags, ctor=bool(c.ctor),
                         freeptr_offset=fpo if fpo is not None and c.object_size > 0 else None, params=params)


COMPARED_FIELDS = ("slab_size", "order", "objs_per_slab", "align", "object_size", "min_partial", "cpu_partial")


@dataclass(frozen=True)
class CacheComparison:
    """Model vs kernel for one cache directory."""

    name: str
    aliases: tuple[str, ...]
    predicted: dict[str, int]
    actual: dict[str, int]
    notes: tuple[str, ...] = ()

    @property
    def mismatches(self) -> list[str]:
        return [f for f in self.predicted if self.predicted[f] != self.actual.get(f)]

    @property
    def core_match(self) -> bool:
        """slab_size, order and objs_per_slab all match."""
        return all(self.predicted[f] == self.actual[f] for f in ("slab_size", "order", "objs_per_slab"))

    @property
    def match(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True)
class ComparisonReport:
    """Result of :func:`compare_live`."""

    root: str
    nr_cpus: int
    caches: tuple[CacheComparison, ...]

    @property
    def total(self) -> int:
        return len(self.caches)

    @property
    def matched(self) -> int:
        """Caches whose every compared field matches."""
        return sum(c.match for c in self.caches)

    @property
    def core_matched(self) -> int:
        return sum(c.core_match for c in self.caches)

    def failures(self) -> list[CacheComparison]:
        return [c for c in self.caches if not c.match]

    def table(self, only_mismatches: bool = False) -> str:
        """Plain-text table: name, slab_size/order/objs predicted vs actual, verdict."""
        head = f"{'cache':<28} {'obj':>6} {'slab_size':>13} {'order':>7} {'objs':>9}  ok"
        out = [head, "-" * len(head)]
        for c in self.caches:
            if only_mismatches and c.match:
                continue
            p, a = c.predicted, c.actual

            def pair(f: str) -> str:
                return str(a[f]) if p[f] == a[f] else f"{p[f]}≠{a[f]}"
            out.append(f"{c.name:<28} {a['object_size']:>6} {pair('slab_size'):>13} {pair('order'):>7} "
                       f"{pair('objs_per_slab'):>9}  {'yes' if c.match else 'NO ' + ','.join(c.mismatches)}")
        out.append(f"{self.matched}/{self.total} caches match on {', '.join(COMPARED_FIELDS)} "
                   f"(slab_size/order/objs_per_slab: {self.core_matched}/{self.total}); nr_cpus={self.nr_cpus}")
        return "\n".join(out)


def compare_live(root: str | os.PathLike = "/", params: SlubParams | None = None, *,
                 freeptr_offset_caches: Collection[str] | None = None,
                 check_slabinfo: bool = True, kernel_version: str | None = None) -> ComparisonReport:
    """Predict slab_size, order, objs_per_slab (and align, object_size, min_partial, cpu_partial)
    of every cache in ``<root>/sys/kernel/slab`` and compare with the kernel's values.

    ``params`` defaults to :data:`DEFAULT_PARAMS` with ``nr_cpus`` read from ``root``. Merged
    caches must carry the ``create_unique_id`` name of their predicted size and flags; when
    ``check_slabinfo``, the ``/proc/slabinfo`` row of each cache must agree too (objsize column =
    slab_size, objperslab, pagesperslab = 1 << order); a disagreement is listed as a mismatch.

    ``kernel_version`` (default: ``params.kernel_version`` when ``params`` is given, else read from
    ``<root>/proc/version``, else 6.18) picks the version-dependent rules: ``calculate_order``,
    kmalloc alignment and :func:`freeptr_offset_caches_for`.
    """
    root = _root(root)
    if params is not None:
        _check_params(params, "params")
    if not isinstance(check_slabinfo, bool):
        raise ParseError(f"check_slabinfo must be True or False, got {check_slabinfo!r:.60}")
    if kernel_version is not None and not isinstance(kernel_version, str):
        raise ParseError(f"kernel_version must be a release string such as '6.12.0', got {kernel_version!r:.60}")
    if params is None:
        params = params_for_root(root, kernel_version=kernel_version)
    elif kernel_version is not None:
        params = params_for_kernel(kernel_version, params)
    if freeptr_offset_caches is None:
        freeptr_offset_caches = freeptr_offset_caches_for(params.kernel_version)
    caches = read_sysfs_slab(root)
    rows = {r.name: r for r in read_slabinfo(root)} if check_slabinfo else {}
    out = []
    for name in sorted(caches):
        c = caches[name]
        try:
            g = model_cache(c, params, freeptr_offset_caches)
        except ParseError:
            raise
        except KmemError as exc:
            raise ParseError(f"{Path(root) / SLAB_DIR}/{name}: cannot be modelled: {exc}") from None
        pred = {"slab_size": g.size, "order": g.order, "objs_per_slab": g.objects, "align": g.align,
                "object_size": g.object_size if c.is_kmalloc else c.object_size,
                "min_partial": g.min_partial, "cpu_partial": g.cpu_partial}
        act = {"slab_size": c.slab_size, "order": c.order, "objs_per_slab": c.objs_per_slab, "align": c.align,
               "object_size": c.object_size, "min_partial": c.int("min_partial"),
               "cpu_partial": c.int("cpu_partial")}
        notes = []
        if c.mergeable_name:
            pred["sysfs_name_size"] = g.size
            act["sysfs_name_size"] = int(name.rsplit("-", 1)[-1].lstrip(":"))
            if create_unique_id(c.flags, g.size) != name:
                notes.append(f"unique id would be {create_unique_id(c.flags, g.size)}")
        if check_slabinfo:
            row = next((rows[n] for n in c.names() if n in rows), None)
            if row is None:
                notes.append("no /proc/slabinfo row")
            else:
                pred["slabinfo"] = 1
                act["slabinfo"] = int(row.objsize == g.size and row.objperslab == g.objects
                                      and row.pagesperslab == 1 << g.order)
        out.append(CacheComparison(name, tuple(c.alias_names), pred, act, tuple(notes)))
    return ComparisonReport(str(root), params.nr_cpus, tuple(out))


# --------------------------------------------------------------------------------------------
# Snapshot writer
# --------------------------------------------------------------------------------------------

def save_slab_snapshot(dest_root: str | os.PathLike, src_root: str | os.PathLike = "/") -> dict[str, int]:
    """Copy ``src_root``'s slab data into a snapshot directory ``dest_root`` (laid out like ``/``):
    ``proc/slabinfo``, ``sys/devices/system/cpu/present`` and ``sys/kernel/slab.json``.

    Only reads from ``src_root``. Returns counts of caches and aliases written.
    """
    src, dest = _root(src_root), _root(dest_root)
    caches = read_sysfs_slab(src)
    slabinfo = _read_text(src / SLABINFO)
    parse_slabinfo(slabinfo)
    present = _read_text(src / CPU_PRESENT)
    data = {
        "format": 1,
        "caches": {n: c.attrs for n, c in sorted(caches.items())},
        "links": {a: n for n, c in sorted(caches.items()) for a in c.alias_names},
    }
    parse_cpulist(present, str(src / CPU_PRESENT))
    files = {SLABINFO: slabinfo, CPU_PRESENT: present,
             SLAB_JSON: json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n"}
    for rel, text in files.items():
        write_file_atomic(dest / rel, text)
    return {"caches": len(caches), "aliases": len(data["links"])}


def write_file_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary sibling of ``path``, then rename it over ``path`` (never a partial file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


__all__ = [
    "FREEPTR_OFFSET_CACHES_6_18", "SysfsCache", "SlabinfoRow", "CacheComparison", "ComparisonReport",
    "parse_cpulist", "read_present_cpus", "read_sysfs_slab", "parse_slabinfo", "read_slabinfo",
    "params_for_root", "model_cache", "compare_live", "save_slab_snapshot", "COMPARED_FIELDS",
]
