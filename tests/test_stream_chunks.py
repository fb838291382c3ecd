"""A line printed in one call reads as one line on the page, however the kernel cut the stream into chunks.

myst-nb's ``coalesce_streams`` ends every stdout chunk with a newline; the kernel cuts chunks wherever its flush
timer fires, so under load ``print("free pages:", n)`` came out on two lines in a build. ``tools/notebook_eval.py``
joins the chunks first (``join_stream_chunks``) and wraps myst-nb's function with it.
"""

from __future__ import annotations

import nbformat

import notebook_eval  # tools/notebook_eval.py


def _stream(text: str, name: str = "stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_chunks_of_one_line_join_exactly():
    outputs = [_stream("free pages:"), _stream(" "), _stream("42\n"), _stream("largest order: 3\n")]
    (out,) = notebook_eval.join_stream_chunks(outputs)
    assert out["text"] == "free pages: 42\nlargest order: 3\n"
    assert outputs[0]["text"] == "free pages:"          # the notebook's own outputs are left alone


def test_streams_keep_their_names_and_other_outputs_their_place():
    image = nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})
    outputs = [_stream("a"), _stream("warn", "stderr"), image, _stream("b\n"), _stream("!\n", "stderr")]
    joined = notebook_eval.join_stream_chunks(outputs)
    assert [(o["output_type"], o.get("name"), o.get("text")) for o in joined] == [
        ("stream", "stdout", "ab\n"), ("stream", "stderr", "warn!\n"), ("display_data", None, None)]


def test_myst_nb_renders_through_the_join():
    from myst_nb.core import render

    notebook_eval._patch_coalesce_streams()
    notebook_eval._patch_coalesce_streams()                 # twice (a second Sphinx app) wraps once
    assert render.coalesce_streams.__wrapped__.__module__ == "myst_nb.core.utils"
    (out,) = render.coalesce_streams([_stream("free pages:"), _stream(" 42\n")])
    assert out["text"] == "free pages: 42\n"
