"""``python -m grader gradescope``: write Gradescope's autograder.zip (docs/gradescope.md).

The zip's root is what Gradescope unpacks into ``/autograder/source``: ``setup.sh`` and
``run_autograder`` (static scripts, next to this module), the grader's source, the rubric, the pins
(pyproject.toml with docker/requirements.py, which splits them), the course's data_load.py, a
manifest, and with ``data`` the dataset and the sample photos, verified against the pinned CSV
checksums first. Without ``data``, setup.sh fetches them from the course's archive and verifies the
same checksums (``python -m grader data``).
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

from grader import __version__
from grader.data import fetch
from grader.rubric import load_rubric

PROJECT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCRIPTS = {"setup.sh": HERE / "setup.sh", "run_autograder": HERE / "run_autograder"}
# What the zip takes from a checkout besides grader/: the pins and the file that splits them, and the
# course's data_load.py (the grader supplies it to a submission that leaves it out).
CHECKOUT_FILES = {"pyproject.toml": "pyproject.toml", "requirements.py": "docker/requirements.py",
                  "student/data_load.py": "student/data_load.py"}
STORED = {".jpg", ".jpeg", ".png", ".pt"}  # already compressed: deflating them costs time for nothing
MANIFEST = "fkp-autograder.json"


class PackageError(Exception):
    """The package cannot be built; the message says what is missing and how to fix it."""


def source_files() -> dict[str, Path]:
    """Zip name -> file of the grader's source and of the checkout files the package needs."""
    missing = [name for name in CHECKOUT_FILES.values() if not (PROJECT / name).is_file()]
    if missing:
        raise PackageError(f"{PROJECT}: {', '.join(missing)} missing; build the package from a checkout of the "
                           "grading harness (the grading image holds the grader only).")
    files = {arcname: PROJECT / name for arcname, name in CHECKOUT_FILES.items()}
    for path in sorted((PROJECT / "grader").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[str(path.relative_to(PROJECT))] = path
    return files


def data_files(data: Path, samples: Path | None) -> dict[str, Path]:
    """Zip name -> file of the dataset (verified: CSV checksums, counts, every labelled image) and the photos."""
    root = fetch.find_dataset_root(data) if data.is_dir() else None
    if root is None:
        raise PackageError(f"--data {data}: no {fetch.TRAIN_CSV} in this folder or below; give the dataset folder "
                           "in the course layout (training/, test/ and the two CSVs), e.g. data/facial-keypoints.")
    try:
        fetch.verify(root)
    except fetch.DataError as exc:
        raise PackageError(f"--data {data}: {exc}") from None
    files = {f"data/facial-keypoints/{name}": root / name for name in fetch.CSV_SHA256}
    for split in ("training", "test"):
        for path in sorted((root / split).iterdir()):
            if path.is_file():
                files[f"data/facial-keypoints/{split}/{path.name}"] = path
    folder = samples or root.parent / "samples"
    if all((folder / name).is_file() for name in fetch.SAMPLE_FILES):
        files.update({f"data/samples/{name}": folder / name for name in fetch.SAMPLE_FILES})
    elif samples:
        raise PackageError(f"--samples {samples}: expected {', '.join(fetch.SAMPLE_FILES)} in that folder.")
    return files


def manifest(rubric_path: Path, bundled: dict[str, Path]) -> dict:
    rubric = load_rubric(rubric_path)
    return {
        "grader": __version__, "rubric_sha256": rubric.digest, "max_score": rubric.max_score,
        "data": "bundled" if any(name.startswith("data/facial-keypoints/") for name in bundled)
        else "fetched by setup.sh from the course's archive",
        "samples": "bundled" if any(name.startswith("data/samples/") for name in bundled)
        else "fetched by setup.sh from the course's repository",
        "csv_sha256": fetch.CSV_SHA256, "counts": fetch.EXPECTED_COUNTS,
    }


def write_zip(out: Path, files: dict[str, Path], manifest_data: dict) -> None:
    """Write the zip under a temporary name and rename it into place; scripts are executable."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for arcname, path in files.items():
                info = zipfile.ZipInfo.from_file(path, arcname)
                info.external_attr = (0o755 if arcname in SCRIPTS else 0o644) << 16
                info.compress_type = zipfile.ZIP_STORED if path.suffix.lower() in STORED else zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
            archive.writestr(MANIFEST, json.dumps(manifest_data, indent=2) + "\n")
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; it is a file to upload, not a secret of this machine
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(*, out: Path, rubric: Path | None = None, data: Path | None = None, samples: Path | None = None,
         quiet: bool = False) -> int:
    """Write the autograder zip to ``out``; return a process exit status."""
    rubric_path = Path(rubric) if rubric else Path(__file__).resolve().parents[1] / "rubric.toml"
    try:
        files = {**SCRIPTS, **source_files(), "rubric.toml": rubric_path}
        bundled = data_files(Path(data), Path(samples) if samples else None) if data else {}
        files.update(bundled)
        what = manifest(rubric_path, bundled)
        write_zip(Path(out), files, what)
    except (PackageError, OSError, ValueError) as exc:
        print(f"gradescope: {exc}")
        return 2
    if not quiet:
        print(f"gradescope: {out}: {len(files) + 1} files, {Path(out).stat().st_size / 1e6:.1f} MB; rubric "
              f"{rubric_path} ({what['max_score']:g} points); data {what['data']}, samples {what['samples']}.\n"
              "Upload it as the assignment's autograder (Gradescope: Configure Autograder, zip file upload).")
    return 0
