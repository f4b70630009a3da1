"""One submission's trip through a batch: unpack, grade in isolation, file the report with its marker.

Everything for one submission happens in a private scratch folder under ``OUT/.batch-work``; the
finished ``<name>/`` folder (report + ``batch.json`` + ``grade.log``) then replaces the old one
with two renames, so a reader sees the old report or the whole new one, never a mix, and no job
ever writes outside its own name.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import grader
from grader.batch import intake, isolate
from grader.batch.gradebook import Row, failure_results, row_from_results, write_marker
from grader.batch.isolate import GradeEnd, GradeSettings
from grader.batch.similarity.prints import PRINTS_FILE, fingerprint_submission
from grader.data.fetch import test_set_sha256
from grader.results import publish_folder, write_json
from grader.rubric import SimilarityConfig

WORK_DIR = ".batch-work"
SOURCE_SUFFIXES = (".py", ".toml", ".j2")


def grader_sha256() -> str:
    """Digest of the grader's own source: a changed check re-grades on resume even without a version bump."""
    root = Path(grader.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def resume_key(source_sha256: str, rubric_sha256: str, code_sha256: str, settings: GradeSettings) -> dict:
    """What must be unchanged for a previous grade to stand."""
    return {"source_sha256": source_sha256, "grader_version": grader.__version__, "grader_sha256": code_sha256,
            "rubric_sha256": rubric_sha256, "seed": settings.seed,
            "only": sorted(settings.only) if settings.only else None,
            "test_set_sha256": test_set_sha256(settings.data_dir)}


@dataclass(frozen=True)
class JobContext:
    """What every job of one batch shares."""

    out: Path
    settings: GradeSettings
    max_score: float
    similarity: SimilarityConfig = SimilarityConfig()


def scratch_for(ctx: JobContext, name: str) -> Path:
    root = ctx.out / WORK_DIR
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))


def fingerprints(ctx: JobContext, root: Path) -> dict | None:
    """The submission's fingerprints for the class-wide similarity pass (None when it is turned off)."""
    return fingerprint_submission(root, ctx.similarity) if ctx.similarity.enabled else None


def file_report(ctx: JobContext, row: Row, end: GradeEnd, graded_out: Path, prints: dict | None = None) -> Row:
    """Complete the row from what the grade left in ``graded_out`` (and the submission's fingerprints)
    and publish ``OUT/<name>/``."""
    folder = graded_out / row.name
    row.status, row.reason, row.duration_s = end.status, end.reason, round(end.duration_s, 2)
    if end.status == "graded":
        row_from_results(row, json.loads((folder / "results.json").read_text()))
    else:
        shutil.rmtree(folder, ignore_errors=True)  # a half-written report of a killed grade
        folder.mkdir(parents=True)
        row.max_score = ctx.max_score
        write_json(folder / "results.json", failure_results(row))
    log = graded_out / f"{row.name}.log"
    if log.exists():
        os.replace(log, folder / "grade.log")
    if prints is not None:
        write_json(folder / PRINTS_FILE, prints)
    write_marker(folder, row)
    publish_folder(folder, ctx.out / row.name)
    return row


def refused(ctx: JobContext, row: Row, reason: str) -> Row:
    """A submission that was not graded at all (unsafe archive, special files): an error row and its folder."""
    scratch = scratch_for(ctx, row.name)
    try:
        return file_report(ctx, row, GradeEnd("error", reason, None, 0.0), scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_local(ctx: JobContext, entry: intake.Entry, key: dict) -> Row | None:
    """Grade one submission on this machine; None when the batch was interrupted meanwhile."""
    row = Row(entry.name, "error", source=entry.path.name, key=key)
    scratch = scratch_for(ctx, entry.name)
    try:
        try:
            root = intake.prepare(entry, scratch / "submission")
        except intake.UnsafeSubmission as exc:
            return refused(ctx, row, str(exc))
        row.content_sha256 = intake.content_sha256(root)
        prints = fingerprints(ctx, root)
        end = isolate.grade_one(entry.name, root, ctx.settings, scratch / "out")
        if isolate.interrupted():
            return None
        return file_report(ctx, row, end, scratch / "out", prints)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def grade_archive(name: str, archive: bytes, settings: GradeSettings) -> dict:
    """Runs on a cluster worker: grade a zipped submission in a subprocess; returns the end and the zipped report."""
    with tempfile.TemporaryDirectory(prefix=f"fkp-{name}-") as scratch:
        scratch = Path(scratch)
        (scratch / "in.zip").write_bytes(archive)
        intake.extract_zip(scratch / "in.zip", scratch / "submission")
        end = isolate.grade_one(name, scratch / "submission", settings, scratch / "out")
        folder = scratch / "out" / name
        report = b""
        if folder.is_dir():
            intake.pack_folder(folder, scratch / "report.zip")
            report = (scratch / "report.zip").read_bytes()
        log = scratch / "out" / f"{name}.log"
        return {"end": asdict(end), "report": report, "log": log.read_bytes() if log.exists() else b"",
                "worker": os.uname().nodename}
