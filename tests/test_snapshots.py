"""Choosing between the live kernel and the shipped snapshot."""

import pytest

from kmemlib.snapshots import SNAPSHOT_ENV, list_snapshots, live_or_snapshot, snapshot_dir


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
