"""Training on a real Ray instance through the same JobManager the dashboard uses.

Ray listens on every interface it finds, so these tests never run in the machine's own
network: ``test_ray_inside_a_loopback_only_namespace`` re-runs this module in a new
network namespace that has only loopback (and a new PID namespace, so every Ray process
ends with it). Inside, ``MNIST_RAY_ADDRESS=local`` makes the backend start a private Ray
instance on 127.0.0.1. Runs are tiny (2,560 training images, 500 test images).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors

INSIDE = os.environ.get("MNIST_RAY_NETNS") == "1"
ON_CI = os.environ.get("CI") == "true"
TINY = TrainConfig(step=2, epochs=2, batch_size=128, dropout=0.05, train_limit=2560, test_limit=500)

try:
    import ray
except ImportError:  # a user without the optional requirement: skip; CI installs it, so there it fails
    ray = None
    if ON_CI:
        raise


@pytest.mark.skipif(INSIDE, reason="already inside the namespace")
def test_ray_inside_a_loopback_only_namespace():
    if ray is None:
        pytest.skip("ray is not installed (pip install -r requirements-ray.txt)")
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "unshare", "-n", "-p", "-f", "--mount-proc", "true"], capture_output=True)
    if unshare is None or probe.returncode != 0:
        if ON_CI:
            pytest.fail(f"CI must be able to make a network namespace: {probe.stderr!r}")
        pytest.skip("cannot make a network namespace here (needs root or user namespaces)")
    script = (f"ip link set lo up && MNIST_RAY_NETNS=1 MNIST_RAY_ADDRESS=local {sys.executable} -m pytest -q "
              f"-p no:cacheprovider -x --durations=8 -k 'not loopback_only' {Path(__file__).name}")
    done = subprocess.run([unshare, "-n", "-p", "-f", "--mount-proc", "sh", "-c", script], cwd=Path(__file__).parent,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed, 1 deselected in .*", summary), done.stdout[-3000:]
    print(done.stdout[-3000:])  # the inner durations, shown with -s or on failure


inside = pytest.mark.skipif(not INSIDE, reason="runs only inside the loopback namespace (see the test above)")


@pytest.fixture(scope="module")
def tiny_data():
    from mnist_core.engine.data import load_mnist

    full = load_mnist()
    return MnistTensors(full.train_images[:2560].clone(), full.train_labels[:2560].clone(),
                        full.test_images[:500].clone(), full.test_labels[:500].clone())


@pytest.fixture(scope="module")
def cluster():
    from mnist_core.engine.backends import backend_from_env

    backend = backend_from_env()
    assert backend.name == "ray"
    yield backend
    ray.shutdown()


@pytest.fixture()
def manager(cluster, tiny_data, tmp_path):
    from mnist_core.engine.jobs import JobManager
    from mnist_core.engine.runs import RunStore

    return JobManager(RunStore(tmp_path / "runs"), max_concurrent=1, load_data=lambda progress: tiny_data,
                      backend=cluster)


def wait_for_epoch(manager, run_id, limit=300):
    deadline = time.time() + limit
    while not manager.job(run_id).history:
        assert time.time() < deadline, "no epoch came back from the worker"
        assert manager.job(run_id).active, manager.store.get(run_id).status
        time.sleep(0.2)


@inside
def test_stop_and_a_killed_worker_then_a_tiny_run_end_to_end(manager, cluster):
    """One test, so the slow part (Ray starting worker processes) is paid as few times as possible.

    A long run is stopped after its first epoch came back; the next one's worker is
    killed after its first epoch; then a tiny run trains on the same instance from start
    to finish.
    """
    from mnist_core.engine.ray_backend import NAMESPACE, actor_name

    stopped = manager.submit(TINY.with_(epochs=40))
    wait_for_epoch(manager, stopped)
    assert manager.stop(stopped)
    assert manager.wait(stopped, 120)
    killed = manager.submit(TINY.with_(epochs=40, seed=2))
    wait_for_epoch(manager, killed)
    ray.kill(ray.get_actor(actor_name(killed), namespace=NAMESPACE))
    assert manager.wait(killed, 120)

    run = manager.store.get(stopped)
    assert run.state == "stopped", run.status  # Stop reached the worker
    assert 1 <= len(run.history) < 40 and run.checkpoint.is_file()
    assert "Stopped after" in run.status["message"]
    run = manager.store.get(killed)
    assert run.state == "failed", run.status
    assert "worker" in run.status["message"] and "finished epoch(s) are kept" in run.status["message"]
    assert len(run.history) >= 1

    tiny = manager.submit(TINY)  # the dashboard carries on after losing a worker
    assert manager.wait(tiny, 300)
    run = manager.store.get(tiny)
    assert run.state == "finished", run.status
    assert run.status["backend"] == "ray" and run.status["node"] in cluster.nodes()
    assert [h["epoch"] for h in run.history] == [1, 2]
    assert run.checkpoint.is_file() and run.evaluation["total"] == 500
    assert run.mistakes() is not None
    assert "CPU (1 thread)" in run.status["device"]  # the one CPU the job asked Ray for
    assert not cluster.following(tiny)  # its actor is gone once the result is in


@inside
def test_a_restarted_dashboard_marks_a_ray_run_without_a_worker_interrupted(cluster, tmp_path, tiny_data):
    from mnist_core.engine.jobs import JobManager
    from mnist_core.engine.runs import RunStore, update_status

    store = RunStore(tmp_path / "runs")
    orphan = store.create(TINY)
    update_status(orphan.path, state="running", backend="ray", pid=2**22 + 4321)  # that dashboard is gone
    JobManager(store, max_concurrent=1, load_data=lambda progress: tiny_data, backend=cluster)
    assert store.get(orphan.run_id).state == "interrupted"
