"""Fixture submissions named by the outcome they must produce; each one's statuses are a golden file."""
from __future__ import annotations

import shutil

import pytest
import torch
from grading import ROOT, SUBMISSIONS, check_golden, copy_submission, grade_folder, statuses

# Checks before the slow ones: enough to tell every broken-model fixture apart.
MODEL_CHECKS = {"model.import", "model.construct", "model.output_shape", "model.batch_independence",
                "model.gradients", "transform.data_transform", "weights.load"}


@pytest.mark.parametrize("outcome", ["wrong_output_shape", "raises_in_forward", "batch_changing_view", "nan_output",
                                     "syntax_error"])
def test_broken_model_fixtures(outcome, tmp_path, dataset_dir, update_goldens):
    results = grade_folder(SUBMISSIONS / outcome, tmp_path, only=MODEL_CHECKS)
    check_golden(outcome, results, update_goldens)


def test_messages_point_at_the_students_line(tmp_path, dataset_dir):
    raises = grade_folder(SUBMISSIONS / "raises_in_forward", tmp_path, only={"model.import", "model.construct",
                                                                             "model.output_shape"})
    shape = next(c for c in raises["checks"] if c["id"] == "model.output_shape")
    assert shape["status"] == "error"
    assert "student/models.py, line 15" in shape["message"] and "RuntimeError" in shape["message"]
    assert "return self.fc1(x)" in shape["message"]
    syntax = grade_folder(SUBMISSIONS / "syntax_error", tmp_path, only={"model.import"})
    assert "SyntaxError" in syntax["checks"][0]["message"] and "line 9" in syntax["checks"][0]["message"]
    view = grade_folder(SUBMISSIONS / "batch_changing_view", tmp_path, only={"model.import", "model.construct",
                                                                             "model.output_shape"})
    assert "x.view(x.size(0), -1)" in view["checks"][2]["hint"]
    assert "(2, 136)" in view["checks"][2]["message"]


def starter_workspace(tmp_path):
    target = tmp_path / "starter"
    shutil.copytree(ROOT / "student", target / "student", ignore=shutil.ignore_patterns("__pycache__", "*.pt"))
    shutil.copytree(ROOT / "notebooks", target / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return target


def test_untouched_starter_scores_low_and_says_what_to_do(tmp_path, dataset_dir, update_goldens):
    results = grade_folder(starter_workspace(tmp_path), tmp_path / "reports")
    check_golden("starter", results, update_goldens)
    assert results["score"] <= 0.15 * results["max_score"]
    for check in results["checks"]:
        if check["status"] in ("failed", "error"):
            assert check["hint"], f"{check['id']} failed without a hint"
        if check["status"] == "skipped":
            assert "needs" in check["message"]


def weights_variant(tmp_path, name: str, write) -> "Path":
    """small_trained with its weights file replaced by ``write(path)``."""
    target = copy_submission("small_trained", tmp_path)
    target = target.rename(tmp_path / name)
    weights = target / "student" / "saved_models" / "keypoints_model.pt"
    write(weights)
    return target


def state_dict_of_small_net():
    return torch.load(SUBMISSIONS / "small_trained" / "student" / "saved_models" / "keypoints_model.pt",
                      weights_only=True)


WEIGHT_VARIANTS = {
    "missing_weights": lambda p: p.unlink(),
    "lfs_pointer": lambda p: p.write_text("version https://git-lfs.github.com/spec/v1\n"
                                          "oid sha256:4d7a2146e8f6f3b1f5b9c2c7a0a9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8\n"
                                          "size 1887331\n"),
    "html_page_as_weights": lambda p: p.write_text("<!DOCTYPE html><html><head><title>keypoints_model.pt</title>"),
    "truncated_weights": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "mismatched_keys": lambda p: torch.save({("extra." + k if "head" in k else k): v
                                             for k, v in state_dict_of_small_net().items()}, p),
    "whole_pickled_model": lambda p: torch.save(torch.nn.Linear(2, 2), p),
}


@pytest.mark.parametrize("outcome", sorted(WEIGHT_VARIANTS))
def test_weight_file_fixtures(outcome, tmp_path, dataset_dir, update_goldens):
    submission = weights_variant(tmp_path, outcome, WEIGHT_VARIANTS[outcome])
    results = grade_folder(submission, tmp_path / "reports", only=MODEL_CHECKS)
    check_golden(outcome, results, update_goldens)
    weights = next(c for c in results["checks"] if c["id"] == "weights.load")
    assert weights["status"] == "failed"
    expected_words = {"missing_weights": "has no .pt", "lfs_pointer": "Git LFS pointer", "html_page_as_weights": "HTML page",
                      "truncated_weights": "truncated", "mismatched_keys": "unexpected keys",
                      "whole_pickled_model": "whole pickled model"}[outcome]
    assert expected_words in weights["message"]
    assert weights["hint"]


HANG_RUBRIC = """schema_version = 1
seed = 0
[sandbox]
memory_mb = 3072
probe_timeout_s = 5
threads = 1
[checks."model.import"]
points = 3
[checks."notebook2.executes"]
points = 3
cell_timeout_s = 120
timeout_s = 300
parameters = { n_epochs = 1, max_steps = 2, batch_size = 4 }
[checks."notebook2.answers"]
points = 4
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_hang_at_import_is_not_waited_for_again_by_the_notebooks(tmp_path, dataset_dir, workers):
    """models.py hangs at import: the probe times out once; notebook 2, which imports it, is skipped
    with that reason instead of hanging until its own timeouts; its answers are still read."""
    target = copy_submission("hangs_at_import", tmp_path)
    shutil.copytree(SUBMISSIONS / "reference" / "notebooks", target / "notebooks")
    rubric = tmp_path / "hang.toml"
    rubric.write_text(HANG_RUBRIC)
    results = grade_folder(target, tmp_path / "out", rubric=rubric, workers=workers)
    assert statuses(results) == {"model.import": "timeout", "notebook2.executes": "skipped",
                                 "notebook2.answers": "passed"}
    notebook = next(c for c in results["checks"] if c["id"] == "notebook2.executes")
    assert "model.import" in notebook["message"] and "student/models.py" in notebook["message"]
