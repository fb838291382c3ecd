"""Problem sheets: what a student's notebook carries when the instructor uses a course key.

With a key, the student's copy holds no seed (a seed is all one needs to recompute every answer).  Instead its first
cell carries a *sheet*: the student's problems — prompt and data, exactly what :meth:`Question.problem` shows — and,
per question, a salted scrypt digest of the expected answer in canonical form.  ``check()`` then says only right or
wrong (and the question's general hint): it compares digests, so it cannot tell which part of an answer is off, and
each check costs a deliberate ~50 ms of hashing.  The answers themselves are recomputed by the grader, with the key.

Also here: :func:`class_variants`, which gives every student of a roster problems no classmate shares.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import KmemError
from .assignment import Assignment
from .problem import Problem, Question
from .seeds import CourseKey, normalise_student_id, question_seed, student_seed

__all__ = ["SheetError", "build_sheet", "read_sheet", "answer_digest", "canonical", "class_variants",
           "MAX_VARIANT"]

_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 16}
#: Problems are re-derived at most this many times per question to avoid a classmate's.
MAX_VARIANT = 16


class SheetError(KmemError, ValueError):
    """The notebook's problem sheet is damaged (edited, truncated, from another kmemlib version)."""


def canonical(value: Any) -> bytes:
    """The canonical bytes of a normalised answer (sorted keys, no spaces; tuples as lists)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def answer_digest(value: Any, salt: bytes) -> str:
    """Salted scrypt digest (hex) of a normalised answer."""
    return hashlib.scrypt(canonical(value), salt=salt, **_SCRYPT).hex()


def _problem_fp(q: Question, seed: int) -> str:
    g = q.generate(seed)
    return hashlib.sha256(json.dumps([g.prompt, g.data], sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_sheet(assignment: Assignment, student_id: str, key: CourseKey,
                variants: Mapping[str, int] | None = None, overrides: Mapping[str, int] | None = None) -> str:
    """The sheet text (base64 of compressed JSON) for one student's notebook."""
    sid = normalise_student_id(student_id)
    base = student_seed(sid, assignment.aid, overrides, key=key)
    problems = {}
    for q in assignment.questions:
        variant = int((variants or {}).get(q.qid, 0))
        seed = question_seed(base, q.qid, variant)
        g = q.generate(seed)
        salt = key.mac("salt", sid, assignment.aid, q.qid, str(variant))[:16]
        problems[q.qid] = {"prompt": g.prompt, "data": g.data, "variant": variant, "salt": salt.hex(),
                           "digest": answer_digest(q.read(g.answer), salt)}
    body = {"v": 1, "assignment": assignment.aid, "student_id": sid, "key": key.fingerprint, "problems": problems}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_plain_default).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def _plain_default(o: Any) -> Any:
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(type(o).__name__)


def read_sheet(text: str, assignment: Assignment, student_id: str) -> dict[str, Any]:
    """Decode and check a sheet for ``assignment`` and ``student_id`` (raises :class:`SheetError`)."""
    try:
        raw = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True), bufsize=1 << 16)
        if len(raw) > 4 << 20:
            raise ValueError("too large")
        body = json.loads(raw)
    except (ValueError, TypeError, zlib.error, RecursionError, UnicodeEncodeError):
        raise SheetError("the problem sheet in the first cell is damaged: download a fresh copy of your notebook "
                         "from your instructor") from None
    if not isinstance(body, dict) or body.get("v") != 1 or not isinstance(body.get("problems"), dict):
        raise SheetError("the problem sheet in the first cell is not one this kmemlib can read")
    if body.get("assignment") != assignment.aid:
        raise SheetError(f"this problem sheet is for assignment {body.get('assignment')!r}, not {assignment.aid!r}")
    if body.get("student_id") != student_id:
        raise SheetError(f"this problem sheet belongs to student {body.get('student_id')!r}, not {student_id!r}")
    for q in assignment.questions:
        p = body["problems"].get(q.qid)
        if not (isinstance(p, dict) and isinstance(p.get("prompt"), str) and isinstance(p.get("salt"), str)
                and isinstance(p.get("digest"), str) and isinstance(p.get("data"), dict)):
            raise SheetError(f"the problem sheet has no valid entry for {q.qid}")
    return body


def sheet_problem(body: Mapping[str, Any], q: Question) -> Problem:
    p = body["problems"][q.qid]
    return Problem(qid=q.qid, title=q.title, seed=None, points=q.points, prompt=p["prompt"], data=p["data"],
                   answer_format=q.answer_format)


def sheet_matches(body: Mapping[str, Any], q: Question, value: Any) -> bool:
    """Whether a normalised answer is the expected one (constant-time digest comparison)."""
    p = body["problems"][q.qid]
    try:
        salt = bytes.fromhex(p["salt"])
    except ValueError:
        return False
    return hmac.compare_digest(answer_digest(value, salt), p["digest"])


def class_variants(assignment: Assignment, student_ids: Iterable[str], *, key: CourseKey | None = None,
                   overrides: Mapping[str, int] | None = None) -> dict[str, dict[str, int]]:
    """Per student and question, the variant (0 = the first derivation) that keeps every problem of the class
    distinct.  Deterministic: students are taken in the order of their seeds (then ids) and keep the first variant no
    earlier student has, so building and grading with the same roster give the same problems.  Only students who
    need a variant other than 0 appear in the result."""
    ids = sorted({normalise_student_id(s) for s in student_ids})
    bases = {sid: student_seed(sid, assignment.aid, overrides, key=key) for sid in ids}
    taken: dict[str, set[str]] = {q.qid: set() for q in assignment.questions}
    out: dict[str, dict[str, int]] = {}
    for sid in sorted(ids, key=lambda s: (bases[s], s)):
        for q in assignment.questions:
            for variant in range(MAX_VARIANT + 1):
                fp = _problem_fp(q, question_seed(bases[sid], q.qid, variant))
                if fp not in taken[q.qid] or variant == MAX_VARIANT:
                    break
            taken[q.qid].add(fp)
            if variant:
                out.setdefault(sid, {})[q.qid] = variant
    return out
