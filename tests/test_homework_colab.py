"""The student notebook runs where only the kmemlib package is installed (as on Colab after its install cell).

A fresh virtual environment gets kmemlib from this repository with a plain ``pip install`` (no book requirements, no
editable install, so the package data must be there), then runs a student's notebook top to bottom in its own
kernel: install cell (a no-op once kmemlib is importable), setup cell, problems, the worked answers, the checks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]




@pytest.mark.slow
def test_student_notebook_in_a_fresh_environment(tmp_path):
    src = tmp_path / "src"          # pip builds in the source tree: a copy keeps the repository clean
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "kmemlib", src / "kmemlib", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    done = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(src)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    script = textwrap.dedent(r'''
        import json, subprocess, sys
        import nbformat
        from nbclient import NotebookClient
        from kmemlib.homework import get_assignment
        from kmemlib.homework.notebooks import build_solution_notebook, build_student_notebook, cell_role, nbgrader_meta

        a = get_assignment("kmalloc")
        sol = {nbgrader_meta(c)["grade_id"]: c.source for c in build_solution_notebook(a).cells
               if nbgrader_meta(c).get("solution")}
        nb = build_student_notebook(a, "colab-student")
        assert [cell_role(c) for c in nb.cells if cell_role(c)] == ["install", "setup"]
        for c in nb.cells:
            gid = nbgrader_meta(c).get("grade_id", "")
            if gid in sol:
                c.source = sol[gid]
        NotebookClient(nb, timeout=120, kernel_name="python3").execute(stderr=subprocess.DEVNULL)
        checks = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells
                  if c.cell_type == "code" and c.source.startswith("hw.check(")]
        print(json.dumps({"checks": checks, "kmemlib": __import__("kmemlib").__file__}))
    ''')
    done = subprocess.run([str(py), "-c", script], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert str(venv) in out["kmemlib"]                       # the installed copy, not the repository
    assert len(out["checks"]) == 5 and all("correct" in t and "not yet" not in t for t in out["checks"]), out


def test_install_cell_follows_the_repository_setting():
    """The student notebooks' install cell names the repository of _config.yml (the book's one setting)."""
    import yaml

    from kmemlib.homework.notebooks import INSTALL_SPEC, install_source
    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    assert INSTALL_SPEC == f"kmemlib @ git+{url.rstrip('/').removesuffix('.git')}"
    assert json.dumps(INSTALL_SPEC) in install_source()
