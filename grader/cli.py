"""Command line: argument parsing only; each verb calls its module's ``main(*, ...)``."""
from __future__ import annotations

import argparse
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)

    data = verbs.add_parser("data", help="put the dataset and sample photos under data/ and verify them")
    data.add_argument("--source", default="", help="dataset folder (course layout) or archive")
    data.add_argument("--samples-source", default="", help="folder with the sample photos")
    data.add_argument("--dest", type=Path, default=Path("data"))

    grade = verbs.add_parser("grade", help="grade one submission")
    grade.add_argument("submission", type=Path)
    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb == "data":
        from grader import fetch

        return fetch.main(source=args.source, samples_source=args.samples_source, dest=args.dest)
    if args.verb == "grade":
        print("grade: not implemented yet")
        return 3
    raise AssertionError(args.verb)
