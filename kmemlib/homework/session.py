"""The student's side: ``start()`` in the first cell, then ``show()`` and ``check()`` per question.

Nothing here stores an answer.  Two modes:

* **self-study** (no course key; the default): the notebook knows the student's seed and every check recomputes the
  expected value from it with kmemlib, with a hint about what is off;
* **graded** (the instructor built the notebooks with a course key): the notebook carries a problem *sheet* instead
  of a seed (:mod:`.sheet`); ``check()`` says right or wrong, with the question's general hint, and nothing else.
"""

from __future__ import annotations

from typing import Any

from .assignment import Assignment
from .problem import Problem, Verdict
from .registry import get_assignment
from .seeds import check_seed, derive_student_seed, normalise_student_id, question_seed

__all__ = ["Session", "start", "check", "current_session"]

_CURRENT: "Session | None" = None


class Session:
    """One student's copy of one assignment.

    ``seed`` is the student's seed (derived from the student id and the assignment id unless the instructor set
    one); each question's seed is derived from it, the question id and the question's ``variants`` entry (set when
    the instructor's roster needed a different problem to keep classmates' problems apart).  With a ``sheet``
    (graded mode) there is no seed at all.
    """

    def __init__(self, assignment: Assignment, student_id: str, seed: int | None = None, *,
                 variants: dict[str, int] | None = None, sheet: str | None = None) -> None:
        self.assignment = assignment
        self.student_id = normalise_student_id(student_id)
        self.overridden = seed is not None
        self.variants = _check_variants(assignment, variants)
        self._sheet: dict | None = None
        if sheet is not None:
            if seed is not None or variants:
                raise ValueError("a notebook with a problem sheet takes no seed or variants")
            from .sheet import read_sheet
            self._sheet = read_sheet(str(sheet), assignment, self.student_id)
            self.seed: int | None = None
            self.overridden = False
            return
        if seed is not None:
            check_seed(seed)
        self.seed = seed if seed is not None else derive_student_seed(self.student_id, assignment.aid)

    @property
    def graded(self) -> bool:
        """True in graded mode (a problem sheet, no seed)."""
        return self._sheet is not None

    def question_seed(self, qid: str) -> int:
        """The seed of question ``qid`` for this student (self-study mode only)."""
        self.assignment.question(qid)
        if self.seed is None:
            raise RuntimeError("this notebook is graded: it has no seeds (your instructor keeps them), only your "
                               "problems — use hw.problem(qid).data")
        return question_seed(self.seed, qid, self.variants.get(qid, 0))

    def problem(self, qid: str) -> Problem:
        """This student's problem for ``qid`` (its data is in ``.data``; the answer is never included)."""
        q = self.assignment.question(qid)
        if self._sheet is not None:
            from .sheet import sheet_problem
            return sheet_problem(self._sheet, q)
        return q.problem(self.question_seed(qid))

    def show(self, qid: str) -> Problem:
        """Same as :meth:`problem`; as the last line of a cell it renders the prompt."""
        return self.problem(qid)

    def verdict(self, qid: str, answer: Any) -> Verdict:
        """Judge ``answer`` for question ``qid`` without printing (graded mode: right or wrong only)."""
        q = self.assignment.question(qid)
        if self._sheet is None:
            return q.judge(self.question_seed(qid), answer)
        from .sheet import sheet_matches
        value, refused = q.read_answer(answer)
        if refused is not None:
            return refused
        if sheet_matches(self._sheet, q, value):
            return Verdict(1.0, "correct")
        return Verdict(0.0, "not right" + (f" — {q.hint}" if q.hint else ""))

    def check(self, qid: str, answer: Any) -> None:
        """Print whether ``answer`` is right for question ``qid``, with a hint when it is not."""
        v = self.verdict(qid, answer)
        pts = self.assignment.question(qid).points
        if v.correct:
            print(f"{qid}: correct ({_num(pts)}/{_num(pts)} points)")
        elif v.fraction > 0:
            print(f"{qid}: partly right ({_num(round(v.fraction * pts, 2))}/{_num(pts)} points) — {v.message}")
        else:
            print(f"{qid}: not yet — {v.message}")

    def declared(self) -> dict[str, Any]:
        """What this notebook says about itself (read by the grader; trusted only as far as the grader checks)."""
        variants = dict(self.variants)
        if self._sheet is not None:
            variants = {qid: p.get("variant", 0) for qid, p in self._sheet["problems"].items()
                        if isinstance(p, dict) and p.get("variant")}
        return {"student_id": self.student_id, "assignment": self.assignment.aid, "seed": self.seed,
                "variants": variants, "sheet": "yes" if self._sheet is not None else None}

    def __repr__(self) -> str:
        seed = "graded" if self.seed is None else f"seed={self.seed}"
        return (f"Session(assignment={self.assignment.aid!r}, student_id={self.student_id!r}, {seed}"
                + (", overridden" if self.overridden else "") + ")")

    def _repr_markdown_(self) -> str:
        qs = ", ".join(f"{q.qid} ({_num(q.points)} pt)" for q in self.assignment.questions)
        who = f"**{self.assignment.title}** — student `{self.student_id}`"
        if self.seed is None:
            return who + f" (graded copy: checks say right or wrong). Questions: {qs}."
        return (who + f", seed `{self.seed}`" + (" (set by your instructor)" if self.overridden else "")
                + f". Questions: {qs}.")


def _check_variants(assignment: Assignment, variants: Any) -> dict[str, int]:
    if variants is None:
        return {}
    if not isinstance(variants, dict):
        raise ValueError(f"variants must be a dict of question id to variant number, got {variants!r}")
    from .sheet import MAX_VARIANT
    out = {}
    for qid, v in variants.items():
        assignment.question(qid)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_VARIANT:
            raise ValueError(f"variant of {qid} must be an integer from 0 to {MAX_VARIANT}, got {v!r}")
        out[qid] = v
    return out


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def start(assignment_id: str, student_id: str, *, seed: int | None = None, variants: dict[str, int] | None = None,
          sheet: str | None = None) -> Session:
    """Begin an assignment for one student (the first code cell of every homework notebook).

    ``seed`` is only set when the instructor overrides this student's seed, ``variants`` when the class roster
    needed other problems for some questions, ``sheet`` in graded notebooks.  Raises :class:`ValueError` with an
    instruction when the student id is still empty (generic notebooks).
    """
    global _CURRENT
    if student_id is None or not str(student_id).strip():
        raise ValueError("Type your student id between the quotes in this cell (student_id=\"...\"), "
                         "then run it again: your problems are generated from it.")
    _CURRENT = Session(get_assignment(assignment_id), str(student_id), seed, variants=variants, sheet=sheet)
    return _CURRENT


def current_session() -> Session:
    """The session opened by the last :func:`start` call."""
    if _CURRENT is None:
        raise RuntimeError("no homework started: run the first cell of the notebook (homework.start(...)) first")
    return _CURRENT


def check(qid: str, answer: Any) -> None:
    """``check("q1", answer)``: check an answer in the current session (see :meth:`Session.check`)."""
    current_session().check(qid, answer)
