"""The device helpers: the GPU is named, and only CUDA gets bfloat16 autocast and channels_last."""

from __future__ import annotations

import contextlib
import warnings

import torch

from mnist_core.engine import device as device_module
from mnist_core.engine.device import autocast_for, describe_device, memory_format_for


def test_a_cuda_device_is_named_by_its_card(monkeypatch):
    monkeypatch.setattr(device_module.torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")
    assert describe_device(torch.device("cuda")) == "CUDA (NVIDIA H100 80GB HBM3)"


def test_the_cpu_is_named_with_its_thread_count():
    threads = torch.get_num_threads()
    assert describe_device(torch.device("cpu")) == f"CPU ({threads} thread{'' if threads == 1 else 's'})"


def test_only_cuda_trains_in_bfloat16_and_channels_last():
    assert isinstance(autocast_for(torch.device("cpu")), contextlib.nullcontext)
    assert memory_format_for(torch.device("cpu")) == torch.contiguous_format
    with warnings.catch_warnings():  # without a GPU, torch warns that it would disable this autocast
        warnings.simplefilter("ignore", UserWarning)
        cuda_autocast = autocast_for(torch.device("cuda"))
    assert isinstance(cuda_autocast, torch.autocast) and cuda_autocast.fast_dtype == torch.bfloat16
    assert memory_format_for(torch.device("cuda")) == torch.channels_last
