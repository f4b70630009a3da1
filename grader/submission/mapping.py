"""Map a submission's files to the contract's roles (shown at the top of the report) and read its
choices: the network to build, the eval transform of a classic submission, the weights file.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from grader.submission import discovery, roles
from grader.submission.discovery import ModelSpec, TransformSpec
from grader.submission.roles import Role
from grader.submission.sources import Cell, module_classes

WEIGHT_SUFFIXES = (".pt", ".pth")
PREFERRED_WEIGHTS = ("keypoints_model.pt", "keypoints_model_1.pt", "keypoints_model.pth")


@dataclass(frozen=True)
class Mapping:
    """Every role's file and why, plus what the student's code chose."""

    roles: dict[str, Role] = field(default_factory=dict)
    model: ModelSpec = field(default_factory=ModelSpec)
    transform: TransformSpec | None = None
    """The classic layout's eval transform from notebook 2 (None: transforms.py, or nothing to build)."""
    weights: Path | None = None
    notebooks: dict[int, Path] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"roles": {name: {"file": r.path, "why": r.why, "kind": r.kind, "alternatives": list(r.alternatives)}
                          for name, r in self.roles.items()},
                "model": self.model.to_json(),
                "transform": None if self.transform is None else {
                    "steps": list(self.transform.steps), "where": self.transform.where,
                    "problem": self.transform.problem, "dropped": list(self.transform.dropped),
                    "input_size": self.transform.input_size, "description": self.transform.describe()}}


def weight_files(student_dir: Path) -> list[Path]:
    folder = student_dir / "saved_models"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)


def choose_weights(student_dir: Path, loaded: list[str], relative) -> tuple[Path | None, Role]:
    """The file notebook 3 loads when it names one, else the course's default name, else the newest."""
    files = weight_files(student_dir)
    folder = relative(student_dir / "saved_models")
    if not files:
        return None, Role("weights", None, f"not found: {folder}/ has no .pt or .pth file")
    others = lambda chosen: tuple(relative(p) for p in files if p != chosen)  # noqa: E731
    for name in loaded:
        match = next((p for p in files if p.name == Path(name).name), None)
        if match is not None:
            return match, Role("weights", relative(match), f"by content: notebook 3 loads {name}", "file", others(match))
    for name in PREFERRED_WEIGHTS:
        match = next((p for p in files if p.name == name), None)
        if match is not None:
            return match, Role("weights", relative(match), "by name (the course's file name)", "file", others(match))
    newest = max(files, key=lambda p: (p.stat().st_mtime, p.name))
    return newest, Role("weights", relative(newest), "the most recently modified weights file", "file", others(newest))


def module_role(student_dir: Path, model: ModelSpec, relative) -> Role:
    if model.in_notebook:
        return Role("models", None, f"not found: the network class {model.cls} is defined in {model.in_notebook}, "
                                    "not in a module the grader can import")
    path = student_dir / f"{model.module}.py"
    if not path.is_file():
        return Role("models", None, f"not found: no {relative(path)}")
    why = "by name" if model.module == "models" else f"by content: {model.why}"
    return Role("models", relative(path), why)


def data_load_role(student_dir: Path, relative) -> Role:
    path = student_dir / "data_load.py"
    if path.is_file():
        return Role("data_load", relative(path), "by name")
    return Role("data_load", None, "the grader's copy of the course's data_load.py (none in the submission)",
                "stand-in")


def map_submission(root: Path, student_dir: Path, notebooks_dir: Path, layout: str, relative) -> Mapping:
    model_modules = {p.stem for p in student_dir.glob("*.py") if module_classes(p)}
    found = roles.candidates(root, notebooks_dir, model_modules)
    nb3, role3 = roles.pick_notebook(3, found, None)
    first = [(role3.path, nb3.cells)] if nb3 else []
    model = discovery.discover_model(student_dir, first)
    from_nb3 = bool(first) and model != ModelSpec() and "cell" in model.why
    nb2, role2 = roles.pick_notebook(2, found, model.module if from_nb3 else None)
    if not from_nb3:
        model = discovery.discover_model(student_dir, first + ([(role2.path, nb2.cells)] if nb2 else []))
    weights, weights_role = choose_weights(student_dir, discovery.loaded_weights(nb3.cells) if nb3 else [], relative)
    transform, transform_role = None, Role("transforms", relative(student_dir / "transforms.py"), "by name")
    if not (student_dir / "transforms.py").is_file():
        transform = classic_transform(student_dir, role2.path, nb2.cells if nb2 else [])
        transform_role = Role("transforms", role2.path if transform.steps else None,
                              f"stand-in: data_transform composed in {transform.where}" if transform.steps else
                              f"not found: {transform.problem}; the grader's canonical transform is used",
                              "stand-in" if transform.steps else "file")
    mapped = {"models": module_role(student_dir, model, relative), "data_load": data_load_role(student_dir, relative),
              "transforms": transform_role, "weights": weights_role, "notebook2": role2, "notebook3": role3}
    notebooks = {n: c.path for n, c in ((2, nb2), (3, nb3)) if c is not None}
    return Mapping(mapped, model, transform, weights, notebooks)


def classic_transform(student_dir: Path, label: str | None, cells: list[Cell]) -> TransformSpec:
    if not cells:
        return TransformSpec(problem="no notebook 2 composes a data_transform")
    source = student_dir / "data_load.py"
    classes = set()
    if source.is_file():
        try:
            classes = {n.name for n in ast.walk(ast.parse(source.read_text(errors="replace")))
                       if isinstance(n, ast.ClassDef)}
        except SyntaxError:
            return TransformSpec(problem=f"{source.name} does not parse")
    else:
        classes = {"Rescale", "RandomCrop", "CenterCrop", "Normalize", "ToTensor"}  # the course's copy
    return discovery.discover_transform(label or "notebook 2", cells, classes)
