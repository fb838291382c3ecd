"""End-to-end grading through the CLI: real kernels, short time limits, broken submissions."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import nbformat
import pytest

from kmemlib.cli import main
from kmemlib.homework import get_assignment, start
from kmemlib.homework.notebooks import build_solution_notebook, build_student_notebook, nbgrader_meta


def _setup(nb):
    """The notebook's setup cell (homework.start(...))."""
    return next(c for c in nb.cells if c.get("metadata", {}).get("kmemlib", {}).get("role") == "setup")

AID = "buddy"
A = get_assignment(AID)
TIMEOUT = "4"   # seconds per cell: the setup cell imports kmemlib, everything else is instant


def _expected(sid: str, seed: int | None = None) -> dict:
    hw = start(AID, sid, seed=seed)
    return {q.qid: q.expected(hw.question_seed(q.qid)) for q in A.questions}


def _with_answers(nb, sources: dict[str, str]):
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id", "")
        if gid.endswith("-answer") and gid[:-7] in sources:
            cell.source = sources[gid[:-7]]
    return nb


def _literal(sid: str, **override) -> dict[str, str]:
    exp = _expected(sid)
    exp.update(override)
    return {qid: f"{qid} = {value!r}" for qid, value in exp.items()}


def _wrong(sid: str) -> dict[str, str]:
    """Wrong answers for every question, except two of q4's three requests."""
    exp = _expected(sid)
    bad = {"q1": [9] * len(exp["q1"]), "q2": [x + 1 for x in exp["q2"]],
           "q3": {"buddy_pfn": exp["q3"]["buddy_pfn"] + 1, "pfn": 999, "order": 0},
           "q4": [not exp["q4"][0]] + exp["q4"][1:], "q5": [[9, 9]] * 3}
    return {k: f"{k} = {v!r}" for k, v in bad.items()}


def _write(path: Path, nb) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    subs = root / "submissions"
    subs.mkdir()
    solution = build_solution_notebook(A)
    sol_src = {nbgrader_meta(c)["grade_id"][:-7]: c.source for c in solution.cells
               if nbgrader_meta(c).get("grade_id", "").endswith("-answer")}

    # alice: correct, solved with the worked-solution code (runs against her own problems)
    _write(subs / "alice.ipynb", _with_answers(build_student_notebook(A, "alice"), sol_src))
    # bob: every answer wrong (literal values); q4 two of three right -> partial credit
    _write(subs / "bob.ipynb", _with_answers(build_student_notebook(A, "bob"), _wrong("bob")))
    # carol: q1 cell raises before assigning; q2 raises NotImplementedError (untouched stub); rest right
    src = _literal("carol")
    src["q1"] = "x = 1 / 0\nq1 = [0]"
    del src["q2"]
    _write(subs / "carol.ipynb", _with_answers(build_student_notebook(A, "carol"), src))
    # dave: q2's cell loops forever; everything else right
    src = _literal("dave")
    src["q2"] = "while True:\n    pass"
    _write(subs / "dave.ipynb", _with_answers(build_student_notebook(A, "dave"), src))
    # erin: deleted the setup, problem and check cells; literal answers remain
    nb = _with_answers(build_student_notebook(A, "erin"), _literal("erin"))
    nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id", "").endswith("-answer")]
    _write(subs / "erin.ipynb", nb)
    # frank: cells reversed (checks before answers, answers in reverse order)
    nb = _with_answers(build_student_notebook(A, "frank"), _literal("frank"))
    nb.cells = nb.cells[:2] + nb.cells[2:][::-1]
    _write(subs / "frank.ipynb", nb)
    # not notebooks
    (subs / "gina.ipynb").write_text("")
    (subs / "hank.ipynb").write_text('{"cells": [ broken')
    (subs / "ivan.txt").write_text("q1 = [1, 2, 3]\n")
    (subs / "jack.ipynb").write_text(json.dumps({"answers": [1, 2, 3]}))
    # kate (folder layout): wrong answers but faked outputs claiming success, and faked metadata points
    nb = _with_answers(build_student_notebook(A, "kate"), _wrong("kate"))
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade"):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✅ correct (99/99 points)\n")]
            cell.metadata["nbgrader"]["points"] = 99
    _write(subs / "kate" / "submitted" / "buddy.ipynb", nb)
    (subs / "kate" / "notes.txt").write_text("scratch")
    # leo: edited the setup cell to alice's id and copied alice's answers
    nb = _with_answers(build_student_notebook(A, "alice"), _literal("alice"))
    _write(subs / "leo.ipynb", nb)
    # mia: one cell kills the kernel; the rest is right
    src = _literal("mia")
    src["q3"] = "import os\nos._exit(1)"
    _write(subs / "mia.ipynb", _with_answers(build_student_notebook(A, "mia"), src))
    # olga: instructor overrode her seed to 4242 and built her notebook with it
    olga = _with_answers(build_student_notebook(A, "olga", seed=4242), sol_src)
    _write(subs / "olga.ipynb", olga)
    # hidden files and checkpoints are ignored
    (subs / ".DS_Store").write_text("x")
    (subs / ".ipynb_checkpoints").mkdir()
    (subs / ".ipynb_checkpoints" / "alice-checkpoint.ipynb").write_text("{}")
    seeds = root / "seeds.json"
    seeds.write_text(json.dumps({"olga": 4242}))

    before = _hashes(subs)
    out = root / "grades.csv"
    details = root / "details.json"
    rc = main(["homework", "grade", AID, str(subs), "--out", str(out), "--timeout", TIMEOUT,
               "--seeds", str(seeds), "--json", str(details)])
    after = _hashes(subs)
    return {"rc": rc, "rows": _read_csv(out), "before": before, "after": after,
            "details": {d["student_id"]: d for d in json.loads(details.read_text())}, "csv": out}


def _points(row):
    return [float(row[q]) for q in A.question_ids]


def test_run_completes_and_lists_everyone(graded):
    assert graded["rc"] == 0
    assert sorted(graded["rows"]) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivan",
                                      "jack", "kate", "leo", "mia", "olga"]
    header = next(csv.reader(graded["csv"].open()))
    assert header == ["assignment", "student_id", "submission", "q1", "q2", "q3", "q4", "q5", "total", "max_points",
                      "status", "reason", "submitted_at", "fingerprint", "flags"]


def test_submissions_are_never_modified(graded):
    assert graded["before"] == graded["after"]


def test_correct_submission_gets_full_marks(graded):
    row = graded["rows"]["alice"]
    assert _points(row) == [2, 2, 3, 3, 2] and row["total"] == "12" and row["max_points"] == "12"
    assert row["status"] == "graded" and row["reason"] == ""


def test_wrong_submission_gets_per_question_points_and_hints(graded):
    row = graded["rows"]["bob"]
    assert _points(row) == [0, 0, 0, 2, 0]   # q4: two of three requests right -> 2 of 3 points
    assert row["status"] == "graded"
    assert "q1: wrong" in row["reason"] and "q4: partial" in row["reason"] and "expand()" in row["reason"]
    exp = _expected("bob")
    assert repr(exp["q1"]) not in row["reason"]


def test_raising_cells_lose_only_their_answer(graded):
    row = graded["rows"]["carol"]
    assert _points(row) == [0, 0, 3, 3, 2]
    assert "ZeroDivisionError" in row["reason"] and "NotImplementedError" in row["reason"]


def test_infinite_loop_is_cut_and_the_rest_graded(graded):
    row = graded["rows"]["dave"]
    assert _points(row) == [2, 0, 3, 3, 2]
    assert "longer than 4 s" in row["reason"]


def test_deleted_and_reordered_cells(graded):
    assert _points(graded["rows"]["erin"]) == [2, 2, 3, 3, 2]
    assert _points(graded["rows"]["frank"]) == [2, 2, 3, 3, 2]


@pytest.mark.parametrize("sid,why", [("gina", "empty"), ("hank", "invalid JSON"), ("ivan", "wrong extension"),
                                     ("jack", "no list of cells")])
def test_not_a_notebook(graded, sid, why):
    row = graded["rows"][sid]
    assert row["status"] == "invalid" and row["total"] == "0" and why in row["reason"]
    assert graded["details"][sid]["questions"][0]["status"] == "not-graded"


def test_faked_outputs_and_metadata_do_not_count(graded):
    row = graded["rows"]["kate"]
    assert row["submission"] == str(Path("kate") / "submitted" / "buddy.ipynb")
    assert _points(row) == [0, 0, 0, 2, 0] and row["max_points"] == "12"


def test_student_id_comes_from_the_file_name(graded):
    row = graded["rows"]["leo"]
    assert "declares student id 'alice'" in row["reason"] and "graded as 'leo'" in row["reason"]
    assert float(row["total"]) < 12


def test_kernel_crash_is_skipped(graded):
    row = graded["rows"]["mia"]
    assert _points(row) == [2, 2, 0, 3, 2] and "crashed the kernel" in row["reason"]


def test_seed_override_is_used(graded):
    row = graded["rows"]["olga"]
    assert _points(row) == [2, 2, 3, 3, 2] and graded["details"]["olga"]["seed"] == 4242


def test_override_missing_at_grade_time_is_reported(tmp_path):
    subs = tmp_path / "subs"
    solution = build_solution_notebook(A)
    sol_src = {nbgrader_meta(c)["grade_id"][:-7]: c.source for c in solution.cells
               if nbgrader_meta(c).get("grade_id", "").endswith("-answer")}
    _write(subs / "olga.ipynb", _with_answers(build_student_notebook(A, "olga", seed=4242), sol_src))
    out = tmp_path / "g.csv"
    assert main(["homework", "grade", AID, str(subs), "--out", str(out), "--timeout", TIMEOUT]) == 0
    row = _read_csv(out)["olga"]
    assert "the notebook used seed 4242" in row["reason"]


def test_generic_notebook_graded_by_declared_id(tmp_path):
    subs = tmp_path / "subs"
    nb = build_student_notebook(A, None)
    _setup(nb).source = _setup(nb).source.replace('student_id=""', 'student_id="zoe"')
    _write(subs / "download-123.ipynb", _with_answers(nb, _literal("zoe")))
    empty = build_student_notebook(A, None)   # id never filled in
    _write(subs / "download-456.ipynb", empty)
    out = tmp_path / "g.csv"
    assert main(["homework", "grade", AID, str(subs), "--out", str(out), "--timeout", TIMEOUT,
                 "--id-from", "notebook"]) == 0
    rows = _read_csv(out)
    assert rows["zoe"]["total"] == "12"
    assert rows["download-456"]["status"] == "failed" and "declares no student id" in rows["download-456"]["reason"]
