"""A class roster: who should hand in, and how LMS download names map to student ids.

A roster is a CSV file with a header row.  ``id`` is required (the student id the notebooks were built for); the
optional columns are ``name``, ``email``, ``lms_id`` (the LMS's numeric user id — Canvas's "ID" column, Moodle's
participant id — which bulk downloads put in the file names), ``sis_user_id``, ``sis_login_id`` and ``section``
(copied to the Canvas grades export).  A plain text file with one id per line (``#`` comments) also works.

:func:`match_submissions` pairs the found submissions with the roster: every student gets exactly one entry ("not
submitted" when nothing was found), submissions whose name is not on the roster are kept and flagged, and several
submissions of one student are reduced to the newest, with a flag naming the others.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import KmemError
from .grading import Submission
from .seeds import normalise_student_id, read_text_file

__all__ = ["RosterError", "Student", "Roster", "load_roster", "lms_user_id", "match_submissions",
           "spreadsheet_safe"]


class RosterError(KmemError, ValueError):
    """The roster file cannot be used (unreadable, no id column, duplicate ids)."""


@dataclass(frozen=True)
class Student:
    """One roster row."""

    id: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


@dataclass
class Roster:
    """The students of a class, in the roster's order."""

    students: list[Student] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.students]

    def by_id(self, sid: str) -> Student | None:
        return next((s for s in self.students if s.id == sid), None)

    def by_lms_id(self, lms: str) -> Student | None:
        return next((s for s in self.students if s.lms_id and s.lms_id == lms), None)


_COLUMNS = ("id", "name", "email", "lms_id", "sis_user_id", "sis_login_id", "section")
_ALIASES = {"student_id": "id", "student": "id", "login": "id", "canvas_id": "lms_id", "user_id": "lms_id"}


def load_roster(path: str | Path) -> Roster:
    """Read a roster (see the module docstring); raises :class:`RosterError` naming the file and line."""
    p = Path(path)
    text = read_text_file(p, "roster", RosterError)
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    students: list[Student] = []
    seen: dict[str, int] = {}
    seen_lms: dict[str, int] = {}
    if "," in first or first.strip().lower() in ("id", "student_id"):
        try:
            rows = list(csv.reader(io.StringIO(text)))
        except csv.Error as exc:
            raise RosterError(f"{p}: not a readable CSV file ({exc})") from None
        header = [_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in rows[0]] if rows else []
        if "id" not in header:
            raise RosterError(f"{p}: the first row must name the columns, one of them 'id' "
                              f"(found {', '.join(header) or 'nothing'})")
        body = [(n, r) for n, r in enumerate(rows[1:], 2) if any(c.strip() for c in r)]
        for lineno, row in body:
            if len(row) > len(header):
                raise RosterError(f"{p}:{lineno}: {len(row)} fields but the header names {len(header)} columns")
            values = dict(zip(header, (c.strip() for c in row)))
            try:
                sid = normalise_student_id(values.get("id", ""))
            except ValueError as exc:
                raise RosterError(f"{p}:{lineno}: {exc}") from None
            kw = {c: values.get(c, "") for c in _COLUMNS if c != "id"}
            students.append(Student(sid, **kw))
            _unique(p, lineno, sid, seen, "student id")
            if kw["lms_id"]:
                _unique(p, lineno, kw["lms_id"], seen_lms, "lms_id")
    else:
        for lineno, line in enumerate(lines, 1):
            text_id = line.split("#", 1)[0].strip()
            if not text_id:
                continue
            try:
                sid = normalise_student_id(text_id)
            except ValueError as exc:
                raise RosterError(f"{p}:{lineno}: {exc}") from None
            _unique(p, lineno, sid, seen, "student id")
            students.append(Student(sid))
    if not students:
        raise RosterError(f"{p} lists no students")
    return Roster(students)


def _unique(p: Path, lineno: int, value: str, seen: dict[str, int], what: str) -> None:
    if value in seen:
        raise RosterError(f"{p}:{lineno}: {what} {value!r} is listed twice (first on line {seen[value]})")
    seen[value] = lineno


#: Canvas: ``lastfirst_12345_67890_name.ipynb`` or ``lastfirst_LATE_12345_67890_name-1.ipynb``;
#: Moodle: ``Full Name_12345_assignsubmission_file_name.ipynb`` (a folder, or a prefix of the file name).
_CANVAS = re.compile(r"^[^_]+_(?:late_)?(\d+)_\d+_", re.IGNORECASE)
_MOODLE = re.compile(r"^.+?_(\d+)_assignsubmission_", re.IGNORECASE)


def lms_user_id(name: str) -> str | None:
    """The LMS user id an LMS bulk-download file or folder name carries, or None."""
    for rx in (_CANVAS, _MOODLE):
        m = rx.match(name)
        if m:
            return m.group(1)
    return None


def match_submissions(found: list[Submission], roster: Roster) -> list[Submission]:
    """One entry per roster student (in roster order), then the unknown ones (see the module docstring)."""
    by_student: dict[str, list[Submission]] = {}
    unknown: list[Submission] = []
    for sub in found:
        name = sub.path.name if sub.path is not None else sub.student_id
        stu = roster.by_id(sub.student_id)
        if stu is None:
            lms = lms_user_id(sub.student_id) or lms_user_id(name)
            stu = roster.by_lms_id(lms) if lms else None
        if stu is None:
            unknown.append(replace(sub, flags=sub.flags + ("not on the roster",)))
        else:
            by_student.setdefault(stu.id, []).append(replace(sub, student_id=stu.id))
    out: list[Submission] = []
    for stu in roster.students:
        subs = by_student.get(stu.id, [])
        if not subs:
            out.append(Submission(stu.id, None, "not submitted"))
            continue
        subs.sort(key=_newest_first)
        chosen = subs[0]
        if len(subs) > 1:
            others = ", ".join(str(s.path.name if s.path else s.student_id) for s in subs[1:])
            chosen = replace(chosen, flags=chosen.flags + (f"{len(subs)} submissions: graded the newest, "
                                                           f"ignored {others}",))
        out.append(chosen)
    return out + unknown


def _newest_first(sub: Submission) -> tuple:
    try:
        mtime = sub.path.stat().st_mtime if sub.path is not None else 0.0
    except OSError:
        mtime = 0.0
    invalid = sub.problem is not None
    return (invalid, -mtime, str(sub.path))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")


def spreadsheet_safe(text: str) -> str:
    """Text that a spreadsheet will not run as a formula: a leading ``= + - @``, tab or CR gets a ``'`` prefix
    (OWASP's advice for CSV injection)."""
    text = str(text)
    return "'" + text if text.startswith(_FORMULA_START) else text
