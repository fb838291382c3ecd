"""The ``kmemlib homework`` commands (added to the ``kmemlib`` parser by :mod:`kmemlib.cli`)::

    kmemlib homework list
    kmemlib homework key --new FILE
    kmemlib homework show ASSIGNMENT [--student ID | --seed N] [--reveal] [--seeds FILE] [--key FILE]
    kmemlib homework student ASSIGNMENT --out DIR (--roster FILE | --students FILE | --student ID | --generic)
    kmemlib homework solution ASSIGNMENT --out DIR [--roster FILE | --students FILE | --student ID] [--jobs N]
    kmemlib homework grade ASSIGNMENT SUBMISSIONS --out grades.csv [--roster FILE] [--jobs N] [--resume] ...

Every bad input ends in one line on standard error and exit status 1 (2 for argparse's usage errors).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from ..errors import KmemError

__all__ = ["CommandError", "add_homework"]


class CommandError(KmemError, ValueError):
    """A bad homework command line (printed as one line by ``kmemlib``)."""


# --------------------------------------------------------------------------- argument types
def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    from .seeds import SEED_BITS
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value < 2 ** SEED_BITS:
        raise argparse.ArgumentTypeError(f"seeds are integers from 0 to 2**{SEED_BITS} - 1, got {text}")
    return value


def _student_id(text: str) -> str:
    from .seeds import normalise_student_id
    try:
        return normalise_student_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --------------------------------------------------------------------------- helpers
def _overrides(path: str | None) -> dict[str, int]:
    if not path:
        return {}
    from .seeds import load_seed_overrides
    return load_seed_overrides(path)


def _key(args: argparse.Namespace):
    """The course key named by ``--key`` or ``$KMEMLIB_COURSE_KEY`` (a file path), or None (self-study)."""
    path = getattr(args, "key", None) or os.environ.get("KMEMLIB_COURSE_KEY")
    if not path:
        return None
    from .seeds import load_course_key
    return load_course_key(path)


def _safe_dir_name(sid: str) -> str:
    if sid in (".", "..") or sid.startswith(".") or any(c in sid for c in "/\\:*?\"<>|"):
        raise CommandError(f"student id {sid!r} cannot be used as a folder name")
    return sid


def _ids(args: argparse.Namespace) -> list[str]:
    """Student ids from --roster, --students or --student (in that order of preference)."""
    if getattr(args, "roster", None):
        from .roster import load_roster
        return load_roster(args.roster).ids
    if getattr(args, "students", None):
        from .roster import load_roster
        return load_roster(args.students).ids
    return list(dict.fromkeys(getattr(args, "student", None) or []))


def _assignment(aid: str):
    from .registry import get_assignment
    return get_assignment(aid)


def _variants(a, ids, key, overrides, roster_given: bool) -> dict:
    if not roster_given or len(ids) < 2:
        return {}
    from .sheet import class_variants
    return class_variants(a, ids, key=key, overrides=overrides)


# --------------------------------------------------------------------------- commands
def _hw_list(args: argparse.Namespace) -> int:
    from .registry import list_assignments
    for a in list_assignments():
        print(f"{a.aid:10s} {a.part:8s} {len(a.questions)} questions, {a.max_points:g} points — {a.title}")
        if a.summary:
            print(f"{'':20s}{a.summary}")
    return 0


def _hw_key(args: argparse.Namespace) -> int:
    from .seeds import create_course_key
    key = create_course_key(args.new)
    print(f"wrote a new course key to {args.new} (fingerprint {key.fingerprint}); keep it private and use it for "
          "building, solving and grading (--key FILE or KMEMLIB_COURSE_KEY=FILE)")
    return 0


def _hw_show(args: argparse.Namespace) -> int:
    from .seeds import question_seed, student_seed
    a = _assignment(args.assignment)
    key = _key(args)
    if args.seed is not None:
        base, who = args.seed, f"seed {args.seed}"
    else:
        sid = args.student if args.student is not None else "instructor"
        base = student_seed(sid, a.aid, _overrides(args.seeds), key=key)
        who = f"student {sid!r} (seed {base}" + (f", course key {key.fingerprint})" if key else ")")
    print(f"# {a.title} — {who}\n")
    for q in a.questions:
        print(q.problem(question_seed(base, q.qid), reveal=args.reveal))
        print()
    return 0


def _hw_student(args: argparse.Namespace) -> int:
    from .notebooks import build_student_notebook, write_notebook
    a = _assignment(args.assignment)
    out = Path(args.out)
    overrides = _overrides(args.seeds)
    key = _key(args)
    if args.generic:
        if overrides:
            raise CommandError("--seeds needs per-student notebooks (--roster/--students), not --generic")
        if key is not None:
            raise CommandError("a course key needs per-student notebooks (--roster/--students): a generic notebook "
                               "cannot carry a student's problems")
        path = write_notebook(build_student_notebook(a, None), out / a.notebook_name)
        print(f"wrote {path} (generic: the student types the id in the first cell)")
        return 0
    ids = _ids(args)
    if not ids:
        raise CommandError("give --roster FILE, --students FILE, --student ID or --generic")
    unknown = sorted(set(overrides) - set(ids))
    if unknown:
        print(f"note: the seed file names students not built here: {', '.join(unknown)}", file=sys.stderr)
    variants = _variants(a, ids, key, overrides, bool(args.roster or args.students))
    for sid in ids:
        nb = build_student_notebook(a, sid, seed=overrides.get(sid), key=key, variants=variants.get(sid))
        write_notebook(nb, out / _safe_dir_name(sid) / a.notebook_name)
    extra = f"; {len(variants)} students got re-derived problems so that no two share one" if variants else ""
    mode = f"graded copies (course key {key.fingerprint})" if key else "self-study copies (no course key)"
    print(f"wrote {len(ids)} notebooks to {out}/<student_id>/{a.notebook_name}: {mode}{extra}")
    return 0


def _hw_solution(args: argparse.Namespace) -> int:
    from .notebooks import build_solution_notebook, write_notebook
    from .seeds import student_seed
    a = _assignment(args.assignment)
    overrides = _overrides(args.seeds)
    key = _key(args)
    ids = _ids(args)
    if not args.no_execute:
        from .execute import kernel_argv
        kernel_argv(args.kernel)      # an unknown kernel is an error before anything is built
    variants = _variants(a, ids, key, overrides, bool(args.roster or args.students))
    out = Path(args.out)
    todo = []
    for sid in ids or [None]:
        if sid is None:
            nb = build_solution_notebook(a, None, key=key)
            name = f"{a.aid}-solution.ipynb"
        else:
            seed = student_seed(sid, a.aid, overrides, key=key) if (key or sid in overrides) else None
            nb = build_solution_notebook(a, sid, seed=seed, variants=variants.get(sid))
            name = f"{a.aid}-solution-{_safe_dir_name(sid)}.ipynb"
        todo.append((nb, out / name))
    if not args.no_execute:
        from .notebooks import execute_notebooks
        failures = execute_notebooks([nb for nb, _ in todo], out, timeout=args.timeout, kernel=args.kernel,
                                     jobs=args.jobs or os.cpu_count() or 1)
        for (nb, path), err in zip(todo, failures):
            if err:
                print(f"warning: {path.name}: {err}", file=sys.stderr)
    for nb, path in todo:
        write_notebook(nb, path)
    what = "executed" if not args.no_execute else "not executed"
    print(f"wrote {len(todo)} solution notebook{'s' if len(todo) != 1 else ''} to {out} ({what})")
    return 0


def _hw_grade(args: argparse.Namespace) -> int:
    from .export import write_canvas_csv, write_feedback, write_grades_csv, write_grades_json, write_gradescope
    from .grading import (GradeSettings, ResultStore, clear_results, discover_submissions, grade_folder,
                          results_folder)
    from .sandbox import Limits, check_sandbox
    a = _assignment(args.assignment)
    if not Path(args.submissions).is_dir():
        raise CommandError(f"submissions folder {args.submissions} does not exist or is not a folder")
    from .execute import kernel_argv
    kernel_argv(args.kernel)
    if not args.unsafe_no_sandbox:
        check_sandbox()
    roster = None
    if args.roster:
        from .roster import load_roster
        roster = load_roster(args.roster)
    key = _key(args)
    overrides = _overrides(args.seeds)
    variants = _variants(a, roster.ids, key, overrides, True) if roster else {}
    settings = GradeSettings(timeout=args.timeout, total_timeout=args.total_timeout, kernel=args.kernel,
                             id_from=args.id_from, overrides=overrides, key=key, variants=variants,
                             sandbox=not args.unsafe_no_sandbox,
                             limits=Limits(memory=args.memory << 20))
    store = ResultStore(results_folder(args.out), f"{a.aid}:{settings.digest()}")
    if store.existing() and not (args.resume or args.restart):
        raise CommandError(f"{store.folder} holds the results of an earlier run: pass --resume to continue it "
                           "or --restart to grade everything again")
    if args.restart:
        clear_results(store)
    subs = discover_submissions(args.submissions, a)
    if roster is not None:
        from .roster import match_submissions
        subs = match_submissions(subs, roster)
    width = max([len(s.student_id) for s in subs] + [10])

    def progress(r, reused):
        flag = " (from the earlier run)" if reused else ""
        print(f"{r.student_id:{width}s} {r.total:6g}/{r.max_total:g}  {r.status}{flag}", flush=True)

    results = grade_folder(a, args.submissions, settings, submissions=subs, jobs=args.jobs, store=store,
                           resume=args.resume, progress=progress)
    write_grades_csv(results, a, args.out)
    if args.json:
        write_grades_json(results, args.json)
    if args.feedback:
        write_feedback(results, a, args.feedback)
    if args.gradescope:
        write_gradescope(results, a, args.gradescope)
    if args.canvas:
        if roster is None:
            raise CommandError("--canvas needs --roster (Canvas matches rows by the roster's lms_id/SIS ids)")
        write_canvas_csv(results, a, args.canvas, roster)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    flagged = sum(1 for r in results if r.flags)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"graded {len(results)} submissions ({summary}{f'; {flagged} flagged' if flagged else ''}) → {args.out}")
    ran = [r for r in results if r.status in ("graded", "failed")]
    if len(ran) >= 2 and all(r.status == "failed" for r in ran):
        print("kmemlib: error: every submission failed to run — check the kernel and the sandbox (first reason: "
              f"{ran[0].notes[0] if ran[0].notes else 'unknown'})", file=sys.stderr)
        return 3
    return 0


# --------------------------------------------------------------------------- parser
def add_homework(sub: argparse._SubParsersAction) -> None:
    """Add ``homework`` and its actions to the ``kmemlib`` parser."""
    hw = sub.add_parser("homework", help="per-student homework notebooks: build, solve, grade",
                        description="Per-student homework (OSTEP-style seeds, nbgrader-style notebooks).")
    hsub = hw.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = hsub.add_parser("list", help="list the shipped assignments")
    p.set_defaults(func=_hw_list)

    p = hsub.add_parser("key", help="create a course key (graded mode: seeds only the instructor can derive)")
    p.add_argument("--new", required=True, metavar="FILE", help="write a new random key here (never overwritten)")
    p.set_defaults(func=_hw_key)

    def key_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--key", metavar="FILE", help="the course key (default: $KMEMLIB_COURSE_KEY; none: self-study)")

    p = hsub.add_parser("show", help="print one student's problems (with --reveal: and answers)")
    p.add_argument("assignment")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--student", type=_student_id, help="student id (default: instructor)")
    g.add_argument("--seed", type=_seed, help="a student seed, as printed in a self-study notebook")
    p.add_argument("--seeds", help="seed override file (.json or .csv)")
    p.add_argument("--reveal", action="store_true", help="also print the answers")
    key_arg(p)
    p.set_defaults(func=_hw_show)

    def who(p: argparse.ArgumentParser, required: bool, generic: bool) -> None:
        g = p.add_mutually_exclusive_group(required=required)
        g.add_argument("--roster", help="class roster (CSV with an id column, or one id per line): every student, "
                                        "and no two of them share a problem")
        g.add_argument("--students", help="file with one student id per line (# comments allowed)")
        g.add_argument("--student", action="append", type=_student_id, default=[],
                       help="a student id (repeatable)")
        if generic:
            g.add_argument("--generic", action="store_true", help="one notebook; the student types the id")

    p = hsub.add_parser("student", help="build student notebooks (solutions stripped)")
    p.add_argument("assignment")
    p.add_argument("--out", required=True, help="output folder")
    who(p, True, True)
    p.add_argument("--seeds", help="seed override file (.json or .csv): student id → seed")
    key_arg(p)
    p.set_defaults(func=_hw_student)

    p = hsub.add_parser("solution", help="build solution notebooks (executed), one per student")
    p.add_argument("assignment")
    p.add_argument("--out", required=True, help="output folder")
    who(p, False, False)
    p.add_argument("--seeds", help="seed override file (.json or .csv)")
    key_arg(p)
    p.add_argument("--no-execute", action="store_true", help="do not run the notebooks")
    p.add_argument("--timeout", type=_seconds, default=120, help="seconds per cell when executing (default 120)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.add_argument("--jobs", type=_positive_int, default=None, help="notebooks run at once (default: CPU count)")
    p.set_defaults(func=_hw_solution)

    p = hsub.add_parser("grade", help="run every submission in a sandbox and grade it into a CSV")
    p.add_argument("assignment")
    p.add_argument("submissions", help="folder: <id>.ipynb files, <id>/ folders or an LMS bulk download")
    p.add_argument("--out", required=True, help="grades CSV to write (per-student results go to OUT.results/)")
    p.add_argument("--roster", help="class roster: every student gets a row; LMS file names are mapped to ids")
    p.add_argument("--timeout", type=_seconds, default=30, help="seconds per cell (default 30)")
    p.add_argument("--total-timeout", type=_seconds, default=None,
                   help="seconds for all cells of one submission (default 10 × --timeout)")
    p.add_argument("--jobs", type=_positive_int, default=None, help="submissions graded at once (default: CPU count)")
    p.add_argument("--memory", type=_positive_int, default=3072, help="MiB of address space per process (3072)")
    p.add_argument("--seeds", help="seed override file (.json or .csv)")
    key_arg(p)
    p.add_argument("--id-from", choices=["path", "notebook"], default="path",
                   help="take the student id from the file/folder name (default) or from the notebook")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue an interrupted run (keeps its results)")
    g.add_argument("--restart", action="store_true", help="discard an earlier run's results and grade again")
    p.add_argument("--json", help="also write every detail as JSON here")
    p.add_argument("--feedback", metavar="DIR", help="write DIR/<student>.md: right/wrong per question, hints")
    p.add_argument("--gradescope", metavar="DIR", help="write DIR/<student>/results.json (Gradescope format)")
    p.add_argument("--canvas", metavar="FILE", help="write a Canvas gradebook import CSV (needs --roster)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run submissions WITHOUT isolation, with your rights (only for code you trust)")
    p.set_defaults(func=_hw_grade)
