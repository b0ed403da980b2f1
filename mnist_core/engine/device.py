"""Which device trains here: CUDA first, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch


def pick_device(preferred: str = "auto") -> torch.device:
    """``auto`` picks the fastest available device; any other value is used as given."""
    if preferred != "auto":
        return torch.device(preferred)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> str:
    """A human name, e.g. ``CUDA (NVIDIA H100)`` or ``CPU (2 threads)``."""
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple MPS"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'' if threads == 1 else 's'})"
