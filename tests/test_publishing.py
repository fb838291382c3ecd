"""What publishes the book and runs it elsewhere: GitHub Pages workflow, Binder, the plain-Markdown notebooks.

The repository URL is one setting (``repository.url`` in ``_config.yml``); everything else follows from it.
"""

from __future__ import annotations

import re

import yaml

from conftest import ROOT

import notebook_eval  # tools/notebook_eval.py
import repository_url  # tools/repository_url.py


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_binder_environment_uses_the_books_pins():
    binder = _pins(ROOT / "binder" / "requirements.txt")
    main = _pins(ROOT / "requirements.txt")
    assert {"jupyterlab", "jupyterlab-myst", "ipywidgets", "matplotlib"} <= set(binder)
    assert {k: v for k, v in binder.items() if main.get(k) != v} == {}, "binder/requirements.txt pins differ"
    post = (ROOT / "binder" / "postBuild").read_text()
    assert f'".[{repository_url.EXTRA}]"' in post and (ROOT / "binder" / "postBuild").stat().st_mode & 0o111
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_pages_workflow_builds_with_make_book_and_publishes_the_branch_colab_opens():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "make book" in runs
    assert "_build/html" in runs and "gh-pages" in runs and ".nojekyll" in runs
    assert wf["permissions"]["contents"] == "write"
    assert wf[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key `on` as True


def test_site_url_follows_the_repository():
    class Config:
        html_baseurl = ""
        html_theme_options = {"repository_url": "https://github.com/someone/kmembook"}

    assert notebook_eval.site_url(Config) == "https://someone.github.io/kmembook/"
    Config.html_baseurl = "https://book.example.org/kmem"
    assert notebook_eval.site_url(Config) == "https://book.example.org/kmem/"


def test_install_requirement_follows_the_repository(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/someone/fork/\n")
    assert repository_url.repository_url(tmp_path) == "https://github.com/someone/fork"
    assert repository_url.install_requirement("https://github.com/someone/fork") == \
        "kmemlib[book] @ git+https://github.com/someone/fork"


def test_plain_markdown_of_exercises_links_and_admonitions():
    state = {"exercise": 0, "labels": {}}
    text = ("See [Order](02-order.ipynb#sawtooth).\n\n"
            "```{exercise} A buffer\n:label: ex-a\n\nHow many pages?\n```\n\n"
            "```{solution} ex-a\n:class: dropdown\n\nFive.\n```\n\n"
            ":::{warning}\nCareful.\n:::\n")
    out = notebook_eval.plain_markdown(text, state, lambda t: "https://x.org/" + t.replace(".ipynb", ".html"))
    assert "[Order](https://x.org/02-order.html#sawtooth)" in out
    assert "**Exercise 1** (A buffer)\n\nHow many pages?" in out
    assert "<details>\n<summary><b>Solution to exercise 1</b></summary>\n\nFive.\n\n</details>" in out
    assert "> **Warning**\n>\n> Careful." in out
    assert notebook_eval.raw_myst(out) == []
    assert notebook_eval.raw_myst(text)


def test_plain_notebook_puts_the_builds_values_in_order():
    nb = {"cells": [{"cell_type": "markdown", "metadata": {"user_expressions": []},
                     "source": "{eval}`a` then {eval}`b` then {eval}`a`"}], "metadata": {}}
    out = notebook_eval.plain_notebook(nb, [("a", "1"), ("b", "two"), ("a", "3")], "book/x", "https://s/", set())
    assert out["cells"][0]["source"] == "1 then two then 3"
    assert "user_expressions" not in out["cells"][0]["metadata"]
    assert nb["cells"][0]["source"].startswith("{eval}")  # the source notebook is not changed
