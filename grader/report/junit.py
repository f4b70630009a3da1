"""junit.xml from results.json: one testcase per check (CI systems show these natively)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from grader.results import write_atomic


def write(results: dict, path: Path) -> None:
    checks = results["checks"]
    suite = ET.Element("testsuite", name=f"grade {results['submission']}", tests=str(len(checks)),
                       failures=str(sum(c["status"] in ("failed", "partial") for c in checks)),
                       errors=str(sum(c["status"] in ("error", "timeout") for c in checks)),
                       skipped=str(sum(c["status"] == "skipped" for c in checks)),
                       time=f"{sum(c['duration_s'] for c in checks):.3f}")
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname=check["id"].split(".")[0], name=check["id"],
                             time=f"{check['duration_s']:.3f}")
        text = f"{check['message']}\n{check['hint']}".strip()
        if check["status"] in ("failed", "partial"):
            ET.SubElement(case, "failure", message=check["message"][:500]).text = text
        elif check["status"] in ("error", "timeout"):
            ET.SubElement(case, "error", message=check["message"][:500], type=check["status"]).text = text
        elif check["status"] == "skipped":
            ET.SubElement(case, "skipped", message=check["message"][:500])
        ET.SubElement(case, "system-out").text = f"score {check['score']} / {check['max_score']}"
    ET.indent(suite)
    write_atomic(path, ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n")
