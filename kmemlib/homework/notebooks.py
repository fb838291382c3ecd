"""nbgrader-style notebook processing: source → student and solution versions.

The source notebooks follow nbgrader's conventions so that instructors who know nbgrader can read and edit them:

* cell metadata ``{"nbgrader": {"grade_id", "points", "solution", "grade", "locked", "schema_version": 3,
  "task": false}}``;
* in *solution* cells, the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is replaced, in the student
  version, by nbgrader's stub ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (Markdown cells: ``YOUR ANSWER
  HERE``);
* *locked* cells become read-only and undeletable in Jupyter (``editable``/``deletable`` metadata).

kmemlib adds two cell roles of its own: ``{"kmemlib": {"role": "setup"}}``, the first code cell, rewritten per
student so that it opens that student's :class:`~kmemlib.homework.session.Session`; and ``"install"``, a cell put
before it in built notebooks that installs kmemlib where it is missing (Colab, a bare Jupyter).  This module is a
small processor on nbformat; it does not need nbgrader itself, and nbgrader's autograder cannot grade these notebooks (their grade
cells print a verdict instead of raising; see the README's Homework section).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .assignment import Assignment
from .seeds import CourseKey, normalise_student_id

__all__ = [
    "BEGIN_SOLUTION", "END_SOLUTION", "CODE_STUB", "TEXT_STUB", "NotebookFormatError",
    "nbgrader_meta", "cell_role", "clear_solutions", "remove_solution_markers", "setup_source", "install_source",
    "execute_notebooks", "INSTALL_SPEC",
    "load_source", "validate_source", "build_student_notebook", "build_solution_notebook", "find_solution_leaks",
    "write_notebook",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
_MARKER = re.compile(r"^([ \t]*)(###\s*(BEGIN|END)\s+SOLUTION)\s*$")
GENERIC_ID_PROMPT = ""  # the generic notebook's id string, filled in by the student


class NotebookFormatError(ValueError):
    """A source notebook breaks the nbgrader conventions (unbalanced markers, missing cells, wrong points)."""


def nbgrader_meta(cell: NotebookNode) -> dict:
    """The cell's ``nbgrader`` metadata (empty dict when absent)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_role(cell: NotebookNode) -> str | None:
    """kmemlib's role of a cell (``"setup"``) or None."""
    meta = cell.get("metadata", {}).get("kmemlib", {})
    return meta.get("role") if isinstance(meta, dict) else None


def _regions(lines: list[str], where: str) -> list[tuple[int, int, str]]:
    """(begin line, end line, indentation) of each solution region; raises on unbalanced markers."""
    out, begin, indent = [], None, ""
    for i, line in enumerate(lines):
        m = _MARKER.match(line.rstrip("\n"))
        if not m:
            continue
        if m.group(3) == "BEGIN":
            if begin is not None:
                raise NotebookFormatError(f"{where}: nested {BEGIN_SOLUTION} at line {i + 1}")
            begin, indent = i, m.group(1)
        else:
            if begin is None:
                raise NotebookFormatError(f"{where}: {END_SOLUTION} without {BEGIN_SOLUTION} at line {i + 1}")
            out.append((begin, i, indent))
            begin = None
    if begin is not None:
        raise NotebookFormatError(f"{where}: {BEGIN_SOLUTION} at line {begin + 1} is never closed")
    return out


def clear_solutions(source: str, *, code: bool = True, where: str = "cell") -> str:
    """Replace every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region by the nbgrader stub (nbgrader's
    ClearSolutions), keeping the region's indentation."""
    lines = source.splitlines()
    regions = _regions(lines, where)
    stub = CODE_STUB if code else TEXT_STUB
    for begin, end, indent in reversed(regions):
        lines[begin:end + 1] = [indent + s for s in stub.splitlines()]
    return "\n".join(lines)


def remove_solution_markers(source: str, *, where: str = "cell") -> str:
    """Drop the marker lines but keep the solution (for the solution version)."""
    lines = source.splitlines()
    regions = _regions(lines, where)
    drop = {i for b, e, _ in regions for i in (b, e)}
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)


#: Where the install cell of a student notebook gets kmemlib from when it is missing (Colab, a plain Jupyter): the
#: repository of ``repository.url`` in ``_config.yml`` (the book's one setting; tests/test_homework_colab.py checks
#: that the two agree).
INSTALL_SPEC = "kmemlib @ git+https://github.com/kmembook/kmembook"


def install_source() -> str:
    """Source of the install cell: installs kmemlib only where it is missing (Colab, Binder, a bare Jupyter)."""
    return ("# On Colab or any Jupyter without kmemlib, this installs it (about a minute); elsewhere it does nothing.\n"
            "import importlib.util\n\n"
            "if importlib.util.find_spec(\"kmemlib\") is None:\n"
            f"    %pip install --quiet {json.dumps(INSTALL_SPEC)}")


def setup_source(assignment_id: str, student_id: str | None, seed: int | None = None, *,
                 variants: dict[str, int] | None = None, sheet: str | None = None) -> str:
    """Source of the setup cell: per student (id baked in) or generic (``student_id=None``: the student types it).

    ``sheet`` (graded mode, see :mod:`.sheet`) replaces the seed: the cell then carries the student's problems."""
    if student_id is None:
        head = ("# Type your student id between the quotes below, then run every cell in order.\n"
                "# Your problems are generated from it, so use exactly the id your instructor gave you.\n")
        sid = GENERIC_ID_PROMPT
    else:
        head = "# Do not edit this cell: it generates your personal problems.\n"
        sid = normalise_student_id(student_id)
    extra = "" if seed is None else f", seed={int(seed)}"
    if variants:
        extra += f", variants={json.dumps(dict(sorted(variants.items())))}"
    if sheet is not None:
        head = "# Do not edit this cell: it holds your personal problems.\n"
        chunks = "\n".join(f"    {json.dumps(sheet[i:i + 96])}" for i in range(0, len(sheet), 96))
        extra += f", sheet=(\n{chunks})"
    return (head + "from kmemlib import homework\n\n"
            f"hw = homework.start({json.dumps(assignment_id)}, student_id={json.dumps(sid)}{extra})\nhw")


def load_source(assignment: Assignment) -> NotebookNode:
    """Read and validate the shipped source notebook of ``assignment``."""
    nb = nbformat.read(str(assignment.source_notebook()), as_version=4)
    validate_source(nb, assignment)
    return nb


def validate_source(nb: NotebookNode, assignment: Assignment) -> None:
    """Check a source notebook against nbgrader's rules and the assignment's questions.

    * exactly one setup cell, and it is the first code cell;
    * grade ids are unique; markers only in solution cells and balanced; every solution cell has a region;
    * each question ``qN`` has a solution cell ``qN-answer`` and a grade cell ``qN`` whose points equal the
      question's points; no other graded cells.
    """
    where = f"{assignment.notebook_name}"
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    setups = [c for c in nb.cells if cell_role(c) == "setup"]
    if len(setups) != 1 or not code_cells or code_cells[0] is not setups[0]:
        raise NotebookFormatError(f"{where}: the first code cell, and only it, must have the kmemlib setup role")
    seen: dict[str, NotebookNode] = {}
    for idx, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        has_markers = bool(_regions(cell.source.splitlines(), f"{where} cell {idx}"))
        if meta.get("grade_id"):
            gid = meta["grade_id"]
            if gid in seen:
                raise NotebookFormatError(f"{where}: grade_id {gid!r} used twice")
            seen[gid] = cell
        if has_markers and not meta.get("solution"):
            raise NotebookFormatError(f"{where} cell {idx}: solution markers in a cell not marked solution")
        if meta.get("solution") and cell.cell_type == "code" and not has_markers:
            raise NotebookFormatError(f"{where} cell {idx}: solution cell without {BEGIN_SOLUTION} region")
    graded = {gid for gid, c in seen.items() if nbgrader_meta(c).get("grade")}
    expected = set(assignment.question_ids)
    if graded != expected:
        raise NotebookFormatError(f"{where}: graded cells {sorted(graded)} do not match questions {sorted(expected)}")
    for q in assignment.questions:
        gcell = seen[q.qid]
        if float(nbgrader_meta(gcell).get("points", -1)) != float(q.points):
            raise NotebookFormatError(f"{where}: cell {q.qid} has points {nbgrader_meta(gcell).get('points')}, "
                                      f"question says {q.points}")
        acell = seen.get(f"{q.qid}-answer")
        if acell is None or not nbgrader_meta(acell).get("solution"):
            raise NotebookFormatError(f"{where}: question {q.qid} has no solution cell {q.qid}-answer")


def _lock(cell: NotebookNode, locked: bool) -> None:
    meta = cell.setdefault("metadata", {})
    if locked:
        meta["editable"] = False
        meta["deletable"] = False
    else:
        meta.pop("editable", None)
        meta.pop("deletable", None)


def _clear_outputs(nb: NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)


def _with_setup(nb: NotebookNode, assignment: Assignment, student_id: str | None, seed: int | None,
                locked: bool, variants: dict[str, int] | None = None, sheet: str | None = None) -> None:
    for cell in nb.cells:
        if cell_role(cell) == "setup":
            cell.source = setup_source(assignment.aid, student_id, seed, variants=variants, sheet=sheet)
            cell.metadata.setdefault("nbgrader", {})["locked"] = locked
            _lock(cell, locked)


def _with_install_cell(nb: NotebookNode) -> None:
    """Put the install cell before the setup cell (once)."""
    if any(cell_role(c) == "install" for c in nb.cells):
        return
    cell = nbformat.v4.new_code_cell(install_source())
    cell.metadata["kmemlib"] = {"role": "install"}
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": "install", "locked": True, "schema_version": 3,
                                 "solution": False, "task": False}
    _lock(cell, True)
    index = next(i for i, c in enumerate(nb.cells) if cell_role(c) == "setup")
    nb.cells.insert(index, cell)


def build_student_notebook(assignment: Assignment, student_id: str | None = None, *,
                           seed: int | None = None, key: CourseKey | None = None,
                           variants: dict[str, int] | None = None) -> NotebookNode:
    """The student version (nbgrader's *generate_assignment*): solutions replaced by stubs, outputs cleared,
    locked cells read-only, an install cell for Colab, the setup cell baked for ``student_id`` (or generic when
    None).  With the course ``key`` the setup cell carries the student's problem sheet instead of a seed."""
    nb = copy.deepcopy(load_source(assignment))
    for idx, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            cell.source = clear_solutions(cell.source, code=cell.cell_type == "code",
                                          where=f"{assignment.notebook_name} cell {idx}")
        if cell_role(cell) != "setup":
            _lock(cell, bool(meta.get("locked") or meta.get("grade")))
    sheet = None
    if key is not None:
        if student_id is None:
            raise NotebookFormatError("a graded (course key) notebook is built per student, not generic")
        from .sheet import build_sheet
        sheet = build_sheet(assignment, student_id, key, variants, {student_id: seed} if seed is not None else None)
        seed, variants = None, None
    _with_setup(nb, assignment, student_id, seed, locked=student_id is not None, variants=variants, sheet=sheet)
    _with_install_cell(nb)
    _clear_outputs(nb)
    nb.metadata["kmemlib_homework"] = {"assignment": assignment.aid, "version": "student",
                                       "student_id": student_id, "graded": key is not None}
    leaks = find_solution_leaks(nb)
    if leaks:  # defensive: never hand out a notebook with solution text
        raise NotebookFormatError(f"student build of {assignment.aid} still has solution text: {leaks}")
    return nb


def build_solution_notebook(assignment: Assignment, student_id: str | None = None, *,
                            seed: int | None = None, variants: dict[str, int] | None = None,
                            key: CourseKey | None = None) -> NotebookNode:
    """The solution version: markers removed, solutions kept, set up for ``student_id`` (default: the source's
    ``instructor`` id) so that executing it shows that student's problems and checks.  With a course ``key`` and no
    explicit ``seed`` the seed is derived with the key (a solution notebook is the instructor's document)."""
    nb = copy.deepcopy(load_source(assignment))
    for idx, cell in enumerate(nb.cells):
        if nbgrader_meta(cell).get("solution"):
            cell.source = remove_solution_markers(cell.source, where=f"{assignment.notebook_name} cell {idx}")
    if key is not None and seed is None:
        from .seeds import student_seed
        seed = student_seed(student_id if student_id is not None else "instructor", assignment.aid, key=key)
    if student_id is not None or seed is not None or variants:
        _with_setup(nb, assignment, student_id if student_id is not None else "instructor", seed, locked=True,
                    variants=variants)
    _with_install_cell(nb)
    _clear_outputs(nb)
    nb.metadata["kmemlib_homework"] = {"assignment": assignment.aid, "version": "solution",
                                       "student_id": student_id}
    return nb


def execute_notebooks(notebooks: list[NotebookNode], folder: str | Path, *, timeout: float = 120,
                      kernel: str = "python3", jobs: int = 1) -> list[str | None]:
    """Execute instructor notebooks in place (``jobs`` at a time, each in its own kernel); returns, per notebook,
    None or the error that stopped it.  Not sandboxed: these are the instructor's own solutions."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from nbclient import NotebookClient
    Path(folder).mkdir(parents=True, exist_ok=True)

    def run(nb: NotebookNode) -> str | None:
        try:
            NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                           resources={"metadata": {"path": str(folder)}}).execute(stderr=subprocess.DEVNULL)
        except Exception as exc:  # report per notebook; the others still run
            return f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
        return None

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(run, notebooks))


def find_solution_leaks(nb: NotebookNode) -> list[str]:
    """Places where a notebook still shows solution markers (used to check student builds)."""
    leaks = []
    for idx, cell in enumerate(nb.cells):
        for line in cell.source.splitlines():
            if _MARKER.match(line) or "BEGIN SOLUTION" in line or "END SOLUTION" in line:
                leaks.append(f"cell {idx}: {line.strip()}")
    return leaks


def write_notebook(nb: NotebookNode, path: str | Path) -> Path:
    """Validate against the nbformat schema and write ``nb`` to ``path`` (parents created)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    nbformat.write(nb, str(p))
    return p
