"""Stable seeds for per-student problems (the OSTEP homework contract).

Every problem is a pure function of one integer seed.  The seed of a question is derived from the student's
seed and the question id; the student's seed is derived from ``(student id, assignment id)`` — or set by the
instructor through an override file.  All derivations use SHA-256 over UTF-8 text, so they are identical on every
machine, operating system and Python version (unlike :func:`hash`, which is salted per process).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import KmemError

__all__ = [
    "SEED_BITS",
    "SeedFileError",
    "CourseKey",
    "KeyFileError",
    "create_course_key",
    "load_course_key",
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


class KeyFileError(KmemError, ValueError):
    """A course key file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class CourseKey:
    """An instructor's secret: with it, seeds are HMAC-SHA256 of (student id, assignment) under the key, so nobody
    without the key can compute a student's seed, problems or answers.  ``repr`` never shows the secret."""

    secret: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) < 16:
            raise KeyFileError("a course key needs at least 16 bytes of secret")

    @property
    def fingerprint(self) -> str:
        """8 hex digits that identify the key (safe to print)."""
        return hashlib.sha256(b"kmembook-key-id" + self.secret).hexdigest()[:8]

    def mac(self, *parts: str) -> bytes:
        return hmac.new(self.secret, "\x1f".join((_DOMAIN, *parts)).encode("utf-8"), hashlib.sha256).digest()

    def __repr__(self) -> str:
        return f"CourseKey(fingerprint={self.fingerprint!r})"


_KEY_HEADER = "kmembook-course-key-v1"


def create_course_key(path: str | Path) -> CourseKey:
    """Write a new random key to ``path`` (mode 0600; refuses to overwrite an existing file)."""
    p = Path(path)
    key = CourseKey(secrets.token_bytes(32))
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{p} already exists: a course key is never overwritten") from None
    except OSError as exc:
        raise KeyFileError(f"cannot create {p}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(f"{_KEY_HEADER}\n{key.secret.hex()}\n")
    return key


def load_course_key(path: str | Path) -> CourseKey:
    """Read a key written by :func:`create_course_key`."""
    p = Path(path)
    try:
        raw = p.read_bytes()[:4096]
    except OSError as exc:
        raise KeyFileError(f"cannot read course key {p}: {exc.strerror or exc}") from None
    lines = raw.decode("ascii", "replace").split()
    if len(lines) != 2 or lines[0] != _KEY_HEADER:
        raise KeyFileError(f"{p} is not a kmembook course key (create one with `kmemlib homework key --new FILE`)")
    try:
        secret = bytes.fromhex(lines[1])
    except ValueError:
        raise KeyFileError(f"{p}: the key is not hexadecimal") from None
    return CourseKey(secret)


def _hash_to_seed(*parts: str, key: CourseKey | None = None) -> int:
    if key is not None:
        digest = key.mac(*parts)
    else:
        digest = hashlib.sha256("\x1f".join((_DOMAIN, *parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)


#: Longest student id accepted.
MAX_ID_LENGTH = 200


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
    if len(sid) > MAX_ID_LENGTH:
        raise ValueError(f"the student id {sid[:20]!r}... is longer than {MAX_ID_LENGTH} characters")
    return sid


def derive_student_seed(student_id: str, assignment_id: str, key: CourseKey | None = None) -> int:
    """The default seed of one student for one assignment: SHA-256 of (student id, assignment id) — self-study —
    or, with the instructor's course ``key``, HMAC-SHA256 under it."""
    return _hash_to_seed("student", normalise_student_id(student_id), str(assignment_id), key=key)


def student_seed(student_id: str, assignment_id: str, overrides: Mapping[str, int] | None = None, *,
                 key: CourseKey | None = None) -> int:
    """The seed of one student for one assignment: the instructor's override if there is one, else derived."""
    sid = normalise_student_id(student_id)
    if overrides and sid in overrides:
        return int(overrides[sid])
    return derive_student_seed(sid, assignment_id, key)


def check_seed(seed: object, what: str = "seed") -> int:
    """Return ``seed`` if it is an integer in ``0 .. 2**SEED_BITS - 1``, else raise ``ValueError`` saying so."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2 ** SEED_BITS:
        raise ValueError(f"{what} must be an integer from 0 to 2**{SEED_BITS} - 1, got {seed!r}")
    return seed


def question_seed(base_seed: int, question_id: str, variant: int = 0) -> int:
    """The seed of one question, derived from the student's seed and the question id (``variant`` > 0: the
    re-derived problem given when two students of a class would otherwise get the same one)."""
    if not isinstance(base_seed, int) or isinstance(base_seed, bool) or base_seed < 0:
        raise ValueError(f"a seed must be a non-negative integer, got {base_seed!r}")
    if variant:
        return _hash_to_seed("question", str(base_seed), str(question_id), f"variant {int(variant)}")
    return _hash_to_seed("question", str(base_seed), str(question_id))


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_seed(value: object, where: str) -> int:
    if isinstance(value, bool):
        raise SeedFileError(f"{where}: seed must be an integer, got {value!r}")
    if isinstance(value, int):
        seed = value
    else:
        text = str(value).strip()
        try:
            seed = int(text, 0) if len(text) <= 40 else None
        except ValueError:
            seed = None
        if seed is None:
            raise SeedFileError(f"{where}: seed must be an integer, got {_short(value)}") from None
    if not 0 <= seed < 2 ** SEED_BITS:
        raise SeedFileError(f"{where}: seed must be from 0 to 2**{SEED_BITS} - 1, got {_short(seed)}")
    return seed


#: Text files the homework commands read (seed files, rosters, id lists) may not be larger than this.
MAX_TEXT_FILE = 8 << 20


def read_text_file(path: Path, what: str, error: type[Exception]) -> str:
    """Read a small UTF-8 text file the instructor named, raising ``error`` with the file's name on any problem."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TEXT_FILE + 1)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_TEXT_FILE:
        raise error(f"{what} {path} is larger than {MAX_TEXT_FILE >> 20} MiB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text (byte {exc.start})") from None


def load_seed_overrides(path: str | Path) -> dict[str, int]:
    """Read an instructor's seed override file: ``student id → seed``.

    Two formats, chosen by extension:

    * ``.json`` — an object ``{"alice": 1234, "bob": "0x2a"}``;
    * ``.csv`` — two columns ``student_id,seed`` (a header row with those names is optional).
    """
    p = Path(path)
    if p.suffix.lower() not in (".json", ".csv"):
        raise SeedFileError(f"{p}: seed files must end in .json or .csv")
    text = read_text_file(p, "seed file", SeedFileError)
    result: dict[str, int] = {}
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedFileError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise SeedFileError(f"{p}: not valid JSON (nested too deeply)") from None
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
        try:
            rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
        except csv.Error as exc:
            raise SeedFileError(f"{p}: not a readable CSV file ({exc})") from None
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
