import os

from honest_net import Net  # noqa: F401
from snoop import attempt, read

attempt("notes.csv", lambda: read(os.path.join(os.path.dirname(__file__), "notes.csv")))
