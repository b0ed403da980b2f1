"""Deskewing (``engine/deskew.py``): a slanted stroke comes out upright and centred, a blank page stays blank,
it has no weights, and it is a layer the calculator, the designer, the recipe and the command line all know."""

from __future__ import annotations

import pytest
import torch

from mnist_core.commands.cli import build_parser
from mnist_core.commands.recipe_args import recipe_from_args
from mnist_core.engine.config import TrainConfig, config_problems
from mnist_core.engine.design import build_design, parse_design
from mnist_core.engine.deskew import Deskew, ink_moments
from mnist_core.engine.fields import rf_table
from mnist_core.engine.models import NAMED_NETWORKS, LessonNet, SeparableNet, count_parameters
from mnist_core.engine.pixels import BACKGROUND
from mnist_core.engine.recipes import build_network, design_from_step, step_recipe
from mnist_core.engine.specs import LayerSpec


def slanted_stroke(slant: float, shift: int = 0) -> torch.Tensor:
    """A 1x1x28x28 image: a stroke from row 4 to row 23 leaning ``slant`` columns right per row down."""
    image = torch.full((1, 1, 28, 28), BACKGROUND)
    for row in range(4, 24):
        column = round(13.5 + shift + slant * (row - 13.5))
        image[0, 0, row, column - 1:column + 1] = 2.8  # two pixels wide: full ink after normalisation
    return image


def ink_columns(image: torch.Tensor) -> torch.Tensor:
    """The column with the most ink in each row that has ink."""
    ink = (image - BACKGROUND)[0, 0]
    rows = ink.sum(1) > 0.5
    return ink[rows].argmax(1)


def test_a_slanted_stroke_comes_out_upright_and_centred():
    image = slanted_stroke(0.4, shift=4)
    _, column, slant = ink_moments(image)
    assert slant.item() == pytest.approx(0.4, abs=0.03) and column.item() == pytest.approx(4.0, abs=0.6)
    straight = Deskew()(image)
    columns = ink_columns(straight)
    assert columns.max() - columns.min() <= 1  # every row's ink in the same column or its neighbour
    row, column, slant = ink_moments(straight)
    assert abs(slant.item()) < 0.03 and abs(column.item()) < 0.3 and abs(row.item()) < 0.3


def test_a_blank_page_and_an_upright_centred_digit_stay_as_they_are():
    blank = torch.full((2, 1, 28, 28), BACKGROUND)
    assert torch.allclose(Deskew()(blank), blank)
    upright = slanted_stroke(0.0)
    upright = upright + (upright.flip(-1) - upright) / 2  # symmetric about the centre: nothing to move
    assert torch.allclose(Deskew()(upright), upright, atol=1e-5)


def test_a_digit_on_its_side_is_sheared_at_most_one_column_a_row():
    image = torch.full((1, 1, 28, 28), BACKGROUND)
    image[0, 0, 13:15, 4:24] = 2.8  # a flat stroke: almost no height to measure a slant against
    image[0, 0, 15, 22:24] = 2.8
    assert abs(ink_moments(image)[2].item()) <= 1.0
    assert torch.isfinite(Deskew()(image)).all()


def test_deskewing_adds_no_weight_and_changes_no_seeded_start():
    for plain, deskewed in ((LessonNet(), LessonNet(deskew=True)), (SeparableNet(), SeparableNet(deskew=True))):
        assert count_parameters(plain) == count_parameters(deskewed)
    torch.manual_seed(3)
    plain = SeparableNet()
    torch.manual_seed(3)
    deskewed = SeparableNet(deskew=True)
    assert plain.state_dict().keys() == deskewed.state_dict().keys()
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), deskewed.state_dict().values(),
                                                 strict=True))
    images = slanted_stroke(0.5)
    with torch.no_grad():
        assert torch.equal(deskewed.eval()(images), plain.eval()(Deskew()(images)))


def test_step_7_deskews_and_its_design_starts_with_the_deskew():
    assert step_recipe(7).recipe.deskew and not step_recipe(6).recipe.deskew
    assert isinstance(build_network(step_recipe(7).recipe).deskew, Deskew)
    design = design_from_step(7)
    assert design.layers[0].kind == "deskew" and design.params == 1_916
    assert isinstance(build_design(design.to_json()).layers[0], Deskew)
    assert NAMED_NETWORKS["deskew1916"](0.0, "silu").deskew is not None


def test_a_deskew_anywhere_but_first_is_refused():
    layers = [LayerSpec("conv", out_channels=4, kernel=3), LayerSpec("deskew"), LayerSpec("gap"),
              LayerSpec("conv", out_channels=10, kernel=1)]
    problem = rf_table(layers).problems[0]
    assert problem.index == 1 and "only be the first layer" in problem.problem
    first = rf_table([LayerSpec("deskew"), *layers[:1], *layers[2:]])
    assert first.ok and first.rows[0].params == 0 and first.rows[1].rf_out == 3  # fields count on the straight image
    parse_design('{"format": "mnist-design/1", "layers": [{"type": "deskew"}, {"type": "conv", "out_channels": 10, '
                 '"kernel": 28}]}')


def test_deskew_is_a_recipe_switch_of_a_steps_own_network_only():
    assert not config_problems(TrainConfig(step=3, deskew=True))
    with pytest.raises(ValueError, match="deskew is a layer of a step's own network"):
        TrainConfig(step=7, deskew=True, network="tied1908")
    args = build_parser().parse_args(["train", "--step", "6", "--deskew"])
    assert recipe_from_args(args).deskew
    args = build_parser().parse_args(["train", "--step", "7", "--deskew", "no"])
    assert not recipe_from_args(args).deskew
