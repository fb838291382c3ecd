"""A class as an instructor runs it: course key, roster, resume after a killed run, exports, bad command lines."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from kmemlib.cli import main
from kmemlib.homework import get_assignment, start
from kmemlib.homework.export import gradescope_results, write_canvas_csv, write_grades_csv
from kmemlib.homework.grading import QuestionResult, SubmissionResult
from kmemlib.homework.notebooks import build_solution_notebook, build_student_notebook, cell_role, nbgrader_meta
from kmemlib.homework.roster import RosterError, lms_user_id, load_roster, match_submissions, spreadsheet_safe
from kmemlib.homework.grading import Submission
from kmemlib.homework.sandbox import SandboxError, check_sandbox
from kmemlib.homework.seeds import create_course_key, load_course_key, question_seed, student_seed
from kmemlib.homework.session import Session
from kmemlib.homework.sheet import class_variants

A = get_assignment("buddy")
K = get_assignment("kmalloc")

try:
    check_sandbox()
    SANDBOX = True
except SandboxError:      # pragma: no cover
    SANDBOX = False
needs_sandbox = pytest.mark.skipif(not SANDBOX and os.environ.get("CI") not in ("1", "true"),
                                   reason="no working bubblewrap sandbox here")


def _solved(nb):
    sol = build_solution_notebook(A)
    src = {nbgrader_meta(c)["grade_id"][:-7]: c.source for c in sol.cells
           if nbgrader_meta(c).get("grade_id", "").endswith("-answer")}
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id", "")
        if gid.endswith("-answer"):
            cell.source = src[gid[:-7]]
    return nb


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


# --------------------------------------------------------------------------- course key: answers stay with the instructor
@pytest.fixture(scope="module")
def key(tmp_path_factory):
    path = tmp_path_factory.mktemp("key") / "course.key"
    return path, create_course_key(path)


def test_key_file(key, tmp_path):
    path, k = key
    assert load_course_key(path) == k and oct(path.stat().st_mode & 0o777) == "0o600"
    assert k.secret.hex() not in repr(k)
    with pytest.raises(ValueError, match="never overwritten"):
        create_course_key(path)
    bad = tmp_path / "bad.key"
    bad.write_text("hello")
    with pytest.raises(ValueError, match="not a kmembook course key"):
        load_course_key(bad)


def test_keyed_seeds_differ_from_self_study(key):
    _, k = key
    assert student_seed("alice", "buddy", key=k) != student_seed("alice", "buddy")
    assert student_seed("alice", "buddy", key=k) == student_seed("alice", "buddy", key=k)


def test_graded_notebook_has_no_seed_and_checks_right_or_wrong(key):
    _, k = key
    nb = build_student_notebook(A, "alice", key=k)
    setup = next(c for c in nb.cells if cell_role(c) == "setup")
    assert "sheet=" in setup.source and "seed=" not in setup.source
    seed = student_seed("alice", "buddy", key=k)
    assert str(seed) not in json.dumps(nb)
    ns: dict = {}
    exec(setup.source.replace("\nhw", "\n_ = hw"), ns)
    hw = ns["hw"]
    assert hw.seed is None and hw.graded
    with pytest.raises(RuntimeError, match="no seeds"):
        hw.question_seed("q1")
    for q in A.questions:     # the sheet shows the keyed problem, and only its answer passes
        qs = question_seed(seed, q.qid)
        assert hw.problem(q.qid).data == q.generate(qs).data
        assert hw.verdict(q.qid, q.expected(qs)).correct
    exp = A.question("q1").expected(question_seed(seed, "q1"))
    wrong = list(exp)
    wrong[0] += 1
    v = hw.verdict("q1", wrong)
    assert not v.correct and "position" not in v.message and "of" not in v.message.split("—")[0]
    # half right is still just "not right": no narrowing down part by part
    q3 = dict(A.question("q3").expected(question_seed(seed, "q3")))
    q3["order"] += 1
    assert hw.verdict("q3", q3).fraction == 0.0
    # the self-study derivation of the same id gives other problems: show --reveal without the key reveals nothing
    self_study = start("buddy", "alice")
    assert self_study.problem("q1").data != hw.problem("q1").data or \
        self_study.problem("q2").data != hw.problem("q2").data


def test_sheet_cannot_be_moved_to_another_student(key):
    _, k = key
    nb = build_student_notebook(A, "alice", key=k)
    src = next(c for c in nb.cells if cell_role(c) == "setup").source.replace('student_id="alice"', 'student_id="bob"')
    with pytest.raises(ValueError, match="belongs to student 'alice'"):
        exec(src, {})


def test_no_two_students_of_a_class_share_a_problem():
    ids = [f"s{i:03d}" for i in range(60)]
    variants = class_variants(A, ids)
    for q in A.questions:
        seen = set()
        for sid in ids:
            hw = Session(A, sid, variants=variants.get(sid))
            data = json.dumps(hw.problem(q.qid).data, sort_keys=True)
            assert data not in seen, (q.qid, sid)
            seen.add(data)
    assert class_variants(A, list(reversed(ids))) == variants      # deterministic, order-free


def test_cli_student_with_key_and_roster(key, tmp_path, capsys):
    path, k = key
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,lms_id\nalice,Alice A,101\nbob,Bob B,102\n")
    assert main(["homework", "student", "buddy", "--out", str(tmp_path / "rel"), "--roster", str(roster),
                 "--key", str(path)]) == 0
    assert "graded copies" in capsys.readouterr().out
    nb = nbformat.read(str(tmp_path / "rel" / "alice" / "buddy.ipynb"), as_version=4)
    assert any(cell_role(c) == "install" for c in nb.cells)      # Colab: installs kmemlib when missing
    assert main(["homework", "student", "buddy", "--out", str(tmp_path / "g"), "--generic", "--key", str(path)]) == 1
    assert "per-student" in capsys.readouterr().err


def test_solutions_for_a_roster_in_one_command(key, tmp_path, capsys):
    path, k = key
    roster = tmp_path / "roster.txt"
    roster.write_text("alice\nbob\n")
    assert main(["homework", "solution", "buddy", "--out", str(tmp_path / "sol"), "--roster", str(roster),
                 "--key", str(path), "--jobs", "2"]) == 0
    for sid in ("alice", "bob"):
        nb = nbformat.read(str(tmp_path / "sol" / f"buddy-solution-{sid}.ipynb"), as_version=4)
        checks = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells
                  if c.cell_type == "code" and c.source.startswith("hw.check(")]
        assert len(checks) == 5 and all("correct" in t and "not yet" not in t for t in checks), checks
        assert f"seed={student_seed(sid, 'buddy', key=k)}" in next(c for c in nb.cells if cell_role(c) == "setup").source


# --------------------------------------------------------------------------- roster
def test_roster_formats_and_errors(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("student_id,name,canvas_id,section\nalice,\"Alice, A\",101,S1\nbob,Bob,,S2\n")
    r = load_roster(p)
    assert r.ids == ["alice", "bob"] and r.by_lms_id("101").name == "Alice, A"
    p.write_text("id\nalice\nalice\n")
    with pytest.raises(RosterError, match="listed twice"):
        load_roster(p)
    p.write_text("name,email\nx,y\n")
    with pytest.raises(RosterError, match="'id'"):
        load_roster(p)
    p.write_bytes(b"\xff\xfe\x00bin")
    with pytest.raises(RosterError, match="not UTF-8"):
        load_roster(p)
    p.write_text("id\n" + "a" * (128 * 1024 + 1) + "\n")
    with pytest.raises(RosterError, match="r.csv"):
        load_roster(p)


def test_lms_names():
    assert lms_user_id("smithalice_12345_67890_buddy.ipynb") == "12345"
    assert lms_user_id("smithalice_LATE_12345_67890_buddy-1.ipynb") == "12345"
    assert lms_user_id("Alice Smith_4321_assignsubmission_file_") == "4321"
    assert lms_user_id("alice.ipynb") is None


def test_match_submissions(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("id,lms_id\nalice,101\nbob,102\ncarol,103\n")
    roster = load_roster(p)
    a1 = tmp_path / "smithalice_101_1_buddy.ipynb"
    a2 = tmp_path / "smithalice_LATE_101_2_buddy-1.ipynb"
    for f in (a1, a2):
        f.write_text("{}")
    os.utime(a1, (1, 1))
    found = [Submission("smithalice_101_1_buddy", a1), Submission("smithalice_LATE_101_2_buddy-1", a2),
             Submission("bob", tmp_path / "bob.ipynb"), Submission("=HYPERLINK(evil)", tmp_path / "x.ipynb")]
    out = match_submissions(found, roster)
    by = {s.student_id: s for s in out}
    assert [s.student_id for s in out] == ["alice", "bob", "carol", "=HYPERLINK(evil)"]
    assert by["alice"].path == a2 and "2 submissions" in by["alice"].flags[0]
    assert by["carol"].path is None and by["carol"].problem == "not submitted"
    assert by["=HYPERLINK(evil)"].flags == ("not on the roster",)


def test_formula_injection_is_escaped(tmp_path):
    assert spreadsheet_safe("=1+1") == "'=1+1" and spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe("alice") == "alice"
    r = SubmissionResult("=cmd|' /C calc'!A0", "x.ipynb", "graded",
                         [QuestionResult(q.qid, 0.0, q.points, "wrong", "+evil") for q in A.questions],
                         assignment="buddy")
    text = write_grades_csv([r], A, tmp_path / "g.csv").read_text()
    for row in csv.reader(io.StringIO(text)):
        assert not any(c.startswith(("=", "+", "-", "@")) for c in row), row


# --------------------------------------------------------------------------- exports
def _result(sid: str, pts: list[float]) -> SubmissionResult:
    qs = [QuestionResult(q.qid, p, q.points, "correct" if p == q.points else "wrong", "x") for q, p in
          zip(A.questions, pts)]
    return SubmissionResult(sid, f"{sid}.ipynb", "graded", qs, assignment="buddy")


def test_gradescope_format():
    res = gradescope_results(_result("alice", [2, 0, 3, 3, 2]), A)
    assert res["score"] == 10 and len(res["tests"]) == 5
    for t in res["tests"]:
        assert set(t) >= {"name", "score", "max_score", "status", "output"} and t["status"] in ("passed", "failed")
    assert res["tests"][1]["status"] == "failed" and "hint" in res["tests"][1]["output"]
    exp = A.question("q2").expected(start("buddy", "alice").question_seed("q2"))
    assert repr(exp) not in json.dumps(res)


def test_canvas_format(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("id,name,lms_id,sis_user_id,section\nalice,Alice,101,A1,S1\nbob,Bob,,,\n")
    out = write_canvas_csv([_result("alice", [2, 2, 3, 3, 2]), _result("bob", [0] * 5)], A, tmp_path / "c.csv",
                           load_roster(p))
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", A.title]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "12"
    assert rows[2] == ["Alice", "101", "A1", "", "S1", "12"] and len(rows) == 3


# --------------------------------------------------------------------------- a run with a roster, killed and resumed
@needs_sandbox
def test_killed_run_resumes(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    roster = tmp_path / "roster.csv"
    roster.write_text("id,lms_id\nann,11\nben,12\ncat,13\ndan,14\nmissing,15\n")
    for sid, lms in (("ann", 11), ("ben", 12), ("cat", 13), ("dan", 14)):
        nbformat.write(_solved(build_student_notebook(A, sid)), str(subs / f"x{sid}_{lms}_900_buddy.ipynb"))
    nbformat.write(_solved(build_student_notebook(A, "zz")), str(subs / "zz.ipynb"))       # not on the roster
    out = tmp_path / "grades.csv"
    cmd = [sys.executable, "-m", "kmemlib.cli", "homework", "grade", "buddy", str(subs), "--out", str(out),
           "--roster", str(roster), "--jobs", "1", "--timeout", "60"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = out.with_name(out.name + ".results")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(results.glob("*.json"))) < 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = sorted(p.name for p in results.glob("*.json"))
    assert len(done_before) >= 2 and not out.exists()
    stamps = {p.name: p.stat().st_mtime_ns for p in results.glob("*.json")}
    rc = main(cmd[3:])
    assert rc == 1                                   # results exist: --resume or --restart required
    assert main(cmd[3:] + ["--resume", "--feedback", str(tmp_path / "fb"), "--gradescope", str(tmp_path / "gs"),
                            "--canvas", str(tmp_path / "canvas.csv")]) == 0
    for name in done_before:                          # kept, not graded again
        assert (results / name).stat().st_mtime_ns == stamps[name]
    rows = _rows(out)
    assert [r for r in rows] == ["ann", "ben", "cat", "dan", "missing", "zz"]
    assert all(rows[s]["total"] == "12" for s in ("ann", "ben", "cat", "dan", "zz"))
    assert rows["missing"]["status"] == "not submitted" and rows["missing"]["total"] == "0"
    assert "not on the roster" in rows["zz"]["flags"]
    assert rows["ann"]["fingerprint"].startswith(tuple("0123456789")) and rows["ann"]["submitted_at"].endswith("Z")
    fb = (tmp_path / "fb" / "ann.md").read_text()
    assert "12 / 12 points" in fb
    gs = json.loads((tmp_path / "gs" / "ben" / "results.json").read_text())
    assert gs["score"] == 12
    canvas = list(csv.reader((tmp_path / "canvas.csv").open()))
    assert [r[1] for r in canvas[2:]] == ["11", "12", "13", "14", "15"]


# --------------------------------------------------------------------------- bad command lines (issue 15)
@pytest.mark.parametrize("argv,message", [
    (["homework", "show", "buddy", "--student", ""], "student id is empty"),
    (["homework", "show", "buddy", "--seed", "2**80"], "integer seed"),
    (["homework", "show", "buddy", "--seed", str(2 ** 80)], "2**48"),
    (["homework", "grade", "buddy", "SUBS", "--out", "OUT", "--timeout", "nan"], "positive number of seconds"),
    (["homework", "grade", "buddy", "SUBS", "--out", "OUT", "--total-timeout", "-5"], "positive number of seconds"),
    (["homework", "grade", "buddy", "SUBS", "--out", "OUT", "--jobs", "0"], "positive integer"),
    (["homework", "grade", "buddy", "SUBS", "--out", "OUT", "--kernel", "nope"], "no Jupyter kernel named 'nope'"),
    (["homework", "solution", "buddy", "--out", "OUT", "--kernel", "nope"], "no Jupyter kernel named 'nope'"),
    (["homework", "show", "buddy", "--seeds", "SEEDS_NESTED"], "nested too deeply"),
    (["homework", "show", "buddy", "--seeds", "SEEDS_BIG"], "not a readable CSV"),
    (["homework", "show", "buddy", "--seeds", "SEEDS_BINARY"], "not UTF-8"),
    (["homework", "show", "buddy", "--key", "OUT"], "cannot read course key"),
])
def test_bad_command_lines(tmp_path, argv, message):
    subs = tmp_path / "subs"
    subs.mkdir()
    (tmp_path / "nested.json").write_text("[" * 100000)
    (tmp_path / "big.csv").write_text("alice," + "1" * (128 * 1024 + 1) + "\n")
    (tmp_path / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    subst = {"SUBS": str(subs), "OUT": str(tmp_path / "out.csv"), "SEEDS_NESTED": str(tmp_path / "nested.json"),
             "SEEDS_BIG": str(tmp_path / "big.csv"), "SEEDS_BINARY": str(tmp_path / "binary.json")}
    argv = [subst.get(a, a) for a in argv]
    done = subprocess.run([sys.executable, "-m", "kmemlib.cli", *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr and message in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert message in lines[-1]                               # argparse: usage, then the error line
    assert done.returncode == 2 or len(lines) == 1            # ours: exactly one line
    assert not (tmp_path / "out.csv").exists()


@needs_sandbox
def test_a_submission_never_aborts_the_run(tmp_path, monkeypatch):
    from kmemlib.homework import grading
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_solved(build_student_notebook(A, "ok")), str(subs / "ok.ipynb"))
    (subs / "deep.ipynb").write_text('{"cells": ' + "[" * 50000 + "]" * 50000 + "}")
    (subs / "bad.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": [1, 2]}]}))
    real = grading._grade_answers

    def flaky(assignment, seeds, outcome):         # a grader bug on one submission
        if outcome.session and outcome.session.get("student_id") == "boom":
            raise RuntimeError("bug")
        return real(assignment, seeds, outcome)

    monkeypatch.setattr(grading, "_grade_answers", flaky)
    nbformat.write(_solved(build_student_notebook(A, "boom")), str(subs / "boom.ipynb"))
    assert main(["homework", "grade", "buddy", str(subs), "--out", str(tmp_path / "g.csv"), "--timeout", "60"]) == 0
    rows = _rows(tmp_path / "g.csv")
    assert rows["ok"]["total"] == "12"
    assert rows["deep"]["status"] == "invalid" and rows["bad"]["status"] == "invalid"
    assert rows["boom"]["status"] == "failed" and "RuntimeError: bug" in rows["boom"]["reason"]


@needs_sandbox
def test_graded_class_end_to_end(tmp_path):
    """Course key + roster where two students would share q2: built, solved in sheet mode, graded; also graded
    without the roster (the notebooks say which variant they carry)."""
    keyfile = tmp_path / "course.key"
    keyfile.write_text("kmembook-course-key-v1\n" + b"kmembook-test-key-0123456789abcd".hex() + "\n")
    k = load_course_key(keyfile)
    assert class_variants(A, ["s26", "s38"], key=k) == {"s26": {"q2": 1}}      # a collision this key produces
    roster = tmp_path / "roster.txt"
    roster.write_text("s26\ns38\n")
    rel = tmp_path / "rel"
    assert main(["homework", "student", "buddy", "--out", str(rel), "--roster", str(roster), "--key", str(keyfile)]) == 0
    a = nbformat.read(str(rel / "s26" / "buddy.ipynb"), as_version=4)
    b = nbformat.read(str(rel / "s38" / "buddy.ipynb"), as_version=4)
    ns_a, ns_b = {}, {}
    exec(next(c for c in a.cells if cell_role(c) == "setup").source, ns_a)
    exec(next(c for c in b.cells if cell_role(c) == "setup").source, ns_b)
    assert ns_a["hw"].problem("q2").data != ns_b["hw"].problem("q2").data
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_solved(a), str(subs / "s26.ipynb"))
    nbformat.write(_solved(b), str(subs / "s38.ipynb"))
    for extra in (["--roster", str(roster)], []):
        out = tmp_path / f"g{len(extra)}.csv"
        assert main(["homework", "grade", "buddy", str(subs), "--out", str(out), "--key", str(keyfile),
                     "--timeout", "60", *extra]) == 0
        rows = _rows(out)
        assert rows["s26"]["total"] == "12" and rows["s38"]["total"] == "12", rows


def test_unsafe_no_sandbox_still_grades(tmp_path, capsys):
    """--unsafe-no-sandbox: same grading path without isolation (the instructor's explicit choice)."""
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_solved(build_student_notebook(A, "una")), str(subs / "una.ipynb"))
    out = tmp_path / "g.csv"
    assert main(["homework", "grade", "buddy", str(subs), "--out", str(out), "--timeout", "60",
                 "--unsafe-no-sandbox"]) == 0
    assert _rows(out)["una"]["total"] == "12"


@needs_sandbox
def test_every_submission_failing_is_an_error(tmp_path, monkeypatch, capsys):
    """A kernel that cannot start in the sandbox fails every row: exit status 3 and one line saying why."""
    from kmemlib.homework import grading
    monkeypatch.setattr(grading, "kernel_argv", lambda name: ["/no/such/python", "-f", "{connection_file}"])
    subs = tmp_path / "subs"
    subs.mkdir()
    for sid in ("a", "b"):
        nbformat.write(_solved(build_student_notebook(A, sid)), str(subs / f"{sid}.ipynb"))
    assert main(["homework", "grade", "buddy", str(subs), "--out", str(tmp_path / "g.csv"), "--timeout", "10"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "every submission failed" in err[0]
    assert {r["status"] for r in _rows(tmp_path / "g.csv").values()} == {"failed"}
