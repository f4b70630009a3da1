"""`make data` (grader.fetch): verification, refusal of a wrong copy, idempotence."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.data import fetch

ROOT = Path(__file__).resolve().parents[1]


def small_copy(dataset_dir: Path, to: Path) -> Path:
    """A copy that shares the real images via symlinked folders (cheap) and has real CSV copies."""
    to.mkdir()
    for name in fetch.CSV_SHA256:
        shutil.copy2(dataset_dir / name, to / name)
    for split in ("training", "test"):
        (to / split).symlink_to(dataset_dir / split)
    return to


def run_data(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "data", *args], cwd=cwd, capture_output=True, text=True)


def test_verified_copy_then_second_run_is_a_no_op(dataset_dir, samples_dir, tmp_path):
    source = small_copy(dataset_dir, tmp_path / "src")
    dest = tmp_path / "data"
    first = fetch.main(source=str(source), samples_source=str(samples_dir), dest=dest)
    assert first == 0
    assert len(list((dest / "facial-keypoints" / "test").iterdir())) == 2308
    stamp = (dest / "facial-keypoints" / fetch.STAMP).stat().st_mtime_ns
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "data", "--source", str(source), "--dest", str(dest)],
        cwd=ROOT, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    assert "nothing to do" in proc.stdout
    assert (dest / "facial-keypoints" / fetch.STAMP).stat().st_mtime_ns == stamp
    print(f"second `grader data` run: {elapsed:.2f} s")


def test_refuses_a_copy_whose_csv_checksum_is_wrong(dataset_dir, tmp_path):
    source = small_copy(dataset_dir, tmp_path / "src")
    csv = source / "test_frames_keypoints.csv"
    csv.write_text(csv.read_text().replace("45.0", "46.0", 1))
    proc = run_data("--source", str(source), "--dest", str(tmp_path / "data"), cwd=ROOT)
    assert proc.returncode == 2
    assert "test_frames_keypoints.csv: SHA-256 is" in proc.stderr
    assert fetch.CSV_SHA256["test_frames_keypoints.csv"] in proc.stderr
    assert not (tmp_path / "data" / "facial-keypoints").exists()


def test_refuses_a_copy_with_missing_images(dataset_dir, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in fetch.CSV_SHA256:
        shutil.copy2(dataset_dir / name, source / name)
    (source / "training").symlink_to(dataset_dir / "training")
    (source / "test").mkdir()
    with pytest.raises(fetch.DataError, match="0 test files, expected 2308"):
        fetch.fetch_dataset(str(source), tmp_path / "data")


def test_without_any_source_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "UPSTREAM_ARCHIVE", "http://127.0.0.1:9/unreachable.zip")
    with pytest.raises(fetch.DataError, match="make data DATA_SOURCE="):
        fetch.fetch_dataset(None, tmp_path / "data")


def test_archive_source_and_unsafe_archive(dataset_dir, tmp_path):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(fetch.DataError, match="unsafe path"):
        fetch.fetch_dataset(str(archive), tmp_path / "data")
    assert not (tmp_path / "escape.txt").exists()
