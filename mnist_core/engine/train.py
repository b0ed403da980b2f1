"""The training loop: pure PyTorch, reporting through callbacks, stoppable from any thread.

The whole data set sits in memory as tensors; each epoch takes batches by slicing a
seeded permutation and augments the whole batch at once. ``train`` calls
``on_batch(BatchProgress)`` after every batch and ``on_epoch(EpochRecord)`` after every
evaluation, which is how the CLI's progress bar, the dashboard's live panel and the
tests all watch the same loop. Setting ``stop`` (a ``threading.Event``) ends the run
after the current batch; the epochs finished so far are kept, and the partly trained
model is evaluated once more so what is returned is always a scored model.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.engine.augment import augment_batch
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors, load_mnist
from mnist_core.engine.device import describe_device, pick_device
from mnist_core.engine.evaluate import EvalResult, evaluate
from mnist_core.engine.models import count_parameters
from mnist_core.engine.schedule import apply_schedule
from mnist_core.lesson.steps import get_step


@dataclass(frozen=True)
class BatchProgress:
    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based within the epoch
    batches: int
    loss: float  # this batch's loss
    running_acc: float  # percent correct so far this epoch (augmented training images)
    lr: float
    images_per_s: float  # this epoch so far
    eta_s: float  # estimated seconds until the run ends


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float  # mean over the epoch's batches, as trained (dropout and augmentation on)
    train_acc: float  # percent
    test_loss: float
    test_acc: float  # percent
    lr: float  # at the end of the epoch
    seconds: float  # wall time of training plus evaluation

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    model: nn.Module
    config: TrainConfig
    history: list[EpochRecord]
    final_eval: EvalResult | None  # of the model as returned; None if stopped before any batch
    stopped: bool  # True when ``stop`` ended the run early
    device: str
    params: int


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global RNG (weights, dropout) and return a generator for data order and augmentation."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def training_loss(log_probs: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean negative log-likelihood, with ``label_smoothing`` of the target spread over all ten classes.

    Without smoothing it is ``F.nll_loss`` itself (bit for bit, so the seeded Steps 1-4 stay as
    they were); with it, the same value as ``F.cross_entropy(logits, labels, label_smoothing=...)``.
    """
    nll = F.nll_loss(log_probs, labels)
    if label_smoothing <= 0:
        return nll
    return (1 - label_smoothing) * nll - label_smoothing * log_probs.mean(dim=1).mean()


def _limit(tensor: torch.Tensor, limit: int) -> torch.Tensor:
    return tensor[:limit] if limit else tensor


def train(
    config: TrainConfig,
    data: MnistTensors | None = None,
    on_batch: Callable[[BatchProgress], None] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    stop: threading.Event | None = None,
) -> TrainResult:
    """Train the network of ``config.step`` with ``config``; see the module docstring."""
    data = data or load_mnist()
    device = pick_device(config.device)
    generator = seed_everything(config.seed)
    model = get_step(config.step).build_model(config).to(device)
    optimizer = build_optimizer(model, config)

    train_x, train_y = _limit(data.train_images, config.train_limit), _limit(data.train_labels, config.train_limit)
    test_x, test_y = _limit(data.test_images, config.test_limit), _limit(data.test_labels, config.test_limit)
    batches = math.ceil(len(train_x) / config.batch_size)
    total_batches = config.epochs * batches
    history: list[EpochRecord] = []
    stopped = False
    run_start = time.perf_counter()
    batches_done = 0
    last_eval: EvalResult | None = None  # of the model as it is now

    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        seen = 0
        lr = optimizer.param_groups[0]["lr"]
        for batch in range(batches):
            if stop is not None and stop.is_set():
                stopped = True
                break
            lr = apply_schedule(optimizer, config, batches_done, batches)
            index = order[batch * config.batch_size:(batch + 1) * config.batch_size]
            images = augment_batch(train_x[index], config, generator).to(device)
            labels = train_y[index].to(device)

            optimizer.zero_grad(set_to_none=True)
            log_probs = model(images)
            loss = training_loss(log_probs, labels, config.label_smoothing)
            loss.backward()
            optimizer.step()

            loss_sum += loss.detach() * len(labels)
            correct += (log_probs.argmax(1) == labels).sum()
            seen += len(labels)
            batches_done += 1
            if on_batch is not None:
                elapsed = time.perf_counter() - epoch_start
                per_batch = (time.perf_counter() - run_start) / batches_done
                on_batch(BatchProgress(
                    epoch=epoch, epochs=config.epochs, batch=batch + 1, batches=batches,
                    loss=loss.item(), running_acc=100.0 * correct.item() / seen, lr=lr,
                    images_per_s=seen / elapsed if elapsed > 0 else 0.0,
                    eta_s=per_batch * (total_batches - batches_done),
                ))
        if stopped:  # a partial epoch is not an epoch: only whole ones enter the history
            break
        result = evaluate(model, test_x, test_y, device)
        last_eval = result
        record = EpochRecord(
            epoch=epoch,
            train_loss=loss_sum.item() / seen,
            train_acc=100.0 * correct.item() / seen,
            test_loss=result.loss,
            test_acc=result.accuracy,
            lr=lr,
            seconds=time.perf_counter() - epoch_start,
        )
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)

    if stopped and batches_done:  # weights moved since the last evaluation
        last_eval = evaluate(model, test_x, test_y, device)
    return TrainResult(
        model=model, config=config, history=history, final_eval=last_eval, stopped=stopped,
        device=describe_device(device), params=count_parameters(model),
    )
