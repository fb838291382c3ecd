"""Grade a folder of submitted notebooks into per-question points.

Layout of the submissions folder (both nbgrader-like and flat layouts work):

* ``SUBMISSIONS/<student_id>.ipynb`` — one file per student, named by the id; or
* ``SUBMISSIONS/<student_id>/…/<anything>.ipynb`` — one folder per student (nbgrader's
  ``submitted/<student_id>/<assignment>/``); the notebook named ``<assignment>.ipynb`` is preferred.

The student is identified by that name (``id_from="path"``, the default, so a student cannot pick another id by
editing the notebook) or by the id the notebook itself declares (``id_from="notebook"``, for generic notebooks
collected under arbitrary file names).  Each submission is copied to a private temporary folder and run there, so the
submitted file is never modified; expected answers are recomputed from the seed in the grading process.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from .assignment import Assignment
from .execute import ExecutionOutcome, execute_and_collect
from .seeds import normalise_student_id, question_seed, student_seed

__all__ = ["Submission", "QuestionResult", "SubmissionResult", "discover_submissions", "grade_submission",
           "grade_folder", "write_grades_csv", "write_grades_json"]

_IGNORED = {".ipynb_checkpoints", "__pycache__", "__MACOSX"}


@dataclass(frozen=True)
class Submission:
    """One student's submission: the file to grade, or ``path=None`` with ``problem`` saying why there is none."""

    student_id: str
    path: Path | None
    problem: str | None = None


@dataclass
class QuestionResult:
    """Points for one question and why."""

    qid: str
    points: float
    max_points: float
    status: str     # correct | partial | wrong | unanswered | unreadable | not-graded
    reason: str


@dataclass
class SubmissionResult:
    """All questions of one submission, plus notes about the run."""

    student_id: str
    submission: str
    status: str     # graded | invalid | failed
    questions: list[QuestionResult]
    notes: list[str] = field(default_factory=list)
    seed: int | None = None

    @property
    def total(self) -> float:
        return round(sum(q.points for q in self.questions), 2)

    @property
    def max_total(self) -> float:
        return round(sum(q.max_points for q in self.questions), 2)

    def reason(self) -> str:
        """One line: every question not fully right, then the notes."""
        parts = [f"{q.qid}: {q.status} — {q.reason}" for q in self.questions if q.status != "correct"]
        if self.status != "graded":
            parts = [f"{self.status}: {self.notes[0]}"] + self.notes[1:] if self.notes else [self.status]
        else:
            parts += self.notes
        return "; ".join(parts)


def _hidden(p: Path) -> bool:
    return p.name.startswith(".") or p.name in _IGNORED


def _pick_notebook(folder: Path, assignment: Assignment) -> tuple[Path | None, str | None]:
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not any(_hidden(Path(part)) for part in p.relative_to(folder).parts))
    nbs = [p for p in files if p.suffix.lower() == ".ipynb"]
    named = [p for p in nbs if p.stem == assignment.aid]
    if len(named) == 1:
        return named[0], None
    if len(nbs) == 1:
        return nbs[0], None
    if len(nbs) > 1:
        return None, f"{len(nbs)} notebooks and none (or several) named {assignment.notebook_name}: " \
                     + ", ".join(str(p.relative_to(folder)) for p in nbs)
    if files:
        return None, "not a notebook: no .ipynb file (found " + ", ".join(p.name for p in files[:5]) + ")"
    return None, "empty folder: nothing was submitted"


def discover_submissions(folder: str | Path, assignment: Assignment) -> list[Submission]:
    """Find one submission per student in ``folder`` (see the module docstring for the layouts)."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"submissions folder {root} does not exist or is not a folder")
    found: list[Submission] = []
    for entry in sorted(root.iterdir()):
        if _hidden(entry):
            continue
        if entry.is_dir():
            path, problem = _pick_notebook(entry, assignment)
            found.append(Submission(entry.name, path, problem))
        elif entry.is_file():
            sid = entry.stem if entry.suffix else entry.name
            if entry.suffix.lower() != ".ipynb":
                found.append(Submission(sid, entry, f"not a notebook: wrong extension {entry.suffix or '(none)'!r}"))
            else:
                found.append(Submission(sid, entry))
    return found


def _load_copy(path: Path, workdir: Path) -> tuple[nbformat.NotebookNode | None, str | None]:
    """Copy the submission into ``workdir`` and parse the copy (never touching the original)."""
    copy = workdir / "submission.ipynb"
    try:
        shutil.copyfile(path, copy)
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}"
    raw = copy.read_bytes()
    if not raw.strip():
        return None, "not a notebook: the file is empty"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not a notebook: the file is not UTF-8 text"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not a notebook: invalid JSON ({exc.msg} at line {exc.lineno})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not a notebook: the JSON has no list of cells"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        return None, f"not a notebook: {type(exc).__name__}: {str(exc)[:120]}"
    for cell in nb.cells:
        if not isinstance(cell, dict) or "cell_type" not in cell:
            return None, "not a notebook: a cell has no cell_type"
        src = cell.get("source", "")
        if isinstance(src, list):
            cell["source"] = "".join(str(s) for s in src)
        elif not isinstance(src, str):
            return None, "not a notebook: a cell's source is not text"
    return nb, None


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__set__"}:
        return set(map(lambda v: tuple(v) if isinstance(v, list) else v, value["__set__"]))
    return value


def _mentions(source: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", source) is not None


def _grade_answers(assignment: Assignment, seed: int, outcome: ExecutionOutcome) -> list[QuestionResult]:
    results = []
    for q in assignment.questions:
        entry = outcome.answers.get(q.qid, {"defined": False})
        if not entry.get("defined"):
            errs = [e for e in outcome.errors if _mentions(e.source, q.qid)
                    and not (e.ename == "NameError" and f"'{q.qid}'" in e.evalue)]
            why = f"no answer: the variable {q.qid} is not defined"
            if errs:
                why += " (" + "; ".join(f"cell {e.cell} raised {e.ename}" + (f": {e.evalue}" if e.evalue else "")
                                        for e in errs[:2]) + ")"
            results.append(QuestionResult(q.qid, 0.0, q.points, "unanswered", why))
            continue
        if "error" in entry:
            results.append(QuestionResult(q.qid, 0.0, q.points, "unreadable",
                                          f"{q.qid} holds a value the grader cannot read ({entry['error']})"))
            continue
        verdict = q.judge(question_seed(seed, q.qid), _decode(entry.get("value")))
        pts = round(q.points * verdict.fraction, 2)
        status = "correct" if verdict.correct else ("partial" if verdict.fraction > 0 else "wrong")
        results.append(QuestionResult(q.qid, pts, q.points, status, verdict.message))
    return results


def _zero(assignment: Assignment, status: str, reason: str) -> list[QuestionResult]:
    return [QuestionResult(q.qid, 0.0, q.points, status, reason) for q in assignment.questions]


def grade_submission(submission: Submission, assignment: Assignment, *, timeout: float = 30,
                     total_timeout: float | None = None, overrides: Mapping[str, int] | None = None,
                     kernel_name: str = "python3", id_from: str = "path",
                     root: Path | None = None) -> SubmissionResult:
    """Grade one submission (run it, read the answers, recompute the expected values from the seed)."""
    if id_from not in ("path", "notebook"):
        raise ValueError("id_from must be 'path' or 'notebook'")
    shown = str(submission.path.relative_to(root)) if submission.path and root else str(submission.path or "")
    sid = submission.student_id
    if submission.problem is not None or submission.path is None:
        reason = submission.problem or "no submission"
        return SubmissionResult(sid, shown, "invalid", _zero(assignment, "not-graded", reason), [reason])
    with tempfile.TemporaryDirectory(prefix="kmemhw-") as tmp:
        nb, problem = _load_copy(submission.path, Path(tmp))
        if nb is None:
            return SubmissionResult(sid, shown, "invalid", _zero(assignment, "not-graded", problem), [problem])
        outcome = execute_and_collect(nb, Path(tmp), assignment.question_ids, timeout=timeout,
                                      total_timeout=total_timeout, kernel_name=kernel_name)
    notes = list(outcome.notes)
    if not outcome.ok:
        notes.insert(0, outcome.failure or "failed")
        return SubmissionResult(sid, shown, "failed", _zero(assignment, "not-graded", outcome.failure or ""), notes)
    declared = outcome.session
    if declared and declared.get("assignment") != assignment.aid:
        notes.append(f"the notebook started assignment {declared.get('assignment')!r}, not {assignment.aid!r}")
    if id_from == "notebook":
        if not declared:
            reason = "the notebook never ran homework.start(...), so it declares no student id"
            notes.insert(0, reason)
            return SubmissionResult(sid, shown, "failed", _zero(assignment, "not-graded", reason), notes)
        sid = normalise_student_id(declared["student_id"])
    elif declared and declared.get("student_id") != sid:
        notes.append(f"the notebook declares student id {declared.get('student_id')!r}; graded as {sid!r}")
    seed = student_seed(sid, assignment.aid, overrides)
    if declared and declared.get("seed") != seed and declared.get("student_id") == sid:
        notes.append(f"the notebook used seed {declared.get('seed')}, graded with seed {seed}")
    return SubmissionResult(sid, shown, "graded", _grade_answers(assignment, seed, outcome), notes, seed)


def grade_folder(assignment: Assignment, folder: str | Path, **kwargs: Any) -> list[SubmissionResult]:
    """Grade every submission in ``folder`` (keyword arguments as :func:`grade_submission`)."""
    root = Path(folder)
    return [grade_submission(s, assignment, root=root, **kwargs) for s in discover_submissions(root, assignment)]


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


def write_grades_csv(results: Sequence[SubmissionResult], assignment: Assignment, path: str | Path) -> Path:
    """CSV: ``student_id, submission, <one column per question>, total, max_points, status, reason``."""
    p = Path(path)
    if p.parent != Path(""):
        p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student_id", "submission", *assignment.question_ids, "total", "max_points", "status", "reason"])
        for r in results:
            pts = {q.qid: q.points for q in r.questions}
            w.writerow([r.student_id, r.submission, *(_fmt(pts[qid]) for qid in assignment.question_ids),
                        _fmt(r.total), _fmt(r.max_total), r.status, r.reason()])
    return p


def write_grades_json(results: Sequence[SubmissionResult], path: str | Path) -> Path:
    """Every detail of every result as JSON (per-question status and reason, notes, seed)."""
    p = Path(path)
    rows = []
    for r in results:
        d = asdict(r)
        d.update(total=r.total, max_total=r.max_total)
        rows.append(d)
    p.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return p
