"""Issue 27: a full disk. A first start with a full runs folder left an empty ``.server-salt`` (so the next
start quietly made a new salt and every student lost their runs); a job that failed as the disk filled left
``status.json`` saying *running*, later *interrupted*, with the cause lost and the traceback escaping the
worker thread. Now the salt is written whole or not at all, an empty or unreadable salt (or a runs folder
copied without it) stops the server with a sentence, and a disk-full failure says "disk full" in the job, in
the run and on the page.

The full disk is made two ways: a real one (a 64 kB tmpfs in a private mount namespace, where this runs as
root) and, everywhere, a file system call that answers ENOSPC as a full disk does."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.classroom import identity
from mnist_core.classroom.backends import TrainOutcome
from mnist_core.classroom.identity import SaltProblem
from mnist_core.classroom.jobs import JobManager
from mnist_core.common import atomic
from mnist_core.engine.config import TrainConfig
from mnist_core.runs.store import RunStore, inspect_run, update_status

ROOT = Path(__file__).resolve().parent.parent
DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


class FullWriter:
    """A file object that takes nothing: every write is a full disk's answer."""

    def __init__(self, fd: int) -> None:
        os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_salt_that_cannot_be_written_leaves_no_file_and_says_disk_full(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_IDENTITY_SALT", raising=False)
    monkeypatch.setattr(identity.os, "fdopen", lambda fd, mode: FullWriter(fd))
    with pytest.raises(SaltProblem, match="disk full"):
        identity.server_salt(tmp_path)
    assert list(tmp_path.iterdir()) == []  # no empty salt (nor a temporary file) left behind


@pytest.mark.parametrize("content", [b"", b"short"])
def test_an_empty_or_short_salt_is_refused_not_replaced(tmp_path, monkeypatch, content):
    monkeypatch.delenv("MNIST_IDENTITY_SALT", raising=False)
    (tmp_path / identity.SALT_FILE).write_bytes(content)
    with pytest.raises(SaltProblem, match="empty" if not content else "too short"):
        identity.server_salt(tmp_path)
    assert (tmp_path / identity.SALT_FILE).read_bytes() == content  # nothing replaced


def test_an_unreadable_salt_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_IDENTITY_SALT", raising=False)
    (tmp_path / identity.SALT_FILE).mkdir()  # reading it fails whoever runs the test (root reads 0000 files)
    with pytest.raises(SaltProblem, match="cannot be read"):
        identity.server_salt(tmp_path)


def test_a_runs_folder_copied_without_its_salt_says_so_at_start(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_IDENTITY_SALT", raising=False)
    monkeypatch.delenv(identity.NEW_SALT_ENV, raising=False)
    with pytest.raises(SaltProblem, match=r"3 run\(s\) that students own but no \.server-salt"):
        identity.server_salt(tmp_path, owned_runs=3)
    assert not (tmp_path / identity.SALT_FILE).exists()
    monkeypatch.setenv(identity.NEW_SALT_ENV, "1")  # the operator chooses to start afresh
    assert len(identity.server_salt(tmp_path, owned_runs=3)) == identity.SALT_BYTES


def test_every_page_says_why_when_the_salt_is_empty(runs_dir, monkeypatch):
    monkeypatch.delenv("MNIST_IDENTITY_SALT", raising=False)
    runs_dir.mkdir(parents=True)
    (runs_dir / identity.SALT_FILE).write_bytes(b"")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("cannot tell students apart" in e.value and "empty" in e.value for e in at.error)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="a real full disk needs a mount")
def test_a_first_start_on_a_really_full_disk_leaves_no_empty_salt(tmp_path):
    """A 64 kB tmpfs filled to the last byte, in a mount namespace of its own (nothing else sees it)."""
    script = """
import sys
from pathlib import Path
from mnist_core.classroom import identity
runs = Path(sys.argv[1])
try:
    identity.server_salt(runs)
except identity.SaltProblem as exc:
    print("REFUSED", exc)
print("FILES", sorted(p.name for p in runs.iterdir()))
"""
    mount = tmp_path / "full"
    mount.mkdir()
    shell = (f"mount -t tmpfs -o size=64k tmpfs {mount} && mkdir {mount}/runs && "
             f"(dd if=/dev/zero of={mount}/runs/filler bs=4k 2>/dev/null; true) && "
             f"env -u MNIST_IDENTITY_SALT {sys.executable} -c '{script}' {mount}/runs")
    done = subprocess.run(["unshare", "-m", "sh", "-c", shell], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert "REFUSED" in done.stdout and "disk full" in done.stdout, done.stdout + done.stderr
    assert "FILES ['filler']" in done.stdout  # no empty .server-salt for the next start to trust


class FillingBackend:
    """Trains nothing: the disk fills under it (new files fail), and the error reaches the job manager."""

    name = "filling"

    def capacity(self, default):
        return default

    def following(self, path):
        return False

    def train_into(self, path, config, data, on_batch=None, on_epoch=None, stop=None, resume=False,
                   on_eval=None, on_saving=None) -> TrainOutcome:
        update_status(path, state="running")
        full.set()
        raise OSError(errno.ENOSPC, "No space left on device", str(path / "history.json"))


full = threading.Event()


def test_a_job_that_fills_the_disk_fails_saying_disk_full_in_the_job_the_run_and_the_page(runs_dir, monkeypatch):
    escaped = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args.exc_value))
    real_mkstemp = atomic.tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        if full.is_set():  # a full disk: no new file (the renamed-over status file) can be made
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
    full.clear()
    manager = JobManager(RunStore(runs_dir), max_concurrent=1, load_data=lambda progress: None,
                         backend=FillingBackend())
    run_id = manager.submit(TrainConfig(step=2, epochs=1, train_limit=256, test_limit=100))
    assert manager.wait(run_id, 60)
    job = manager.job(run_id)
    assert job.phase == "failed" and job.message.startswith("disk full")
    full.clear()
    run = inspect_run(runs_dir / run_id)
    assert run.state == "failed" and run.status["message"].startswith("disk full"), run.status
    assert escaped == []  # nothing escaped the worker thread

    status = json.loads((runs_dir / run_id / "status.json").read_text())
    assert status["state"] == "failed"
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/step_2.py").run()
    assert not at.exception
    assert any(e.value.startswith("This run failed. disk full") for e in at.error)
