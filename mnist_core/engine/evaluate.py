"""Evaluation on a held-out set: loss, accuracy, the confusion matrix and every mistake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.engine.device import autocast_for

EVAL_BATCH = 1000  # batches of ~1,000 stay in cache; one batch of 10,000 ran 2x slower here


@dataclass(frozen=True)
class Mistake:
    index: int  # position in the test set
    true: int
    predicted: int
    confidence: float  # the model's probability for its (wrong) prediction


@dataclass
class EvalResult:
    loss: float  # mean negative log-likelihood
    accuracy: float  # percent
    correct: int
    total: int
    confusion: list[list[int]]  # confusion[true][predicted]
    mistakes: list[Mistake] = field(default_factory=list)  # most confident first


def evaluate(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> EvalResult:
    """Score ``model`` (eval mode) on normalised ``images`` (N, 1, 28, 28) with ``labels`` (N,).

    The images may already sit on ``device`` (the trainer keeps the test set there); each
    batch's results stay on the device and come back to the host once, at the end, so a GPU
    is never made to wait batch by batch. The loss is still summed batch by batch in double
    precision on the host, in the same order as before, so the numbers are unchanged.
    ``on_progress(done, total)`` is called with 0 before the first batch and after every
    batch (plain counts: no device sync), so a page can show the test pass as a phase of its own.
    """
    device = device or next(model.parameters()).device
    model.eval()
    loss_sums, all_probs, all_preds = [], [], []
    if on_progress is not None:
        on_progress(0, len(images))
    with torch.no_grad(), autocast_for(device):
        for start in range(0, len(images), EVAL_BATCH):
            batch = images[start:start + EVAL_BATCH].to(device)
            target = labels[start:start + EVAL_BATCH].to(device)
            log_probs = model(batch).float()
            loss_sums.append(F.nll_loss(log_probs, target, reduction="sum"))
            probs, preds = log_probs.exp().max(dim=1)
            all_probs.append(probs)
            all_preds.append(preds)
            if on_progress is not None:
                on_progress(min(start + EVAL_BATCH, len(images)), len(images))
    # One copy to the host for everything (a sync on a GPU), then plain Python.
    total_loss = sum(torch.stack(loss_sums).tolist(), 0.0)
    probs, preds, labels = torch.cat(all_probs).cpu(), torch.cat(all_preds).cpu(), labels.cpu()
    confusion = torch.bincount(labels * 10 + preds, minlength=100).reshape(10, 10)
    wrong = (preds != labels).nonzero().flatten()
    mistakes = [Mistake(i, t, p, c) for i, t, p, c in zip(
        wrong.tolist(), labels[wrong].tolist(), preds[wrong].tolist(), probs[wrong].tolist(), strict=True)]
    mistakes.sort(key=lambda m: -m.confidence)
    correct = int(len(labels) - len(wrong))
    return EvalResult(
        loss=total_loss / len(labels),
        accuracy=100.0 * correct / len(labels),
        correct=correct,
        total=len(labels),
        confusion=confusion.tolist(),
        mistakes=mistakes,
    )
