"""``python -m mnist_core bench``: our training pipeline against the usual torchvision one.

Both train the Step 4 recipe (same network, SGD with its StepLR schedule, ±7° rotation, batch 128)
for one epoch over all 60,000 images and then score the 10,000 test images, in the same
process, one after the other:

* naive: ``torchvision.datasets.MNIST`` with PIL transforms (RandomRotation, bilinear as ours
  is, ToTensor, Normalize) behind a ``DataLoader``, PyTorch's own ``nn.Dropout``, at the best
  setting measured on a 2-core CPU (1 compute thread, 1 loader worker);
* ours: ``mnist_core.engine.train``: the data in memory as tensors, batches sliced from a
  permutation, the whole batch rotated at once, cheaper dropout, all cores.

It names the machine and the device ours trains on, prints seconds per epoch for each, their
ratio and how far apart their accuracies are (with ``--seeds``, one epoch of each per seed and
the means compared: one seed's one-epoch accuracy is noisy), our training throughput in images per second,
and the time of a full 15-epoch Step 4 run: measured with ``--full``, else extrapolated from
one epoch and labelled so. On a GPU, ours trains there (data, augmentation and all) while the
usual pipeline keeps its CPU DataLoader, as it would in practice.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MNIST_MEAN, MNIST_STD, default_data_dir, load_mnist
from mnist_core.engine.device import describe_device, pick_device
from mnist_core.engine.models import FastDropout
from mnist_core.engine.schedule import apply_schedule
from mnist_core.engine.train import seed_everything, train
from mnist_core.lesson.steps import get_step

SPEEDUP_TARGET = 3.0  # at least 3x the naive pipeline
FULL_RUN_TARGET_S = 90.0  # a 15-epoch Step 4 run in at most 1.5 minutes
ACCURACY_GAP = 0.3  # points: the two pipelines' one-epoch accuracies must agree this closely


def with_stock_dropout(model: nn.Module) -> nn.Module:
    """The same network with PyTorch's own ``nn.Dropout``, as the usual pipeline would have it."""
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, FastDropout):
                setattr(parent, name, nn.Dropout(child.p))
    return model


def bench_recipe(epochs: int, seed: int, batch_size: int = 0) -> TrainConfig:
    """The Step 4 recipe for ``epochs`` with ``seed``; with ``batch_size``, that batch and the learning rate
    scaled in proportion to it (the linear scaling rule), so that the recipe still trains as far per epoch."""
    recipe = get_step(4).recipe
    if batch_size and batch_size != recipe.batch_size:
        lr = recipe.lr * batch_size / recipe.batch_size
        try:
            recipe = recipe.with_(batch_size=batch_size, lr=lr)
        except ValueError as exc:
            raise ValueError(f"a batch of {batch_size} scales the learning rate to {lr:g}: {exc}") from exc
    return recipe.with_(epochs=epochs, seed=seed)


def naive_epoch_seconds(seed: int, threads: int = 1, workers: int = 1, batch_size: int = 0) -> tuple[float, float]:
    """One epoch of the Step 4 recipe with ``seed`` through torchvision's Dataset + DataLoader; (seconds, test acc).

    Its rotation is bilinear, as ours is: the same recipe, so that the two accuracies can be compared.
    """
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        config = bench_recipe(1, seed, batch_size)
        rotate = transforms.RandomRotation(config.rotation_degrees, fill=0,
                                           interpolation=transforms.InterpolationMode.BILINEAR)
        normalize = transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))
        train_set = datasets.MNIST(str(default_data_dir()), train=True, transform=transforms.Compose([
            rotate, transforms.ToTensor(), normalize]))
        test_set = datasets.MNIST(str(default_data_dir()), train=False,
                                  transform=transforms.Compose([transforms.ToTensor(), normalize]))
        seed_everything(config.seed)
        train_loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True, num_workers=workers)
        test_loader = DataLoader(test_set, batch_size=1000, num_workers=workers)
        model = with_stock_dropout(get_step(4).build_model(config))
        # The usual pipeline's optimizer is torch.optim's own (ours does the same arithmetic).
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
        start = time.perf_counter()
        model.train()
        for step, (images, labels) in enumerate(train_loader):
            apply_schedule(optimizer, config, step, len(train_loader))
            optimizer.zero_grad(set_to_none=True)
            F.nll_loss(model(images), labels).backward()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += (model(images).argmax(1) == labels).sum().item()
        return time.perf_counter() - start, 100.0 * correct / len(test_set)
    finally:
        torch.set_num_threads(previous_threads)


def ours_seconds(epochs: int, seed: int, batch_size: int = 0) -> tuple[float, float, float]:
    """``epochs`` epochs of the Step 4 recipe with ``seed`` through our trainer; (seconds, final test acc, training
    images/s).

    Images per second count only the training part of each epoch (the trainer's own figure
    at each epoch's last batch), averaged over the epochs.
    """
    data = load_mnist()
    config = bench_recipe(epochs, seed, batch_size)
    epoch_rates: dict[int, float] = {}

    def note_rate(progress) -> None:
        if progress.batch == progress.batches:
            epoch_rates[progress.epoch] = progress.images_per_s

    start = time.perf_counter()
    result = train(config, data, on_batch=note_rate)
    return time.perf_counter() - start, result.history[-1].test_acc, sum(epoch_rates.values()) / len(epoch_rates)


def positive_count(text: str) -> int:
    """A whole number, 1 or more, for ``--threads`` and ``--batch-size``."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number, 1 or more")
    return value


def machine_name() -> str:
    """The host's processor, core count and the vector instructions PyTorch uses on it, e.g.
    ``AMD EPYC, 2 cores, AVX2``: hosts of one name differ (with AVX-512 and native bfloat16, or without)."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    return (f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{torch.backends.cpu.get_cpu_capability()}")


def cmd_bench(args: argparse.Namespace) -> int:
    if args.threads:  # ours on fewer cores: how far its two-thread speed is from twice one thread's
        torch.set_num_threads(args.threads)
    device = pick_device()
    recipe_seed = get_step(4).recipe.seed
    seeds = args.seeds or [recipe_seed]
    for seed in seeds:  # a seed or batch size the recipe refuses is said before minutes of timing, not after
        recipe = bench_recipe(1, seed, args.batch_size)
    load_mnist()  # fetch and parse outside the timings
    print(f"Machine: {machine_name()}; ours trains on {describe_device(device)}; torch {torch.__version__}")
    if device.type == "cpu":
        print("No GPU here: both pipelines run on the CPU.")
    batch = (f"batch {recipe.batch_size} with learning rate {recipe.lr:g} (scaled from "
             f"{get_step(4).recipe.lr:g} at {get_step(4).recipe.batch_size}); " if args.batch_size else "")
    print(f"Step 4 recipe, {batch}one epoch of 60,000 images + evaluation of 10,000; seed{'s' * (len(seeds) > 1)} "
          f"{', '.join(map(str, seeds))}")
    naive_runs: list[tuple[float, float]] = []
    ours_runs: list[tuple[float, float, float]] = []
    for seed in seeds:  # one seed's one-epoch accuracy is noisy; several give the comparison a mean
        if not args.skip_naive:
            naive_runs.append(naive_epoch_seconds(seed, batch_size=args.batch_size))
            seconds, accuracy = naive_runs[-1]
            print(f"naive   seed {seed}: torchvision Dataset + PIL transforms + DataLoader + nn.Dropout "
                  f"(CPU, 1 thread, 1 worker): {seconds:6.1f} s/epoch (test acc after 1 epoch {accuracy:.2f}%)")
        ours_runs.append(ours_seconds(1, seed, args.batch_size))
        seconds, accuracy, rate = ours_runs[-1]
        print(f"ours    seed {seed}: data resident on the device, batched augmentation, cheaper dropout, no per-batch "
              f"sync ({describe_device(device)}): {seconds:6.1f} s/epoch (test acc after 1 epoch {accuracy:.2f}%; "
              f"training {rate:,.0f} images/s)")
    ours_s = statistics.mean(run[0] for run in ours_runs)
    if naive_runs:
        ratio = statistics.mean(run[0] for run in naive_runs) / ours_s
        verdict = "meets" if ratio >= SPEEDUP_TARGET else "misses"
        gap = abs(statistics.mean(run[1] for run in ours_runs) - statistics.mean(run[1] for run in naive_runs))
        agree = "within" if gap <= ACCURACY_GAP else "NOT within"
        over = f" (means of {len(seeds)} seeds)" if len(seeds) > 1 else ""
        print(f"speed-up: {ratio:.2f}x ({verdict} the {SPEEDUP_TARGET:.0f}x target); accuracies {gap:.2f} points "
              f"apart ({agree} {ACCURACY_GAP} points){over}")
    if args.full:
        full_s, full_acc, full_rate = ours_seconds(15, recipe_seed, args.batch_size)
        label = (f"seed {recipe_seed}, measured: {full_s:.0f} s, final test acc {full_acc:.2f}%, "
                 f"training {full_rate:,.0f} images/s")
    else:
        full_s = 15 * ours_s
        label = f"extrapolated from one epoch: 15 x {ours_s:.1f} s = {full_s:.0f} s (run with --full to measure)"
    verdict = "meets" if full_s <= FULL_RUN_TARGET_S else "misses"
    print(f"15-epoch Step 4 run on {describe_device(device)}, {label}; {verdict} the {FULL_RUN_TARGET_S:.0f} s target")
    return 0


def register(subparsers) -> None:
    bench = subparsers.add_parser("bench", help="time our pipeline against torchvision's DataLoader pipeline")
    bench.add_argument("--full", action="store_true", help="measure a whole 15-epoch Step 4 run too")
    bench.add_argument("--skip-naive", action="store_true", help="time only our pipeline")
    bench.add_argument("--seeds", type=int, nargs="+", metavar="SEED",
                       help="one epoch of each pipeline per seed; the speed-up and the accuracy gap are "
                            "taken over their means (default: the recipe's seed)")
    bench.add_argument("--threads", type=positive_count, metavar="N",
                       help="our pipeline's compute threads (default: one per core)")
    bench.add_argument("--batch-size", type=positive_count, default=0, metavar="N",
                       help="both pipelines train with batches of N, the learning rate scaled in proportion "
                            "(default: the recipe's 128)")
    bench.set_defaults(func=cmd_bench)
