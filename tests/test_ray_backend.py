"""Training on a real Ray instance through the same JobManager the dashboard uses, and the CLI's seeds.

Ray listens on every interface it finds, so these tests never run in the machine's own
network: ``test_ray_in_a_loopback_only_namespace`` re-runs this module in a new network
namespace that has only loopback (and a new PID namespace, so every Ray process ends with
it), as ../shared/TESTING.md describes. There it starts a Ray head with ``ray start --head``
on 127.0.0.1, with small explicit resources (one CPU, an 80 MB object store, no dashboard)
and health checks patient enough for a machine at load 20, runs the tests below against it
through ``MNIST_RAY_ADDRESS``, and ends it with ``ray stop``. Runs are tiny (2,560 training
images, 500 test images). Every wait is on progress (a new batch, an epoch), never on a clock
alone: a limit fails a test only when nothing moved for minutes.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors

INSIDE = os.environ.get("MNIST_RAY_NETNS") == "1"
ON_CI = os.environ.get("CI") == "true"
TINY = TrainConfig(step=2, epochs=2, batch_size=128, dropout=0.05, train_limit=2560, test_limit=500)
RAY_PORT = 6399
RAY_CANNOT_START = 77  # the namespace's script exits with this when `ray start` itself failed
STALL_S = 300.0  # nothing moved for this long: the run is stuck, not slow

# Given to the head's processes: a busy shared machine answers health checks late, and the
# memory monitor must not kill our one worker for memory other people's processes use.
RAY_PATIENCE = {
    "RAY_health_check_initial_delay_ms": "30000",
    "RAY_health_check_period_ms": "10000",
    "RAY_health_check_timeout_ms": "60000",
    "RAY_health_check_failure_threshold": "30",
    "RAY_memory_monitor_refresh_ms": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
}

try:
    import ray
except ImportError:  # a user without the optional requirement: skip; CI installs it, so there it fails
    ray = None
    if ON_CI:
        raise


def _namespace_script(temp_dir: str) -> str:
    """Inside the namespace: loopback up, a head on 127.0.0.1, this module's tests, the head stopped."""
    head = (f"ray start --head --node-ip-address 127.0.0.1 --port {RAY_PORT} --num-cpus 1 --num-gpus 0 "
            f"--object-store-memory 80000000 --include-dashboard false --disable-usage-stats "
            f"--temp-dir {temp_dir}")
    tests = (f"MNIST_RAY_NETNS=1 MNIST_RAY_ADDRESS=127.0.0.1:{RAY_PORT} {sys.executable} -m pytest -q "
             f"-p no:cacheprovider -n 0 -x --durations=8 -k 'not loopback_only' {Path(__file__).name}")
    return (f"ip link set lo up || exit {RAY_CANNOT_START}\n"
            f"if ! {head} > {temp_dir}/ray-start.log 2>&1; then cat {temp_dir}/ray-start.log; "
            f"exit {RAY_CANNOT_START}; fi\n"
            f"{tests}\nrc=$?\nray stop --force > /dev/null 2>&1\nexit $rc\n")


@pytest.mark.journey
@pytest.mark.skipif(INSIDE, reason="already inside the namespace")
def test_ray_in_a_loopback_only_namespace():
    if ray is None:
        pytest.skip("ray is not installed (pip install -r requirements-ray.txt)")
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "unshare", "-n", "-p", "-f", "--mount-proc", "true"], capture_output=True)
    if unshare is None or probe.returncode != 0:
        if ON_CI:
            pytest.fail(f"CI must be able to make a network namespace: {probe.stderr!r}")
        pytest.skip("cannot make a network namespace here (needs root or user namespaces)")
    ray_bin = Path(sys.executable).parent
    temp_dir = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit 107 characters
    # Ray turns token authentication on by itself when ~/.ray/auth_token exists, and then a driver that
    # finds no token cannot connect: one explicit token for the head and every process of the test.
    env = {**os.environ, **RAY_PATIENCE, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "PATH": f"{ray_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("RAY_AUTH_TOKEN_PATH", None)
    try:
        done = subprocess.run([unshare, "-n", "-p", "-f", "--mount-proc", "sh", "-c", _namespace_script(temp_dir)],
                              cwd=Path(__file__).parent, capture_output=True, text=True, timeout=900, env=env)
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
    if done.returncode == RAY_CANNOT_START and not ON_CI:
        pytest.skip(f"Ray itself could not start a head inside the namespace: {done.stdout[-1500:]}")
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
    from mnist_core.classroom.backend_choice import backend_from_env

    backend = backend_from_env()
    assert backend.name == "ray"
    yield backend
    ray.shutdown()


@pytest.fixture()
def manager(cluster, tiny_data, tmp_path):
    from mnist_core.classroom.jobs import JobManager
    from mnist_core.runs.store import RunStore

    return JobManager(RunStore(tmp_path / "runs"), max_concurrent=1, load_data=lambda progress: tiny_data,
                      backend=cluster)


def wait_until(manager, run_id, reached, what: str) -> None:
    """Poll until ``reached(job)``; fail only when the job shows no progress for STALL_S seconds."""
    last, moved = None, time.time()
    while not reached(manager.job(run_id)):
        job = manager.job(run_id)
        now = (job.phase, job.latest, len(job.history), job.active)
        if now != last:
            last, moved = now, time.time()
        assert time.time() - moved < STALL_S, f"no progress for {STALL_S:.0f} s waiting for {what}: {job}"
        time.sleep(0.2)


def first_epoch_back(manager, run_id) -> None:
    def reached(job):
        assert job.history or job.active, manager.store.get(run_id).status  # ended before an epoch came back
        return bool(job.history)

    wait_until(manager, run_id, reached, "the first epoch")


def ended(manager, run_id) -> None:
    wait_until(manager, run_id, lambda job: not job.active, "the run to end")


@inside
def test_stop_and_a_killed_worker_then_a_tiny_run_end_to_end(manager, cluster):
    """One test, so the slow part (Ray starting worker processes) is paid as few times as possible.

    A long run is stopped after its first epoch came back; the next one's worker is
    killed after its first epoch; then a tiny run trains on the same instance from start
    to finish.
    """
    from mnist_core.classroom.ray_backend import NAMESPACE, actor_name

    stopped = manager.submit(TINY.with_(epochs=40))
    first_epoch_back(manager, stopped)
    assert manager.stop(stopped)
    ended(manager, stopped)
    killed = manager.submit(TINY.with_(epochs=40, seed=2))
    first_epoch_back(manager, killed)
    ray.kill(ray.get_actor(actor_name(manager.store.path(killed)), namespace=NAMESPACE))
    ended(manager, killed)

    run = manager.store.get(stopped)
    assert run.state == "stopped", run.status  # Stop reached the worker
    assert 1 <= len(run.history) < 40 and run.checkpoint.is_file()
    assert "Stopped after" in run.status["message"]
    run = manager.store.get(killed)
    assert run.state == "failed", run.status
    assert "worker" in run.status["message"] and re.search(r"\d+ finished epochs? kept\.", run.status["message"])
    assert len(run.history) >= 1

    tiny = manager.submit(TINY)  # the dashboard carries on after losing a worker
    ended(manager, tiny)
    run = manager.store.get(tiny)
    assert run.state == "finished", run.status
    assert run.status["backend"] == "ray" and run.status["node"] in cluster.nodes()
    assert [h["epoch"] for h in run.history] == [1, 2]
    assert run.checkpoint.is_file() and run.evaluation["total"] == 500
    assert run.mistakes() is not None
    assert "CPU (1 thread)" in run.status["device"]  # the one CPU the job asked Ray for
    assert not cluster.following(run.path)  # its actor is gone once the result is in


@inside
def test_a_restarted_dashboard_follows_live_ray_runs_and_marks_the_others_interrupted(cluster, tmp_path, tiny_data):
    """A dashboard that starts finds a run whose Ray actor still trains (follows it to the end) and one without."""
    from mnist_core.classroom.jobs import JobManager
    from mnist_core.classroom.ray_backend import NAMESPACE, actor_name
    from mnist_core.runs.store import RunStore, read_json, write_json

    store = RunStore(tmp_path / "runs")
    gone = time.time() - 600  # the earlier dashboard stopped beating ten minutes ago
    orphan, survivor = store.create(TINY), store.create(TINY.with_(seed=3))
    for run in (orphan, survivor):
        write_json(run.path / "status.json", {**read_json(run.path / "status.json"), "state": "running",
                                             "backend": "ray", "heartbeat": gone, "updated": gone})
    # What the earlier dashboard had started on the cluster for the survivor, and left training:
    ray_api = cluster._ray()
    worker = cluster._worker_cls.options(name=actor_name(survivor.path), namespace=NAMESPACE, lifetime="detached",
                                         num_cpus=1).remote(1)
    worker.start.remote(survivor.config.to_dict(), ray_api.put(tiny_data))

    manager = JobManager(store, max_concurrent=1, load_data=lambda progress: tiny_data, backend=cluster)
    assert store.get(orphan.run_id).state == "interrupted"
    assert manager.job(survivor.run_id) is not None, "the live Ray run was not followed again"
    ended(manager, survivor.run_id)
    run = store.get(survivor.run_id)
    assert run.state == "finished", run.status
    assert [h["epoch"] for h in run.history] == [1, 2] and run.checkpoint.is_file()


@inside
def test_a_run_started_from_a_step_page_trains_on_ray_and_is_on_compare_runs(cluster, tmp_path, monkeypatch):
    """The page does not know the backend: Start on Step 2 (AppTest) trains on Ray, and Compare runs lists the run."""
    from streamlit.testing.v1 import AppTest

    from mnist_core.runs.store import RunStore
    from ui.state import _job_manager_for

    runs = tmp_path / "runs"
    monkeypatch.setenv("MNIST_RUNS_DIR", str(runs))
    monkeypatch.setenv("MNIST_DEMO_TRAIN_LIMIT", "2560")
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    at.switch_page("pages/step_2.py").run()
    at.number_input(key="step2_epochs").set_value(1)
    at.button(key="step2_train").click().run()
    assert not at.exception
    manager = _job_manager_for(str(runs.resolve()))  # the page's JobManager, as every session of a server shares it
    assert manager.backend.name == "ray"
    (run,) = RunStore(runs).list()
    ended(manager, run.run_id)
    run = RunStore(runs).get(run.run_id)
    assert run.state == "finished" and run.status["backend"] == "ray", run.status
    at.switch_page("pages/compare_runs.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    row = table[~table["Run"].str.startswith("shipped")]  # the shipped runs, and this one
    assert list(row["Status"]) == ["finished"] and list(row["Device"]) == ["CPU (1 thread)"], row.to_dict()


@inside
def test_seeds_on_the_cluster_says_where_and_writes_its_table(tmp_path):
    """``python -m mnist_core seeds`` with MNIST_RAY_ADDRESS set: its seeds are Ray jobs, and it says so."""
    from mnist_core.runs.store import read_run

    out = tmp_path / "seeds"
    done = subprocess.run(
        [sys.executable, "-m", "mnist_core", "seeds", "--step", "2", "--seeds", "1", "2", "--epochs", "1",
         "--train-limit", "2560", "--test-limit", "500", "--out", str(out)],
        cwd=Path(__file__).parent.parent, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Training backend: ray, Ray at 127.0.0.1" in done.stdout
    assert re.search(r"Trained on 1 node: \S+", done.stdout), done.stdout
    for seed in (1, 2):
        run = read_run(out / f"seed{seed}")
        assert run.state == "finished" and run.status["backend"] == "ray", run.status
        assert f"| {seed} |" in (out / "seeds.md").read_text()
