"""One module per rubric area; importing this package registers every check."""
from grader.checks import detection, evaluation, model, notebooks, training, transform, weights  # noqa: F401
from grader.checks.base import REGISTRY, Check, Context, Outcome  # noqa: F401
