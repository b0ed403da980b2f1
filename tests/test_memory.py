"""Tests for mnist_core/engine/memory.py: the estimate bounds what autograd really keeps (measured on small
networks with saved-tensor hooks), and the design that took the classroom server down (1,632 parameters,
"PASS · within the budget", 27 GB at the lesson's batch) is refused by the designer's checks, by every
recipe (Start, ``train --design``) and by the command line, before any tensor is made. No test here
builds the big design's tensors: the refusals are checked with the data loader and the trainer replaced
by ones that fail the test if they are ever reached."""

from __future__ import annotations

import json

import pytest
import torch

from mnist_core.commands import cli
from mnist_core.engine import design as design_module
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.design import DESIGN_FORMAT, DesignError, build_design, network_problems, parse_design
from mnist_core.engine.memory import (
    LESSON_BATCH_SIZE,
    TRAINING_MEMORY_BUDGET,
    describe_bytes,
    memory_problem,
    training_bytes,
)
from mnist_core.engine.recipes import design_from_step
from mnist_core.lesson.steps import STEPS

# Issue 27's design: a 1x1 conv padded to 256x256, three BatchNorm + ReLU pairs, a global pool, a 1x1 conv to 10.
SERVER_KILLER = {"format": DESIGN_FORMAT, "layers": [
    {"type": "conv", "out_channels": 96, "kernel": 1, "padding": 114},
    *[{"type": kind} for _ in range(3) for kind in ("batchnorm", "relu")],
    {"type": "gap"}, {"type": "conv", "out_channels": 10, "kernel": 1},
]}


def saved_bytes(model: torch.nn.Module, batch_size: int) -> int:
    """Bytes of every tensor autograd keeps for backward in one training step (a second, measured count)."""
    seen: dict[int, int] = {}

    def pack(tensor):
        seen[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = model(torch.randn(batch_size, 1, 28, 28)).sum()
    loss.backward()
    return sum(seen.values())


@pytest.mark.parametrize("number", list(STEPS))
def test_the_estimate_covers_what_autograd_keeps(number):
    design = design_from_step(number)
    batch = 8
    estimate = training_bytes(design.table(), batch)
    kept = saved_bytes(build_design(design, dropout=0.1), batch)
    assert kept <= estimate <= 4 * kept + 4 * 4 * design.params + 4096


def test_the_lessons_networks_are_far_inside_the_budget_at_the_pages_largest_batch():
    for number in STEPS:
        table = design_from_step(number).table()
        assert training_bytes(table, 1024) < TRAINING_MEMORY_BUDGET / 4
        assert memory_problem(table, 1024) is None


def test_the_design_that_killed_the_server_is_refused_with_the_budget_in_the_message():
    design = parse_design(SERVER_KILLER)  # reading it is fine: it is a valid network
    assert design.params == 1632  # the count: it passes the parameter budget
    needed = training_bytes(design.table(), LESSON_BATCH_SIZE)
    # 128 images x (1x28x28 + 7 maps of 96x256x256 + the pool's 96 + the 10 outputs + 2 of the largest)
    # x 4 bytes, plus the parameters four times over.
    assert needed == 128 * 4 * (784 + 7 * 96 * 256 * 256 + 96 + 10 + 2 * 96 * 256 * 256) + 16 * 1632
    with pytest.raises(DesignError) as caught:
        parse_design(SERVER_KILLER, batch_size=LESSON_BATCH_SIZE)
    message = str(caught.value)
    assert "batch size 128" in message and describe_bytes(needed) in message
    assert describe_bytes(TRAINING_MEMORY_BUDGET) == "2.0 GB" and "2.0 GB" in message
    assert any("2.0 GB" in p for p in network_problems(design.layers, batch_size=LESSON_BATCH_SIZE))


def test_every_recipe_refuses_it_at_its_own_batch_size():
    text = json.dumps(SERVER_KILLER)
    with pytest.raises(ValueError, match="needs about .* of memory"):
        TrainConfig(design=text)  # the lesson's batch of 128: what Start and `train --design` build
    with pytest.raises(ValueError, match="batch size 16"):
        TrainConfig(design=text, batch_size=16)
    small = TrainConfig(design=text, batch_size=8)  # 1.7 GB: within the budget
    assert small.batch_size == 8


def test_train_design_refuses_before_reading_data(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS_DIR", str(tmp_path / "runs"))

    def must_not_train(*args, **kwargs):
        raise AssertionError("training began: the design was not refused")

    monkeypatch.setattr(cli, "_load_data", must_not_train)
    monkeypatch.setattr(design_module, "DesignNet", must_not_train)
    big = tmp_path / "big.json"
    big.write_text(json.dumps(SERVER_KILLER))
    assert cli.main(["train", "--design", str(big), "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "needs about" in err and "2.0 GB" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()
