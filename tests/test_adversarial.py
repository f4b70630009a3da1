"""Hostile and broken submissions (tests/adversarial/), graded as one class with the reference among them.

Each fixture's row (status, check statuses, score) must equal its golden in
tests/goldens/adversarial/, in local mode here and, where a Docker engine answers, in the container
(tests/test_adversarial_container.py runs these same tests on that class). Around
the batch the test takes a snapshot of what lies outside the reports (the project tree, the dataset)
and of the batch's own temporary folder, and afterwards looks for any process a fixture left.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from adversarial_suite import DAEMON_MARKER, fixtures
from adversarial_suite import assemble as assemble_fixture
from grading import DATA, GOLDENS, ROOT, SUBMISSIONS

from grader.batch import run as batch

pytestmark = [pytest.mark.adversarial, pytest.mark.slow]

RUBRIC = ROOT / "tests" / "rubrics" / "adversarial.toml"
FIXTURES = fixtures()
HONEST_TWIN, REFERENCE = "honest_twin", "reference"
PROBE_TIMEOUT_S = 30.0
NOTEBOOK_TIMEOUT_S = 60.0  # notebook2.executes' whole-notebook limit in the rubric


def snapshot() -> dict[str, str]:
    """What must not change while the class is graded: the project's files (git's view, reports and the
    data cache aside) and the dataset's labels."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    labels = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(DATA.glob("*.csv"))}
    return {"git status": status, **labels,
            "test images": str(sorted((p.name, p.stat().st_size) for p in (DATA / "test").iterdir())[:50])}


def leftover_processes(scratch: Path, names: list[str], docker: bool) -> list[str]:
    """What this class left running: processes whose environment names its private temporary folder
    (every sandbox of a local grade, and whatever they started), and containers named after its fixtures.
    Other tests run beside this one, with sandboxes of their own: those are not this class's."""
    needle, found = str(scratch).encode(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in environ:
            found.append(f"{entry}: {cmdline[:120]}")
    if docker and shutil.which("docker"):
        running = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True).stdout
        found += [f"container {n}" for n in running.split() if any(n.startswith(f"fkp-{name}-") for name in names)]
    return found


def grade_class(root: Path, *, docker_image: str | None = None) -> dict:
    cls, scratch, out = root / "class", root / "tmp", root / "out"
    cls.mkdir()
    scratch.mkdir()
    marker = root / "payload-ran"
    sources = {f.name: assemble_fixture(f, cls, marker).name for f in FIXTURES}
    shutil.copytree(SUBMISSIONS / "small_trained", cls / HONEST_TWIN, ignore=shutil.ignore_patterns("train.py"))
    shutil.copytree(SUBMISSIONS / "reference", cls / REFERENCE,
                    ignore=shutil.ignore_patterns("train.py", "evaluate.py", "__pycache__"))
    before = snapshot()
    saved = {k: os.environ.get(k) for k in ("TMPDIR", "FKP_ADVERSARIAL_MARKER")}
    os.environ.update(TMPDIR=str(scratch), FKP_ADVERSARIAL_MARKER=str(marker))
    started = time.monotonic()
    try:
        code = batch.main(submissions=cls, out=out, jobs=3, rubric=RUBRIC, data_dir=DATA, quiet=True, timeout=900,
                          docker=docker_image is not None, image=docker_image)
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    took = time.monotonic() - started
    with open(out / "gradebook.csv") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    return {"code": code, "rows": rows, "out": out, "sources": sources, "before": before, "after": snapshot(),
            "scratch": sorted(p.name for p in scratch.iterdir()), "marker": marker, "seconds": took,
            "leftovers": leftover_processes(scratch, [f.name for f in FIXTURES], docker_image is not None),
            "mode": "container" if docker_image else "local"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, dataset_dir):
    """The class graded in local mode (tests/test_adversarial_container.py grades it in the container)."""
    return grade_class(tmp_path_factory.mktemp("adversarial-local"))


def results_of(graded: dict, name: str) -> dict | None:
    path = graded["out"] / graded["sources"].get(name, name).removesuffix(".zip") / "results.json"
    return json.loads(path.read_text()) if path.is_file() else None


def outcome(graded: dict, name: str) -> dict:
    """A fixture's row as the golden records it: the row's status, and when graded, its checks and score."""
    source = graded["sources"].get(name, name)
    row = graded["rows"].get(Path(source).stem)
    if row is None:
        return {"row": "left out"}
    found = {"row": row["status"]}
    results = results_of(graded, name)
    if row["status"] == "graded" and results:
        found.update(checks={c["id"]: c["status"] for c in results["checks"]}, score=results["score"])
    return found


def test_there_are_at_least_forty_fixtures_each_saying_what_it_does():
    assert len(FIXTURES) >= 40
    assert all(f.does and f.category for f in FIXTURES)


def test_every_submission_gets_a_row_and_the_reference_scores_as_alone(graded, update_goldens):
    expected = {Path(source).stem for source in graded["sources"].values() if not source.endswith(".tar")}
    assert expected | {HONEST_TWIN, REFERENCE} == set(graded["rows"]), set(graded["rows"]) ^ expected
    check_outcome(graded, REFERENCE, update_goldens)
    assert graded["rows"][REFERENCE]["status"] == "graded"


@pytest.mark.parametrize("name", [f.name for f in FIXTURES])
def test_each_fixture_gets_its_golden_outcome(graded, name, update_goldens):
    check_outcome(graded, name, update_goldens)


def check_outcome(graded: dict, name: str, update: bool) -> None:
    path = GOLDENS / "adversarial" / f"{name}.json"
    found = outcome(graded, name)
    if update and graded["mode"] == "local":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found, indent=1) + "\n")
    assert path.exists(), f"{path} is missing: run pytest -m adversarial --update-goldens once and review it"
    assert found == json.loads(path.read_text()), f"{name} ({graded['mode']}): {found}"


def test_honest_fixtures_earn_exactly_what_the_honest_twin_earns(graded):
    twin = results_of(graded, HONEST_TWIN)
    assert twin["score"] > 0 and twin["metrics"]["nme"] < 0.4
    for fixture in (f for f in FIXTURES if f.honest):
        results = results_of(graded, fixture.name)
        assert results is not None, fixture.name
        assert (results["score"], results["metrics"].get("nme")) == (twin["score"], twin["metrics"]["nme"]), fixture.name


def test_hangs_end_as_timeouts_within_the_limit_plus_5_s(graded):
    for fixture in (f for f in FIXTURES if f.meta.get("expect_timeout")):
        check = next(c for c in results_of(graded, fixture.name)["checks"] if c["id"] == fixture.meta["expect_timeout"])
        limit = NOTEBOOK_TIMEOUT_S if check["id"].startswith("notebook") else PROBE_TIMEOUT_S
        assert check["status"] == "timeout", (fixture.name, check["message"])
        assert check["duration_s"] <= limit + 5, (fixture.name, check["duration_s"])


def test_no_process_of_any_submission_is_left(graded):
    assert graded["leftovers"] == []


def test_nothing_outside_the_reports_changed_and_no_payload_ran(graded):
    assert graded["after"] == graded["before"]
    assert graded["scratch"] == [], "the batch's temporary folder still holds " + ", ".join(graded["scratch"])
    assert not graded["marker"].exists(), "a weights file's pickle payload ran"
    assert not list(Path("/tmp").glob(f"{DAEMON_MARKER}*")), "an archive member was written outside its folder"


def test_limits_are_named_and_long_output_is_cut_with_a_note(graded):
    def message(name: str, check: str = "model.import") -> str:
        found = next(c for c in results_of(graded, name)["checks"] if c["id"] == check)
        return f"{found['status']}: {found['message']}"

    assert message("allocates_50gb").startswith("error") and "memory limit" in message("allocates_50gb")
    assert "file size limit" in message("writes_10gb_file")
    assert "disk limit" in message("fills_tmp")
    assert "process limit" in message("thread_bomb") and "process limit" in message("fork_bomb")
    if graded["mode"] == "container":  # the bomb stops at the student's own limit, below the container's
        limited = results_of(graded, "fork_bomb")["environment"]["process_limits"]
        assert limited.startswith("RLIMIT_NPROC for a uid of this container's own"), limited
    for name in ("prints_100mb_stdout", "prints_100mb_stderr"):
        imported = next(c for c in results_of(graded, name)["checks"] if c["id"] == "model.import")
        assert "bytes of output left out" in imported["details"]["printed"]
        assert len(imported["details"]["printed"]) < 10_000
        assert (graded["out"] / name / "results.json").stat().st_size < 1_000_000


def test_snooping_never_reaches_the_labels(graded):
    first_row = (DATA / "test_frames_keypoints.csv").read_text().splitlines()[1][:40]
    for fixture in (f for f in FIXTURES if f.meta.get("snoop")):
        results = results_of(graded, fixture.name)
        if fixture.name.startswith("symlink_"):  # a batch refuses a folder whose links leave it, saying which
            assert results["batch_status"] == "error" and "student/notes.csv" in results["output"], fixture.name
            continue
        text = json.dumps(results)
        assert first_row not in text, f"{fixture.name} got the labels"
        printed = "\n".join(str(c["details"].get("printed", "")) for c in results["checks"])
        if fixture.category == "snooping" and fixture.name != "notebook_snoops":
            assert "snoop " in printed, f"{fixture.name}: the report does not show what each attempt got"
        for line in printed.splitlines():
            if line.startswith("snoop notes.csv"):  # the link the grader left out of the child's copy
                assert ": refused" in line, f"{fixture.name}: {line}"
            if graded["mode"] == "container" and ("grader-secrets" in line or "/environ" in line):
                assert ": refused" in line, f"{fixture.name} (container): {line}"
    assert "student/notes.csv" in results_of(graded, "hard_link_to_labels")["layout"]["links_left_out"]


def test_the_table_of_what_the_grader_promises_is_written(graded):
    """artifacts/adversarial-<mode>.md: one line per fixture (docs/grading.md carries the local one)."""
    changed = "nothing" if graded["after"] == graded["before"] and not graded["scratch"] else "SEE TEST"
    lines = ["| fixture | what it does | mode | outcome | time to outcome | changed outside |",
             "| --- | --- | --- | --- | --- | --- |"]
    for fixture in FIXTURES:
        found, results = outcome(graded, fixture.name), results_of(graded, fixture.name)
        marker = graded["out"] / Path(graded["sources"][fixture.name]).stem / "batch.json"
        row = json.loads(marker.read_text()) if marker.is_file() else {}
        if results and found["row"] == "graded":
            deciding = next((c for c in results["checks"] if c["status"] not in ("passed", "partial", "skipped")
                             and c["id"] != "notebook2.executes" or c["id"] == fixture.meta.get("expect_timeout")),
                            None)
            what = f"{deciding['id']} {deciding['status']}" if deciding else "all model checks pass"
            seconds = deciding["duration_s"] if deciding else float(row.get("duration_s") or 0)
            text = f"{what}; score {results['score']:g}"
        elif found["row"] == "left out":
            text, seconds = "left out of the batch with a note (neither a folder nor a .zip); the rest is graded", 0.0
        else:
            text, seconds = f"row {found['row']}: {(row.get('reason') or '')[:90]}", float(row.get("duration_s") or 0)
        lines.append(f"| `{fixture.name}` | {fixture.does} | {graded['mode']} | {text} | {seconds:.1f} s | {changed} |")
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"adversarial-{graded['mode']}.md").write_text("\n".join(lines) + "\n")
    assert len(lines) == len(FIXTURES) + 2
