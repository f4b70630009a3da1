"""Benchmarks of the grading harness (``make bench``): they print timings; tests never assert on them.

Outside the ``grader`` package on purpose: the product does not ship its benchmarks. May import
anything from ``grader``; nothing in ``grader`` imports this package.
"""
