"""Command line: argument parsing only; each verb calls its module's ``main(*, ...)``."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    """The options that decide a grade, shared by ``grade`` and ``batch``."""
    parser.add_argument("--rubric", type=Path, help="rubric TOML (default: grader/rubric.toml)")
    parser.add_argument("--data", type=Path, help="dataset folder (default: $FKP_DATA_DIR or data/facial-keypoints)")
    parser.add_argument("--seed", type=int, help="override the rubric's seed")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--only", help="comma-separated check ids to run (quick runs)")
    parser.add_argument("--workers", type=int, help="units of checks run side by side in one grade (default: from "
                                                    "the cores; batch divides them among its --jobs)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description="Grade Facial Keypoint Detection submissions.")
    verbs = parser.add_subparsers(dest="verb", required=True)

    data = verbs.add_parser("data", help="put the dataset and sample photos under data/ and verify them")
    data.add_argument("--source", default="", help="dataset folder (course layout) or archive")
    data.add_argument("--samples-source", default="", help="folder with the sample photos")
    data.add_argument("--dest", type=Path, default=Path("data"))
    data.add_argument("--test-source", default="", metavar="DIR",
                      help="an instructor's labelled faces (test_frames_keypoints.csv and test/), installed as "
                           "DEST/private-test and graded on instead of the course's test set")
    data.add_argument("--test-mode", default="replace", choices=("replace", "add"),
                      help="replace: the private faces alone; add: the course's labelled test faces plus them")

    grade = verbs.add_parser("grade", help="grade one submission into OUT/<name>/")
    grade.add_argument("submission", type=Path, nargs="?",
                       help="folder with student/ and notebooks/ (or the classic layout); optional with --manual")
    grade.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports)")
    grade.add_argument("--name", help="report name (default: the submission folder's name)")
    add_grading_options(grade)
    grade.add_argument("--fail-under", type=float, help="exit 1 when the score is below this")
    grade.add_argument("--quiet", action="store_true")
    grade.add_argument("--manual", type=Path, metavar="SCORES_CSV",
                       help="merge an instructor's points for manual-review items (columns submission, check, "
                            "points, comment) into OUT/<submission>/results.json")

    report = verbs.add_parser("report", help="render report.html and junit.xml again from a results.json")
    report.add_argument("report_dir", type=Path, help="a folder written by `grade` (holds results.json)")

    batch = verbs.add_parser("batch", help="grade a folder of submissions (folders or .zip files) into OUT/")
    batch.add_argument("submissions", type=Path, help="folder with one sub-folder or .zip per student")
    batch.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports)")
    batch.add_argument("--jobs", "-j", type=int, default=1, help="submissions graded at once on this machine")
    batch.add_argument("--timeout", type=float, default=3600.0, help="wall seconds per submission (default 3600)")
    batch.add_argument("--memory-mb", type=int, default=8192, help="memory limit of each grading process")
    batch.add_argument("--shard", help="grade only shard i of n (i/n, by sorted name), e.g. 2/4")
    batch.add_argument("--resume", action="store_true", help="skip submissions already graded unchanged")
    batch.add_argument("--dask", metavar="ADDRESS", help="send each submission to this Dask scheduler")
    batch.add_argument("--docker", action="store_true", help="grade each submission in the grading image")
    batch.add_argument("--image", help="image for --docker (default: $FKP_DOCKER_IMAGE)")
    add_grading_options(batch)
    batch.add_argument("--quiet", action="store_true")

    merge = verbs.add_parser("merge", help="join the outputs of sharded batches into one gradebook and index")
    merge.add_argument("shards", type=Path, nargs="+", help="the --out folders of the shards")
    merge.add_argument("--out", type=Path, required=True, help="folder for the merged outputs")
    merge.add_argument("--quiet", action="store_true")

    gradescope = verbs.add_parser("gradescope", help="write Gradescope's autograder.zip (docs/gradescope.md)")
    gradescope.add_argument("--out", type=Path, default=Path("autograder.zip"),
                            help="the zip (default: autograder.zip)")
    gradescope.add_argument("--rubric", type=Path, help="rubric TOML (default: grader/rubric.toml)")
    gradescope.add_argument("--data", type=Path, help="bundle this dataset (course layout) in the zip; without it "
                                                      "setup.sh fetches the course's archive (pinned checksums)")
    gradescope.add_argument("--samples", type=Path, help="sample photos to bundle (default: samples/ beside --data)")
    gradescope.add_argument("--quiet", action="store_true")

    autograde = verbs.add_parser("autograde", help="grade one submission into Gradescope's results.json "
                                                   "(what run_autograder calls)")
    autograde.add_argument("submission", type=Path, help="the submission folder (/autograder/submission)")
    autograde.add_argument("--results", type=Path, required=True, help="results.json to write")
    autograde.add_argument("--rubric", type=Path, help="rubric TOML (default: grader/rubric.toml)")
    autograde.add_argument("--data", type=Path, help="dataset folder (default: $FKP_DATA_DIR or data/facial-keypoints)")

    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb == "data":
        from grader.data import fetch

        return fetch.main(source=args.source, samples_source=args.samples_source, dest=args.dest,
                          test_source=args.test_source, test_mode=args.test_mode)
    if args.verb == "grade":
        from grader import grade
        from grader.report import manual

        if args.submission is None and args.manual is None:
            build_parser().error("grade needs a SUBMISSION folder (or --manual SCORES_CSV)")
        status = 0
        if args.submission is not None:
            only = set(args.only.split(",")) if args.only else None
            status = grade.main(submission=args.submission, out=args.out, name=args.name, rubric=args.rubric,
                                data_dir=args.data, seed=args.seed, device=args.device, only=only,
                                fail_under=args.fail_under, quiet=args.quiet, workers=args.workers)
        if args.manual is not None and status in (0, 1):
            status = manual.main(scores_csv=args.manual, out=args.out) or status
        return status
    if args.verb == "report":
        from grader.report import rerender

        return rerender.main(report_dir=args.report_dir)
    if args.verb == "batch":
        from grader.batch import run as batch

        only = set(args.only.split(",")) if args.only else None
        return batch.main(submissions=args.submissions, out=args.out, jobs=args.jobs, docker=args.docker,
                          image=args.image, timeout=args.timeout, memory_mb=args.memory_mb, shard=args.shard,
                          resume=args.resume, dask=args.dask, rubric=args.rubric, data_dir=args.data, seed=args.seed,
                          only=only, device=args.device, quiet=args.quiet, workers=args.workers)
    if args.verb == "merge":
        from grader.batch import merge

        return merge.main(shards=args.shards, out=args.out, quiet=args.quiet)
    if args.verb == "gradescope":
        from grader.gradescope import package

        return package.main(out=args.out, rubric=args.rubric, data=args.data, samples=args.samples, quiet=args.quiet)
    if args.verb == "autograde":
        from grader.gradescope import autograde

        return autograde.main(submission=args.submission, results=args.results, rubric=args.rubric,
                              data_dir=args.data)
    raise AssertionError(args.verb)
