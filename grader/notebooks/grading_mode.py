"""Grading mode for notebooks never written for a grader (no cell tagged ``parameters``): what the
grader changes so that they run here, bounded in time, each change named for the report.

Before the run: a script standing for a notebook becomes one (a cell per ``# In[ ]:`` block),
``!wget`` / ``!unzip`` / ``!pip`` lines are skipped, and a missing ``workspace_utils`` gets a
stand-in. In the kernel (``kernel_shims.py``): ``.cuda()`` without CUDA means the CPU,
DataLoaders load in-process and a training loop stops after ``max_steps`` optimizer steps,
pandas' removed ``DataFrame.as_matrix`` is restored.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from grader.submission.sources import script_cells

SHIMS = Path(__file__).with_name("kernel_shims.py")
SHELL_LINE = re.compile(r"^(\s*)!\s*(wget|curl|unzip|pip|pip3|conda|apt|apt-get|mkdir|rm|tar|git)\b.*$", re.MULTILINE)
# What each shim counted in the kernel means for a student reading the report.
SHIM_WORDS = {
    "cuda": ".cuda() / .to('cuda') / torch.cuda tensor types ran on the CPU (this machine has no GPU)",
    "num_workers": "DataLoader num_workers set to 0 (the sandbox allows no worker processes)",
    "step_cap": "training stopped after {max_steps} optimizer steps (grading mode; your loop asks for more)",
    "as_matrix": "pandas' removed DataFrame.as_matrix() answered with .to_numpy()",
}


def has_parameters_cell(nb: nbformat.NotebookNode) -> bool:
    return any("parameters" in cell.get("metadata", {}).get("tags", []) for cell in nb.cells)


def notebook_from_script(path: Path) -> nbformat.NotebookNode:
    """A script read as a notebook: one code cell per ``# In[ ]:`` / ``# %%`` block."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell.strip("\n")) for cell in script_cells(text)])


def skip_shell_lines(nb: nbformat.NotebookNode) -> list[str]:
    """Comment out shell lines that download, install or unpack (no network here); returns them."""
    skipped = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        found = [m.group(0).strip() for m in SHELL_LINE.finditer(source)]
        if found:
            cell["source"] = SHELL_LINE.sub(lambda m: f"{m.group(1)}pass  # grading mode skipped: "
                                                      f"{m.group(0).strip()}", source)
            skipped += found
    return skipped


def shims_source(max_steps: int) -> str:
    return SHIMS.read_text().replace("__MAX_STEPS__", str(int(max_steps)))


def shims_used(facts: dict, max_steps: int) -> list[str]:
    """The kernel's shim counters (validated) in words."""
    counts = facts.get("shims") if isinstance(facts.get("shims"), dict) else {}
    used = []
    for name, words in SHIM_WORDS.items():
        count = counts.get(name)
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            used.append(words.format(max_steps=max_steps))
    return used
