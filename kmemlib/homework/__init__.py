"""Per-student homework on kmemlib (OSTEP-style): seeded problems, a checker, nbgrader-style notebooks.

Student side (first cell of every homework notebook)::

    from kmemlib import homework
    hw = homework.start("buddy", student_id="alice")
    hw.show("q1")                 # the problem, generated from alice's seed
    hw.check("q1", q1)            # right/wrong with a hint; the answer is recomputed, never stored

With an instructor's course key the notebook carries a problem sheet instead of a seed (:mod:`.sheet`) and
``check()`` says only right or wrong.  Instructor side: the ``kmemlib homework`` command
(:mod:`.commands`) builds student and solution notebooks (:mod:`.notebooks`), and grades submissions
(:mod:`.grading`) each in a bubblewrap sandbox (:mod:`.sandbox`, :mod:`.runner`, :mod:`.execute`), with a roster
(:mod:`.roster`) and LMS exports (:mod:`.export`).
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
