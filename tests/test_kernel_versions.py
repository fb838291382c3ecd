"""Version-dependent model behaviour, checked against what Debian's 6.1 and 6.12 kernels showed under
QEMU (kmemlib lab) and against the 6.18 machine the first snapshots come from."""

from __future__ import annotations

import json
import shutil

import pytest

from kmemlib.errors import InvalidFlagsError, InvalidSizeError
from kmemlib.mm.kmalloc import kmalloc_size_roundup
from kmemlib.mm.mmzone import ZONE_DMA32, ZONE_MOVABLE
from kmemlib.mm.slub import (DEFAULT_PARAMS, SlubParams, kmalloc_cache_align, kmalloc_cache_geometry,
                             params_for_kernel)
from kmemlib.mm.version import version_tuple
from kmemlib.mm.watermarks import boot_watermarks, compute_wmarks
from kmemlib.readers import dmesg, procfs, sysfs
from kmemlib.readers.snapshots import snapshot_dir


def test_version_strings():
    assert version_tuple("6.1") == (6, 1) and version_tuple("6.12.117+deb12-amd64") == (6, 12)
    assert version_tuple("6.1.0-57-amd64") == (6, 1) and version_tuple((6, 18)) == (6, 18)
    for bad in ("", "six", "6", "61.2", None):
        with pytest.raises(InvalidFlagsError):
            version_tuple(bad)
    with pytest.raises(InvalidFlagsError):
        SlubParams(kernel_version="latest")


def test_kmalloc_size_roundup_before_and_after_6_7():
    # 6.1 has no upper bound (commit 8446a4deb6b6 came in 6.7): ksize_probe printed 8388608 on 6.1
    assert kmalloc_size_roundup(4300900, kernel_version="6.1") == 8388608
    assert kmalloc_size_roundup(4194305, kernel_version="6.1") == 8388608
    assert kmalloc_size_roundup(4300900, kernel_version="6.12") == 4300900
    assert kmalloc_size_roundup(4300900) == 4300900
    for v in ("6.1", "6.12"):      # the same below the bound
        assert [kmalloc_size_roundup(n, kernel_version=v) for n in (0, 1, 65, 193, 8193, 2097153)] == \
            [0, 8, 96, 256, 16384, 4194304]


def test_kmalloc_96_and_192_alignment_by_version():
    assert (kmalloc_cache_align(96, "6.1"), kmalloc_cache_align(192, "6.1")) == (8, 8)
    assert (kmalloc_cache_align(96, "6.12"), kmalloc_cache_align(192, "6.12")) == (32, 64)
    assert kmalloc_cache_align(4096, "6.1") == kmalloc_cache_align(4096, "6.12") == 4096
    p61 = params_for_kernel("6.1")
    assert p61.order_algorithm == "6.1" and p61.kernel_version == "6.1"
    assert params_for_kernel("6.12").order_algorithm == "6.7"
    g = kmalloc_cache_geometry(1, params=p61)          # kmalloc-96 on 6.1: align 8, same slot
    assert (g.align, g.size) == (8, 96)
    assert kmalloc_cache_geometry(1, params=DEFAULT_PARAMS).align == 32


def test_freeptr_offset_caches_by_version():
    assert sysfs.freeptr_offset_caches_for("6.1") == frozenset()
    assert sysfs.freeptr_offset_caches_for("6.12") == {"filp"}
    assert sysfs.freeptr_offset_caches_for("6.18") == sysfs.FREEPTR_OFFSET_CACHES_6_18


def test_compare_live_no_longer_crashes_on_a_non_rcu_filp(tmp_path):
    """6.1: filp is an ordinary (mergeable) cache. Naming it a freeptr_offset cache made
    make_geometry raise "freeptr_offset is only allowed with SLAB_TYPESAFE_BY_RCU"."""
    root = tmp_path / "root"
    shutil.copytree(snapshot_dir("linux-6.18-x86_64"), root)
    data = json.loads((root / "sys/kernel/slab.json").read_text())
    target = next(n for n, a in data["caches"].items() if a["destroy_by_rcu"] == "0\n" and n.startswith(":A-"))
    data["links"]["vm_area_struct"] = target        # as 6.1 has it: an alias of a mergeable cache
    data["caches"].pop("vm_area_struct", None)
    (root / "sys/kernel/slab.json").write_text(json.dumps(data))
    rep = sysfs.compare_live(root, freeptr_offset_caches=sysfs.FREEPTR_OFFSET_CACHES_6_18)
    assert rep.total == len(data["caches"])


def test_kernel_version_is_read_from_proc_version(tmp_path):
    (tmp_path / "proc").mkdir()
    assert procfs.read_kernel_version(tmp_path) is None and sysfs.kernel_version_of(tmp_path) == "6.18"
    (tmp_path / "proc/version").write_text("Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) ...\n")
    assert procfs.read_kernel_version(tmp_path) == (6, 1) and sysfs.kernel_version_of(tmp_path) == "6.1"


DMESG = """[    0.471838] Freeing SMP alternatives memory: 40K
[    0.764012] Memory: 461340K/523768K available (16384K kernel code, 2499K rwdata, 11716K rodata, 4264K init)
[    1.208366] Freeing initrd memory: 1304K
[    1.734191] Freeing unused decrypted memory: 2028K
[    1.827644] Freeing unused kernel image (initmem) memory: 4264K
[    1.829784] Freeing unused kernel image (rodata/data gap) memory: 572K
"""


def test_late_freed_pages_from_dmesg():
    assert dmesg.freed_memory(DMESG)[0] == ("SMP alternatives", 40)
    assert dmesg.late_freed_pages(DMESG) == (1304 + 2028 + 4264 + 572) // 4 == 2042
    assert dmesg.late_freed_pages("") == 0


def test_boot_watermarks_6_12_512m():
    """6.12, 1 CPU... 512 MiB guest (numbers from the lab's zoneinfo): the watermarks and
    lowmem_reserve match the managed pages before the 2042 late-freed pages, not the final ones."""
    managed = [3840, 114451, 0, 0, 0]
    b = boot_watermarks(managed, late_freed_pages=2042, kernel_version="6.12")
    assert b.managed[ZONE_DMA32] == 112409 and not b.thp
    assert b.min_free_kbytes == 2727
    assert b.wmarks[0][:3] == (22, 27, 32) and b.wmarks[1] == (658, 822, 986, 1150)
    assert b.lowmem_reserve[0] == [0, 439, 439, 439, 439]
    assert b.wmarks[ZONE_MOVABLE] == (32, 32, 32, 32)
    final = boot_watermarks(managed, kernel_version="6.12")     # without the correction: off
    assert final.lowmem_reserve[0][1] == 447 != 439
    with pytest.raises(InvalidSizeError):
        boot_watermarks(managed, late_freed_pages=10 ** 6)


def test_empty_movable_zone_before_6_6():
    assert compute_wmarks([3840, 112409, 0, 0], 2727, kernel_version="6.1")[ZONE_MOVABLE] == (0, 0, 0, 0)
    assert compute_wmarks([3840, 112409, 0, 0], 2727, kernel_version="6.12")[ZONE_MOVABLE] == (32, 32, 32, 32)
    # the other zones do not change with an empty Movable zone
    assert compute_wmarks([3840, 112409, 0, 0], 2727, kernel_version="6.1")[:2] == \
        compute_wmarks([3840, 112409, 0, 0], 2727, kernel_version="6.12")[:2]


def test_boot_watermarks_with_thp_2g():
    """2 GiB: THP is on, khugepaged raises min_free_kbytes to 512 * 2 zones * 11 pages."""
    b = boot_watermarks([3840, 499255, 0, 0, 0], late_freed_pages=2252, kernel_version="6.1")
    assert b.thp and b.min_free_kbytes == 512 * 2 * 11 * 4
