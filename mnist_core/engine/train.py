"""The training loop: pure PyTorch, reporting through callbacks, stoppable from any thread.

One code path for every device. The whole data set sits on the training device once;
each epoch draws a seeded permutation there, takes batches by indexing it and augments
the whole batch at once, so a GPU never waits for the host between batches. The running
loss and accuracy stay on the device too: the host reads them back only every
``progress_every_s`` seconds (a quarter of a second by default) and after each epoch's last
batch, and that read is when ``on_batch(BatchProgress)`` is called and the loss is checked
for NaN or infinity (``TrainingDiverged`` stops the run at once). ``on_epoch(EpochRecord)``
follows every evaluation and ``on_eval(done, total)`` each test pass. The CLI's progress
bar, the dashboard's live panel and the tests all watch the same loop. On a CUDA GPU the
forward pass runs under bfloat16 autocast with channels-last images; on the CPU neither is
used, and a seeded run gives the same numbers to the last bit as the trainer always has.

With ``config.ema_decay`` set, an average of the weights (engine/averaging.py) is what each epoch
evaluates and what the run returns. With ``config.bn_recalibrate``, the last epoch's test pass
(and so the run's result) first recomputes BatchNorm's statistics on the clean training images
(engine/bn_recalibration.py); the epochs before it are graded as trained.

Setting ``stop`` (a ``threading.Event``) ends the run after the current batch; the epochs
finished so far are kept, and so is the model as it was at the end of the last of them, so
the returned model, its evaluation and the history agree. A run stopped before its first
epoch ends has no evaluation at all (``final_eval`` is None): nothing was graded.
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
from mnist_core.engine.averaging import WeightAverage
from mnist_core.engine.bn_recalibration import recalibrate_batchnorm
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors, load_mnist
from mnist_core.engine.device import autocast_for, describe_device, memory_format_for, pick_device
from mnist_core.engine.distillation import distillation_loss, load_teacher
from mnist_core.engine.evaluate import EvalResult, evaluate
from mnist_core.engine.models import count_parameters
from mnist_core.engine.recipes import build_network
from mnist_core.engine.schedule import apply_schedule
from mnist_core.engine.sgd import SGD


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
    final_eval: EvalResult | None  # of the model as returned; None if stopped before its first epoch ended
    stopped: bool  # True when ``stop`` ended the run early
    device: str
    params: int


def seed_everything(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """Seed torch's global RNGs (weights, dropout) and return a generator on ``device`` for data order and augmentation.

    ``torch.manual_seed`` seeds the CPU and every GPU; the generator lives on the device that
    shuffles and augments, so a GPU draws its own random numbers without asking the host.
    """
    torch.manual_seed(seed)
    return torch.Generator(device=device).manual_seed(seed)


def build_optimizer(model: nn.Module, config: TrainConfig) -> SGD | torch.optim.Optimizer:
    """The recipe's optimizer: our SGD (torch.optim.SGD's numbers, without importing the compiler), or Adam."""
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return SGD(model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def training_loss(log_probs: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean negative log-likelihood, with ``label_smoothing`` of the target spread over all ten classes.

    Without smoothing it is ``F.nll_loss`` itself (bit for bit, so the seeded Steps 1-4 stay as
    they were); with it, the same value as ``F.cross_entropy(logits, labels, label_smoothing=...)``.
    """
    nll = F.nll_loss(log_probs, labels)
    if label_smoothing <= 0:
        return nll
    return (1 - label_smoothing) * nll - label_smoothing * log_probs.mean(dim=1).mean()


PROGRESS_EVERY_S = 0.25  # how often the loop reads its numbers back from the device for ``on_batch``


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite: the run stops at once, and the message says where."""


def _limit(tensor: torch.Tensor, limit: int) -> torch.Tensor:
    return tensor[:limit] if limit else tensor


# Whole data set tensors already copied to an accelerator, so that a process copies them once,
# not once per run: (device, id of the host tensor) -> (host tensor, its copy on the device).
_RESIDENT: dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor]] = {}
_RESIDENT_MAX = 8  # two data sets' four tensors


def resident(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``tensor`` on ``device``: itself when it is there already (the CPU), else a copy kept for the process."""
    if tensor.device == device:
        return tensor
    key = (str(device), id(tensor))
    hit = _RESIDENT.get(key)
    if hit is not None and hit[0] is tensor:  # the id alone could belong to a freed tensor's successor
        return hit[1]
    while len(_RESIDENT) >= _RESIDENT_MAX:
        _RESIDENT.pop(next(iter(_RESIDENT)))
    _RESIDENT[key] = (tensor, tensor.to(device))
    return _RESIDENT[key][1]


def _check_finite(loss_sum: float, epoch: int, batch: int, batches: int, lr: float) -> None:
    if not math.isfinite(loss_sum):
        raise TrainingDiverged(
            f"Training stopped: the loss became {'NaN' if math.isnan(loss_sum) else 'infinite'} in epoch {epoch} "
            f"by batch {batch} of {batches} (learning rate {lr:.4g}). The weights are no longer numbers, so "
            "nothing was saved as a result; try a lower learning rate."
        )


def train(
    config: TrainConfig,
    data: MnistTensors | None = None,
    on_batch: Callable[[BatchProgress], None] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    stop: threading.Event | None = None,
    progress_every_s: float = PROGRESS_EVERY_S,
    on_eval: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Train the network of ``config.step`` with ``config``; see the module docstring.

    ``on_batch`` is called after the first and the last batch of every epoch and in between
    at most every ``progress_every_s`` seconds (``0`` calls it after every batch, which makes a GPU wait each
    time). Raises ``TrainingDiverged`` when the loss stops being a finite number.
    """
    data = data or load_mnist()
    device = pick_device(config.device)
    generator = seed_everything(config.seed, device)
    memory_format = memory_format_for(device)
    model = build_network(config).to(device, memory_format=memory_format)
    optimizer = build_optimizer(model, config)
    teacher = load_teacher(config.distill_from, device).to(memory_format=memory_format) if config.distill_from else None
    average = WeightAverage(model, config.ema_decay) if config.ema_decay > 0 else None
    graded = average.model if average is not None else model  # the network evaluated, kept and returned

    # The whole set on the device once; every batch below is indexed and augmented there.
    train_x = _limit(resident(data.train_images, device), config.train_limit)
    train_y = _limit(resident(data.train_labels, device), config.train_limit)
    test_x = _limit(resident(data.test_images, device), config.test_limit)
    test_y = _limit(resident(data.test_labels, device), config.test_limit)
    batches = math.ceil(len(train_x) / config.batch_size)
    total_batches = config.epochs * batches
    history: list[EpochRecord] = []
    stopped = False
    run_start = time.perf_counter()
    batches_done = 0
    last_eval: EvalResult | None = None  # of the model at the end of the last finished epoch
    kept_state: dict[str, torch.Tensor] | None = None  # that model's weights, what a stopped run returns

    for epoch in range(1, config.epochs + 1):
        epoch_start = last_read = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_x), generator=generator, device=device)
        # Running sums stay on the device; the host reads them only at progress reads.
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        seen = 0
        lr = optimizer.param_groups[0]["lr"]
        augmenting = epoch <= config.epochs - config.clean_epochs
        for batch in range(batches):
            if stop is not None and stop.is_set():
                stopped = True
                break
            lr = apply_schedule(optimizer, config, batches_done, batches)
            index = order[batch * config.batch_size:(batch + 1) * config.batch_size]
            images = augment_batch(train_x[index], config, generator) if augmenting else train_x[index]
            images = images.contiguous(memory_format=memory_format)
            labels = train_y[index]

            optimizer.zero_grad(set_to_none=True)
            with autocast_for(device):
                log_probs = model(images)
            loss = training_loss(log_probs.float(), labels, config.label_smoothing)
            if teacher is not None:
                with torch.no_grad(), autocast_for(device):
                    teacher_log_probs = teacher(images)
                taught = distillation_loss(log_probs.float(), teacher_log_probs.float(), config.distill_temperature)
                loss = (1 - config.distill_weight) * loss + config.distill_weight * taught
            loss.backward()
            optimizer.step()
            if average is not None:
                average.update()

            loss_sum += loss.detach() * len(labels)
            correct += (log_probs.argmax(1) == labels).sum()
            seen += len(labels)
            batches_done += 1
            # Read at an epoch's first batch (so a display turns to the new epoch at once), its
            # last, and whenever progress_every_s has passed.
            now = time.perf_counter()
            if 0 < batch < batches - 1 and now - last_read < progress_every_s:
                continue
            # A progress read: the one place in the loop where the host waits for the device.
            loss_value, loss_total, correct_total = torch.stack(
                [loss.detach().float(), loss_sum, correct.float()]).tolist()
            _check_finite(loss_total, epoch, batch + 1, batches, lr)
            last_read = now = time.perf_counter()
            if on_batch is not None:
                elapsed = now - epoch_start
                on_batch(BatchProgress(
                    epoch=epoch, epochs=config.epochs, batch=batch + 1, batches=batches,
                    loss=loss_value, running_acc=100.0 * correct_total / seen, lr=lr,
                    images_per_s=seen / elapsed if elapsed > 0 else 0.0,
                    eta_s=(now - run_start) / batches_done * (total_batches - batches_done),
                ))
        if stopped:  # a partial epoch is not an epoch: only whole ones enter the history
            break
        if config.bn_recalibrate and epoch == config.epochs:
            recalibrate_batchnorm(graded, train_x)
        result = evaluate(graded, test_x, test_y, device, on_progress=on_eval)
        last_eval = result
        kept_state = {name: value.detach().clone() for name, value in graded.state_dict().items()}
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

    if stopped and kept_state is not None:  # the partial epoch's updates are dropped with the partial epoch
        graded.load_state_dict(kept_state)
    return TrainResult(
        model=graded, config=config, history=history, final_eval=last_eval, stopped=stopped,
        device=describe_device(device), params=count_parameters(model),
    )
