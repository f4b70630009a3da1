"""The adversarial suite's fixtures: each folder of tests/adversarial/ says what it does (fixture.toml)
and holds the files that differ from an honest submission; this module assembles them into a class
folder to grade. Files too big or too machine-specific to commit (a 2 GB weights file, a link to this
machine's test labels, a pickle that would run a command) are made by the builder the fixture names.
"""
from __future__ import annotations

import io
import os
import pickle
import shutil
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grading import DATA, ROOT, SUBMISSIONS

FIXTURES = ROOT / "tests" / "adversarial"
HONEST = SUBMISSIONS / "small_trained"  # the honest twin: every "honest" fixture must earn its score
WEIGHTS = "student/saved_models/keypoints_model.pt"
DAEMON_MARKER = "fkp-adversarial"  # in the command line of any process a fixture leaves behind


@dataclass(frozen=True)
class Fixture:
    name: str
    does: str
    category: str
    meta: dict = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return FIXTURES / self.name

    @property
    def honest(self) -> bool:
        """It must score exactly what the honest twin scores on the test set (lies and snooping change nothing)."""
        return bool(self.meta.get("honest"))


def fixtures() -> list[Fixture]:
    found = []
    for folder in sorted(FIXTURES.iterdir()):
        if (folder / "fixture.toml").is_file():
            meta = tomllib.loads((folder / "fixture.toml").read_text())
            found.append(Fixture(folder.name, meta.pop("does"), meta.pop("category"), meta))
    return found


def assemble(fixture: Fixture, into: Path, marker: Path) -> Path:
    """Write ``fixture`` as a submission under ``into``; returns what the batch will see (folder or archive).
    ``marker`` is the file a payload would create if the grader ever ran it."""
    target = into / fixture.name
    copy_honest(target)
    for path in sorted(fixture.folder.rglob("*")):
        if path.is_file() and path.name != "fixture.toml" and "__pycache__" not in path.parts:
            destination = target / path.relative_to(fixture.folder)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    if fixture.meta.get("snoop") and (target / "student").is_dir():  # its attempts print what they got
        shutil.copyfile(FIXTURES / "_shared" / "snoop.py", target / "student" / "snoop.py")
    build = fixture.meta.get("build")
    return BUILDERS[build](target, marker) if build else target


def copy_honest(target: Path) -> None:
    """The honest twin's files, its network also as ``honest_net.py`` for fixtures that subclass it."""
    shutil.copytree(HONEST, target, ignore=shutil.ignore_patterns("__pycache__", "train.py"))
    shutil.copyfile(HONEST / "student" / "models.py", target / "student" / "honest_net.py")


# -- builders: each gets the assembled folder and the marker path, returns the submission's path ---------
class RunsCommand:
    """Unpickling this runs a shell command (what a malicious weights file does)."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def pickle_into_pt(target: Path, payload) -> None:
    """A torch-format archive (zip) whose data.pkl holds ``payload`` beside a real state_dict's layout."""
    path = target / WEIGHTS
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(payload, protocol=2))
        archive.writestr("archive/version", "3\n")


def weights_pickle_runs_os_system(target: Path, marker: Path) -> Path:
    pickle_into_pt(target, {"head.weight": RunsCommand(f"touch {marker}")})
    return target


class ImportsPayload:
    """Unpickling this imports ``payload`` from the submission (its import runs os.system)."""

    def __reduce__(self):
        return __import__, ("payload",)


def weights_pickle_imports_the_submission(target: Path, marker: Path) -> Path:
    pickle_into_pt(target, {"head.weight": ImportsPayload()})
    return target


def weights_html_page(target: Path, marker: Path) -> Path:
    (target / WEIGHTS).write_text("<!DOCTYPE html><html><head><title>keypoints_model.pt</title></head></html>\n")
    return target


def weights_lfs_pointer(target: Path, marker: Path) -> Path:
    (target / WEIGHTS).write_text("version https://git-lfs.github.com/spec/v1\n"
                                  "oid sha256:" + "5e" * 32 + "\nsize 486835\n")
    return target


def weights_truncated(target: Path, marker: Path) -> Path:
    data = (target / WEIGHTS).read_bytes()
    (target / WEIGHTS).write_bytes(data[: len(data) // 2])
    return target


def weights_zip_bomb(target: Path, marker: Path) -> Path:
    """The honest archive with one tensor's storage replaced by 4 GB of zeros, deflated to a few MB."""
    path = target / WEIGHTS
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    bomb = next(info.filename for info, _ in members if "/data/" in info.filename)
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            if info.filename != bomb:
                archive.writestr(info, data)
                continue
            inflated = zipfile.ZipInfo(bomb)
            inflated.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(inflated, "w", force_zip64=True) as member:
                write_zeros(member, 4 << 30)
    return target


def write_zeros(handle, size: int) -> None:
    block = bytes(64 << 20)
    for _ in range(size // len(block)):
        handle.write(block)


def weights_2gb_file(target: Path, marker: Path) -> Path:
    with open(target / WEIGHTS, "r+b") as handle:  # sparse: 2 GB long, a few blocks on disk
        handle.truncate(2 << 30)
    return target


def link_notes(target: Path, to: Path) -> Path:
    (target / "student" / "notes.csv").symlink_to(to)
    return target


def symlink_to_labels(target: Path, marker: Path) -> Path:
    return link_notes(target, DATA / "test_frames_keypoints.csv")


def symlink_to_etc_shadow(target: Path, marker: Path) -> Path:
    return link_notes(target, Path("/etc/shadow"))


def symlink_to_grader_code(target: Path, marker: Path) -> Path:
    return link_notes(target, ROOT / "grader")


def hard_link_to_labels(target: Path, marker: Path) -> Path:
    os.link(DATA / "test_frames_keypoints.csv", target / "student" / "notes.csv")
    return target


def unicode_and_spaces(target: Path, marker: Path) -> Path:
    weights = target / WEIGHTS
    weights.rename(weights.with_name("modèle final (v2) ✓.pt"))
    return target.rename(target.with_name("Zoë Ångström – keypoints"))


def file_name_255_bytes(target: Path, marker: Path) -> Path:
    (target / "student" / ("n" * 251 + ".txt")).write_text("a name as long as the file system allows\n")
    return target


def hundred_thousand_files(target: Path, marker: Path) -> Path:
    junk = target / "student" / "junk"
    for group in range(100):
        folder = junk / f"{group:03d}"
        folder.mkdir(parents=True)
        for number in range(1000):
            (folder / f"{number:04d}.txt").touch()
    return target


def zip_of(target: Path, extra: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    """``target`` as a zip next to it, plus ``extra`` members; the folder is removed."""
    archive_path = target.with_suffix(".zip")
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(target.rglob("*")):
            if path.is_file():
                archive.write(path, str(path.relative_to(target.parent)))
        for info, data in extra:
            archive.writestr(info, data)
    shutil.rmtree(target)
    return archive_path


def zip_dotdot_members(target: Path, marker: Path) -> Path:
    return zip_of(target, [(f"{target.name}/../../escaped.txt", b"out of the folder\n")])


def zip_absolute_members(target: Path, marker: Path) -> Path:
    return zip_of(target, [(f"/tmp/{DAEMON_MARKER}-absolute.txt", b"at an absolute path\n")])


def zip_symlink_member(target: Path, marker: Path) -> Path:
    info = zipfile.ZipInfo(f"{target.name}/student/notes.csv")
    info.external_attr = (0o120777 << 16)  # a symbolic link, in the zip's Unix mode bits
    return zip_of(target, [(info, str(DATA / "test_frames_keypoints.csv").encode())])


def zip_bomb(target: Path, marker: Path) -> Path:
    archive_path = zip_of(target, [])
    with zipfile.ZipFile(archive_path, "a", zipfile.ZIP_DEFLATED) as archive:
        for number in range(5):  # 5 members of 1 GB of zeros each, more than a batch unpacks
            with archive.open(f"{target.name}/student/zeros-{number}.bin", "w", force_zip64=True) as member:
                write_zeros(member, 1 << 30)
    return archive_path


def tar_with_device_node(target: Path, marker: Path) -> Path:
    archive_path = target.with_suffix(".tar")
    with tarfile.open(archive_path, "w") as archive:
        archive.add(target, arcname=target.name)
        node = tarfile.TarInfo(f"{target.name}/student/null")
        node.type, node.devmajor, node.devminor = tarfile.CHRTYPE, 1, 3
        archive.addfile(node, io.BytesIO())
    shutil.rmtree(target)
    return archive_path


BUILDERS = {name: value for name, value in globals().items()
            if callable(value) and not isinstance(value, type) and name in
            {"weights_pickle_runs_os_system", "weights_pickle_imports_the_submission", "weights_html_page",
             "weights_lfs_pointer", "weights_truncated", "weights_zip_bomb", "weights_2gb_file",
             "symlink_to_labels", "symlink_to_etc_shadow", "symlink_to_grader_code", "hard_link_to_labels",
             "unicode_and_spaces", "file_name_255_bytes", "hundred_thousand_files", "zip_dotdot_members",
             "zip_absolute_members", "zip_symlink_member", "zip_bomb", "tar_with_device_node"}}
