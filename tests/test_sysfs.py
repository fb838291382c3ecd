"""Model vs kernel: every cache of /sys/kernel/slab (live where present, the shipped snapshot always)."""

import json
import os
import shutil
from pathlib import Path

import pytest

from kmemlib.readers import snapshots
from kmemlib.readers import sysfs as Y
from kmemlib.errors import ParseError, SourceUnavailableError
from kmemlib.mm.slub import SlubParams

SNAP = snapshots.snapshot_dir()
LIVE = Path("/sys/kernel/slab").is_dir() and os.access("/sys/kernel/slab/kmalloc-8/object_size", os.R_OK) \
    and Path("/proc/slabinfo").is_file() and os.access("/proc/slabinfo", os.R_OK)


def _check_report(rep):
    assert rep.total > 100, "a real kernel has well over 100 slab caches"
    bad = rep.table(only_mismatches=True)
    assert rep.core_matched == rep.total, bad
    assert rep.matched == rep.total, bad


def test_snapshot_every_cache_matches():
    rep = Y.compare_live(SNAP)
    assert rep.nr_cpus == 2
    _check_report(rep)
    # kmalloc caches are rebuilt from their names alone: 4 types x 13 sizes.
    kmalloc = [c for c in rep.caches if c.name.startswith(("kmalloc-", "dma-kmalloc-"))]
    assert len(kmalloc) == 52


@pytest.mark.live
@pytest.mark.skipif(not LIVE, reason="no readable /sys/kernel/slab and /proc/slabinfo on this machine")
def test_live_every_cache_matches():
    _check_report(Y.compare_live("/"))


def test_comparison_is_not_vacuous():
    # With 64 CPUs min_objects becomes 32 and many caches would get a higher order.
    rep = Y.compare_live(SNAP, SlubParams(nr_cpus=64))
    assert rep.core_matched < rep.total - 10
    # Without knowing that vm_area_struct uses freeptr_offset, its slot grows by a word (192 -> 256).
    rep = Y.compare_live(SNAP, freeptr_offset_caches=())
    assert [c.name for c in rep.failures()] == ["vm_area_struct"]
    c = rep.failures()[0]
    assert (c.predicted["slab_size"], c.actual["slab_size"]) == (256, 192)


def test_aliases_resolved_and_known_examples():
    caches = Y.read_sysfs_slab(SNAP)
    assert "kmalloc-8" in caches and not caches["kmalloc-8"].alias_names
    merged = caches[":0000024"]
    assert merged.alias_names and merged.slab_size == 24
    # every alias name appears exactly once across all caches
    names = [n for c in caches.values() for n in c.names()]
    assert len(names) == len(set(names))
    # sysfs 'aliases' is refcount - 1; every creator's name (the first included) is a symlink, and
    # kmem_cache_destroy() of an alias drops the refcount but leaves its symlink.
    for c in caches.values():
        if c.mergeable_name:
            assert 0 <= c.int("aliases") <= len(c.alias_names) - 1, c.dirname
        else:
            assert c.int("aliases") == 0 and not c.alias_names, c.dirname
    assert caches[":0000048"].int("aliases") == len(caches[":0000048"].alias_names) - 1


def test_slabinfo_parsed_and_consistent_with_sysfs():
    rows = Y.read_slabinfo(SNAP)
    caches = Y.read_sysfs_slab(SNAP)
    by_name = {n: c for c in caches.values() for n in c.names()}
    assert len(rows) == len(caches)
    for r in rows:
        c = by_name[r.name]
        assert (r.objsize, r.objperslab, r.pagesperslab) == (c.slab_size, c.objs_per_slab, 1 << c.order)
        assert (r.limit, r.batchcount, r.sharedfactor, r.sharedavail) == (0, 0, 0, 0)
        assert r.active_slabs == r.num_slabs
        assert r.num_objs == r.num_slabs * r.objperslab or r.num_objs >= 0


def test_present_cpus():
    assert Y.read_present_cpus(SNAP) == 2
    assert Y.parse_cpulist("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11]
    assert Y.parse_cpulist("0\n") == [0]
    with pytest.raises(ParseError):
        Y.parse_cpulist("0-x")
    with pytest.raises(ParseError):
        Y.parse_cpulist("3-1")


def test_missing_sources_raise(tmp_path):
    with pytest.raises(SourceUnavailableError):
        Y.read_sysfs_slab(tmp_path)
    with pytest.raises(SourceUnavailableError):
        Y.read_slabinfo(tmp_path)
    with pytest.raises(SourceUnavailableError):
        Y.read_present_cpus(tmp_path)


def test_malformed_snapshot_raises(tmp_path):
    (tmp_path / "sys/kernel").mkdir(parents=True)
    p = tmp_path / Y.SLAB_JSON
    p.write_text("{not json")
    with pytest.raises(ParseError):
        Y.read_sysfs_slab(tmp_path)
    p.write_text(json.dumps({"caches": {"x": {"object_size": "abc\n", "slab_size": "8\n", "align": "8\n",
                                              "order": "0\n", "objs_per_slab": "512\n"}}}))
    with pytest.raises(ParseError, match="object_size"):
        Y.read_sysfs_slab(tmp_path)
    p.write_text(json.dumps({"caches": {"x": {"object_size": "8\n"}}}))
    with pytest.raises(ParseError, match="missing"):
        Y.read_sysfs_slab(tmp_path)
    p.write_text(json.dumps({"caches": {}, "links": {"a": "nowhere"}}))
    with pytest.raises(ParseError, match="nowhere"):
        Y.read_sysfs_slab(tmp_path)


def test_malformed_slabinfo_raises():
    with pytest.raises(ParseError):
        Y.parse_slabinfo("slabinfo - version: 2.0\n")
    with pytest.raises(ParseError, match=":2:"):
        Y.parse_slabinfo("slabinfo - version: 2.1\nfoo 1 2 3\n")
    with pytest.raises(ParseError):
        Y.parse_slabinfo("slabinfo - version: 2.1\nfoo 1 2 x 4 1 : tunables 0 0 0 : slabdata 1 1 0\n")


def test_snapshot_writer_roundtrip(tmp_path):
    # Build a fake root from the shipped snapshot and write a new snapshot from it.
    src = tmp_path / "src"
    shutil.copytree(SNAP, src)
    dest = tmp_path / "dest"
    counts = Y.save_slab_snapshot(dest, src)
    assert counts["caches"] == len(Y.read_sysfs_slab(SNAP))
    assert Y.compare_live(dest).matched == Y.compare_live(SNAP).matched


def test_reads_a_directory_tree(tmp_path):
    # A root with a real sys/kernel/slab tree (directories, attribute files, alias symlinks).
    base = tmp_path / "sys/kernel/slab"
    d = base / ":0000024"
    d.mkdir(parents=True)
    for k, v in {"object_size": "24", "slab_size": "24", "align": "8", "order": "0", "objs_per_slab": "170",
                 "ctor": "", "aliases": "1", "min_partial": "5", "cpu_partial": "120", "validate": ""}.items():
        (d / k).write_text(v + "\n")
    os.symlink(":0000024", base / "lsm_file_cache")
    caches = Y.read_sysfs_slab(tmp_path)
    assert caches[":0000024"].alias_names == ["lsm_file_cache"]
    assert "validate" not in caches[":0000024"].attrs
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/slabinfo").write_text(
        "slabinfo - version: 2.1\n# name ...\n"
        "lsm_file_cache       340    340     24  170    1 : tunables    0    0    0 : slabdata      2      2      0\n")
    (tmp_path / "sys/devices/system/cpu").mkdir(parents=True)
    (tmp_path / "sys/devices/system/cpu/present").write_text("0-1\n")
    rep = Y.compare_live(tmp_path)
    assert rep.matched == rep.total == 1
