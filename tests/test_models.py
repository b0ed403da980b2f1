"""The lesson's networks against the source lesson's model summary."""

from __future__ import annotations

import sys

import pytest
import torch

from mnist_core.engine.models import FastDropout, count_parameters
from mnist_core.engine.summary import summarize
from mnist_core.lesson.steps import STEPS, get_step
from mnist_core.lesson.target import PARAM_BUDGET

# The source lesson's summary of the Step 2-4 network: (layer, output shape, params).
SOURCE_SUMMARY = [
    ("Conv2d-1", (12, 26, 26), 108), ("ReLU-2", (12, 26, 26), 0), ("BatchNorm2d-3", (12, 26, 26), 24),
    ("Dropout-4", (12, 26, 26), 0), ("Conv2d-5", (14, 24, 24), 1512), ("ReLU-6", (14, 24, 24), 0),
    ("BatchNorm2d-7", (14, 24, 24), 28), ("MaxPool2d-8", (14, 12, 12), 0), ("Conv2d-9", (10, 12, 12), 140),
    ("Conv2d-10", (14, 10, 10), 1260), ("ReLU-11", (14, 10, 10), 0), ("BatchNorm2d-12", (14, 10, 10), 28),
    ("Dropout-13", (14, 10, 10), 0), ("Conv2d-14", (14, 8, 8), 1764), ("ReLU-15", (14, 8, 8), 0),
    ("BatchNorm2d-16", (14, 8, 8), 28), ("Dropout-17", (14, 8, 8), 0), ("Conv2d-18", (16, 6, 6), 2016),
    ("ReLU-19", (16, 6, 6), 0), ("BatchNorm2d-20", (16, 6, 6), 32), ("Dropout-21", (16, 6, 6), 0),
    ("Conv2d-22", (16, 4, 4), 2304), ("ReLU-23", (16, 4, 4), 0), ("BatchNorm2d-24", (16, 4, 4), 32),
    ("Dropout-25", (16, 4, 4), 0), ("AvgPool2d-26", (16, 1, 1), 0), ("Conv2d-27", (10, 1, 1), 160),
]


@pytest.mark.parametrize("step, params", [(1, 9_264), (2, 9_436), (3, 9_436), (4, 9_436)])
def test_parameter_counts_match_the_lesson(step, params):
    model = get_step(step).build_model()
    assert count_parameters(model) == params == get_step(step).source.params
    assert params < PARAM_BUDGET


def test_every_step_is_the_lesson_or_beyond_it():
    assert list(STEPS) == [1, 2, 3, 4, 5, 6, 7]
    # No source lesson beyond Step 4: tests/test_step5.py, test_step6.py and test_step7.py hold them to their budgets.
    assert [get_step(n).source for n in (5, 6, 7)] == [None, None, None]


@pytest.mark.parametrize("step", [2, 3, 4])
def test_summary_matches_the_source_table(step):
    rows = summarize(get_step(step).build_model())
    ours = [(r.layer.replace("FastDropout", "Dropout"), r.output_shape, r.params) for r in rows]
    assert ours == SOURCE_SUMMARY


def test_step1_is_the_same_skeleton_without_batchnorm_or_dropout():
    rows = summarize(get_step(1).build_model())
    source_without = [(layer.split("-")[0], shape, params) for layer, shape, params in SOURCE_SUMMARY
                      if not layer.startswith(("BatchNorm", "Dropout"))]
    assert [(r.layer.split("-")[0], r.output_shape, r.params) for r in rows] == source_without


@pytest.mark.parametrize("step", list(STEPS))
def test_models_output_log_probabilities(step):
    model = get_step(step).build_model().eval()
    out = model(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 10)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(3))


@pytest.mark.parametrize("step", list(STEPS))
def test_activation_swaps_every_nonlinearity_and_keeps_the_weights(step):
    recipe = get_step(step).recipe
    relu = get_step(step).build_model(recipe.with_(activation="relu"))
    silu = get_step(step).build_model(recipe.with_(activation="silu"))
    assert count_parameters(relu) == count_parameters(silu)
    kinds = {name: type(module) for name, module in relu.named_modules()}
    swapped = {name for name, module in silu.named_modules() if type(module) is not kinds[name]}
    assert swapped == {name for name, kind in kinds.items() if kind is torch.nn.ReLU}
    assert swapped and all(isinstance(silu.get_submodule(name), torch.nn.SiLU) for name in swapped)


def test_an_unknown_activation_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="activation must be one of relu, silu"):
        get_step(4).recipe.with_(activation="tanh")


def test_fast_dropout_keeps_the_expectation_and_drops_the_right_share():
    torch.manual_seed(0)
    layer = FastDropout(0.05).train()
    out = layer(torch.ones(400_000))
    assert abs((out == 0).float().mean().item() - 0.05) < 0.002
    assert abs(out.mean().item() - 1.0) < 0.005
    assert torch.equal(layer.eval()(torch.ones(10)), torch.ones(10))


def test_importing_the_core_leaves_streamlit_out():
    import subprocess

    code = ("import mnist_core.engine.train, mnist_core.classroom.jobs, mnist_core.commands.cli, "
            "mnist_core.lesson.report, sys; print('streamlit' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
