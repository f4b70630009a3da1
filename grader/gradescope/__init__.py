"""Gradescope: the grader packaged as Gradescope's autograder.zip, and the grade it runs there.

``package`` writes the zip (setup.sh, run_autograder, the grader's source, the rubric, the data
or its pinned fetch); ``autograde`` grades one submission into Gradescope's results.json, a valid
one even when grading crashes. It goes through ``grade.main`` and must never import checks,
sandbox, notebooks or batch itself.
"""
