"""Command line: argument parsing only; each verb calls its module's ``main(*, ...)``."""
from __future__ import annotations

import argparse
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description="Grade Facial Keypoint Detection submissions.")
    verbs = parser.add_subparsers(dest="verb", required=True)

    data = verbs.add_parser("data", help="put the dataset and sample photos under data/ and verify them")
    data.add_argument("--source", default="", help="dataset folder (course layout) or archive")
    data.add_argument("--samples-source", default="", help="folder with the sample photos")
    data.add_argument("--dest", type=Path, default=Path("data"))

    grade = verbs.add_parser("grade", help="grade one submission into OUT/<name>/")
    grade.add_argument("submission", type=Path, nargs="?",
                       help="folder with student/ and notebooks/ (or the classic layout); optional with --manual")
    grade.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports)")
    grade.add_argument("--name", help="report name (default: the submission folder's name)")
    grade.add_argument("--rubric", type=Path, help="rubric TOML (default: grader/rubric.toml)")
    grade.add_argument("--data", type=Path, help="dataset folder (default: $FKP_DATA_DIR or data/facial-keypoints)")
    grade.add_argument("--seed", type=int, help="override the rubric's seed")
    grade.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    grade.add_argument("--only", help="comma-separated check ids to run (quick runs)")
    grade.add_argument("--fail-under", type=float, help="exit 1 when the score is below this")
    grade.add_argument("--quiet", action="store_true")
    grade.add_argument("--manual", type=Path, metavar="SCORES_CSV",
                       help="merge an instructor's points for manual-review items (columns submission, check, "
                            "points, comment) into OUT/<submission>/results.json")

    report = verbs.add_parser("report", help="render report.html and junit.xml again from a results.json")
    report.add_argument("report_dir", type=Path, help="a folder written by `grade` (holds results.json)")
    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb == "data":
        from grader import fetch

        return fetch.main(source=args.source, samples_source=args.samples_source, dest=args.dest)
    if args.verb == "grade":
        from grader import grade, manual

        if args.submission is None and args.manual is None:
            build_parser().error("grade needs a SUBMISSION folder (or --manual SCORES_CSV)")
        status = 0
        if args.submission is not None:
            only = set(args.only.split(",")) if args.only else None
            status = grade.main(submission=args.submission, out=args.out, name=args.name, rubric=args.rubric,
                                data_dir=args.data, seed=args.seed, device=args.device, only=only,
                                fail_under=args.fail_under, quiet=args.quiet)
        if args.manual is not None and status in (0, 1):
            status = manual.main(scores_csv=args.manual, out=args.out) or status
        return status
    if args.verb == "report":
        from grader import rerender

        return rerender.main(report_dir=args.report_dir)
    raise AssertionError(args.verb)
