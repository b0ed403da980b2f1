"""Training in worker processes of this machine, each with its own share of the cores.

Two trainings in one process share one PyTorch thread pool, and two processes that each
take every core fight over them (a one-epoch run measured here went from 148 s to 337 s
with other work beside it). So the dashboard trains every run in a process of its own and
gives it ``cores // runs training now`` threads, re-divided whenever a run starts or ends:
a lone run gets every core, k runs share them. The dashboard's own process only schedules
and shows; a worker that dies (out of memory, killed) takes only its own run with it, which
ends *failed* with the reason.

The workers are forked from a small server process that has imported PyTorch once
(multiprocessing's ``forkserver``, where the platform has it), so a start costs a fork,
not a new interpreter. A worker is sent only the images its run reads, by value, and
reports over a pipe: every batch, epoch and test pass, then its result. Stop and the thread
budget travel the other way as a shared event and a shared integer. A worker whose
dashboard has gone stops after its batch and saves what it trained.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import platform
import sys
import threading
import types
from pathlib import Path

import numpy as np
import torch

from mnist_core.classroom.backends import TrainOutcome
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors, needed_part
from mnist_core.runs.store import RunFailed, failure_message, train_run, update_status

POLL_S = 0.2  # how often the dashboard's side looks for a dead worker between messages
MAX_DEFAULT_WORKERS = 8  # each worker holds its own copy of the images it trains on (up to ~220 MB)


def machine_cores() -> int:
    """The cores this process may use (a container's share, where the platform says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(cores: int | None = None, gpu: bool | None = None) -> int:
    """How many runs train at once when nobody says: one per core on a CPU (each then has a core of its
    own, which two runs on two cores measured faster together than in turn), a few beside each other on one
    GPU (the GPU, not the cores, does the work there)."""
    cores = machine_cores() if cores is None else cores
    gpu = torch.cuda.is_available() if gpu is None else gpu
    return 4 if gpu else max(1, min(cores, MAX_DEFAULT_WORKERS))


def thread_share(cores: int, running: int) -> int:
    """Threads for each of ``running`` runs on ``cores`` cores: an equal share, at least one."""
    return max(1, cores // max(1, running))


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])  # the server imports torch and the trainer once
        return context
    return multiprocessing.get_context("spawn")


_MAIN_SWAP = threading.Lock()


@contextlib.contextmanager
def _without_the_main_script():
    """Start processes in this block without the server's main script.

    multiprocessing runs the parent's ``__main__`` file in every new process before its target (as
    ``__mp_main__``), and Streamlit makes the dashboard's script that module (app.py, installed as
    ``__main__`` at each page run and left there). Every worker would run the whole dashboard in bare
    mode before training: 0.7 s more per start here, warnings in the server's console, and the
    pages' side effects in a process that only trains. A stand-in ``__main__`` with no file to run is
    installed while the process starts; a newer one that a page run installs meanwhile is kept.
    """
    with _MAIN_SWAP:
        main = sys.modules.get("__main__")
        stand_in = types.ModuleType("__main__")
        sys.modules["__main__"] = stand_in
        try:
            yield
        finally:
            if sys.modules.get("__main__") is stand_in:
                sys.modules["__main__"] = main


def _as_arrays(data: MnistTensors) -> tuple[np.ndarray, ...]:
    # numpy arrays travel by value; tensors would go through shared memory, which a container may cap at 64 MB.
    return tuple(t.numpy() for t in (data.train_images, data.train_labels, data.test_images, data.test_labels))


def _worker_main(connection, path: str, config: dict, arrays, stop, threads) -> None:
    """The worker process: train ``config`` into ``path``, reporting over ``connection``."""
    budget = threads.value
    torch.set_num_threads(budget)

    def send(message: tuple) -> None:
        try:
            connection.send(message)
        except OSError:  # the dashboard is gone: stop after this batch and keep what was trained
            stop.set()

    def on_batch(progress) -> None:
        nonlocal budget
        if threads.value != budget:  # another run started or ended: take the new share
            budget = threads.value
            torch.set_num_threads(budget)
            send(("threads", torch.get_num_threads()))
        send(("batch", progress))

    data = MnistTensors(*(torch.from_numpy(array) for array in arrays))
    send(("threads", torch.get_num_threads()))
    try:
        result = train_run(Path(path), TrainConfig.from_dict(config), data, on_batch=on_batch,
                           on_epoch=lambda record: send(("epoch", record)), stop=stop,
                           on_eval=lambda done, total: send(("eval", done, total)),
                           on_saving=lambda: send(("saving",)))
        send(("result", result.stopped, result.device, result.params, len(result.history)))
    except Exception as exc:  # noqa: BLE001 - train_run marked the run failed; the dashboard says why
        send(("error", failure_message(exc)))
    finally:
        connection.close()


class WorkerDied(RunFailed):
    """A worker process ended without a result; the message is the sentence the run keeps."""


def _death_sentence(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0 and -exitcode == 9:
        return ("Its training process was killed (signal 9), most often because the machine ran out of memory. "
                "Nothing else was affected.")
    if exitcode is not None and exitcode < 0:
        return f"Its training process was ended by signal {-exitcode}. Nothing else was affected."
    return f"Its training process stopped unexpectedly (exit code {exitcode}). Nothing else was affected."


class WorkerBackend:
    """Each run in a worker process of this machine, with its share of the cores (see the module docstring)."""

    name = "local"

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores or machine_cores()
        self._lock = threading.Lock()
        self._budgets: list = []  # the shared thread budget of every live worker
        self.threads_in_use: dict[str, int] = {}  # run folder -> the threads its worker last said it trains with

    def describe(self) -> str:
        return f"this machine ({platform.node() or 'local'}), each run in a process of its own"

    def capacity(self, default: int | None) -> int:
        return default or default_workers(self.cores)

    def following(self, path: Path) -> bool:
        return False  # a worker stops when its dashboard goes: nothing to follow after a restart

    def _rebalance(self) -> None:
        """Give every live worker an equal share of the cores. Call with the lock held."""
        share = thread_share(self.cores, len(self._budgets))
        for budget in self._budgets:
            budget.value = share

    def train_into(self, path, config, data, on_batch=None, on_epoch=None, stop=None, resume=False,
                   on_eval=None, on_saving=None) -> TrainOutcome:
        context = _context()
        ours, theirs = context.Pipe(duplex=False)
        worker_stop = context.Event()
        with self._lock:
            budget = context.Value("i", thread_share(self.cores, len(self._budgets) + 1), lock=False)
            self._budgets.append(budget)
            self._rebalance()
        try:
            worker = context.Process(
                target=_worker_main, name=f"train-{Path(path).name}", daemon=True,
                args=(theirs, str(path), config.to_dict(), _as_arrays(needed_part(data, config)), worker_stop, budget))
            with _without_the_main_script():
                worker.start()
            theirs.close()  # only the worker writes to it now: its end closing means the worker is gone
            outcome = self._follow(worker, ours, stop, worker_stop, on_batch, on_epoch, on_eval, on_saving,
                                   on_threads=lambda threads: self.threads_in_use.__setitem__(str(path), threads))
        finally:
            self.threads_in_use.pop(str(path), None)
            with self._lock:
                self._budgets.remove(budget)
                self._rebalance()
        node = platform.node() or "local"
        update_status(path, backend=self.name, node=node)
        return TrainOutcome(outcome[0], outcome[1], outcome[2], node, outcome[3])

    @staticmethod
    def _follow(worker, connection, stop, worker_stop, on_batch, on_epoch, on_eval, on_saving, on_threads) -> tuple:
        """Pass the worker's reports on until its result; raise WorkerDied if it ends without one."""
        handlers = {"batch": on_batch, "epoch": on_epoch, "eval": on_eval, "saving": on_saving, "threads": on_threads}
        try:
            while True:
                if stop is not None and stop.is_set():
                    worker_stop.set()
                if not connection.poll(POLL_S):
                    continue
                try:
                    kind, *values = connection.recv()
                except EOFError:  # the worker is gone without a word
                    worker.join(5)
                    raise WorkerDied(_death_sentence(worker.exitcode)) from None
                if kind == "result":
                    return tuple(values)
                if kind == "error":
                    raise RunFailed(values[0])
                handler = handlers.get(kind)
                if handler is not None:
                    handler(*values)
        finally:
            connection.close()
            worker.join(10)
            if worker.is_alive():  # it has reported its end; it must not outlive its run
                worker.kill()
