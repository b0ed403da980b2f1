"""Tests for mnist_core/engine/design.py: every step's network rebuilt from its design (same parameter
count, same per-layer shapes), the count equal to the designer's arithmetic, tampered JSON refused
before anything trains, and a design trained for one epoch through the CLI and through the job queue."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from mnist_core.classroom.jobs import JobManager
from mnist_core.commands.cli import main
from mnist_core.engine.checkpoints import load_checkpoint, save_checkpoint
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.design import (
    DESIGN_FORMAT,
    Design,
    DesignError,
    DesignNet,
    build_design,
    parse_design,
)
from mnist_core.engine.fields import rf_table
from mnist_core.engine.models import count_parameters
from mnist_core.engine.recipes import design_from_step
from mnist_core.lesson.steps import STEPS, get_step
from mnist_core.runs.store import RunStore


def leaf_shapes(model: nn.Module) -> list[tuple[str, tuple[int, ...], list[tuple[int, ...]]]]:
    """(module type, output shape, parameter shapes) of every leaf a forward pass calls, in order."""
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((type(m).__name__, tuple(o.shape),
                                                                   [tuple(p.shape) for p in m.parameters()])))
             for m in model.modules() if not list(m.children())]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(2, 1, 28, 28))
    for hook in hooks:
        hook.remove()
    return seen


@pytest.mark.parametrize("number", list(STEPS))
def test_every_step_round_trips_through_its_design(number):
    step = get_step(number)
    own = step.build_model()
    design = design_from_step(number)
    rebuilt = build_design(design.to_json(), dropout=step.recipe.dropout)
    assert count_parameters(rebuilt) == count_parameters(own) == design.params
    assert leaf_shapes(rebuilt) == leaf_shapes(own)
    assert rebuilt(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert parse_design(design.to_json(pretty=True)) == parse_design(design.to_json()) == design


def test_step4_design_has_the_lesson_count():
    assert design_from_step(4).params == 9_436 and design_from_step(5).params == 4_918


def layers(*records) -> dict:
    return {"format": DESIGN_FORMAT, "layers": list(records)}


GAP_HEAD = ({"type": "gap"}, {"type": "conv", "out_channels": 10, "kernel": 1})
DESIGNS = {
    "dilated and grouped": layers({"type": "conv", "out_channels": 8, "kernel": 3, "dilation": 2},
                                  {"type": "silu"}, {"type": "batchnorm"},
                                  {"type": "conv", "out_channels": 16, "kernel": 3, "groups": 4, "padding": 1},
                                  {"type": "maxpool", "kernel": 3, "stride": 2}, {"type": "dropout"},
                                  {"type": "avgpool", "kernel": 2}, *GAP_HEAD),
    "depthwise then pointwise": layers({"type": "conv", "out_channels": 6, "kernel": 5, "stride": 2},
                                       {"type": "relu"},
                                       {"type": "conv", "out_channels": 6, "kernel": 3, "groups": 6},
                                       {"type": "conv", "out_channels": 12, "kernel": 1}, {"type": "identity"},
                                       *GAP_HEAD),
}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_the_network_has_the_designers_parameter_count_and_shapes(name):
    design = parse_design(json.dumps(DESIGNS[name]))
    model = build_design(design, dropout=0.1)
    assert isinstance(model, DesignNet)
    table = rf_table(design.layers)
    assert count_parameters(model) == table.total_params == design.params
    out_sizes = [shape[2] for _, shape, _ in leaf_shapes(model.layers)]
    assert out_sizes == [row.out_size for row in table.rows]
    log_probs = model(torch.randn(4, 1, 28, 28))
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(4))


TAMPERED = [
    (layers({"type": "dense", "out_channels": 10}), "layer 0: unknown layer type 'dense'"),
    (layers({"type": "conv", "out_channels": -4, "kernel": 3}, *GAP_HEAD),
     "layer 0 (conv): out channels must be at least 1 (got -4)"),
    (layers({"type": "conv", "out_channels": 8, "kernel": "__import__('os').system('touch /tmp/pwned')"},
            *GAP_HEAD), "kernel must be a whole number, not \"__import__('os')"),
    (layers({"type": "conv", "out_channels": 8, "kernel": 3.5}, *GAP_HEAD), "kernel must be a whole number"),
    (layers({"type": "conv", "out_channels": True, "kernel": 3}, *GAP_HEAD), "out channels must be a whole number"),
    (layers({"type": "conv", "out_channels": 8, "kernel": 3, "bias_init": "lambda: 0"}, *GAP_HEAD),
     "'bias_init' is not a field of a conv layer"),
    (layers({"type": "relu", "kernel": 3}), "'kernel' is not a field of a relu layer (it takes none)"),
    (layers({"type": "conv", "out_channels": 1000, "kernel": 5}, {"type": "conv", "out_channels": 1000, "kernel": 5},
            *GAP_HEAD), "this tool builds at most 2,000,000"),
    (layers({"type": "conv", "out_channels": 8, "kernel": 1, "padding": 1000}, *GAP_HEAD), "more than this tool"),
    (layers({"type": "conv", "out_channels": 8, "kernel": 3}), "a network must end in 10 channels at 1x1"),
    (layers(), "the design has no layers"),
    ({"format": "mnist-design/1", "layers": [], "code": "print(1)"}, "unknown key(s): code"),
    ({"layers": []}, "not a design"),
    (["conv"], "a design is a JSON object"),
    ("{'format': 'mnist-design/1'}", "not valid JSON"),
]


@pytest.mark.parametrize(("design", "message"), TAMPERED, ids=[m for _, m in TAMPERED])
def test_a_tampered_design_gets_a_clear_error_and_builds_nothing(design, message):
    text = design if isinstance(design, str) else json.dumps(design)
    with pytest.raises(DesignError) as caught:
        parse_design(text)
    assert message in str(caught.value)
    with pytest.raises(ValueError, match="the design cannot be built"):
        TrainConfig(design=text)


def test_every_bad_row_is_named_at_once():
    bad = layers({"type": "conv", "out_channels": -1, "kernel": 3}, {"type": "conv", "out_channels": 8, "stride": -1,
                                                                      "kernel": 3}, {"type": "softmax"})
    message = str(pytest.raises(DesignError, parse_design, json.dumps(bad)).value)
    assert "layer 0 (conv): out channels" in message and "layer 1 (conv): stride" in message
    assert "layer 2: unknown layer type 'softmax'" in message


def test_the_cli_refuses_a_tampered_design_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS_DIR", str(tmp_path / "runs"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(TAMPERED[2][0]))
    assert main(["train", "--design", str(bad), "--epochs", "1"]) == 1
    assert "kernel must be a whole number" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # no run folder, no data read
    assert main(["design", "--check", str(bad)]) == 1
    assert main(["train", "--design", str(tmp_path / "missing.json")]) == 1
    assert "cannot read the design" in capsys.readouterr().err


def test_design_command_prints_a_step_as_json(capsys):
    assert main(["design", "--from-step", "5"]) == 0
    printed = capsys.readouterr().out
    assert parse_design(printed) == design_from_step(5)
    assert main(["design", "--from-step", "9"]) == 1


def test_a_design_checkpoint_loads_with_weights_only(tmp_path, monkeypatch):
    config = STEPS[4].recipe.with_(design=design_from_step(4).to_json())
    model = get_step(4).build_model(config)
    assert isinstance(model, DesignNet)
    save_checkpoint(tmp_path / "model.pt", model, config)
    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    loaded, loaded_config = load_checkpoint(tmp_path / "model.pt")
    assert calls == [{"map_location": "cpu", "weights_only": True}]
    assert loaded_config == config and isinstance(loaded, DesignNet)
    x = torch.randn(5, 1, 28, 28)
    assert torch.equal(loaded(x), model.eval()(x))


@pytest.mark.real_data
def test_done_when_a_step4_design_trains_from_the_cli(tmp_path, capsys, mnist, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS_DIR", str(tmp_path / "runs"))
    design_file = tmp_path / "d.json"
    assert main(["design", "--from-step", "4"]) == 0
    design_file.write_text(capsys.readouterr().out)
    assert main(["train", "--design", str(design_file), "--epochs", "1", "--train-limit", "640",
                 "--test-limit", "500"]) == 0
    printed = capsys.readouterr().out
    assert "Your design, with Step 4's recipe" in printed and "(9,436 parameters," in printed
    (run,) = RunStore(tmp_path / "runs").list()
    assert "design" in run.run_id and run.config.design == Design(design_from_step(4).layers).to_json()
    assert run.state == "finished" and len(run.history) == 1

    assert main(["evaluate", "--checkpoint", str(run.checkpoint)]) == 0
    assert "Design checkpoint" in capsys.readouterr().out
    image = tmp_path / "seven.png"
    seven = mnist.test_images[0, 0]  # normalised; any monotone picture of the digit will do
    Image.fromarray(((seven - seven.min()) / (seven.max() - seven.min()) * 255).numpy().astype(np.uint8)).save(image)
    assert main(["predict", "--checkpoint", str(run.checkpoint), "--json", str(image)]) == 0
    assert 0 <= json.loads(capsys.readouterr().out)["digit"] <= 9


@pytest.mark.real_data
def test_a_design_trains_through_the_job_queue(tmp_path, mnist):
    manager = JobManager(RunStore(tmp_path / "runs"), load_data=lambda progress: mnist)
    design = parse_design(json.dumps(DESIGNS["depthwise then pointwise"]))
    config = STEPS[5].recipe.with_(design=design.to_json(), epochs=1, train_limit=640, test_limit=500)
    run_id = manager.submit(config)
    assert manager.wait(run_id, 600)
    run = manager.store.get(run_id)
    assert run.state == "finished", run.status
    assert run.status["params"] == design.params and len(run.history) == 1
    assert load_checkpoint(run.checkpoint)[1].design == design.to_json()


def test_a_design_run_is_a_model_choice_on_draw_a_digit(runs_dir):
    from streamlit.testing.v1 import AppTest

    from mnist_core.runs.store import update_status, write_history, write_json

    config = STEPS[4].recipe.with_(design=design_from_step(5).to_json(), epochs=1, train_limit=2560)
    run = RunStore(runs_dir).create(config)
    save_checkpoint(run.checkpoint, get_step(4).build_model(config), config)
    # A whole finished run: its epoch and its evaluation (a finished run without them reads as damaged).
    write_history(run.path, [{"epoch": 1, "train_loss": 1.0, "train_acc": 60.0, "test_loss": 1.2, "test_acc": 90.0,
                              "lr": 0.05, "seconds": 30.0}])
    write_json(run.path / "evaluation.json", {"test_loss": 1.2, "test_acc": 90.0, "correct": 9000, "total": 10_000,
                                              "confusion": [[0] * 10 for _ in range(10)]})
    update_status(run.path, state="finished", params=4_918)
    app = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=30)
    app.switch_page("pages/draw_digit.py").run()
    choice = next(o for o in app.selectbox(key="draw_model").options if o == f"Your run · {run.label}")
    assert "Design" in choice
    app.selectbox(key="draw_model").set_value(choice).run()
    assert not app.exception and not app.error
