"""TrainConfig refuses what cannot train: wrong types, non-finite numbers and values out of range."""

from __future__ import annotations

import math

import pytest

from mnist_core.engine.config import TrainConfig, config_problems

FLOAT_FIELDS = ["lr", "momentum", "weight_decay", "dropout", "rotation_degrees", "translate", "scale",
                "label_smoothing", "onecycle_warmup", "step_gamma"]


@pytest.mark.parametrize("name", FLOAT_FIELDS)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_every_non_finite_number_is_refused(name, value):
    with pytest.raises(ValueError, match=f"{name} must be a finite number"):
        TrainConfig(**{name: value})


@pytest.mark.parametrize("changes, message", [
    ({"lr": 0.0}, "learning rate must be positive"),
    ({"lr": 11.0}, "at most 10"),
    ({"momentum": 1.0}, "momentum must be in [0, 1)"),
    ({"weight_decay": -0.1}, "weight decay must be in [0, 1)"),
    ({"rotation_degrees": 181.0}, "rotation must be in [0, 180]"),
    ({"onecycle_warmup": 0.0}, "warmup must be in (0, 1)"),
    ({"step_size": 0}, "step size must be a positive number of epochs"),
    ({"step_gamma": 0.0}, "step gamma must be in (0, 1]"),
    ({"seed": -1}, "seed must be a non-negative"),
    ({"device": "gpu"}, "device must be auto, cpu, cuda, cuda:N or mps"),
    ({"epochs": 2.0}, "epochs must be a whole number"),
    ({"epochs": True}, "epochs must be a whole number"),
    ({"lr": "0.1"}, "lr must be a number"),
    ({"optimizer": 3}, "optimizer must be a string"),
])
def test_values_out_of_range_or_of_the_wrong_type_are_refused(changes, message):
    with pytest.raises(ValueError, match=None) as refused:
        TrainConfig(**changes)
    assert message in str(refused.value)


@pytest.mark.parametrize("values", [[1], "x", None, 4])
def test_from_dict_refuses_anything_but_an_object(values):
    with pytest.raises(TypeError, match="must be a JSON object"):
        TrainConfig.from_dict(values)


def test_every_step_recipe_and_the_defaults_are_valid():
    from mnist_core.lesson.steps import STEPS

    assert config_problems(TrainConfig()) == []
    assert all(config_problems(step.recipe) == [] for step in STEPS.values())
    assert config_problems(TrainConfig(device="cuda:1")) == []  # a valid name, wherever it can run
