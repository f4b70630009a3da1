"""``python -m grader grade``: grade one submission into ``OUT/<name>/`` (results.json, report.html, junit.xml).

The report folder is built under a temporary name and renamed into place at the end, so a
crash never leaves a half-written report where a good one stood.
"""
from __future__ import annotations

import ast
import os
import platform
import pwd
import shutil
import stat
import sysconfig
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console

from grader import __version__, cores
from grader.checks import Context
from grader.checks.runner import run_checks
from grader.data import testset
from grader.data.dataset import labels_csv
from grader.progress import GradeProgress, summary_table
from grader.report import html, junit
from grader.results import GradeResult, publish_folder, write_json
from grader.rubric import load_rubric
from grader.sandbox.limits import Limits, sandbox_user
from grader.sandbox.processes import how_processes_are_limited
from grader.sandbox.spawn import Sandbox
from grader.submission.layout import STARTER_FILES, SubmissionError, find_submission


def torch_version() -> str:
    """torch.__version__ without importing torch (1.4 s of a grade's start; only the sandbox needs torch):
    read from torch/version.py in this environment's site-packages, where the installed build records it."""
    for scheme in ("platlib", "purelib"):
        try:
            tree = ast.parse((Path(sysconfig.get_paths()[scheme]) / "torch" / "version.py").read_text())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
                try:
                    return str(ast.literal_eval(node.value))
                except ValueError:  # not a plain literal: ask torch itself
                    break
    import torch  # installed elsewhere on the path

    return torch.__version__


def environment(seed: int, device: str) -> dict:
    import cv2
    import numpy

    return {"grader": __version__, "python": platform.python_version(), "torch": torch_version(),
            "numpy": numpy.__version__, "opencv": cv2.__version__, "platform": platform.platform(),
            "device": device, "seed": seed, "sandbox_user": getattr(sandbox_user(), "pw_name", None),
            "in_container": Path("/.dockerenv").exists(),
            "process_limits": how_processes_are_limited((sandbox_user() or pwd.getpwuid(os.getuid())).pw_uid == 0)}


GPU_DEVICES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg", "/dev/kfd")  # NVIDIA, WSL2, ROCm


def resolve_device(device: str) -> str:
    """``auto``: CUDA when torch finds it; without a GPU device file torch cannot, and is not imported."""
    if device != "auto":
        return device
    if not any(os.path.exists(path) for path in GPU_DEVICES):
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def private_scratch() -> str | None:
    """When root grades for a sandbox user (the container), its scratch folders in the shared /tmp
    (FKP_CACHE_DIR, MPLCONFIGDIR) must be root's alone: created now, before any student code runs,
    and refused when they already exist otherwise. Student code could else plant files the grader
    reads (a forged eval cache, a matplotlibrc) or symlinks it writes through. Returns the problem."""
    for variable in ("FKP_CACHE_DIR", "MPLCONFIGDIR"):
        folder = os.environ.get(variable)
        if not folder:
            continue
        path = Path(folder)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            return (f"{variable}={folder} exists but is not a folder only the grader can write "
                    f"(uid {info.st_uid}, mode {stat.filemode(info.st_mode)}); refusing to grade with it")
    return None


def report_owner() -> tuple[int, int] | None:
    """FKP_REPORT_OWNER=uid:gid: who should own the published report (docker/run.sh sets the host user,
    as the grader runs as root in the container). Applied only when running as root."""
    value = os.environ.get("FKP_REPORT_OWNER", "")
    if not value or os.geteuid() != 0:
        return None
    uid, _, gid = value.partition(":")
    return int(uid), int(gid or uid)


def hand_over(folder: Path, owner: tuple[int, int] | None) -> None:
    """Give the report folder to ``owner`` (symlinks are changed themselves, never followed)."""
    if owner is None:
        return
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, *owner, follow_symlinks=False)


WORKSPACE = ("Notebooks ran in the course's working layout: data/ with the training set, less 100 held-out training "
             "faces that stand in for the test set (the hidden labels never enter a notebook), images/ with the "
             "course's photos and overlays, detector_architectures/ with OpenCV's Haar cascades.")


def layout_record(sub, checks: list[dict]) -> dict:
    """How the grader read the submission (shown first in the report): each role's file and why, the
    network built, the eval transform, and every compatibility measure the checks used."""
    compatibility = []
    if sub.model.source:
        compatibility.append(f"network: class {sub.model.cls} taken out of {sub.model.in_notebook} (no module held it)")
    for check in checks:
        notebook = check["details"].get("notebook") or {}
        compatibility += [f"notebook {notebook['number']}: {c}" for c in notebook.get("compatibility") or []]
        compatibility += [f"{check['id']}: {c}" for c in check["details"].get("compatibility") or []]
    return {"layout": sub.layout, **sub.mapping.to_json(), "input_size": sub.input_size,
            "compatibility": compatibility, "workspace": WORKSPACE if sub.layout == "classic" else None}


def choose_workers(workers: int | None, threads: int) -> tuple[int, str]:
    """How many units of checks run side by side, and why: asked for (--workers, FKP_GRADE_WORKERS),
    else from this process's cores (``cores.workers_for``)."""
    if workers is None and os.environ.get("FKP_GRADE_WORKERS"):
        workers = int(os.environ["FKP_GRADE_WORKERS"])
    if workers is not None:
        return max(1, workers), f"{max(1, workers)} as asked"
    available = cores.available_cores()
    chosen = cores.workers_for(available, threads)
    return chosen, f"{chosen} for {available} core(s) at {threads} torch thread(s) per student process"


def grade_checks(sub, rub, data_dir: Path, test_set, staging: Path, seed: int, device: str, workers: int, console):
    """Run the rubric against the submission: one sandbox for the probes, and one more per unit that
    runs beside them (the brief training) when ``workers`` > 1."""
    limits = Limits(memory_mb=rub.memory_mb, threads=rub.threads, disk_mb=rub.disk_mb)

    def new_sandbox() -> Sandbox:
        return Sandbox(sub.student_dir, limits=limits, seed=seed, device=device, extra_files=STARTER_FILES,
                       model=sub.model.to_json(), input_size=sub.input_size, extra_sources=sub.extracted_modules)

    with ExitStack() as stack:
        sandbox = stack.enter_context(new_sandbox())
        progress = stack.enter_context(GradeProgress(console, sub.name, len(rub.checks)))
        own = (lambda: stack.enter_context(new_sandbox())) if workers > 1 else None
        ctx = Context(sub, sandbox, rub, data_dir, staging, seed, progress=progress.advance, own_sandbox=own,
                      test_set=test_set)
        return ctx, run_checks(ctx, workers=workers, on_start=progress.start, on_done=progress.done)


def main(*, submission: Path, out: Path = Path("reports"), name: str | None = None, rubric: Path | None = None,
         data_dir: Path | None = None, seed: int | None = None, device: str = "auto",
         only: set[str] | None = None, fail_under: float | None = None, quiet: bool = False,
         workers: int | None = None) -> int:
    console = Console(stderr=False, quiet=quiet)
    try:
        sub = find_submission(submission, name)
    except SubmissionError as exc:
        console.print(f"[red]grade:[/] {exc}")
        return 2
    given = Path(data_dir or os.environ.get("FKP_DATA_DIR") or "data/facial-keypoints")
    data_dir = given.resolve()
    if not (data_dir / "training_frames_keypoints.csv").is_file() or not labels_csv(data_dir, "test").is_file():
        console.print(f"[red]grade:[/] no dataset in {data_dir}; run `make data DATA_SOURCE=/path/to/facial-keypoints`.")
        return 2
    if sandbox_user() is not None and (problem := private_scratch()):
        console.print(f"[red]grade:[/] {problem}")
        return 2
    rub = load_rubric(rubric, only=only)
    seed = rub.seed if seed is None else seed
    device = resolve_device(device)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{sub.name}.partial-", dir=out))
    started = time.monotonic()
    workers, why = choose_workers(workers, rub.threads)
    console.print(f"grading {sub.name}: {workers} unit(s) of checks side by side ({why})")
    test_set = testset.locate(given)  # beside the folder as given: data/ may hold links to the course's copy
    if test_set.kind == "private":
        console.print(f"test set: the private one in {test_set.root} ({test_set.manifest['n_images']} faces, "
                      f"SHA-256 {test_set.manifest['sha256'][:12]})")
    try:
        ctx, checks = grade_checks(sub, rub, data_dir, test_set, staging, seed, device, workers, console)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a grader failure leaves no half-written report
        raise
    result = GradeResult(sub.name, sum(c.score for c in checks), rub.max_score, checks, ctx.metrics,
                         environment(seed, device), time.monotonic() - started, seed)
    data = result.to_json()
    data["environment"].update(rubric_sha256=rub.digest, threads=rub.threads, workers=workers,
                               test_set=test_set.to_json())
    data["layout"] = layout_record(sub, data["checks"])
    # what the sandbox left out of the student's copy: symbolic links, and hard links to files outside
    data["layout"]["links_left_out"] = sorted({*data["layout"]["links_left_out"],
                                              *(sub.relative(sub.student_dir / link) for link in ctx.sandbox.links_left_out)})
    write_json(staging / "results.json", data)
    junit.write(data, staging / "junit.xml")
    html.write(data, staging, staging / "report.html")
    target = out / sub.name
    hand_over(staging, report_owner())
    publish_folder(staging, target)
    console.print(summary_table(data))
    console.print(f"Report: {target / 'report.html'}")
    if fail_under is not None and data["score"] < fail_under:
        console.print(f"[red]score {data['score']:.1f} is under --fail-under {fail_under}[/]")
        return 1
    return 0
