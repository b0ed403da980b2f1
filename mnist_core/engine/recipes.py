"""Each step's network and training recipe: what the engine needs to build and train a step.

The lesson's story of each step (Target / Results / Analysis, trials) lives in
``lesson/steps.py``, which reads its network and recipe from here; the engine, the run
store and the backends build a run's network through ``build_network`` without knowing
any story.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.design import Design, build_design, design_from_specs
from mnist_core.engine.models import NAMED_NETWORKS, STEP7_WIDTHS, LessonNet, SeparableNet
from mnist_core.engine.specs import specs_from_model

EPOCH_BUDGET = 15  # the lesson's limit on epochs


@dataclass(frozen=True)
class NetworkCall:
    """How a step builds its network: a class, arguments fixed by the step, and arguments read from the recipe.

    Being data, it can also say the exact call it makes for a recipe, which the Model tab
    shows (a class's defaults are not what a step builds).
    """

    network: type[nn.Module]
    fixed: tuple[tuple[str, object], ...] = ()  # (argument, value) the step always passes
    from_recipe: tuple[str, ...] = ()  # TrainConfig fields passed under the same name

    def arguments(self, config: TrainConfig) -> dict:
        return {**dict(self.fixed), **{name: getattr(config, name) for name in self.from_recipe}}

    def __call__(self, config: TrainConfig) -> nn.Module:
        return self.network(**self.arguments(config))

    def source(self, config: TrainConfig) -> str:
        """The call as Python, with this recipe's values: ``LessonNet(batch_norm=False, ...)``."""
        args = ", ".join(f"{name}={value!r}" for name, value in self.arguments(config).items())
        return f"{self.network.__name__}({args})"


@dataclass(frozen=True)
class StepRecipe:
    """A step's own network and the recipe it trains with."""

    network: NetworkCall
    recipe: TrainConfig


_plain = NetworkCall(LessonNet, (("batch_norm", False), ("dropout", 0.0)), ("activation", "deskew"))
_regularised = NetworkCall(LessonNet, (("batch_norm", True),), ("dropout", "activation", "deskew"))
_separable = NetworkCall(SeparableNet, (), ("dropout", "activation", "deskew"))

_BASE = TrainConfig(step=1, epochs=EPOCH_BUDGET, batch_size=128, optimizer="sgd", lr=0.01, momentum=0.9)
_STEP3 = _BASE.with_(step=3, dropout=0.05, rotation_degrees=7.0)
_STEP4 = _STEP3.with_(step=4, scheduler="step", lr=0.05, step_size=5, step_gamma=0.1)
_STEP5 = _STEP4.with_(step=5, dropout=0.0, activation="silu")
_STEP6 = _STEP5.with_(step=6, scheduler="onecycle", lr=0.1, bn_recalibrate=True, augment_fraction=0.5, ema_decay=0.999,
                      seed=5)

RECIPES: dict[int, StepRecipe] = {
    1: StepRecipe(_plain, _BASE),
    2: StepRecipe(_regularised, _BASE.with_(step=2, dropout=0.05)),
    3: StepRecipe(_regularised, _STEP3),
    4: StepRecipe(_regularised, _STEP4),
    5: StepRecipe(_separable, _STEP5),
    6: StepRecipe(NetworkCall(SeparableNet, (("widths", (8, 10, 18)),), ("dropout", "activation", "deskew")), _STEP6),
    7: StepRecipe(NetworkCall(SeparableNet, (("widths", STEP7_WIDTHS),), ("dropout", "activation", "deskew")),
                  _STEP6.with_(step=7, seed=1, deskew=True, rotation_degrees=12.0, scale=0.1)),
}


class UnknownStep(KeyError):
    def __str__(self) -> str:
        return f"unknown step {self.args[0]!r}; choose one of {', '.join(map(str, RECIPES))}"


def step_recipe(number: int) -> StepRecipe:
    """Step ``number``'s network and recipe; raises UnknownStep otherwise."""
    try:
        return RECIPES[int(number)]
    except (KeyError, ValueError, TypeError):
        raise UnknownStep(number) from None


def build_network(config: TrainConfig) -> nn.Module:
    """The network ``config`` trains: its design, a named network, or else its step's own."""
    if config.design:
        return build_design(config.design, dropout=config.dropout)
    if config.network:  # one of our named trial networks, with this step's recipe
        return NAMED_NETWORKS[config.network](config.dropout, config.activation)
    return step_recipe(config.step).network(config)


def design_from_step(number: int) -> Design:
    """The design of a step's own network (built with its recipe), layer for layer.

    Raises DesignError if that network has a layer a design cannot hold.
    """
    return design_from_specs(specs_from_model(build_network(step_recipe(number).recipe)))
