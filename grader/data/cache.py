"""Arrays computed from the dataset once and kept under the cache folder, keyed by what they are made
of (the pinned CSV checksums, the rows, the transform's constants), shared by every grade of a batch
and across runs. Written under a name of the writer's own, then renamed: two grades filling the same
entry at once each write a whole file, and readers see none or a whole one. Trusted data only:
nothing a student process produced is ever cached.

A grading container's own cache lives on its /tmp and dies with it; ``batch --docker`` fills the
host's cache once before its containers start and mounts it read-only (``FKP_SHARED_CACHE_DIR``),
so no container decodes the test images again.
"""
from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np


def key_of(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


SHARED_CACHE = "FKP_SHARED_CACHE_DIR"  # read-only entries another process filled (a batch, for its containers)


def read_entry(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None  # a damaged entry is rebuilt


def cached_arrays(cache_dir: Path, name: str, key: str, build: Callable[[], dict[str, np.ndarray]]) -> dict:
    """The arrays of ``name`` for ``key``: read from the shared cache or the cache, else built, stored
    in the cache and returned."""
    path = Path(cache_dir) / f"{name}-{key}.npz"
    shared = os.environ.get(SHARED_CACHE)
    for candidate in ([Path(shared) / path.name] if shared else []) + [path]:
        if (arrays := read_entry(candidate)) is not None:
            return arrays
    arrays = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{os.urandom(4).hex()}.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return arrays
