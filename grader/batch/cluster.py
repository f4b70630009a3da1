"""Grade a batch on an existing Dask distributed cluster (``batch --dask tcp://scheduler:8786``).

Each submission travels as one task: the client sends the checked, zipped submission; the worker
grades it in a subprocess (or the container with ``--docker``) exactly like a local job, and
sends back the zipped report folder and the log. So workers need the grader installed and the
dataset at the same path, but no shared filesystem with the client. Start workers with
``--nthreads 1`` (one grade at a time per worker) and enough memory for one grade.
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Iterator

from grader.batch import intake
from grader.batch.gradebook import Row
from grader.batch.grading_job import JobContext, file_report, fingerprints, grade_archive, refused, scratch_for
from grader.batch.isolate import GradeEnd


def connect(address: str, timeout_s: float = 30.0):
    try:
        from distributed import Client
    except ImportError:
        raise SystemExit("batch --dask needs the cluster extra: pip install -e '.[cluster]'") from None
    return Client(address, timeout=f"{timeout_s}s", set_as_default=False)


def packed(ctx: JobContext, entry: intake.Entry, scratch: Path) -> tuple[bytes, str, dict | None]:
    """The submission as zip bytes for a worker, its content hash and its fingerprints (taken here, on the
    client, while it is unpacked); raises UnsafeSubmission."""
    root = intake.prepare(entry, scratch / "submission")
    intake.pack_folder(root, scratch / "submission.zip")
    return (scratch / "submission.zip").read_bytes(), intake.content_sha256(root), fingerprints(ctx, root)


def receive(ctx: JobContext, row: Row, answer: dict, prints: dict | None) -> Row:
    """File a worker's answer: unpack its report folder beside the log, then publish as a local job does."""
    scratch = scratch_for(ctx, row.name)
    try:
        out = scratch / "out"
        out.mkdir()
        if answer["report"]:
            (scratch / "report.zip").write_bytes(answer["report"])
            intake.unpack_report(scratch / "report.zip", out / row.name)
        (out / f"{row.name}.log").write_bytes(answer["log"])
        end = GradeEnd(**answer["end"])
        if end.status == "graded" and not (out / row.name / "results.json").is_file():
            end = GradeEnd("error", "the worker reported a grade but sent no results.json", end.returncode,
                           end.duration_s)
        return file_report(ctx, row, end, out, prints)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_dask(ctx: JobContext, address: str, entries: list[intake.Entry], keys: dict[str, dict],
             on_start: Callable[[str], None]) -> Iterator[Row]:
    """Submit every entry as a task; yield rows as tasks finish (a lost worker becomes that row's error)."""
    from distributed import as_completed

    client = connect(address)
    try:
        futures, rows, prints = {}, {}, {}
        for entry in entries:
            row = Row(entry.name, "error", source=entry.path.name, key=keys[entry.name])
            with tempfile.TemporaryDirectory(prefix="fkp-pack-") as scratch:
                try:
                    archive, row.content_sha256, prints[entry.name] = packed(ctx, entry, Path(scratch))
                except intake.UnsafeSubmission as exc:
                    yield refused(ctx, row, str(exc))
                    continue
            on_start(entry.name)
            future = client.submit(grade_archive, entry.name, archive, ctx.settings, pure=False,
                                   key=f"fkp-grade-{entry.name}-{uuid.uuid4().hex[:12]}")
            futures[future], rows[future.key] = entry.name, row
        for future in as_completed(list(futures), loop=client.loop):
            row = rows[future.key]
            try:
                answer = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker or a failed task is this row's error
                yield refused(ctx, row, f"the Dask task failed: {type(exc).__name__}: {exc}")
                continue
            yield receive(ctx, row, answer, prints.pop(row.name))
    finally:
        client.close()
