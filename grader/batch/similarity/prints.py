"""One submission's fingerprints, taken while the batch holds it unpacked: ``OUT/<name>/fingerprints.json``.

Which file plays which role comes from ``grader.submission`` (both layouts): the ``models`` role and
the code cells of the notebooks (or scripts) it maps. Kept beside the report, the fingerprints let
``--resume`` and ``merge`` compare the class without unpacking anything again.
"""
from __future__ import annotations

import json
from pathlib import Path

import grader
from grader.batch.similarity.code import Unit, fingerprints
from grader.batch.similarity.weights import sketch_file
from grader.rubric import SimilarityConfig
from grader.submission.layout import Submission, SubmissionError, find_submission
from grader.submission.sources import MAX_SOURCE_BYTES, code_cells

PRINTS_FILE = "fingerprints.json"
PRINTS_SCHEMA = 1
# The course's starter code (this repository's student/ and notebooks/): its k-grams are not evidence.
TEMPLATE_ROOT = Path(grader.__file__).resolve().parents[1]


def read_code(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return ""
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def notebook_units(path: Path, label: str) -> list[Unit]:
    return [Unit(f"{label}, cell {cell.index + 1}", cell.source) for cell in code_cells(path)]


def code_units(sub: Submission) -> dict[str, list[Unit]]:
    """The code compared, by part: ``models`` (the module holding the network) and ``notebooks`` (every
    code cell of the notebooks, or scripts, the submission's mapping found)."""
    role = sub.mapping.roles.get("models")
    models = [Unit(role.path, read_code(sub.root / role.path))] if role and role.path else []
    cells = [unit for _, path in sorted(sub.mapping.notebooks.items())
             for unit in notebook_units(path, sub.relative(path))]
    return {"models": models, "notebooks": cells}


def template_units(root: Path = TEMPLATE_ROOT) -> list[Unit]:
    """The starter files a student receives: ``student/*.py`` and the code cells of ``notebooks/*.ipynb``."""
    units = [Unit(f"student/{p.name}", read_code(p)) for p in sorted((root / "student").glob("*.py"))]
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        units += notebook_units(path, f"notebooks/{path.name}")
    return units


def weights_in_order(sub: Submission) -> list[Path]:
    """The weights file the grader chose first, then the others."""
    chosen = sub.chosen_weights()
    return ([chosen] if chosen else []) + [p for p in sub.weight_files() if p != chosen]


def fingerprint_submission(root: Path, config: SimilarityConfig) -> dict:
    """Code fingerprints and weights sketches of the submission at ``root`` (reads files; runs nothing)."""
    try:
        sub = find_submission(root)
    except SubmissionError as exc:
        return {"schema_version": PRINTS_SCHEMA, "problem": str(exc)}
    code = {}
    for part, units in code_units(sub).items():
        code[part] = {"units": [{"label": u.label, "source": u.source} for u in units],
                      "prints": [[p.hash, p.unit, p.first, p.last]
                                 for p in fingerprints(units, config.kgram, config.window)]}
    weights = [sketch_file(path, sub.relative(path), config.weights_max_mb, config.weights_sample)
               for path in weights_in_order(sub)[:config.weights_max_files]]
    return {"schema_version": PRINTS_SCHEMA, "kgram": config.kgram, "window": config.window,
            "weights_sample": config.weights_sample, "code": code, "weights": weights}


def read_prints(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / PRINTS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("schema_version") == PRINTS_SCHEMA else None
