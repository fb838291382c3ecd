"""Issue 15: the readers accept exactly what the kernel writes.

Mutations are generated deterministically (random.Random with fixed seeds) from the shipped snapshot texts.
Mutations that the kernel can never produce must raise ParseError naming the file and line; arbitrary byte
damage must raise a KmemError or parse; nothing else (UnicodeDecodeError, RecursionError, MemoryError,
TypeError, IsADirectoryError, ...) may escape.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import pytest

from kmemlib.errors import KmemError, ParseError, SourceUnavailableError
from kmemlib.readers import procfs, sysfs
from kmemlib.readers.shipped import list_snapshots, snapshot_dir
from kmemlib.readers.snapshots import save_snapshot

SNAP = snapshot_dir()
PROC = {"buddyinfo": procfs.parse_buddyinfo, "pagetypeinfo": procfs.parse_pagetypeinfo,
        "zoneinfo": procfs.parse_zoneinfo, "slabinfo": sysfs.parse_slabinfo}
TEXT = {name: (SNAP / "proc" / name).read_text() for name in PROC}
NUM = re.compile(r"(?<![\w>-])[0-9]+(?![\w:])")

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
BAD_NUMBERS = [lambda t: "+" + t, lambda t: t + "_0", lambda t: t.translate(ARABIC), lambda t: str(1 << 64),
               lambda t: "1" + "0" * 30, lambda t: "0x" + t, lambda t: t + ".0", lambda t: "-" + str(int(t) + 1)]


def number_spans(text: str) -> list[tuple[int, int]]:
    """Spans of unsigned fields (numbers the kernel prints with %lu/%u) in the text."""
    spans = []
    for m in NUM.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line = text[line_start:text.find("\n", m.start())]
        if "protection" in line or line.startswith("              ") or "threshold" in line \
                or line.startswith("slabinfo") or "order" in line[:40] and "Free pages" in line:
            continue                     # signed fields / headers: not mutated here
        spans.append(m.span())
    return spans


def mutate_number(text: str, rng: random.Random, how) -> str:
    a, b = rng.choice(number_spans(text))
    return text[:a] + how(text[a:b]) + text[b:]


def assert_parse_error_names_file_and_line(parse, text: str, name: str):
    with pytest.raises(ParseError) as info:
        parse(text, f"/proc/{name}")
    assert re.search(rf"/proc/{name}:\d+", str(info.value)), str(info.value)


@pytest.mark.parametrize("name", sorted(PROC))
@pytest.mark.parametrize("kind", range(len(BAD_NUMBERS)))
def test_numbers_the_kernel_never_prints_are_rejected(name, kind):
    rng = random.Random(f"{name}-{kind}")
    for _ in range(25):
        assert_parse_error_names_file_and_line(PROC[name], mutate_number(TEXT[name], rng, BAD_NUMBERS[kind]), name)


@pytest.mark.parametrize("name", sorted(PROC))
def test_duplicated_rows_are_rejected(name):
    lines = TEXT[name].splitlines(keepends=True)
    rng = random.Random(name)
    rows = [i for i, line in enumerate(lines) if line.startswith("Node") or (name == "slabinfo" and i > 1)]
    for i in rng.sample(rows, min(10, len(rows))):
        j = i
        if name == "zoneinfo":          # a whole zone block
            j = next((k for k in range(i + 1, len(lines)) if lines[k].startswith("Node")), len(lines))
            dup = lines[:j] + lines[i:j] + lines[j:]
        else:
            dup = lines[:i + 1] + [lines[i]] + lines[i + 1:]
        assert_parse_error_names_file_and_line(PROC[name], "".join(dup), name)


@pytest.mark.parametrize("name", sorted(PROC))
def test_random_damage_never_crashes(name):
    rng = random.Random(name)
    text = TEXT[name]
    for _ in range(150):
        t = list(text)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(t))
            op = rng.randrange(4)
            if op == 0:
                t[i] = rng.choice("0123456789 -+_:\n\t>x٣\u00a0\x00")
            elif op == 1:
                del t[i]
            elif op == 2:
                t.insert(i, rng.choice("0123456789 \n"))
            else:
                t = t[:i]
        try:
            PROC[name]("".join(t), f"/proc/{name}")
        except KmemError:
            pass


def test_zoneinfo_order_rules():
    zi = TEXT["zoneinfo"]
    swapped = zi.replace("        min      42\n", "        min      99\n", 1)
    assert swapped != zi
    assert_parse_error_names_file_and_line(procfs.parse_zoneinfo, swapped, "zoneinfo")
    over = zi.replace("        managed  3840\n", "        managed  9999\n", 1)
    assert over != zi
    assert_parse_error_names_file_and_line(procfs.parse_zoneinfo, over, "zoneinfo")


def write_root(tmp_path: Path, **files: str | bytes) -> Path:
    root = tmp_path / "root"
    shutil.copytree(SNAP, root)
    for rel, content in files.items():
        p = root / rel.replace("__", "/")
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root


@pytest.mark.parametrize("name", ["buddyinfo", "pagetypeinfo", "zoneinfo"])
def test_truncated_files_are_rejected_by_the_model_builder(tmp_path, name):
    lines = TEXT[name].splitlines(keepends=True)
    root = write_root(tmp_path)
    for k in sorted(set(range(0, len(lines), max(1, len(lines) // 25))) | {1, len(lines) - 1}):
        (root / "proc" / name).write_text("".join(lines[:k]))
        with pytest.raises(ParseError):
            procfs.node_from_snapshot(root)


def test_pagetypeinfo_cut_after_its_header_is_not_an_empty_node(tmp_path):
    head = "".join(TEXT["pagetypeinfo"].splitlines(keepends=True)[:4])
    root = write_root(tmp_path, proc__pagetypeinfo=head)
    with pytest.raises(ParseError, match="pagetypeinfo"):
        procfs.node_from_snapshot(root)


def test_cma_rows_are_kept_and_counted_as_movable(tmp_path):
    text = TEXT["pagetypeinfo"]
    lines = text.splitlines(keepends=True)
    out = []
    for line in lines:
        if "type      Isolate" in line:          # a CMA row before each Isolate row; Normal's holds 2 order-0 blocks
            cma = line.replace("Isolate", "    CMA")
            if "Normal" in line:
                cma = cma.replace("      0      0      0", "      2      0      0", 1)
            out.append(cma)
        if line.startswith("Number of blocks type"):
            line = line.replace("  HighAtomic", "  HighAtomic          CMA")
        elif line.startswith("Node 0, zone") and "type" not in line:
            parts = line.rstrip("\n").split()
            line = line.rstrip(" \n").rsplit(" ", 1)[0].rstrip() + f" {0:12d} {int(parts[-1]):12d} \n"
        out.append(line)
    info = procfs.parse_pagetypeinfo("".join(out))
    assert "CMA" in info.type_names and any(r.type == "CMA" for r in info.free)
    root = write_root(tmp_path, proc__pagetypeinfo="".join(out))
    plain = procfs.node_from_snapshot(SNAP)
    with_cma = procfs.node_from_snapshot(root)
    for z0, z1 in zip(plain.zones, with_cma.zones):
        assert z1.free_pages_count() == z0.free_pages_count() + (2 if z0.name == "Normal" else 0)


def test_huge_spanned_is_a_parse_error_not_memory_error(tmp_path):
    zi = TEXT["zoneinfo"].replace("        spanned  5505024\n", f"        spanned  {10 ** 12}\n", 1)
    assert zi != TEXT["zoneinfo"]
    root = write_root(tmp_path, proc__zoneinfo=zi)
    with pytest.raises(ParseError, match="more than the model handles"):
        procfs.node_from_snapshot(root)


@pytest.mark.parametrize("rel", ["proc/buddyinfo", "proc/zoneinfo", "proc/pagetypeinfo", "proc/slabinfo",
                                 "sys/kernel/slab.json", "sys/devices/system/cpu/present"])
def test_files_that_are_not_text_or_not_files(tmp_path, rel):
    root = write_root(tmp_path)
    p = root / rel
    readers = [lambda: procfs.node_from_snapshot(root), lambda: sysfs.compare_live(root)]
    damage = [lambda: p.write_bytes(b"\xff\xfe\x00 binary"), lambda: (p.unlink(), p.mkdir()),
              lambda: (p.rmdir(), os.symlink(p.name, p))]          # not UTF-8, a directory, a symlink loop
    for make in damage:
        make()
        for read in readers:
            try:
                read()
            except KmemError as exc:
                assert str(p) in str(exc) or rel.endswith("slab.json") or "slab" in str(exc), str(exc)


def test_binary_file_error_names_the_file(tmp_path):
    root = write_root(tmp_path, proc__buddyinfo=b"Node 0, zone \xff\n")
    with pytest.raises(ParseError, match=r"buddyinfo:1: not text"):
        procfs.read_buddyinfo(root)


def slab_json(**change):
    data = json.loads((SNAP / sysfs.SLAB_JSON).read_text())
    data.update(change)
    return json.dumps(data)


@pytest.mark.parametrize("content", [
    "[" * 100000 + "]" * 100000,                                  # nested too deeply
    slab_json(links={"a": [1]}),                                  # list-valued link
    slab_json(links={"a": "no-such-cache"}),
    slab_json(caches={":abc": {"object_size": "8\n"}}),           # not a create_unique_id name
    slab_json(caches={"x y": {"object_size": "8\n"}}),
    slab_json(caches={"x": {"object_size": 8}}),
    slab_json(caches={"x": {"object_size": "٣\n", "slab_size": "8\n", "align": "8\n", "order": "0\n",
                            "objs_per_slab": "512\n"}}),
    "[1, 2]", "null", "{", "",
])
def test_malformed_slab_json_is_a_parse_error(tmp_path, content):
    root = write_root(tmp_path)
    (root / sysfs.SLAB_JSON).write_text(content)
    with pytest.raises(ParseError):
        sysfs.read_sysfs_slab(root)


@pytest.mark.parametrize("text", ["0-4294967295", "0-8192", "٠-1", "+1", "1_0", "3-1", "0,0", "a", "0-", "-1"])
def test_bad_cpulists(text):
    with pytest.raises(ParseError):
        sysfs.parse_cpulist(text, "present")


def test_good_cpulists():
    assert sysfs.parse_cpulist("0-1,4,6-7\n") == [0, 1, 4, 6, 7]
    assert sysfs.parse_cpulist("") == []


def test_save_snapshot_touches_nothing_on_failure(tmp_path):
    bad = write_root(tmp_path, proc__zoneinfo="Node 0, zone      DMA\n")
    for dest in (tmp_path / "out", tmp_path / "new" / "deeper" / "out"):
        with pytest.raises(ParseError):
            save_snapshot(dest, bad)
        assert not dest.exists() and not (tmp_path / "new").exists()
    # the slab files fail last: still nothing left behind
    broken = write_root(tmp_path / "b", proc__slabinfo="slabinfo - version: 2.1\n")
    (broken / "sys/devices/system/cpu/present").write_text("0-4294967295\n")
    with pytest.raises(KmemError):
        save_snapshot(tmp_path / "out2", broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "root"]


def test_save_snapshot_is_complete_and_refuses_a_full_folder(tmp_path):
    out = tmp_path / "snap"
    counts = save_snapshot(out, SNAP)
    assert counts["files"] == 8
    assert procfs.node_from_snapshot(out).free_pages_count() == procfs.node_from_snapshot(SNAP).free_pages_count()
    assert [p.name for p in tmp_path.iterdir()] == ["snap"]          # no temporary sibling left
    with pytest.raises(KmemError, match="not empty"):
        save_snapshot(out, SNAP)
    empty = tmp_path / "empty"
    empty.mkdir()
    save_snapshot(empty, SNAP)


def test_shipped_snapshots_still_parse():
    for name in list_snapshots():
        root = snapshot_dir(name)
        assert procfs.node_from_snapshot(root).free_pages_count() > 0
        assert sysfs.compare_live(root).total > 0
    with pytest.raises(SourceUnavailableError, match="known"):
        snapshot_dir("../../etc")


# ---------------------------------------------------------------------- hypothesis: any text, any damage
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PARSERS = sorted(PROC.items()) + [("present", sysfs.parse_cpulist)]


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(PARSERS), st.one_of(st.text(max_size=200), st.binary(max_size=50), st.none(),
                                           st.integers(), st.lists(st.text(max_size=3), max_size=3)))
def test_parsers_take_any_value(parser, value):
    name, parse = parser
    try:
        parse(value, name)
    except KmemError:
        pass


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(PROC)), st.lists(st.tuples(st.integers(0, 10 ** 6), st.text(max_size=3)),
                                               min_size=1, max_size=4))
def test_parsers_survive_spliced_text(name, edits):
    text = TEXT[name]
    for pos, ins in edits:
        i = pos % (len(text) + 1)
        text = text[:i] + ins + text[i + len(ins) % 3:]
    try:
        PROC[name](text, f"/proc/{name}")
    except KmemError:
        pass
