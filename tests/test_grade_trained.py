"""Grading a real trained submission end to end: every model check passes, the NME matches an
independent computation, the same seed gives the same results.json, and report.html reads right."""
from __future__ import annotations

import importlib.util
import json
import sys

import browser
import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from grading import SUBMISSIONS, grade_folder, without_timings

pytestmark = pytest.mark.slow
SUBMISSION = SUBMISSIONS / "small_trained"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return grade_folder(SUBMISSION, out), out / "small_trained"


def load_net():
    sys.path.insert(0, str(SUBMISSION / "student"))
    try:
        spec = importlib.util.spec_from_file_location("small_models", SUBMISSION / "student" / "models.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SUBMISSION / "student"))
    net = module.Net()
    net.load_state_dict(torch.load(SUBMISSION / "student" / "saved_models" / "keypoints_model.pt", weights_only=True))
    return net.eval()


def independent_nme(data_dir) -> float:
    """Short side to 250, centre crop 224, gray /255, net, back to original pixels, error / eye-corner distance."""
    labels = pd.read_csv(data_dir / "test_frames_keypoints.csv")
    net, errors = load_net(), []
    for row in labels.itertuples(index=False):
        image = cv2.cvtColor(cv2.imread(str(data_dir / "test" / row[0])), cv2.COLOR_BGR2GRAY)
        h, w = image.shape
        scale = 250 / min(h, w)
        new_w, new_h = int(round(w * scale)), int(round(h * scale))
        shrink = new_w < w
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        top, left = (new_h - 224) // 2, (new_w - 224) // 2
        crop = resized[top : top + 224, left : left + 224].astype(np.float32) / 255
        with torch.no_grad():
            out = net(torch.from_numpy(crop)[None, None]).numpy().reshape(68, 2)
        pred = (out * 50 + 100 + [left, top]) / [new_w / w, new_h / h]
        true = np.asarray(row[1:], dtype=np.float64).reshape(68, 2)
        errors.append(np.linalg.norm(pred - true, axis=1).mean() / np.linalg.norm(true[36] - true[45]))
    return float(np.mean(errors))


def test_trained_submission_passes_every_model_check(graded):
    results, _ = graded
    status = {c["id"]: c["status"] for c in results["checks"]}
    for check_id in ("model.import", "model.construct", "model.output_shape", "model.batch_independence",
                     "model.gradients", "transform.data_transform", "training.brief", "weights.load"):
        assert status[check_id] == "passed", (check_id, status[check_id])
    assert status["evaluation.test_set"] in ("passed", "partial")
    assert results["metrics"]["n_test_images"] == 770


def test_nme_equals_an_independent_computation(graded, dataset_dir):
    results, _ = graded
    assert results["metrics"]["nme"] == pytest.approx(independent_nme(dataset_dir), abs=1e-4)
    assert results["leaderboard"][0]["value"] == pytest.approx(100 * results["metrics"]["nme"], abs=1e-3)


def test_results_follow_the_gradescope_schema(graded):
    results, folder = graded
    assert {"score", "execution_time", "tests", "leaderboard", "checks", "metrics", "environment",
            "schema_version"} <= set(results)
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]), abs=1e-3)
    assert (folder / "junit.xml").read_text().count("<testcase") == len(results["checks"])


def test_same_seed_gives_identical_results_one_unit_at_a_time_or_side_by_side(graded, tmp_path):
    """The brief training in a sandbox of its own, beside the probes, gives the very same grade."""
    first, _ = graded
    second = grade_folder(SUBMISSION, tmp_path, workers=3)
    assert first["environment"]["workers"] == 1 and second["environment"]["workers"] == 3
    for results in (first, second):
        results["environment"].pop("workers")
    assert json.dumps(without_timings(first), sort_keys=True) == json.dumps(without_timings(second), sort_keys=True)


@pytest.mark.browser
def test_report_shows_the_score_and_every_check_in_chromium(graded):
    results, folder = graded
    page = browser.dom(folder / "report.html")
    assert f"{results['score']:g} / {results['max_score']:g}" in page
    for check in results["checks"]:
        assert f'id="{check["id"]}"' in page and check["name"] in page
    assert page.count("data:image/png;base64,") >= 4  # loss curve, faces, groups, Haar pictures
    browser.screenshot(folder / "report.html", "report_small_trained.png")


EVAL_CHECKS = {"model.import", "model.construct", "model.output_shape", "weights.load", "evaluation.test_set"}


def with_eval_transform(tmp_path, source: str):
    target = tmp_path / "with_eval_transform"
    import shutil

    shutil.copytree(SUBMISSION, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(target / "student" / "transforms.py", "a") as handle:
        handle.write(source)
    return target


def test_students_eval_transform_is_used_and_mapped_back(graded, tmp_path):
    canonical, _ = graded
    submission = with_eval_transform(tmp_path, "\nfrom data_load import CenterCrop\n"
                                     "eval_transform = transforms.Compose([Rescale(250), CenterCrop(224), Normalize(), "
                                     "ToTensor()])\n")
    results = grade_folder(submission, tmp_path / "reports", only=EVAL_CHECKS)
    evaluation = next(c for c in results["checks"] if c["id"] == "evaluation.test_set")
    assert evaluation["details"]["preprocessing"] == "the submission's eval_transform"
    # same geometry as the canonical transform, other resampling: the NME moves by a hair, not by points
    assert results["metrics"]["nme"] == pytest.approx(canonical["metrics"]["nme"], abs=0.005)


def test_non_geometric_eval_transform_is_refused_with_a_reason(tmp_path):
    submission = with_eval_transform(tmp_path, "\nimport numpy as np\n"
                                     "_base = transforms.Compose([Rescale((224, 224)), Normalize(), ToTensor()])\n"
                                     "def eval_transform(sample):\n"
                                     "    out = _base(sample)\n"
                                     "    out['keypoints'] = out['keypoints'] ** 2\n"
                                     "    return out\n")
    results = grade_folder(submission, tmp_path / "reports", only=EVAL_CHECKS)
    evaluation = next(c for c in results["checks"] if c["id"] == "evaluation.test_set")
    assert evaluation["status"] == "failed"
    assert "not a resize/crop/flip" in evaluation["message"]
