"""A download button that turns any run with a checkpoint into an ONNX file (``engine/onnx_export.py``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from mnist_core.engine.checkpoints import CheckpointError, load_checkpoint
from mnist_core.engine.data import MNIST_MEAN, MNIST_STD
from mnist_core.engine.onnx_export import INPUT_NAME, OUTPUT_NAME, onnx_bytes
from mnist_core.runs.store import Run


@st.cache_data(show_spinner="Exporting to ONNX…", max_entries=8)
def _onnx_of(checkpoint: str, mtime_ns: int) -> bytes:
    """The ONNX file of a checkpoint; the mtime is part of the key, so a retrained run is exported again."""
    return onnx_bytes(load_checkpoint(checkpoint)[0])


def onnx_download(runs: dict[str, Run], key: str) -> None:
    """Pick a run (label -> run) and download its network as ONNX."""
    with_weights = {label: run for label, run in runs.items() if run.checkpoint.is_file()}
    if not with_weights:
        return
    with st.expander("Export a network to ONNX"):
        st.caption(f"Runs outside PyTorch (onnxruntime, a browser, a phone). Input `{INPUT_NAME}`: N x 1 x 28 x 28, "
                   f"normalised as in training (mean {MNIST_MEAN}, std {MNIST_STD}), any batch size N; output "
                   f"`{OUTPUT_NAME}`: N x 10. The command line does the same: "
                   "`python -m mnist_core export --checkpoint PATH --out model.onnx`.")
        label = st.selectbox("Run", list(with_weights), key=f"{key}_onnx_pick")
        run = with_weights[label]
        try:
            data = _onnx_of(str(run.checkpoint), run.checkpoint.stat().st_mtime_ns)
        except (CheckpointError, OSError) as exc:
            st.error(f"This run cannot be exported: {exc}")
            return
        name = f"{Path(run.path).name}.onnx"
        st.download_button(f"Download {name} ({len(data) / 1024:,.0f} KB)", data, file_name=name,
                           mime="application/octet-stream", key=f"{key}_onnx_download", icon=":material/download:")
