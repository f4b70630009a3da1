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

GUESSES = ["/data/test_frames_keypoints.csv", "/grader-secrets/test_frames_keypoints.csv",
           "../data/test_frames_keypoints.csv", "data/test_frames_keypoints.csv",
           "../../data/facial-keypoints/test_frames_keypoints.csv", "/submission/../grader-secrets"]
for guess in GUESSES:
    attempt(guess, lambda: read(guess))
attempt("glob **/test_frames_keypoints.csv", lambda: glob.glob("/*/test_frames_keypoints.csv")
        + glob.glob("/grader*/**/test_frames*.csv", recursive=True))
