"""Exports of a graded class: the grades CSV, per-student feedback, Gradescope ``results.json``, a Canvas CSV.

All are built from :class:`~.grading.SubmissionResult` objects (normally the per-student result files of a run), so
they can be rebuilt at any time without grading again.  Text that a spreadsheet could run as a formula is escaped
(:func:`~.roster.spreadsheet_safe`); feedback names right/wrong per question and the question's hint — never the
expected answer, and never a per-position comparison.
"""

from __future__ import annotations

import csv
import json
import os
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from .assignment import Assignment
from .grading import SubmissionResult
from .roster import Roster, spreadsheet_safe

__all__ = ["write_grades_csv", "write_grades_json", "write_feedback", "write_gradescope", "write_canvas_csv",
           "gradescope_results", "CSV_COLUMNS"]

#: Columns of the grades CSV around the per-question ones.
CSV_COLUMNS = (("assignment", "student_id", "submission"),
               ("total", "max_points", "status", "reason", "submitted_at", "fingerprint", "flags"))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


def _atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def _csv_text(rows: list[list[str]]) -> str:
    import io
    buf = io.StringIO()
    w = csv.writer(buf)
    for row in rows:
        w.writerow([spreadsheet_safe(c) if isinstance(c, str) else c for c in row])
    return buf.getvalue()


def write_grades_csv(results: Sequence[SubmissionResult], assignment: Assignment, path: str | Path) -> Path:
    """The grades CSV: assignment, student, submission, one column per question, total, max_points, status,
    reason, submitted_at (UTC), fingerprint (kmemlib version and problem hash), flags (roster notes)."""
    head, tail = CSV_COLUMNS
    rows = [[*head, *assignment.question_ids, *tail]]
    for r in results:
        pts = {q.qid: q.points for q in r.questions}
        rows.append([assignment.aid, r.student_id, r.submission,
                     *(_fmt(pts.get(qid, 0.0)) for qid in assignment.question_ids),
                     _fmt(r.total), _fmt(r.max_total if r.questions else assignment.max_points), r.status,
                     r.reason(), r.submitted_at, r.fingerprint, "; ".join(r.flags)])
    return _atomic_write(Path(path), _csv_text(rows))


def write_grades_json(results: Sequence[SubmissionResult], path: str | Path) -> Path:
    """Every detail of every result as JSON (per-question status and reason, notes, seed)."""
    return _atomic_write(Path(path), json.dumps([r.to_json() for r in results], indent=1, ensure_ascii=False) + "\n")


def _safe_name(sid: str) -> str:
    return urllib.parse.quote(sid, safe="") or "_"


def feedback_text(result: SubmissionResult, assignment: Assignment) -> str:
    """Markdown feedback for one student: points and right/wrong per question with the hint (never the answer)."""
    lines = [f"# {assignment.title} — feedback for {result.student_id}", "",
             f"**{_fmt(result.total)} / {_fmt(assignment.max_points)} points** ({result.status})", ""]
    if result.status != "graded":
        lines += [f"Your submission could not be graded: {result.notes[0] if result.notes else result.status}.", ""]
    word = {"correct": "right", "partial": "partly right", "wrong": "not right", "unanswered": "no answer",
            "unreadable": "answer not readable", "not-graded": "not graded"}
    for q in result.questions:
        question = assignment.question(q.qid)
        lines.append(f"- **{q.qid} — {question.title}**: {word.get(q.status, q.status)}, "
                     f"{_fmt(q.points)}/{_fmt(q.max_points)} points")
        if q.status in ("partial", "wrong") and question.hint:
            lines.append(f"  - hint: {question.hint}")
        elif q.status in ("unanswered", "unreadable"):
            lines.append(f"  - {q.reason}")
    notes = [n for n in result.notes if result.status == "graded"]
    if notes:
        lines += ["", "Notes from the grading run:", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


def write_feedback(results: Sequence[SubmissionResult], assignment: Assignment, folder: str | Path) -> list[Path]:
    """One Markdown file per student: ``folder/<student>.md``."""
    out = Path(folder)
    return [_atomic_write(out / f"{_safe_name(r.student_id)}.md", feedback_text(r, assignment)) for r in results]


def gradescope_results(result: SubmissionResult, assignment: Assignment) -> dict:
    """Gradescope's autograder ``results.json`` for one submission (top-level ``score``, one test per question)."""
    tests = []
    for q in result.questions:
        question = assignment.question(q.qid)
        output = "right" if q.status == "correct" else q.status.replace("-", " ")
        if q.status in ("partial", "wrong") and question.hint:
            output += f" — hint: {question.hint}"
        tests.append({"name": f"{q.qid} — {question.title}", "score": q.points, "max_score": q.max_points,
                      "status": "passed" if q.status == "correct" else "failed", "output": output,
                      "visibility": "visible"})
    out = {"score": result.total, "tests": tests, "visibility": "visible",
           "output": f"{assignment.title}: {_fmt(result.total)}/{_fmt(assignment.max_points)} points"
                     + ("" if result.status == "graded" else f" — {result.status}: "
                        + (result.notes[0] if result.notes else ""))}
    return out


def write_gradescope(results: Sequence[SubmissionResult], assignment: Assignment, folder: str | Path) -> list[Path]:
    """``folder/<student>/results.json`` in Gradescope's autograder format."""
    out = Path(folder)
    return [_atomic_write(out / _safe_name(r.student_id) / "results.json",
                          json.dumps(gradescope_results(r, assignment), indent=1, ensure_ascii=False) + "\n")
            for r in results]


def write_canvas_csv(results: Sequence[SubmissionResult], assignment: Assignment, path: str | Path,
                     roster: Roster | None = None, column: str | None = None) -> Path:
    """A CSV Canvas's gradebook imports: ``Student, ID, SIS User ID, SIS Login ID, Section, <assignment>`` with a
    ``Points Possible`` row.  ``ID`` is the roster's ``lms_id`` (Canvas matches a row by ID, SIS User ID or SIS Login
    ID); students with none of the three are left out, since Canvas could not match them."""
    col = column or assignment.title
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", col],
            ["Points Possible", "", "", "", "", _fmt(assignment.max_points)]]
    for r in results:
        stu = roster.by_id(r.student_id) if roster is not None else None
        if stu is None or not (stu.lms_id or stu.sis_user_id or stu.sis_login_id):
            continue
        rows.append([stu.name or r.student_id, stu.lms_id, stu.sis_user_id, stu.sis_login_id, stu.section,
                     _fmt(r.total)])
    return _atomic_write(Path(path), _csv_text(rows))
