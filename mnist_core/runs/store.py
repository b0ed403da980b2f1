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
Every file is read through ``run_files``' validating readers: a folder whose files do not
make sense is a ``DamagedRun`` that says which file and what is wrong, and can be deleted.
While a run is queued or running its owner keeps a heartbeat in ``status.json`` (see
heartbeat.py), so any reader, at any time, sees a run whose process died as interrupted.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from mnist_core.common.atomic import atomic_path
from mnist_core.engine.checkpoints import save_checkpoint
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors, denormalize
from mnist_core.engine.evaluate import EvalResult
from mnist_core.engine.train import train
from mnist_core.runs.heartbeat import Heartbeats, is_stale
from mnist_core.runs.mistake_grid import save_mistake_grid
from mnist_core.runs.run_files import (
    MistakeSet,
    RunFileError,
    check_mistakes,
    read_config,
    read_evaluation,
    read_history,
    read_mistakes,
    read_status,
)
from mnist_core.common.wording import count

ACTIVE_STATES = ("queued", "running")
ENDED_STATES = ("finished", "stopped", "failed", "interrupted")
RUN_FILES = ("config.json", "status.json", "history.json", "evaluation.json", "mistakes.npz", "model.pt")
_STATUS_LOCK = threading.RLock()  # status.json is read, changed and rewritten by the trainer and its heartbeat


def default_runs_dir() -> Path:
    return Path(os.environ.get("MNIST_RUNS_DIR", "runs"))


def write_json(path: Path, value) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, indent=1))


def read_json(path: Path, default=None):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return default


@dataclass
class Run:
    """What one run folder holds, read from disk and checked (see run_files.py)."""

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
        network = "design" if self.config.design else f"Step {self.config.step}"
        return self.status.get("label") or f"{self.run_id} ({network})"

    def mistakes(self) -> MistakeSet | None:
        """The saved mistakes (checked when the run was read); None when it saved none."""
        try:
            return read_mistakes(self.path)
        except RunFileError:  # replaced since the run was read: show none rather than break the page
            return None


@dataclass
class DamagedRun:
    """A run folder whose files do not make sense: shown with the reason, and deletable."""

    run_id: str
    path: Path
    problem: str  # "<file>: <what is wrong>"

    state = "damaged"

    @property
    def label(self) -> str:
        return f"{self.run_id} (damaged)"


def _last_sign_of_life(status: dict) -> float:
    return max(float(status.get(key) or 0) for key in ("heartbeat", "updated"))


def _file_stamps(path: Path) -> tuple | None:
    """(mtime, size, inode) of each run file (None where missing); None when a stat fails otherwise.

    Every run file is written to a new temporary file and renamed, so any change gives a new inode."""
    stamps = []
    for name in RUN_FILES:
        try:
            stat = os.stat(path / name)
        except FileNotFoundError:
            stamps.append(None)
        except OSError:
            return None
        else:
            stamps.append((stat.st_mtime_ns, stat.st_size, stat.st_ino))
    return tuple(stamps)


# Keyed by the files' stamps: a page asks for every run on each run of its script, and 900 runs are read
# once, then only stat'ed (a few hundred microseconds each). Big enough for a class's runs and studies.
@functools.lru_cache(maxsize=4096)
def _checked_files(path: str, stamps: tuple) -> tuple[TrainConfig, dict, list, dict | None] | str:
    """The run's checked files, or the damage found (``"<file>: <what>"``)."""
    folder = Path(path)
    try:
        config = read_config(folder)
        status = read_status(folder)
        history = read_history(folder, config.epochs)
        evaluation = read_evaluation(folder)
        if status["state"] == "finished":
            if len(history) != config.epochs:
                raise RunFileError("history.json", f"{len(history)} of {config.epochs} epochs recorded, "
                                                   "but status.json says the run finished")
            if evaluation is None:
                raise RunFileError("evaluation.json", "missing, but status.json says the run finished")
        check_mistakes(folder)  # its shape; the images are decoded only when shown
    except RunFileError as exc:
        return str(exc)
    return config, status, history, evaluation


def inspect_run(path: Path | str) -> Run | DamagedRun | None:
    """The run in ``path``; a DamagedRun when one of its files does not make sense; None if it is no run folder.

    A queued or running run whose heartbeat stopped comes back as interrupted (nothing is
    written here: ``RunStore.mark_interrupted`` records it). Files unchanged since the last
    call are not read again.
    """
    path = Path(path)
    stamps = _file_stamps(path)
    if stamps is not None and not any(stamps):
        return None
    if stamps is None and not any((path / name).exists() for name in RUN_FILES):
        return None
    checked = _checked_files(str(path), stamps) if stamps is not None \
        else _checked_files.__wrapped__(str(path), ())
    if isinstance(checked, str):
        return DamagedRun(path.name, path, checked)
    config, status, history, evaluation = checked
    status, history = dict(status), list(history)  # the cached ones are shared: callers get their own
    if status["state"] in ACTIVE_STATES and is_stale(status):
        seen = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(_last_sign_of_life(status)))
        status = {**status, "state": "interrupted",
                  "message": f"Its process stopped: no sign of life since {seen}. "
                             f"{count(len(history), 'epoch')} saved."}
    return Run(run_id=path.name, path=path, config=config, status=status, history=history, evaluation=evaluation)


def read_run(path: Path | str) -> Run | None:
    """The run in ``path``, or None if it is not a run folder or is damaged."""
    run = inspect_run(path)
    return run if isinstance(run, Run) else None


def finished_run(path: Path, config: TrainConfig) -> Run | None:
    """The finished run of exactly ``config`` in ``path``, or None: lets a study resume without retraining."""
    run = read_run(path)
    if run is not None and run.state == "finished" and run.config == config and run.history:
        return run
    return None


def update_status(path: Path, **changes) -> dict:
    with _STATUS_LOCK:
        status = read_json(path / "status.json", {})
        status = status if isinstance(status, dict) else {}  # a damaged status is replaced, not kept
        status.update(changes, updated=time.time())
        write_json(path / "status.json", status)
        return status


class RunFailed(RuntimeError):
    """A run's failure already said in words (by the process that trained it): kept as it is."""


def failure_message(exc: BaseException) -> str:
    """One line for a run that failed: a full disk said as such, anything else as its type and text."""
    if isinstance(exc, RunFailed):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "disk full: the disk of the runs folder has no space left; free some, then start the run again"
    return f"{exc.__class__.__name__}: {exc}"


def record_failure(path: Path, message: str) -> bool:
    """Mark the run at ``path`` failed with ``message``; True when the status says so now.

    On a full disk no new file can be made, so the usual write (a temporary file renamed over the
    status) fails; the status file is then rewritten in place, compactly, inside the space it already
    has, so the run says "failed: disk full" instead of staying "running" until it reads as interrupted.
    """
    try:
        update_status(path, state="failed", ended=time.time(), message=message)
        return True
    except OSError:
        pass
    with _STATUS_LOCK:
        status = read_json(path / "status.json", {})
        status = status if isinstance(status, dict) else {}
        now = time.time()
        status.update(state="failed", ended=now, updated=now, message=message)
        try:
            with open(path / "status.json", "r+", encoding="utf-8") as out:
                out.write(json.dumps(status, separators=(",", ":")))
                out.truncate()
            return True
        except OSError:
            return False


def _beat(path: Path) -> None:
    with _STATUS_LOCK:
        if (path / "status.json").is_file():  # never recreate a folder deleted meanwhile
            update_status(path, heartbeat=time.time())


HEARTBEATS = Heartbeats(_beat)  # every run this process trains or holds in its queue


@contextlib.contextmanager
def keep_alive(path: Path):
    """Stamp ``path``'s status every few seconds while the block runs."""
    HEARTBEATS.add(path)
    try:
        yield
    finally:
        HEARTBEATS.remove(path)


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



class RunStore:
    """The folder of a user's runs (``runs/`` by default)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root or default_runs_dir())

    def create(self, config: TrainConfig, label: str = "", owner: str = "", owner_name: str = "",
               by_teacher: bool = False) -> Run:
        """A new queued run folder; ``owner`` is the owner id (never a secret), ``owner_name`` the name shown,
        ``by_teacher`` set by the server for a run the signed-in teacher started."""
        self.root.mkdir(parents=True, exist_ok=True)
        network = "design" if config.design else f"step{config.step}"
        for _ in range(100):  # two runs made in the same second differ in 32 random bits; a clash tries again
            run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{network}-{secrets.token_hex(4)}"
            path = self.root / run_id
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"no free run id in {self.root}")
        write_json(path / "config.json", config.to_dict())
        write_history(path, [])
        label = label or f"{'Design' if config.design else f'Step {config.step}'} · {run_id[:15]}"
        update_status(path, state="queued", created=time.time(), pid=os.getpid(), label=label, owner=owner,
                      owner_name=owner_name, **({"by_teacher": True} if by_teacher else {}))
        return read_run(path)

    def path(self, run_id: str) -> Path:
        """The folder of ``run_id``, always directly inside the runs folder; ValueError for anything else."""
        if (not isinstance(run_id, str) or not run_id or run_id.startswith(".")
                or any(c in run_id for c in ("/", "\\", "\0")) or Path(run_id).is_absolute()):
            raise ValueError(f"not a run id: {run_id!r}")
        path = self.root / run_id
        if path.parent != self.root or path.name != run_id:
            raise ValueError(f"not a run id: {run_id!r}")
        return path

    def get(self, run_id: str) -> Run | None:
        return read_run(self.path(run_id))

    def scan(self) -> tuple[list[Run], list[DamagedRun]]:
        """Every run (newest first) and every damaged run folder (by name)."""
        if not self.root.is_dir():
            return [], []
        found = [inspect_run(p) for p in sorted(self.root.iterdir()) if p.is_dir() and not p.name.startswith(".")]
        runs = [r for r in found if isinstance(r, Run)]
        runs.sort(key=lambda r: r.status.get("created") or 0, reverse=True)
        return runs, [r for r in found if isinstance(r, DamagedRun)]

    def study_runs(self) -> list[Run]:
        """Runs the command line's studies keep one folder down (``runs/step2-seeds/seed1``), newest first.

        Shown on Compare runs beside the dashboard's own; managed (deleted) with their study on disk.
        """
        if not self.root.is_dir():
            return []
        found = []
        for study in sorted(self.root.iterdir()):
            if study.is_dir() and not study.name.startswith(".") and inspect_run(study) is None:
                found += [run for p in sorted(study.iterdir()) if p.is_dir() and not p.name.startswith(".")
                          and (run := read_run(p)) is not None]
        return sorted(found, key=lambda r: r.status.get("created") or r.status.get("started") or 0, reverse=True)

    def list(self) -> list[Run]:
        """All runs whose files make sense, newest first."""
        return self.scan()[0]

    def damaged(self) -> list[DamagedRun]:
        """Run folders whose files do not make sense, each with the reason."""
        return self.scan()[1]

    def delete(self, run_id: str) -> None:
        """Remove the run's folder; OSError (saying why) when it is still there afterwards.

        A run folder that is a symbolic link is removed as a link: the folder it points to may be
        anywhere (a shipped run, another disk), and is left alone.
        """
        path = self.path(run_id)
        if path.is_symlink():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
        if os.path.lexists(path):
            raise OSError(f"{run_id} could not be deleted (check the permissions of {self.root})")

    def mark_interrupted(self) -> list[str]:
        """Record as interrupted the runs that say they are queued or running but whose heartbeat stopped."""
        marked = []
        for run in self.list():
            saved = read_json(run.path / "status.json", {})
            if run.state == "interrupted" and isinstance(saved, dict) and saved.get("state") in ACTIVE_STATES:
                update_status(run.path, state="interrupted", message=run.status["message"])
                marked.append(run.run_id)
        return marked


def train_run(path: Path, config: TrainConfig, data: MnistTensors, on_batch=None, on_epoch=None, stop=None,
              on_eval=None, on_saving=None):
    """Train ``config`` into the run folder ``path``, keeping its files current as it goes.

    The history is rewritten after every epoch, the status at the start and end, and the
    heartbeat every few seconds, so a page (or a later process) can follow the run.
    ``on_eval`` follows each test pass and ``on_saving()`` is called once training is over,
    before the files are written. Ctrl-C (KeyboardInterrupt) marks the run stopped before it
    goes on up. Returns the TrainResult.
    """
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

    with keep_alive(path):
        try:
            result = train(config, data, on_batch=on_batch, on_epoch=record_epoch, stop=stop, on_eval=on_eval)
            if on_saving is not None:
                on_saving()
            if result.final_eval is not None:  # a run stopped before its first epoch ended was never graded
                save_outputs(path, result.model, config, result.final_eval, data)
        except KeyboardInterrupt:  # Ctrl-C twice in the CLI: no time to evaluate, but say what was kept
            update_status(path, state="stopped", ended=time.time(),
                          message=f"Stopped with Ctrl-C after {count(len(history), 'full epoch')}.")
            raise
        except Exception as exc:
            record_failure(path, failure_message(exc))
            raise
        update_status(
            path,
            state="stopped" if result.stopped else "finished",
            ended=time.time(),
            device=result.device,
            params=result.params,
            message=(f"Stopped after {count(len(history), 'full epoch')}." if history else
                     "Stopped before its first epoch ended: nothing was evaluated or saved.")
            if result.stopped else "",
        )
    return result
