"""Checks: one module per rubric area; each check decides an Outcome from what the sandbox measured.

Trusted code: checks never import or start student code themselves; they ask ``ctx.sandbox``
(probes) and ``grader.notebooks`` (runs). May import ``grader.data``, ``grader.submission``,
``grader.notebooks``, ``grader.report.figures``, ``grader.rubric`` and ``grader.results``; must
never import ``grader.batch``. Importing this package registers every check.
"""
from grader.checks import detection, evaluation, model, notebooks, training, transform, weights  # noqa: F401
from grader.checks.base import REGISTRY, Check, Context, Outcome  # noqa: F401
