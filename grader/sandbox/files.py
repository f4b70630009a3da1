"""Files that cross into the sandbox and back: a student's folder copied without ever following a link
out of it, folders handed to the sandbox user without changing what a link points to, the bytes a
child leaves in its folder (watched while it runs) and the end of what it printed."""
from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from pathlib import Path

LOG_TAIL_CHARS = 4000
MAX_COPIED_FILE_MB = 1024  # a state_dict of this course's nets is at most a few hundred MB

NEVER_COPIED = ("__pycache__", "*.pyc", ".ipynb_checkpoints", ".git")


def outside_hard_links(source: Path) -> set[str]:
    """Regular files of ``source`` that are also linked from outside it (a hard link to the test labels
    holds their content as surely as a copy): their link count exceeds the names they have inside."""
    inodes: Counter = Counter()
    linked: dict[tuple[int, int], list[str]] = {}
    for folder, _, names in os.walk(source):
        for name in names:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if info.st_nlink > 1 and not os.path.islink(path):
                key = (info.st_dev, info.st_ino)
                inodes[key] += 1
                linked.setdefault(key, []).append(path)
    return {path for key, paths in linked.items() if os.lstat(paths[0]).st_nlink > inodes[key] for path in paths}


def copy_student_folder(source: Path, target: Path, *, also_ignore: tuple[str, ...] = ()) -> list[str]:
    """Copy ``source`` to ``target``, leaving out symbolic links and hard links to files outside it (either
    could be the test labels), files over MAX_COPIED_FILE_MB and caches; returns what was left out (links
    and big files), relative to ``source``."""
    patterns = shutil.ignore_patterns(*NEVER_COPIED, *also_ignore)
    links: list[str] = []
    hard = outside_hard_links(source)

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(patterns(folder, names))
        for name in names:
            path = os.path.join(folder, name)
            too_big = os.path.isfile(path) and os.lstat(path).st_size > MAX_COPIED_FILE_MB << 20
            if name not in skipped and (os.path.islink(path) or path in hard or too_big):
                skipped.add(name)
                links.append(os.path.relpath(path, source))
        return skipped

    shutil.copytree(source, target, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    return sorted(links)


def hand_to(user, folder: Path) -> None:
    """chown ``folder`` and everything in it to ``user``; symlinks are changed themselves, never followed."""
    if user is None:
        return
    for path in [folder, *Path(folder).rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)


def folder_bytes(folder: Path, stop_above: int) -> int:
    """Bytes allocated under ``folder`` (links not followed); stops counting once above ``stop_above``."""
    total, stack = 0, [str(folder)]
    while stack and total <= stop_above:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
        except OSError:
            continue
    return total


class DiskWatch:
    """What a child adds to its working folder, measured now and then while it runs (``/tmp`` filled
    through TMPDIR, or thousands of files each under the file-size limit)."""

    def __init__(self, folder: Path, limit_mb: int):
        self.folder, self.limit_mb = Path(folder), limit_mb
        self.allowed = folder_bytes(self.folder, 1 << 62) + (limit_mb << 20)
        self.exceeded, self.next_check, self.found = False, 0.0, 0

    def check(self) -> bool:
        """True once the folder grew past the limit; walks it at most every few seconds (longer for big trees)."""
        now = time.monotonic()
        if self.exceeded or now < self.next_check:
            return self.exceeded
        self.found = folder_bytes(self.folder, self.allowed)
        took = time.monotonic() - now
        self.next_check = time.monotonic() + max(2.0, 20 * took)
        self.exceeded = self.found > self.allowed
        return self.exceeded

    def message(self) -> str:
        return (f"it wrote more than {self.limit_mb} MB into its working folder and temporary files "
                f"(the sandbox's disk limit) and was stopped")


def read_tail(path: Path, offset: int = 0, chars: int = LOG_TAIL_CHARS) -> tuple[str, int]:
    """The end of what was written to ``path`` after ``offset``, with a note of how much was left out
    before it; and the new offset. Never reads more than the tail, however much was printed."""
    try:
        with open(path, "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            start = max(offset, end - 4 * chars)
            handle.seek(start)
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return "", offset
    left_out = start - offset
    if len(text) > chars:
        left_out += len(text[:-chars].encode("utf-8", "replace"))
        text = text[-chars:]
    if left_out > 0:
        text = f"[... {left_out:,} bytes of output left out; the last {len(text):,} characters follow ...]\n{text}"
    return text, end
