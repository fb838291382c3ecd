"""Per-student homework on kmemlib (OSTEP-style): seeded problems, a checker, nbgrader-style notebooks.

Student side (first cell of every homework notebook)::

    from kmemlib import homework
    hw = homework.start("buddy", student_id="alice")
    hw.show("q1")                 # the problem, generated from alice's seed
    hw.check("q1", q1)            # right/wrong with a hint; the answer is recomputed, never stored

Instructor side: the ``kmemlib homework`` command (see :mod:`kmemlib.cli`) builds student and solution notebooks
and grades submissions (:mod:`.notebooks`, :mod:`.grading`).
"""

from .answers import AnswerFormatError
from .problem import Generated, Problem, Question, Verdict
from .registry import Assignment, UnknownAssignmentError, UnknownQuestionError, get_assignment, list_assignments
from .seeds import SeedFileError, derive_student_seed, load_seed_overrides, question_seed, student_seed
from .session import Session, check, current_session, start

__all__ = [
    "AnswerFormatError", "Generated", "Problem", "Question", "Verdict", "Assignment", "UnknownAssignmentError",
    "UnknownQuestionError", "get_assignment", "list_assignments", "SeedFileError", "derive_student_seed",
    "load_seed_overrides", "question_seed", "student_seed", "Session", "check", "current_session", "start",
]
