"""Grading harness for the Facial Keypoint Detection project."""

__version__ = "0.1.0"
