"""Which device trains here (CUDA first, then Apple's MPS, then the CPU) and what it gains from.

The trainer runs one code path on every device; only two switches depend on the device.
On a CUDA GPU, bfloat16 autocast and the channels-last memory layout let the tensor cores
and cuDNN's fastest kernels do the work. On the CPU they were measured and dropped: bf16
changed the numbers for no clear gain, channels_last made oneDNN's convolutions slower,
and the CPU path must keep giving the shipped runs' numbers to the last bit.
"""

from __future__ import annotations

import contextlib

import torch

from mnist_core.common.wording import count


def pick_device(preferred: str = "auto") -> torch.device:
    """``auto`` picks the fastest available device; any other value is used as given."""
    if preferred != "auto":
        return torch.device(preferred)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_problem(preferred: str) -> str | None:
    """Why ``preferred`` cannot train on this machine, or None when it can (asked before a run folder is made)."""
    if preferred == "auto":
        return None
    try:
        device = torch.device(preferred)
    except (RuntimeError, ValueError):
        return f"unknown device {preferred!r}: use auto, cpu, cuda, cuda:N or mps"
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return f"device {preferred!r} asked for, but no CUDA GPU is available here"
        if device.index is not None and device.index >= torch.cuda.device_count():
            gpus = count(torch.cuda.device_count(), "CUDA GPU")
            return f"device {preferred!r} asked for, but this machine has {gpus}"
    elif device.type == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            return f"device {preferred!r} asked for, but Apple's MPS is not available here"
    elif device.type != "cpu":
        return f"unknown device {preferred!r}: use auto, cpu, cuda, cuda:N or mps"
    return None


def describe_device(device: torch.device) -> str:
    """A human name, e.g. ``CUDA (NVIDIA H100 80GB HBM3)`` or ``CPU (2 threads)``."""
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({count(torch.get_num_threads(), 'thread')})"


def gains_from_bf16_and_channels_last(device: torch.device) -> bool:
    """True where bfloat16 autocast and channels_last pay: CUDA GPUs."""
    return device.type == "cuda"


def autocast_for(device: torch.device) -> contextlib.AbstractContextManager:
    """bfloat16 autocast on a device that gains from it; elsewhere a context that changes nothing."""
    if gains_from_bf16_and_channels_last(device):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format_for(device: torch.device) -> torch.memory_format:
    """The layout images and weights should have on ``device``."""
    return torch.channels_last if gains_from_bf16_and_channels_last(device) else torch.contiguous_format
