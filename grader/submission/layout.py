"""Find and validate a submission's files, in the project layout or the course's classic one.

Project layout: ``ROOT/student/{models.py, transforms.py, data_load.py, saved_models/*.pt}`` and
``ROOT/notebooks/*.ipynb``. Classic layout (public course repositories): ``models.py``,
``data_load.py`` and the notebooks at the top, weights under ``saved_models/``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

WEIGHT_SUFFIXES = (".pt", ".pth")
# The course's complete data_load.py (students use it unchanged): supplied when a submission leaves it out.
STARTER_FILES = {"data_load.py": Path(__file__).resolve().parents[2] / "student" / "data_load.py"}
PREFERRED_WEIGHTS = ("keypoints_model.pt", "keypoints_model_1.pt", "keypoints_model.pth")


class SubmissionError(Exception):
    """The folder is not a submission; the message says what was expected."""


@dataclass(frozen=True)
class Submission:
    root: Path
    name: str
    layout: str  # "project" or "classic"
    student_dir: Path  # the folder holding models.py (copied into the sandbox)
    notebooks_dir: Path

    @property
    def models_py(self) -> Path:
        return self.student_dir / "models.py"

    def relative(self, path: Path) -> str:
        """A path as the student knows it, relative to the submission root."""
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)

    def weight_files(self) -> list[Path]:
        folder = self.student_dir / "saved_models"
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)

    def chosen_weights(self) -> Path | None:
        """The course's default file name if present, else the most recently modified weights file."""
        files = self.weight_files()
        for name in PREFERRED_WEIGHTS:
            if any(p.name == name for p in files):
                return next(p for p in files if p.name == name)
        return max(files, key=lambda p: (p.stat().st_mtime, p.name)) if files else None

    def notebook(self, number: int) -> Path | None:
        """Notebook N of the project (files named "N. ..." or "N_...")."""
        if not self.notebooks_dir.is_dir():
            return None
        matches = sorted(p for p in self.notebooks_dir.glob("*.ipynb")
                         if p.name.split(".")[0].split("_")[0].strip() == str(number))
        return matches[0] if matches else None

    def content_hash(self) -> str:
        """sha256 over every file's relative path and bytes (the resume key of a batch)."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                           and ".ipynb_checkpoints" not in p.parts):
            digest.update(str(path.relative_to(self.root)).encode() + b"\0")
            digest.update(path.read_bytes())
        return digest.hexdigest()


def find_submission(path: Path, name: str | None = None) -> Submission:
    root = Path(path).resolve()
    if not root.is_dir():
        raise SubmissionError(f"{path}: not a folder. Give the folder that holds student/ and notebooks/.")
    display = name or (root.name if root.name not in ("", ".") else "submission")
    if (root / "student" / "models.py").is_file():
        return Submission(root, display, "project", root / "student", root / "notebooks")
    if (root / "models.py").is_file():
        notebooks = root / "notebooks" if (root / "notebooks").is_dir() else root
        layout = "project" if (root / "transforms.py").is_file() else "classic"
        return Submission(root, display, layout, root, notebooks)
    raise SubmissionError(
        f"{path}: no student/models.py (project layout) and no models.py (the course's classic layout). "
        "Point the grader at the folder that contains student/ and notebooks/."
    )
