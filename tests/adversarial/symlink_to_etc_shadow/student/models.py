import glob
import os


def attempt(label, action):
    try:
        got = action()
        print(f"snoop {label}: GOT {str(got)[:120]!r}")
    except Exception as exc:  # noqa: BLE001 - every failure is the expected outcome
        print(f"snoop {label}: refused ({type(exc).__name__})")


def read(path):
    with open(path, "rb") as handle:
        return handle.read(200)


from honest_net import Net  # noqa: E402,F401

attempt("notes.csv", lambda: read(os.path.join(os.path.dirname(__file__), "notes.csv")))
