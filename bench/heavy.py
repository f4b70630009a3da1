"""``heavy``: two heavy submissions of our own, generated into a temp folder at bench time (weights
from a seeded random init, never committed), graded with the whole rubric less the notebooks."""
from __future__ import annotations

import importlib
import shutil
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common import SHARED, TRAINED_FIXTURE, benchmark, grade_once, non_notebook_ids
from bench.report import check_times

NETS = {"naimish": "NaimishNet-sized (conv 32-64-128-256, Linear 43264-1000-1000-136)",
        "fullres": "unstrided 3x3 convolutions at 224x224 (32 channels), Linear 25088-200-136"}


def net_class(name: str):
    return importlib.import_module(f"bench.nets.{name}").Net


def parameters(net) -> int:
    return sum(p.numel() for p in net.parameters())


def build_submission(name: str, root: Path, seed: int = 0) -> dict:
    """``root/<name>/`` in the project layout: the net's module as models.py, the trained fixture's
    transforms.py, and the state_dict of a seeded random init."""
    import torch

    student = root / name / "student"
    (student / "saved_models").mkdir(parents=True)
    shutil.copy(Path(importlib.import_module(f"bench.nets.{name}").__file__), student / "models.py")
    shutil.copy(TRAINED_FIXTURE / "student" / "transforms.py", student / "transforms.py")
    torch.manual_seed(seed)
    net = net_class(name)()
    weights = student / "saved_models" / "keypoints_model.pt"
    torch.save(net.state_dict(), weights)
    return {"parameters": parameters(net), "weights_mb": weights.stat().st_size / 1e6}


def closest_to_timeout(results: dict) -> str:
    """The check that came nearest its rubric budget (``timeout_s``, else the probe timeout): a check
    may make several probe calls, each with that budget, so this is a warning sign, not a verdict."""
    from grader.rubric import load_rubric

    rubric = load_rubric()
    share = {c["id"]: c["duration_s"] / float(rubric.check(c["id"]).get("timeout_s", rubric.probe_timeout_s))
             for c in results["checks"] if rubric.check(c["id"]) is not None}
    worst = max(share, key=share.get)
    return f"{worst}: {share[worst]:.0%}"


def nets_table(graded: dict, sizes: dict) -> tuple[Table, dict]:
    table = Table(title="heavy: the nets")
    columns = ("net", "parameters", "weights", "units side by side", "timed out", "nearest its budget",
               "grade wall time", "grade CPU time")
    for column in columns:
        table.add_column(column, justify="left" if column in ("net", "timed out", "nearest its budget") else "right")
    measured = {}
    for name, run in graded.items():
        timed_out = [c["id"] for c in run.results["checks"] if c["status"] == "timeout"]
        table.add_row(name, f"{sizes[name]['parameters']:,}", f"{sizes[name]['weights_mb']:.0f} MB",
                      str(run.results["environment"].get("workers")), ", ".join(timed_out) or "none",
                      closest_to_timeout(run.results), f"{run.wall_s:.1f} s", f"{run.cpu_s:.1f} s")
        measured.update({f"{name}_params_M": sizes[name]["parameters"] / 1e6, f"{name}_s": run.wall_s,
                         f"{name}_cpu_s": run.cpu_s, f"{name}_timeouts": len(timed_out)})
    return table, measured


@benchmark("heavy")
def bench_heavy(console: Console, data_dir: Path, only: set[str] | None = None) -> dict:
    checks = non_notebook_ids() & (only or non_notebook_ids())
    graded, sizes = {}, {}
    with tempfile.TemporaryDirectory(prefix="fkp-bench-heavy-") as scratch:
        for name, what in NETS.items():
            sizes[name] = build_submission(name, Path(scratch) / "submissions")
            console.print(f"bench heavy: {name}, {what}: {sizes[name]['parameters']:,} parameters, "
                          f"{sizes[name]['weights_mb']:.0f} MB of weights; grading {len(checks)} checks ...")
            graded[name] = grade_once(Path(scratch) / "submissions" / name, Path(scratch) / "out", data_dir,
                                      only=checks)
            if checks == non_notebook_ids():
                SHARED["grade_no_notebooks"][name] = graded[name]
    console.print(check_times("heavy: generated submissions, checks without notebooks",
                              {n: g.results for n, g in graded.items()}, {n: g.wall_s for n, g in graded.items()},
                              status=True, cpus={n: g.cpu_s for n, g in graded.items()}))
    table, measured = nets_table(graded, sizes)
    console.print(table)
    return measured
