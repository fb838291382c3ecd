"""The assignments shipped with kmemlib: id → questions and source notebook."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import KmemError
from .problem import Question

__all__ = ["Assignment", "UnknownAssignmentError", "UnknownQuestionError", "register", "get_assignment",
           "list_assignments"]


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


_REGISTRY: dict[str, Assignment] = {}


def register(assignment: Assignment) -> Assignment:
    """Add an assignment to the registry (ids must be unique)."""
    if assignment.aid in _REGISTRY and _REGISTRY[assignment.aid] is not assignment:
        raise ValueError(f"assignment id {assignment.aid!r} registered twice")
    _REGISTRY[assignment.aid] = assignment
    return assignment


def _load_builtin() -> None:
    from . import part1_buddy, part2_slab  # noqa: F401  (registration side effect)


def list_assignments() -> list[Assignment]:
    """All shipped assignments, in book order."""
    _load_builtin()
    return list(_REGISTRY.values())


def get_assignment(aid: str) -> Assignment:
    """The assignment with id ``aid`` (raises :class:`UnknownAssignmentError` listing the valid ids)."""
    _load_builtin()
    try:
        return _REGISTRY[aid]
    except KeyError:
        raise UnknownAssignmentError(f"unknown assignment {aid!r}; available: {', '.join(_REGISTRY)}") from None
