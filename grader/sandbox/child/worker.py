"""The sandboxed child: imports the student's code once and serves the grader's probes in turn.

Standalone on purpose (stdlib, numpy, torch, cv2 only; no ``grader`` imports): the sandbox copies
this file and its ``fkp_*`` modules next to a copy of the student's folder and runs it as an
unprivileged process. Requests arrive as JSON lines on stdin; answers go out as JSON lines on
``--answers-fd``: ``{"id", "progress": [done, total]}`` while working, then
``{"id", "status", "value"|"error"}``. Everything this process says is a measurement the grader
validates, never a verdict. (The ``fkp_`` prefix keeps our modules from shadowing the student's.)
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import fkp_probes_composed
import fkp_probes_data
import fkp_probes_model
import fkp_probes_weights
import fkp_runtime as runtime

PROBES = {name.removeprefix("probe_"): fn
          for module in (fkp_probes_model, fkp_probes_data, fkp_probes_composed, fkp_probes_weights)
          for name, fn in vars(module).items() if name.startswith("probe_")}


def serve() -> None:
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    seed = int(os.environ.get("FKP_SEED", "0"))
    for line in sys.stdin:
        request = json.loads(line)
        runtime.CURRENT_ID = request["id"]
        runtime.seed_everything(seed)
        try:
            value = PROBES[request["probe"]](request.get("args", {}))
            runtime.send({"id": runtime.CURRENT_ID, "status": "ok", "value": value})
        except BaseException as exc:  # student code may raise anything, SystemExit included
            runtime.send({"id": runtime.CURRENT_ID, "status": "error", "error": runtime.student_error(exc)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers-fd", type=int, required=True)
    runtime.ANSWERS = os.fdopen(parser.parse_args().answers_fd, "wb", buffering=0)
    serve()


if __name__ == "__main__":
    main()
