"""The affine helpers behind the NME: right, and the same bits whichever BLAS kernels the CPU gets."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.data import dataset

ROOT = Path(__file__).resolve().parents[1]

# Fits a noisy affine per image, inverts it, maps points both ways; prints a hash of every bit.
PROGRAM = """
import hashlib, numpy as np
from grader.data import dataset
rng = np.random.default_rng(7)
digest = hashlib.sha256()
for _ in range(50):
    source = dataset.probe_grid(int(rng.integers(150, 1500)), int(rng.integers(150, 1500))).astype(np.float64)
    truth = np.array([[rng.uniform(0.1, 2), rng.uniform(-0.3, 0.3), rng.uniform(-300, 300)],
                      [rng.uniform(-0.3, 0.3), rng.uniform(0.1, 2), rng.uniform(-300, 300)]])
    target = dataset.apply_affine(truth, source) + rng.normal(0, 0.05, source.shape)
    matrix, residual = dataset.fit_affine(source, target)
    back = dataset.apply_affine(dataset.invert_affine(matrix), target)
    for array in (matrix, np.array([residual]), back):
        digest.update(np.ascontiguousarray(array).tobytes())
print(digest.hexdigest())
"""


def test_fit_invert_and_apply_agree_with_numpy_linear_algebra():
    rng = np.random.default_rng(0)
    for _ in range(100):
        source = dataset.probe_grid(int(rng.integers(100, 2000)), int(rng.integers(100, 2000))).astype(np.float64)
        truth = np.array([[rng.uniform(0.1, 3), rng.uniform(-0.5, 0.5), rng.uniform(-500, 500)],
                          [rng.uniform(-0.5, 0.5), rng.uniform(0.1, 3), rng.uniform(-500, 500)]])
        target = dataset.apply_affine(truth, source) + rng.normal(0, 0.01, source.shape)
        matrix, residual = dataset.fit_affine(source, target)
        design = np.hstack([source, np.ones((len(source), 1))])
        np.testing.assert_allclose(matrix, np.linalg.lstsq(design, target, rcond=None)[0].T, rtol=1e-9, atol=1e-8)
        assert residual == pytest.approx(np.abs(design @ matrix.T - target).max(), abs=1e-9)
        full = np.vstack([truth, [0.0, 0.0, 1.0]])
        np.testing.assert_allclose(dataset.invert_affine(truth), np.linalg.inv(full)[:2], rtol=1e-12, atol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        dataset.fit_affine(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), np.zeros((3, 2)))


def test_the_same_bits_whatever_kernels_openblas_picks():
    # OpenBLAS chooses its kernels by CPU; OPENBLAS_CORETYPE forces one. Its LAPACK gave a grade in a
    # container (SkylakeX detected) other last digits than on the host (Haswell forced by the environment).
    digests = set()
    for core in ("Haswell", "SkylakeX", "Sandybridge", "Prescott"):
        result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, cwd=ROOT,
                                env={"OPENBLAS_CORETYPE": core, "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, result.stderr
        digests.add(result.stdout.strip())
    assert len(digests) == 1, digests
