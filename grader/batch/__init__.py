"""Batch: grade a class. ``run`` plans and runs one grading process per submission (``isolate``), reads
folders and archives safely (``intake``), writes the gradebook and events, shards, merges and sends
work to a Dask cluster.

Grades only through ``python -m grader grade`` processes: must never import ``grader.checks``,
``grader.sandbox`` or ``grader.notebooks``. May import ``grader.submission``, ``grader.results``,
``grader.rubric`` and ``grader.report``.
"""
