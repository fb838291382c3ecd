"""Stable seeds for per-student problems (the OSTEP homework contract).

Every problem is a pure function of one integer seed.  The seed of a question is derived from the student's
seed and the question id; the student's seed is derived from ``(student id, assignment id)`` — or set by the
instructor through an override file.  All derivations use SHA-256 over UTF-8 text, so they are identical on every
machine, operating system and Python version (unlike :func:`hash`, which is salted per process).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import KmemError

__all__ = [
    "SEED_BITS",
    "SeedFileError",
    "normalise_student_id",
    "derive_student_seed",
    "student_seed",
    "question_seed",
    "load_seed_overrides",
]

#: Seeds are non-negative integers below ``2**SEED_BITS`` (small enough to type, big enough never to collide).
SEED_BITS = 48
_DOMAIN = "kmembook-homework-v1"


class SeedFileError(KmemError, ValueError):
    """A seed override file could not be read (bad JSON/CSV, non-integer seed, duplicate student)."""


def _hash_to_seed(*parts: str) -> int:
    text = "\x1f".join((_DOMAIN, *parts))
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)


def normalise_student_id(student_id: object) -> str:
    """Return the canonical form of a student id: text with surrounding blanks removed.

    Ids are case-sensitive (``Alice`` and ``alice`` are different students).  Raises :class:`ValueError` for an
    empty id or one with control characters.
    """
    sid = str(student_id).strip()
    if not sid:
        raise ValueError("the student id is empty")
    if any(ord(c) < 32 for c in sid):
        raise ValueError(f"the student id {sid!r} contains control characters")
    return sid


def derive_student_seed(student_id: str, assignment_id: str) -> int:
    """The default seed of one student for one assignment: SHA-256 of (student id, assignment id)."""
    return _hash_to_seed("student", normalise_student_id(student_id), str(assignment_id))


def student_seed(student_id: str, assignment_id: str, overrides: Mapping[str, int] | None = None) -> int:
    """The seed of one student for one assignment: the instructor's override if there is one, else derived."""
    sid = normalise_student_id(student_id)
    if overrides and sid in overrides:
        return int(overrides[sid])
    return derive_student_seed(sid, assignment_id)


def question_seed(base_seed: int, question_id: str) -> int:
    """The seed of one question, derived from the student's seed and the question id."""
    if not isinstance(base_seed, int) or isinstance(base_seed, bool) or base_seed < 0:
        raise ValueError(f"a seed must be a non-negative integer, got {base_seed!r}")
    return _hash_to_seed("question", str(base_seed), str(question_id))


def _parse_seed(value: object, where: str) -> int:
    if isinstance(value, bool):
        raise SeedFileError(f"{where}: seed must be an integer, got {value!r}")
    if isinstance(value, int):
        seed = value
    else:
        text = str(value).strip()
        try:
            seed = int(text, 0)
        except ValueError:
            raise SeedFileError(f"{where}: seed must be an integer, got {value!r}") from None
    if seed < 0:
        raise SeedFileError(f"{where}: seed must be non-negative, got {seed}")
    return seed


def load_seed_overrides(path: str | Path) -> dict[str, int]:
    """Read an instructor's seed override file: ``student id → seed``.

    Two formats, chosen by extension:

    * ``.json`` — an object ``{"alice": 1234, "bob": "0x2a"}``;
    * ``.csv`` — two columns ``student_id,seed`` (a header row with those names is optional).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedFileError(f"cannot read seed file {p}: {exc.strerror or exc}") from None
    result: dict[str, int] = {}
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedFileError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise SeedFileError(f"{p}: expected a JSON object mapping student ids to seeds")
        for key, value in data.items():
            try:
                sid = normalise_student_id(key)
            except ValueError as exc:
                raise SeedFileError(f"{p}: {exc}") from None
            result[sid] = _parse_seed(value, f"{p}: student {sid!r}")
        return result
    if p.suffix.lower() == ".csv":
        rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
        if rows and [c.strip().lower() for c in rows[0][:2]] == ["student_id", "seed"]:
            rows = rows[1:]
        for lineno, row in enumerate(rows, 1):
            if len(row) != 2:
                raise SeedFileError(f"{p}: row {lineno}: expected 2 columns student_id,seed, got {len(row)}")
            try:
                sid = normalise_student_id(row[0])
            except ValueError as exc:
                raise SeedFileError(f"{p}: row {lineno}: {exc}") from None
            if sid in result:
                raise SeedFileError(f"{p}: student {sid!r} appears twice")
            result[sid] = _parse_seed(row[1], f"{p}: row {lineno}")
        return result
    raise SeedFileError(f"{p}: seed files must end in .json or .csv")
