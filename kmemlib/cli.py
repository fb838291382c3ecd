"""The ``kmemlib`` command.

Subcommand groups (each a sub-parser, so more can be added without touching the others)::

    kmemlib homework ...        (see kmemlib.homework.commands)
    kmemlib snapshot list
    kmemlib snapshot save DIR [--from ROOT]
    kmemlib snapshot compare [--root ROOT | --snapshot NAME] [--mismatches]
    kmemlib lab run --kernel 6.1|6.12 --cpus N --mem SIZE [--module NAME[:ARGS]]... [--out DIR]
    kmemlib lab compare RUN [--mismatches]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser"]


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 1."""


def _snap_list(args: argparse.Namespace) -> int:
    from .readers.snapshots import list_snapshots, snapshot_dir
    for name in list_snapshots():
        print(f"{name}\t{snapshot_dir(name)}")
    return 0


def _snap_save(args: argparse.Namespace) -> int:
    from .readers.snapshots import save_snapshot
    out = Path(args.dir)
    if not args.dir:
        raise CliError("give the folder to save the snapshot in")
    counts = save_snapshot(out, args.src)
    print(f"saved {counts['files']} files, {counts['caches']} slab caches and {counts['aliases']} aliases "
          f"from {args.src} to {out}")
    return 0


def _snap_compare(args: argparse.Namespace) -> int:
    from .readers.snapshots import snapshot_dir
    from .readers.sysfs import compare_live
    root = snapshot_dir(args.snapshot) if args.snapshot is not None else Path(args.root)
    report = compare_live(root)
    print(report.table(only_mismatches=args.mismatches))
    print(f"{report.matched}/{report.total} caches: slab_size, order and objs_per_slab predicted exactly")
    return 0 if report.matched == report.total else 3


def _add_snapshot(sub: argparse._SubParsersAction) -> None:
    sn = sub.add_parser("snapshot", help="kernel allocator snapshots: list, save, compare with the model",
                        description="Snapshots are folders laid out like / holding /proc and /sys allocator files.")
    ssub = sn.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = ssub.add_parser("list", help="the snapshots shipped with kmemlib")
    p.set_defaults(func=_snap_list)
    p = ssub.add_parser("save", help="copy this machine's allocator files into DIR (reads only)")
    p.add_argument("dir")
    p.add_argument("--from", dest="src", default="/", help="root to read (default /)")
    p.set_defaults(func=_snap_save)
    p = ssub.add_parser("compare", help="predict every slab cache's geometry and compare with the kernel's")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--root", default="/", help="root to read (default /, the live kernel)")
    g.add_argument("--snapshot", help="a shipped snapshot's name instead")
    p.add_argument("--mismatches", action="store_true", help="list only the caches that differ")
    p.set_defaults(func=_snap_compare)


def _lab_run(args: argparse.Namespace) -> int:
    from . import lab
    r = lab.run(args.kernel, args.cpus, args.mem, args.module or (), args.out, cache=args.cache,
                timeout=args.timeout, progress=True, log=lambda msg: print(msg, file=sys.stderr))
    print(f"{r.release}, {r.cpus} CPU(s), {lab.mem_label(r.mem_mib)}: booted and dumped in {r.boot_seconds:.1f} s")
    print(f"snapshot: {r.path}")
    for name in r.modules:
        print(f"module output: {r.path / 'module' / (name + '.txt')}")
    print(f"compare with the model: kmemlib lab compare {r.path}")
    return 0


def _lab_compare(args: argparse.Namespace) -> int:
    from . import lab
    cmp = lab.compare(args.run)
    print(cmp.text(only_mismatches=args.mismatches))
    return 0 if cmp.ok else 3


def _add_lab(sub: argparse._SubParsersAction) -> None:
    lb = sub.add_parser("lab", help="boot Debian's kernels under QEMU, load the book's modules, compare with the model",
                        description="Real kernels in a VM: kmemlib lab run boots one (software emulation, no KVM "
                                    "needed) and saves its allocator state as a snapshot folder; kmemlib lab compare "
                                    "prints the model against it.")
    lsub = lb.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = lsub.add_parser("run", help="boot a kernel, load modules, save a snapshot")
    p.add_argument("--kernel", choices=["6.1", "6.12"], default="6.12", help="Debian kernel series (default 6.12)")
    p.add_argument("--cpus", type=int, default=2, help="virtual CPUs, 1-16 (default 2)")
    p.add_argument("--mem", default="512M", help="guest memory, e.g. 512M or 2G (default 512M)")
    p.add_argument("--module", action="append", metavar="NAME[:ARGS]",
                   help="a module from kmemlib/data/modules to load, e.g. kmalloc_sweep or "
                        "'kmalloc_sweep:step=262144' (repeatable)")
    p.add_argument("--out", help="snapshot folder to write (default ~/.cache/kmemlib/lab/runs/<run name>)")
    p.add_argument("--cache", help="download and build cache (default $KMEMLIB_LAB_CACHE or ~/.cache/kmemlib/lab)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds one boot may take (default 300)")
    p.set_defaults(func=_lab_run)
    p = lsub.add_parser("compare", help="the model against a run (a folder or a shipped snapshot name)")
    p.add_argument("run", help="a lab run folder, or the name of a shipped snapshot")
    p.add_argument("--mismatches", action="store_true", help="list only what differs")
    p.set_defaults(func=_lab_compare)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (sub-parsers inherit it): ``kmemlib snapshot: error: ...``."""

    def error(self, message: str):  # noqa: D102 - argparse API
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``kmemlib`` (one sub-parser per command group)."""
    parser = _Parser(prog="kmemlib", description="kmembook's engine: command-line tools.")
    sub = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    from .homework.commands import add_homework
    add_homework(sub)
    _add_snapshot(sub)
    _add_lab(sub)
    return parser


def _one_line(exc: BaseException) -> str:
    """An exception as one line for stderr (an OSError names its file)."""
    if isinstance(exc, UnicodeDecodeError):
        text = f"input is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset {exc.start})"
    elif isinstance(exc, OSError) and exc.filename and str(exc).startswith("[Errno"):
        text = f"{exc.filename}: {exc.strerror or exc}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kmemlib`` console script; returns the exit status.

    Bad input ends with one line on stderr and exit status 1 (argparse's own usage errors: 2); an
    unexpected exception is reported on one line as a bug (status 70), never as a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from .errors import KmemError
    try:
        return int(args.func(args) or 0)
    except (CliError, KmemError, OSError, ValueError) as exc:
        print(f"kmemlib: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kmemlib: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last guard: a bug must not print a traceback at the user
        print(f"kmemlib: internal error: {type(exc).__name__}: {_one_line(exc)} (a bug in kmemlib; please report "
              "it with the command line)", file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
