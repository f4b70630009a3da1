"""``compute``: the model's own compute in a grade, timed alone in this process with the rubric's
settings at its torch thread count (1): the brief training's Adam steps (and its two held-out
losses), the evaluation's forward passes over the test set in batches of 32, and the Haar check's
face crops. Overhead = the grade's wall time (checks without notebooks) / that compute."""
from __future__ import annotations

import importlib.util
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common import REFERENCE, SHARED, benchmark, grade_once, non_notebook_ids
from bench.heavy import NETS, build_submission, net_class, parameters

EVAL_BATCH = 32  # the predict probe's batch (grader/sandbox/child/fkp_probes_weights.py)


def reference_net():
    spec = importlib.util.spec_from_file_location("bench_reference_models", REFERENCE / "student" / "models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Net


def settings(data_dir: Path) -> dict:
    from grader.data import dataset
    from grader.rubric import load_rubric

    rubric = load_rubric()
    brief, haar = rubric.check("training.brief"), rubric.check("detection.haar_cnn")
    test_images = len(dataset.read_table(data_dir, "test").names)
    return {"threads": rubric.threads, "seed": rubric.seed, "steps": int(brief["steps"]),
            "batch_size": int(brief["batch_size"]), "lr": float(brief["learning_rate"]),
            "train_images": int(brief["train_images"]), "heldout_images": int(brief["heldout_images"]),
            "eval_batches": [min(EVAL_BATCH, test_images - s) for s in range(0, test_images, EVAL_BATCH)],
            "haar_batches": [int(n) for n in dict(haar["photos"]).values()] + [int(haar["collage_faces"])]}


def forward_time(net, batches: list[int]) -> float:
    """Eval-mode forward passes of random faces, one per batch size given (as the predict probe)."""
    import torch

    faces = torch.rand(max(batches), 1, 224, 224, generator=torch.Generator().manual_seed(1))
    net.eval()
    started = time.perf_counter()
    with torch.inference_mode():
        for size in batches:
            net(faces[:size])
    return time.perf_counter() - started


def training_time(Net, s: dict) -> tuple[float, float]:
    """(the Adam steps, the two held-out losses) of the brief training, on random faces and targets."""
    import torch

    torch.manual_seed(s["seed"])
    net, draw = Net(), torch.Generator().manual_seed(s["seed"])
    images = torch.rand(s["train_images"], 1, 224, 224, generator=draw)
    targets = torch.randn(s["train_images"], 136, generator=draw) * 0.5
    optimizer, criterion = torch.optim.Adam(net.parameters(), lr=s["lr"]), torch.nn.MSELoss()
    heldout = forward_time(net, [s["heldout_images"]])
    net.train()
    started = time.perf_counter()
    for _ in range(s["steps"]):
        index = torch.randint(0, len(images), (s["batch_size"],), generator=draw)
        optimizer.zero_grad()
        loss = criterion(net(images[index]), targets[index])
        loss.backward()
        optimizer.step()
    steps = time.perf_counter() - started
    return steps, heldout + forward_time(net, [s["heldout_images"]])


def measure(Net, s: dict) -> dict:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(s["threads"])
    try:
        train, heldout = training_time(Net, s)
        torch.manual_seed(s["seed"])
        net = Net()
        return {"parameters": parameters(net), "train": train, "heldout": heldout,
                "eval": forward_time(net, s["eval_batches"]), "haar": forward_time(net, s["haar_batches"])}
    finally:
        torch.set_num_threads(previous)


def grade_time(name: str, console: Console, data_dir: Path) -> float:
    """The grade's wall time without notebooks: measured earlier in this run, else graded now."""
    known = SHARED["grade_no_notebooks_s"].get(name)
    if known is not None:
        return known
    console.print(f"bench compute: grading {name} without notebooks (no earlier benchmark of this run did) ...")
    with tempfile.TemporaryDirectory(prefix="fkp-bench-compute-") as scratch:
        submission = REFERENCE if name == "reference" else Path(scratch) / "submissions" / name
        if name != "reference":
            build_submission(name, Path(scratch) / "submissions")
        seconds, _ = grade_once(submission, Path(scratch) / "out", data_dir, only=non_notebook_ids())
    SHARED["grade_no_notebooks_s"][name] = seconds
    return seconds


def table(rows: dict[str, dict], s: dict) -> Table:
    out = Table(title=f"compute: the model alone at {s['threads']} torch thread(s), the rubric's settings")
    columns = ("net", "parameters", f"training {s['steps']}x{s['batch_size']}", f"held-out 2x{s['heldout_images']}",
               f"eval {sum(s['eval_batches'])} (batch {EVAL_BATCH})", f"haar {sum(s['haar_batches'])} crops",
               "compute", "grade w/o notebooks", "overhead")
    for column in columns:
        out.add_column(column, justify="left" if column == "net" else "right")
    for name, r in rows.items():
        out.add_row(name, f"{r['parameters']:,}", f"{r['train']:.1f} s", f"{r['heldout']:.1f} s", f"{r['eval']:.1f} s",
                    f"{r['haar']:.2f} s", f"{r['compute']:.1f} s", f"{r['grade']:.1f} s", f"{r['overhead']:.2f}x")
    return out


@benchmark("compute")
def bench_compute(console: Console, data_dir: Path, only: set[str] | None = None) -> dict:
    s = settings(data_dir)
    rows, measured = {}, {}
    for name, Net in [("reference", reference_net()), *((n, net_class(n)) for n in NETS)]:
        console.print(f"bench compute: {name} ...")
        row = measure(Net, s)
        row["compute"] = row["train"] + row["heldout"] + row["eval"] + row["haar"]
        row["grade"] = grade_time(name, console, data_dir)
        row["overhead"] = row["grade"] / row["compute"]
        rows[name] = row
        measured.update({f"{name}_compute_s": row["compute"], f"{name}_overhead": row["overhead"]})
    console.print(table(rows, s))
    return measured
