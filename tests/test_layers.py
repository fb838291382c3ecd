"""kmemlib's architecture stays what the folder listing shows: imports only go down, none in a circle.

Layers, bottom to top (README, "Architecture"):

    errors  <  mm  <  readers  <  lessons  <  homework, lab  <  cli  <  kmemlib/__init__ (the public names)

Every import counts, at module level or inside a function. A module may import its own layer's modules (same
package) and any layer below; never a layer above, never a sibling package of the same rank, never the ``kmemlib``
façade; and the whole graph has no cycle.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PKG_DIR = Path(__file__).resolve().parents[1] / "kmemlib"

LAYERS = {"errors": 0, "mm": 1, "readers": 2, "lessons": 3, "homework": 4, "lab": 4, "cli": 5}
FACADE = "kmemlib"
STDLIB_ONLY = ("mm", "readers")  # the kernel model and the kernel-text readers need nothing but Python


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG_DIR.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PKG_DIR.rglob("*.py") if "__pycache__" not in p.parts}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement in the file, at any depth."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:  # `from pkg import mod` imports the module pkg.mod
                sub = f"{target}.{a.name}"
                found.append((sub if sub in modules else target, node.lineno))
    return found


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, _ in imports_of(name, path, modules):
            if target == FACADE or target.startswith(FACADE + "."):
                edges[name].add(target)
    return edges


def layer_of(name: str) -> tuple[str, int]:
    if name == FACADE:
        return FACADE, 99
    top = name.split(".")[1]
    if top not in LAYERS:
        raise AssertionError(f"{name}: kmemlib/{top} is in no layer; add it to LAYERS and to the README")
    return top, LAYERS[top]


def test_every_module_is_in_a_layer():
    for name in all_modules():
        layer_of(name)


def test_imports_only_go_down():
    modules = all_modules()
    bad = []
    for name, path in modules.items():
        src_pkg, src_rank = layer_of(name)
        for target, line in imports_of(name, path, modules):
            if not (target == FACADE or target.startswith(FACADE + ".")):
                continue
            where = f"{path.relative_to(PKG_DIR.parent)}:{line}: {name} imports {target}"
            if target == FACADE:
                bad.append(where + " (the public façade is for users, not for kmemlib's own modules)")
                continue
            dst_pkg, dst_rank = layer_of(target)
            if dst_rank > src_rank or (dst_rank == src_rank and dst_pkg != src_pkg):
                bad.append(where + f" ({src_pkg} may not import {dst_pkg})")
    assert not bad, "imports that go up or sideways:\n" + "\n".join(bad)


def test_no_import_cycles():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # Tarjan, recursive (the graph is small)
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in edges:
                continue
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                cycles.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strongconnect(v)
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_kernel_model_and_readers_use_only_the_standard_library():
    modules = all_modules()
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    bad = []
    for name, path in modules.items():
        if layer_of(name)[0] not in STDLIB_ONLY:
            continue
        for target, line in imports_of(name, path, modules):
            root = target.split(".")[0]
            if root != FACADE and root not in stdlib:
                bad.append(f"{path.relative_to(PKG_DIR.parent)}:{line}: {target}")
    assert not bad, "third-party imports in the kernel model or the readers:\n" + "\n".join(bad)


@pytest.mark.parametrize("bad_src, expected", [
    ("from ..lessons import workloads\n", "mm may not import lessons"),
    ("def f():\n    from ..readers import procfs\n", "mm may not import readers"),
])
def test_the_rule_catches_upward_imports(tmp_path, monkeypatch, bad_src, expected):
    """The checker itself: an upward import in mm/ (also inside a function) is reported."""
    fake = tmp_path / "kmemlib"
    (fake / "mm").mkdir(parents=True)
    (fake / "lessons").mkdir()
    (fake / "readers").mkdir()
    for d in (fake, fake / "mm", fake / "lessons", fake / "readers"):
        (d / "__init__.py").write_text("")
    (fake / "lessons" / "workloads.py").write_text("")
    (fake / "readers" / "procfs.py").write_text("")
    (fake / "mm" / "bad.py").write_text(bad_src)
    monkeypatch.setattr(sys.modules[__name__], "PKG_DIR", fake)
    with pytest.raises(AssertionError, match=expected):
        test_imports_only_go_down()


def test_the_rule_catches_cycles(tmp_path, monkeypatch):
    fake = tmp_path / "kmemlib"
    (fake / "homework").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "homework" / "__init__.py").write_text("")
    (fake / "homework" / "a.py").write_text("def f():\n    from . import b\n")
    (fake / "homework" / "b.py").write_text("from .a import f\n")
    monkeypatch.setattr(sys.modules[__name__], "PKG_DIR", fake)
    with pytest.raises(AssertionError, match="kmemlib.homework.a <-> kmemlib.homework.b"):
        test_no_import_cycles()
