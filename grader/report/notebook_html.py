"""The executed notebook as report artifacts: the .ipynb with a banner saying how the run ended, and
its HTML (nbconvert's lab template) with everything that came out of the kernel sanitised.

nbconvert's own sanitiser (``sanitize_html=True``) escapes ordinary tags such as ``<p>`` and
``<h1>``, which turns every markdown cell into visible markup; ours keeps the harmless structure
tags and drops scripts, event handlers and styles.
"""
from __future__ import annotations

import json
from html import escape

import bleach
import nbformat

SAFE_TAGS = sorted({*bleach.ALLOWED_TAGS, "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "div", "span",
                    "pre", "code", "img", "table", "thead", "tbody", "tr", "th", "td", "sub", "sup", "del", "s"})
SAFE_ATTRIBUTES = {"*": ["class", "id"], "a": ["href", "title"], "img": ["src", "alt", "width", "height"],
                   "th": ["colspan", "rowspan"], "td": ["colspan", "rowspan"]}
SAFE_PROTOCOLS = ["http", "https", "mailto", "data"]


def clean_html(element) -> str:
    text = element.decode() if isinstance(element, bytes) else str(element)
    return bleach.clean(text, tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES, protocols=SAFE_PROTOCOLS)


def banner(run) -> nbformat.NotebookNode:
    """A markdown cell for the top of the executed notebook: the parameters and how the run ended."""
    params = ", ".join(f"`{k} = {v!r}`" for k, v in run.parameters.items())
    text = f"**Executed by the grader** with {params}.\n\n"
    if run.status == "ok":
        text += f"It ran top to bottom in {run.duration_s:.0f} s."
    else:
        text += f"**The run did not finish.** {escape(run.message)}"
        if run.failing_cell:
            text += "\n\nThat cell's output below shows the error; the cells after it were not run."
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": ["grader-banner"]})


def write_artifacts(ctx, run) -> None:
    """Write ``notebookN_executed.ipynb`` and ``.html`` into the report folder, whatever happened."""
    shown = nbformat.from_dict(json.loads(json.dumps(run.executed if run.executed is not None else run.source)))
    shown.cells.insert(0, banner(run))
    ipynb = ctx.artifact(f"notebook{run.number}_executed.ipynb")
    nbformat.write(shown, str(ipynb))
    html = ctx.artifact(f"notebook{run.number}_executed.html")
    html.write_text(to_html(shown), encoding="utf-8")
    run.artifacts = [ctx.ref(html), ctx.ref(ipynb)]


def to_html(nb: nbformat.NotebookNode) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", sanitize_html=True)
    exporter.register_filter("clean_html", clean_html)
    try:
        body, _ = exporter.from_notebook_node(nb)
    except Exception as exc:  # noqa: BLE001 - a malformed output must not lose the report
        cells = "".join(f"<pre>{escape(str(c.get('source', '')))}</pre>" for c in nb.cells)
        body = (f"<!DOCTYPE html><html><body><p>nbconvert could not render this notebook: {escape(str(exc))}</p>"
                f"{cells}</body></html>")
    return body
