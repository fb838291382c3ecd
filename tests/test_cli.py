"""The ``kmemlib`` command: parser layout and the homework subcommands that need no grading run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kmemlib.cli import build_parser, main
from kmemlib.homework import get_assignment, start
from kmemlib.homework.notebooks import find_solution_leaks


def _setup(nb):
    """The notebook's setup cell (homework.start(...))."""
    return next(c for c in nb.cells if c.get("metadata", {}).get("kmemlib", {}).get("role") == "setup")


def test_parser_groups():
    parser = build_parser()
    with pytest.raises(SystemExit) as exc:
        parser.parse_args([])
    assert exc.value.code == 2
    args = parser.parse_args(["homework", "grade", "buddy", "subs", "--out", "g.csv"])
    assert (args.group, args.action, args.timeout, args.id_from) == ("homework", "grade", 30, "path")
    with pytest.raises(SystemExit):
        parser.parse_args(["homework", "student", "buddy", "--out", "x", "--generic", "--students", "f"])


def test_list(capsys):
    assert main(["homework", "list"]) == 0
    out = capsys.readouterr().out
    assert "buddy" in out and "Part I" in out and "kmalloc" in out and "Part II" in out


def test_show_hides_answers_unless_revealed(capsys):
    assert main(["homework", "show", "kmalloc", "--student", "alice"]) == 0
    hidden = capsys.readouterr().out
    assert "Answer:" not in hidden and str(start("kmalloc", "alice").seed) in hidden
    assert main(["homework", "show", "kmalloc", "--student", "alice", "--reveal"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("Answer: ") == 5
    hw = start("kmalloc", "alice")
    exp = get_assignment("kmalloc").question("q1").expected(hw.question_seed("q1"))
    assert repr(exp) in shown
    assert main(["homework", "show", "kmalloc", "--seed", str(hw.seed), "--reveal"]) == 0
    assert repr(exp) in capsys.readouterr().out


def test_student_builds(tmp_path, capsys):
    ids = tmp_path / "ids.txt"
    ids.write_text("# class of 2025\nalice\nbob  # late joiner\n\n")
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("bob,4242\n")
    out = tmp_path / "release"
    assert main(["homework", "student", "buddy", "--out", str(out), "--students", str(ids), "--seeds",
                 str(seeds)]) == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.ipynb"))
    assert files == ["alice/buddy.ipynb", "bob/buddy.ipynb"]
    alice = nbformat.read(str(out / "alice" / "buddy.ipynb"), as_version=4)
    bob = nbformat.read(str(out / "bob" / "buddy.ipynb"), as_version=4)
    nbformat.validate(alice)
    assert 'student_id="alice")' in _setup(alice).source
    assert 'student_id="bob", seed=4242)' in _setup(bob).source
    assert not find_solution_leaks(alice) and "SOLUTION" not in json.dumps(alice)
    assert main(["homework", "student", "kmalloc", "--out", str(out), "--generic"]) == 0
    assert 'student_id=""' in _setup(nbformat.read(str(out / "kmalloc.ipynb"), as_version=4)).source


def test_student_errors(tmp_path, capsys):
    assert main(["homework", "student", "nope", "--out", str(tmp_path), "--generic"]) == 1
    assert "unknown assignment 'nope'" in capsys.readouterr().err
    assert main(["homework", "student", "buddy", "--out", str(tmp_path), "--student", "../evil"]) == 1
    assert "folder name" in capsys.readouterr().err
    seeds = tmp_path / "s.json"
    seeds.write_text('{"a": 1}')
    assert main(["homework", "student", "buddy", "--out", str(tmp_path), "--generic", "--seeds", str(seeds)]) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    assert main(["homework", "student", "buddy", "--out", str(tmp_path), "--student", "a", "--seeds",
                 str(bad)]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["homework", "grade", "buddy", str(tmp_path / "missing"), "--out", str(tmp_path / "g.csv")]) == 1


def test_solution_unexecuted(tmp_path):
    assert main(["homework", "solution", "kmalloc", "--out", str(tmp_path), "--no-execute"]) == 0
    nb = nbformat.read(str(tmp_path / "kmalloc-solution.ipynb"), as_version=4)
    text = json.dumps(nb)
    assert "make_geometry" in text and "SOLUTION" not in text
    assert 'student_id="instructor"' in _setup(nb).source


def test_solution_executed_for_one_student(tmp_path):
    assert main(["homework", "solution", "buddy", "--out", str(tmp_path), "--student", "alice"]) == 0
    nb = nbformat.read(str(tmp_path / "buddy-solution-alice.ipynb"), as_version=4)
    checks = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("hw.check(")]
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in checks]
    assert len(texts) == 5 and all("correct" in t and "not yet" not in t for t in texts), texts


def test_console_script_entry_point():
    exe = shutil.which("kmemlib", path=str(Path(sys.executable).parent))
    assert exe, "the kmemlib console script is not installed next to this Python"
    done = subprocess.run([exe, "homework", "list"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "buddy" in done.stdout
    done = subprocess.run([exe, "homework", "show", "nope"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "unknown assignment" in done.stderr
