"""report.html from results.json alone (jinja2); pictures are inlined so the file stands by itself."""
from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from grader.results import write_atomic

TEMPLATES = Path(__file__).with_name("templates")


def inline(report_dir: Path, relative: str) -> str | None:
    """A data: URI for a picture of the report folder (None for non-pictures)."""
    path = report_dir / relative
    kind = mimetypes.guess_type(path.name)[0] or ""
    if not kind.startswith("image/") or not path.is_file():
        return None
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


TO_FIX = ("failed", "error", "timeout", "partial")


def causes(checks: list[dict]) -> list[dict]:
    """The checks to fix, one entry per cause: checks that fail with the same message share a line
    that names them all and the points they cost together (most points first)."""
    grouped: dict[str, dict] = {}
    for check in checks:
        if check["status"] not in TO_FIX:
            continue
        entry = grouped.setdefault(check["message"], {"message": check["message"], "hint": check["hint"],
                                                      "checks": [], "points": 0.0})
        entry["checks"].append(check)
        entry["points"] += check["max_score"] - check["score"]
    return sorted(grouped.values(), key=lambda e: -e["points"])


def render(results: dict, report_dir: Path, template: str = "report.html.j2") -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{100 * v:.2f} %"
    env.globals["inline"] = lambda rel: inline(report_dir, rel)
    env.globals["causes"] = causes
    return env.get_template(template).render(r=results)


def write(results: dict, report_dir: Path, path: Path) -> None:
    write_atomic(path, render(results, report_dir))
