"""``compute``: the model's own compute in a grade, timed alone in this process with the rubric's
settings at its torch thread count (1) and in the memory layout the grader's sandbox gives the net
(channels-last when it answers the same there): the brief training's Adam steps (and its two held-out
losses), the evaluation's forward passes over the test set in batches of 32, and the Haar check's
face crops. Overhead = the grade's wall time (checks without notebooks) / that compute; the same
ratio of CPU times (the grade's processes, all of them) is hardly moved by other work on the machine."""
from __future__ import annotations

import importlib.util
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common import REFERENCE, SHARED, Graded, benchmark, grade_once, load_average, non_notebook_ids
from bench.heavy import NETS, build_submission, net_class, parameters

EVAL_BATCH = 32  # the predict probe's batch (grader/sandbox/child/fkp_probes_weights.py)


def sandbox_runtime():
    """The sandbox child's runtime module (standalone: stdlib, numpy and torch), for its layout choice."""
    path = Path(__file__).resolve().parents[1] / "grader" / "sandbox" / "child" / "fkp_runtime.py"
    spec = importlib.util.spec_from_file_location("bench_fkp_runtime", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


class Clock:
    """Wall and CPU time of the timed parts only (data made up between them is not counted)."""

    def __init__(self):
        self.cpu = 0.0

    def time(self, fn) -> float:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        self.cpu += time.process_time() - cpu
        return time.perf_counter() - wall


def forward(net, batches: list[int], layout=None):
    """Eval-mode forward passes of random faces, one per batch size given (as the predict probe)."""
    import torch

    faces = torch.rand(max(batches), 1, 224, 224, generator=torch.Generator().manual_seed(1))
    faces = faces.contiguous(memory_format=layout or torch.contiguous_format)

    def run():
        net.eval()
        with torch.inference_mode():
            for size in batches:
                net(faces[:size])
    return run


def training(Net, s: dict, clock: Clock) -> tuple[float, float]:
    """(the Adam steps, the two held-out losses) of the brief training, on random faces and targets."""
    import torch

    torch.manual_seed(s["seed"])
    net, draw = Net(), torch.Generator().manual_seed(s["seed"])
    runtime = sandbox_runtime()
    layout = runtime.memory_format(runtime.channels_last(net))
    images = torch.rand(s["train_images"], 1, 224, 224, generator=draw)
    targets = torch.randn(s["train_images"], 136, generator=draw) * 0.5
    optimizer, criterion = torch.optim.Adam(net.parameters(), lr=s["lr"]), torch.nn.MSELoss()
    heldout = forward(net, [s["heldout_images"]], layout)

    def steps():
        net.train()
        for _ in range(s["steps"]):
            index = torch.randint(0, len(images), (s["batch_size"],), generator=draw)
            optimizer.zero_grad()
            criterion(net(images[index].contiguous(memory_format=layout)), targets[index]).backward()
            optimizer.step()
    before = clock.time(heldout)
    return clock.time(steps), before + clock.time(heldout)


def measure(Net, s: dict) -> dict:
    """Each part's wall time, and the CPU time of them all (at one thread: what an idle core would take)."""
    import torch

    previous, clock = torch.get_num_threads(), Clock()
    torch.set_num_threads(s["threads"])
    try:
        torch.manual_seed(s["seed"])
        net = Net()
        runtime = sandbox_runtime()
        fast = runtime.channels_last(net)  # as the first predict decides for the trained net
        layout = runtime.memory_format(fast)
        forward(net, [2], layout)()  # warm-up: the first call in a process loads kernels (the sandbox's probes did that)
        train, heldout = training(Net, s, clock)
        row = {"parameters": parameters(net), "channels_last": fast, "train": train, "heldout": heldout,
               "eval": clock.time(forward(net, s["eval_batches"], layout)),
               "haar": clock.time(forward(net, s["haar_batches"], layout))}
    finally:
        torch.set_num_threads(previous)
    row["compute"] = row["train"] + row["heldout"] + row["eval"] + row["haar"]
    return {**row, "compute_cpu": clock.cpu, "load": load_average()}


def graded_without_notebooks(name: str, console: Console, data_dir: Path) -> Graded:
    """The grade without notebooks: measured earlier in this run, else graded now."""
    known = SHARED["grade_no_notebooks"].get(name)
    if known is not None:
        return known
    console.print(f"bench compute: grading {name} without notebooks (no earlier benchmark of this run did) ...")
    with tempfile.TemporaryDirectory(prefix="fkp-bench-compute-") as scratch:
        submission = REFERENCE if name == "reference" else Path(scratch) / "submissions" / name
        if name != "reference":
            build_submission(name, Path(scratch) / "submissions")
        graded = grade_once(submission, Path(scratch) / "out", data_dir, only=non_notebook_ids())
    SHARED["grade_no_notebooks"][name] = graded
    return graded


def table(rows: dict[str, dict], s: dict) -> Table:
    out = Table(title=f"compute: the model alone at {s['threads']} torch thread(s), the rubric's settings; "
                      "overhead = grade without notebooks / compute")
    columns = ("net", "parameters", "layout", f"train {s['steps']}x{s['batch_size']}", f"held-out 2x{s['heldout_images']}",
               f"eval {sum(s['eval_batches'])}/{EVAL_BATCH}", f"haar {sum(s['haar_batches'])}", "compute", "its CPU",
               "grade w/o nb", "its CPU", "overhead", "CPU overhead")
    for column in columns:
        out.add_column(column, justify="left" if column == "net" else "right")
    for name, r in rows.items():
        out.add_row(name, f"{r['parameters'] / 1e6:.2f} M", "channels-last" if r["channels_last"] else "plain",
                    *(f"{r[k]:.1f} s" for k in ("train", "heldout", "eval")),
                    f"{r['haar']:.2f} s", *(f"{r[k]:.1f} s" for k in ("compute", "compute_cpu", "grade", "grade_cpu")),
                    f"{r['overhead']:.2f}x", f"{r['overhead_cpu']:.2f}x")
    return out


@benchmark("compute")
def bench_compute(console: Console, data_dir: Path, only: set[str] | None = None) -> dict:
    s = settings(data_dir)
    rows, measured = {}, {}
    for name, Net in [("reference", reference_net()), *((n, net_class(n)) for n in NETS)]:
        console.print(f"bench compute: {name} ...")
        row = measure(Net, s)
        graded = graded_without_notebooks(name, console, data_dir)
        row.update(grade=graded.wall_s, grade_cpu=graded.cpu_s, grade_load=graded.load)
        row.update(overhead=row["grade"] / row["compute"], overhead_cpu=row["grade_cpu"] / row["compute_cpu"])
        rows[name] = row
        measured.update({f"{name}_compute_s": row["compute"], f"{name}_overhead": row["overhead"],
                         f"{name}_overhead_cpu": row["overhead_cpu"]})
    console.print(table(rows, s))
    for name, row in rows.items():
        console.print(f"  {name}: load average {row['load']} after its compute, {row['grade_load']} after its grade")
    return measured
