"""Headless Chromium (Debian's package) for tests that look at HTML as a person would."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--hide-scrollbars"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed: run `make test` (it installs it) or `apt-get install chromium`")
    return path


def _run(page: Path, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, Path(page).resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)


def dom(page: Path) -> str:
    """The page's DOM after its scripts ran."""
    proc = _run(page, "--virtual-time-budget=3000", "--dump-dom")
    assert proc.returncode == 0 and proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def screenshot(page: Path, name: str, size: str = "1280,2400") -> Path:
    """A PNG of the page, kept under artifacts/ for CI."""
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    proc = _run(page, f"--window-size={size}", f"--screenshot={target}")
    assert target.is_file() and target.stat().st_size > 0, proc.stderr[-2000:]
    return target
