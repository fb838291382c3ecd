"""Choosing between the live kernel and the shipped snapshot."""

import pytest

from kmemlib.readers.snapshots import SNAPSHOT_ENV, list_snapshots, live_or_snapshot, snapshot_dir


def test_default_snapshot_is_shipped_and_laid_out_like_root():
    assert "linux-6.18-x86_64" in list_snapshots()
    snap = snapshot_dir()
    for rel in ("proc/buddyinfo", "proc/zoneinfo", "proc/pagetypeinfo", "proc/slabinfo"):
        assert (snap / rel).is_file(), rel


def test_unknown_snapshot_names_the_known_ones():
    with pytest.raises(FileNotFoundError, match="linux-6.18-x86_64"):
        snapshot_dir("no-such-kernel")


def test_live_root_used_when_readable(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "buddyinfo").write_text("Node 0, zone   Normal      1 \n")
    root, live = live_or_snapshot("proc/buddyinfo", live_root=tmp_path)
    assert live and root == tmp_path


def test_missing_or_unreadable_live_files_fall_back_to_the_snapshot(tmp_path, monkeypatch):
    root, live = live_or_snapshot("proc/buddyinfo", live_root=tmp_path)
    assert not live and root == snapshot_dir()
    # a directory whose files exist but cannot be read (/sys/kernel/slab/* for a normal user)
    cache = tmp_path / "sys" / "kernel" / "slab" / "kmalloc-8"
    cache.mkdir(parents=True)
    (cache / "slab_size").write_text("8\n")
    assert live_or_snapshot("sys/kernel/slab", live_root=tmp_path) == (tmp_path, True)
    real_open = open

    def deny(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    root, live = live_or_snapshot("sys/kernel/slab", live_root=tmp_path)
    assert not live and root == snapshot_dir()


def test_env_forces_the_snapshot(tmp_path, monkeypatch):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "buddyinfo").write_text("x\n")
    monkeypatch.setenv(SNAPSHOT_ENV, "1")
    root, live = live_or_snapshot("proc/buddyinfo", live_root=tmp_path)
    assert not live and root == snapshot_dir()


# ---------------------------------------------------------------- every shipped snapshot
from kmemlib.readers import procfs  # noqa: E402
from kmemlib.cli import main as cli_main  # noqa: E402
from kmemlib.readers.snapshots import save_snapshot  # noqa: E402
from kmemlib.readers.sysfs import compare_live  # noqa: E402


@pytest.mark.parametrize("name", list_snapshots())
def test_snapshot_round_trips_and_model_matches(name):
    root = snapshot_dir(name)
    for rel, parse, fmt in (("proc/buddyinfo", procfs.parse_buddyinfo, procfs.format_buddyinfo),
                            ("proc/pagetypeinfo", procfs.parse_pagetypeinfo, procfs.format_pagetypeinfo),
                            ("proc/zoneinfo", procfs.parse_zoneinfo, procfs.format_zoneinfo)):
        text = (root / rel).read_text()
        assert fmt(parse(text)) == text, f"{name}/{rel} does not round-trip byte for byte"
    node = procfs.node_from_snapshot(root, log_events=False)
    assert procfs.buddyinfo_text(node) == (root / "proc/buddyinfo").read_text()
    report = compare_live(root)
    assert report.total > 140 and report.matched == report.total, report.table(only_mismatches=True)


def test_snapshots_differ_in_state():
    """The second snapshot was taken under load: a real contrast, not a copy."""
    bi = {n: (snapshot_dir(n) / "proc/buddyinfo").read_text() for n in list_snapshots()}
    assert len(set(bi.values())) == len(bi) >= 2


def test_save_snapshot_copies_a_root_and_refuses_a_broken_one(tmp_path):
    src = snapshot_dir()
    counts = save_snapshot(tmp_path / "copy", src)
    assert counts["caches"] == len(compare_live(src).caches)
    for rel in ("proc/buddyinfo", "proc/zoneinfo", "proc/slabinfo", "sys/kernel/slab.json"):
        assert (tmp_path / "copy" / rel).read_bytes() == (src / rel).read_bytes()
    # a root with a malformed buddyinfo: nothing written
    bad = tmp_path / "bad"
    save_snapshot(bad, src)
    (bad / "proc/buddyinfo").write_text("Node zero, zone Normal x\n")
    from kmemlib.errors import ParseError
    with pytest.raises(ParseError):
        save_snapshot(tmp_path / "never", bad)
    assert not (tmp_path / "never").exists()


def test_cli_snapshot_commands(tmp_path, capsys):
    assert cli_main(["snapshot", "list"]) == 0
    assert "linux-6.18-x86_64" in capsys.readouterr().out
    assert cli_main(["snapshot", "compare", "--snapshot", "linux-6.18-x86_64", "--mismatches"]) == 0
    out = capsys.readouterr().out
    assert "predicted exactly" in out
    assert cli_main(["snapshot", "save", str(tmp_path / "s"), "--from", str(snapshot_dir())]) == 0
    assert (tmp_path / "s" / "proc" / "buddyinfo").is_file()
    assert cli_main(["snapshot", "save", str(tmp_path / "s"), "--from", str(snapshot_dir())]) == 1
    assert "not empty" in capsys.readouterr().err


def test_describe_source_names_the_snapshot_or_the_live_kernel(monkeypatch):
    from kmemlib.readers.snapshots import DEFAULT_SNAPSHOT, describe_source

    text = describe_source(snapshot_dir(), False)
    assert DEFAULT_SNAPSHOT in text and "Linux 6.18, x86-64" in text
    assert "running kernel" in describe_source("/", True)
    monkeypatch.setenv(SNAPSHOT_ENV, "1")
    root, live = live_or_snapshot("proc/buddyinfo")
    assert not live and describe_source(root, live) == text


def test_the_book_build_reads_the_snapshot(monkeypatch):
    """tools/snapshot_mode.py (a Sphinx extension in _config.yml) sets the snapshot mode before any notebook runs,
    unless the environment already says otherwise."""
    import sys
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent
    config = yaml.safe_load((root / "_config.yml").read_text())
    assert "snapshot_mode" in config["sphinx"]["config"]["extensions"]
    sys.path.insert(0, str(root / "tools"))
    try:
        import snapshot_mode
    finally:
        sys.path.remove(str(root / "tools"))
    monkeypatch.delenv(SNAPSHOT_ENV, raising=False)
    snapshot_mode.setup(None)
    from kmemlib.readers.snapshots import snapshot_mode as on

    assert on()
    monkeypatch.setenv(SNAPSHOT_ENV, "0")
    snapshot_mode.setup(None)
    assert not on()
