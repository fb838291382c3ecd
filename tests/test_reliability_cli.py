"""Issue 15: every bad `kmemlib snapshot ...` invocation ends with one line on stderr and a non-zero status."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kmemlib import cli
from kmemlib.readers import sysfs
from kmemlib.readers.shipped import snapshot_dir

SNAP = snapshot_dir()


def damaged_root(tmp_path: Path, rel: str, content: str | bytes) -> Path:
    root = tmp_path / "root"
    if not root.exists():
        shutil.copytree(SNAP, root)
    p = root / rel
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    return root


def run(capsys, *argv: str) -> tuple[int, str]:
    rc = cli.main(list(argv))
    err = capsys.readouterr().err
    return rc, err


def assert_one_clear_line(rc: int, err: str, *words: str) -> None:
    assert rc not in (0, 70), err                          # 70: the guard caught a bug
    assert "Traceback" not in err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("kmemlib: error: "), err
    for w in words:
        assert w in err, (w, err)


def slab_json(**change) -> str:
    data = json.loads((SNAP / sysfs.SLAB_JSON).read_text())
    data.update(change)
    return json.dumps(data)


BAD_ROOTS = [
    ("sys/kernel/slab.json", "[" * 100000 + "]" * 100000, "slab.json"),
    ("sys/kernel/slab.json", slab_json(links={"a": [1]}), "slab.json"),
    ("sys/kernel/slab.json", slab_json(caches={":abc": {}}), ":abc"),
    ("sys/devices/system/cpu/present", "0-4294967295\n", "present"),
    ("proc/slabinfo", b"\x89PNG\r\n\x1a\n\x00\x00", "slabinfo"),
    ("sys/kernel/slab.json", b"\xff\xfe{}", "slab.json"),
    ("proc/slabinfo", "slabinfo - version: 2.1\n# name <active_objs>\nx " + "9" * 131072 + "\n", "slabinfo"),
]


@pytest.mark.parametrize("rel,content,word", BAD_ROOTS)
def test_compare_with_damaged_files(tmp_path, capsys, rel, content, word):
    root = damaged_root(tmp_path, rel, content)
    assert_one_clear_line(*run(capsys, "snapshot", "compare", "--root", str(root)), word)


def test_compare_with_bad_roots(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for argv in (["--root", str(tmp_path / "nope")], ["--root", str(afile)], ["--snapshot", "nope"],
                 ["--snapshot", "../../etc"], ["--snapshot", ""]):
        assert_one_clear_line(*run(capsys, "snapshot", "compare", *argv))


def test_save_refuses_and_leaves_nothing(tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    afile = tmp_path / "afile"
    afile.write_text("x")
    bad = damaged_root(tmp_path, "proc/zoneinfo", "Node 0, zone      DMA\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    for argv in ([str(full)], [str(afile)], [str(tmp_path / "out"), "--from", str(bad)],
                 [str(tmp_path / "out"), "--from", str(tmp_path / "nope")], [""]):
        assert_one_clear_line(*run(capsys, "snapshot", "save", *argv))
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_binary_input_names_the_file(tmp_path, capsys):
    root = damaged_root(tmp_path, "proc/slabinfo", b"\xff\xfe\x00")
    rc, err = run(capsys, "snapshot", "compare", "--root", str(root))
    assert_one_clear_line(rc, err, str(root / "proc/slabinfo"), "not text")


def test_the_console_script_never_prints_a_traceback(tmp_path):
    root = damaged_root(tmp_path, "sys/kernel/slab.json", "[" * 100000 + "]" * 100000)
    done = subprocess.run([sys.executable, "-m", "kmemlib.cli", "snapshot", "compare", "--root", str(root)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("kmemlib: error: ")


def test_unexpected_errors_are_one_line_too(capsys, monkeypatch):
    import kmemlib.readers.shipped as shipped

    def boom():
        raise RuntimeError("unexpected\nstate")
    monkeypatch.setattr(shipped, "list_snapshots", boom)
    rc = cli.main(["snapshot", "list"])
    err = capsys.readouterr().err
    assert rc == 70 and "Traceback" not in err and err.count("\n") == 1 and "internal error" in err


@pytest.mark.parametrize("argv", [["snapshot", "compare", "--bogus"], ["nope"], ["snapshot"],
                                  ["snapshot", "compare", "--root"], []])
def test_usage_errors_are_one_line_too(capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and ": error: " in err and "--help" in err, err
