"""The assignments shipped with kmemlib: id → questions and source notebook."""

from __future__ import annotations

from . import part1_buddy, part2_slab
from .assignment import Assignment, UnknownAssignmentError, UnknownQuestionError

__all__ = ["Assignment", "UnknownAssignmentError", "UnknownQuestionError", "get_assignment", "list_assignments"]

_REGISTRY: dict[str, Assignment] = {a.aid: a for a in (part1_buddy.ASSIGNMENT, part2_slab.ASSIGNMENT)}
"""Every shipped assignment, in book order."""


def list_assignments() -> list[Assignment]:
    """All shipped assignments, in book order."""
    return list(_REGISTRY.values())


def get_assignment(aid: str) -> Assignment:
    """The assignment with id ``aid`` (raises :class:`UnknownAssignmentError` listing the valid ids)."""
    try:
        return _REGISTRY[aid]
    except (KeyError, TypeError):
        raise UnknownAssignmentError(f"unknown assignment {aid!r}; available: {', '.join(_REGISTRY)}") from None
