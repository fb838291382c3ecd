"""The README's promises: its Python example runs, and .ci/run runs exactly its test command."""

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_library_example_runs_and_prints_what_the_comments_say():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "README has no Python example"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]"   # one free block at each order 0..9
    assert "cache='kmalloc-2k'" in lines[1]
    assert lines[-1] == "128"


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"^(make \w+)\s+#", README, re.M)
    assert commands[:2] == ["make book", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [ln for ln in ci.splitlines() if ln and not ln.startswith(("#", "set ", "cd ", "export "))] == ["make test"]
