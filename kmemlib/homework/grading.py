"""Grade a folder of submitted notebooks into per-question points.

Layout of the submissions folder (nbgrader-like, flat and LMS-download layouts work):

* ``SUBMISSIONS/<student_id>.ipynb`` — one file per student, named by the id; or
* ``SUBMISSIONS/<student_id>/…/<anything>.ipynb`` — one folder per student (nbgrader's
  ``submitted/<student_id>/<assignment>/``); the notebook named ``<assignment>.ipynb`` is preferred;
* an LMS bulk download (Canvas ``name_12345_67890_file.ipynb``, Moodle ``Full Name_12345_assignsubmission_file_``),
  mapped to student ids through a roster (:mod:`.roster`).

The student is identified by that name (``id_from="path"``, the default, so a student cannot pick another id by
editing the notebook) or by the id the notebook itself declares (``id_from="notebook"``).  Every submission runs in
its own sandbox (:mod:`.sandbox`); expected answers are recomputed from the seed in the grading process.

Robustness: each result is written to its own file as soon as it is known (atomically, fsync'ed) in a results
folder next to the grades file, and the CSV is built from those files; an interrupted run continues with
``resume=True``; any exception while grading one submission becomes that submission's "failed" row.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import re
import shutil
import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nbformat

from ..errors import KmemError
from .assignment import Assignment
from .execute import ExecutionOutcome, execute_and_collect, kernel_argv
from .sandbox import Limits
from .seeds import CourseKey, normalise_student_id, question_seed, student_seed

__all__ = ["GradingError", "Submission", "QuestionResult", "SubmissionResult", "GradeSettings", "ResultStore",
           "discover_submissions", "grade_submission", "grade_folder", "problem_fingerprint", "MAX_NOTEBOOK_BYTES"]

_IGNORED = {".ipynb_checkpoints", "__pycache__", "__MACOSX"}
#: Submissions larger than this are not parsed ("not a notebook: too large").
MAX_NOTEBOOK_BYTES = 20 << 20


class GradingError(KmemError, ValueError):
    """A grading run cannot start (bad folder, results of another run in the way, ...)."""


@dataclass(frozen=True)
class Submission:
    """One student's submission: the file to grade, or ``path=None`` with ``problem`` saying why there is none."""

    student_id: str
    path: Path | None
    problem: str | None = None
    flags: tuple[str, ...] = ()


@dataclass
class QuestionResult:
    """Points for one question and why."""

    qid: str
    points: float
    max_points: float
    status: str     # correct | partial | wrong | unanswered | unreadable | not-graded
    reason: str
    hint: str = ""


@dataclass
class SubmissionResult:
    """All questions of one submission, plus notes about the run."""

    student_id: str
    submission: str
    status: str     # graded | invalid | failed | not submitted
    questions: list[QuestionResult]
    notes: list[str] = field(default_factory=list)
    seed: int | None = None
    assignment: str = ""
    submitted_at: str = ""          # the file's modification time, ISO 8601 UTC
    fingerprint: str = ""           # kmemlib version + hash of this student's problems
    sha256: str = ""                # of the submitted file (resume regrades a changed file)
    flags: list[str] = field(default_factory=list)   # roster: unknown id, duplicate submission, ...

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

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(total=self.total, max_total=self.max_total)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "SubmissionResult":
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["questions"] = [QuestionResult(**q) for q in d.get("questions", [])]
        return cls(**kw)


@dataclass(frozen=True)
class GradeSettings:
    """How to grade: time limits, kernel, sandbox, seeds."""

    timeout: float = 30
    total_timeout: float | None = None
    kernel: str = "python3"
    id_from: str = "path"
    overrides: Mapping[str, int] = field(default_factory=dict)
    key: CourseKey | None = None
    variants: Mapping[str, Mapping[str, int]] = field(default_factory=dict)   # student → question → variant
    sandbox: bool = True
    limits: Limits = Limits()
    startup_timeout: float = 60
    max_restarts: int = 3

    def __post_init__(self) -> None:
        _positive("timeout", self.timeout)
        if self.total_timeout is not None:
            _positive("total_timeout", self.total_timeout)
        _positive("startup_timeout", self.startup_timeout)
        if self.id_from not in ("path", "notebook"):
            raise ValueError(f"id_from must be 'path' or 'notebook', got {self.id_from!r}")
        if not isinstance(self.max_restarts, int) or isinstance(self.max_restarts, bool) or self.max_restarts < 0:
            raise ValueError(f"max_restarts must be a non-negative integer, got {self.max_restarts!r}")

    def digest(self) -> str:
        """What a resumed run must share with the first one for its stored results to count."""
        text = json.dumps([self.timeout, self.total_timeout, self.kernel, self.id_from, sorted(self.overrides.items()),
                           self.key.fingerprint if self.key else None, self.sandbox,
                           {k: dict(v) for k, v in sorted(self.variants.items())}], default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


# --------------------------------------------------------------------------- discovering submissions
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
    """Find one submission per file or folder in ``folder`` (see the module docstring for the layouts)."""
    root = Path(folder)
    if not root.is_dir():
        raise GradingError(f"submissions folder {root} does not exist or is not a folder")
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


# --------------------------------------------------------------------------- reading one submission
def _load(path: Path) -> tuple[nbformat.NotebookNode | None, str | None, bytes]:
    """Read and parse a submission in the grader (never executing anything)."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return None, f"not a notebook: the file is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB", b""
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}", b""
    if not raw.strip():
        return None, "not a notebook: the file is empty", raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not a notebook: the file is not UTF-8 text", raw
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not a notebook: invalid JSON ({exc.msg} at line {exc.lineno})", raw
    except (RecursionError, MemoryError, ValueError):
        return None, "not a notebook: the JSON is nested too deeply", raw
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not a notebook: the JSON has no list of cells", raw
    for cell in data["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            return None, "not a notebook: a cell has no cell_type", raw
        src = cell.get("source", "")
        if not (isinstance(src, str) or (isinstance(src, list) and all(isinstance(x, str) for x in src))):
            return None, "not a notebook: a cell's source is not text", raw
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        return None, f"not a notebook: {type(exc).__name__}: {str(exc)[:120]}", raw
    for cell in nb.cells:
        if not isinstance(cell, dict) or "cell_type" not in cell:
            return None, "not a notebook: a cell has no cell_type", raw
        src = cell.get("source", "")
        if isinstance(src, list):
            if not all(isinstance(s, str) for s in src):
                return None, "not a notebook: a cell's source is not text", raw
            cell["source"] = "".join(src)
        elif not isinstance(src, str):
            return None, "not a notebook: a cell's source is not text", raw
    return nb, None, raw


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__set__"} and isinstance(value["__set__"], list):
        return set(map(lambda v: tuple(v) if isinstance(v, list) else v, value["__set__"]))
    return value


def _mentions(source: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", source) is not None


def _variants(assignment: Assignment, roster: Mapping[str, int], declared: Mapping[str, Any] | None,
              notes: list[str]) -> dict[str, int]:
    """The problem variant of each question: the one the notebook was built with when it says so (a student can
    only pick among their own variants, whose answers they cannot know without solving them), else the roster's."""
    from .sheet import MAX_VARIANT
    said = declared.get("variants") if declared else None
    if not isinstance(said, dict):
        return dict(roster)
    out = {}
    for q in assignment.questions:
        v = said.get(q.qid, 0)
        out[q.qid] = v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_VARIANT else 0
    differ = [q.qid for q in assignment.questions if out[q.qid] != roster.get(q.qid, 0)]
    if differ:
        notes.append(f"the notebook was built with other problem variants than this roster gives "
                     f"({', '.join(differ)}); graded with the notebook's")
    return {k: v for k, v in out.items() if v}


def problem_fingerprint(assignment: Assignment, seeds: Mapping[str, int]) -> str:
    """``<kmemlib version>:<12 hex digits>``: identifies the exact problems a student was given."""
    from importlib import metadata
    try:
        version = metadata.version("kmemlib")
    except metadata.PackageNotFoundError:
        version = "unknown"
    h = hashlib.sha256(assignment.aid.encode())
    for q in assignment.questions:
        g = q.generate(seeds[q.qid])
        h.update(json.dumps([q.qid, g.prompt, g.data], sort_keys=True, default=str).encode())
    return f"{version}:{h.hexdigest()[:12]}"


def _grade_answers(assignment: Assignment, seeds: Mapping[str, int],
                   outcome: ExecutionOutcome) -> list[QuestionResult]:
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
            results.append(QuestionResult(q.qid, 0.0, q.points, "unanswered", why, q.hint))
            continue
        if "error" in entry:
            results.append(QuestionResult(q.qid, 0.0, q.points, "unreadable",
                                          f"{q.qid} holds a value the grader cannot read ({entry['error']})", q.hint))
            continue
        verdict = q.judge(seeds[q.qid], _decode(entry.get("value")))
        pts = round(q.points * verdict.fraction, 2)
        status = "correct" if verdict.correct else ("partial" if verdict.fraction > 0 else "wrong")
        results.append(QuestionResult(q.qid, pts, q.points, status, verdict.message,
                                      "" if verdict.correct else q.hint))
    return results


def _zero(assignment: Assignment, status: str, reason: str) -> list[QuestionResult]:
    return [QuestionResult(q.qid, 0.0, q.points, status, reason) for q in assignment.questions]


def _mtime(path: Path | None) -> str:
    try:
        ts = path.stat().st_mtime if path else None
    except OSError:
        ts = None
    return "" if ts is None else datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def grade_submission(submission: Submission, assignment: Assignment, settings: GradeSettings = GradeSettings(), *,
                     root: Path | None = None, slot: int = 0, kernel: list[str] | None = None) -> SubmissionResult:
    """Grade one submission (run it in the sandbox, read the answers, recompute the expected values).

    Never raises for anything the submission contains: every failure becomes a ``failed``/``invalid`` result.
    """
    shown = str(submission.path.relative_to(root)) if submission.path and root else str(submission.path or "")
    sid = submission.student_id
    base = SubmissionResult(sid, shown, "invalid", [], assignment=assignment.aid,
                            submitted_at=_mtime(submission.path), flags=list(submission.flags))
    try:
        return _grade(submission, assignment, settings, base, slot, kernel)
    except Exception as exc:  # a bug or an unexpected input: this row fails, the run goes on
        reason = f"the grader could not grade this submission ({type(exc).__name__}: {str(exc)[:200]})"
        base.status, base.questions, base.notes = "failed", _zero(assignment, "not-graded", reason), [reason]
        return base


def _grade(submission: Submission, assignment: Assignment, settings: GradeSettings, res: SubmissionResult,
           slot: int, kernel: list[str] | None) -> SubmissionResult:
    sid = submission.student_id
    if submission.problem is not None or submission.path is None:
        reason = submission.problem or "no submission"
        res.status = "invalid"
        if submission.path is None and submission.problem == "not submitted":
            res.status, reason = "not submitted", "no submission was found for this student"
        res.questions, res.notes = _zero(assignment, "not-graded", reason), [reason]
        return res
    nb, problem, raw = _load(submission.path)
    res.sha256 = hashlib.sha256(raw).hexdigest()
    if nb is None:
        res.questions, res.notes = _zero(assignment, "not-graded", problem), [problem]
        return res
    outcome = execute_and_collect(nb, assignment.question_ids, timeout=settings.timeout,
                                  total_timeout=settings.total_timeout, kernel=kernel or kernel_argv(settings.kernel),
                                  startup_timeout=settings.startup_timeout, max_restarts=settings.max_restarts,
                                  sandbox=settings.sandbox, slot=slot, limits=settings.limits)
    notes = list(outcome.notes)
    if not outcome.ok:
        notes.insert(0, outcome.failure or "failed")
        res.status, res.questions, res.notes = "failed", _zero(assignment, "not-graded", outcome.failure or ""), notes
        return res
    declared = outcome.session
    if declared and declared.get("assignment") != assignment.aid:
        notes.append(f"the notebook started assignment {declared.get('assignment')!r}, not {assignment.aid!r}")
    if settings.id_from == "notebook":
        if not declared:
            reason = "the notebook never ran homework.start(...), so it declares no student id"
            notes.insert(0, reason)
            res.status, res.questions, res.notes = "failed", _zero(assignment, "not-graded", reason), notes
            return res
        sid = normalise_student_id(declared["student_id"])
        res.student_id = sid
    elif declared and declared.get("student_id") != sid:
        notes.append(f"the notebook declares student id {declared.get('student_id')!r}; graded as {sid!r}")
    seed = student_seed(sid, assignment.aid, settings.overrides, key=settings.key)
    if declared and declared.get("seed") is not None and declared.get("seed") != seed \
            and declared.get("student_id") == sid and settings.key is None:
        notes.append(f"the notebook used seed {declared.get('seed')}, graded with seed {seed}")
    if settings.key is not None and declared and declared.get("student_id") == sid and declared.get("seed") is not None:
        notes.append("the notebook is a self-study copy (it has a seed), but grading uses the course key: "
                     "were the notebooks built without --key?")
    variants = _variants(assignment, settings.variants.get(sid, {}), declared if declared and
                         declared.get("student_id") == sid else None, notes)
    seeds = {q.qid: question_seed(seed, q.qid, variants.get(q.qid, 0)) for q in assignment.questions}
    res.status, res.seed = "graded", seed
    res.questions = _grade_answers(assignment, seeds, outcome)
    res.notes = notes
    res.fingerprint = problem_fingerprint(assignment, seeds)
    return res


# --------------------------------------------------------------------------- the results folder
class ResultStore:
    """One JSON file per student in ``folder``: written atomically (temporary file, fsync, rename) as soon as the
    result is known, so a killed run loses at most the submissions being graded at that moment."""

    def __init__(self, folder: str | Path, settings_digest: str) -> None:
        self.folder = Path(folder)
        self.digest = settings_digest

    def path(self, sid: str) -> Path:
        return self.folder / (urllib.parse.quote(sid, safe="") + ".json")

    def write(self, result: SubmissionResult) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(result.student_id)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        data = json.dumps({"settings": self.digest, "result": result.to_json()}, ensure_ascii=False, indent=1)
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fd = os.open(self.folder, os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def load(self, sid: str) -> SubmissionResult | None:
        """The stored result of ``sid`` if it was graded with the same settings."""
        try:
            data = json.loads(self.path(sid).read_text(encoding="utf-8"))
            if data.get("settings") != self.digest:
                return None
            return SubmissionResult.from_json(data["result"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def existing(self) -> list[Path]:
        return sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []


def results_folder(out: str | Path) -> Path:
    """The folder of per-student result files that goes with the grades file ``out``."""
    p = Path(out)
    return p.with_name(p.name + ".results")


def _file_sha(path: Path | None) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path else ""
    except OSError:
        return ""


def grade_folder(assignment: Assignment, folder: str | Path | None = None, settings: GradeSettings = GradeSettings(),
                 *, submissions: Sequence[Submission] | None = None, jobs: int | None = None,
                 store: ResultStore | None = None, resume: bool = False,
                 progress: Callable[[SubmissionResult, bool], None] | None = None) -> list[SubmissionResult]:
    """Grade every submission (found in ``folder`` unless given), ``jobs`` at a time (default: the CPU count).

    With a ``store`` each result is saved as soon as it is known; with ``resume=True`` results already stored for
    the same submission file and settings are reused.  ``progress(result, reused)`` is called after each one.
    The returned list follows the submissions' order.
    """
    root = Path(folder) if folder is not None else None
    subs = list(submissions) if submissions is not None else discover_submissions(root, assignment)
    jobs = jobs or os.cpu_count() or 1
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    kernel = kernel_argv(settings.kernel)
    results: list[SubmissionResult | None] = [None] * len(subs)
    todo: list[int] = []
    for i, sub in enumerate(subs):
        old = store.load(sub.student_id) if (store is not None and resume) else None
        if old is not None and old.submission == (str(sub.path.relative_to(root)) if sub.path and root
                                                   else str(sub.path or "")) \
                and (old.sha256 == _file_sha(sub.path) or sub.path is None or old.status == "invalid"):
            results[i] = old
            if progress:
                progress(old, True)
        else:
            todo.append(i)
    slots: queue.Queue[int] = queue.Queue()
    for s in range(jobs):
        slots.put(s)
    lock = threading.Lock()

    def work(i: int) -> None:
        slot = slots.get()
        try:
            r = grade_submission(subs[i], assignment, settings, root=root, slot=slot, kernel=kernel)
        finally:
            slots.put(slot)
        if store is not None:
            store.write(r)
        results[i] = r
        if progress:
            with lock:
                progress(r, False)

    if jobs == 1:
        for i in todo:
            work(i)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for f in [pool.submit(work, i) for i in todo]:
                f.result()
    return [r for r in results if r is not None]


def clear_results(store: ResultStore) -> None:
    """Remove a previous run's result files (a fresh run without ``--resume``)."""
    if store.folder.is_dir():
        shutil.rmtree(store.folder)
