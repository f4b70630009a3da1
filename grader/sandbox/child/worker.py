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
    # Bound before the student's code is imported: replacing a probe or ``send`` in our modules from
    # models.py changes nothing here. (Code in this process can still write to the answer pipe: the
    # grader treats every answer as a claim to validate, and scores from arrays it checks itself.)
    probes, send, student_error, seed_everything = dict(PROBES), runtime.send, runtime.student_error, \
        runtime.seed_everything
    for line in sys.stdin:
        request = json.loads(line)
        runtime.CURRENT_ID = request_id = request["id"]
        seed_everything(seed)
        try:
            value = probes[request["probe"]](request.get("args", {}))
            send({"id": request_id, "status": "ok", "value": value})
        except BaseException as exc:  # student code may raise anything, SystemExit included
            send({"id": request_id, "status": "error", "error": student_error(exc)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers-fd", type=int, required=True)
    runtime.ANSWERS = os.fdopen(parser.parse_args().answers_fd, "wb", buffering=0)
    serve()


if __name__ == "__main__":
    main()
