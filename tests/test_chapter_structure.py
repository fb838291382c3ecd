"""Every chapter reads as a lesson (issue 12): it opens with learning goals, ends with a summary and exercises,
each exercise has a folded worked solution, and no code cell the page shows is build plumbing.

These are checks of the notebook sources (fast, no build): the browser test checks the same on the built pages.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from conftest import ROOT

CHAPTERS = sorted((ROOT / "book").glob("part*/*.ipynb"))
HIDDEN = {"remove-cell", "remove-input"}
# glue() calls, nbval, and comments about the book's own checks ("checked by nbval", "Checked on every test
# run", "verified at build time"): the reader's code says what it computes, not how the book is tested
PLUMBING = re.compile(r"\bglue\(|nbval|\bchecked (?:by|on every|at build)|\b(?:every|each) (?:test|build) run|\btest suite|"
                      r"\bverified (?:by|on|at|in) (?:the )?(?:test|build|ci)\b", re.I)


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def _markdown(path) -> str:
    return "\n".join(c.source for c in _cells(path) if c.cell_type == "markdown")


def test_there_are_chapters():
    assert len(CHAPTERS) >= 11


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chapter_opens_with_learning_goals(path):
    md = [c.source for c in _cells(path) if c.cell_type == "markdown"]
    opening = "\n".join(md[:2])
    assert "In this chapter you will learn" in opening, "no learning goals at the top of the chapter"
    goals = opening.split("In this chapter you will learn", 1)[1]
    assert len(re.findall(r"^\* ", goals, flags=re.M)) >= 2, "learning goals: a list of at least two items"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chapter_ends_with_summary_and_exercises(path):
    md = _markdown(path)
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert any(h.startswith("Summary") for h in headings), headings
    assert headings[-1] == "Exercises", f"the last section is {headings[-1]!r}, not Exercises"
    exercises = re.findall(r"[`:]{3}\{exercise\}", md)
    solutions = re.findall(r"[`:]{3}\{solution\}[^\n]*\n(?::label:[^\n]*\n)?:class: dropdown", md)
    assert len(exercises) >= 2, "at least two exercises"
    assert len(solutions) == len(exercises), "every exercise has a folded (dropdown) worked solution"


def _visible_code(path):
    for i, c in enumerate(_cells(path)):
        if c.cell_type == "code" and not set(c.metadata.get("tags", [])) & HIDDEN:
            yield i, c


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_build_plumbing_in_code_the_page_shows(path):
    """Readers see code that teaches; glue() calls, asserts and nbval checks live in removed cells (still
    executed at every build and by nbval) and in the tests."""
    shown = []
    for i, c in _visible_code(path):
        src = "\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in c.source.split("\n"))
        has_assert = any(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(src)))
        if has_assert or PLUMBING.search(c.source):
            shown.append((i, c.source.strip().splitlines()[0][:70]))
    assert not shown, f"cells shown to readers with build plumbing: {shown}"
