"""Grading harness for the Facial Keypoint Detection project.

The pipeline of one grade (``grade.py``): ``submission`` (which file plays which role) ->
``sandbox`` (student code in child processes) and ``notebooks`` (headless runs) -> ``checks``
(decide points, from ``rubric``) -> ``results`` (data) -> ``report`` (HTML, JUnit). ``data`` (the
dataset and metrics) serves every stage; ``batch`` grades a class around ``grade``. The map is in
docs/architecture.md; tests/test_architecture.py enforces its import rules.
"""

__version__ = "0.1.0"
