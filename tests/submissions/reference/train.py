"""Train the reference submission from scratch on CPU and write student/saved_models/keypoints_model.pt.

Recipe: every training image is decoded, grayscaled and (if large) shrunk once into memory;
each draw is one random affine warp (rotation, scale, shift, mirrored with the left/right
landmark swap) straight to 224x224 plus brightness/contrast/gamma jitter (student/transforms.py).
L1 on normalised keypoints, AdamW with a one-cycle schedule, budgeted in optimizer steps. The
convolutions run in bfloat16 (autocast; the weights, the heatmaps and the loss stay float32) on
channels-last tensors: 3.2x the steps per second of float32 on this CPU, which has AVX-512 BF16.

    python tests/submissions/reference/train.py --data-dir data/facial-keypoints
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "student"))
sys.path.insert(1, str(HERE.parents[2] / "student"))  # the course's data_load.py, which the grader supplies too
# OpenMP threads that spin while waiting stall each other on a busy 2-core machine (measured
# 0.44 -> 1.58 steps/s under load); must be set before torch loads its OpenMP runtime.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

from data_load import FacialKeypointsDataset  # noqa: E402
from models import Net  # noqa: E402
from transforms import augment_transform, preload_transform  # noqa: E402

WEIGHTS = HERE / "student" / "saved_models" / "keypoints_model.pt"


@dataclass(frozen=True)
class TrainConfig:
    data_dir: Path
    out: Path = WEIGHTS
    steps: int = 10000  # optimizer steps: ~7 steps/s on 2 idle CPU cores, ~24 min
    batch_size: int = 32
    lr: float = 1e-3  # one-cycle peak (3e-3 stalled at the mean shape in a 300-step smoke run)
    warmup: float = 0.1  # fraction of the steps spent rising to the peak
    weight_decay: float = 1e-2
    bfloat16: bool = True  # autocast the convolutions to bfloat16 (fast where the CPU has AVX-512 BF16 or AMX)
    seed: int = 0
    workers: int = 0  # 0: augment in the main process
    threads: int = 2
    log_every: int = 100
    eval_every: int = 0  # >0: print test NME (monitoring only; the last weights are kept)


class CachedFaces(Dataset):
    """Training samples preloaded as grayscale; ``augment_transform`` runs on every draw."""

    def __init__(self, data_dir: Path):
        raw = FacialKeypointsDataset(str(data_dir / "training_frames_keypoints.csv"), str(data_dir / "training"))
        self.samples = [preload_transform(raw[i]) for i in range(len(raw))]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, idx: int) -> dict:
        return augment_transform(self.samples[idx])


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def seed_worker(worker_id: int) -> None:
    """numpy's global RNG drives the augmentation: derive it from the worker's torch seed."""
    np.random.seed(torch.initial_seed() % 2**32)


def endless_batches(faces: CachedFaces, cfg: TrainConfig, generator: torch.Generator):
    """Yield (images (B, 1, 224, 224), keypoints (B, 136)) batches, reshuffling every epoch."""
    loader = DataLoader(
        faces, batch_size=cfg.batch_size, shuffle=True, drop_last=True, num_workers=cfg.workers,
        worker_init_fn=seed_worker, generator=generator,
    )
    while True:
        for batch in loader:
            yield batch["image"], batch["keypoints"].view(len(batch["keypoints"]), -1)


def make_optimizer(net: torch.nn.Module, cfg: TrainConfig):
    """AdamW (no decay on BatchNorm and biases) with a one-cycle learning-rate schedule."""
    decay = [p for p in net.parameters() if p.ndim > 1]
    no_decay = [p for p in net.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=cfg.warmup, div_factor=20, final_div_factor=200
    )
    return optimizer, schedule


def monitor(net: torch.nn.Module, data_dir: Path) -> str:
    """Test NME for the log (evaluate.py needs the repository's grader package)."""
    sys.path.insert(0, str(HERE))
    from evaluate import evaluate_net

    metrics = evaluate_net(net, data_dir)
    return f"test NME {100 * metrics['nme']:.2f} %"


def train(cfg: TrainConfig) -> torch.nn.Module:
    torch.set_num_threads(cfg.threads)
    generator = seed_everything(cfg.seed)
    start = time.time()
    faces = CachedFaces(cfg.data_dir)
    print(f"preloaded {len(faces)} training images in {time.time() - start:.1f} s", flush=True)
    net = Net().to(memory_format=torch.channels_last)
    print(f"Net: {sum(p.numel() for p in net.parameters()):,} parameters", flush=True)
    optimizer, schedule = make_optimizer(net, cfg)
    batches = endless_batches(faces, cfg, generator)
    net.train()
    start, running = time.time(), 0.0
    for step in range(1, cfg.steps + 1):
        images, targets = next(batches)  # (B, 1, 224, 224), (B, 136)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bfloat16):
            outputs = net(images.contiguous(memory_format=torch.channels_last))
        loss = F.l1_loss(outputs.float(), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running += loss.item()
        if step % cfg.log_every == 0 or step == cfg.steps:
            elapsed = time.time() - start
            print(
                f"step {step}/{cfg.steps} loss {running / cfg.log_every:.5f} lr {schedule.get_last_lr()[0]:.2e} "
                f"{elapsed:.0f} s ({step / elapsed:.2f} steps/s)", flush=True,
            )
            running = 0.0
        if cfg.eval_every and step % cfg.eval_every == 0:
            net.eval()
            print(f"step {step}: {monitor(net, cfg.data_dir)}", flush=True)
            net.train()
    net.eval()
    print(f"trained {cfg.steps} steps in {time.time() - start:.0f} s", flush=True)
    return net


def main(*, data_dir: Path, out: Path = WEIGHTS, **overrides) -> None:
    cfg = TrainConfig(data_dir=Path(data_dir), out=Path(out), **overrides)
    print(cfg, flush=True)
    net = train(cfg)
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), cfg.out)
    print(f"wrote {cfg.out} ({cfg.out.stat().st_size / 1e6:.2f} MB)", flush=True)


def parse_args(argv=None) -> dict:
    defaults = TrainConfig(data_dir=Path("."))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/facial-keypoints"))
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    for name in ("steps", "batch_size", "seed", "workers", "threads", "log_every", "eval_every"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    parser.add_argument("--float32", dest="bfloat16", action="store_false", help="no bfloat16 autocast")
    for name in ("lr", "warmup", "weight_decay"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    return vars(parser.parse_args(argv))


if __name__ == "__main__":
    main(**parse_args())
