"""Problems, questions and verdicts: the framework every generator plugs into.

A :class:`Question` pairs a *generator* — a pure function of a private ``random.Random(seed)`` that returns the
prompt, its data and the answer (computed with kmemlib) — with a *normaliser* for students' answers and a *grader*
that compares a normalised answer with the expected one and explains, without revealing it, what is off.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .answers import AnswerFormatError, from_plain, to_plain

__all__ = ["Problem", "Verdict", "Generated", "Question", "exact_grader"]


@dataclass(frozen=True)
class Generated:
    """What a generator returns: the prompt (Markdown), its machine-readable data and the expected answer."""

    prompt: str
    data: Mapping[str, Any]
    answer: Any


@dataclass(frozen=True)
class Problem:
    """One student's instance of a question.

    ``answer`` is ``None`` unless the problem was generated with ``reveal=True`` (solutions and grading only).
    """

    qid: str
    title: str
    seed: int | None      # None in graded notebooks (the seed stays with the instructor)
    points: float
    prompt: str
    data: Mapping[str, Any]
    answer_format: str
    answer: Any = None
    revealed: bool = False

    def __str__(self) -> str:
        seed = "" if self.seed is None else f", problem seed {self.seed}"
        text = f"{self.qid} — {self.title} ({_fmt_points(self.points)}{seed})\n\n{self.prompt}\n\n" \
               f"Answer format: {self.answer_format}"
        if self.revealed:
            text += f"\n\nAnswer: {self.answer!r}"
        return text

    def _repr_markdown_(self) -> str:
        seed = "" if self.seed is None else f"; problem seed `{self.seed}`"
        text = f"**{self.qid} — {self.title}** ({_fmt_points(self.points)}{seed})\n\n" \
               f"{self.prompt}\n\n*Answer format:* {self.answer_format}"
        if self.revealed:
            text += f"\n\n*Answer:* `{self.answer!r}`"
        return text


def _fmt_points(points: float) -> str:
    p = int(points) if float(points).is_integer() else points
    return f"{p} point" + ("" if p == 1 else "s")


@dataclass(frozen=True)
class Verdict:
    """The result of comparing one answer with the expected one.

    ``fraction`` is the share of the question's points earned (0..1); ``message`` is shown to the student and
    never contains the expected value.
    """

    fraction: float
    message: str

    @property
    def correct(self) -> bool:
        return self.fraction >= 1.0


Grader = Callable[[Any, Any, Mapping[str, Any]], Verdict]


def exact_grader(wrong_hint: str) -> Grader:
    """A grader for single values: full marks when equal, otherwise ``wrong_hint``."""

    def grade(answer: Any, expected: Any, data: Mapping[str, Any]) -> Verdict:
        if answer == expected:
            return Verdict(1.0, "correct")
        return Verdict(0.0, wrong_hint)

    return grade


@dataclass(frozen=True)
class Question:
    """A kind of problem: title, points, generator, answer normaliser and grader.

    ``qid`` is also the name of the notebook variable that holds the student's answer, so it must be a Python
    identifier (``q1``, ``q2``, ...).
    """

    qid: str
    title: str
    points: float
    answer_format: str
    generator: Callable[[random.Random], Generated]
    normalise: Callable[[Any], Any]
    grader: Grader
    tags: tuple[str, ...] = field(default=())
    hint: str = ""      # what to look at again when the answer is wrong (never depends on the answer)

    def __post_init__(self) -> None:
        if not self.qid.isidentifier():
            raise ValueError(f"question id {self.qid!r} must be a Python identifier")
        if self.points <= 0:
            raise ValueError(f"question {self.qid}: points must be positive")

    def generate(self, seed: int) -> Generated:
        """Run the generator with a private ``random.Random(seed)`` (never the global generator)."""
        return self.generator(random.Random(seed))

    def problem(self, seed: int, *, reveal: bool = False) -> Problem:
        """The problem for ``seed``; its answer is filled in only with ``reveal=True``."""
        g = self.generate(seed)
        return Problem(qid=self.qid, title=self.title, seed=seed, points=self.points, prompt=g.prompt,
                       data=g.data, answer_format=self.answer_format,
                       answer=g.answer if reveal else None, revealed=reveal)

    def expected(self, seed: int) -> Any:
        """The expected answer for ``seed``, recomputed with kmemlib."""
        return self.generate(seed).answer

    def read(self, answer: Any) -> Any:
        """The canonical form of ``answer``: first its plain JSON form (what the grader receives from the
        sandbox), then the question's normaliser.  Raises :class:`AnswerFormatError`."""
        return self.normalise(from_plain(to_plain(answer)))

    def read_answer(self, answer: Any) -> tuple[Any, Verdict | None]:
        """``(value, None)`` for an answer :meth:`read` accepts, else ``(None, a 0-point Verdict saying why)``:
        the reading step shared by :meth:`judge` and the graded (sheet) check."""
        if answer is None or answer is Ellipsis:
            return None, Verdict(0.0, f"no answer yet: store it in the variable {self.qid} ({self.answer_format})")
        try:
            return self.read(answer), None
        except AnswerFormatError as exc:
            return None, Verdict(0.0, f"cannot read the answer: {exc}. Expected {self.answer_format}")
        except (RecursionError, MemoryError):
            return None, Verdict(0.0, f"cannot read the answer: it is nested too deeply. "
                                      f"Expected {self.answer_format}")

    def judge(self, seed: int, answer: Any) -> Verdict:
        """Normalise ``answer`` and grade it against the answer recomputed from ``seed`` (the one judging path:
        ``check()`` in the notebook and the grader both call this)."""
        value, refused = self.read_answer(answer)
        if refused is not None:
            return refused
        g = self.generate(seed)
        verdict = self.grader(value, g.answer, g.data)
        return Verdict(min(1.0, max(0.0, float(verdict.fraction))), verdict.message)
