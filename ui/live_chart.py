"""The live panel's epoch curves, built once per finished epoch and shared by every viewer.

Building a Plotly figure takes a tenth of a second or more, and Streamlit turns a figure
into a dict (a deep copy) every time it is drawn. The live panel redraws every couple of
seconds for every browser watching, so the figure of a run is built only when its history
gains an epoch, cached for all sessions, and frozen: its dict is computed once as well.
"""

from __future__ import annotations

import threading

import plotly.graph_objects as go

from .charts import curves_figure

_LOCK = threading.Lock()
_FIGURES: dict[tuple[str, int], go.Figure] = {}  # (run id, epochs) -> its figure
_KEEP = 64  # figures kept: a class's live runs, a few times over


class FrozenFigure(go.Figure):
    """A figure nobody changes after building it, so its dict form is made once and reused."""

    def to_dict(self):
        cached = getattr(self, "_frozen_dict", None)
        if cached is None:
            cached = super().to_dict()
            object.__setattr__(self, "_frozen_dict", cached)
        return cached


def epoch_curves(run_id: str, history: list[dict], height: int = 340) -> go.Figure:
    """The curves of ``history`` (a run's finished epochs), built once per epoch count."""
    key = (run_id, len(history))
    with _LOCK:
        figure = _FIGURES.get(key)
    if figure is None:
        figure = FrozenFigure(curves_figure({"this run": history}, height=height))
        with _LOCK:
            _FIGURES[key] = figure
            while len(_FIGURES) > _KEEP:
                _FIGURES.pop(next(iter(_FIGURES)))
    return figure
