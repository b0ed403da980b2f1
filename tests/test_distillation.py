"""Knowledge distillation: the loss is the textbook one, the teacher only answers, and a teacher that
cannot be read is refused with a sentence."""

from __future__ import annotations

import argparse
import math

import pytest
import torch
import torch.nn.functional as F

from mnist_core.commands.cli import main
from mnist_core.commands.recipe_args import add_recipe_arguments, recipe_from_args
from mnist_core.engine import distillation
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.distillation import TeacherMissing, distillation_loss, load_teacher
from mnist_core.engine.recipes import RECIPES
from mnist_core.engine.train import train


def test_the_loss_is_the_kl_divergence_of_the_softened_answers_times_t_squared():
    torch.manual_seed(0)
    student_logits, teacher_logits = torch.randn(6, 10) * 3, torch.randn(6, 10) * 3
    temperature = 4.0
    # Written out from the definition, on logits rather than the networks' log-softmax outputs.
    p_teacher = torch.softmax(teacher_logits / temperature, dim=1)
    p_student = torch.softmax(student_logits / temperature, dim=1)
    by_hand = (p_teacher * (p_teacher.log() - p_student.log())).sum(dim=1).mean() * temperature ** 2
    ours = distillation_loss(F.log_softmax(student_logits, 1), F.log_softmax(teacher_logits, 1), temperature)
    assert math.isclose(ours.item(), by_hand.item(), rel_tol=1e-5)


def test_agreeing_with_the_teacher_costs_nothing_and_disagreeing_costs_more():
    answers = F.log_softmax(torch.randn(4, 10), 1)
    assert distillation_loss(answers, answers, 4.0).item() == pytest.approx(0.0, abs=1e-6)
    assert distillation_loss(answers.flip(1), answers, 4.0).item() > 0.1


def test_the_teacher_is_a_shipped_network_frozen_in_evaluation_mode():
    teacher = load_teacher(4, torch.device("cpu"))
    assert not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())


def test_a_step_with_no_shipped_network_cannot_teach(tmp_path, monkeypatch):
    monkeypatch.setattr(distillation, "shipped_run_path", lambda step: tmp_path / f"step{step}")
    with pytest.raises(TeacherMissing, match="Step 4's shipped network cannot teach: no checkpoint at"):
        load_teacher(4, torch.device("cpu"))


@pytest.mark.parametrize(("changes", "message"), [
    ({"distill_from": -1}, "distill from must be 0"),
    ({"distill_from": 4, "distill_weight": 0.0}, "distill weight must be in"),
    ({"distill_from": 4, "distill_weight": 1.5}, "distill weight must be in"),
    ({"distill_from": 4, "distill_temperature": 0.0}, "distill temperature must be positive"),
    ({"distill_from": 4, "distill_temperature": float("inf")}, "distill_temperature must be a finite number"),
])
def test_a_bad_distillation_setting_is_refused_by_name(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


@pytest.mark.real_data
def test_a_distilled_run_learns_from_the_teacher_which_stays_as_it_was(mnist):
    recipe = RECIPES[6].recipe.with_(epochs=1, train_limit=256, test_limit=200, bn_recalibrate=False, device="cpu")
    teacher_before = {k: v.clone() for k, v in load_teacher(4, torch.device("cpu")).state_dict().items()}
    plain, taught = train(recipe, mnist), train(recipe.with_(distill_from=4), mnist)
    # Same seed, same batches, same starting weights: only the loss differs, so the weights do.
    assert any(not torch.equal(a, b) for a, b in zip(plain.model.state_dict().values(),
                                                     taught.model.state_dict().values(), strict=True))
    teacher_after = load_teacher(4, torch.device("cpu")).state_dict()
    assert all(torch.equal(teacher_before[k], teacher_after[k]) for k in teacher_before)


def test_the_command_line_flags_reach_the_recipe(capsys):
    parser = argparse.ArgumentParser()
    add_recipe_arguments(parser)
    config = recipe_from_args(parser.parse_args(
        ["--step", "6", "--distill-from", "4", "--distill-weight", "0.5", "--distill-temperature", "2"]))
    assert (config.distill_from, config.distill_weight, config.distill_temperature) == (4, 0.5, 2.0)
    assert recipe_from_args(parser.parse_args(["--step", "6"])).distill_from == 0  # no teacher unless asked
    with pytest.raises(SystemExit):  # argparse's own refusal: a usage line and the choices
        main(["train", "--step", "6", "--distill-from", "99"])
    assert "invalid choice: 99" in capsys.readouterr().err
