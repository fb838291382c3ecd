"""The student's side: ``start()`` in the first cell, then ``show()`` and ``check()`` per question.

Nothing here stores an answer: every check recomputes the expected value from the seed with kmemlib.
"""

from __future__ import annotations

from typing import Any

from .assignment import Assignment
from .problem import Problem, Verdict
from .registry import get_assignment
from .seeds import derive_student_seed, normalise_student_id, question_seed

__all__ = ["Session", "start", "check", "current_session"]

_CURRENT: "Session | None" = None


class Session:
    """One student's copy of one assignment.

    ``seed`` is the student's seed (derived from the student id and the assignment id unless the instructor set
    one); each question's seed is derived from it and the question id.
    """

    def __init__(self, assignment: Assignment, student_id: str, seed: int | None = None) -> None:
        self.assignment = assignment
        self.student_id = normalise_student_id(student_id)
        self.overridden = seed is not None
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = seed if seed is not None else derive_student_seed(self.student_id, assignment.aid)

    def question_seed(self, qid: str) -> int:
        """The seed of question ``qid`` for this student."""
        self.assignment.question(qid)
        return question_seed(self.seed, qid)

    def problem(self, qid: str) -> Problem:
        """This student's problem for ``qid`` (its data is in ``.data``; the answer is never included)."""
        return self.assignment.question(qid).problem(self.question_seed(qid))

    def show(self, qid: str) -> Problem:
        """Same as :meth:`problem`; as the last line of a cell it renders the prompt."""
        return self.problem(qid)

    def verdict(self, qid: str, answer: Any) -> Verdict:
        """Grade ``answer`` for question ``qid`` without printing."""
        q = self.assignment.question(qid)
        return q.judge(self.question_seed(qid), answer)

    def check(self, qid: str, answer: Any) -> None:
        """Print whether ``answer`` is right for question ``qid``, with a hint when it is not."""
        v = self.verdict(qid, answer)
        pts = self.assignment.question(qid).points
        if v.correct:
            print(f"✅ {qid}: correct ({_num(pts)}/{_num(pts)} points)")
        elif v.fraction > 0:
            print(f"🟡 {qid}: partly right ({_num(round(v.fraction * pts, 2))}/{_num(pts)} points) — {v.message}")
        else:
            print(f"❌ {qid}: not yet — {v.message}")

    def __repr__(self) -> str:
        return (f"Session(assignment={self.assignment.aid!r}, student_id={self.student_id!r}, seed={self.seed}"
                + (", overridden" if self.overridden else "") + ")")

    def _repr_markdown_(self) -> str:
        qs = ", ".join(f"{q.qid} ({_num(q.points)} pt)" for q in self.assignment.questions)
        return (f"**{self.assignment.title}** — student `{self.student_id}`, seed `{self.seed}`"
                + (" (set by your instructor)" if self.overridden else "") + f". Questions: {qs}.")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def start(assignment_id: str, student_id: str, *, seed: int | None = None) -> Session:
    """Begin an assignment for one student (the first code cell of every homework notebook).

    ``seed`` is only set when the instructor overrides this student's seed.  Raises :class:`ValueError` with an
    instruction when the student id is still empty (generic notebooks).
    """
    global _CURRENT
    if student_id is None or not str(student_id).strip():
        raise ValueError("Type your student id between the quotes in this cell (student_id=\"...\"), "
                         "then run it again: your problems are generated from it.")
    _CURRENT = Session(get_assignment(assignment_id), str(student_id), seed)
    return _CURRENT


def current_session() -> Session:
    """The session opened by the last :func:`start` call."""
    if _CURRENT is None:
        raise RuntimeError("no homework started: run the first cell of the notebook (homework.start(...)) first")
    return _CURRENT


def check(qid: str, answer: Any) -> None:
    """``check("q1", answer)``: check an answer in the current session (see :meth:`Session.check`)."""
    current_session().check(qid, answer)
