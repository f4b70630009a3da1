"""A submission's notebooks and scripts read as code cells, statically (``ast``), never run.

A script stands for a notebook: its cells are split at nbconvert's ``# In[ ]:`` markers or at
``# %%`` lines, so an exported notebook reads cell for cell like the original.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

CELL_MARKER = re.compile(r"^# (?:In\[[ 0-9]*\]:|%%)", re.MULTILINE)
MAX_SOURCE_BYTES = 16 << 20


@dataclass(frozen=True)
class Cell:
    """One code cell: its 0-based index in the file's cells and its parsed source (None: no parse)."""

    index: int
    source: str
    tree: ast.Module | None

    def calls(self) -> list[str]:
        """Dotted names of every call, e.g. ``nn.SmoothL1Loss``, ``loss.backward``."""
        if self.tree is None:
            return []
        return [dotted(node.func) for node in ast.walk(self.tree) if isinstance(node, ast.Call)]

    def calls_ending(self, *names: str) -> bool:
        return any(call.split(".")[-1] in names for call in self.calls())


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return "?"


def without_magics(source: str) -> str:
    """IPython lines (``%matplotlib inline``, ``!pip ...``) blanked so ``ast`` can parse the rest."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(without_magics(source))
    except (SyntaxError, ValueError):
        return None


def script_cells(text: str) -> list[str]:
    """A script's cells: split at ``# In[n]:`` / ``# %%`` markers, else the whole file as one cell."""
    starts = [m.start() for m in CELL_MARKER.finditer(text)]
    if not starts:
        return [text]
    bounds = [0, *starts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]


def code_cells(path: Path) -> list[Cell]:
    """The code cells of a notebook (.ipynb) or script (.py); [] when the file cannot be read."""
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    if path.suffix == ".py":
        sources = script_cells(text)
    else:
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return []
        sources = ["".join(c.get("source", "")) if isinstance(c.get("source"), list) else str(c.get("source", ""))
                   if c.get("cell_type") == "code" else None for c in cells if isinstance(c, dict)]
    return [Cell(index, source, parse(source)) for index, source in enumerate(sources) if source is not None]


def all_calls(cells: list[Cell]) -> set[str]:
    """The last component of every call in the cells (``CascadeClassifier``, ``backward``, ...)."""
    return {call.split(".")[-1] for cell in cells for call in cell.calls()}


def local_imports(cells: list[Cell], is_local) -> dict[str, tuple[str, str | None]]:
    """Names bound by imports of the submission's own modules: {name: (module, attribute or None)}."""
    bound: dict[str, tuple[str, str | None]] = {}
    for cell in cells:
        for node in ast.walk(cell.tree) if cell.tree else ():
            if isinstance(node, ast.ImportFrom) and node.module and not node.level and is_local(node.module):
                for alias in node.names:
                    bound[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if is_local(alias.name):
                        bound[alias.asname or alias.name] = (alias.name, None)
    return bound


def module_tree(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None


def module_classes(path: Path) -> list[tuple[str, int, list[str]]]:
    """(name, line, method names) of each class in a module that subclasses an ``nn.Module``-like base."""
    return class_defs(module_tree(path))


def class_names(path: Path) -> set[str] | None:
    """Every class a module defines (None when it does not parse)."""
    tree = module_tree(path)
    return None if tree is None else {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}


def class_defs(tree: ast.AST | None) -> list[tuple[str, int, list[str]]]:
    found = []
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.ClassDef) and any(dotted(base).split(".")[-1] == "Module" for base in node.bases):
            methods = [n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            found.append((node.name, node.lineno, methods))
    return found
