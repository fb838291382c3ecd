"""kmemlib lab: Debian's 6.1 and 6.12 kernels under QEMU, compared with the model.

The first part needs nothing but Python (fake ``apt-cache``/``apt-get``/``qemu`` programs stand in
where a failure is tested). The end-to-end test (marker ``lab``) boots both kernels at 1 and 4 CPUs
with the book's modules; ``tools/ensure_lab.sh`` (run by ``make test``) installs what it needs as root.
Without QEMU or apt it is skipped with a note, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from kmemlib import lab
from kmemlib.cli import main as cli_main
from kmemlib.errors import (KmemError, LabBootError, LabBootTimeoutError, LabError, LabFetchError, LabGuestCrashError,
                            LabModuleBuildError, LabToolMissingError)
from kmemlib.lab import dump, initramfs, kernels, modules, predict, qemu
from kmemlib.readers.snapshots import list_snapshots, snapshot_dir

LAB_SNAPSHOTS = [n for n in list_snapshots() if (snapshot_dir(n) / "lab.json").is_file()]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _fake_program(bindir: Path, name: str, script: str) -> None:
    p = bindir / name
    p.write_text("#!/bin/sh\n" + script)
    p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _encode_dump(files: dict[str, str]) -> str:
    recs = []
    for path, text in files.items():
        recs.append(f"F {path}")
        lines = text.split("\n")
        for ln in lines[:-1]:
            recs.append("L" + ln)
        if lines[-1]:
            recs.append("P" + lines[-1])
        recs.append("E")
    blob = base64.encodebytes(gzip.compress(("\n".join(recs) + "\n").encode())).decode()
    return f"noise\n{initramfs.DUMP_BEGIN}\n{blob}{initramfs.DUMP_END}\n"


def _read_newc(data: bytes) -> dict[str, tuple[int, bytes]]:
    out, pos = {}, 0
    while True:
        hdr = data[pos:pos + 110]
        assert hdr[:6] == b"070701"
        f = [int(hdr[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name = data[pos + 110:pos + 110 + namesize - 1].decode()
        pos += 110 + namesize
        pos += -pos % 4
        body = data[pos:pos + size]
        pos += size
        pos += -pos % 4
        if name == "TRAILER!!!":
            return out
        out[name] = (mode, body)


# ------------------------------------------------------------------ pieces, no QEMU needed
def test_initramfs_holds_busybox_init_and_modules(tmp_path):
    bb = tmp_path / "busybox"
    bb.write_bytes(b"\x7fELF fake")
    ko = tmp_path / "kmalloc_sweep.ko"
    ko.write_bytes(b"module bytes")
    arc = _read_newc(gzip.decompress(initramfs.build_initramfs([("kmalloc_sweep", ko, "step=4096")], busybox=bb)))
    assert arc["bin/busybox"][1] == b"\x7fELF fake"
    assert stat.S_ISLNK(arc["bin/sh"][0]) and arc["bin/sh"][1] == b"busybox"
    init = arc["init"][1].decode()
    assert init == initramfs.init_script() and stat.S_IMODE(arc["init"][0]) & 0o100
    assert "/dev/ttyS1" in init and "/sys/kernel/slab/*" in init and "poweroff -f" in init
    assert arc["modules/kmalloc_sweep.ko"][1] == b"module bytes"
    assert arc["kmemlib-modules"][1] == b"kmalloc_sweep step=4096\n"


def test_dump_round_trip_keeps_every_byte():
    files = {"proc/buddyinfo": "Node 0, zone      DMA      1 \n", "sys/kernel/slab/x/ctor": "",
             "proc/sys/vm/min_free_kbytes": "2727", "lab/dmesg-boot.txt": "a\n\nb\n"}
    assert dump.decode_dump(_encode_dump(files)) == files


@pytest.mark.parametrize("text", ["no markers at all", f"{initramfs.DUMP_BEGIN}\n!!!not base64\n{initramfs.DUMP_END}\n",
                                  f"{initramfs.DUMP_BEGIN}\nQUJD\n{initramfs.DUMP_END}\n"])
def test_broken_dump_is_a_lab_error(text):
    with pytest.raises(LabBootError, match="dump"):
        dump.decode_dump(text)


def test_slab_links_and_module_lines():
    ls = ("total 0\ndrwxr-xr-x    2 0   0    0 Nov 29 10:46 :0000024\n"
          "lrwxrwxrwx    1 0   0    0 Nov 29 10:46 TCP -> :A-0002432\n"
          "lrwxrwxrwx    1 0   0    0 Nov 29 10:46 fs_cache -> ../slab/:A-0000064\n")
    assert dump.slab_links(ls) == {"TCP": ":A-0002432", "fs_cache": ":A-0000064"}
    log = ("[    4.78] ksize_probe: loading out-of-tree module taints kernel.\n"
           "[    4.79] ksize_probe:    request    roundup      ksize  result\n"
           "[    4.80] ------------[ cut here ]------------\n[    4.81] ksize_probe: done\n")
    assert dump.module_lines("ksize_probe", log) == ["ksize_probe:    request    roundup      ksize  result",
                                                     "ksize_probe: done"]


def test_arguments_are_checked_before_anything_runs(tmp_path):
    assert lab.parse_mem("512M") == 512 and lab.parse_mem("2G") == 2048 and lab.parse_mem("2GiB") == 2048
    for bad in ("lots", "64M", "1T", True):
        with pytest.raises(LabError):
            lab.parse_mem(bad)
    assert lab.parse_module("kmalloc_sweep:step=262144") == ("kmalloc_sweep", "step=262144")
    for bad in ("rootkit", "kmalloc_sweep:step=1;reboot"):
        with pytest.raises(LabError):
            lab.parse_module(bad)
    for kw in ({"kernel": "5.10"}, {"cpus": 0}, {"cpus": 99}, {"cpus": "2"}, {"modules": ["ksize_probe"] * 2},
               {"timeout": 0}, {"crash_retries": -1}, {"crash_retries": True}):
        with pytest.raises(LabError):
            lab.run(**{"kernel": "6.12", **kw}, cache=tmp_path)
    assert not any(tmp_path.iterdir())        # nothing fetched, nothing written


def test_missing_tools_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LabToolMissingError, match="apt-get install qemu-system-x86"):
        qemu.boot(tmp_path / "vmlinuz", tmp_path / "initrd", tmp_path, cpus=1, mem_mib=512)
    with pytest.raises(LabToolMissingError, match="apt"):
        kernels.resolve_release("6.12")
    assert issubclass(LabToolMissingError, KmemError)


def test_release_resolution_picks_the_newest(tmp_path, monkeypatch):
    _fake_program(tmp_path, "apt-cache", 'case "$2" in\n'
                  ' linux-image-6.1.) printf "linux-image-6.1.0-9-amd64-unsigned\\nlinux-image-6.1.0-57-amd64-unsigned\\n'
                  'linux-image-6.1.0-57-cloud-amd64-unsigned\\nlinux-image-6.1.0-10-amd64\\n";;\n'
                  ' linux-image-6.12.) printf "linux-image-6.12.9+deb12-amd64-unsigned\\n'
                  'linux-image-6.12.117+deb12-amd64-unsigned\\n";;\nesac\n')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert kernels.resolve_release("6.1") == "6.1.0-57-amd64"
    assert kernels.resolve_release("6.12") == "6.12.117+deb12-amd64"


def test_a_package_that_cannot_be_fetched(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _fake_program(bindir, "apt-cache", 'echo linux-image-6.12.1+deb12-amd64-unsigned\n')
    _fake_program(bindir, "apt-get", 'echo "E: Unable to locate package $3" >&2\nexit 100\n')
    _fake_program(bindir, "dpkg-deb", "exit 0\n")
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    with pytest.raises(LabFetchError, match="Unable to locate package"):
        kernels.fetch_kernel("6.12", cache=tmp_path / "cache")


def test_a_boot_that_times_out(tmp_path, monkeypatch):
    _fake_program(tmp_path, "qemu-system-x86_64", "sleep 30\n")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    t0 = time.monotonic()
    with pytest.raises(LabBootTimeoutError, match="did not power off within 1 s"):
        qemu.boot(tmp_path / "vmlinuz", tmp_path / "initrd", tmp_path / "w", cpus=1, mem_mib=512, timeout=1)
    assert time.monotonic() - t0 < 10


def test_a_qemu_that_stops_without_a_dump(tmp_path, monkeypatch):
    _fake_program(tmp_path, "qemu-system-x86_64", 'echo "qemu: could not load kernel" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(LabBootError, match="could not load kernel"):
        qemu.boot(tmp_path / "vmlinuz", tmp_path / "initrd", tmp_path / "w", cpus=1, mem_mib=512, timeout=30)


PANIC_CONSOLE = ("[    1.697365] CR2: 0000000000000000 CR3: 0000000043622000 CR4: 0000000000751ef0\n"
                 "[    1.697469] Kernel panic - not syncing: Fatal exception in interrupt\n")


def test_a_guest_that_panics_is_named(tmp_path, monkeypatch):
    # the fake QEMU writes a panic to the console (the first "-serial file:" argument) and powers off
    _fake_program(tmp_path, "qemu-system-x86_64",
                  'c=""\nfor a in "$@"; do case "$a" in file:*) [ -z "$c" ] && c="${a#file:}";; esac; done\n'
                  f"printf '{PANIC_CONSOLE}' > \"$c\"\n")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(LabGuestCrashError, match="Kernel panic - not syncing: Fatal exception in interrupt"):
        qemu.boot(tmp_path / "vmlinuz", tmp_path / "initrd", tmp_path / "w", cpus=4, mem_mib=2048, timeout=30)
    assert qemu.guest_crash("[    0.1] Oops: 0000 [#1] SMP\n") == "Oops: 0000 [#1] SMP"
    assert qemu.guest_crash("[    0.1] a driver said: no BUG: here is fine\n") == ""


def _run_with_boots(tmp_path, monkeypatch, outcomes, crash_retries, retries=0, consistent=(True,)):
    """lab.run with the kernel fetch, the initramfs and the boots replaced: ``outcomes`` are what each boot does."""
    import importlib
    from types import SimpleNamespace

    lab_run = importlib.import_module("kmemlib.lab.run")   # the module (kmemlib.lab.run is also the function)

    boots, written = [], {}

    def fake_boot(vmlinuz, initrd, workdir, **kw):
        boots.append(kw["cpus"])
        outcome = outcomes[len(boots) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return qemu.Boot(console="", dump=outcome, seconds=1.0)

    monkeypatch.setattr(lab_run, "fetch_kernel", lambda *a, **k: SimpleNamespace(
        vmlinuz=tmp_path / "vmlinuz", release="6.12.0-test-amd64"))
    monkeypatch.setattr(lab_run, "write_initramfs", lambda path, built: path)
    monkeypatch.setattr(lab_run, "boot", fake_boot)
    reads = iter(consistent)
    monkeypatch.setattr(dump, "free_lists_consistent", lambda files: next(reads))
    monkeypatch.setattr(dump, "write_snapshot", lambda files, dest, meta: written.update(meta=meta, files=files))
    result = lab.run("6.12", cpus=4, mem="2G", out=tmp_path / "out", cache=tmp_path / "cache", retries=retries,
                     crash_retries=crash_retries)
    return result, boots, written


def test_a_guest_crash_under_emulation_is_booted_again(tmp_path, monkeypatch):
    crash = LabGuestCrashError("vmlinuz with 4 CPUs: the guest kernel crashed after 5.8 s (Kernel panic - ...)")
    good = _encode_dump({"proc/buddyinfo": "Node 0, zone      DMA      1 \n"})
    # retries=0 (the end-to-end test's setting) is about inconsistent reads; crashes have their own count
    result, boots, written = _run_with_boots(tmp_path, monkeypatch, [crash, good], crash_retries=2, retries=0)
    assert boots == [4, 4] and result.cpus == 4
    assert written["meta"]["guest_crashes_before"] == [str(crash)]
    assert written["files"] == {"proc/buddyinfo": "Node 0, zone      DMA      1 \n"}


def test_inconsistent_reads_and_crashes_are_counted_apart(tmp_path, monkeypatch):
    crash = LabGuestCrashError("the guest kernel crashed (BUG: unable to handle page fault)")
    good = _encode_dump({"proc/buddyinfo": "Node 0, zone      DMA      1 \n"})
    _, boots, written = _run_with_boots(tmp_path, monkeypatch, [crash, good, good], crash_retries=1, retries=1,
                                        consistent=(False, True))
    assert len(boots) == 3 and written["meta"]["free_lists_consistent"] is True
    _, boots, written = _run_with_boots(tmp_path / "b", monkeypatch, [good, good], crash_retries=0, retries=1,
                                        consistent=(False, False))
    assert len(boots) == 2 and written["meta"]["free_lists_consistent"] is False   # kept after the last retry


def test_a_guest_that_crashes_every_time_fails_the_run(tmp_path, monkeypatch):
    crash = LabGuestCrashError("the guest kernel crashed (Oops: 0000)")
    with pytest.raises(LabGuestCrashError, match="Oops"):
        _run_with_boots(tmp_path, monkeypatch, [crash, crash, crash], crash_retries=2)
    with pytest.raises(LabBootError, match="could not load"):     # not a crash: no second boot
        _run_with_boots(tmp_path, monkeypatch, [LabBootError("could not load kernel"), None], crash_retries=2)


def test_a_module_that_fails_to_build(tmp_path):
    if not (shutil.which("make") and shutil.which("gcc")):
        pytest.skip("make or gcc missing")
    root = tmp_path / "root"
    hdr = root / "usr/src/linux-headers-9.9-amd64"
    hdr.mkdir(parents=True)
    (hdr / "Makefile").write_text("modules:\n\t@echo 'kmalloc_sweep.c:1: error: no kernel here' >&2; exit 2\n")
    k = kernels.Kernel("6.12", "9.9-amd64", root)
    with pytest.raises(LabModuleBuildError, match="no kernel here"):
        modules.build_module("kmalloc_sweep", k, tmp_path / "work")
    with pytest.raises(LabModuleBuildError, match="known: kmalloc_sweep"):
        modules.build_module("nope", k, tmp_path / "work")


def test_shipped_modules_have_their_kbuild():
    names = lab.list_modules()
    assert names == ["kmalloc_sweep", "ksize_probe", "pages_exact_probe"]
    kbuild = (modules.modules_dir() / "Kbuild").read_text()
    assert all(f"{n}.o" in kbuild for n in names)


def test_predictions_follow_the_kernel_version():
    v61 = predict.ksize_probe_lines((4194305, 4300900), kernel_version="6.1")
    v612 = predict.ksize_probe_lines((4194305, 4300900), kernel_version="6.12")
    assert v61[2].split()[1:4] == ["4194305", "8388608", "-"]
    assert v612[2].split()[1:4] == ["4194305", "4194305", "-"]
    sweep = predict.kmalloc_sweep_lines()
    assert sweep[-1] == "kmalloc_sweep: done after 22 calls" and "NULL" in sweep[-2]


# ------------------------------------------------------------------ the shipped real-kernel snapshots
def test_real_kernel_snapshots_are_shipped():
    kernels_cpus = {(lab.read_lab_meta(snapshot_dir(n))["kernel"], lab.read_lab_meta(snapshot_dir(n))["cpus"])
                    for n in LAB_SNAPSHOTS}
    for k in ("6.1", "6.12"):
        assert len({c for kk, c in kernels_cpus if kk == k}) >= 2, f"{k}: need two CPU counts"
    for n in LAB_SNAPSHOTS:
        mods = sorted(p.stem for p in (snapshot_dir(n) / "module").glob("*.txt"))
        assert mods == lab.list_modules(), n


@pytest.mark.parametrize("name", LAB_SNAPSHOTS)
def test_model_matches_each_real_kernel(name):
    cmp = lab.compare(name)
    assert cmp.ok, cmp.text(only_mismatches=True)
    sections = {c.section for c in cmp.checks}
    assert {"watermarks and lowmem_reserve", "module kmalloc_sweep", "module ksize_probe",
            "module pages_exact_probe"} <= sections
    assert cmp.slab.total >= 140
    # the only differences allowed are the per-CPU list ones, and they are named
    assert all(c.note == lab.PCP_NOTE for c in cmp.checks if not c.match)


@pytest.mark.parametrize("name", LAB_SNAPSHOTS)
def test_cli_compares_every_shipped_real_kernel(name, capsys):
    assert cli_main(["snapshot", "compare", "--snapshot", name]) == 0
    assert cli_main(["lab", "compare", name]) == 0
    out = capsys.readouterr().out
    assert "model and kernel agree" in out and "kmalloc_sweep" in out


def test_cli_lab_run_rejects_bad_input(capsys):
    assert cli_main(["lab", "run", "--kernel", "6.12", "--cpus", "0"]) == 1
    assert "--cpus" in capsys.readouterr().err
    assert cli_main(["lab", "run", "--kernel", "6.12", "--module", "rootkit"]) == 1
    assert "unknown module" in capsys.readouterr().err


# ------------------------------------------------------------------ end to end, under QEMU
def _lab_prerequisites() -> str | None:
    """What is missing for a real run, or None."""
    for prog, pkg in (("qemu-system-x86_64", "qemu-system-x86"), ("apt-get", "apt"), ("apt-cache", "apt"),
                      ("dpkg-deb", "dpkg"), ("make", "make"), ("x86_64-linux-gnu-gcc-12", "gcc-12"),
                      ("pahole", "dwarves")):
        if not shutil.which(prog):
            return f"{prog} (Debian package {pkg})"
    try:
        initramfs.find_busybox()
    except LabToolMissingError:
        return "a static busybox (Debian package busybox-static)"
    try:
        kernels.resolve_release("6.12")
    except LabError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def lab_ready():
    missing = _lab_prerequisites()
    if missing:
        if _in_ci():
            pytest.fail(f"CI=true and the kernel lab cannot run: missing {missing} (tools/ensure_lab.sh installs it)")
        pytest.skip(f"kernel lab skipped: missing {missing}; run tools/ensure_lab.sh as root to install it")


@pytest.mark.lab
@pytest.mark.slow
@pytest.mark.parametrize("kernel,cpus,mem", [("6.1", 1, "512M"), ("6.1", 4, "2G"),
                                              ("6.12", 1, "512M"), ("6.12", 4, "2G")])
def test_lab_end_to_end(lab_ready, kernel, cpus, mem, tmp_path):
    r = lab.run(kernel, cpus, mem, modules=lab.list_modules(), out=tmp_path / "run", timeout=600, retries=0)
    assert r.release.startswith(kernel + ".") and r.cpus == cpus
    cmp = lab.compare(r.path)
    assert cmp.ok, cmp.text(only_mismatches=True)
    assert cmp.slab.total >= 140 and cmp.slab.matched == cmp.slab.total
    assert len(cmp.section("module kmalloc_sweep")) >= 20


def test_book_tabs_show_every_shipped_kernel():
    from kmemlib.lab import html
    labels = [label for _n, label in html.shipped_kernels()]
    assert [lb.split(" ")[0] for lb in labels][:1] == ["6.1"] and {"6.1", "6.12", "6.18"} <= {
        lb.split(" ")[0] for lb in labels}
    page = html.module_output_html("kmalloc_sweep")
    assert page.count('type="radio"') == len(labels) and "checked" in page
    assert "kmem-diff" not in page.split("</style>", 2)[-1]          # every real line equals the prediction
    assert page.count("done after 22 calls") == 2 * len(LAB_SNAPSHOTS) + 1     # + the 6.18 prediction alone
    ks = html.module_output_html("ksize_probe")
    assert "8388608" in ks and "4300900" in ks
    check = html.model_check_html()
    assert check.count("model and kernel agree") == len(labels)


def test_kernel_tabs_switch_in_a_browser_without_javascript_of_ours(tmp_path):
    """The tabs are CSS only: clicking a kernel's label shows its panel and hides the others."""
    import headless  # tools/headless.py (conftest puts tools/ on sys.path)
    from kmemlib.lab import html
    binary = headless.find_browser()
    if binary is None:
        if _in_ci():
            pytest.fail("CI=true and no Chromium (tools/ensure_chromium.sh installs it)")
        pytest.skip("no Chromium: the tab test is skipped")
    page = tmp_path / "tabs.html"
    page.write_text("<!doctype html><html><body>" + html.module_output_html("kmalloc_sweep") + "</body></html>")
    probe = """(() => { const t = document.querySelector('.kmem-ktabs');
        const ps = [...t.querySelectorAll('.kmem-kpanel')];
        const vis = () => ps.map(p => getComputedStyle(p).display === 'block');
        const out = [vis()];
        t.querySelectorAll('label').forEach(l => { l.click(); out.push(vis()); });
        return JSON.stringify(out); })()"""
    import json
    with headless.Browser(binary) as b:
        s = b.open_tab(420, 900)
        b.load(s, page.as_uri())
        states = json.loads(b.evaluate(s, probe))
    n = len(html.shipped_kernels())
    assert states[0] == [i == 0 for i in range(n)]
    for k, state in enumerate(states[1:]):
        assert state == [i == k for i in range(n)]


def test_a_differing_module_line_is_marked_with_the_models_line():
    from kmemlib.lab import html
    out = html._marked(["a", "b <x>", "c"], ["a", "B", "c", "d"])
    lines = out.removeprefix("<pre>").removesuffix("</pre>").split("\n")
    assert lines[0] == "✓ a" and lines[1] == "✗ b &lt;x&gt;" and "model: B" in lines[2] and "kmem-diff" in lines[2]
    assert lines[3] == "✓ c" and "model: d" in lines[4]
