"""How long a run will take before it starts, from this machine's measured speed.

A stray Start on a busy two-core machine queued a run of over an hour (15 epochs of 60,000
images) with nothing said beforehand. The form now shows an estimate, and asks once when it is
long. The speed is this machine's own: the finished runs of the same network on it (their epochs
were timed, test passes included), or, before there are any, a few training batches of the
network timed here. A run's cost is its training images plus a third of a training image per
test image (eta.FORWARD_SHARE: a test pass runs the forward pass only).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import torch

from mnist_core.classroom.eta import FORWARD_SHARE
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.device import memory_format_for, pick_device
from mnist_core.engine.distillation import load_teacher
from mnist_core.engine.recipes import build_network
from mnist_core.engine.train import build_optimizer, training_loss
from mnist_core.runs.store import Run

TRAIN_SET, TEST_SET = 60_000, 10_000
BENCH_BATCHES = 2  # timed after one warm-up batch: well under a second on an idle CPU, seconds on a loaded one
LONG_RUN_S = 10 * 60  # a run estimated longer than this asks for a confirmation


@dataclass(frozen=True)
class Speed:
    seconds_per_image: float  # one training image: forward, backward and the optimiser's step
    source: str  # where it was measured, in words ("your 3 finished runs of this network")


def images_per_epoch(config: TrainConfig) -> float:
    """Training images plus test images in training-image units, for one epoch of ``config``."""
    train = config.train_limit or TRAIN_SET
    test = min(config.test_limit or TEST_SET, TEST_SET)
    return train + FORWARD_SHARE * test


def same_network(a: TrainConfig, b: TrainConfig) -> bool:
    """Runs that cost the same per image: the same network, taught by the same teacher (or by none)."""
    return a.step == b.step and a.design == b.design and a.distill_from == b.distill_from


def speed_from_runs(config: TrainConfig, runs: Iterable[Run], device: str) -> Speed | None:
    """Seconds per image over the timed epochs of finished runs of ``config``'s network on ``device``."""
    seconds = images = 0.0
    used = 0
    for run in runs:
        if run.state != "finished" or not same_network(run.config, config) or run.status.get("device") != device:
            continue
        timed = [record["seconds"] for record in run.history if record.get("seconds")]
        if timed:
            seconds += sum(timed)
            images += len(timed) * images_per_epoch(run.config)
            used += 1
    if not used or images <= 0:
        return None
    return Speed(seconds / images, f"{used} finished run{'s' if used != 1 else ''} of this network on this machine")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_speed(config: TrainConfig, batches: int = BENCH_BATCHES) -> Speed:
    """Time a few training batches of ``config``'s network on random pictures, here and now."""
    device = pick_device(config.device)
    memory_format = memory_format_for(device)
    model = build_network(config).to(device, memory_format=memory_format).train()
    optimizer = build_optimizer(model, config)  # the trainer's own (torch.optim's first use costs seconds)
    images = torch.randn(config.batch_size, 1, 28, 28, device=device).to(memory_format=memory_format)
    labels = torch.randint(0, 10, (config.batch_size,), device=device)
    teacher = load_teacher(config.distill_from, device) if config.distill_from else None

    def one_batch() -> None:
        optimizer.zero_grad(set_to_none=True)
        if teacher is not None:  # the teacher's answers are part of every distilled batch's cost
            with torch.no_grad():
                teacher(images)
        training_loss(model(images), labels).backward()
        optimizer.step()

    one_batch()  # the first batch pays for allocations
    _sync(device)
    start = time.perf_counter()
    for _ in range(batches):
        one_batch()
    _sync(device)
    elapsed = time.perf_counter() - start
    return Speed(elapsed / (batches * config.batch_size), f"{batches} training batches timed on this machine")


def estimate_seconds(config: TrainConfig, speed: Speed) -> float:
    """The whole run's estimated wall time on an otherwise idle machine."""
    return config.epochs * images_per_epoch(config) * speed.seconds_per_image


def duration_words(seconds: float) -> str:
    """'about 40 s', 'about 6 min', 'about 1 h 20 min'."""
    if seconds < 90:
        return f"about {max(round(seconds), 1)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"
