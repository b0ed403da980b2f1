"""Saving and loading trained models, refusing files that are not ours.

A checkpoint is a dict with a format tag, the training config (which names the step,
hence the network) and the weights. ``load_checkpoint`` turns anything else (a missing
file, a truncated file, someone else's state dict, weights of another shape) into a
``CheckpointError`` whose message says what is wrong.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mnist_core.common.atomic import atomic_path
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.models import count_parameters
from mnist_core.engine.recipes import UnknownStep, build_network

CHECKPOINT_FORMAT = "mnist-lesson-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why."""


def save_checkpoint(path: Path | str, model: nn.Module, config: TrainConfig) -> None:
    """Write atomically, so a reader never sees half a file."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": config.to_dict(),
        "params": count_parameters(model),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: Path | str, device: torch.device | str = "cpu") -> tuple[nn.Module, TrainConfig]:
    """The model (in eval mode) and the config it was trained with."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint ({exc.__class__.__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} was not saved by this project (no '{CHECKPOINT_FORMAT}' tag)")
    try:
        config = TrainConfig.from_dict(payload["config"])
        model = build_network(config)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError, UnknownStep) as exc:
        raise CheckpointError(f"{path} does not fit the lesson's networks: {str(exc).splitlines()[0]}") from None
    return model.to(device).eval(), config
