"""Report: render a grade's results.json into report.html, junit.xml and figures; the batch index page;
re-rendering and an instructor's manual points.

Renders from results data only: must never import ``grader.checks``, ``grader.sandbox``,
``grader.notebooks`` or ``grader.submission``. May import ``grader.results``, ``grader.data.metrics``
and the batch's gradebook rows.
"""
