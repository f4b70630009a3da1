"""The import rules of docs/architecture.md, enforced from the import graph (``ast``, nothing imported).

Each package's docstring says what it must never import; this test reads every module of
``grader/`` and fails naming the file, the line and the rule it breaks.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "grader"

# Files that run on the student's side (copied into the sandbox): they import nothing from grader.
CHILD_FILES = ("grader/sandbox/child/", "grader/notebooks/executor.py", "grader/notebooks/kernel_")
# Modules a stage must never import (prefix match on dotted names).
NEVER = {
    "grader.data": ("grader.submission", "grader.sandbox", "grader.checks", "grader.notebooks", "grader.report",
                    "grader.batch", "grader.grade"),
    "grader.submission": ("grader.sandbox", "grader.checks", "grader.notebooks", "grader.report", "grader.batch",
                          "grader.grade"),
    "grader.sandbox": ("grader.submission", "grader.checks", "grader.notebooks", "grader.report", "grader.batch",
                       "grader.data", "grader.grade"),
    "grader.notebooks": ("grader.checks", "grader.batch", "grader.grade"),
    "grader.checks": ("grader.batch", "grader.grade"),
    "grader.report": ("grader.checks", "grader.sandbox", "grader.notebooks", "grader.submission", "grader.grade"),
    "grader.batch": ("grader.checks", "grader.sandbox", "grader.notebooks", "grader.grade"),
    "grader.gradescope": ("grader.checks", "grader.sandbox", "grader.notebooks", "grader.batch"),
}
# Only the sandbox (student code) and batch.isolate (whole grading processes) start processes; only
# the child's runtime imports modules by name (the student's).
SPAWNERS = ("subprocess", "multiprocessing", "pty")
ALLOWED_SPAWNERS = ("grader/sandbox/", "grader/batch/isolate.py")
DYNAMIC_IMPORT = ("importlib", "runpy")
ALLOWED_DYNAMIC = ("grader/sandbox/child/",)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in a file, relative ones resolved, ``from a import b`` as a.b."""
    tree = ast.parse(path.read_text(), str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(root: Path = ROOT, package: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        shown = str(path.relative_to(root))
        name = module_name(path, root)
        for line, target in imports(path, root):
            where = f"{shown}:{line} imports {target}"
            if shown.startswith(CHILD_FILES) and (target == "grader" or target.startswith("grader.")):
                problems.append(f"{where}: code that runs on the student's side imports nothing from grader")
            for stage, forbidden in NEVER.items():
                if (name == stage or name.startswith(stage + ".")) and target.startswith(forbidden):
                    problems.append(f"{where}: {stage} must never import {target.split('.')[:2][-1]}")
            if target.split(".")[0] in SPAWNERS and not shown.startswith(ALLOWED_SPAWNERS):
                problems.append(f"{where}: only grader/sandbox (and batch.isolate) start processes")
            if target.split(".")[0] in DYNAMIC_IMPORT and not shown.startswith(ALLOWED_DYNAMIC):
                problems.append(f"{where}: the trusted side never imports modules by name (student code)")
            if target.startswith(("grader.sandbox.child", "grader.notebooks.executor", "grader.notebooks.kernel_")):
                problems.append(f"{where}: student-side files are copied into the sandbox, never imported")
    return problems


def test_the_import_graph_follows_the_architecture():
    problems = violations()
    assert not problems, "imports that break docs/architecture.md:\n" + "\n".join(problems)


def test_every_package_says_what_it_must_never_import():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert 3 <= len(doc.splitlines()) <= 8, f"{init}: a docstring of three to six lines says what the package owns"
        assert "never" in doc, f"{init}: the docstring must say what the package never imports"


@pytest.mark.parametrize("offence, expected", [
    ("grader/report/leak.py", "grader.report must never import checks"),
    ("grader/sandbox/child/leak.py", "imports nothing from grader"),
    ("grader/checks/leak.py", "only grader/sandbox (and batch.isolate) start processes"),
])
def test_a_deliberate_violation_is_caught(tmp_path, offence, expected):
    """A copy of the package with one forbidden import added fails with a message naming it."""
    import shutil

    copy = tmp_path / "grader"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    bad = tmp_path / offence
    bad.write_text({"grader/report/leak.py": "from grader.checks import evaluation\n",
                    "grader/sandbox/child/leak.py": "from grader.data import dataset\n",
                    "grader/checks/leak.py": "import subprocess\n"}[offence])
    found = violations(tmp_path, copy)
    assert any(offence in p and expected in p for p in found), found
