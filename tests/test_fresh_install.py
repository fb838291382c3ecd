"""Every chapter runs where only the package is installed, as on Colab or Binder (issue 12).

A fresh virtual environment gets kmemlib with its ``book`` extra, installed from this working tree the way a
reader's ``pip install "kmemlib[book] @ git+..."`` would (a regular, non-editable install; pip's download cache
may be used). Each notebook of ``book/`` then runs top to bottom in that environment's own kernel, from a copy of
the chapter folder, so nothing of the repository (no ``.venv``, no ``myst_nb``, no source tree on ``sys.path``)
can help it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT

import repository_url  # tools/repository_url.py

pytestmark = pytest.mark.slow

# Files setuptools needs to build the package (pyproject's readme and license, the package itself).
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "kmemlib")

RUNNER = textwrap.dedent('''
    import sys
    from pathlib import Path
    import nbformat
    from nbclient import NotebookClient
    failed = []
    for arg in sys.argv[1:]:
        path = Path(arg)
        nb = nbformat.read(path, as_version=4)
        try:
            NotebookClient(nb, timeout=300, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            print("ok", path.name, flush=True)
        except Exception as exc:  # report every chapter, not only the first failure
            failed.append(path.name)
            print("FAILED", path.name, type(exc).__name__, str(exc)[-3000:], flush=True)
    sys.exit(1 if failed else 0)
''')


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory) -> Path:
    """A venv with nothing but ``kmemlib[book]`` (and what it depends on); returns its python."""
    base = tmp_path_factory.mktemp("fresh")
    src = base / "src"
    src.mkdir()
    for name in PACKAGE_FILES:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(item, src / name)
    venv = base / "venv"
    proc = _run([sys.executable, "-m", "venv", str(venv)])
    assert proc.returncode == 0, proc.stderr
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 f"{src}[{repository_url.EXTRA}]"], env=env, timeout=900)
    assert proc.returncode == 0, f"pip install {src}[{repository_url.EXTRA}] failed:\n{proc.stdout}\n{proc.stderr}"
    return python


def test_fresh_env_has_only_the_package(fresh_env):
    """The environment really is plain: kmemlib installed as a package, no book toolchain."""
    code = ("import importlib.util as u, kmemlib; "
            "print(kmemlib.__file__); print(u.find_spec('myst_nb') is None, u.find_spec('jupyter_book') is None)")
    proc = _run([str(fresh_env), "-c", code], cwd="/")
    assert proc.returncode == 0, proc.stderr
    where, no_myst = proc.stdout.splitlines()[:2]
    assert "site-packages" in where and str(ROOT) not in where, where
    assert no_myst == "True True", "myst_nb/jupyter_book must not be needed (nor present) in a plain install"


def test_every_chapter_runs_with_only_the_package(fresh_env, tmp_path):
    """Every notebook under book/ executes without error in the fresh environment."""
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_static"))
    paths = sorted(str(p) for p in book.rglob("*.ipynb"))
    assert len(paths) >= 10, paths
    runner = tmp_path / "run_chapters.py"
    runner.write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "agg"
    # two runners side by side (the chapters are independent; most of the time goes to kernel start-up)
    halves = [paths[0::2], paths[1::2]]
    procs = [subprocess.Popen([str(fresh_env), str(runner), *half], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for half in halves]
    results = [p.communicate(timeout=1200) for p in procs]
    out = "".join(o for o, _ in results)
    err = "".join(e for _, e in results)
    assert all(p.returncode == 0 for p in procs), f"chapters failed in a plain install:\n{out[-6000:]}\n{err[-2000:]}"
    assert out.count("ok ") == len(paths), out


def test_install_cells_name_the_configured_repository():
    """Each chapter's install cell installs kmemlib[book] from repository.url of _config.yml (one setting)."""
    want = repository_url.install_requirement(repository_url.repository_url())
    for path in repository_url.notebooks():
        lines = repository_url.install_lines(path)
        assert len(lines) == 1, f"{path.name}: expected one install line, found {lines}"
        assert f'"{want}"' in lines[0], f"{path.name}: {lines[0]!r}; run python tools/repository_url.py"
