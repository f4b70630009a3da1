"""Find a submission and map its files to the contract, in the project layout or the course's classic one.

Project layout: ``ROOT/student/{models.py, transforms.py, data_load.py, saved_models/*.pt}`` and
``ROOT/notebooks/*.ipynb``. Classic layout (the course's own repositories): ``models.py``,
``data_load.py`` and the notebooks (or scripts) at the top, weights under ``saved_models/``.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from grader.submission.discovery import ModelSpec, TransformSpec
from grader.submission.mapping import Mapping, map_submission, weight_files

# The course's complete data_load.py (students use it unchanged): supplied when a submission leaves it out.
STARTER_FILES = {"data_load.py": Path(__file__).resolve().parents[2] / "student" / "data_load.py"}
CONTRACT_INPUT = 224


class SubmissionError(Exception):
    """The folder is not a submission; the message says what was expected."""


@dataclass(frozen=True)
class Submission:
    root: Path
    name: str
    layout: str  # "project" or "classic"
    student_dir: Path  # the folder holding models.py (copied into the sandbox)
    notebooks_dir: Path
    mapping: Mapping = field(default_factory=Mapping, compare=False)

    @property
    def model(self) -> ModelSpec:
        return self.mapping.model

    @property
    def transform(self) -> TransformSpec | None:
        """The eval transform composed in a classic notebook 2 (None: transforms.py or nothing found)."""
        return self.mapping.transform

    @property
    def input_size(self) -> int:
        """The side of the square image the student's net takes: their crop size, else the contract's 224."""
        built = self.transform is not None and self.transform.steps and self.transform.input_size
        return int(built) if built else CONTRACT_INPUT

    @property
    def models_py(self) -> Path:
        return self.student_dir / self.model.file_name

    @property
    def extracted_modules(self) -> dict[str, str]:
        """Modules the grader writes into the sandbox's copy: a network class taken out of a notebook."""
        return {f"{self.model.module}.py": self.model.source} if self.model.source else {}

    def relative(self, path: Path) -> str:
        """A path as the student knows it, relative to the submission root."""
        return relative_to(self.root, path)

    def weight_files(self) -> list[Path]:
        return weight_files(self.student_dir)

    def chosen_weights(self) -> Path | None:
        """The file notebook 3 loads, else the course's default file name, else the newest weights file."""
        return self.mapping.weights

    def notebook(self, number: int) -> Path | None:
        """The notebook (or the script standing for it) that plays notebook ``number``'s role."""
        return self.mapping.notebooks.get(number)

    def content_hash(self) -> str:
        """sha256 over every file's relative path and bytes (the resume key of a batch)."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                           and ".ipynb_checkpoints" not in p.parts):
            digest.update(str(path.relative_to(self.root)).encode() + b"\0")
            digest.update(path.read_bytes())
        return digest.hexdigest()


def relative_to(root: Path, path: Path) -> str:
    """A path as the student knows it, relative to the submission root."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def looks_classic(root: Path) -> bool:
    """The course's repository shape: its modules, notebooks or scripts at the top."""
    return any((root / name).is_file() for name in ("models.py", "data_load.py")) or any(root.glob("*.ipynb"))


def find_submission(path: Path, name: str | None = None) -> Submission:
    root = Path(path).resolve()
    if not root.is_dir():
        raise SubmissionError(f"{path}: not a folder. Give the folder that holds student/ and notebooks/.")
    display = name or (root.name if root.name not in ("", ".") else "submission")
    if (root / "student" / "models.py").is_file():
        layout, student_dir, notebooks = "project", root / "student", root / "notebooks"
    elif looks_classic(root):
        notebooks = root / "notebooks" if (root / "notebooks").is_dir() else root
        layout = "project" if (root / "transforms.py").is_file() else "classic"
        student_dir = root
    else:
        raise SubmissionError(
            f"{path}: no student/models.py (project layout), and no models.py, data_load.py or notebook at the top "
            "(the course's classic layout). Point the grader at the folder that contains student/ and notebooks/.")
    check_size(student_dir, path)  # what every student process gets a copy of
    mapping = map_submission(root, student_dir, notebooks, layout, lambda path: relative_to(root, path))
    return Submission(root, display, layout, student_dir, notebooks, mapping)


MAX_FILES = 20_000  # as many as a batch unpacks from a zip; the course's whole dataset is 5 770 images
NOT_COUNTED = {".git", "__pycache__", ".ipynb_checkpoints", "data"}  # never copied into the sandbox


def check_size(root: Path, given: Path) -> None:
    """Refuse a submission with more files than the grader copies (each student process gets a copy)."""
    count = 0
    for _, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f not in NOT_COUNTED]
        count += len(files)
        if count > MAX_FILES:
            raise SubmissionError(
                f"{given}: more than {MAX_FILES:,} files (outside data/, .git and caches); the grader copies a "
                "submission for every student process and stops at this limit. Remove generated files, "
                "datasets or environments (a venv, node_modules) from the submission and grade again.")
