"""The sandbox with real child processes: hangs, crashes, memory hogs, network and forged answers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from grader.sandbox.command import run_command
from grader.sandbox.limits import Limits
from grader.sandbox.processes import how_processes_are_limited
from grader.sandbox.spawn import Sandbox

NET = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)
"""


def student(tmp_path, source: str):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "models.py").write_text(textwrap.dedent(source))
    return folder


def test_hang_becomes_timeout_and_the_next_probe_gets_a_fresh_process(tmp_path):
    folder = student(tmp_path, NET + "\nimport time\nwhile True:\n    time.sleep(0.1)\n")
    with Sandbox(folder) as sandbox:
        result = sandbox.call("import_model", timeout=8)
        assert result.status == "timeout"
        (sandbox.root / "student" / "models.py").write_text(NET)  # as if the student fixed it
        assert sandbox.call("import_model", timeout=60).ok


def test_a_hang_after_the_process_limit_is_an_error_naming_the_limit(tmp_path):
    # every refused fork is swallowed, so the probe only hangs: the limit it reached is the cause
    folder = student(tmp_path, NET + """
import os, time
while True:
    try:
        if os.fork() == 0:
            time.sleep(600)
    except OSError:
        time.sleep(0.05)
""")
    if not how_processes_are_limited(os.geteuid() == 0).startswith("a pids"):
        pytest.skip("no pids cgroup per sandbox here (root on a cgroup v1 host): a refused fork is all there is")
    with Sandbox(folder, limits=Limits(processes=16)) as sandbox:
        result = sandbox.call("import_model", timeout=8)
    assert result.status == "crash" and result.error["type"] == "ProcessLimit", result
    assert "process limit (16 processes and threads together)" in result.error["message"]


def test_exit_in_student_code_is_a_crash_not_a_grader_failure(tmp_path):
    folder = student(tmp_path, NET + "\nimport os\nos._exit(3)\n")
    with Sandbox(folder) as sandbox:
        result = sandbox.call("import_model", timeout=60)
    assert result.status == "crash"
    assert "exited with status 3" in result.error["message"]


def test_sys_exit_is_reported_as_the_students_error(tmp_path):
    folder = student(tmp_path, NET + "\nimport sys\nsys.exit('bye')\n")
    with Sandbox(folder) as sandbox:
        result = sandbox.call("import_model", timeout=60)
    assert result.status == "error" and result.error["type"] == "SystemExit"
    assert result.error["file"] == "student/models.py" and result.error["line"] == 10


def test_memory_hog_is_stopped_by_the_limit(tmp_path):
    folder = student(tmp_path, NET + "\nimport numpy\nhog = numpy.ones((64, 1024, 1024, 1024), dtype=numpy.uint8)\n")
    with Sandbox(folder, limits=Limits(memory_mb=2048)) as sandbox:
        result = sandbox.call("import_model", timeout=120)
    assert result.status in ("error", "crash")
    assert "MemoryError" in result.error.get("type", "") + result.error.get("message", "")


@pytest.mark.skipif(os.geteuid() != 0, reason="a new network namespace needs root (the container adds --network none)")
def test_student_code_cannot_reach_a_server_on_loopback(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=3):
        pass  # reachable from outside the sandbox, so a "blocked" below means the sandbox blocked it
    folder = student(tmp_path, NET + f"""
import socket
import sys
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3)
    print("NETWORK: connected")
except OSError as exc:
    print("NETWORK: blocked", type(exc).__name__)
""")
    with Sandbox(folder) as sandbox:
        result = sandbox.call("import_model", timeout=60)
    server.close()
    assert result.ok
    assert "NETWORK: blocked" in result.log_tail


def test_printed_lines_cannot_forge_an_answer_and_env_is_scrubbed(tmp_path, monkeypatch):
    monkeypatch.setenv("FKP_TEST_SECRET", "do-not-leak")
    folder = student(tmp_path, """
import json, os
print(json.dumps({"id": 1, "status": "ok", "value": {"has_net": True, "file": "forged"}}))
print("ENV:", sorted(os.environ))
""")
    with Sandbox(folder) as sandbox:
        result = sandbox.call("import_model", timeout=60)
    assert result.ok and result.value["has_net"] is False
    assert "FKP_TEST_SECRET" not in result.log_tail and "ENV:" in result.log_tail


def test_replacing_the_log_with_a_symlink_does_not_make_the_grader_report_another_file(tmp_path):
    # Student code sees its working directory; the grader's logs must not be reachable from it.
    secret = tmp_path / "labels.csv"
    secret.write_text("SECRET-LABELS-ROW\n" * 50)
    swap = f"""
import glob, os
for name in glob.glob("*.log") + glob.glob(".*.log") + glob.glob("*/*.log"):
    os.remove(name)
    os.symlink({str(secret)!r}, name)
print("logs swapped:", sorted(glob.glob("*.log") + glob.glob(".*.log")))
"""
    folder = student(tmp_path, NET + swap)
    with Sandbox(folder) as sandbox:
        result = sandbox.call("import_model", timeout=60)
    assert result.ok and "logs swapped" in result.log_tail
    assert "SECRET" not in result.log_tail


def test_a_command_cannot_redirect_its_log_either(tmp_path):
    secret = tmp_path / "labels.csv"
    secret.write_text("SECRET-LABELS-ROW\n" * 50)
    work = tmp_path / "work"
    work.mkdir()
    code = (f"import glob, os\nfor n in glob.glob('.*.log') + glob.glob('*.log'):\n"
            f"    os.remove(n); os.symlink({str(secret)!r}, n)\nprint('command ran')\n")
    result = run_command([sys.executable, "-c", code], cwd=work, timeout=60)
    assert result.returncode == 0 and "command ran" in result.output_tail
    assert "SECRET" not in result.output_tail


def test_a_link_in_the_submission_never_brings_the_labels_to_student_code(tmp_path, dataset_dir):
    """student/notes.csv -> the hidden test labels: the grader's copy for the sandbox leaves the link out,
    so student code at import finds nothing, and the report names the link."""
    from grading import grade_folder

    student = tmp_path / "linked" / "student"
    student.mkdir(parents=True)
    (student / "notes.csv").symlink_to(dataset_dir / "test_frames_keypoints.csv")
    (student / "models.py").write_text(
        "import os\n"
        "here = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'notes.csv')\n"
        "raise RuntimeError('notes.csv: ' + (open(here).read(200) if os.path.exists(here) else 'absent'))\n")
    results = grade_folder(tmp_path / "linked", tmp_path / "out", only={"model.import"})
    message = results["checks"][0]["message"]
    assert "notes.csv: absent" in message and "image_name" not in message and ".jpg" not in message
    assert results["layout"]["links_left_out"] == ["student/notes.csv"]
    assert "student/notes.csv" in (tmp_path / "out" / "linked" / "report.html").read_text()


def test_student_processes_keep_freed_tensor_memory_instead_of_faulting_it_in_again(tmp_path):
    """Two 16 MB arrays made and freed 20 times, as a training step's tensors are: with glibc's defaults
    the heap is trimmed and every round faults its pages in anew; in a sandboxed command it is reused."""
    code = textwrap.dedent("""
        import resource
        import numpy as np
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            a, b = np.ones(2**22, dtype=np.float32), np.ones(2**22, dtype=np.float32)
            del a, b
        print("faults", resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """)
    # glibc's documented defaults, pinned: left alone it raises its thresholds after the first large free
    plain_env = {**{k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")},
                 "MALLOC_MMAP_THRESHOLD_": str(128 * 1024), "MALLOC_TRIM_THRESHOLD_": str(128 * 1024)}
    plain = subprocess.run([sys.executable, "-c", code], env=plain_env, capture_output=True, text=True, check=True)
    work = tmp_path / "work"
    work.mkdir()
    sandboxed = run_command([sys.executable, "-c", code], cwd=work, timeout=60)
    assert sandboxed.returncode == 0, sandboxed.output_tail
    faults = {name: int(text.split("faults")[-1].split()[0]) for name, text in
              (("plain", plain.stdout), ("sandboxed", sandboxed.output_tail))}
    assert faults["sandboxed"] * 5 < faults["plain"], faults


def test_links_of_a_python_environment_or_git_are_not_listed_as_the_students(tmp_path):
    from grader.submission.mapping import symlinks

    for folder in ("env-any-name/bin", ".git/objects", "student"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "env-any-name" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "env-any-name" / "bin" / "python").symlink_to("/usr/bin/python3")
    (tmp_path / ".git" / "objects" / "link").symlink_to("/etc")
    (tmp_path / "student" / "notes.csv").symlink_to("/etc/hostname")
    assert symlinks(tmp_path) == ("student/notes.csv",)
