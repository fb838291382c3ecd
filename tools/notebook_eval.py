"""Inline ``{eval}`` expressions in the book, and plain-Markdown copies of the notebooks for Colab and downloads.

The chapters put computed numbers into their prose with MyST's inline expressions, ``{eval}`expr` `` — the one
syntax that both the book build (myst-nb, ``execute_notebooks: inline``) and JupyterLab (jupyterlab-myst) render.
This Sphinx extension (``_config.yml`` → ``sphinx.local_extensions``) does three things (and one fix, 4):

1. **Evaluate in order.** myst-nb's inline executor runs a code cell only when the page reaches it, and never
   reaches cells tagged ``remove-cell``; an ``{eval}`` in the Markdown cell after such a cell would see a kernel
   that has not run it. Our ``eval`` role first runs every cell above its own Markdown cell, as JupyterLab's
   "Run All" does.
2. **Record** the text each expression rendered as, per page, in document order.
3. **Write plain notebooks.** Colab and a downloaded ``.ipynb`` opened in a front end without MyST would show
   ``{eval}`ex_order` `` as code. After the build every notebook page's ``_sources/<page>.ipynb`` (the file behind
   the page's download button) is replaced by a copy whose Markdown is plain: expressions replaced by the values
   the build computed, links to other chapters pointing at the published pages, ``{exercise}``/``{solution}`` and
   admonitions turned into Markdown/HTML that every notebook front end renders, code cells without stored outputs
   (the copy is meant to be run; the page shows the outputs). The Colab launch button opens that
   copy from the published site's branch (``kmem_pages_branch``, default ``gh-pages``).

4. **Whole printed lines.** The kernel sends a cell's stdout in chunks, cut wherever its flush timer fires, and
   myst-nb's ``coalesce_streams`` (``nb_merge_streams``) ends every chunk with a newline, so under load
   ``print("free pages:", n)`` can come out on two lines. :func:`join_stream_chunks` joins the chunks exactly as
   they were written before myst-nb sees them.

The published site's address (for the links in the plain copies) is ``html_baseurl`` when set, else derived from
``repository.url`` in ``_config.yml`` (``https://github.com/ORG/REPO`` → ``https://ORG.github.io/REPO/``).
"""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
_QUOTED = re.compile(r"^(['\"]).*\1$", re.S)
_REPR = re.compile(r"^<[\w.]+ object( at 0x[0-9a-f]+)?>$|^np\.\w+\(")

# MyST directives that may appear in a chapter's Markdown, and how the plain copy renders them.
ADMONITIONS = {"note": "Note", "warning": "Warning", "tip": "Tip", "important": "Important", "hint": "Hint",
               "caution": "Caution", "attention": "Attention", "danger": "Danger", "error": "Error",
               "seealso": "See also"}
_DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                        re.S | re.M)
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
_ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")


# ----------------------------------------------------------------------------------------------- the eval role
def _plain_text(data: dict[str, Any]) -> str:
    """The text a plain front end should show for an expression's MIME bundle."""
    if "text/markdown" in data:
        value = data["text/markdown"]
        return "".join(value) if isinstance(value, list) else value
    text = data.get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    if _QUOTED.match(text):
        try:
            return str(ast.literal_eval(text))
        except (SyntaxError, ValueError):
            return text[1:-1]
    return text


def _make_role():
    from myst_nb.core.variables import RetrievalError, render_variable_outputs
    from myst_nb.ext.eval import EvalRoleAny, eval_warning, retrieve_eval_data

    class InOrderEvalRole(EvalRoleAny):
        """myst-nb's ``eval`` role, run after every cell above it, recording what it rendered."""

        def run(self):
            renderer = self.document.get("nb_renderer")
            client = getattr(getattr(renderer, "renderer", None), "nb_client", None)
            if client is not None and hasattr(client, "_last_cell_executed"):
                # myst-nb numbers a notebook's source lines (cell index + 1) * 10000 + line
                cell_index = self.line // 10000 - 1
                if cell_index >= 0:
                    client.code_cell_outputs(cell_index)
            try:
                data = retrieve_eval_data(self.document, self.text)
            except RetrievalError as exc:
                return [], [eval_warning(f"{{eval}}`{self.text}`: {exc}", self.document, self.line)]
            for output in data:
                output.metadata["strip_text_quotes"] = True
            env = self.document.settings.env
            text = "".join(_plain_text(o.data) for o in data)
            env.kmem_eval.setdefault(env.docname, []).append((self.text, text))
            messages = []
            if _REPR.match(text) or not text.strip():
                # e.g. an empty Markdown(...) falls back to its text/plain repr "<IPython...Markdown object>"
                messages.append(eval_warning(f"{{eval}}`{self.text}` shows {text!r}", self.document, self.line))
            return render_variable_outputs(data, self.document, self.line, self.source, inline=True), messages

    return InOrderEvalRole()


# --------------------------------------------------------------------------------------------- stream chunks
def join_stream_chunks(outputs: list) -> list:
    """``outputs`` with every stream's chunks joined into its first chunk, text exactly as the kernel wrote it.

    myst-nb's ``coalesce_streams`` strips each chunk and appends a newline, which splits a line at a chunk
    boundary; after this it sees one chunk per stream and only tidies the end.
    """
    joined: list = []
    first: dict[str, Any] = {}
    for output in outputs:
        if output.get("output_type") == "stream":
            name = output.get("name")
            if name in first:
                first[name]["text"] += output.get("text", "")
                continue
            output = copy.deepcopy(output)
            first[name] = output
        joined.append(output)
    return joined


def _patch_coalesce_streams() -> None:
    from myst_nb.core import render

    original = getattr(render.coalesce_streams, "__wrapped__", render.coalesce_streams)

    def coalesce_streams(outputs):
        return original(join_stream_chunks(outputs))

    coalesce_streams.__wrapped__ = original
    render.coalesce_streams = coalesce_streams


# -------------------------------------------------------------------------------------- plain-Markdown copies
def site_url(config) -> str:
    """The published book's base URL, ending in '/'."""
    if config.html_baseurl:
        return config.html_baseurl.rstrip("/") + "/"
    repo = (config.html_theme_options or {}).get("repository_url", "")
    parts = urlsplit(repo)
    segs = [s for s in parts.path.split("/") if s]
    if parts.netloc == "github.com" and len(segs) >= 2:
        return f"https://{segs[0]}.github.io/{segs[1].removesuffix('.git')}/"
    return ""


def _substitute(text: str, values: dict[str, list[str]], where: str) -> str:
    def repl(m: re.Match) -> str:
        queue = values.get(m.group(1))
        if not queue:
            raise ValueError(f"{where}: no value recorded for {{eval}}`{m.group(1)}`")
        return queue.pop(0)

    return EVAL_ROLE.sub(repl, text)


def _options(body: str) -> tuple[dict[str, str], str]:
    lines = body.split("\n")
    opts = {}
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        key, _, value = lines.pop(0)[1:].partition(":")
        opts[key.strip()] = value.strip()
    return opts, "\n".join(lines).strip("\n")


def plain_markdown(text: str, state: dict, link) -> str:
    """MyST → Markdown every notebook front end renders (Colab, classic Jupyter, GitHub)."""

    def directive(m: re.Match) -> str:
        name, arg = m.group("name"), m.group("arg").strip()
        opts, body = _options(m.group("body"))
        body = plain_markdown(body, state, link)
        if name == "exercise":
            state["exercise"] += 1
            n = state["exercise"]
            if "label" in opts:
                state["labels"][opts["label"]] = n
            title = f"**Exercise {n}**" + (f" ({arg})" if arg else "")
            return f"{title}\n\n{body}"
        if name == "solution":
            n = state["labels"].get(arg, state["exercise"])
            inner = f"\n\n{body}\n\n"
            return f"<details>\n<summary><b>Solution to exercise {n}</b></summary>{inner}</details>"
        if name in ADMONITIONS or name == "admonition":
            title = arg if name == "admonition" else ADMONITIONS[name]
            quoted = "\n".join(f"> {ln}" if ln else ">" for ln in body.split("\n"))
            return f"> **{title}**\n>\n{quoted}"
        raise ValueError(f"directive {{{name}}} has no plain-Markdown form (tools/notebook_eval.py)")

    text = _DIRECTIVE.sub(directive, text)
    text = _LINK.sub(lambda m: f"[{m.group('text')}]({link(m.group('target'))})", text)
    return text


def plain_notebook(nb: dict, values: list[tuple[str, str]], docname: str, base_url: str, docnames: set[str],
                   where: str = "") -> dict:
    """A copy of ``nb`` whose Markdown cells are plain Markdown (see :func:`plain_markdown`)."""
    queues: dict[str, list[str]] = {}
    for expr, text in values:
        queues.setdefault(expr, []).append(text)
    here = PurePosixPath(docname).parent

    def link(target: str) -> str:
        if re.match(r"^[a-z]+:|^#|^/", target):
            return target
        path, _, anchor = target.partition("#")
        doc = str(PurePosixPath(*(here / path).parts)).removesuffix(".ipynb").removesuffix(".md")
        doc = _normalise(doc)
        if doc not in docnames:
            return target
        return f"{base_url}{doc}.html" + (f"#{anchor}" if anchor else "")

    out = copy.deepcopy(nb)
    out.get("metadata", {}).pop("widgets", None)
    state = {"exercise": 0, "labels": {}}
    for cell in out["cells"]:
        if cell["cell_type"] == "code":
            # a copy to run (Colab) or read after running: no stored outputs (the site shows them; some are MBs)
            cell["outputs"], cell["execution_count"] = [], None
            continue
        if cell["cell_type"] != "markdown":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        src = _substitute(src, queues, where or docname)
        cell["source"] = plain_markdown(src, state, link)
        cell.get("metadata", {}).pop("user_expressions", None)
    left = {k: v for k, v in queues.items() if v}
    if left:
        raise ValueError(f"{where or docname}: values recorded but not used: {sorted(left)}")
    return out


def _normalise(path: str) -> str:
    parts: list[str] = []
    for p in path.split("/"):
        if p == "..":
            if parts:
                parts.pop()
        elif p not in ("", "."):
            parts.append(p)
    return "/".join(parts)


def raw_myst(text: str) -> list[str]:
    """MyST roles and directives left in a text (what the plain copies and the pages must never show)."""
    found = _ROLE.findall(text)
    found += [m.group(0).split("\n")[0] for m in re.finditer(r"^(`{3,}|:{3,})\{[\w:-]+\}.*$", text, re.M)]
    return found


# ------------------------------------------------------------------------------------------------ Sphinx glue
def _env_before_read(app, env, docnames) -> None:
    if not hasattr(env, "kmem_eval"):
        env.kmem_eval = {}


def _purge(app, env, docname) -> None:
    getattr(env, "kmem_eval", {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    env.kmem_eval = getattr(env, "kmem_eval", {})
    env.kmem_eval.update({d: v for d, v in getattr(other, "kmem_eval", {}).items() if d in docnames})


def _colab_button(app, pagename, templatename, context, doctree) -> None:
    """Point the Colab launch button at the plain copy on the published site's branch."""
    branch = app.config.kmem_pages_branch
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("text") == "Colab":
                m = re.match(r"^(?P<pre>.*/github/[^/]+/[^/]+/blob/)[^/]+/", button["url"])
                if m:
                    button["url"] = f"{m.group('pre')}{branch}/_sources/{pagename}.ipynb"


def _write_plain_notebooks(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    env = app.env
    base = site_url(app.config)
    docnames = set(env.found_docs)
    count = 0
    for docname in sorted(env.found_docs):
        src = Path(env.doc2path(docname))
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        if src.suffix != ".ipynb" or not target.is_file():
            continue
        nb = json.loads(src.read_text(encoding="utf-8"))
        try:
            plain = plain_notebook(nb, getattr(env, "kmem_eval", {}).get(docname, []), docname, base, docnames,
                                   where=str(src))
        except ValueError as exc:
            logger.warning(f"plain notebook for {docname}: {exc}", location=docname)
            continue
        leaks = [r for c in plain["cells"] if c["cell_type"] == "markdown" for r in raw_myst("".join(c["source"]))]
        if leaks:
            logger.warning(f"plain notebook for {docname} still has MyST markup: {leaks[:5]}", location=docname)
        target.write_text(json.dumps(plain, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        count += 1
    logger.info(f"[notebook_eval] {count} plain-Markdown notebooks written to _sources/ (links to {base or '?'})")


def _check_install_cells(app) -> None:
    """The chapters' install cells must name the repository of ``_config.yml`` (tools/repository_url.py)."""
    from sphinx.util import logging

    import repository_url  # tools/repository_url.py, beside this file

    for path, lines in repository_url.stale(Path(app.srcdir)).items():
        logging.getLogger(__name__).warning(
            f"{path.name}: install cell {lines[0]!r} does not name "
            f"{repository_url.install_requirement(repository_url.repository_url(Path(app.srcdir)))!r} "
            "(repository.url in _config.yml): run python tools/repository_url.py")


def setup(app):
    """Sphinx entry point (``sphinx.local_extensions: {notebook_eval: tools}`` in ``_config.yml``)."""
    app.setup_extension("myst_nb")
    app.add_config_value("kmem_pages_branch", "gh-pages", "html")
    app.add_role("eval", _make_role(), override=True)
    _patch_coalesce_streams()
    app.connect("builder-inited", _check_install_cells)
    app.connect("env-before-read-docs", _env_before_read)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("html-page-context", _colab_button, priority=900)  # after sphinx-book-theme's launch buttons
    app.connect("build-finished", _write_plain_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
