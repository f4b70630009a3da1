"""``python -m grader batch SUBMISSIONS/``: grade a class, in parallel, resumable, sharded, or on a Dask cluster.

SUBMISSIONS holds one folder or .zip per student. Each one is graded in a process of its own with
a wall timeout and a memory limit (``isolate``); whatever happens to it becomes that row's status
(graded, error, timeout) and never stops the batch. Under --out: ``<name>/`` per submission
(results.json, report.html, junit.xml, grade.log, batch.json), ``gradebook.csv``, ``index.html``,
``events.jsonl`` and ``manifest.json`` (what this run covered, for ``merge``).
"""
from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from grader import __version__, cores
from grader.batch import cluster, grading_job, intake, isolate
from grader.batch.events import EventLog
from grader.batch.gradebook import Row, mark_duplicates, read_marker, write_gradebook
from grader.batch.isolate import GradeSettings
from grader.batch.similarity.compare import compare_class
from grader.report import index
from grader.results import write_json
from grader.rubric import SimilarityConfig, load_rubric

ROW_STYLE = {"graded": "green", "error": "red", "timeout": "magenta"}


def write_outputs(rows: list[Row], out: Path, similarity: SimilarityConfig) -> None:
    """similarity.json, gradebook.csv and index.html of these rows (duplicates and similar work marked
    across them)."""
    mark_duplicates(rows)
    document = compare_class(rows, out, similarity)
    write_gradebook(rows, out / "gradebook.csv")
    index.write(rows, out / "index.html", document)


def up_to_date(out: Path, name: str, key: dict) -> Row | None:
    """The previous row of ``name`` when it was graded with exactly this key (resume)."""
    row = read_marker(out / name)
    if row is not None and row.status == "graded" and row.key == key and (out / name / "results.json").is_file():
        return row
    return None


def run_here(ctx: grading_job.JobContext, entries: list[intake.Entry], keys: dict[str, dict], jobs: int,
             on_start: Callable[[str], None]) -> Iterator[Row]:
    """Grade on this machine, ``jobs`` submissions at a time; yields rows as they finish."""

    def job(entry: intake.Entry) -> Row | None:
        if isolate.interrupted():
            return None
        on_start(entry.name)
        return grading_job.run_local(ctx, entry, keys[entry.name])

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade") as pool:
        futures = [pool.submit(job, entry) for entry in entries]
        try:
            for future in as_completed(futures):
                row = future.result()
                if row is not None:
                    yield row
        except BaseException:
            isolate.stop_all()
            pool.shutdown(cancel_futures=True)
            raise


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM (a CI cancel, ``kill``) ends the batch like Ctrl-C: running grades are killed, outputs written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def progress_bar(console: Console) -> Progress:
    return Progress(TextColumn("[bold]grading[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.description}"),
                    console=console, disable=console.quiet)


def describe(row: Row) -> str:
    style = ROW_STYLE.get(row.status, "")
    score = f"{row.score:g}/{row.max_score:g}" if row.score is not None else ""
    nme = f"NME {100 * row.nme:.2f} %" if row.nme is not None else ""
    return f"[{style}]{row.status:>8}[/] {row.name:<24} {score:>9} {nme:<14} {row.reason[:100]}"


def settings_from(*, data_dir: Path | None, rubric: Path | None, seed: int | None, only: set[str] | None, device: str,
                  timeout: float | None, memory_mb: int | None, docker: bool, image: str | None,
                  workers: int | None = None) -> GradeSettings:
    image = image or os.environ.get("FKP_DOCKER_IMAGE")
    if docker and not image:
        raise ValueError("--docker needs the image: --image NAME or FKP_DOCKER_IMAGE (make -s docker-image prints it)")
    data_dir = Path(data_dir or os.environ.get("FKP_DATA_DIR") or "data/facial-keypoints")  # as the grade verb
    return GradeSettings(data_dir.resolve(), None if rubric is None else Path(rubric).resolve(), seed,
                         tuple(sorted(only)) if only else None, device, timeout, memory_mb,
                         image if docker else None, workers)


def shared_cores(jobs: int) -> int:
    """Units of checks per grade when ``jobs`` grades share this machine's cores equally."""
    return cores.workers_for(max(1, cores.available_cores() // max(1, jobs)))


@dataclass(frozen=True)
class Plan:
    """Which submissions this run covers, their resume keys, and which of them are already up to date."""

    selected: list[intake.Entry]
    keys: dict[str, dict]
    kept: dict[str, Row]
    todo: list[intake.Entry]
    rubric_sha256: str
    grader_sha256: str
    max_score: float
    similarity: SimilarityConfig


def make_plan(selected: list[intake.Entry], out: Path, settings: GradeSettings, resume: bool) -> Plan:
    rub = load_rubric(settings.rubric, only=set(settings.only) if settings.only else None)
    code = grading_job.grader_sha256()
    keys = {e.name: grading_job.resume_key(intake.source_sha256(e), rub.digest, code, settings) for e in selected}
    kept = {e.name: row for e in selected if resume and (row := up_to_date(out, e.name, keys[e.name]))}
    return Plan(selected, keys, kept, [e for e in selected if e.name not in kept], rub.digest, code, rub.max_score,
                rub.similarity)


def grade_all(plan: Plan, ctx: grading_job.JobContext, log: EventLog, console: Console, *, jobs: int,
              dask: str | None) -> tuple[dict[str, Row], bool]:
    """Grade what the plan says, logging and showing each row as it comes; (rows, interrupted)."""
    rows = dict(plan.kept)
    on_start = lambda name: log.log("started", name=name)  # noqa: E731
    isolate.allow_runs()
    with progress_bar(console) as bar, sigterm_as_interrupt():
        task = bar.add_task("", total=len(plan.todo))
        runner = (cluster.run_dask(ctx, dask, plan.todo, plan.keys, on_start) if dask else
                  run_here(ctx, plan.todo, plan.keys, jobs, on_start))
        try:
            for row in runner:
                rows[row.name] = row
                log.log("finished" if row.status == "graded" else "error", name=row.name, status=row.status,
                        score=row.score, nme=row.nme, duration_s=row.duration_s, reason=row.reason)
                bar.console.print(describe(row))
                bar.update(task, advance=1, description=row.name)
        except KeyboardInterrupt:
            isolate.stop_all()
            return rows, True
    return rows, False


def main(*, submissions: Path, out: Path = Path("reports"), jobs: int = 1, docker: bool = False,
         image: str | None = None, timeout: float | None = 3600.0, memory_mb: int | None = 8192,
         shard: str | None = None, resume: bool = False, dask: str | None = None, rubric: Path | None = None,
         data_dir: Path | None = None, seed: int | None = None, only: set[str] | None = None,
         device: str = "auto", quiet: bool = False, workers: int | None = None) -> int:
    console = Console(stderr=True, quiet=quiet)
    try:
        entries, notes = intake.list_entries(submissions)
        selected = intake.select_shard(entries, shard)
        settings = settings_from(data_dir=data_dir, rubric=rubric, seed=seed, only=only, device=device,
                                 timeout=timeout, memory_mb=memory_mb, docker=docker, image=image,
                                 workers=workers or (None if dask else shared_cores(jobs)))
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]batch:[/] {exc}")
        return 2
    if not dask and not (settings.data_dir / "training_frames_keypoints.csv").is_file():
        console.print(f"[red]batch:[/] no dataset in {settings.data_dir}; run `make data DATA_SOURCE=...` first.")
        return 2
    for note in notes:
        console.print(f"[yellow]batch:[/] {note}")
    if not dask:
        console.print(f"batch: {jobs} submission(s) at a time, each grading {settings.workers} unit(s) of checks "
                      "side by side (--jobs, --workers)")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    plan = make_plan(selected, out, settings, resume)
    log = EventLog(out / "events.jsonl")
    log.log("batch_started", submissions=str(Path(submissions).resolve()), total=len(selected),
            to_grade=len(plan.todo), shard=shard, jobs=jobs, dask=dask, docker=docker, grader=__version__,
            rubric_sha256=plan.rubric_sha256)
    for name in plan.kept:
        log.log("skipped", name=name, reason="up to date (same content, grader and rubric)")
    write_json(out / "manifest.json", {"schema_version": 1, "shard": shard, "names": [e.name for e in selected],
                                       "grader_version": __version__, "grader_sha256": plan.grader_sha256,
                                       "rubric_sha256": plan.rubric_sha256, "seed": seed, "only": settings.only,
                                       "similarity": asdict(plan.similarity)})
    if docker and plan.todo:
        settings = isolate.fill_shared_cache(settings)
    ctx = grading_job.JobContext(out, settings, plan.max_score, plan.similarity)
    rows, interrupted = grade_all(plan, ctx, log, console, jobs=jobs, dask=dask)
    ordered = [rows[e.name] for e in selected if e.name in rows]
    with suppress(OSError):
        (out / grading_job.WORK_DIR).rmdir()  # empty once every job cleaned up after itself
    write_outputs(ordered, out, plan.similarity)
    log.log("batch_interrupted" if interrupted else "batch_finished", done=len(rows) - len(plan.kept),
            kept=len(plan.kept), missing=len(selected) - len(rows))
    counts = {s: sum(r.status == s for r in ordered) for s in ("graded", "error", "timeout")}
    console.print(f"batch: {len(ordered)}/{len(selected)} submissions ({counts['graded']} graded, "
                  f"{counts['error']} error, {counts['timeout']} timeout; {len(plan.kept)} up to date). "
                  f"Gradebook: {out / 'gradebook.csv'}  Index: {out / 'index.html'}")
    return 130 if interrupted else 0
