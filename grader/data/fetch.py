"""``make data``: put the dataset and the sample photos under ``data/`` and verify them.

Sources, in order: ``--source`` (a directory in the course layout, or a .zip/.tar[.gz]
archive of one), then the upstream course archive when the network allows. The CSVs
must match the course's SHA-256 and the counts must be right; a second run with the
data already verified does nothing. Standard library only, so it runs anywhere (an
instructor's private test set, ``--test-source``, needs the grader's dependencies).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

TRAIN_CSV = "training_frames_keypoints.csv"
TEST_CSV = "test_frames_keypoints.csv"
CSV_SHA256 = {
    TRAIN_CSV: "9f3d1213429893d4955e2789076f6ce11e297253fed86337cffb6ca85bd61ec8",
    TEST_CSV: "348e5e1a5906001f64d3da627e4f61dc3de90771d6d92f5d93628029b3c85e65",
}
EXPECTED_COUNTS = {"training rows": 3462, "labelled test rows": 770, "test files": 2308}
SAMPLE_FILES = ("obamas.jpg", "the_beatles.jpg", "mona_lisa.jpg", "sunglasses.png", "moustache.png", "straw_hat.png")
UPSTREAM_ARCHIVE = (
    "https://s3.amazonaws.com/video.udacity-data.com/topher/2018/May/5aea1b91_train-test-data/train-test-data.zip"
)
UPSTREAM_SAMPLES = "https://raw.githubusercontent.com/udacity/P1_Facial_Keypoints/master/images/"
STAMP = ".verified.json"
PRIVATE_TEST = "private-test"  # data/private-test: an instructor's test set (grader.data.private)
MANIFEST = "manifest.json"  # beside a private test set's labels: its SHA-256, counts and anchors

HOW_TO = (
    "Point `make data` at a copy of the dataset in the course layout (training/, test/ and the two CSVs), "
    "a directory or a .zip/.tar.gz archive:\n"
    "    make data DATA_SOURCE=/path/to/facial-keypoints [SAMPLES_SOURCE=/path/to/samples]"
)


class DataError(Exception):
    """The dataset could not be found or failed verification; the message says what to do."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def csv_names(csv_path: Path) -> list[str]:
    """Image names of a keypoints CSV (first column, header skipped)."""
    lines = csv_path.read_text().splitlines()[1:]
    return [line.split(",", 1)[0] for line in lines if line.strip()]


def find_dataset_root(folder: Path) -> Path | None:
    """The folder holding the training CSV, searched up to three levels down (archives nest it)."""
    for depth in range(4):
        for candidate in sorted(folder.glob("/".join(["*"] * depth + [TRAIN_CSV]))):
            if "__MACOSX" not in candidate.parts:
                return candidate.parent
    return None


def verify(root: Path) -> dict:
    """Check the CSV checksums, the counts and that every labelled image exists; return a summary."""
    problems = []
    for name, expected in CSV_SHA256.items():
        path = root / name
        if not path.is_file():
            raise DataError(f"{path}: missing. The dataset folder must hold {TRAIN_CSV} and {TEST_CSV}.\n{HOW_TO}")
        found = sha256(path)
        if found != expected:
            problems.append(
                f"{path}: SHA-256 is {found}, expected {expected}. The CSV is not the course's file "
                "(edited, truncated or another version); copy it again from the original dataset."
            )
    if problems:
        raise DataError("\n".join(problems))
    train_names, test_names = csv_names(root / TRAIN_CSV), csv_names(root / TEST_CSV)
    test_files = [p for p in (root / "test").glob("*") if p.is_file()] if (root / "test").is_dir() else []
    counts = {"training rows": len(train_names), "labelled test rows": len(test_names), "test files": len(test_files)}
    for what, expected in EXPECTED_COUNTS.items():
        if counts[what] != expected:
            problems.append(f"{root}: {counts[what]} {what}, expected {expected}.")
    for split, names in (("training", train_names), ("test", test_names)):
        missing = [n for n in names if not (root / split / n).is_file()]
        if missing:
            problems.append(f"{root / split}: {len(missing)} images named in the CSV are missing, e.g. {missing[:3]}.")
    if problems:
        raise DataError("\n".join(problems) + "\nThe copy is incomplete; copy or extract the whole dataset again.")
    return counts


def extract(archive: Path, into: Path) -> Path:
    """Extract a zip or tar archive safely (no absolute paths, no '..') and return the dataset root in it."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise DataError(f"{archive}: refuses to extract unsafe path {member!r}")
            zf.extractall(into)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")
    else:
        raise DataError(f"{archive}: neither a directory nor a zip/tar archive.\n{HOW_TO}")
    root = find_dataset_root(into)
    if root is None:
        raise DataError(f"{archive}: no {TRAIN_CSV} inside the archive.\n{HOW_TO}")
    return root


def download(url: str, to: Path) -> None:
    print(f"downloading {url}", flush=True)
    with urllib.request.urlopen(url, timeout=60) as response, open(to, "wb") as out:
        shutil.copyfileobj(response, out)


def copy_dataset(root: Path, dest: Path) -> None:
    """Copy the course layout (the two CSVs, training/ and test/) into ``dest``, replacing what is there."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in CSV_SHA256:
        shutil.copy2(root / name, tmp / name)
    for split in ("training", "test"):
        shutil.copytree(root / split, tmp / split)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)  # atomic: a half-copied folder never looks like a dataset


def already_verified(dest: Path) -> bool:
    stamp = dest / STAMP
    if not stamp.is_file():
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except json.JSONDecodeError:
        return False
    return recorded.get("csv_sha256") == CSV_SHA256 and all(
        (dest / n).is_file() and (dest / n).stat().st_size == recorded["csv_sizes"].get(n) for n in CSV_SHA256
    )


def fetch_dataset(source: str | None, dest: Path) -> str:
    if already_verified(dest):  # the CSVs are pinned by checksum, so any verified copy is the same data
        return f"{dest}: already in place and verified (nothing to do)"
    with tempfile.TemporaryDirectory(prefix="fkp-data-") as tmp:
        if source:
            src = Path(source).expanduser()
            if src.is_dir():
                root = find_dataset_root(src)
                if root is None:
                    raise DataError(f"{src}: no {TRAIN_CSV} in this folder or below.\n{HOW_TO}")
            elif src.is_file():
                root = extract(src, Path(tmp))
            else:
                raise DataError(f"DATA_SOURCE={source}: no such file or directory.\n{HOW_TO}")
        else:
            archive = Path(tmp) / "train-test-data.zip"
            try:
                download(UPSTREAM_ARCHIVE, archive)
            except OSError as exc:
                raise DataError(f"No dataset in {dest}, no DATA_SOURCE given, and the download failed ({exc}).\n{HOW_TO}")
            root = extract(archive, Path(tmp) / "x")
        counts = verify(root)
        copy_dataset(root, dest)
    sizes = {n: (dest / n).stat().st_size for n in CSV_SHA256}
    (dest / STAMP).write_text(json.dumps({"csv_sha256": CSV_SHA256, "csv_sizes": sizes, "counts": counts}, indent=1))
    return f"{dest}: {counts['training rows']} training, {counts['labelled test rows']} labelled test rows, {counts['test files']} test files; checksums verified"


def private_test_beside(data_dir: Path) -> Path | None:
    """The private test set installed beside the course's dataset folder ``data_dir``, if any."""
    folder = Path(data_dir).parent / PRIVATE_TEST
    return folder if (folder / MANIFEST).is_file() else None


def test_set_sha256(data_dir: Path) -> str:
    """What identifies the faces a grade scores on: the private set's manifest hash, else the course's
    pinned test CSV checksum (part of a batch's resume key)."""
    private = private_test_beside(data_dir)
    if private is None:
        return CSV_SHA256[TEST_CSV]
    return json.loads((private / MANIFEST).read_text())["sha256"]


def samples_candidates(source: str | None, data_source: str | None) -> list[Path]:
    """Where to look for the sample photos: SAMPLES_SOURCE, else a `samples/` folder near DATA_SOURCE."""
    if source:
        return [Path(source).expanduser()]
    if not data_source:
        return []
    base = Path(data_source).expanduser().resolve()
    return [p / "samples" for p in (base, *list(base.parents)[:2])]


def fetch_samples(source: str | None, data_source: str | None, dest: Path) -> str:
    if all((dest / n).is_file() for n in SAMPLE_FILES):
        return f"{dest}: sample photos already in place (nothing to do)"
    candidates = samples_candidates(source, data_source)
    for folder in candidates:
        if all((folder / n).is_file() for n in SAMPLE_FILES):
            dest.mkdir(parents=True, exist_ok=True)
            for n in SAMPLE_FILES:
                shutil.copy2(folder / n, dest / n)
            return f"{dest}: {len(SAMPLE_FILES)} sample photos copied from {folder}"
    if source:
        raise DataError(f"SAMPLES_SOURCE={source}: expected {', '.join(SAMPLE_FILES)} in that folder.")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for n in SAMPLE_FILES:
            download(UPSTREAM_SAMPLES + n, dest / n)
    except OSError as exc:
        raise DataError(
            f"No sample photos found (looked in {', '.join(map(str, candidates)) or 'nowhere'}) and the download "
            f"failed ({exc}). Run: make data SAMPLES_SOURCE=/path/to/samples (a folder with {', '.join(SAMPLE_FILES)})"
        )
    return f"{dest}: sample photos downloaded"


def main(*, source: str | None = None, samples_source: str | None = None, dest: Path = Path("data"),
         test_source: str | None = None, test_mode: str = "replace") -> int:
    """Fill ``dest/facial-keypoints`` and ``dest/samples`` (and ``dest/private-test`` from an instructor's
    ``test_source``: grader.data.private); return a process exit status."""
    try:
        print(fetch_dataset(source or None, dest / "facial-keypoints"), flush=True)
        print(fetch_samples(samples_source or None, source or None, dest / "samples"), flush=True)
        if test_source:
            from grader.data import private  # numpy and OpenCV: only when a private set is asked for

            print(private.install(Path(test_source), test_mode, dest / PRIVATE_TEST, dest / "facial-keypoints"),
                  flush=True)
    except DataError as exc:
        print(f"make data: {exc}", file=sys.stderr)
        return 2
    return 0
