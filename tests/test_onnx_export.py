"""ONNX export: onnxruntime gives the same log-probabilities as PyTorch on 100 test digits, for a
shipped step and for a design, with any batch size; the export command's errors are one line."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from mnist_core.commands.cli import main
from mnist_core.common.paths import shipped_run_path
from mnist_core.engine.checkpoints import load_checkpoint, save_checkpoint
from mnist_core.engine.design import build_design
from mnist_core.engine.onnx_export import INPUT_NAME, OUTPUT_NAME
from mnist_core.engine.recipes import design_from_step
from mnist_core.lesson.steps import STEPS

pytestmark = pytest.mark.real_data


def onnx_log_probs(path, images: torch.Tensor) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run([OUTPUT_NAME], {INPUT_NAME: images.numpy()})
    return output


@pytest.mark.parametrize("step", [5, 7])  # Step 7's first layer deskews: its sampling grid is built by hand for it
def test_a_shipped_step_exports_and_onnxruntime_agrees(tmp_path, mnist, capsys, step):
    out = tmp_path / f"step{step}.onnx"
    assert main(["export", "--step", str(step), "--out", str(out)]) == 0
    assert "input 'image'" in capsys.readouterr().out
    graph = onnx.load(out).graph
    assert [i.name for i in graph.input] == [INPUT_NAME] and [o.name for o in graph.output] == [OUTPUT_NAME]
    dims = graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [1, 28, 28]  # a named, free batch size
    model, _ = load_checkpoint(shipped_run_path(step) / "model.pt")
    images = mnist.test_images[:100]
    with torch.no_grad():
        expected = model(images).numpy()
    got = onnx_log_probs(out, images)
    assert got.shape == (100, 10) and np.abs(got - expected).max() < 1e-4
    assert onnx_log_probs(out, images[:7]).shape == (7, 10)


def test_a_design_run_exports_from_its_checkpoint(tmp_path, mnist):
    design = design_from_step(5)
    config = STEPS[5].recipe.with_(design=design.to_json(), dropout=0.1)
    model = build_design(design, dropout=0.1)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so eval mode matters
        model.train()(mnist.train_images[:256])
    save_checkpoint(tmp_path / "model.pt", model, config)
    out = tmp_path / "design.onnx"
    assert main(["export", "--checkpoint", str(tmp_path / "model.pt"), "--out", str(out)]) == 0
    images = mnist.test_images[100:200]
    with torch.no_grad():
        expected = model.eval()(images).numpy()
    assert np.abs(onnx_log_probs(out, images) - expected).max() < 1e-4


def test_export_errors_are_one_line(tmp_path, capsys):
    assert main(["export", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "x.onnx")]) == 1
    assert "no checkpoint at" in capsys.readouterr().err
    assert main(["export", "--step", "9", "--out", str(tmp_path / "x.onnx")]) == 1
    assert not (tmp_path / "x.onnx").exists()
