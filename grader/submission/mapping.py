"""Map a submission's files to the contract's roles (shown at the top of the report) and read its
choices: the network to build, the eval transform of a classic submission, the weights file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.submission import discovery, roles
from grader.submission.discovery import ModelSpec, TransformSpec
from grader.submission.roles import Role
from grader.submission.sources import Cell, class_defs, class_names, module_classes

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
    links: tuple[str, ...] = ()
    """Symbolic links in the submission: never followed, never copied to where student code runs."""

    def to_json(self) -> dict:
        return {"roles": {name: {"file": r.path, "why": r.why, "kind": r.kind, "alternatives": list(r.alternatives)}
                          for name, r in self.roles.items()},
                "model": self.model.to_json(),
                "transform": None if self.transform is None else {
                    "steps": list(self.transform.steps), "where": self.transform.where,
                    "problem": self.transform.problem, "dropped": list(self.transform.dropped),
                    "input_size": self.transform.input_size, "description": self.transform.describe()},
                "links_left_out": list(self.links)}


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
    path = student_dir / model.file_name
    elsewhere = f"the network class {model.cls} is defined in {model.in_notebook}, not in a module"
    if model.in_notebook:
        return Role("models", relative(path) if path.is_file() else None,
                    f"by name, but {elsewhere}" if path.is_file() else f"not found: {elsewhere}")
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
    found = roles.candidates(root, notebooks_dir, model_modules, scripts=layout == "classic")
    nb3, role3 = roles.pick_notebook(3, found, None)
    first = [(role3.path, nb3.cells)] if nb3 else []
    model = discovery.discover_model(student_dir, first)
    from_nb3 = bool(first) and model != ModelSpec() and "cell" in model.why
    nb2, role2 = roles.pick_notebook(2, found, model.module if from_nb3 else None)
    if not from_nb3:
        model = discovery.discover_model(student_dir, first + ([(role2.path, nb2.cells)] if nb2 else []))
    model = defined_elsewhere(model, student_dir, found)
    weights, weights_role = choose_weights(student_dir, discovery.loaded_weights(nb3.cells) if nb3 else [], relative)
    transform, transform_role = None, Role("transforms", relative(student_dir / "transforms.py"), "by name")
    if not (student_dir / "transforms.py").is_file():
        transform = classic_transform(student_dir, role2.path, nb2.cells if nb2 else [])
        transform_role = transform_stand_in(transform, role2.path, relative(student_dir / "data_load.py"))
    mapped = {"models": module_role(student_dir, model, relative), "data_load": data_load_role(student_dir, relative),
              "transforms": transform_role, "weights": weights_role, "notebook2": role2, "notebook3": role3}
    notebooks = {n: c.path for n, c in ((2, nb2), (3, nb3)) if c is not None}
    for number in (1, 4):  # the other course notebooks, by name only (nothing is graded from them)
        named = [c for c in found if roles.numbered(c) == number]
        if named:
            notebooks[number] = sorted(named, key=lambda c: c.path.name != roles.COURSE_NAMES.get(number))[0].path
    return Mapping(mapped, model, transform, weights, notebooks, symlinks(root))


def symlinks(root: Path, limit: int = 50) -> tuple[str, ...]:
    """Links anywhere in the submission (os.walk never follows them), relative to its root. Git's folder
    and Python environments (a folder with pyvenv.cfg, such as the workspace's .venv) are not the
    student's work: their links are not listed, and walking a torch environment took 0.9 s."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git" and not os.path.isfile(os.path.join(folder, d, "pyvenv.cfg"))]
        for name in dirs + files:
            if os.path.islink(os.path.join(folder, name)):
                found.append(os.path.relpath(os.path.join(folder, name), root))
                if len(found) >= limit:
                    return tuple(found)
    return tuple(sorted(found))


def defined_elsewhere(model: ModelSpec, student_dir: Path, found: list[roles.Candidate]) -> ModelSpec:
    """When the module named lacks the class and a notebook defines it, say where the class lives."""
    module = student_dir / model.file_name
    if model.in_notebook or not module.is_file() and model.module != "models" or any(name == model.cls for name, _, _ in module_classes(module)):
        return model
    for candidate in found:
        for cell in candidate.cells:
            if any(name == model.cls for name, _, _ in class_defs(cell.tree)):
                source = discovery.notebook_module(candidate.cells, model.cls)
                return replace(model, module=discovery.NOTEBOOK_MODULE if source else model.module,
                               in_notebook=f"{candidate.relative}, cell {cell.index + 1}", source=source)
    return model


COURSE_STEPS = ({"name": "Rescale", "args": [250], "kwargs": {}, "central": False},
                {"name": "RandomCrop", "args": [224], "kwargs": {}, "central": True},
                {"name": "Normalize", "args": [], "kwargs": {}, "central": False},
                {"name": "ToTensor", "args": [], "kwargs": {}, "central": False})


def transform_stand_in(transform: TransformSpec, notebook2: str | None, data_load: str) -> Role:
    if not transform.steps:
        return Role("transforms", None, f"not found: {transform.problem}; the grader's canonical transform is used")
    if transform.where.startswith("the course's"):
        return Role("transforms", data_load, f"stand-in: {transform.where}", "stand-in")
    return Role("transforms", notebook2, f"stand-in: data_transform composed in {transform.where}", "stand-in")


def classic_transform(student_dir: Path, label: str | None, cells: list[Cell]) -> TransformSpec:
    """Notebook 2's data_transform from the student's data_load classes; without one, the course's own
    composition (Rescale(250), RandomCrop(224), Normalize(), ToTensor()) of those classes."""
    source = student_dir / "data_load.py"
    if not source.is_file():
        return TransformSpec(problem="no data_load.py of the submission's to build a transform from")
    classes = class_names(source)
    if classes is None:
        return TransformSpec(problem=f"{source.name} does not parse")
    found = discovery.discover_transform(label or "notebook 2", cells, classes) if cells else \
        TransformSpec(problem="no notebook 2 composes a data_transform")
    if found.steps or not {s["name"] for s in COURSE_STEPS} <= classes:
        return found
    return TransformSpec(COURSE_STEPS, f"the course's data_transform of data_load.py's classes ({found.problem})")
