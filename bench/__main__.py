"""``python -m bench [NAME...]`` (``make bench``): argument parsing only; the benchmarks live in ``run``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks that print timings.")
    known = ", ".join(sorted(run.BENCHMARKS))
    parser.add_argument("which", nargs="*", help=f"benchmarks to run (default: {' '.join(run.ORDER)}); known: {known}")
    parser.add_argument("--data", type=Path, default=Path("data/facial-keypoints"), help="dataset folder")
    parser.add_argument("--only", help="comma-separated check ids to run (default: the whole rubric)")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    return run.main(which=args.which, data_dir=args.data, only=only)


if __name__ == "__main__":
    sys.exit(main())
