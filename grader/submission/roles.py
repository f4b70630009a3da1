"""Which file plays each role of the contract, and why: by name first, then by content.

Roles: ``models`` (the module holding the network), ``data_load``, ``transforms`` (or the
notebook cell that composes ``data_transform``), ``weights``, ``notebook2`` (define and train)
and ``notebook3`` (Haar cascade + the trained net), each a notebook or a script standing for one.
Every decision carries a sentence for the report ("by name", "by content: calls
CascadeClassifier and load_state_dict").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.submission.sources import Cell, all_calls, code_cells

NUMBERED = re.compile(r"^0*(\d)(?:\s*[._\-)]|\s)")
COURSE_NAMES = {1: "1. Load and Visualize Data.ipynb", 2: "2. Define the Network Architecture.ipynb",
                3: "3. Facial Keypoint Detection, Complete Pipeline.ipynb", 4: "4. Fun with Keypoints.ipynb"}
# Content that marks each notebook: notebook 2 trains, notebook 3 detects faces and loads weights.
TRAINING_CALLS = ("backward", "step", "save", "DataLoader")
PIPELINE_CALLS = ("CascadeClassifier", "load_state_dict")
NOT_SCRIPTS = {"models.py", "data_load.py", "transforms.py", "workspace_utils.py", "setup.py", "conftest.py"}
SKIP_DIRS = {".git", ".ipynb_checkpoints", "__pycache__", "data", "reports", "saved_models", "images",
             "detector_architectures", ".grader"}


@dataclass(frozen=True)
class Role:
    """One role of the contract and the file that plays it (``path`` relative to the submission root)."""

    role: str
    path: str | None
    why: str
    """How it was chosen ("by name", "by content: ..."), or what was missing."""
    kind: str = "file"
    """file | notebook | script | stand-in (the grader supplies it)."""
    alternatives: tuple[str, ...] = ()
    """Other files that could have played the role (the report lists them)."""


@dataclass(frozen=True)
class Candidate:
    path: Path
    relative: str
    cells: list[Cell] = field(compare=False)

    @property
    def kind(self) -> str:
        return "script" if self.path.suffix == ".py" else "notebook"


def candidates(root: Path, notebooks_dir: Path, model_modules: set[str], scripts: bool) -> list[Candidate]:
    """Notebooks under ``notebooks_dir`` (one level of sub-folders too) and, with ``scripts`` (the classic
    layout), the scripts at the top that are not the submission's modules."""
    found = []
    for path in sorted(notebooks_dir.glob("*.ipynb")) + sorted(notebooks_dir.glob("*/*.ipynb")):
        if not SKIP_DIRS & set(path.relative_to(root).parts[:-1]) and path.is_file() and not path.is_symlink():
            found.append(Candidate(path, str(path.relative_to(root)), code_cells(path)))
    for path in sorted(root.glob("*.py")) if scripts else ():
        if path.name in NOT_SCRIPTS or path.stem in model_modules or path.is_symlink():
            continue
        found.append(Candidate(path, str(path.relative_to(root)), code_cells(path)))
    return found


def content_reason(number: int, cells: list[Cell]) -> str | None:
    """Why the cells look like notebook ``number`` by what they call, or None."""
    calls = all_calls(cells)
    if number == 3 and all(c in calls for c in PIPELINE_CALLS):
        return "by content: calls CascadeClassifier and load_state_dict"
    if number == 2 and sum(c in calls for c in TRAINING_CALLS) >= 3 and "backward" in calls:
        return "by content: a training loop (loss.backward(), optimizer.step()) and torch.save"
    return None


def numbered(candidate: Candidate) -> int | None:
    match = NUMBERED.match(candidate.path.name)
    return int(match.group(1)) if match and candidate.kind == "notebook" else None


def pick_notebook(number: int, found: list[Candidate], prefer_module: str | None) -> tuple[Candidate | None, Role]:
    """Notebook ``number``: by name first (the course's own name wins a tie, then the one importing
    ``prefer_module``), then by content; scripts only when no notebook fits."""
    by_name = [c for c in found if numbered(c) == number]
    if by_name:
        def rank(c: Candidate):
            imports_it = prefer_module is not None and any(
                f"from {prefer_module} import" in cell.source or f"import {prefer_module}" in cell.source
                for cell in c.cells)
            return (not imports_it, c.path.name != COURSE_NAMES[number], len(c.path.name), c.path.name)
        chosen = sorted(by_name, key=rank)[0]
        others = tuple(c.relative for c in by_name if c is not chosen)
        why = "by name" + (f" (of {len(by_name)} named so; it imports {prefer_module})"
                           if others and prefer_module and rank(chosen)[0] is False else "")
        return chosen, Role(f"notebook{number}", chosen.relative, why, chosen.kind, others)
    for kind in ("notebook", "script"):
        matches = [(c, r) for c in found if c.kind == kind and numbered(c) not in (2, 3)
                   and (r := content_reason(number, c.cells))]
        if matches:
            chosen, reason = matches[0]
            return chosen, Role(f"notebook{number}", chosen.relative, reason, kind,
                                tuple(c.relative for c, _ in matches[1:]))
    return None, Role(f"notebook{number}", None, "not found: no notebook named "
                      f"\"{number}. ...\" and none whose code does what notebook {number} does", "notebook")
