"""The command line's way to train: through the same backend interface as the dashboard.

Without ``MNIST_RAY_ADDRESS`` each run trains here, one after another, with a progress bar.
With it, runs go to the Ray cluster, as many at once as it holds (so ``seeds`` trains its
seeds in parallel), each printing a line per finished epoch; every command says which
backend and which nodes trained its runs.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mnist_core.classroom.backend_choice import backend_from_env
from mnist_core.classroom.backends import TrainingBackend, TrainOutcome
from mnist_core.commands.progress_bar import EpochBar
from mnist_core.common.wording import count
from mnist_core.engine.config import TrainConfig


def announce() -> TrainingBackend:
    backend = backend_from_env()
    print(f"Training backend: {backend.name}, {backend.describe()}", flush=True)
    return backend


def train_all(backend: TrainingBackend, jobs: list[tuple[str, Path, TrainConfig]], data,
              at_once: int | None = None) -> dict[str, TrainOutcome]:
    """Train every (name, run folder, config); returns each name's outcome, in the order given.

    On Ray, ``at_once`` jobs train side by side (default: as many as the cluster holds). A job
    that fails does not stop the others; once all have ended, RuntimeError names each failure.
    """
    if backend.name == "local":
        outcomes = {}
        for name, path, config in jobs:
            print(f"\n=== {name} -> {path} ===", flush=True)
            bar = EpochBar(stream=sys.stdout)
            outcomes[name] = backend.train_into(path, config, data, on_batch=bar.update, on_epoch=bar.epoch_done)
        return outcomes

    def train_reporting(name, path, config) -> TrainOutcome:
        def on_epoch(record) -> None:
            print(f"[{name}] epoch {record.epoch}/{config.epochs}: test {record.test_acc:.2f}% "
                  f"({record.seconds:.1f} s)", flush=True)

        outcome = backend.train_into(path, config, data, on_epoch=on_epoch)
        print(f"[{name}] done on node {outcome.node} ({outcome.device})", flush=True)
        return outcome

    def one(job):
        try:
            return train_reporting(*job)
        except Exception as exc:  # noqa: BLE001 - collected: the other jobs go on
            print(f"[{job[0]}] failed: {exc}", flush=True)
            return exc

    workers = at_once or backend.capacity(len(jobs))
    with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), workers))) as pool:
        results = list(pool.map(one, jobs))
    failures = [f"{name} did not finish: {r}" for (name, _, _), r in zip(jobs, results, strict=True)
                if isinstance(r, Exception)]
    if failures:
        raise RuntimeError("; ".join(failures))
    return {name: outcome for (name, _, _), outcome in zip(jobs, results, strict=True)}


def nodes_line(outcomes: dict[str, TrainOutcome]) -> str:
    nodes = sorted({o.node for o in outcomes.values()})
    return f"Trained on {count(len(nodes), 'node')}: {', '.join(nodes)}" if nodes else "Nothing trained"
