"""Notebooks: execute a submission's notebooks headlessly in the sandbox and read back what they showed.

``run`` prepares the scratch folder and starts ``executor.py`` (nbclient) through
``grader.sandbox.command``; ``collect`` validates what the run left; ``evidence`` reads a notebook
statically (``ast``) and its outputs. ``executor.py`` and the ``kernel_*.py`` snippets run on the
student's side and import nothing from ``grader``. May import ``grader.data``, ``grader.sandbox``,
``grader.submission`` and ``grader.report.notebook_html``; must never import ``grader.checks`` or
``grader.batch``.
"""
