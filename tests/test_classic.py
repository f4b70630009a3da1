"""Real course submissions as students left them: the classic-layout fixtures of tests/submissions/classic/.

Each fixture's expected.json says what a correct grader must find (the file of each role, the
network and its constructor, the input size, the keypoint units) and whether the student's own
``load_state_dict`` would accept the weights; where it would, the grade's NME must equal an
independent computation (tests/classic_nme.py) to 1e-4.
"""
from __future__ import annotations

import csv
import html
import json
import shutil
from pathlib import Path

import pytest
from classic_nme import classic_nme
from grading import DATA, ROOT, check_golden, grade_folder, statuses

from grader.batch import run as batch
from grader.submission.layout import find_submission

CLASSIC = ROOT / "tests" / "submissions" / "classic"
FIXTURES = sorted(p.name for p in CLASSIC.iterdir() if (p / "expected.json").is_file())
BATCH_RUBRIC = ROOT / "tests" / "rubrics" / "batch.toml"
NOTEBOOK_CHECKS = {"notebook2.executes", "notebook2.loss_and_optimizer", "notebook2.training_ran",
                   "notebook3.executes", "notebook3.keypoints_displayed"}


def expected(name: str) -> dict:
    return json.loads((CLASSIC / name / "expected.json").read_text())


def test_there_are_enough_classic_fixtures():
    assert len(FIXTURES) >= 15


@pytest.mark.parametrize("name", FIXTURES)
def test_layout_mapping_finds_each_role_and_the_students_choices(name):
    want, sub = expected(name), find_submission(CLASSIC / name)
    assert sub.layout == "classic"
    for role, file in want["roles"].items():
        assert sub.mapping.roles[role].path == file, f"{name}: {role} is {sub.mapping.roles[role]}"
        assert sub.mapping.roles[role].why
    found, model = sub.model, want["model"]
    if model["module"].endswith(".ipynb"):  # the class sits in a notebook: the grader says where
        assert found.cls == model["class"] and found.in_notebook.startswith(model["module"]), found
    else:
        assert (found.module, found.cls, list(found.args), found.kwargs) == (
            model["module"], model["class"], model["args"], model["kwargs"]), found
    assert sub.input_size == (want["input_size"] or 224)  # no transform found: the contract's size


@pytest.fixture(scope="module")
def classic_batch(tmp_path_factory, dataset_dir) -> Path:
    """Every classic fixture graded in one batch (model checks, weights, test set), two at a time."""
    folder = tmp_path_factory.mktemp("classic")
    for name in FIXTURES:
        shutil.copytree(CLASSIC / name, folder / "class" / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = folder / "out"
    code = batch.main(submissions=folder / "class", out=out, jobs=2, rubric=BATCH_RUBRIC, data_dir=DATA, quiet=True)
    assert code == 0
    return out


@pytest.mark.slow
def test_a_batch_of_classic_fixtures_gives_a_row_and_a_layout_for_each(classic_batch, update_goldens):
    with open(classic_batch / "gradebook.csv") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == FIXTURES
    for name in FIXTURES:
        results = json.loads((classic_batch / name / "results.json").read_text())
        check_golden(f"classic/{name}", results, update_goldens)
        assert results["layout"]["layout"] == "classic" and results["layout"]["roles"]["models"]["why"]
        report = html.unescape((classic_batch / name / "report.html").read_text())
        assert "How the grader read your submission" in report
        for note in results["layout"]["compatibility"]:
            assert note.split(": ", 1)[1] in report or note in report


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in FIXTURES if expected(n)["weights_accepted"]])
def test_accepted_weights_get_an_nme_equal_to_an_independent_computation(name, classic_batch, dataset_dir):
    results = json.loads((classic_batch / name / "results.json").read_text())
    test_set = next(c for c in results["checks"] if c["id"] == "evaluation.test_set")
    assert test_set["status"] in ("passed", "partial", "failed"), test_set["message"]
    independent, _ = classic_nme(CLASSIC / name, dataset_dir, expected(name))
    assert abs(results["metrics"]["nme"] - independent) < 1e-4, (results["metrics"]["nme"], independent)
    assert test_set["details"]["input_size"] == expected(name)["input_size"]


@pytest.mark.slow
def test_the_course_template_notebooks_run_in_grading_mode_without_the_labels(tmp_path, dataset_dir):
    """Notebooks 2 and 3 written as the course asks (relative paths, n_epochs = 50, no parameters cell)
    run to the end in the course's working layout, training capped at the rubric's max_steps."""
    results = grade_folder(CLASSIC / "template_faithful", tmp_path, only=NOTEBOOK_CHECKS)
    assert statuses(results) == {check: "passed" for check in NOTEBOOK_CHECKS}
    training = next(c for c in results["checks"] if c["id"] == "notebook2.training_ran")
    assert training["details"]["optimizer_steps"] == 20
    notes = results["layout"]["compatibility"]
    assert any("training stopped after 20 optimizer steps" in n for n in notes), notes
    executed = (tmp_path / "template_faithful" / "artifacts" / "notebook2_executed.ipynb").read_text()
    assert "test_frames_keypoints.csv" in executed and str(dataset_dir) not in executed
