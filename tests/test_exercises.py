"""Exercises make the reader predict and are checked by computed answers (issue 12, item 8; principle 4).

Two rules over the chapter sources (fast, no build). They read the values of the ``{eval}`` inline expressions
from the ``user_expressions`` that ``tools/execute_notebooks.py`` stores in each cell's metadata, so they see the
numbers a reader sees.

A. **No typed results.** In a worked solution every number of 10 or more outside ``{eval}`` roles and math is one
   the exercise statement gives (an input). Anything the reader is meant to work out comes from kmemlib through
   ``{eval}``. Identifiers with digits (``kmalloc-192``, ``x86-64``, commit ids) are names, not numbers.
B. **Not answered above.** No row of a table or output the chapter shows before the exercise, and no sentence of
   its prose, holds both an input of the exercise and one of its solution's computed answers: the reader has to
   apply the rule, not find the row.

The widgets' stored static outputs are not in the notebooks and are not checked here.
"""

from __future__ import annotations

import ast
import functools
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from markdown_numbers import BLOCK, EVAL, LINK_TARGET, MATH, NAME, OPTION, without_ids

CHAPTERS = sorted((ROOT / "book").glob("part*/*.ipynb")) + [ROOT / "book" / "how-to-use.ipynb"]
HIDDEN_OUTPUT = {"remove-cell", "remove-output"}

ROLE = re.compile(r"\{(?:doc|ref|numref|eq|download)\}`[^`]*`")
NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,+-]*[A-Za-z0-9_]|[A-Za-z0-9_]")
RANGE = re.compile(r"(?<![\w.])(\d+)\s*[–-]\s*(\d+)(?![\w.])")

# Exceptions, each with its reason. Keep this short: an entry is a claim a reviewer can check on the page.
TYPED_OK: dict[str, str] = {}
SHOWN_OK: dict[str, str] = {}

# Exercises being reworked (issue 12): expected to fail until they are; strict, so a fixed one must leave the list.
# These lists must be empty when issue 12 is resolved. One label a line, so parallel edits merge cleanly.
PENDING_TYPED = {
}
PENDING_SHOWN = {
}


@functools.lru_cache(maxsize=None)
def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _norm_number(text: str) -> str:
    return text.replace(",", "")


def _is_big(number: str) -> bool:
    return float(_norm_number(number)) >= 10


@dataclass
class Exercise:
    chapter: Path
    cell: int
    label: str
    statement: str          # with {eval} values substituted
    solution_raw: str       # as written, with {eval} roles
    answers: set[str] = field(default_factory=set)   # tokens of the solution's {eval} values

    def inputs(self) -> set[str]:
        return {_norm_number(n) for n in NUMBER.findall(_without_names(self.statement)) if _is_big(n)}


def _value_text(result: dict | None) -> str:
    """What a reader sees for one stored ``user_expressions`` result."""
    if not result or result.get("status") != "ok":
        return ""
    data = result.get("data", {})
    if "text/html" in data:
        return html.unescape(re.sub(r"<[^>]+>", "", data["text/html"]))
    if "text/markdown" in data:
        return data["text/markdown"].replace("`", "").replace("*", "")
    plain = data.get("text/plain", "")
    try:
        value = ast.literal_eval(plain)
    except (ValueError, SyntaxError):
        return plain
    return value if isinstance(value, str) else plain


def _evaluated(cell) -> dict[str, str]:
    return {e["expression"]: _value_text(e.get("result")) for e in cell.metadata.get("user_expressions", [])}


def _substitute(text: str, values: dict[str, str]) -> str:
    return EVAL.sub(lambda m: values.get(m["expr"], ""), text)


def _without_names(text: str) -> str:
    return NAME.sub(" ", without_ids(text))


def _tokens(text: str) -> set[str]:
    out = set()
    for tok in TOKEN.findall(text):
        tok = tok.strip(".,")
        out.add(_norm_number(tok) if NUMBER.fullmatch(tok) else tok)
    return out


def exercises(path: Path) -> list[Exercise]:
    """Every ``{exercise}`` of a chapter with the ``{solution}`` that follows it."""
    found: list[Exercise] = []
    for i, cell in enumerate(_read(path).cells):
        if cell.cell_type != "markdown":
            continue
        values = _evaluated(cell)
        for m in BLOCK.finditer(cell.source):
            body = OPTION.sub("", m["body"])
            if m["kind"] == "exercise":
                label = re.search(r"^:label:\s*(\S+)", m["body"], re.M)
                found.append(Exercise(path, i, label[1] if label else f"cell {i}", _substitute(body, values), ""))
            elif found and not found[-1].solution_raw:
                ex = found[-1]
                ex.solution_raw = body
                for expr in EVAL.findall(body):
                    ex.answers |= {t for t in _tokens(values.get(expr, ""))
                                   if re.search(r"\d", t) and not (NUMBER.fullmatch(t) and not _is_big(t))}
                ex.answers -= ex.inputs()
    return found


def typed_numbers(ex: Exercise) -> list[str]:
    """Rule A: numbers >= 10 in the solution's prose that the statement does not give."""
    text = EVAL.sub(" ", ex.solution_raw)
    text = MATH.sub(" ", text)
    text = ROLE.sub(" ", text)
    text = LINK_TARGET.sub("]", text)
    typed = [n for n in NUMBER.findall(_without_names(text)) if _is_big(n)]
    return [n for n in typed if _norm_number(n) not in ex.inputs()]


def shown_rows(path: Path, before_cell: int) -> list[tuple[int, str]]:
    """The rows a reader sees above ``before_cell``: output lines, HTML table rows, prose sentences."""
    rows: list[tuple[int, str]] = []
    for i, cell in enumerate(_read(path).cells[:before_cell]):
        if cell.cell_type == "markdown":
            text = _substitute(cell.source, _evaluated(cell))
            text = re.sub(r"```.*?```", " ", text, flags=re.S)
            rows += [(i, s) for s in re.split(r"(?<=[.!?:])\s+|\n\s*\n|\n[*|] ", text) if s.strip()]
            continue
        if set(cell.metadata.get("tags", [])) & HIDDEN_OUTPUT:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                rows += [(i, line) for line in out.get("text", "").splitlines()]
                continue
            data = out.get("data", {})
            if "text/html" in data:
                page = data["text/html"]
                parts = re.split(r"</tr>", page, flags=re.I) if "<tr" in page.lower() else page.splitlines()
                rows += [(i, html.unescape(re.sub(r"<[^>]+>", " ", p))) for p in parts]
            elif "text/plain" in data:
                rows += [(i, line) for line in data["text/plain"].splitlines()]
    return rows


def answered_above(ex: Exercise) -> list[str]:
    """Rule B: rows shown above the exercise that hold one of its inputs next to one of its answers."""
    inputs = ex.inputs()
    if not inputs or not ex.answers:
        return []
    hits = []
    for cell, row in shown_rows(ex.chapter, ex.cell):
        tokens = _tokens(row)
        for lo, hi in RANGE.findall(row):   # a row "kmalloc-192 129–192" shows every size in the range
            tokens |= {n for n in inputs if int(lo) <= float(n) <= int(hi)}
        if tokens & inputs and tokens & ex.answers:
            hits.append(f"cell {cell}: {' '.join(row.split())[:120]!r} "
                        f"(input {sorted(tokens & inputs)}, answer {sorted(tokens & ex.answers)})")
    return hits


ALL = [ex for path in CHAPTERS for ex in exercises(path)]


def _id(ex: Exercise) -> str:
    return f"{ex.chapter.stem}:{ex.label}"


def _params(pending: set[str]) -> list:
    return [pytest.param(ex, id=_id(ex), marks=[pytest.mark.xfail(strict=True, reason="being reworked")]
                         if ex.label in pending else []) for ex in ALL]


def test_exceptions_name_existing_exercises():
    labels = {ex.label for ex in ALL}
    assert set(TYPED_OK) <= labels and set(SHOWN_OK) <= labels


def test_every_chapter_has_exercises_with_solutions():
    for path in CHAPTERS:
        found = exercises(path)
        assert found, f"{path.name}: no exercises"
        assert all(ex.solution_raw.strip() for ex in found), f"{path.name}: an exercise has no solution"


@pytest.mark.parametrize("ex", _params(PENDING_TYPED))
def test_solution_numbers_are_computed(ex):
    if ex.label in TYPED_OK:   # an exception must still be needed, or it goes
        assert typed_numbers(ex) and TYPED_OK[ex.label], f"stale TYPED_OK entry {ex.label}"
        return
    assert not typed_numbers(ex), (
        f"numbers typed in the worked solution that the exercise does not give: {typed_numbers(ex)}; "
        "compute them with kmemlib and show them with {eval}")


@pytest.mark.parametrize("ex", _params(PENDING_SHOWN))
def test_exercise_is_not_answered_by_what_the_chapter_shows(ex):
    hits = answered_above(ex)
    if ex.label in SHOWN_OK:   # an exception must still be needed, or it goes
        assert hits and SHOWN_OK[ex.label], f"stale SHOWN_OK entry {ex.label}"
        return
    assert not hits, "the chapter already shows the answer: " + "; ".join(hits[:3])


@pytest.mark.parametrize("ex", ALL, ids=_id)
def test_solution_values_were_stored(ex):
    """Every {eval} of a solution has a stored value (a notebook re-executed after the edit)."""
    cell = _read(ex.chapter).cells[ex.cell]
    values = _evaluated(cell)
    missing = [e for e in EVAL.findall(ex.solution_raw) if not values.get(e)]
    assert not missing, f"{{eval}} values not stored (re-run tools/execute_notebooks.py): {missing}"


# The rules' own tests, on a made-up chapter.

def _fake_chapter(tmp_path: Path, prose: str, output: str, statement: str, solution: str,
                  values: dict[str, str]) -> Path:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("table()")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    md = nbformat.v4.new_markdown_cell(
        f"```{{exercise}}\n:label: ex-x\n\n{statement}\n```\n\n```{{solution}} ex-x\n:class: dropdown\n\n{solution}\n```\n")
    md.metadata["user_expressions"] = [
        {"expression": k, "result": {"status": "ok", "data": {"text/plain": repr(v)}}} for k, v in values.items()]
    nb.cells = [nbformat.v4.new_markdown_cell(prose), code, md]
    path = tmp_path / "ch.ipynb"
    nbformat.write(nb, path)
    return path


def test_rules_catch_a_typed_number_and_a_table_that_answers(tmp_path):
    path = _fake_chapter(tmp_path, "Classes.", "kmalloc-192  129–192  62\n", "Where does `kmalloc(130)` go?",
                         "Above 128 bytes the class is {eval}`cache`, wasting {eval}`waste` bytes; `fls(199)` too.",
                         {"cache": "kmalloc-192", "waste": 62})
    (ex,) = exercises(path)
    assert ex.inputs() == {"130"}
    assert ex.answers == {"kmalloc-192", "62"}
    assert len(answered_above(ex)) == 1
    assert typed_numbers(ex) == ["128", "199"]
    assert len(answered_above(ex)) == 1


def test_rules_pass_a_computed_solution_and_a_table_of_other_sizes(tmp_path):
    path = _fake_chapter(tmp_path, "See 23baf831a32c on x86-64, 64-bit.", "100  kmalloc-128  28\n",
                         "Where does `kmalloc(130)` go?",
                         "$(130 - 1) / 8 = 16$ picks {eval}`cache`: {eval}`waste` bytes, as `kmalloc-192` on x86-64.",
                         {"cache": "kmalloc-192", "waste": 62})
    (ex,) = exercises(path)
    assert typed_numbers(ex) == []
    assert answered_above(ex) == []
