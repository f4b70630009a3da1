"""The four notebooks and their headless grading: real notebooks, real kernels, real processes.

Fast tests read notebooks statically; slow ones execute them in the sandbox through a whole grade;
the browser one opens an executed notebook's HTML in headless Chromium.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import browser
import nbformat
import pytest
from grading import DATA, ROOT, SUBMISSIONS, grade_folder, statuses

from grader.checks.base import Context
from grader.notebooks import collect
from grader.notebooks import evidence as ev
from grader.notebooks import run as notebooks
from grader.rubric import load_rubric
from grader.submission.layout import find_submission

STARTER = ROOT / "notebooks"
REFERENCE = SUBMISSIONS / "reference" / "notebooks"
NOTEBOOK_CHECKS = {"notebook2.executes", "notebook2.loss_and_optimizer", "notebook2.training_ran",
                   "notebook2.feature_visualization", "notebook2.answers", "notebook3.executes",
                   "notebook3.keypoints_displayed"}
FAILING_FIXTURES = ("notebook_cell_raises", "notebook_infinite_loop", "notebook_kills_kernel")
NAMES = ("1. Load and Visualize Data.ipynb", "2. Define the Network Architecture.ipynb",
         "3. Facial Keypoint Detection, Complete Pipeline.ipynb", "4. Fun with Keypoints.ipynb")


def read(folder: Path, number: int) -> nbformat.NotebookNode:
    return nbformat.read(str(folder / NAMES[number - 1]), as_version=4)


def trained_student() -> Path:
    """A student folder with trained weights: the reference one when it exists, else the small fixture."""
    for folder in (SUBMISSIONS / "reference" / "student", SUBMISSIONS / "small_trained" / "student"):
        if (folder / "saved_models" / "keypoints_model.pt").is_file():
            return folder
    pytest.fail("no trained student folder in tests/submissions (reference/ or small_trained/)")


def submission(tmp_path: Path, notebooks_from: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(trained_student(), target / "student", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(notebooks_from, target / "notebooks")
    return target


def notebook_fixture(tmp_path: Path, outcome: str) -> Path:
    """A fixture's notebooks (tests/submissions/<outcome>/notebooks) with a trained student folder."""
    return submission(tmp_path / "submissions", SUBMISSIONS / outcome / "notebooks", outcome)


def short_timeouts(tmp_path: Path, cell_timeout: int = 8) -> Path:
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(f"""schema_version = 1
seed = 0
[checks."notebook2.executes"]
points = 3
cell_timeout_s = {cell_timeout}
timeout_s = 90
parameters = {{ n_epochs = 1, max_steps = 2, batch_size = 4 }}
""")
    return rubric


# -- the notebooks themselves (fast) -----------------------------------------------------------------
@pytest.mark.parametrize("folder", [STARTER, REFERENCE], ids=["starter", "reference"])
def test_four_notebooks_import_the_student_folder_first(folder):
    for number in (1, 2, 3, 4):
        first_code = next(c for c in read(folder, number).cells if c.cell_type == "code")
        assert "sys.path.insert(0" in first_code.source and "../student" in first_code.source


@pytest.mark.parametrize("number, names", [(2, {"n_epochs", "batch_size", "max_steps", "data_dir"}),
                                           (3, {"image_path", "weights_path"})])
def test_parameters_cells_hold_what_the_grader_overrides(number, names):
    for folder in (STARTER, REFERENCE):
        tagged = [c for c in read(folder, number).cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1
        assigned = {line.split("=")[0].strip() for line in tagged[0].source.splitlines() if "=" in line}
        assert names <= assigned


def test_starter_has_todos_and_template_answers_the_reference_fills_them():
    starter, reference = read(STARTER, 2), read(REFERENCE, 2)
    assert "criterion = None  # TODO" in "".join(c.source for c in starter.cells)
    assert "optimizer = None  # TODO" in "".join(c.source for c in starter.cells)
    assert [a["answer"] for a in ev.answers(starter)] == ["write your answer here"] * 4
    assert all(not ev.is_template(a["answer"], 8) for a in ev.answers(reference))
    assert not any("# TODO" in c.source for number in (2, 3, 4) for c in read(REFERENCE, number).cells)


def test_injected_cell_goes_after_the_parameters_cell_or_on_top():
    nb = read(STARTER, 2)
    index = notebooks.inject_parameters(nb, {"n_epochs": 1, "data_dir": "/data"})
    assert "parameters" in nb.cells[index - 1].metadata["tags"]
    assert nb.cells[index].source.splitlines()[1:] == ["n_epochs = 1", "data_dir = '/data'"]
    untagged = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert notebooks.inject_parameters(untagged, {"x": 2}) == 0 and untagged.cells[1].source == "x = 1"


def test_printed_losses_are_validated():
    text = "Epoch: 1, Batch: 10, Avg. Loss: 0.1234\nloss=nan\nLoss: -3\nloss 1e9\ntrain loss 2.5e-2\n"
    assert ev.loss_values(text) == [0.1234, 0.025]


def test_probe_facts_need_the_run_nonce_and_right_types():
    assert collect.parse_probe('FKP-PROBE-abc {"faces": {"count": 2}}', "abc") == {"faces": {"count": 2}}
    assert collect.parse_probe('FKP-PROBE-xyz {"faces": {"count": 2}}', "abc") == {}
    assert collect.parse_probe('FKP-PROBE-abc [1]\nFKP-PROBE-abc {}', "abc") == {}
    facts = {"faces": {"count": True}, "optimizer": {"covers_net": 1}}
    assert ev.fact(facts, "faces", "count", kind=int) is None
    assert ev.fact(facts, "optimizer", "covers_net", kind=float) == 1.0


# -- executed notebooks (slow) -----------------------------------------------------------------------
@pytest.mark.slow
def test_reference_notebooks_pass_every_notebook_check(tmp_path, dataset_dir):
    results = grade_folder(submission(tmp_path, REFERENCE, "reference_notebooks"), tmp_path / "reports",
                           only=NOTEBOOK_CHECKS)
    assert statuses(results) == {check_id: "passed" for check_id in NOTEBOOK_CHECKS}
    training = next(c for c in results["checks"] if c["id"] == "notebook2.training_ran")
    assert training["details"]["optimizer_steps"] == 20  # max_steps injected by the rubric
    assert results["score"] == results["max_score"]
    answers = next(c for c in results["checks"] if c["id"] == "notebook2.answers")
    assert answers["manual_review"] and len(answers["details"]["answers"]) == 4
    assert results["manual_review"] == ["notebook2.answers"]
    report = tmp_path / "reports" / "reference_notebooks"
    for number in (2, 3):
        assert (report / "artifacts" / f"notebook{number}_executed.html").stat().st_size > 10_000
        assert f"notebook{number}_executed.html" in (report / "report.html").read_text()


@pytest.mark.slow
def test_starter_notebooks_fail_naming_the_cell(tmp_path, dataset_dir):
    results = grade_folder(submission(tmp_path, STARTER, "starter_notebooks"), tmp_path / "reports",
                           only=NOTEBOOK_CHECKS)
    checks = {c["id"]: c for c in results["checks"]}
    run2, run3 = checks["notebook2.executes"], checks["notebook3.executes"]
    assert run2["status"] == "error" and "losses = train_net(n_epochs, max_steps)" in run2["message"]
    assert "TypeError" in run2["message"] and run2["details"]["notebook"]["cell"] == 15
    assert run3["status"] == "error" and "cell 11" in run3["message"]
    assert checks["notebook2.loss_and_optimizer"]["score"] == 0
    assert checks["notebook2.answers"]["score"] == 0 and checks["notebook2.answers"]["manual_review"]
    assert results["score"] <= 0.1 * results["max_score"]
    page = (tmp_path / "reports" / "starter_notebooks" / "report.html").read_text()
    assert "failing cell" in page and "TypeError" in page


@pytest.mark.slow
@pytest.mark.parametrize("outcome", FAILING_FIXTURES)
def test_failing_notebook_fixtures(outcome, tmp_path, dataset_dir):
    expected = json.loads((SUBMISSIONS / outcome / "expected.json").read_text())["notebook2.executes"]
    results = grade_folder(notebook_fixture(tmp_path, outcome), tmp_path, only={"notebook2.executes"},
                           rubric=short_timeouts(tmp_path))
    check = results["checks"][0]
    assert check["status"] == expected["status"]
    for text in expected["message_contains"]:
        assert text in check["message"], (text, check["message"])
    assert check["details"]["notebook"]["cell"] == expected["cell"]
    html = tmp_path / outcome / "artifacts" / "notebook2_executed.html"
    assert html.stat().st_size > 10_000 and "The run did not finish" in html.read_text()
    assert any(a.endswith("notebook2_executed.html") for a in check["artifacts"])


@pytest.mark.slow
@pytest.mark.parametrize("number", [1, 4])
def test_notebooks_1_and_4_run_under_grading_parameters(number, tmp_path, dataset_dir):
    sub = find_submission(submission(tmp_path, REFERENCE, f"reference_{number}"))
    ctx = Context(sub, None, load_rubric(), DATA.resolve(), tmp_path / "report", 0)
    run = notebooks.run_notebook(sub, number, {"cell_timeout_s": 120, "timeout_s": 180, "parameters": {}}, ctx=ctx)
    assert run.status == "ok", run.message
    assert run.duration_s < 180
    assert sum(ev.images(cell) for cell in run.executed.cells) >= 3


@pytest.mark.slow
@pytest.mark.browser
def test_executed_notebook_html_opens_in_chromium(tmp_path, dataset_dir):
    grade_folder(notebook_fixture(tmp_path, "notebook_cell_raises"), tmp_path, only={"notebook2.executes"},
                 rubric=short_timeouts(tmp_path))
    page = browser.dom(tmp_path / "notebook_cell_raises" / "artifacts" / "notebook2_executed.html")
    assert "2. Define the Network Architecture" in page  # the notebook's markdown heading, rendered
    assert "Executed by the grader" in page and "NameError" in page
    assert "train_net" in page and "n_epochs" in page  # the failing cell's code
    report = browser.dom(tmp_path / "notebook_cell_raises" / "report.html")
    assert "notebook2_executed.html" in report and "failing cell" in report


@pytest.mark.slow
def test_printed_losses_and_forged_probe_lines_do_not_count_as_training(tmp_path, dataset_dir):
    fixture = SUBMISSIONS / "notebook_fakes_training"
    expected = json.loads((fixture / "expected.json").read_text())
    results = grade_folder(notebook_fixture(tmp_path, "notebook_fakes_training"), tmp_path,
                           only=set(expected["statuses"]) | {"notebook2.training_ran"})
    assert statuses(results) == expected["statuses"]
    training = next(c for c in results["checks"] if c["id"] == "notebook2.training_ran")
    assert training["details"]["items"] == expected["items"]
    assert training["details"]["optimizer_steps"] == 0
    assert "no optimizer step" in training["message"]
