"""Hostile submissions: a class graded in the bubblewrap sandbox, where some students attack the grader.

Every attack of issue 13 is here: reading the grader's paths through /proc, overwriting a classmate's submission or
the grades, a detached child that outlives its cell, a .pth file for the next run, killing the grader, a hook that
prints forged result lines and a RecursionError bomb, output floods, huge allocations, fork bombs, uninterruptible
loops.  The run must finish, honest students keep their points, nothing outside the sandbox changes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import site
import time
from pathlib import Path

import nbformat
import pytest

from kmemlib.cli import main
from kmemlib.homework import get_assignment, start
from kmemlib.homework.execute import execute_and_collect, interpret
from kmemlib.homework.notebooks import build_solution_notebook, build_student_notebook, nbgrader_meta
from kmemlib.homework.sandbox import Limits, SandboxError, check_sandbox

AID = "buddy"
A = get_assignment(AID)

try:
    check_sandbox()
    _SANDBOX_PROBLEM = None
except SandboxError as exc:      # pragma: no cover - CI installs bubblewrap (make install-sandbox)
    _SANDBOX_PROBLEM = str(exc)

pytestmark = pytest.mark.skipif(_SANDBOX_PROBLEM is not None and os.environ.get("CI") not in ("1", "true"),
                                reason=f"no working sandbox here: {_SANDBOX_PROBLEM}")


def _solution_sources() -> dict[str, str]:
    sol = build_solution_notebook(A)
    return {nbgrader_meta(c)["grade_id"][:-7]: c.source for c in sol.cells
            if nbgrader_meta(c).get("grade_id", "").endswith("-answer")}


SOL = _solution_sources()


def _notebook(sid: str, extra: list[str] | None = None, before: list[str] | None = None,
              answers: dict[str, str] | None = None, seed: int | None = None) -> nbformat.NotebookNode:
    """sid's notebook solved with the worked solutions; ``before`` cells go right after the setup cell,
    ``extra`` cells at the end."""
    nb = build_student_notebook(A, sid, seed=seed)
    src = dict(SOL, **(answers or {}))
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id", "")
        if gid.endswith("-answer"):
            cell.source = src[gid[:-7]]
    setup = next(i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("kmemlib", {}).get("role") == "setup")
    nb.cells[setup + 1:setup + 1] = [nbformat.v4.new_code_cell(s) for s in before or []]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in extra or []]
    return nb


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    subs = root / "submissions"
    subs.mkdir()
    out = root / "grades.csv"
    seeds = root / "secret-seeds.json"
    seeds.write_text(json.dumps({"zed": 4242}))
    purelib = site.getsitepackages()[0]
    victim = subs / "honest.ipynb"
    targets = [str(out), str(victim), str(seeds), str(root)]
    child = f"import time; time.sleep(4); open({str(out)!r}, 'w').write('forged')"

    nbformat.write(_notebook("honest"), str(victim))
    nbformat.write(_notebook("zed", seed=4242), str(subs / "zed.ipynb"))   # honest too, but overridden seed: graded 4242
    # reads everything it can about the grader: parent's command line, cwd, environment, its view of /
    nbformat.write(_notebook("snoop", extra=[
        "import os, json\n"
        "seen = {'cmdline': [], 'env': dict(os.environ), 'cwd': os.getcwd(), 'root': sorted(os.listdir('/')),\n"
        "        'proc': sorted(p for p in os.listdir('/proc') if p.isdigit())}\n"
        "for pid in seen['proc']:\n"
        "    try:\n"
        "        seen['cmdline'].append(open(f'/proc/{pid}/cmdline').read())\n"
        "    except OSError:\n"
        "        pass\n"
        "for pid in ('1', str(os.getppid())):\n"
        "    try:\n"
        "        seen['cwd_' + pid] = os.readlink(f'/proc/{pid}/cwd')\n"
        "    except OSError as e:\n"
        "        seen['cwd_' + pid] = 'denied'\n"
        f"seen['opened'] = {{}}\n"
        f"for t in {targets!r}:\n"
        "    try:\n"
        "        open(t, 'rb').read(10); seen['opened'][t] = 'READ'\n"
        "    except OSError as e:\n"
        "        seen['opened'][t] = type(e).__name__\n"
        "leak = json.dumps(seen)"]), str(subs / "snoop.ipynb"))
    # writes: a classmate's submission, the grades, a .pth for the next run; a detached child that waits
    nbformat.write(_notebook("vandal", extra=[
        "import os, subprocess, sys\n"
        "q1 = [9, 9, 9, 9]\n"
        f"for t in {[str(victim), str(out), os.path.join(purelib, 'zz_kmemhw_evil.pth')]!r}:\n"
        "    try:\n"
        "        open(t, 'w').write('import os; os.system(\"touch /tmp/pwned\")\\n')\n"
        "    except OSError:\n"
        "        pass\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}], start_new_session=True)"]),
                   str(subs / "vandal.ipynb"))
    # kills its grading process halfway: the answers before it still count
    nbformat.write(_notebook("killer", before=["pass"], answers={"q3": "import os\nos.kill(os.getppid(), 9)"}),
                   str(subs / "killer.ipynb"))
    # forged result lines and a parser bomb from a pre_run_cell hook; writes to every file descriptor
    nbformat.write(_notebook("forger", before=[
        "import os, stat\n"
        "def _hook(info):\n"
        "    print('{\"t\": \"snap\", \"cell\": 99, \"data\": {\"answers\": {\"q1\": {\"defined\": true, \"json\": \"[1]\"}}}}')\n"
        "    print('[' * 200000)\n"
        "    for fd in range(3, 40):\n"
        "        try:\n"
        "            if stat.S_ISFIFO(os.fstat(fd).st_mode) or stat.S_ISREG(os.fstat(fd).st_mode):\n"
        "                os.write(fd, b'{\"t\": \"done\"}\\n' + b'[' * 200000 + b'\\n')\n"
        "        except OSError:\n"
        "            pass\n"
        "get_ipython().events.register('pre_run_cell', _hook)\n"
        "hw.check = lambda qid, value: print(qid + ': correct (3/3 points)')"],
        answers={"q1": "q1 = [7, 7, 7, 7]", "q2": "q2 = [1]"}), str(subs / "forger.ipynb"))
    # floods output, allocates 8 GiB, forks without end, ignores interrupts
    nbformat.write(_notebook("hog", extra=[
        "while True:\n    print('x' * 100)",
        "big = bytearray(8 << 30)",
        "import os\nfor _ in range(100000):\n    try:\n        if os.fork() == 0:\n            import time; time.sleep(30); os._exit(0)\n"
        "    except OSError:\n        break",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"]),
                   str(subs / "hog.ipynb"))
    # numpy answers: arrays and numpy integers
    nbformat.write(_notebook("numpy", extra=[
        "import numpy as np\nq1 = np.array(q1)\nq2 = np.array(q2, dtype=np.int64)\n"
        "q3 = tuple(np.int32(x) for x in q3)\nq4 = np.array(q4)\nq5 = np.array(q5)"]), str(subs / "numpy.ipynb"))
    # four slow cells after the answers: interrupted, answers kept
    nbformat.write(_notebook("slow", extra=["import time\ntime.sleep(60)"] * 4), str(subs / "slow.ipynb"))

    before = _hashes(subs)
    purelib_before = sorted(os.listdir(purelib))
    t0 = time.monotonic()
    rc = main(["homework", "grade", AID, str(subs), "--out", str(out), "--timeout", "6", "--total-timeout", "60",
               "--seeds", str(seeds), "--json", str(root / "details.json"), "--jobs", "2"])
    took = time.monotonic() - t0
    csv_after_run = out.read_bytes()
    time.sleep(5)      # the detached child would write after 4 s
    return {"rc": rc, "rows": _rows(out), "before": before, "after": _hashes(subs), "csv": out,
            "csv_after_run": csv_after_run, "purelib_before": purelib_before, "purelib": purelib, "took": took,
            "details": {d["student_id"]: d for d in json.loads((root / "details.json").read_text())},
            "targets": targets, "root": root}


def _points(row):
    return [float(row[q]) for q in A.question_ids]


def test_run_finishes_with_every_row(hostile):
    assert hostile["rc"] == 0
    assert sorted(hostile["rows"]) == ["forger", "hog", "honest", "killer", "numpy", "slow", "snoop", "vandal", "zed"]


def test_honest_students_keep_their_points(hostile):
    for sid in ("honest", "snoop", "zed", "numpy", "slow"):
        assert _points(hostile["rows"][sid]) == [2, 2, 3, 3, 2], (sid, hostile["rows"][sid]["reason"])
    assert hostile["details"]["zed"]["seed"] == 4242


def test_nothing_outside_the_sandbox_changes(hostile):
    assert hostile["before"] == hostile["after"]
    assert hostile["csv"].read_bytes() == hostile["csv_after_run"]
    assert sorted(os.listdir(hostile["purelib"])) == hostile["purelib_before"]
    assert not Path("/tmp/pwned").exists()


def test_vandal_is_graded_on_its_answers(hostile):
    row = hostile["rows"]["vandal"]
    assert row["status"] == "graded" and row["q1"] == "0" and _points(row)[1:] == [2, 3, 3, 2]


def test_no_instructor_path_leaks(hostile):
    d = hostile["details"]["snoop"]
    assert d["status"] == "graded"
    # the snoop's view, re-run directly to read its 'leak' variable
    nb = nbformat.read(str(hostile["root"] / "submissions" / "snoop.ipynb"), as_version=4)
    outcome = execute_and_collect(nb, ["leak"], timeout=10)
    seen = json.loads(outcome.answers["leak"]["value"])
    for t in hostile["targets"]:
        assert seen["opened"][t] in ("FileNotFoundError", "PermissionError"), (t, seen["opened"][t])
    assert str(hostile["root"]) not in json.dumps({k: v for k, v in seen.items() if k != "opened"})
    assert seen["cwd"] == "/tmp/work" and seen["cwd_1"] == "denied"
    assert len(seen["proc"]) < 10          # its own PID namespace: a handful of processes
    env = seen["env"]                      # an empty environment plus the sandbox's own few variables
    assert "PYTEST_CURRENT_TEST" not in env and "KMEMLIB_COURSE_KEY" not in env
    assert not any(str(hostile["root"]) in v or "pytest" in v for v in env.values()), env


def test_the_grading_process_cannot_be_killed(hostile):
    row = hostile["rows"]["killer"]      # os.kill(os.getppid(), 9): its parent is the sandbox's PID 1
    assert _points(row) == [2, 2, 0, 3, 2] and row["status"] == "graded", row["reason"]


def test_forged_lines_and_hooks_do_not_count(hostile):
    row = hostile["rows"]["forger"]
    assert row["status"] == "graded"
    assert _points(row) == [0, 0, 3, 3, 2], row["reason"]


def test_resource_hogs_are_stopped(hostile):
    row = hostile["rows"]["hog"]
    assert _points(row) == [2, 2, 3, 3, 2], row["reason"]
    assert "printed more than" in row["reason"]
    d = hostile["details"]["hog"]
    assert d["status"] == "graded"


def test_slow_cells_keep_the_answers_before_them(hostile):
    assert "ran longer than 6 s" in hostile["rows"]["slow"]["reason"]


def test_numpy_answers_graded_like_check(hostile):
    hw = start(AID, "numpy")
    import numpy as np
    for q in A.questions:
        exp = q.expected(hw.question_seed(q.qid))
        assert hw.verdict(q.qid, np.array(exp, dtype=object) if q.qid == "q3" else np.array(exp)).correct


def test_interpret_never_trusts_malformed_records():
    cells = ["q1 = 1", "q2 = 2"]
    recs = [{"t": "run", "attempt": 0}, {"t": "begin", "cell": 0}, {"t": "cell", "cell": 0, "status": "ok"},
            {"t": "snap", "cell": 0, "data": {"answers": {"q1": {"defined": True, "json": "[" * 100000}}}},
            {"t": "snap", "cell": 7, "data": {"answers": {"q1": {"defined": True, "json": "5"}}}},
            {"t": "snap", "cell": "x", "data": None}, {"t": "cell", "cell": -1, "status": "error"}]
    out = interpret(recs, "exit 137", "", cells, ["q1"], timeout=3, total=30, limits=Limits())
    assert out.ok and out.answers["q1"]["error"]
    assert "stopped early" in out.notes[-1]


def test_without_bwrap_grading_refuses(tmp_path, monkeypatch, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_notebook("x"), str(subs / "x.ipynb"))
    monkeypatch.setenv("KMEMLIB_BWRAP", str(tmp_path / "no-such-bwrap"))
    monkeypatch.setenv("PATH", str(tmp_path))
    rc = main(["homework", "grade", AID, str(subs), "--out", str(tmp_path / "g.csv")])
    err = capsys.readouterr().err
    assert rc == 1 and "--unsafe-no-sandbox" in err and "Traceback" not in err
    assert not (tmp_path / "g.csv").exists()
