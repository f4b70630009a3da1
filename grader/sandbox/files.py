"""Files that cross into the sandbox: a student's folder copied without ever following a link out of
it, and folders handed to the sandbox user without changing what a link points to."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

NEVER_COPIED = ("__pycache__", "*.pyc", ".ipynb_checkpoints", ".git")


def copy_student_folder(source: Path, target: Path, *, also_ignore: tuple[str, ...] = ()) -> list[str]:
    """Copy ``source`` to ``target``, leaving out symbolic links (a link could point at the test labels
    or anything else outside the submission) and caches; returns the links left out, relative."""
    patterns = shutil.ignore_patterns(*NEVER_COPIED, *also_ignore)
    links: list[str] = []

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(patterns(folder, names))
        for name in names:
            if os.path.islink(os.path.join(folder, name)):
                skipped.add(name)
                links.append(os.path.relpath(os.path.join(folder, name), source))
        return skipped

    shutil.copytree(source, target, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    return sorted(links)


def hand_to(user, folder: Path) -> None:
    """chown ``folder`` and everything in it to ``user``; symlinks are changed themselves, never followed."""
    if user is None:
        return
    for path in [folder, *Path(folder).rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
