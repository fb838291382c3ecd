"""``kmemlib lab run``: one Debian kernel booted under QEMU, its allocator state saved as a snapshot."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import LabError, LabGuestCrashError
from . import dump as _dump
from .initramfs import write_initramfs
from .kernels import KERNELS, cache_dir, fetch_kernel
from .modules import build_module, list_modules
from .qemu import DEFAULT_TIMEOUT, boot, print_progress

MAX_CPUS = 16
MEM_RANGE_MIB = (256, 16384)


def parse_mem(mem: str | int) -> int:
    """Guest memory in MiB from ``512M``, ``2G``, ``2GiB``, ``1536`` (MiB) or an int (MiB)."""
    if isinstance(mem, bool):
        raise LabError(f"memory size {mem!r} is not a size")
    if isinstance(mem, int):
        mib = mem
    else:
        m = re.fullmatch(r"\s*(\d+)\s*([MmGg]?)(?:i?[Bb])?\s*", str(mem))
        if not m:
            raise LabError(f"memory size {mem!r}: write it like 512M or 2G")
        mib = int(m.group(1)) * (1024 if m.group(2).lower() == "g" else 1)
    lo, hi = MEM_RANGE_MIB
    if not lo <= mib <= hi:
        raise LabError(f"memory size {mib} MiB out of range {lo} MiB .. {hi // 1024} GiB")
    return mib


def mem_label(mib: int) -> str:
    """``512m``, ``2g``: the memory part of a run's name."""
    return f"{mib // 1024}g" if mib % 1024 == 0 else f"{mib}m"


def parse_module(spec: str) -> tuple[str, str]:
    """``NAME`` or ``NAME:ARGS`` (insmod arguments, e.g. ``kmalloc_sweep:step=262144``) -> (name, args)."""
    name, _, args = spec.partition(":")
    name = name.strip()
    if name not in list_modules():
        raise LabError(f"unknown module {name!r} (shipped: {', '.join(list_modules())})")
    if not re.fullmatch(r"[\w=,. -]*", args):
        raise LabError(f"module arguments {args!r}: only name=value pairs separated by spaces")
    return name, args.strip()


def run_name(kernel: str, cpus: int, mem_mib: int) -> str:
    """Name of a run's folder, e.g. ``linux-6.12-x86_64-4cpu-2g``."""
    return f"linux-{kernel}-x86_64-{cpus}cpu-{mem_label(mem_mib)}"


@dataclass(frozen=True)
class LabRun:
    """A finished run: where its snapshot is and what was booted."""

    path: Path
    kernel: str
    release: str
    cpus: int
    mem_mib: int
    boot_seconds: float
    modules: tuple[str, ...]


def run(kernel: str = "6.12", cpus: int = 2, mem: str | int = "512M", modules: tuple[str, ...] | list[str] = (),
        out: str | os.PathLike | None = None, *, cache: str | os.PathLike | None = None,
        timeout: float = DEFAULT_TIMEOUT, progress: bool | Callable[[float, str], None] = False,
        log: Callable[[str], None] = lambda s: None, retries: int = 2, crash_retries: int = 2) -> LabRun:
    """Boot Debian's ``kernel`` (``"6.1"`` or ``"6.12"``) with ``cpus`` CPUs and ``mem`` memory under QEMU,
    load ``modules`` (names of :func:`kmemlib.lab.list_modules`, optionally ``NAME:ARGS``) and write the
    allocator state as a snapshot folder ``out`` (default ``<cache>/runs/<run name>``).

    Downloads the kernel (and headers when modules are asked for) with ``apt-get download`` the first
    time; later runs use the cache. ``/proc/buddyinfo`` and ``/proc/pagetypeinfo`` are read one after the
    other; if a page moved in between (they disagree) the boot is repeated up to ``retries`` times
    (``lab.json`` says ``free_lists_consistent``). A guest kernel that oopses or panics under emulation is booted
    again, up to ``crash_retries`` times (``lab.json`` lists those crashes in ``guest_crashes_before``). Raises
    :class:`kmemlib.errors.LabError` subclasses: a missing tool, a package that cannot be fetched, a module that
    fails to build, a boot that times out, a guest that crashes on every attempt.
    """
    if kernel not in KERNELS:
        raise LabError(f"unknown kernel {kernel!r}: the lab boots {', '.join(KERNELS)}")
    if isinstance(cpus, bool) or not isinstance(cpus, int) or not 1 <= cpus <= MAX_CPUS:
        raise LabError(f"--cpus must be an integer from 1 to {MAX_CPUS}, got {cpus!r}")
    mem_mib = parse_mem(mem)
    mods = [parse_module(m) for m in modules]
    if len({n for n, _ in mods}) != len(mods):
        raise LabError("each module can be loaded once per run")
    if not timeout or timeout <= 0:
        raise LabError(f"timeout must be positive, got {timeout!r}")
    for name, value in (("retries", retries), ("crash_retries", crash_retries)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise LabError(f"{name} must be an integer from 0 to 10, got {value!r}")
    base = cache_dir(cache)
    dest = Path(out) if out is not None else base / "runs" / run_name(kernel, cpus, mem_mib)
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not (dest / _dump.LAB_JSON).is_file())):
        raise LabError(f"{dest} exists and is not an earlier lab run: choose another --out")
    k = fetch_kernel(kernel, headers=bool(mods), cache=base, log=log)
    built = []
    for name, args in mods:
        log(f"lab: building {name}.ko for {k.release}")
        built.append((name, build_module(name, k, base / k.release / "modules"), args))
    cb = print_progress(f"lab: {k.release}, {cpus} CPU(s), {mem_label(mem_mib)}: ") if progress is True else (
        progress or None)
    crashes: list[str] = []
    attempt = 0
    while True:
        with tempfile.TemporaryDirectory(prefix="kmemlib-lab-") as tmp:
            initrd = write_initramfs(Path(tmp) / "initrd.gz", built)
            try:
                result = boot(k.vmlinuz, initrd, Path(tmp), cpus=cpus, mem_mib=mem_mib, timeout=timeout,
                              progress=cb)
            except LabGuestCrashError as exc:
                # Software emulation (multi-threaded TCG) now and then crashes a guest that boots fine the next
                # time; a kernel that crashes on every attempt still fails the run.
                if len(crashes) == crash_retries:
                    raise
                crashes.append(str(exc).split("\n", 1)[0])
                log(f"lab: {crashes[-1]}; booting again")
                continue
        if progress is True:
            cb(result.seconds, "done")
        files = _dump.decode_dump(result.dump)
        consistent = _dump.free_lists_consistent(files)
        if consistent:
            break
        log(f"lab: buddyinfo and pagetypeinfo disagree (a page moved between the two reads); "
            f"{'booting again' if attempt < retries else 'keeping this run'}")
        if attempt == retries:
            break
        attempt += 1
    meta = {"format": 1, "kernel": kernel, "release": k.release, "package": f"linux-image-{k.release}-unsigned",
            "cpus": cpus, "mem_mib": mem_mib, "boot_seconds": round(result.seconds, 1),
            "qemu": "-accel tcg,thread=multi -cpu max", "free_lists_consistent": consistent,
            "guest_crashes_before": crashes,
            "modules": {n: {"args": a} for n, _, a in built}}
    if dest.exists():
        for p in sorted(dest.rglob("*"), reverse=True):
            p.unlink() if not p.is_dir() else p.rmdir()
    _dump.write_snapshot(files, dest, meta)
    return LabRun(dest, kernel, k.release, cpus, mem_mib, result.seconds, tuple(n for n, _ in mods))


__all__ = ["LabRun", "run", "run_name", "parse_mem", "parse_module", "mem_label", "MAX_CPUS"]
