"""The trainer on a few hundred real MNIST images: it learns, it stops on request, it is reproducible,
it never makes the device wait inside the batch loop, and a loss that stops being a number stops the run."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import torch

from mnist_core.commands.cli import build_parser, main
from mnist_core.commands.recipe_args import recipe_from_args
from mnist_core.engine import train as train_module
from mnist_core.engine.augment import augment_batch, random_rotation
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.evaluate import evaluate
from mnist_core.engine.pixels import BACKGROUND
from mnist_core.engine.schedule import apply_schedule
from mnist_core.engine.train import TrainingDiverged, build_optimizer, train
from mnist_core.runs.store import read_run, train_run

pytestmark = pytest.mark.real_data

TINY = TrainConfig(step=2, epochs=3, batch_size=64, lr=0.05, dropout=0.05, train_limit=640, test_limit=500, seed=3)


def test_a_short_run_lowers_the_loss_and_reports_every_batch_and_epoch(mnist):
    batches, epochs = [], []
    result = train(TINY, mnist, on_batch=batches.append, on_epoch=epochs.append, progress_every_s=0)
    assert len(batches) == 3 * 10 and len(epochs) == 3
    assert [b.batch for b in batches[:10]] == list(range(1, 11))
    assert batches[-1].eta_s == 0 and all(b.images_per_s > 0 for b in batches)
    assert epochs[-1].train_loss < epochs[0].train_loss
    assert epochs[-1].test_acc > 50  # from 10% at chance
    assert [e.to_dict() for e in epochs] == [e.to_dict() for e in result.history]
    assert set(result.history[0].to_dict()) == {
        "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds"}
    assert not result.stopped and result.params == 9_436


def test_same_seed_same_run(mnist):
    # Three batches and a short test pass: every weight is updated by the first batch and compared.
    config = TINY.with_(epochs=1, rotation_degrees=7.0, train_limit=3 * TINY.batch_size, test_limit=100)
    first, second = train(config, mnist), train(config, mnist)
    assert first.history[0].test_loss == second.history[0].test_loss
    assert first.history[0].train_loss == second.history[0].train_loss
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    other = train(config.with_(seed=4), mnist)
    assert other.history[0].train_loss != first.history[0].train_loss


def test_stop_from_another_thread_keeps_the_finished_epochs(mnist):
    stop = threading.Event()

    def stop_in_epoch_two(progress) -> None:
        if progress.epoch == 2 and progress.batch == 3:
            threading.Thread(target=stop.set).start()

    result = train(TINY.with_(epochs=10), mnist, on_batch=stop_in_epoch_two, stop=stop, progress_every_s=0)
    assert result.stopped
    assert len(result.history) in (1, 2)  # the stop lands a batch or so later
    assert result.final_eval is not None and result.final_eval.total == 500


def test_evaluation_returns_mistakes_and_a_consistent_confusion_matrix(mnist):
    result = train(TINY.with_(epochs=1), mnist)
    evaluation = evaluate(result.model, mnist.test_images[:500], mnist.test_labels[:500])
    confusion = torch.tensor(evaluation.confusion)
    assert confusion.sum() == 500
    assert confusion.trace() == evaluation.correct
    assert len(evaluation.mistakes) == 500 - evaluation.correct
    confidences = [m.confidence for m in evaluation.mistakes]
    assert confidences == sorted(confidences, reverse=True)
    for m in evaluation.mistakes[:5]:
        assert m.true == mnist.test_labels[m.index] and m.true != m.predicted


def test_rotation_keeps_the_background_and_turns_the_digit():
    image = torch.full((1, 1, 28, 28), BACKGROUND)
    image[0, 0, 4:24, 13:15] = 2.0  # a vertical bar
    generator = torch.Generator().manual_seed(0)
    turned = random_rotation(image.repeat(8, 1, 1, 1), 30.0, generator)
    assert torch.allclose(turned[:, :, 0, 0], torch.full((8, 1), BACKGROUND))  # corners stay blank
    assert not torch.allclose(turned, image.repeat(8, 1, 1, 1), atol=1e-3)
    assert random_rotation(image, 0.0, generator) is image


# Tensor methods that make the host wait for the device (on a GPU) to hand back a number.
SYNCING = ("item", "cpu", "tolist", "numpy", "__float__", "__int__", "__bool__", "__index__")


def count_syncs(monkeypatch) -> Counter:
    """Wrap every syncing Tensor method with a counter; returns the live Counter."""
    counts: Counter = Counter()
    for name in SYNCING:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            counts[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return counts


def test_no_host_sync_happens_per_batch(mnist, monkeypatch):
    """Four times the batches, the same number of syncs: none of them belongs to a batch.

    What is counted is batches, not images, so the batches are small: 10 and 40 batches of 8 images."""
    config = TINY.with_(step=4, epochs=2, batch_size=8, rotation_degrees=7.0, scheduler="step", step_size=1,
                        test_limit=200)
    syncs = {}
    for batches in (10, 40):
        counts = count_syncs(monkeypatch)
        reports = []
        train(config.with_(train_limit=batches * config.batch_size), mnist, on_batch=reports.append,
              progress_every_s=1e9)
        monkeypatch.undo()
        syncs[batches] = counts
        assert [(r.epoch, r.batch) for r in reports] == [(1, 1), (1, batches), (2, 1), (2, batches)]
    assert syncs[10] == syncs[40]
    assert sum(syncs[10].values()) > 0  # the wrapper does see the reads at the epoch's ends


class SteadyClock:
    """Stands in for ``time`` in the trainer: every reading is 0.1 s after the last, however busy the machine."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 0.1
        return self.now


def test_progress_is_read_a_few_times_a_second_not_every_batch(mnist, monkeypatch):
    monkeypatch.setattr(train_module, "time", SteadyClock())  # one reading per batch: 0.1 s a batch
    reports = []
    # Forty batches: of 16 images, since what is counted is batches read, not images.
    train(TINY.with_(epochs=1, batch_size=16, train_limit=640), mnist, on_batch=reports.append, progress_every_s=0.25)
    batches = [r.batch for r in reports]
    assert batches[0] == 1 and batches[-1] == reports[-1].batches == 40 and reports[-1].eta_s == 0
    assert 5 <= len(reports) <= 20  # about one read in three batches, not forty
    assert all(later - earlier >= 2 for earlier, later in zip(batches[:-2], batches[1:-1], strict=True))


def _loss_turns_nan_at(monkeypatch, bad_batch: int) -> None:
    calls = Counter()
    original = train_module.training_loss

    def poisoned(log_probs, labels, label_smoothing=0.0):
        calls["batches"] += 1
        loss = original(log_probs, labels, label_smoothing)
        return loss * float("nan") if calls["batches"] >= bad_batch else loss

    monkeypatch.setattr(train_module, "training_loss", poisoned)


def test_a_nan_loss_stops_the_run_at_once_and_says_so(mnist, monkeypatch):
    _loss_turns_nan_at(monkeypatch, bad_batch=15)  # epoch 2, batch 5
    reports = []
    with pytest.raises(TrainingDiverged, match="NaN in epoch 2 by batch 5 of 10"):
        train(TINY, mnist, on_batch=reports.append, progress_every_s=0)
    assert (reports[-1].epoch, reports[-1].batch) == (2, 4)  # the last finite batch, then nothing


def test_a_diverged_run_is_saved_as_failed_never_as_finished(mnist, monkeypatch, tmp_path):
    _loss_turns_nan_at(monkeypatch, bad_batch=3)
    with pytest.raises(TrainingDiverged):
        train_run(tmp_path / "run", TINY, mnist)
    run = read_run(tmp_path / "run")
    assert run.state == "failed" and "NaN" in run.status["message"] and "lower learning rate" in run.status["message"]
    assert not (tmp_path / "run" / "model.pt").exists() and run.evaluation is None


def test_a_diverged_run_is_one_line_in_the_cli(tmp_path, capsys, mnist, monkeypatch):
    _loss_turns_nan_at(monkeypatch, bad_batch=2)
    out = tmp_path / "run"
    code = main(["train", "--step", "1", "--epochs", "1", "--train-limit", "640", "--test-limit", "100",
                 "--out", str(out)])
    assert code == 1
    error = capsys.readouterr().err
    assert error.startswith("error: Training stopped: the loss became") and "Traceback" not in error
    # --out trains beside the target and swaps in only a finished run: a diverged one leaves nothing there.
    assert not out.exists()


def test_a_step4_recipe_trains_its_first_batches_exactly_as_before_the_step6_options(mnist):
    """The recipe options Step 6 added (piecewise lr, jitter, augmenting a share) leave older recipes bit-identical.

    The second method is the loop as it was: rotation by ``random_affine`` on every image, StepLR, SGD.
    """
    import torch.nn.functional as F

    from mnist_core.engine.augment import random_affine
    from mnist_core.engine.train import seed_everything
    from mnist_core.lesson.steps import get_step

    # On the CPU, as the loop written out below runs (a GPU machine would otherwise train there).
    config = get_step(4).recipe.with_(train_limit=320, test_limit=100, epochs=1, device="cpu")
    losses = []  # every batch's loss: progress read after each batch, not every 0.25 s
    train(config, mnist, on_batch=lambda p: losses.append(p.loss), progress_every_s=0)

    generator = seed_everything(config.seed)
    model = get_step(4).build_model(config)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    model.train()
    order = torch.randperm(320, generator=generator)
    expected = []
    for batch in range(3):
        index = order[batch * config.batch_size:(batch + 1) * config.batch_size]
        images = random_affine(mnist.train_images[index], config.rotation_degrees, 0.0, 0.0, generator)
        optimizer.zero_grad(set_to_none=True)
        loss = F.nll_loss(model(images), mnist.train_labels[index])
        loss.backward()
        optimizer.step()
        expected.append(loss.item())
    assert losses == expected


def test_each_test_pass_reports_its_own_progress(mnist):
    passes = []
    train(TINY.with_(epochs=2), mnist, on_eval=lambda done, total: passes.append((done, total)))
    assert passes == [(0, 500), (500, 500)] * 2  # EVAL_BATCH is 1,000: one batch of the 500 test images


def test_a_run_stopped_before_its_first_epoch_ended_is_not_graded(mnist, tmp_path):
    """Issue 12: such a run showed a full confusion matrix and was offered as a model."""
    from mnist_core.runs.store import read_run, train_run

    stop = threading.Event()
    stop.set()  # before the first batch
    result = train(TINY, mnist, stop=stop)
    assert result.stopped and result.history == [] and result.final_eval is None

    stop_after_two = threading.Event()

    def stop_soon(progress) -> None:
        if progress.batch == 1:  # the first batch of an epoch is always reported
            stop_after_two.set()

    train_run(tmp_path / "run", TINY, mnist, on_batch=stop_soon, stop=stop_after_two)
    run = read_run(tmp_path / "run")
    assert run.state == "stopped" and run.history == []
    assert run.evaluation is None and run.mistakes() is None and not run.checkpoint.exists()
    assert "nothing was evaluated" in run.status["message"]


def test_a_stopped_run_returns_the_model_of_its_last_finished_epoch(mnist):
    """What is saved, its evaluation and its history agree: the partial epoch is dropped whole."""
    stop = threading.Event()

    def stop_in_epoch_two(progress) -> None:
        if progress.epoch == 2 and progress.batch == 3:
            stop.set()

    result = train(TINY, mnist, on_batch=stop_in_epoch_two, stop=stop, progress_every_s=0)  # every batch
    assert result.stopped and len(result.history) == 1
    again = evaluate(result.model, mnist.test_images[:500], mnist.test_labels[:500])
    assert again.accuracy == result.final_eval.accuracy == result.history[0].test_acc


def test_adam_is_chosen_from_the_command_line_and_follows_the_schedule():
    """``--optimizer adam`` (a Step 7 trial) reaches the recipe, builds Adam, and OneCycle sets its lr."""
    args = build_parser().parse_args(["seeds", "--step", "7", "--optimizer", "adam", "--lr", "0.01"])
    config = recipe_from_args(args)
    assert (config.optimizer, config.lr, config.scheduler) == ("adam", 0.01, "onecycle")
    optimizer = build_optimizer(torch.nn.Linear(2, 2), config)
    assert isinstance(optimizer, torch.optim.Adam)
    peak_step = round(config.onecycle_warmup * config.epochs * 10) - 1  # the last rising batch, 10 to an epoch
    assert apply_schedule(optimizer, config, peak_step, steps_per_epoch=10) == pytest.approx(0.01)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01)


def test_the_clean_epochs_train_on_the_images_as_they_are(mnist, monkeypatch):
    """``clean_epochs=1`` of 3: the first two epochs augment every batch, the last one none."""
    augmented_in_epoch: list[int] = []
    epoch_now = [0]

    def counted(images, config, generator):
        augmented_in_epoch.append(epoch_now[0])
        return augment_batch(images, config, generator)

    monkeypatch.setattr(train_module, "augment_batch", counted)
    config = TINY.with_(rotation_degrees=7.0, clean_epochs=1, train_limit=2 * TINY.batch_size, test_limit=100)
    train(config, mnist, on_epoch=lambda record: epoch_now.__setitem__(0, record.epoch))
    assert Counter(augmented_in_epoch) == {0: 2, 1: 2}  # two batches in each of epochs 1 and 2 (0 and 1 done)
    with pytest.raises(ValueError, match="clean epochs must be a whole number from 0 to the number of epochs"):
        TINY.with_(clean_epochs=4)  # more than the run's 3
