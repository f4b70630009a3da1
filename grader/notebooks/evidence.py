"""What a notebook shows, read two ways: statically from the student's source (trusted to read,
parsed with ``ast``, never run here) and from the executed copy's outputs (untrusted, validated).

Checks combine both: a call found in the source counts as done only when the run's outputs (or
the probe's facts) confirm it, and outputs never count without the source that explains them.
"""
from __future__ import annotations

import ast
import math
import re

import nbformat

from grader.submission.sources import Cell, dotted, parse  # noqa: F401 - dotted: the checks' helper too

ANSWER_PREFIX = re.compile(r"^\s*\**\s*answer\s*\**\s*:?\s*\**\s*:?", re.IGNORECASE)
TEMPLATE_ANSWER = "write your answer here"
QUESTION = re.compile(r"^\s*#+\s*(question\s*(\d+)\b.*)$", re.IGNORECASE | re.MULTILINE)
NUMBER = r"([-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)"
LOSS_VALUE = re.compile(r"loss[^0-9+\-.\n]{0,20}" + NUMBER, re.IGNORECASE)
MAX_LOSS = 1e6


class CodeCell(Cell):
    """One code cell of the student's notebook (index 0-based, parsed source), with the questions the
    notebook checks ask of it."""

    def assigned_calls(self, target: str) -> list[ast.Call]:
        """Calls whose value is assigned to the name ``target`` (``criterion = nn.MSELoss()``)."""
        if self.tree is None:
            return []
        return [node.value for node in ast.walk(self.tree)
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and any(isinstance(t, ast.Name) and t.id == target for t in node.targets)]

    def uses_attribute(self, name: str) -> bool:
        return self.tree is not None and any(isinstance(n, ast.Attribute) and n.attr == name
                                             for n in ast.walk(self.tree))


def code_cells(nb: nbformat.NotebookNode) -> list[CodeCell]:
    return [CodeCell(index, cell.get("source", ""), parse(cell.get("source", "")))
            for index, cell in enumerate(nb.cells) if cell.get("cell_type") == "code"]


def images(cell: nbformat.NotebookNode | None) -> int:
    """How many pictures a cell displayed (matplotlib's inline figures are image/png outputs)."""
    if cell is None:
        return 0
    return sum(1 for o in cell.get("outputs", []) if isinstance(o.get("data"), dict)
               and any(kind in o["data"] for kind in ("image/png", "image/jpeg", "image/svg+xml")))


def displayed(cell: nbformat.NotebookNode | None) -> bool:
    """The cell showed a picture and finished without an error (a half-drawn figure does not count)."""
    return images(cell) > 0 and not any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def stdout(cell: nbformat.NotebookNode | None) -> str:
    if cell is None:
        return ""
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and isinstance(o.get("text"), str))


def loss_values(text: str) -> list[float]:
    """Numbers printed after the word "loss", kept only when finite and plausible."""
    values = []
    for match in LOSS_VALUE.finditer(text):
        try:
            value = float(match.group(1))
        except ValueError:
            continue
        if math.isfinite(value) and 0 <= value < MAX_LOSS:
            values.append(value)
    return values


def answers(nb: nbformat.NotebookNode) -> list[dict]:
    """[{number, question, answer}] for each "Question N" heading: the answer is the next markdown cell."""
    found = []
    cells = nb.cells
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        match = QUESTION.search(cell.get("source", ""))
        if not match:
            continue
        answer = ""
        following = next((c for c in cells[index + 1:] if c.get("cell_type") == "markdown"), None)
        if following is not None and not QUESTION.search(following.get("source", "")):
            answer = ANSWER_PREFIX.sub("", following.get("source", ""), count=1).strip()
        found.append({"number": int(match.group(2)), "question": match.group(1).strip(), "answer": answer})
    return found


def is_template(answer: str, min_words: int) -> bool:
    """True for an empty answer, the template's placeholder, or fewer than ``min_words`` words."""
    text = answer.strip().strip("*").strip()
    return not text or TEMPLATE_ANSWER in text.lower() or len(text.split()) < min_words


# -- the probe's facts, validated --------------------------------------------------------------------
def fact(facts: dict, *path, kind=None):
    """``facts[path...]`` when it exists and has type ``kind`` (bool is not an int here), else None."""
    value = facts
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    if kind is not None:
        if kind in (int, float) and isinstance(value, bool):
            return None
        if kind is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, kind):
            return None
    return value


def weights_entry(facts: dict, file: str) -> dict:
    """The probe's comparison of the kernel's ``net`` with ``file`` ({loaded, same_keys, equal}, all bools)."""
    entries = facts.get("weights") if isinstance(facts.get("weights"), list) else []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("file") == file:
            return {k: entry.get(k) is True for k in ("loaded", "same_keys", "equal")}
    return {"loaded": False, "same_keys": False, "equal": False}
