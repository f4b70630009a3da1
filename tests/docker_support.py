"""What the docker tests share: running commands and make, and the session's image.

The fixtures are imported by the test modules that use them (``from docker_support import image``)
and are session-scoped, so the offline base and the image are built once per run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OFFLINE_BASE = os.environ.get("DOCKER_OFFLINE_BASE", "fkp-grader-base:bookworm")
# The image is built FROM the offline base unless DOCKER_BASE_IMAGE says otherwise: it is the
# path that works without an image registry. DOCKER_WHEELHOUSE and DOCKER_TORCH_INDEX reach
# make through the environment (.ci/run sets the wheelhouse when the PyTorch index is out of reach).
BASE_IMAGE = os.environ.get("DOCKER_BASE_IMAGE", OFFLINE_BASE)
BUILD_TIMEOUT_S = 60 * 60  # a cold build downloads and unpacks torch
STUDENT_UID = 1000


def run(cmd: list[str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)


def make_command(*args: str) -> list[str]:
    """`make -C ROOT ARGS` with this interpreter's venv: the tests run in an installed venv, so
    make must neither create .venv in the checkout nor reinstall the one it is given."""
    venv = sys.prefix
    return ["make", "--no-print-directory", "-C", str(ROOT), f"VENV={venv}", f"--assume-old={venv}/.installed",
            f"DOCKER_BASE_IMAGE={BASE_IMAGE}", *args]


def make(*args: str, timeout: float = 600, env: dict | None = None) -> str:
    """Run make; a failure fails the test with the end of make's output. Returns stdout."""
    result = run(make_command(*args), timeout, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        pytest.fail(f"make {' '.join(args)} exited {result.returncode}:\n{tail}")
    return result.stdout


@pytest.fixture(scope="session")
def docker_engine() -> None:
    if shutil.which("docker") is None:
        pytest.skip("no docker client on PATH: install docker.io, or run docker/dockerd-start.sh as root")
    try:
        info = run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=30)
    except subprocess.TimeoutExpired:
        pytest.skip("`docker info` did not answer within 30 s")
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"no Docker engine answers `docker info` ({reason}); start one with docker/dockerd-start.sh")


@pytest.fixture(scope="session")
def offline_base(docker_engine) -> str:
    make("docker-base-offline", timeout=900)
    return OFFLINE_BASE


@pytest.fixture(scope="session")
def image(offline_base) -> str:
    started = time.monotonic()
    make("docker-build", timeout=BUILD_TIMEOUT_S)
    name = make("-s", "docker-image").strip()
    print(f"docker-build: {name} ready in {time.monotonic() - started:.0f} s")
    return name
