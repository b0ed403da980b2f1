"""Export a trained network to ONNX, so it runs outside PyTorch (onnxruntime, a browser, a phone).

The file has one input, ``image`` (N x 1 x 28 x 28, normalised as in training, any batch
size N), and one output, ``log_probs`` (N x 10). It is written with PyTorch's TorchScript
exporter at opset 17, which needs only the ``onnx`` package and which current onnxruntime
releases read.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
from torch import nn

from mnist_core.common.atomic import atomic_path

INPUT_NAME = "image"
OUTPUT_NAME = "log_probs"
OPSET = 17


def onnx_bytes(model: nn.Module) -> bytes:
    """The ONNX file of ``model`` (put in eval mode: dropout off, BatchNorm's running statistics)."""
    model = model.eval().cpu()
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the exporter warns that it is the older of two; it is the one we want
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 1, 28, 28),), buffer, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}, opset_version=OPSET, dynamo=False,
        )
    return buffer.getvalue()


def export_onnx(model: nn.Module, path: Path | str) -> Path:
    """Write ``model`` as ONNX to ``path`` (atomically); returns the path."""
    path = Path(path)
    data = onnx_bytes(model)
    with atomic_path(path, suffix=".onnx") as tmp:
        tmp.write_bytes(data)
    return path
