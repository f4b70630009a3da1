"""What a batch grades: the submissions in a folder (sub-folders and .zip files), their shard, safe unpacking.

A zip is checked whole before anything is written: a member with an absolute path, a ``..``
component, a symlink or a special file, or more bytes than the limits, refuses the archive
(zip slip and zip bombs). Folder submissions may not hold special files (a named pipe blocks a
reader forever) nor symlinks that leave the folder.
"""
from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.submission.layout import Submission

MAX_UNPACKED_MB = 4096  # a student's weights are at most a few hundred MB; more is a zip bomb
MAX_MEMBERS = 20_000
IGNORED_DIRS = ("__MACOSX",)


class UnsafeSubmission(Exception):
    """The submission cannot be graded safely; the message says why (it becomes the row's reason)."""


@dataclass(frozen=True)
class Entry:
    """One submission as found in the SUBMISSIONS folder."""

    name: str
    """Report name: the folder's name, or the zip's name without .zip."""
    path: Path
    kind: str
    """``folder`` or ``zip``."""


def list_entries(folder: Path) -> tuple[list[Entry], list[str]]:
    """Submissions in ``folder`` sorted by name, and notes on what was left out (and why)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of submissions (sub-folders or .zip files)")
    entries: dict[str, Entry] = {}
    notes = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            entry = Entry(path.name, path, "folder")
        elif path.suffix.lower() == ".zip" and path.is_file():
            entry = Entry(path.stem, path, "zip")
        else:
            notes.append(f"{path.name}: left out (neither a folder nor a .zip file)")
            continue
        if entry.name in entries:
            notes.append(f"{path.name}: left out (the name {entry.name!r} is taken by {entries[entry.name].path.name})")
            continue
        entries[entry.name] = entry
    return sorted(entries.values(), key=lambda e: e.name), notes


def parse_shard(spec: str) -> tuple[int, int]:
    """``"i/n"`` (1 <= i <= n) -> (i, n)."""
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise ValueError(f"--shard {spec!r}: expected i/n, e.g. 1/4 (the first of four shards)") from None
    if not 1 <= index <= count:
        raise ValueError(f"--shard {spec!r}: i must be between 1 and n")
    return index, count


def select_shard(entries: list[Entry], spec: str | None) -> list[Entry]:
    """Shard i of n takes every n-th submission in name order, starting at the i-th: stable and balanced."""
    if not spec:
        return list(entries)
    index, count = parse_shard(spec)
    ordered = sorted(entries, key=lambda e: e.name)
    return [e for position, e in enumerate(ordered) if position % count == index - 1]


def source_sha256(entry: Entry) -> str:
    """The resume key of what was handed in: the zip's bytes, or the folder's files."""
    if entry.kind == "zip":
        digest = hashlib.sha256()
        with open(entry.path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    return content_sha256(entry.path)


def content_sha256(root: Path) -> str:
    """The submission's content hash as ``Submission.content_hash`` defines it (equal content, equal hash)."""
    root = Path(root)
    return Submission(root, root.name, "unknown", root, root).content_hash()


def check_zip(archive: zipfile.ZipFile, label: str, max_mb: int = MAX_UNPACKED_MB) -> list[zipfile.ZipInfo]:
    """The members to extract; raises UnsafeSubmission naming the first offending member."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise UnsafeSubmission(f"{label}: {len(members)} files, more than {MAX_MEMBERS}")
    total = 0
    for info in members:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (parts and parts[0].endswith(":")):
            raise UnsafeSubmission(f"{label}: member {name!r} has an absolute path; refusing the whole archive")
        if ".." in parts:
            raise UnsafeSubmission(f"{label}: member {name!r} climbs out with '..' (zip slip); refusing the whole archive")
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no Unix file type
        if kind == stat.S_IFLNK:
            raise UnsafeSubmission(f"{label}: member {name!r} is a symbolic link; refusing the whole archive")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeSubmission(f"{label}: member {name!r} is a special file; refusing the whole archive")
        total += info.file_size
    if total > max_mb << 20:
        raise UnsafeSubmission(f"{label}: unpacks to {total >> 20} MB, more than {max_mb} MB")
    return [m for m in members if not (set(PurePosixPath(m.filename).parts) & set(IGNORED_DIRS))]


def extract_zip(path: Path, dest: Path, max_mb: int = MAX_UNPACKED_MB) -> None:
    """Unpack a checked archive into the empty folder ``dest``; counts the bytes really written too."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeSubmission(f"{path.name}: not a readable zip file ({exc})") from None
    with archive:
        members = check_zip(archive, path.name, max_mb)
        budget = max_mb << 20
        dest.mkdir(parents=True, exist_ok=True)
        try:
            for info in members:
                target = dest.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(target, "wb") as sink:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        budget -= len(block)
                        if budget < 0:
                            raise UnsafeSubmission(f"{path.name}: unpacks to more than {max_mb} MB")
                        sink.write(block)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise UnsafeSubmission(f"{path.name}: damaged archive ({exc})") from None


def check_folder(root: Path, label: str) -> None:
    """Refuse special files and symlinks that point outside the submission."""
    resolved_root = root.resolve()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_symlink():
            target = path.resolve()
            if target != resolved_root and resolved_root not in target.parents:
                raise UnsafeSubmission(f"{label}: {relative} is a symbolic link to {target}, outside the submission")
            continue
        mode = path.lstat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise UnsafeSubmission(f"{label}: {relative} is a special file (a pipe, socket or device); remove it")


def submission_root(folder: Path) -> Path:
    """Where models.py's layout starts: archives often wrap everything in one top folder."""
    if (folder / "student").is_dir() or (folder / "models.py").is_file():
        return folder
    children = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in IGNORED_DIRS]
    if len(children) == 1 and children[0].is_dir():
        return submission_root(children[0])
    return folder


def prepare(entry: Entry, scratch: Path) -> Path:
    """A checked folder to grade: the folder itself, or the zip unpacked under ``scratch``."""
    if entry.kind == "zip":
        extract_zip(entry.path, scratch)
        root = submission_root(scratch)
    else:
        root = submission_root(entry.path)
    check_folder(root, entry.path.name)
    return root


def pack_folder(root: Path, archive: Path) -> None:
    """Zip a checked folder (regular files only) to send it to a cluster worker."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                handle.write(path, path.relative_to(root).as_posix())


def unpack_report(archive: Path, dest: Path) -> None:
    """Unpack a report folder a worker sent back (checked like any archive)."""
    shutil.rmtree(dest, ignore_errors=True)
    extract_zip(archive, dest)
