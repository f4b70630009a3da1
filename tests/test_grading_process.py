"""The grading process itself never imports torch (1.4 s of every grade's start): only student
processes need it. What results.json says of torch still comes from the installed build."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from grader.grade import GPU_DEVICES

PROBE = """
import json, sys
from grader.grade import environment, resolve_device
from grader.checks import Context  # every check module, as a grade loads them
device = resolve_device("auto")
print(json.dumps({"device": device, "torch": environment(0, device)["torch"], "imported": "torch" in sys.modules}))
"""


def test_the_grader_names_torchs_version_and_picks_the_cpu_without_importing_torch():
    if any(os.path.exists(path) for path in GPU_DEVICES):
        pytest.skip("a GPU device file is here: `auto` asks torch, as it should")
    found = json.loads(subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout)
    installed = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"], capture_output=True,
                               text=True, check=True).stdout.strip()
    assert found == {"device": "cpu", "torch": installed, "imported": False}
