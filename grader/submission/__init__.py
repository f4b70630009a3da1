"""Submission: find a submission's files and map them to the roles of the student contract.

Owns layout detection (the project layout and the course's classic one), which file plays
which role and what the student's code chose (class, constructor, transform, weights). Reads the
student's files as bytes, text or ``ast`` only: it never imports or runs them. Must never import
``grader.sandbox``, ``grader.checks``, ``grader.notebooks``, ``grader.report`` or ``grader.batch``.
"""
