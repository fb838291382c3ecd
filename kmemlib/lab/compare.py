"""``kmemlib lab compare``: the model against a kernel's snapshot (a lab run or any snapshot folder).

Three parts, each with the kernel version as a parameter (read from ``lab.json`` or ``proc/version``):

* slab geometry of every cache (:func:`kmemlib.readers.sysfs.compare_live`);
* ``min_free_kbytes``, zone watermarks and ``lowmem_reserve`` from the managed pages *at the moment
  the kernel computed them* (``postcore_initcall(init_per_zone_wmark_min)`` and khugepaged's
  ``set_recommended_min_free_kbytes``), i.e. before the late boot frees that ``dmesg`` reports
  (:func:`kmemlib.readers.dmesg.late_freed_pages`);
* each module's output (``module/<name>.txt``) against the model's prediction
  (:mod:`kmemlib.lab.predict`).

Known difference, reported and not counted as a failure: ``pages_exact_probe``'s last step. The
kernel frees those order-0 pages to the per-CPU page lists (``free_unref_page``), which buddyinfo and
the free lists do not show; the model has no per-CPU lists and merges them back at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SourceUnavailableError
from ..mm import watermarks as _wm
from ..mm.mmzone import ZONE_NAMES
from ..readers import dmesg as _dmesg
from ..readers import procfs, sysfs
from ..readers.snapshots import snapshot_dir
from . import predict
from .dump import read_lab_meta

PCP_NOTE = ("per-CPU lists: the kernel keeps the freed order-0 pages on a CPU's page list, off the buddy "
            "free lists; the model has no per-CPU lists")


@dataclass(frozen=True)
class Check:
    """One compared value (or line): what the model says, what the kernel says."""

    section: str
    what: str
    predicted: object
    actual: object
    note: str = ""

    @property
    def match(self) -> bool:
        return self.predicted == self.actual

    @property
    def explained(self) -> bool:
        """A known, documented difference (see the module docstring)."""
        return not self.match and self.note == PCP_NOTE


@dataclass(frozen=True)
class LabComparison:
    """Result of :func:`compare`."""

    root: str
    kernel: str
    meta: dict
    slab: sysfs.ComparisonReport
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.match and not c.explained]

    @property
    def ok(self) -> bool:
        """Every cache and every check matches (known per-CPU list differences aside)."""
        return self.slab.matched == self.slab.total and not self.failures

    def section(self, name: str) -> list[Check]:
        return [c for c in self.checks if c.section == name]

    def text(self, only_mismatches: bool = False) -> str:
        """The report as plain text."""
        m = self.meta
        head = f"kernel {self.kernel}"
        if m:
            head += (f" ({m.get('release')}, {m.get('cpus')} CPU(s), {m.get('mem_mib')} MiB, "
                     f"booted in {m.get('boot_seconds')} s under QEMU)")
        out = [f"== {head}: {self.root}", "", "-- slab geometry (every cache in /sys/kernel/slab)",
               self.slab.table(only_mismatches=True) if only_mismatches else self.slab.table()]
        for sec in dict.fromkeys(c.section for c in self.checks):
            rows = self.section(sec)
            ok = sum(c.match for c in rows)
            out += ["", f"-- {sec}: {ok}/{len(rows)} match"]
            w = max(len(c.what) for c in rows)
            for c in rows:
                if only_mismatches and c.match:
                    continue
                mark = "ok" if c.match else ("known" if c.explained else "DIFF")
                if c.match:
                    out.append(f"  {mark:<5} {c.what:<{w}}  {c.actual}")
                else:
                    out.append(f"  {mark:<5} {c.what:<{w}}  model {c.predicted}  kernel {c.actual}"
                               + (f"  ({c.note})" if c.note else ""))
        verdict = "model and kernel agree" if self.ok else f"{len(self.failures)} check(s) and " \
            f"{self.slab.total - self.slab.matched} cache(s) differ"
        out += ["", f"== {verdict}"]
        return "\n".join(out)


def _resolve(run: str | os.PathLike) -> Path:
    p = Path(run)
    if p.is_dir():
        return p
    try:
        return snapshot_dir(str(run))
    except FileNotFoundError:
        raise SourceUnavailableError(f"{run} is neither a folder nor a shipped snapshot name") from None


def kernel_of(root: Path, meta: dict | None = None) -> str:
    """``"6.1"``, ``"6.12"``, ...: from ``lab.json``, else ``proc/version``, else ``"6.18"`` (the
    kernel the first shipped snapshots come from, which have no ``proc/version``)."""
    meta = read_lab_meta(root) if meta is None else meta
    if meta.get("kernel"):
        return str(meta["kernel"])
    v = procfs.read_kernel_version(root)
    return f"{v[0]}.{v[1]}" if v else "6.18"


def _watermark_checks(root: Path, kernel: str) -> list[Check]:
    zones = procfs.read_zoneinfo(root)
    mfk = procfs.read_min_free_kbytes(root)
    if mfk is None:
        return []
    try:
        log = (root / "lab" / "dmesg.txt").read_text()
    except OSError:
        log = ""            # no boot log (a snapshot of a long-running machine): the final managed pages
    managed = [0] * len(ZONE_NAMES)
    for z in zones:
        if z.node == 0 and z.name in ZONE_NAMES:
            managed[ZONE_NAMES.index(z.name)] = z.managed
    late = _dmesg.late_freed_pages(log)
    wsf = procfs.read_vm_int(root, "watermark_scale_factor", 10)
    ratios = procfs.read_lowmem_reserve_ratio(root)
    boot = _wm.boot_watermarks(managed, late_freed_pages=late, kernel_version=kernel,
                               watermark_scale_factor=wsf, lowmem_reserve_ratio=ratios)
    sec = "watermarks and lowmem_reserve"
    checks = [Check(sec, "min_free_kbytes", boot.min_free_kbytes, mfk,
                    f"{late} pages freed after the watermarks were set" if log else "no boot log")]
    for z in zones:
        if z.node != 0 or z.name not in ZONE_NAMES or z.name == "Device":
            continue
        i = ZONE_NAMES.index(z.name)
        wmin, low, high, promo = boot.wmarks[i]
        act = (z.min - z.boost, z.low - z.boost, z.high - z.boost)
        pred = (wmin, low, high)
        if z.promo is not None:
            act += (z.promo - z.boost,)
            pred += (promo,)
        checks.append(Check(sec, f"{z.name} min/low/high{'/promo' if z.promo is not None else ''}", pred, act))
        checks.append(Check(sec, f"{z.name} protection", tuple(boot.lowmem_reserve[i][:len(z.protection)]),
                            tuple(z.protection)))
    return checks


def _module_checks(root: Path, kernel: str, meta: dict) -> list[Check]:
    checks: list[Check] = []
    mods = meta.get("modules", {})
    mdir = root / "module"
    names = sorted(p.stem for p in mdir.glob("*.txt")) if mdir.is_dir() else []
    for name in names:
        real = (mdir / f"{name}.txt").read_text().splitlines()
        args = predict.module_args(mods.get(name, {}).get("args", ""))
        sec = f"module {name}"
        if name == "kmalloc_sweep":
            pred = predict.kmalloc_sweep_lines(int(args.get("step", 200 * 1024)), int(args.get("start", 0)))
        elif name == "ksize_probe":
            sizes = tuple(int(s) for s in args["sizes"].split(",")) if "sizes" in args else predict.KSIZE_PROBE_SIZES
            pred = predict.ksize_probe_lines(sizes, kernel_version=kernel)
        elif name == "pages_exact_probe":
            checks += _pages_exact_checks(root, real, sec)
            continue
        else:
            continue
        for i in range(max(len(pred), len(real))):
            p = pred[i] if i < len(pred) else "(no line)"
            a = real[i] if i < len(real) else "(no line)"
            checks.append(Check(sec, f"line {i + 1}", p.split(": ", 1)[-1], a.split(": ", 1)[-1]))
    return checks


def _pages_exact_checks(root: Path, real: list[str], sec: str) -> list[Check]:
    size, steps = predict.parse_pages_exact(real)
    if not steps or steps[0].step != "start":
        return [Check(sec, "output", "step lines", "none")]
    start = steps[0]
    zi = next((z for z in procfs.read_zoneinfo(root) if z.name == start.zone), None)
    if zi is None:
        return [Check(sec, "zone", start.zone, "not in zoneinfo")]
    counts = {mt: c for mt, c in start.counts.items() if mt < 4}

    def factory():
        return procfs.zone_from_counts(zi.name, zi.start_pfn, zi.spanned, counts, present=zi.present,
                                       managed=zi.managed, zone_idx=ZONE_NAMES.index(zi.name), log_events=False)
    model = dict(predict.pages_exact_model(factory, size))
    out = []
    for st in steps[1:]:
        pred = model.get(st.step)
        if pred is None:
            continue
        for mt in sorted(pred):
            note = PCP_NOTE if st.step == "free_pages_exact" else ""
            out.append(Check(sec, f"{st.step} type {mt}", " ".join(map(str, pred[mt])),
                             " ".join(map(str, st.counts.get(mt, []))), note))
    return out


def compare(run: str | os.PathLike) -> LabComparison:
    """Compare the model with the kernel snapshot ``run`` (a folder, e.g. what :func:`kmemlib.lab.run`
    returned, or the name of a shipped snapshot)."""
    root = _resolve(run)
    meta = read_lab_meta(root)
    kernel = kernel_of(root, meta)
    report = sysfs.compare_live(root, kernel_version=kernel)
    checks = _watermark_checks(root, kernel) + _module_checks(root, kernel, meta)
    return LabComparison(str(root), kernel, meta, report, tuple(checks))


__all__ = ["Check", "LabComparison", "PCP_NOTE", "compare", "kernel_of"]
