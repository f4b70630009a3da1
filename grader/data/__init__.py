"""Data: the dataset (fetch and verify, CSV tables, the canonical eval transform, cached test tensors)
and the metrics (NME, MSE, per-group errors), all in trusted, pure code.

Must never import anything from ``grader`` outside this package: every other stage builds on it.
"""
