"""Gradescope's results.json as its autograder specification documents it, as a validator.

From the "Autograder Specifications" page (gradescope-autograders.readthedocs.io/en/latest/specs/):
top-level score, execution_time, output, output_format, test_output_format, test_name_format,
visibility, stdout_visibility, extra_data, tests, leaderboard; each test score, max_score, status,
name, name_format, number, output, output_format, tags, visibility, extra_data; status "passed" or
"failed"; visibility hidden, after_due_date, after_published or visible; a leaderboard entry name,
value and order ("asc"/"desc"). Written here from that description, for the tests.
"""
from __future__ import annotations

NUMBER = (int, float)
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP = {"score": NUMBER, "execution_time": NUMBER, "output": str, "output_format": str, "test_output_format": str,
       "test_name_format": str, "visibility": str, "stdout_visibility": str, "extra_data": dict, "tests": list,
       "leaderboard": list}
TEST = {"score": NUMBER, "max_score": NUMBER, "status": str, "name": str, "name_format": str, "number": str,
        "output": str, "output_format": str, "tags": list, "visibility": str, "extra_data": dict}
LEADER = {"name": str, "value": (int, float, str), "order": str}


def typed(where: str, data: dict, fields: dict) -> list[str]:
    problems = [f"{where}: unknown key {key!r}" for key in data if key not in fields]
    for key, kind in fields.items():
        if key in data and (not isinstance(data[key], kind) or isinstance(data[key], bool)):
            problems.append(f"{where}.{key}: {type(data[key]).__name__}, expected {kind}")
    return problems


def problems(results: dict) -> list[str]:
    """Everything in ``results`` that Gradescope's documented format does not allow; [] when valid."""
    found = typed("results", results, TOP)
    tests = results.get("tests", [])
    if "score" not in results and not (tests and all("score" in t for t in tests if isinstance(t, dict))):
        found.append("results: no score, and not every test has one")
    for key in ("visibility", "stdout_visibility"):
        if key in results and results[key] not in VISIBILITY:
            found.append(f"results.{key}: {results[key]!r} is no visibility")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in results and results[key] not in FORMATS:
            found.append(f"results.{key}: {results[key]!r} is no output format")
    for index, test in enumerate(tests if isinstance(tests, list) else []):
        where = f"tests[{index}]"
        if not isinstance(test, dict):
            found.append(f"{where}: not an object")
            continue
        found += typed(where, test, TEST)
        if "status" in test and test["status"] not in {"passed", "failed"}:
            found.append(f"{where}.status: {test['status']!r}, expected passed or failed")
        if "visibility" in test and test["visibility"] not in VISIBILITY:
            found.append(f"{where}.visibility: {test['visibility']!r} is no visibility")
        if "output_format" in test and test["output_format"] not in FORMATS:
            found.append(f"{where}.output_format: {test['output_format']!r} is no output format")
    board = results.get("leaderboard", [])
    for index, entry in enumerate(board if isinstance(board, list) else []):
        where = f"leaderboard[{index}]"
        found += typed(where, entry, LEADER) if isinstance(entry, dict) else [f"{where}: not an object"]
        if isinstance(entry, dict) and ("name" not in entry or "value" not in entry):
            found.append(f"{where}: needs name and value")
        if isinstance(entry, dict) and entry.get("order", "desc") not in {"asc", "desc"}:
            found.append(f"{where}.order: {entry['order']!r}, expected asc or desc")
    return found
