"""Training jobs on a Ray cluster: each run is one Ray actor; the dashboard keeps the run folder.

The worker side (``TrainWorker``) is the same ``train()`` loop the dashboard runs locally,
in a background thread of an actor that asks Ray for ``MNIST_RAY_CPUS_PER_JOB`` CPUs
(default 1) and ``MNIST_RAY_GPUS_PER_JOB`` GPUs (default 0). The dashboard side polls the
actor for the latest batch and the epochs finished since the last poll, writes them into
the run folder itself, and at the end receives the weights and the final evaluation and
saves the checkpoint and mistakes there: workers need no shared disk. MNIST goes to the
object store once per dashboard process (only the images a run uses: a demo run's 2,560,
not all 70,000) and every worker reads it from there; the code
goes with Ray's runtime environment (``py_modules``), so a worker node needs only Python,
torch and Ray.

The worker also reports its test passes (how many finished, and how far the one under
way has got); the dashboard replays them to ``on_eval`` at its polling rate, so a pass
shorter than a poll shows only as started and finished, and the pass timings it measures
are good to about half a second. ``on_saving`` is called when the result is in, before the
dashboard writes the checkpoint and mistakes.

Stop is a method call on the actor. A worker or node that dies raises ``ActorDiedError``
on the next poll: the run is marked failed with the epochs already received and a
sentence saying so. Actors are named after their run and detached, so a restarted
dashboard finds the ones still training and follows them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import threading
import time
from pathlib import Path

import mnist_core
from mnist_core.classroom.backends import TrainOutcome
from mnist_core.common.wording import count
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import needed_part
from mnist_core.engine.recipes import build_network
from mnist_core.engine.train import EpochRecord, train
from mnist_core.runs.store import keep_alive, read_json, save_outputs, update_status, write_history, write_json

NAMESPACE = "mnist-dashboard"
POLL_S = 0.5  # how often the dashboard asks a worker for news
POLL_TIMEOUT_S = 60.0  # a worker that does not answer for this long is taken for dead


DATA_REFS_KEPT = 4  # data sets kept in the object store: the full one and a few demo sizes


class WorkerLost(RuntimeError):
    """The Ray worker of a run died; the message is the sentence the run keeps."""


def import_ray():
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("MNIST_RAY_ADDRESS is set but Ray is not installed here: "
                           "pip install -r requirements-ray.txt (or unset the variable)") from exc
    return ray


def actor_name(path: Path | str) -> str:
    """The Ray name of the job training the run folder ``path``: unique per folder on the machine that keeps it.

    Two studies' ``seed1`` folders, or two dashboards' runs folders, never share a name.
    """
    where = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:12]
    return f"run-{Path(path).name}-{where}"


class TrainWorker:
    """Lives in a Ray worker: trains one config in a thread and answers polls and Stop meanwhile."""

    def __init__(self, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        self._stop = threading.Event()
        self._latest = None
        self._epochs: list = []
        self._passes = 0  # test passes finished
        self._eval: tuple[int, int] | None = None  # (done, total) of the test pass under way
        self._eval_total = 0  # test images in each pass
        self._result: dict | None = None
        self._error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self, config: dict, data) -> None:
        if self._thread is not None:  # a second start (a retried call) must not train twice
            return
        self._thread = threading.Thread(target=self._train, args=(TrainConfig.from_dict(config), data), daemon=True)
        self._thread.start()

    def _train(self, config: TrainConfig, data) -> None:
        try:
            result = train(config, data, on_batch=self._on_batch, on_epoch=self._epochs.append, stop=self._stop,
                           on_eval=self._on_eval)
            self._result = {
                "stopped": result.stopped, "device": result.device, "params": result.params,
                "state_dict": {k: v.detach().cpu() for k, v in result.model.state_dict().items()},
                "final_eval": result.final_eval,
            }
        except Exception as exc:  # noqa: BLE001 - reported to the dashboard, which marks the run failed
            self._error = f"{exc.__class__.__name__}: {exc}"

    def _on_batch(self, progress) -> None:
        self._latest = progress

    def _on_eval(self, done: int, total: int) -> None:
        self._eval_total = total
        if done >= total:
            self._eval, self._passes = None, self._passes + 1
        else:
            self._eval = (done, total)

    def poll(self, epochs_known: int) -> dict:
        """The latest batch, the epochs after the first ``epochs_known``, and the result once done."""
        done = self._result is not None or self._error is not None
        return {"latest": self._latest, "epochs": self._epochs[epochs_known:], "done": done,
                "result": self._result, "error": self._error, "node": platform.node(),
                "passes": self._passes, "eval": self._eval, "eval_total": self._eval_total}

    def stop(self) -> None:
        self._stop.set()


class RayBackend:
    """Jobs as Ray actors on the cluster at ``address`` (``auto`` finds a local head)."""

    name = "ray"

    def __init__(self, address: str) -> None:
        self.address = address
        self.cpus = max(1, int(os.environ.get("MNIST_RAY_CPUS_PER_JOB", "1")))
        self.gpus = float(os.environ.get("MNIST_RAY_GPUS_PER_JOB", "0"))
        self._lock = threading.Lock()
        self._data_refs: dict[tuple, object] = {}  # (id(data), train_limit, test_limit) -> its object ref
        self._worker_cls = None

    def _ray(self):
        ray = import_ray()
        with self._lock:
            if not ray.is_initialized():
                # The package travels with the job, so worker nodes need no copy of this repository.
                # "local" starts a private one-machine instance (tests, a try-out); no dashboard needed.
                extra = {"include_dashboard": False} if self.address == "local" else {}
                ray.init(address=self.address, namespace=NAMESPACE, log_to_driver=False,
                         runtime_env={"py_modules": [str(Path(mnist_core.__file__).parent)]}, **extra)
            if self._worker_cls is None:
                self._worker_cls = ray.remote(TrainWorker)
        return ray

    def nodes(self) -> list[str]:
        """Names of the cluster's live nodes."""
        ray = self._ray()
        return sorted(n.get("NodeManagerHostname") or n.get("NodeManagerAddress", "?")
                      for n in ray.nodes() if n.get("Alive"))

    def describe(self) -> str:
        nodes = self.nodes()
        return f"Ray at {self.address} ({count(len(nodes), 'node')}: {', '.join(nodes)})"

    def capacity(self, default: int | None) -> int:
        """Jobs the cluster can hold at once: its CPUs (or GPUs) over what one job asks for."""
        if default:
            return default
        resources = self._ray().cluster_resources()
        slots = resources.get("CPU", 1) // self.cpus
        if self.gpus:
            slots = min(slots, resources.get("GPU", 0) // self.gpus)
        return max(1, int(slots))

    def _data_ref(self, data, config: TrainConfig):
        """An object ref of the part of ``data`` that ``config`` trains and scores on, put once and shared.

        A demo run (``train_limit=2560``) ships 2,560 images, not all 70,000 (220 MB as float32).
        """
        key = (id(data), config.train_limit, config.test_limit)
        with self._lock:
            if key not in self._data_refs:
                while len(self._data_refs) >= DATA_REFS_KEPT:
                    self._data_refs.pop(next(iter(self._data_refs)))
                self._data_refs[key] = import_ray().put(needed_part(data, config))
            return self._data_refs[key]

    def following(self, path: Path) -> bool:
        ray = self._ray()
        try:
            ray.get_actor(actor_name(path), namespace=NAMESPACE)
        except ValueError:
            return False
        return True

    def train_into(self, path, config, data, on_batch=None, on_epoch=None, stop=None, resume=False,
                   on_eval=None, on_saving=None) -> TrainOutcome:
        ray = self._ray()
        path = Path(path)
        if resume:  # a job an earlier dashboard process started: follow it from the epochs on disk
            actor = ray.get_actor(actor_name(path), namespace=NAMESPACE)
            history = read_json(path / "history.json", []) or []
        else:
            actor = self._worker_cls.options(
                name=actor_name(path), namespace=NAMESPACE, lifetime="detached", num_cpus=self.cpus,
                num_gpus=self.gpus, max_concurrency=2, max_restarts=0,
            ).remote(self.cpus)
            actor.start.remote(config.to_dict(), self._data_ref(data, config))
            history = []
            path.mkdir(parents=True, exist_ok=True)  # the CLI trains into a folder nobody made yet
            write_json(path / "config.json", config.to_dict())
            write_history(path, history)
            update_status(path, started=time.time())
        update_status(path, state="running", pid=os.getpid(), backend=self.name, message="")
        # The run folder is kept here, so its heartbeat is this process's, whatever node trains it.
        with keep_alive(path):
            try:
                report = self._follow(ray, actor, path, history, on_batch, on_epoch, stop, on_eval)
            except KeyboardInterrupt:  # Ctrl-C twice in the CLI: say what was kept, as a local run does
                update_status(path, state="stopped", ended=time.time(),
                              message=f"Stopped with Ctrl-C after {count(len(history), 'full epoch')}.")
                raise
            finally:
                with contextlib.suppress(Exception):  # already gone
                    ray.kill(actor)  # detached actors outlive their caller: end it once its result is in
        if report["error"]:
            update_status(path, state="failed", ended=time.time(), message=report["error"])
            raise RuntimeError(report["error"])
        if on_saving is not None:
            on_saving()
        return self._save(path, config, data, history, report)

    def _follow(self, ray, actor, path, history, on_batch, on_epoch, stop, on_eval=None) -> dict:
        stop_sent = False
        last_batch = None
        node_written = False
        passes_seen, in_pass = None, False  # a resumed job starts from the worker's count, not from 0
        while True:
            try:
                report = ray.get(actor.poll.remote(len(history)), timeout=POLL_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - ActorDiedError, a lost node, a timeout: the worker is gone
                message = (f"The Ray worker training this run was lost ({exc.__class__.__name__}); "
                           f"{count(len(history), 'finished epoch')} kept.")
                update_status(path, state="failed", ended=time.time(), message=message)
                raise WorkerLost(message) from exc
            if not node_written:
                update_status(path, node=report["node"])
                node_written = True
            passes, current, total = report.get("passes", 0), report.get("eval"), report.get("eval_total", 0)
            if passes_seen is None:
                passes_seen = passes
            while passes_seen < passes:  # passes that ended since the last poll (their start too if missed)
                if on_eval is not None:
                    if not in_pass:
                        on_eval(0, total)
                    on_eval(total, total)
                passes_seen, in_pass = passes_seen + 1, False
            for record in report["epochs"]:
                history.append(record.to_dict() if isinstance(record, EpochRecord) else dict(record))
                write_history(path, history)
                if on_epoch is not None:
                    on_epoch(record)
            latest = report["latest"]
            if on_batch is not None and latest is not None and latest != last_batch:
                on_batch(latest)
                last_batch = latest
            if current is not None and on_eval is not None:  # a pass under way, after the batch that led to it
                if not in_pass:
                    on_eval(0, current[1])
                    in_pass = True
                on_eval(*current)
            if stop is not None and stop.is_set() and not stop_sent:
                actor.stop.remote()
                stop_sent = True
            if report["done"]:
                return report
            time.sleep(POLL_S)

    def _save(self, path, config, data, history, report) -> TrainOutcome:
        """Write what the worker sent back: checkpoint, evaluation, mistakes, final status."""
        result = report["result"]
        if result["final_eval"] is not None:
            model = build_network(config)
            model.load_state_dict(result["state_dict"])
            save_outputs(path, model, config, result["final_eval"], data)
        update_status(
            path, state="stopped" if result["stopped"] else "finished", ended=time.time(), device=result["device"],
            params=result["params"], node=report["node"],
            message=f"Stopped after {count(len(history), 'full epoch')}." if result["stopped"] else "",
        )
        return TrainOutcome(result["stopped"], result["device"], result["params"], report["node"], len(history))
