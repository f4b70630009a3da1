"""What a submission chose, read from its own code (never from the hidden labels): the network's
class and constructor arguments, the transform its notebook 2 composes, the weights file its
notebook 3 loads. Static (``ast``): nothing here runs student code.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from grader.submission.sources import Cell, class_defs, dotted, local_imports, module_classes

GEOMETRIC_CROPS = {"RandomCrop": "centre crop", "CenterCrop": "centre crop"}
UNSET = object()


@dataclass(frozen=True)
class ModelSpec:
    """How the grader builds the student's network: ``module.cls(*args, **kwargs)``."""

    module: str = "models"
    cls: str = "Net"
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    why: str = "the contract's default, Net() from models.py"
    in_notebook: str | None = None
    """Where a network class sits in a notebook instead of a module ("2. ....ipynb, cell 5")."""
    source: str | None = field(default=None, repr=False)
    """That class as a module of its own (the notebook's imports + the class), which the sandbox adds."""

    @property
    def file_name(self) -> str:
        """The module file that should hold the network (models.py when a notebook holds it instead)."""
        return "models.py" if self.in_notebook else f"{self.module or 'models'}.py"

    @property
    def call(self) -> str:
        """The constructor call as a student would write it, e.g. ``Net(136, drop_p=0.2)``."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.cls}({', '.join(parts)})"

    def to_json(self) -> dict:
        return {"module": self.module, "class": self.cls, "args": list(self.args), "kwargs": dict(self.kwargs),
                "call": self.call, "why": self.why, "in_notebook": self.in_notebook}


@dataclass(frozen=True)
class TransformSpec:
    """The eval transform built from the student's own data_load classes, as their notebook 2 composes
    ``data_transform``: steps ``{name, args, kwargs, central}`` (a random crop made central)."""

    steps: tuple[dict, ...] = ()
    where: str = ""
    problem: str = ""
    """Why no transform could be built (then the grader's canonical one is used)."""
    dropped: tuple[str, ...] = ()
    """Random augmentation steps left out for evaluation."""

    @property
    def input_size(self) -> int | None:
        crops = [s for s in self.steps if s["name"] in GEOMETRIC_CROPS and s["args"]]
        size = crops[-1]["args"][0] if crops else None
        return size if isinstance(size, int) else (size[0] if isinstance(size, (tuple, list)) and size else None)

    def describe(self) -> str:
        if not self.steps:
            return self.problem
        shown = [f"{s['name']}({', '.join(map(repr, s['args']))})" + (" made a centre crop" if s["central"] else "")
                 for s in self.steps]
        dropped = f"; left out for evaluation: {', '.join(self.dropped)}" if self.dropped else ""
        return f"{', '.join(shown)} from {self.where}{dropped}"


def literal(node: ast.AST):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNSET


def constructor_calls(cells: list[Cell], bound: dict[str, tuple[str, str | None]], local_classes: dict[str, str]):
    """(target, module, class, call node, cell) for each ``x = SomeLocalClass(...)`` in the cells."""
    found = []
    for cell in cells:
        for node in ast.walk(cell.tree) if cell.tree else ():
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            func = dotted(node.value.func)
            module = cls = None
            if func in bound and bound[func][1] is not None:
                module, cls = bound[func]
            elif "." in func and func.split(".")[0] in bound and bound[func.split(".")[0]][1] is None:
                module, cls = bound[func.split(".")[0]][0], func.split(".", 1)[1]
            elif func in local_classes:
                module, cls = None, func
            if cls and targets:
                found.append((targets[0], module, cls, node.value, cell))
    return found


def loaded_into(cells: list[Cell]) -> set[str]:
    """Names whose ``.load_state_dict`` is called (the net that receives the trained weights)."""
    return {dotted(n.func).rsplit(".", 1)[0] for c in cells if c.tree for n in ast.walk(c.tree)
            if isinstance(n, ast.Call) and dotted(n.func).endswith(".load_state_dict")}


def spec_from_call(target, module, cls, call: ast.Call, cell: Cell, label: str, local_classes) -> ModelSpec:
    args = [literal(a) for a in call.args]
    kwargs = {k.arg: literal(k.value) for k in call.keywords if k.arg}
    where = f"{label}, cell {cell.index + 1}"
    if module is None:
        return ModelSpec("", cls, why=f"`{target} = {cls}(...)` in {where}", in_notebook=local_classes[cls])
    if UNSET in args or UNSET in kwargs.values() or any(k.arg is None for k in call.keywords):
        return ModelSpec(module, cls, why=f"`{target} = {cls}(...)` in {where}; its arguments are not literals, "
                                          "so the grader calls it without arguments")
    spec = ModelSpec(module, cls, tuple(args), kwargs)
    return ModelSpec(module, cls, tuple(args), kwargs, why=f"`{target} = {spec.call}` in {where}")


def discover_model(module_dir: Path, notebooks: list[tuple[str, list[Cell]]]) -> ModelSpec:
    """The network notebook 3 (then 2) builds and loads weights into; else ``Net`` or the only
    ``nn.Module`` class of models.py; else a class defined in a notebook."""
    def is_local(name: str) -> bool:
        return (module_dir / f"{name.split('.')[0]}.py").is_file()

    for label, cells in notebooks:
        local_classes = {name: f"{label}, cell {c.index + 1}" for c in cells for name, _, _ in class_defs(c.tree)}
        calls = constructor_calls(cells, local_imports(cells, is_local), local_classes)
        receiving = loaded_into(cells)
        ranked = sorted(calls, key=lambda f: (f[0] not in receiving, f[0] != "net"))
        if ranked:
            return spec_from_call(*ranked[0], label, local_classes)
    classes = module_classes(module_dir / "models.py")
    names = [name for name, _, _ in classes]
    if "Net" in names or not (module_dir / "models.py").is_file():
        return ModelSpec()
    if len(names) == 1:
        return ModelSpec("models", names[0], why=f"the only nn.Module class in models.py, {names[0]}")
    for label, cells in notebooks:
        for cell in cells:
            for name, _, _ in class_defs(cell.tree):
                return ModelSpec("", name, why=f"class {name} defined in {label}, cell {cell.index + 1}",
                                 in_notebook=f"{label}, cell {cell.index + 1}")
    return ModelSpec()


NOTEBOOK_MODULE = "fkp_notebook_model"


def notebook_module(cells: list[Cell], cls: str) -> str | None:
    """A module holding class ``cls`` as a notebook defines it: the class (and the other classes of its
    cell), after those of the notebook's top-level imports and literal constants that it uses."""
    defining = next((c for c in cells if any(d[0] == cls for d in class_defs(c.tree))), None)
    if defining is None:
        return None
    classes = [n for n in defining.tree.body if isinstance(n, ast.ClassDef)]
    used = {n.id for c in classes for n in ast.walk(c) if isinstance(n, ast.Name)}
    header = ["# The network class of a notebook, taken out by the grader (no module held it)."]
    for cell in cells:
        for node in cell.tree.body if cell.tree else ():
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                bound = {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.Assign) and literal(node.value) is not UNSET:
                bound = {t.id for t in node.targets if isinstance(t, ast.Name)}
            else:
                continue
            segment = ast.get_source_segment(cell.source, node)
            if segment and bound & used and cls not in bound and segment not in header:
                header.append(segment)
    body = [ast.get_source_segment(defining.source, c) or "" for c in classes]
    return "\n".join(header + [""] + body) + "\n"


def compose_steps(call: ast.Call) -> list[ast.Call] | None:
    if dotted(call.func).split(".")[-1] != "Compose" or not call.args:
        return None
    items = call.args[0]
    if not isinstance(items, (ast.List, ast.Tuple)) or not all(isinstance(e, ast.Call) for e in items.elts):
        return None
    return list(items.elts)


def discover_transform(label: str, cells: list[Cell], data_load_classes: set[str]) -> TransformSpec:
    """``data_transform = transforms.Compose([...])`` in notebook 2, with every step a class of the
    student's data_load.py and literal arguments; random augmentations are left out, a random crop
    becomes a centre crop of the same size."""
    assigned = None
    for cell in cells:
        for node in ast.walk(cell.tree) if cell.tree else ():
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "data_transform"
                                                    for t in node.targets):
                assigned = (node.value, cell)
    if assigned is None:
        return TransformSpec(problem=f"{label} assigns no `data_transform`")
    value, cell = assigned
    where = f"{label}, cell {cell.index + 1}"
    if isinstance(value, ast.Constant) and value.value is None:
        return TransformSpec(where=where, problem=f"{where} still has the template's `data_transform = None`")
    steps_nodes = compose_steps(value) if isinstance(value, ast.Call) else None
    if steps_nodes is None:
        return TransformSpec(where=where, problem=f"`data_transform` in {where} is not transforms.Compose([...])")
    steps, dropped = [], []
    for node in steps_nodes:
        name = dotted(node.func).split(".")[-1]
        args, kwargs = [literal(a) for a in node.args], {k.arg: literal(k.value) for k in node.keywords}
        if name not in data_load_classes:
            return TransformSpec(where=where, problem=f"{name} in {where} is not a class of data_load.py")
        if UNSET in args or UNSET in kwargs.values():
            return TransformSpec(where=where, problem=f"{name}(...) in {where} has arguments that are not literals")
        if name.startswith("Random") and name not in GEOMETRIC_CROPS:
            dropped.append(name)
            continue
        steps.append({"name": name, "args": args, "kwargs": kwargs, "central": name == "RandomCrop"})
    return TransformSpec(tuple(steps), where, dropped=tuple(dropped))


def loaded_weights(cells: list[Cell]) -> list[str]:
    """Literal file names passed to ``torch.load`` (``'saved_models/keypoints_model_1.pt'``)."""
    names = []
    for cell in cells:
        for node in ast.walk(cell.tree) if cell.tree else ():
            if isinstance(node, ast.Call) and dotted(node.func).split(".")[-1] == "load" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.append(first.value)
                elif isinstance(first, ast.BinOp) and isinstance(first.op, ast.Add):
                    parts = [literal(first.left), literal(first.right)]
                    if all(isinstance(p, str) for p in parts):
                        names.append("".join(parts))
    return names
