"""One widget definition, two front ends: a live kernel, and the static site with no Python behind it.

A widget of the book is a few controls with *finite* domains (selection sliders, drop-downs, check boxes, a step
slider over a recorded sequence) and one or more *parts* of output, each a plain function of some of the controls
that returns HTML (or a matplotlib figure, or text it prints). :func:`explorer` builds it:

* in a running kernel (JupyterLab, Colab, Binder) every control change calls the parts' functions again, for any
  value the controls can take — including a free number box, which has no finite domain;
* when the book is built (the Sphinx extension ``tools/kmem_static_widgets.py`` sets :data:`STATIC_ENV` for the
  kernels it starts), each part is also evaluated over the product of its controls' domains and the results are
  stored in the widget state the page embeds, in a small :class:`Pick` model. The page's ``kmem-widgets.js``
  (``book/_static``) gives that model its JavaScript: it listens to the controls and shows the stored output for
  their current values, with no kernel anywhere. A free number box snaps to the nearest stored value and says so.

Controls that cannot be static (allocate or free an arbitrary block) are passed as ``live_only``: on the static
page they are disabled and a note says how to run the page live.
"""

from __future__ import annotations

import contextlib
import html
import io
import itertools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import ipywidgets as widgets
from traitlets import Instance, Int, List, Unicode

from ...errors import KmemError

STATIC_ENV = "KMEMBOOK_STATIC_WIDGETS"
"""Environment variable: ``1`` while the book is built (set by ``tools/kmem_static_widgets.py``)."""
MAX_COMBINATIONS = 20000
"""Largest domain product one part may have (the page-size budget is checked by the browser test)."""
LIVE_HINT = ("On this static page these controls are off: run the chapter live (the rocket icon at the top opens "
             "it on Binder or Colab, or open the notebook in JupyterLab) to use them.")


class WidgetArgumentError(KmemError, ValueError):
    """A widget function was called with a value its controls cannot show."""


def static_mode() -> bool:
    """True while the book is being built: widgets then precompute their outputs for the static page."""
    return os.environ.get(STATIC_ENV, "") == "1"


# --------------------------------------------------------------------------------------------- output as HTML
def figure_svg(fig) -> str:
    """A matplotlib figure as an inline ``<svg>`` (text kept as text, deterministic ids); the figure is closed."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 - only widgets with figures need it

    buf = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "kmembook"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    # scale with the page: width 100 % of the column, height from the viewBox
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 style="max-width:100%;height:auto"', svg,
                 count=1)
    return "<div class='kmem-figure'>" + svg + "</div>"


def text_html(text: str) -> str:
    """Plain text as a preformatted block."""
    return f"<pre class='kmem-text'>{html.escape(text)}</pre>" if text else ""


def to_html(obj: object) -> str:
    """HTML for what a part returned: ``str`` is HTML already, a matplotlib figure becomes SVG, objects with
    ``_repr_html_`` use it, lists and tuples are concatenated, ``None`` is empty."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, (list, tuple)):
        return "".join(to_html(o) for o in obj)
    if hasattr(obj, "savefig"):
        return figure_svg(obj)
    if hasattr(obj, "_repr_html_"):
        return obj._repr_html_() or ""
    return text_html(str(obj))


def call_html(fn: Callable[..., object], kwargs: Mapping[str, object]) -> str:
    """Call ``fn(**kwargs)``; what it prints comes first (as text), then what it returns (:func:`to_html`)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(**kwargs)
    return text_html(out.getvalue().rstrip("\n")) + to_html(result)


# --------------------------------------------------------------------------------------------- controls
@dataclass(frozen=True)
class Part:
    """One piece of a widget's output: ``render(**{name: value for name in args}, **fixed)``."""

    render: Callable[..., object]
    args: tuple[str, ...]
    fixed: Mapping[str, object] = field(default_factory=dict)

    def html(self, values: Mapping[str, object]) -> str:
        return call_html(self.render, {**{a: values[a] for a in self.args}, **self.fixed})


def _options_values(control: widgets.Widget) -> list:
    return list(control._options_values)


def control_domain(name: str, control: widgets.Widget, values: Sequence | None = None) -> tuple[str, list, bool]:
    """The static domain of one control as (attribute the page watches, values in order, snaps): selection
    widgets → their options (watched by ``index``), check boxes → ``[False, True]``, integer sliders → every
    step, number boxes → ``values`` (a typed value snaps to the nearest)."""
    if isinstance(control, widgets.widget_selection._Selection):
        return "index", _options_values(control), False
    if isinstance(control, (widgets.Checkbox, widgets.ToggleButton)):
        return "value", [False, True], False
    if values is not None:
        return "value", list(values), not isinstance(control, (widgets.IntSlider, widgets.FloatSlider))
    if isinstance(control, widgets.IntSlider):
        return "value", list(range(control.min, control.max + 1, control.step)), False
    raise WidgetArgumentError(f"control {name!r} ({type(control).__name__}) needs a finite list of static values")


class Pick(widgets.Widget):
    """The static page's link from controls to stored outputs (JavaScript: ``book/_static/kmem-widgets.js``).

    ``parts[i]`` = ``{"args": [control indices], "table": [output id for each combination, first argument most
    significant], "outputs": [ids]}``; an output's HTML is its pieces (``tokens``) joined, its ids a string of
    ``id_width`` digits of :data:`ID_DIGITS` per piece. ``render`` names each part's
    function (``module:qualname``) and ``fixed`` its fixed arguments, so that the browser test can call it."""

    _model_name = Unicode("PickModel").tag(sync=True)
    _model_module = Unicode("kmem-widgets").tag(sync=True)
    _model_module_version = Unicode("1.0.0").tag(sync=True)
    controls = List(Instance(widgets.Widget)).tag(sync=True, **widgets.widget_serialization)
    names = List(Unicode()).tag(sync=True)
    attrs = List(Unicode()).tag(sync=True)
    domains = List().tag(sync=True)
    snap = List().tag(sync=True)
    targets = List(Instance(widgets.Widget)).tag(sync=True, **widgets.widget_serialization)
    note = Instance(widgets.Widget, allow_none=True).tag(sync=True, **widgets.widget_serialization)
    tokens = List(Unicode()).tag(sync=True)
    parts = List().tag(sync=True)
    render = List().tag(sync=True)
    follow = List().tag(sync=True)
    bounds = List().tag(sync=True)
    extra = List(Instance(widgets.Widget)).tag(sync=True, **widgets.widget_serialization)
    id_width = Int(1).tag(sync=True)

    def output_html(self, part: int, combination: int) -> str:
        """The stored HTML of ``parts[part]`` for the ``combination``-th tuple of its controls' values (first
        argument most significant), decoded as the page's JavaScript does."""
        p = self.parts[part]
        code = p["outputs"][p["table"][combination]]
        w, base = self.id_width, len(ID_DIGITS)
        ids = []
        for k in range(0, len(code), w):
            n = 0
            for ch in code[k:k + w]:
                n = n * base + ID_DIGITS.index(ch)
            ids.append(n)
        return "".join(self.tokens[i] for i in ids)


_TOKEN = re.compile(r"(?=<(?:tr|rect|text|line|li|p|pre|div|table|/table|svg|/svg|ul|/ul|path|g|/g|use)\b)")
"""Outputs are stored as lists of shared pieces, cut before these elements (rows, shapes, paragraphs)."""


ID_DIGITS = "".join(chr(c) for c in range(0x23, 0x7F) if chr(c) not in "\\<>")
"""Digits of a stored output's piece ids (printable, nothing JSON or a <script> would need to escape)."""


def _id_width(n_tokens: int) -> int:
    width = 1
    while len(ID_DIGITS) ** width < n_tokens:
        width += 1
    return width


def _encode(ids: list[int], width: int) -> str:
    base = len(ID_DIGITS)
    out = []
    for i in ids:
        digits = []
        for _ in range(width):
            i, d = divmod(i, base)
            digits.append(ID_DIGITS[d])
        out.append("".join(reversed(digits)))
    return "".join(out)


def _tokenise(html_text: str, index: dict[str, int], tokens: list[str]) -> list[int]:
    ids = []
    for tok in _TOKEN.split(html_text):
        if not tok:
            continue
        if tok not in index:
            index[tok] = len(tokens)
            tokens.append(tok)
        ids.append(index[tok])
    return ids


def _jsonable(v: object) -> object:
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    return v


def _qualname(fn: Callable) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


@dataclass
class Follow:
    """On the static page and live: when control ``source`` changes, control ``target`` takes its value."""

    source: str
    target: str


@dataclass
class Bound:
    """The ``max`` of ``targets`` (a step slider and its play button) depends on control ``source``:
    ``maxes[i]`` for the source's i-th value; on a change the step goes to that max."""

    source: str
    targets: tuple[widgets.Widget, ...]
    maxes: Sequence[int]


def explorer(controls: Mapping[str, widgets.Widget], parts: Sequence[Part], *,
             layout: Sequence[Sequence[str | widgets.Widget]] | None = None,
             static_values: Mapping[str, Sequence] | None = None,
             follow: Sequence[Follow] = (), bounds: Sequence[Bound] = (),
             live_only: Sequence[widgets.Widget] = (),
             static: bool | None = None, manual: bool = False) -> widgets.VBox:
    """A widget: ``controls`` (name → control) above one HTML output per part.

    ``layout`` gives the rows of controls (names or other widgets, e.g. buttons); default: one row each.
    ``static_values`` gives the stored values of number boxes. ``static`` (default :func:`static_mode`) also
    stores every part's output over its controls' domains for the static page. With ``manual`` a live widget
    redraws only when its owner calls ``box.kmem_refresh()``."""
    static = static_mode() if static is None else static
    static_values = dict(static_values or {})
    names = list(controls)
    for p in parts:
        for a in p.args:
            if a not in controls:
                raise WidgetArgumentError(f"part {p.render.__name__} reads unknown control {a!r}")
    targets = [widgets.HTML(layout=widgets.Layout(width="100%")) for _ in parts]
    for t in targets:
        t.add_class("kmem-out")
    note = widgets.HTML()
    note.add_class("kmem-note")

    def values() -> dict[str, object]:
        return {n: c.value for n, c in controls.items()}

    def refresh(names_changed: set[str] | None = None) -> None:
        vals = values()
        for p, t in zip(parts, targets):
            if names_changed is None or names_changed & set(p.args):
                t.value = p.html(vals)

    for f in follow:
        src, dst = controls[f.source], controls[f.target]
        src.observe(lambda ch, dst=dst: setattr(dst, "value", ch["new"]), names="value")
    for b in bounds:
        src = controls[b.source]
        opts = _options_values(src) if isinstance(src, widgets.widget_selection._Selection) else None

        def on_bound(ch, b=b, opts=opts):
            i = opts.index(ch["new"]) if opts is not None else ch["new"]
            for t in b.targets:
                t.max = b.maxes[i]
            for t in b.targets:
                t.value = b.maxes[i]
        src.observe(on_bound, names="value")
    if not manual:
        for n, c in controls.items():
            c.observe(lambda ch, n=n: refresh({n}), names="value")
        refresh()

    rows = layout if layout is not None else [[n] for n in names]
    row_boxes = []
    for row in rows:
        items = [controls[x] if isinstance(x, str) else x for x in row]
        box = widgets.HBox(items, layout=widgets.Layout(flex_flow="row wrap"))
        row_boxes.append(box)
    children: list[widgets.Widget] = [*row_boxes, note, *targets]
    box = widgets.VBox(children)
    box.add_class("kmem-explorer")
    box.kmem_refresh = refresh
    if not static:
        return box

    for w in live_only:
        w.disabled = True
        if hasattr(w, "tooltip"):
            w.tooltip = "runs live only (open this chapter in JupyterLab, Binder or Colab)"
    if live_only:
        note.value = f"<span class='kmem-live-hint'>{html.escape(LIVE_HINT)}</span>"
    attrs, domains, snaps = [], [], []
    for n in names:
        attr, dom, snap = control_domain(n, controls[n], static_values.get(n))
        attrs.append(attr)
        domains.append(dom)
        snaps.append(snap)
    index: dict[str, int] = {}
    tokens: list[str] = []
    pick_parts, render = [], []
    for p in parts:
        arg_idx = [names.index(a) for a in p.args]
        doms = [domains[i] for i in arg_idx]
        total = 1
        for d in doms:
            total *= len(d)
        if total > MAX_COMBINATIONS:
            raise WidgetArgumentError(f"part {p.render.__name__}: {total} combinations (max {MAX_COMBINATIONS})")
        seen: dict[str, int] = {}
        outputs: list[list[int]] = []
        table: list[int] = []
        for combo in itertools.product(*doms):
            h = p.html(dict(zip(p.args, combo)))
            if h not in seen:
                seen[h] = len(outputs)
                outputs.append(_tokenise(h, index, tokens))
            table.append(seen[h])
        pick_parts.append({"args": arg_idx, "table": table, "outputs": outputs})
        render.append({"function": _qualname(p.render), "args": list(p.args),
                       "fixed": {k: _jsonable(v) for k, v in p.fixed.items()}})
    width = _id_width(len(tokens))
    for pp in pick_parts:
        pp["outputs"] = [_encode(ids, width) for ids in pp["outputs"]]
    extra_models: list[widgets.Widget] = []
    bound_state = []
    for b in bounds:
        bound_state.append({"source": names.index(b.source),
                            "targets": list(range(len(extra_models), len(extra_models) + len(b.targets))),
                            "maxes": list(b.maxes)})
        extra_models.extend(b.targets)
    pick = Pick(controls=[controls[n] for n in names], names=names, attrs=attrs,
                domains=[[_jsonable(v) for v in d] for d in domains], snap=snaps, targets=targets, note=note,
                tokens=tokens, parts=pick_parts, render=render,
                follow=[[names.index(f.source), names.index(f.target)] for f in follow],
                bounds=bound_state, extra=extra_models, id_width=width)
    box._kmem_pick = pick  # keep it referenced (its state is embedded with every other model's)
    box.add_class(f"kmem-pick-{pick.model_id}")  # lets the browser test find the widget of each Pick
    for n in names:
        controls[n].add_class(f"kmem-c-{n}")
    return box




def interact(fn: Callable[..., object], **controls: widgets.Widget) -> widgets.VBox:
    """Like ``ipywidgets.interactive(fn, name=control, ...)``, for controls with finite domains: live, ``fn`` runs
    on every change (what it prints and returns is shown); on the static site its outputs are stored."""
    return explorer(controls, [Part(fn, tuple(controls))])


__all__ = ["STATIC_ENV", "LIVE_HINT", "WidgetArgumentError", "static_mode", "figure_svg", "text_html", "to_html",
           "call_html", "Part", "Follow", "Bound", "Pick", "control_domain", "explorer", "interact"]
