"""Sandbox: the only place that starts student code, in child processes under limits.

``spawn`` runs the probe worker (``child/``, copied next to a copy of the student's folder) and
``command`` runs whole commands (a notebook's executor and kernel); ``limits`` applies rlimits,
the network namespace and the unprivileged user. Must never import anything from ``grader``
outside this package; the files in ``child/`` import nothing from ``grader`` at all.
"""
