"""The ``kmemlib`` command.

Subcommand groups (each a sub-parser, so more can be added without touching the others)::

    kmemlib homework list
    kmemlib homework show ASSIGNMENT [--student ID | --seed N] [--reveal] [--seeds FILE]
    kmemlib homework student ASSIGNMENT --out DIR [--students ids.txt | --generic] [--seeds FILE]
    kmemlib homework solution ASSIGNMENT --out DIR [--student ID] [--seeds FILE] [--no-execute]
    kmemlib homework grade ASSIGNMENT SUBMISSIONS --out grades.csv [--timeout S] [--seeds FILE] ...
    kmemlib snapshot list
    kmemlib snapshot save DIR [--from ROOT]
    kmemlib snapshot compare [--root ROOT | --snapshot NAME] [--mismatches]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser"]


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 1."""


# --------------------------------------------------------------------------- helpers
def _overrides(path: str | None) -> dict[str, int]:
    if not path:
        return {}
    from .homework.seeds import load_seed_overrides
    return load_seed_overrides(path)


def _safe_dir_name(sid: str) -> str:
    if sid in (".", "..") or sid.startswith(".") or any(c in sid for c in "/\\:*?\"<>|"):
        raise CliError(f"student id {sid!r} cannot be used as a folder name")
    return sid


def _read_ids(path: str) -> list[str]:
    from .homework.seeds import normalise_student_id
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    ids: list[str] = []
    for n, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        sid = normalise_student_id(text.split(",")[0])
        if sid in ids:
            raise CliError(f"{path}:{n}: student id {sid!r} listed twice")
        ids.append(sid)
    if not ids:
        raise CliError(f"{path} lists no student ids")
    return ids


def _assignment(aid: str):
    from .homework.registry import get_assignment
    return get_assignment(aid)


# --------------------------------------------------------------------------- homework commands
def _hw_list(args: argparse.Namespace) -> int:
    from .homework.registry import list_assignments
    for a in list_assignments():
        print(f"{a.aid:10s} {a.part:8s} {len(a.questions)} questions, {a.max_points:g} points — {a.title}")
        if a.summary:
            print(f"{'':20s}{a.summary}")
    return 0


def _hw_show(args: argparse.Namespace) -> int:
    from .homework.seeds import question_seed, student_seed
    a = _assignment(args.assignment)
    if args.seed is not None:
        base, who = args.seed, f"seed {args.seed}"
    else:
        sid = args.student or "instructor"
        base, who = student_seed(sid, a.aid, _overrides(args.seeds)), f"student {sid!r} (seed "
        who += f"{base})"
    print(f"# {a.title} — {who}\n")
    for q in a.questions:
        print(q.problem(question_seed(base, q.qid), reveal=args.reveal))
        print()
    return 0


def _hw_student(args: argparse.Namespace) -> int:
    from .homework.notebooks import build_student_notebook, write_notebook
    from .homework.seeds import normalise_student_id
    a = _assignment(args.assignment)
    out = Path(args.out)
    overrides = _overrides(args.seeds)
    if args.generic:
        if overrides:
            raise CliError("--seeds needs per-student notebooks (--students), not --generic")
        path = write_notebook(build_student_notebook(a, None), out / a.notebook_name)
        print(f"wrote {path} (generic: the student types the id in the first cell)")
        return 0
    ids = _read_ids(args.students) if args.students else [normalise_student_id(s) for s in args.student]
    if not ids:
        raise CliError("give --students FILE, --student ID or --generic")
    unknown = sorted(set(overrides) - set(ids))
    if unknown:
        print(f"note: the seed file names students not built here: {', '.join(unknown)}", file=sys.stderr)
    for sid in ids:
        nb = build_student_notebook(a, sid, seed=overrides.get(sid))
        write_notebook(nb, out / _safe_dir_name(sid) / a.notebook_name)
    print(f"wrote {len(ids)} notebooks to {out}/<student_id>/{a.notebook_name}")
    return 0


def _hw_solution(args: argparse.Namespace) -> int:
    from .homework.notebooks import build_solution_notebook, write_notebook
    a = _assignment(args.assignment)
    overrides = _overrides(args.seeds)
    seed = overrides.get(args.student) if args.student else None
    nb = build_solution_notebook(a, args.student, seed=seed)
    name = f"{a.aid}-solution" + (f"-{_safe_dir_name(args.student)}" if args.student else "") + ".ipynb"
    path = Path(args.out) / name
    if not args.no_execute:
        from nbclient import NotebookClient
        Path(args.out).mkdir(parents=True, exist_ok=True)
        NotebookClient(nb, timeout=args.timeout, kernel_name=args.kernel,
                       resources={"metadata": {"path": str(Path(args.out))}}).execute(stderr=subprocess.DEVNULL)
    write_notebook(nb, path)
    print(f"wrote {path}" + ("" if args.no_execute else " (executed)"))
    return 0


def _hw_grade(args: argparse.Namespace) -> int:
    from .homework.grading import grade_folder, write_grades_csv, write_grades_json
    a = _assignment(args.assignment)
    if not Path(args.submissions).is_dir():
        raise CliError(f"submissions folder {args.submissions} does not exist")
    if args.timeout <= 0:
        raise CliError("--timeout must be positive")
    results = grade_folder(a, args.submissions, timeout=args.timeout, total_timeout=args.total_timeout,
                           overrides=_overrides(args.seeds), kernel_name=args.kernel, id_from=args.id_from)
    write_grades_csv(results, a, args.out)
    if args.json:
        write_grades_json(results, args.json)
    for r in results:
        print(f"{r.student_id:20s} {r.total:6g}/{r.max_total:g}  {r.status}")
    print(f"graded {len(results)} submissions → {args.out}")
    return 0


# --------------------------------------------------------------------------- parser
def _add_homework(sub: argparse._SubParsersAction) -> None:
    hw = sub.add_parser("homework", help="per-student homework notebooks: build, solve, grade",
                        description="Per-student homework (OSTEP-style seeds, nbgrader-style notebooks).")
    hsub = hw.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = hsub.add_parser("list", help="list the shipped assignments")
    p.set_defaults(func=_hw_list)

    p = hsub.add_parser("show", help="print one student's problems (with --reveal: and answers)")
    p.add_argument("assignment")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--student", help="student id (default: instructor)")
    g.add_argument("--seed", type=int, help="a student seed, as printed in the notebook")
    p.add_argument("--seeds", help="seed override file (.json or .csv)")
    p.add_argument("--reveal", action="store_true", help="also print the answers")
    p.set_defaults(func=_hw_show)

    p = hsub.add_parser("student", help="build student notebooks (solutions stripped)")
    p.add_argument("assignment")
    p.add_argument("--out", required=True, help="output folder")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--students", help="file with one student id per line (# comments allowed)")
    g.add_argument("--student", action="append", default=[], help="a student id (repeatable)")
    g.add_argument("--generic", action="store_true", help="one notebook; the student types the id")
    p.add_argument("--seeds", help="seed override file (.json or .csv): student id → seed")
    p.set_defaults(func=_hw_student)

    p = hsub.add_parser("solution", help="build the solution notebook (executed for one student)")
    p.add_argument("assignment")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--student", help="solve this student's problems (default: the 'instructor' id)")
    p.add_argument("--seeds", help="seed override file (.json or .csv)")
    p.add_argument("--no-execute", action="store_true", help="do not run the notebook")
    p.add_argument("--timeout", type=float, default=120, help="seconds per cell when executing (default 120)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.set_defaults(func=_hw_solution)

    p = hsub.add_parser("grade", help="run and grade a folder of submissions into a CSV")
    p.add_argument("assignment")
    p.add_argument("submissions", help="folder: <id>.ipynb files or <id>/ folders")
    p.add_argument("--out", required=True, help="CSV to write")
    p.add_argument("--timeout", type=float, default=30, help="seconds per cell (default 30)")
    p.add_argument("--total-timeout", type=float, default=None,
                   help="seconds for all cells of one submission (default 10 × --timeout)")
    p.add_argument("--seeds", help="seed override file (.json or .csv)")
    p.add_argument("--id-from", choices=["path", "notebook"], default="path",
                   help="take the student id from the file/folder name (default) or from the notebook")
    p.add_argument("--json", help="also write every detail as JSON here")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.set_defaults(func=_hw_grade)


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``kmemlib`` (one sub-parser per command group)."""
    parser = argparse.ArgumentParser(prog="kmemlib", description="kmembook's engine: command-line tools.")
    sub = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    _add_homework(sub)
    _add_snapshot(sub)
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
