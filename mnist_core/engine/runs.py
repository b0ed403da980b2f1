"""Training runs on disk: one folder per run, readable while the run is still going.

A run folder holds
  ``config.json``     the TrainConfig,
  ``status.json``     state (queued, running, finished, stopped, failed, interrupted), timings, device,
  ``history.json``    one record per finished epoch, rewritten after every epoch,
  ``evaluation.json`` final test loss and accuracy and the confusion matrix,
  ``mistakes.npz``    every misclassified test image with its true and predicted digit,
  ``mistakes.png``    a grid of the most confident mistakes, and
  ``model.pt``        the checkpoint.
The shipped results in ``assets/step<N>/`` are run folders too, so the dashboard reads
the author's runs and the user's runs with the same code. Every file is written to a
temporary name and renamed, so a page that reads a run mid-write never sees half a file.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from mnist_core.engine.atomic import atomic_path
from mnist_core.engine.checkpoints import save_checkpoint
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors, denormalize
from mnist_core.engine.evaluate import EvalResult, Mistake
from mnist_core.engine.mistake_grid import save_mistake_grid
from mnist_core.engine.run_ids import check_run_id

ACTIVE_STATES = ("queued", "running")
ENDED_STATES = ("finished", "stopped", "failed", "interrupted")


def default_runs_dir() -> Path:
    return Path(os.environ.get("MNIST_RUNS_DIR", "runs"))


def write_json(path: Path, value) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, indent=1))


def read_json(path: Path, default=None):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return default


@dataclass
class MistakeSet:
    """Misclassified test images, most confident first."""

    mistakes: list[Mistake]
    images: np.ndarray  # (N, 28, 28) uint8 pixels


@dataclass
class Run:
    """What one run folder holds, read from disk."""

    run_id: str
    path: Path
    config: TrainConfig
    status: dict
    history: list[dict] = field(default_factory=list)
    evaluation: dict | None = None

    @property
    def state(self) -> str:
        return self.status.get("state", "unknown")

    @property
    def checkpoint(self) -> Path:
        return self.path / "model.pt"

    @property
    def label(self) -> str:
        return self.status.get("label") or f"{self.run_id} (Step {self.config.step})"

    def mistakes(self) -> MistakeSet | None:
        try:
            with np.load(self.path / "mistakes.npz") as npz:
                mistakes = [
                    Mistake(int(i), int(t), int(p), float(c))
                    for i, t, p, c in zip(npz["index"], npz["true"], npz["predicted"], npz["confidence"], strict=True)
                ]
                return MistakeSet(mistakes, npz["images"].copy())
        except (OSError, KeyError, ValueError):
            return None


def read_run(path: Path | str) -> Run | None:
    """The run in ``path``, or None if it is not a run folder."""
    path = Path(path)
    config = read_json(path / "config.json")
    if config is None:
        return None
    try:
        train_config = TrainConfig.from_dict(config)
    except (TypeError, ValueError):
        return None
    return Run(
        run_id=path.name,
        path=path,
        config=train_config,
        status=read_json(path / "status.json", {}) or {},
        history=read_json(path / "history.json", []) or [],
        evaluation=read_json(path / "evaluation.json"),
    )


def finished_run(path: Path, config: TrainConfig) -> Run | None:
    """The finished run of exactly ``config`` in ``path``, or None: lets a study resume without retraining."""
    run = read_run(path)
    if run is not None and run.state == "finished" and run.config == config and run.history:
        return run
    return None


def update_status(path: Path, **changes) -> dict:
    status = read_json(path / "status.json", {}) or {}
    status.update(changes, updated=time.time())
    write_json(path / "status.json", status)
    return status


def write_history(path: Path, history: list[dict]) -> None:
    write_json(path / "history.json", history)


def save_outputs(path: Path, model: torch.nn.Module, config: TrainConfig, evaluation: EvalResult,
                 data: MnistTensors) -> None:
    """Checkpoint, final evaluation and mistakes (with their images) of a trained model."""
    save_checkpoint(path / "model.pt", model, config)
    write_json(path / "evaluation.json", {
        "test_loss": evaluation.loss,
        "test_acc": evaluation.accuracy,
        "correct": evaluation.correct,
        "total": evaluation.total,
        "confusion": evaluation.confusion,
    })
    mistakes = evaluation.mistakes
    indices = torch.tensor([m.index for m in mistakes], dtype=torch.long)
    pixels = (denormalize(data.test_images[indices]) * 255).round().to(torch.uint8).squeeze(1).numpy()
    with atomic_path(path / "mistakes.npz", suffix=".npz") as tmp:
        np.savez_compressed(
            tmp,
            index=np.array([m.index for m in mistakes], dtype=np.int64),
            true=np.array([m.true for m in mistakes], dtype=np.int64),
            predicted=np.array([m.predicted for m in mistakes], dtype=np.int64),
            confidence=np.array([m.confidence for m in mistakes], dtype=np.float32),
            images=pixels.reshape(-1, 28, 28),
        )
    save_mistake_grid(path / "mistakes.png", mistakes, pixels)


def _process_alive(pid) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)  # signal 0 only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunStore:
    """The folder of a user's runs (``runs/`` by default)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root or default_runs_dir())

    def create(self, config: TrainConfig, label: str = "", owner: str = "", owner_name: str = "") -> Run:
        """A new queued run folder; ``owner`` is the owner id (never a secret), ``owner_name`` the name shown."""
        self.root.mkdir(parents=True, exist_ok=True)
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-step{config.step}-{secrets.token_hex(2)}"
        path = self.root / run_id
        path.mkdir()
        write_json(path / "config.json", config.to_dict())
        write_history(path, [])
        label = label or f"Step {config.step} · {run_id[:15]}"
        update_status(path, state="queued", created=time.time(), pid=os.getpid(), label=label, owner=owner,
                      owner_name=owner_name)
        return read_run(path)

    def path(self, run_id: str) -> Path:
        return self.root / check_run_id(run_id)

    def get(self, run_id: str) -> Run | None:
        return read_run(self.path(run_id))

    def list(self) -> list[Run]:
        """All runs, newest first."""
        if not self.root.is_dir():
            return []
        runs = [read_run(p) for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return sorted((r for r in runs if r is not None), key=lambda r: r.status.get("created", 0), reverse=True)

    def delete(self, run_id: str) -> None:
        shutil.rmtree(self.path(run_id), ignore_errors=True)

    def mark_interrupted(self) -> list[str]:
        """Runs that say they are queued or running but whose process is gone: a restart cut them off."""
        marked = []
        for run in self.list():
            if run.state in ACTIVE_STATES and not _process_alive(run.status.get("pid")):
                update_status(run.path, state="interrupted",
                              message=f"The server stopped during this run; {len(run.history)} epoch(s) were saved.")
                marked.append(run.run_id)
        return marked


def train_run(path: Path, config: TrainConfig, data: MnistTensors, on_batch=None, on_epoch=None, stop=None):
    """Train ``config`` into the run folder ``path``, keeping its files current as it goes.

    The history is rewritten after every epoch and the status at the start and end, so a
    page (or a later process) can follow the run. Returns the TrainResult.
    """
    from mnist_core.engine.train import (
        train,  # here, not at the top: train imports the steps registry, which is heavier
    )

    path.mkdir(parents=True, exist_ok=True)
    write_json(path / "config.json", config.to_dict())
    history: list[dict] = []
    write_history(path, history)
    started = time.time()
    update_status(path, state="running", started=started, pid=os.getpid(), message="")

    def record_epoch(record) -> None:
        history.append(record.to_dict())
        write_history(path, history)
        if on_epoch is not None:
            on_epoch(record)

    try:
        result = train(config, data, on_batch=on_batch, on_epoch=record_epoch, stop=stop)
    except Exception as exc:
        update_status(path, state="failed", ended=time.time(), message=f"{exc.__class__.__name__}: {exc}")
        raise
    if result.final_eval is not None:
        save_outputs(path, result.model, config, result.final_eval, data)
    update_status(
        path,
        state="stopped" if result.stopped else "finished",
        ended=time.time(),
        device=result.device,
        params=result.params,
        message=f"Stopped after {len(history)} full epoch(s)." if result.stopped else "",
    )
    return result
