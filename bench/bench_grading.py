"""Benchmark: grade a class of N submissions (default 200) of an assignment in the bubblewrap sandbox.

Builds N student notebooks (a third solved with the worked solutions, a third with wrong literal answers, a third
untouched stubs that raise), grades them with ``kmemlib homework grade`` semantics (``grade_folder`` with a results
folder) and prints a table: assignment, submissions, jobs, seconds, seconds per submission, and the load average,
since the timings are wall-clock on a shared machine.  Target (issue 13): 200 submissions of either assignment in
<= 600 s on 2 cores (``--jobs 2``).
Run: .venv/bin/python bench/bench_grading.py [--n N] [--jobs J] [--assignment buddy|kmalloc|both]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import nbformat

from kmemlib.homework import get_assignment
from kmemlib.homework.grading import GradeSettings, ResultStore, grade_folder
from kmemlib.homework.notebooks import build_solution_notebook, build_student_notebook, nbgrader_meta


def make_class(aid: str, n: int, folder: Path) -> None:
    a = get_assignment(aid)
    sol = build_solution_notebook(a)
    src = {nbgrader_meta(c)["grade_id"][:-7]: c.source for c in sol.cells
           if nbgrader_meta(c).get("grade_id", "").endswith("-answer")}
    for i in range(n):
        sid = f"student{i:03d}"
        nb = build_student_notebook(a, sid)
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id", "")
            if gid.endswith("-answer"):
                if i % 3 == 0:
                    cell.source = src[gid[:-7]]
                elif i % 3 == 1:
                    cell.source = f"{gid[:-7]} = [1, 2, 3]"
        nbformat.write(nb, str(folder / f"{sid}.ipynb"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--assignment", default="both", choices=["buddy", "kmalloc", "both"])
    args = ap.parse_args()
    aids = ["buddy", "kmalloc"] if args.assignment == "both" else [args.assignment]
    rows = []
    load_before = os.getloadavg()
    for aid in aids:
        with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
            subs = Path(tmp) / "subs"
            subs.mkdir()
            make_class(aid, args.n, subs)
            settings = GradeSettings(timeout=30)
            store = ResultStore(Path(tmp) / "grades.csv.results", settings.digest())
            t0 = time.perf_counter()
            results = grade_folder(get_assignment(aid), subs, settings, jobs=args.jobs, store=store)
            took = time.perf_counter() - t0
            graded = sum(r.status == "graded" for r in results)
            rows.append((aid, len(results), graded, args.jobs, took, took / max(1, len(results))))
    print(f"{'assignment':10s} {'submissions':>11s} {'graded':>6s} {'jobs':>4s} {'seconds':>8s} {'s/submission':>12s}")
    for aid, n, graded, jobs, took, per in rows:
        print(f"{aid:10s} {n:11d} {graded:6d} {jobs:4d} {took:8.1f} {per:12.2f}")
    print("load average before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}; cores: {}".format(
        *load_before, *os.getloadavg(), os.cpu_count()))


if __name__ == "__main__":
    main()
