"""The reference submission: full marks on every automatic check, NME under dlib's 7.0 %."""
from __future__ import annotations

import browser
import pytest
from grading import SUBMISSIONS, grade_folder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return grade_folder(SUBMISSIONS / "reference", out), out / "reference"


def test_full_marks_on_every_check(reference):
    results, _ = reference
    not_full = {c["id"]: (c["status"], c["score"], c["max_score"]) for c in results["checks"]
                if c["score"] < c["max_score"]}
    assert not not_full
    assert results["score"] == results["max_score"]


def test_beats_dlib_on_the_hidden_test_set(reference):
    results, _ = reference
    assert results["metrics"]["nme"] < 0.070  # dlib's 68-point shape predictor: 7.04 %
    assert results["metrics"]["haar_collage_nme"] < 0.10
    assert results["metrics"]["n_params"] < 2_000_000
    assert (SUBMISSIONS / "reference" / "student" / "saved_models" / "keypoints_model.pt").stat().st_size < 10 * 2**20


@pytest.mark.browser
def test_report_pictures_render(reference):
    results, folder = reference
    page = browser.dom(folder / "report.html")
    assert "What to fix first" not in page
    for picture in ("haar_obamas.png", "haar_the_beatles.png", "test_faces.png", "loss_curve.png"):
        assert any(a.endswith(picture) for c in results["checks"] for a in c["artifacts"]), picture
    browser.screenshot(folder / "report.html", "report_reference.png", size="1280,6000")
