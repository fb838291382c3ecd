"""An assignment: its id, title, book part and questions (the data the registry lists)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import KmemError
from .problem import Question

__all__ = ["Assignment", "UnknownAssignmentError", "UnknownQuestionError"]


class UnknownAssignmentError(KmemError, KeyError):
    """No assignment has this id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownQuestionError(KmemError, KeyError):
    """The assignment has no question with this id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Assignment:
    """An assignment: an id (also the notebook's file stem), a title, the book part it covers and its questions."""

    aid: str
    title: str
    part: str
    questions: tuple[Question, ...]
    summary: str = ""

    def __post_init__(self) -> None:
        ids = [q.qid for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"assignment {self.aid}: duplicate question ids {ids}")

    @property
    def question_ids(self) -> list[str]:
        return [q.qid for q in self.questions]

    @property
    def max_points(self) -> float:
        return sum(q.points for q in self.questions)

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.qid == qid:
                return q
        raise UnknownQuestionError(f"assignment {self.aid!r} has no question {qid!r}; "
                                   f"its questions are {', '.join(self.question_ids)}")

    @property
    def notebook_name(self) -> str:
        return f"{self.aid}.ipynb"

    def source_notebook(self) -> Path:
        """Path of the source (instructor) notebook shipped as package data."""
        ref = resources.files("kmemlib.homework") / "assignments" / self.notebook_name
        return Path(str(ref))
