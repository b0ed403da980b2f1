"""The device helpers: the GPU is named, and only CUDA gets bfloat16 autocast and channels_last.

The last test needs a CUDA GPU and is skipped without one: there CUDA's own detector of
synchronising calls checks the trainer's batch loop, which the CPU tests can only check
by counting the calls that would synchronise (tests/test_train.py).
"""

from __future__ import annotations

import contextlib
import warnings

import pytest
import torch

from mnist_core.engine import device as device_module
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.device import autocast_for, describe_device, memory_format_for
from mnist_core.engine.train import train


def test_a_cuda_device_is_named_by_its_card(monkeypatch):
    monkeypatch.setattr(device_module.torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")
    assert describe_device(torch.device("cuda")) == "CUDA (NVIDIA H100 80GB HBM3)"


def test_the_cpu_is_named_with_its_thread_count():
    threads = torch.get_num_threads()
    assert describe_device(torch.device("cpu")) == f"CPU ({threads} thread{'' if threads == 1 else 's'})"
    torch.set_num_threads(1)
    try:
        assert describe_device(torch.device("cpu")) == "CPU (1 thread)"
    finally:
        torch.set_num_threads(threads)


def test_only_cuda_trains_in_bfloat16_and_channels_last():
    assert isinstance(autocast_for(torch.device("cpu")), contextlib.nullcontext)
    assert memory_format_for(torch.device("cpu")) == torch.contiguous_format
    with warnings.catch_warnings():  # without a GPU, torch warns that it would disable this autocast
        warnings.simplefilter("ignore", UserWarning)
        cuda_autocast = autocast_for(torch.device("cuda"))
    assert isinstance(cuda_autocast, torch.autocast) and cuda_autocast.fast_dtype == torch.bfloat16
    assert memory_format_for(torch.device("cuda")) == torch.channels_last


def _cuda_syncs(config: TrainConfig, mnist) -> int:
    """How many synchronising CUDA calls one run of ``config`` makes, by CUDA's own detector."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            train(config, mnist, progress_every_s=1e9)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchronizing" in str(warning.message) for warning in caught)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_no_batch_makes_the_host_wait(mnist):
    """Four times the batches, the same number of synchronising calls, with every option of the recipe on."""
    config = TrainConfig(
        step=5, epochs=2, batch_size=64, lr=0.05, scheduler="onecycle", rotation_degrees=7.0, translate=0.05,
        scale=0.05, augment_fraction=0.5, brightness=0.1, contrast=0.1, label_smoothing=0.05, dropout=0.05,
        ema_decay=0.99, bn_recalibrate=True, test_limit=500, device="cuda", seed=2)
    _cuda_syncs(config.with_(train_limit=640), mnist)  # the first run also copies the data set to the GPU
    syncs = {images: _cuda_syncs(config.with_(train_limit=images), mnist) for images in (640, 2560)}
    assert syncs[640] == syncs[2560], syncs  # 10 and 40 batches per epoch
