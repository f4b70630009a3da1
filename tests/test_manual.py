"""merge_manual: an instructor's CSV sets the points of manual-review items, validated, total recomputed."""
from __future__ import annotations

import json

import pytest

from grader.report.manual import ManualScoresError, merge_manual


def results() -> dict:
    checks = [
        {"id": "model.import", "name": "models.py imports", "status": "passed", "score": 5.0, "max_score": 5.0,
         "message": "ok", "details": {}, "manual_review": False},
        {"id": "notebook2.answers", "name": "answers", "status": "partial", "score": 2.0, "max_score": 4.0,
         "message": "2 of 4", "details": {"answers": []}, "manual_review": True},
    ]
    tests = [{"name": f"{c['id']}: {c['name']}", "score": c["score"], "max_score": c["max_score"],
              "status": "passed", "output": c["message"], "visibility": "visible"} for c in checks]
    return {"submission": "alice", "score": 7.0, "max_score": 9.0, "checks": checks, "tests": tests,
            "manual_review": ["notebook2.answers"]}


def write_csv(tmp_path, text: str):
    path = tmp_path / "scores.csv"
    path.write_text(text)
    return path


def test_instructor_points_replace_the_automatic_ones_and_the_total_follows(tmp_path):
    scores = write_csv(tmp_path, "submission,check,points,comment\n"
                                 "bob,notebook2.answers,0,someone else\n"
                                 "alice,notebook2.answers,3.5,\"Q4 is vague, otherwise good\"\n")
    original = results()
    merged = merge_manual(original, scores)
    answers = next(c for c in merged["checks"] if c["id"] == "notebook2.answers")
    assert answers["score"] == 3.5 and answers["status"] == "partial"
    assert answers["details"]["manual"] == {"points": 3.5, "comment": "Q4 is vague, otherwise good",
                                            "automatic_score": 2.0}
    assert merged["score"] == 8.5 and merged["manual_review"] == []
    test = next(t for t in merged["tests"] if t["name"].startswith("notebook2.answers"))
    assert test["score"] == 3.5 and "Instructor: Q4 is vague" in test["output"]
    record = merged["manual_merge"]
    assert record["csv"] == str(scores) and record["merged_by"] and record["reviewed"] == ["notebook2.answers"]
    assert record["items"] == [{"check": "notebook2.answers", "points": 3.5, "automatic_score": 2.0,
                                "comment": "Q4 is vague, otherwise good"}]
    assert original == results()  # the input is left untouched
    json.dumps(merged)


def test_full_points_pass_and_rows_of_other_submissions_change_nothing(tmp_path):
    merged = merge_manual(results(), write_csv(tmp_path, "submission,check,points,comment\n"
                                                         "alice,notebook2.answers,4,\n"))
    assert next(c for c in merged["checks"] if c["id"] == "notebook2.answers")["status"] == "passed"
    untouched = merge_manual(results(), write_csv(tmp_path, "submission,check,points,comment\nbob,x,1,\n"))
    assert untouched["score"] == 7.0 and untouched["manual_review"] == ["notebook2.answers"]


@pytest.mark.parametrize("row, complaint", [
    ("alice,notebook2.anwsers,3,", "unknown check 'notebook2.anwsers'"),
    ("alice,model.import,0,", "graded automatically"),
    ("alice,notebook2.answers,5,", "between 0 and 4"),
    ("alice,notebook2.answers,-1,", "between 0 and 4"),
    ("alice,notebook2.answers,nan,", "between 0 and 4"),
    ("alice,notebook2.answers,three,", "not a number"),
    ("alice,notebook2.answers,3,\nalice,notebook2.answers,2,", "already scored on line 2"),
])
def test_bad_rows_are_refused_with_the_line(tmp_path, row, complaint):
    scores = write_csv(tmp_path, "submission,check,points,comment\n" + row + "\n")
    with pytest.raises(ManualScoresError, match="scores.csv, line") as error:
        merge_manual(results(), scores)
    assert complaint in str(error.value)


def test_a_file_without_the_columns_is_refused(tmp_path):
    with pytest.raises(ManualScoresError, match="must name the columns"):
        merge_manual(results(), write_csv(tmp_path, "student,item,score\nalice,notebook2.answers,3\n"))


def test_cli_merges_into_the_report_folder_and_rerenders_it(tmp_path):
    import subprocess
    import sys

    from grader.report import html

    folder = tmp_path / "reports" / "alice"
    folder.mkdir(parents=True)
    original = results()
    original.update(schema_version=1, execution_time=1.0, leaderboard=[], metrics={}, environment={"grader": "t",
                    "torch": "t", "device": "cpu"}, seed=0)
    for check in original["checks"]:
        check.update(hint="", artifacts=[], duration_s=0.0)
    (folder / "results.json").write_text(json.dumps(original))
    html.write(original, folder, folder / "report.html")
    scores = write_csv(tmp_path, "submission,check,points,comment\nalice,notebook2.answers,4,clear answers\n"
                                 "carol,notebook2.answers,1,not graded yet\n")
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--manual", str(scores), "--out",
                           str(tmp_path / "reports")], capture_output=True, text=True)
    assert proc.returncode == 2  # carol has no report: said, and alice is merged anyway
    assert "carol" in proc.stdout and "grade it first" in proc.stdout
    merged = json.loads((folder / "results.json").read_text())
    assert merged["score"] == 9.0
    assert "9 / 9" in (folder / "report.html").read_text()
    assert (folder / "junit.xml").is_file()
