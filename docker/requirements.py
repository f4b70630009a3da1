"""Print the pinned runtime dependencies of pyproject.toml as a pip requirements file.

``torch`` prints the PyTorch pins (installed first, in their own cached image layer,
from the PyTorch index), ``rest`` the others, ``all`` both. Standard library only: it
runs on the image's bare Python 3.11 before anything is installed.

    python3 docker/requirements.py pyproject.toml torch|rest|all
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

TORCH_PACKAGES = {"torch", "torchvision"}


def project_name(requirement: str) -> str:
    """The normalised distribution name at the start of a PEP 508 requirement."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"pyproject.toml: cannot read the requirement {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def requirements(pyproject: Path, part: str) -> list[str]:
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    if part == "all":
        return dependencies
    want_torch = part == "torch"
    return [req for req in dependencies if (project_name(req) in TORCH_PACKAGES) == want_torch]


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in {"torch", "rest", "all"}:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    lines = requirements(Path(argv[0]), argv[1])
    if argv[1] == "torch" and {project_name(line) for line in lines} != TORCH_PACKAGES:
        print(f"{argv[0]}: expected pins for {sorted(TORCH_PACKAGES)}, found {lines}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
