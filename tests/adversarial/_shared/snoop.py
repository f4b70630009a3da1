"""What the snooping fixtures use: each attempt prints what it got, so the report shows it."""
import os  # noqa: F401 - the fixtures take os from here too


def attempt(label, action):
    try:
        got = action()
        print(f"snoop {label}: GOT {str(got)[:120]!r}")
    except Exception as exc:  # noqa: BLE001 - every failure is the expected outcome
        print(f"snoop {label}: refused ({type(exc).__name__})")


def read(path):
    with open(path, "rb") as handle:
        return handle.read(200)
