"""The shipped real-kernel runs as HTML for the book: one tab per kernel, the kernel's own output
beside the model's prediction. Plain HTML and CSS (radio-button tabs, no JavaScript), so the switch
works on the static site offline, in JupyterLab and on Colab, in light and dark themes."""

from __future__ import annotations

import hashlib
from html import escape

from ..readers.snapshots import list_snapshots, snapshot_dir
from ..readers.sysfs import read_present_cpus
from .compare import compare, kernel_of
from .dump import read_lab_meta
from .predict import KSIZE_PROBE_SIZES, kmalloc_sweep_lines, ksize_probe_lines, module_args


def shipped_kernels() -> list[tuple[str, str]]:
    """``(snapshot name, tab label)`` of every shipped snapshot of an idle kernel, oldest kernel first:
    the lab's Debian 6.1 and 6.12 runs and the 6.18 machine."""
    out = []
    for name in list_snapshots():
        root = snapshot_dir(name)
        meta = read_lab_meta(root)
        if not meta and name.endswith("-busy"):
            continue
        kernel = kernel_of(root, meta)
        cpus = meta["cpus"] if meta.get("cpus") else read_present_cpus(root)
        mib = meta.get("mem_mib")
        mem = "" if not mib else f", {mib // 1024} GiB" if mib % 1024 == 0 else f", {mib} MiB"
        label = f"{kernel} · {cpus} CPU{'s' if cpus != 1 else ''}{mem}"
        out.append((name, label))
    return sorted(out, key=lambda t: (tuple(int(x) for x in kernel_of(snapshot_dir(t[0])).split(".")), t[0]))


_CSS = """<style>
.kmem-ktabs{margin:.6em 0 1em}
.kmem-ktabs>input{position:absolute;opacity:0;pointer-events:none}
.kmem-ktabs>label{display:inline-block;padding:.25em .7em;margin:0 .25em .25em 0;border:1px solid rgba(127,127,127,.6);
 border-radius:.3em;cursor:pointer;font-size:.9em}
.kmem-ktabs>input:checked+label{background:rgba(66,133,244,.25);border-color:rgba(66,133,244,.9);font-weight:600}
.kmem-ktabs>input:focus-visible+label{outline:2px solid rgba(66,133,244,.9)}
.kmem-ktabs>.kmem-kpanel{display:none;border-top:1px solid rgba(127,127,127,.4);padding-top:.4em}
.kmem-kcols{display:flex;flex-wrap:wrap;gap:.8em}
.kmem-kcols>div{flex:1 1 22em;min-width:0}
.kmem-ktabs pre,.kmem-ktabs code{color:inherit;background:transparent}
.kmem-kcols pre{overflow-x:auto;white-space:pre;font-size:.78em;line-height:1.35;margin:.2em 0;padding:.4em;
 background:rgba(127,127,127,.08);border:1px solid rgba(127,127,127,.3)}
.kmem-kcols .kmem-diff{background:rgba(234,67,53,.25)}
.kmem-knote{font-size:.85em;opacity:.85;margin:.2em 0}
.kmem-kcols summary{cursor:pointer;font-size:.9em}
</style>"""


def tabs_html(panels: list[tuple[str, str]], group: str) -> str:
    """Radio-button tabs: ``panels`` is ``[(label, inner HTML)]``; the first one is shown."""
    gid = "kt" + hashlib.sha1(group.encode()).hexdigest()[:8]
    parts, rules = [], []
    for i, (label, _inner) in enumerate(panels):
        parts.append(f'<input type="radio" name="{gid}" id="{gid}-{i}"{" checked" if i == 0 else ""}>'
                     f'<label for="{gid}-{i}">{escape(label)}</label>')
        rules.append(f"#{gid}-{i}:checked~.kmem-kpanel-{i}")
    parts += [f'<div class="kmem-kpanel kmem-kpanel-{i}">{inner}</div>' for i, (_l, inner) in enumerate(panels)]
    show = f"<style>{','.join(rules)}{{display:block}}</style>"
    return f'{_CSS}{show}<div class="kmem-ktabs">{"".join(parts)}</div>'


def _pre(lines: list[str]) -> str:
    return "<pre>" + "\n".join(escape(ln) for ln in lines) + "</pre>"


def _marked(real: list[str], pred: list[str]) -> str:
    """The kernel's lines, each marked ✓ where the model predicted exactly that line; a line that differs is
    marked ✗ and followed by the model's line, highlighted."""
    rows = []
    for i in range(max(len(real), len(pred))):
        r = real[i] if i < len(real) else None
        m = pred[i] if i < len(pred) else None
        if r == m:
            rows.append(f"✓ {escape(r)}")
            continue
        if r is not None:
            rows.append(f"✗ {escape(r)}")
        rows.append(f'<span class="kmem-diff">  model: {escape(m) if m is not None else "(no line)"}</span>')
    return "<pre>" + "\n".join(rows) + "</pre>"


def _prediction(module: str, kernel: str, args: dict[str, str]) -> list[str]:
    if module == "kmalloc_sweep":
        return kmalloc_sweep_lines(int(args.get("step", 200 * 1024)), int(args.get("start", 0)))
    if module == "ksize_probe":
        sizes = tuple(int(s) for s in args["sizes"].split(",")) if "sizes" in args else KSIZE_PROBE_SIZES
        return ksize_probe_lines(sizes, kernel_version=kernel)
    raise ValueError(f"no line-by-line prediction for {module!r}")


def module_output_html(module: str = "kmalloc_sweep") -> str:
    """One tab per shipped kernel: what ``module`` printed there (``module/<name>.txt``, no timestamps),
    each line marked with whether kmemlib predicted exactly it for that kernel version (a differing line is
    followed by the model's), and the prediction on its own in a fold."""
    panels = []
    for name, label in shipped_kernels():
        root = snapshot_dir(name)
        meta = read_lab_meta(root)
        kernel = kernel_of(root, meta)
        path = root / "module" / f"{module}.txt"
        args = module_args(meta.get("modules", {}).get(module, {}).get("args", ""))
        pred = [ln.split(": ", 1)[-1] for ln in _prediction(module, kernel, args)]
        if path.is_file():
            real = [ln.split(": ", 1)[-1] for ln in path.read_text().splitlines()]
            same = sum(r == m for r, m in zip(real, pred)) if len(real) == len(pred) else None
            verdict = (f"all {len(real)} lines exactly as kmemlib predicts for {escape(kernel)} (✓)"
                       if same == len(real) else "lines marked ✗ differ from kmemlib's prediction")
            head = (f'<p class="kmem-knote">{escape(meta.get("release", kernel))} booted under QEMU with '
                    f'{meta.get("cpus")} CPU(s) and {meta.get("mem_mib")} MiB (<code>kmemlib lab</code>, snapshot '
                    f'<code>{escape(name)}</code>): {verdict}.</p>')
            cols = (f'<div><b>kernel log</b> (<code>dmesg</code>) beside the model{_marked(real, pred)}'
                    f'<details><summary>kmemlib\'s prediction for {escape(kernel)} on its own</summary>'
                    f'{_pre(pred)}</details></div>')
        else:
            head = (f'<p class="kmem-knote">No module was loaded on the {escape(kernel)} machine this snapshot '
                    f'(<code>{escape(name)}</code>) comes from; the model\'s prediction for {escape(kernel)}:</p>')
            cols = f'<div><b>kmemlib predicts</b> (kernel {escape(kernel)}){_pre(pred)}</div>'
        panels.append((label, head + f'<div class="kmem-kcols">{cols}</div>'))
    return tabs_html(panels, f"module-{module}")


def model_check_html() -> str:
    """One tab per shipped kernel: :func:`kmemlib.lab.compare`'s verdict per part (slab caches,
    watermarks, module lines), with every difference listed."""
    panels = []
    for name, label in shipped_kernels():
        cmp = compare(name)
        rows = [f"<tr><td>slab caches (slab_size, order, objects, align, ...)</td>"
                f"<td>{cmp.slab.matched}/{cmp.slab.total}</td></tr>"]
        for sec in dict.fromkeys(c.section for c in cmp.checks):
            chk = cmp.section(sec)
            ok = sum(c.match for c in chk)
            known = sum(c.explained for c in chk)
            rows.append(f"<tr><td>{escape(sec)}</td><td>{ok}/{len(chk)}"
                        f"{f' (+{known} per-CPU list)' if known else ''}</td></tr>")
        diffs = [c for c in cmp.checks if not c.match]
        notes = "".join(f"<li>{escape(c.section)}, {escape(c.what)}: model {escape(str(c.predicted))}, kernel "
                        f"{escape(str(c.actual))}{' — ' + escape(c.note) if c.note else ''}</li>" for c in diffs)
        where = (f"{escape(cmp.meta.get('release', ''))}, {cmp.meta.get('cpus')} CPU(s), {cmp.meta.get('mem_mib')} MiB "
                 "under QEMU" if cmp.meta else "the machine the book was written on")
        body = (f'<p class="kmem-knote">Kernel {escape(cmp.kernel)} ({where}), snapshot <code>{escape(name)}</code>: '
                f'{"model and kernel agree" if cmp.ok else "differences below"}.</p>'
                f'<table><thead><tr><th>compared</th><th>match</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
                + (f'<ul class="kmem-knote">{notes}</ul>' if notes else ""))
        panels.append((label, body))
    return tabs_html(panels, "model-check")


__all__ = ["shipped_kernels", "tabs_html", "module_output_html", "model_check_html"]
