"""Figures for *Inside the network*. Pure builders: arrays in, plotly figures or Vega-Lite specs out.

Feature maps are drawn as one mosaic per layer (all channels side by side, one colour
scale for the layer), which stays light in the browser and fits 24 channels in two rows.
Diverging maps (filters, weights, attributions) are centred on zero with red for positive
and blue for negative, so the same colour means the same sign everywhere on the page.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from mnist_core.explain.activations import mosaic

DIVERGING = "RdBu_r"  # red positive, blue negative, white zero
SEQUENTIAL = "Viridis"
FIELD_COLOUR = "#00e5ff"
LABEL_PX_PROJECTOR = 20  # a feature map's channel numbers in presentation mode (charts.for_projector: 14 × 1.4)
DIGIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")


def _symmetric(values: np.ndarray) -> float:
    peak = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    return peak if peak > 0 else 1.0


def mosaic_columns(channels: int) -> int:
    """Two rows for up to 24 channels (12 across at most), more rows beyond that."""
    return min(12, max(1, math.ceil(channels / 2)))


def feature_map_figure(values: np.ndarray, title: str, colour_label: str = "activation",
                       diverging: bool = False, height_per_row: int = 84) -> go.Figure:
    """Every channel of one layer as a small heat map, one colour scale for the whole layer."""
    c, h, w = values.shape
    columns = mosaic_columns(c)
    rows = math.ceil(c / columns)
    # A gutter between rows holds the next row's channel numbers, which would otherwise be drawn over the
    # bottom of the tiles above: tall enough for them at the projector's type size (presentation mode makes
    # the numbers 1.4 times larger and the figure 1.25 times taller). Pixels per map row: height_per_row / (h + gap).
    label_px = LABEL_PX_PROJECTOR / 1.25 + 4
    row_gap = max(1, math.ceil(label_px * h / max(height_per_row - label_px, 1)))
    image, where = mosaic(values, columns, row_gap)
    scale = dict(zmid=0, colorscale=DIVERGING) if diverging else dict(
        zmin=float(values.min()), zmax=float(values.max()) if values.max() > values.min() else float(values.min()) + 1,
        colorscale=SEQUENTIAL)
    fig = go.Figure(go.Heatmap(
        z=image, customdata=where, **scale, xgap=0, ygap=0,
        colorbar=dict(title=colour_label, thickness=10, len=1.0),
        hovertemplate="channel %{customdata[0]}, row %{customdata[1]}, col %{customdata[2]}<br>"
                      "%{z:.3f}<extra></extra>"))
    for channel in range(c):  # channel numbers above each tile
        fig.add_annotation(x=(channel % columns) * (w + 1) + (w - 1) / 2, y=(channel // columns) * (h + row_gap) - 0.5,
                           text=str(channel), showarrow=False, yanchor="bottom", font=dict(size=14, color="#555"))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=40 + rows * height_per_row + 30,
                      margin=dict(l=0, r=0, t=40, b=0))
    return fig


def vector_figure(values: np.ndarray, title: str, height: int = 180) -> go.Figure:
    """A (C,) vector (the pooled layer) as one row of cells."""
    # The colour bar is as short as the row: its title beside it and three ticks keep its numbers apart.
    fig = go.Figure(go.Heatmap(z=values[None, :], x=list(range(len(values))), colorscale=SEQUENTIAL,
                               colorbar=dict(title=dict(text="value", side="right"), thickness=10, nticks=3),
                               hovertemplate="channel %{x}: %{z:.3f}<extra></extra>"))
    fig.update_xaxes(title="channel", dtick=1)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height, margin=dict(l=0, r=0, t=40, b=30))
    return fig


def input_figure(pixels: np.ndarray, title: str = "", box: tuple[int, int, int, int] | None = None,
                 overlay: np.ndarray | None = None, overlay_label: str = "", height: int = 330) -> go.Figure:
    """The 28x28 input in grey; optionally a diverging overlay (a gradient) and a field box."""
    n = pixels.shape[0]
    fig = go.Figure(go.Heatmap(z=pixels, colorscale="gray", zmin=0, zmax=1, showscale=False,
                               hovertemplate="row %{y}, col %{x}: ink %{z:.2f}<extra></extra>"))
    if overlay is not None:
        shown = np.where(overlay != 0, overlay, np.nan)  # NaN is see-through: the digit shows where it is zero
        fig.add_trace(go.Heatmap(z=shown, colorscale=DIVERGING, zmid=0, opacity=0.75,
                                 colorbar=dict(title=overlay_label, thickness=10),
                                 hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>"))
    lo, hi = -0.5, n - 0.5
    if box is not None:
        top, left, bottom, right = box
        fig.add_shape(type="rect", x0=left - 0.5, y0=top - 0.5, x1=right + 0.5, y1=bottom + 0.5,
                      line=dict(color=FIELD_COLOUR, width=3, dash="dash"))
        lo, hi = min(lo, top - 1.5, left - 1.5), max(hi, bottom + 1.5, right + 1.5)
    fig.update_xaxes(range=[lo, hi], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[hi, lo], showgrid=False, zeroline=False, scaleanchor="x")
    top = 40 + 24 * title.count("<br>")  # room for every line of the title
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height, margin=dict(l=0, r=0, t=top, b=0))
    return fig


def kernels_figure(kernels: np.ndarray, title: str) -> go.Figure:
    """(C, k, k) kernels side by side on one diverging scale (red adds the pixel, blue subtracts it)."""
    return feature_map_figure(kernels, title, colour_label="weight", diverging=True, height_per_row=70)


def matrix_figure(matrix: np.ndarray, title: str, y_title: str, x_title: str, height: int | None = None,
                  y_labels: list[str] | None = None) -> go.Figure:
    """A (rows, columns) weight matrix as a diverging heat map."""
    rows, columns = matrix.shape
    y = y_labels or list(range(rows))
    fig = go.Figure(go.Heatmap(z=matrix, x=list(range(columns)), y=y, colorscale=DIVERGING, zmid=0,
                               colorbar=dict(title="weight", thickness=10),
                               hovertemplate=f"{y_title} %{{y}}, {x_title} %{{x}}: %{{z:.3f}}<extra></extra>"))
    fig.update_xaxes(title=x_title, dtick=1)
    fig.update_yaxes(title=y_title, dtick=1, autorange="reversed")
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height or 60 + 22 * rows + 60,
                      margin=dict(l=0, r=0, t=40, b=40))
    return fig


def readout_figure(pooled: np.ndarray, weights: np.ndarray, logits: np.ndarray, probabilities: np.ndarray,
                   predicted: int, true: int | None) -> go.Figure:
    """Pooled vector -> 10 x C weights -> logits -> softmax, left to right, digits on one shared row axis."""
    c = len(pooled)
    fig = make_subplots(rows=2, cols=3, column_widths=[0.62, 0.19, 0.19], row_heights=[0.16, 0.84],
                        specs=[[{}, None, None], [{}, {}, {}]], horizontal_spacing=0.07, vertical_spacing=0.16,
                        subplot_titles=(f"pooled vector: {c} numbers", "classifier weights (10 × C)",
                                        "logit = Σ weight × pooled", "softmax probability"))
    fig.add_trace(go.Heatmap(z=pooled[None, :], x=list(range(c)), y=["pooled"], colorscale=SEQUENTIAL,
                             showscale=False, hovertemplate="channel %{x}: %{z:.3f}<extra>pooled</extra>"), 1, 1)
    digits = [str(d) for d in range(10)]
    peak = _symmetric(weights)
    fig.add_trace(go.Heatmap(z=weights, x=list(range(c)), y=digits, colorscale=DIVERGING, zmin=-peak, zmax=peak,
                             # Below the matrix's "channel" title, its own title beside it (not above, where
                             # the axis title is): clear of it at the page's type size and at the projector's.
                             colorbar=dict(title=dict(text="weight", side="right"), thickness=10, orientation="h",
                                           x=0.28, xanchor="center", y=-0.2, yanchor="top", len=0.4),
                             hovertemplate="digit %{y} ← channel %{x}: weight %{z:.3f}<extra></extra>"), 2, 1)
    colours = ["#d62728" if d == predicted else ("#2ca02c" if d == true else "#9aa5b1") for d in range(10)]
    fig.add_trace(go.Bar(x=logits, y=digits, orientation="h", marker_color=colours,
                         hovertemplate="digit %{y}: logit %{x:.2f}<extra></extra>"), 2, 2)
    fig.add_trace(go.Bar(x=probabilities, y=digits, orientation="h", marker_color=colours,
                         text=[f"{p:.1%}" for p in probabilities], textposition="auto",
                         hovertemplate="digit %{y}: %{x:.2%}<extra></extra>"), 2, 3)
    for col in (1, 2, 3):
        fig.update_yaxes(autorange="reversed", dtick=1, row=2, col=col)
    fig.update_xaxes(dtick=1, row=1, col=1)
    fig.update_xaxes(dtick=1, title="channel", row=2, col=1)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", row=2, col=3)
    fig.update_layout(height=540, showlegend=False, margin=dict(l=0, r=0, t=40, b=140))
    return fig


def contributions_figure(contributions: dict[str, np.ndarray]) -> go.Figure:
    """Each channel's vote (weight x pooled value) for one or two digits, as grouped bars."""
    fig = go.Figure()
    for (label, values), colour in zip(contributions.items(), ("#d62728", "#2ca02c"), strict=False):
        fig.add_trace(go.Bar(x=list(range(len(values))), y=values, name=label, marker_color=colour,
                             hovertemplate="channel %{x}: %{y:+.2f}<extra>" + label + "</extra>"))
    fig.add_hline(y=0, line_color="#444", line_width=1)
    fig.update_xaxes(title="channel", dtick=1)
    fig.update_yaxes(title="weight × pooled value")
    fig.update_layout(barmode="group", height=300, margin=dict(l=0, r=0, t=10, b=40),
                      legend=dict(orientation="h", y=1.1))
    return fig


def attribution_figure(maps: dict[str, tuple[np.ndarray, str]], pixels: np.ndarray,
                       outlines: dict[str, np.ndarray] | None = None) -> go.Figure:
    """Side-by-side maps on one diverging legend (red: for the class, blue: against, white: no effect), each
    with its own colour bar in its own raw units, zero always white; the digit's outline drawn on top
    (``outlines`` gives a map another digit to lie on: the straightened one, for a map made after a deskew)."""
    count = len(maps)
    fig = make_subplots(rows=1, cols=count, subplot_titles=list(maps), horizontal_spacing=0.09)
    for i, (title, (values, unit)) in enumerate(maps.items(), start=1):
        outline = np.where((outlines or {}).get(title, pixels) > 0.5, 1.0, np.nan)
        peak = _symmetric(values)
        axis = "coloraxis" if i == 1 else f"coloraxis{i}"
        fig.add_trace(go.Heatmap(z=values, coloraxis=axis,
                                 hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra>" + unit + "</extra>"), 1, i)
        fig.add_trace(go.Heatmap(z=outline, colorscale=[[0, "rgba(0,0,0,0.18)"], [1, "rgba(0,0,0,0.18)"]],
                                 showscale=False, hoverinfo="skip"), 1, i)
        domain = fig.layout[f"xaxis{'' if i == 1 else i}"].domain
        # Under its own panel, lying flat: standing beside it, each bar ran over the next panel's numbers.
        fig.update_layout({axis: dict(colorscale=DIVERGING, cmin=-peak, cmax=peak, colorbar=dict(
            title=dict(text=unit, side="bottom"), thickness=12, orientation="h", nticks=4,
            x=(domain[0] + domain[1]) / 2, xanchor="center", len=(domain[1] - domain[0]) * 0.95, lenmode="fraction",
            y=-0.16, yanchor="top"))})
        fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain", row=1, col=i)
        fig.update_yaxes(showgrid=False, zeroline=False, autorange="reversed", scaleanchor=f"x{'' if i == 1 else i}",
                         row=1, col=i)
    fig.update_layout(height=460, margin=dict(l=0, r=10, t=50, b=130))
    return fig


def spread_figure(edges: list[np.ndarray], histograms: dict[str, list[np.ndarray]], names: list[str]) -> go.Figure:
    """One panel per block (its own bin ``edges``, shared by the models): the share of its output values per
    bin, one line per model."""
    columns = 3
    rows = math.ceil(len(names) / columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=names, horizontal_spacing=0.05,
                        vertical_spacing=0.14)
    for (label, hists), colour in zip(histograms.items(), ("#d62728", "#1f77b4"), strict=False):
        for i, hist in enumerate(hists):
            centres = (edges[i][:-1] + edges[i][1:]) / 2
            fig.add_trace(go.Scatter(x=centres, y=hist, mode="lines", line=dict(color=colour, shape="hvh"),
                                     name=label, legendgroup=label, showlegend=i == 0,
                                     hovertemplate="%{x:.2f}: %{y:.1%}<extra>" + label + "</extra>"),
                          i // columns + 1, i % columns + 1)
    # Powers of ten written out as shares: a percentage format with two decimals called 1e-05 "0%".
    shares = [v for hists in histograms.values() for hist in hists for v in np.asarray(hist).ravel() if v > 0]
    powers = [10.0 ** k for k in range(math.floor(math.log10(min(shares))), 1)] if shares else []
    fig.update_yaxes(type="log", tickmode="array", tickvals=powers, ticktext=[share_words(p) for p in powers])
    # The legend says which colour is which model, in the top margin (at the container's top edge it was cut off).
    fig.update_layout(height=200 * rows + 110, margin=dict(l=0, r=0, t=90, b=20),
                      legend=dict(orientation="h", y=1.0, yanchor="top", yref="container", x=0, title_text=""))
    return fig


def share_words(share: float) -> str:
    """A share on a log axis as a percentage with as many decimals as it needs: 1e-05 is '0.001%'."""
    return f"{share * 100:.10f}".rstrip("0").rstrip(".") + "%"


def digit_data_url(pixels: np.ndarray, scale: int = 2) -> str:
    """A uint8 (28, 28) digit as a small PNG data URL, for a tooltip."""
    image = Image.fromarray(np.asarray(pixels, dtype=np.uint8)).resize((28 * scale, 28 * scale), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def projection_spec(title: str, x_title: str, y_title: str, height: int = 430, font_px: int = 14) -> dict:
    """A Vega-Lite scatter of the columns x, y, digit, mistake, image (a data URL), label and current:
    coloured by true digit, mistakes as crosses, the current digit as a big ring; the tooltip shows the image
    (Vega's tooltip draws a field named ``image`` as a picture)."""
    colour = dict(field="digit", type="nominal", title="true digit",
                  scale=dict(domain=[str(d) for d in range(10)], range=list(DIGIT_COLOURS)))
    return {
        "title": title, "height": height, "width": "container",
        # Vega's own sizes are 10-13 px; no text under ``font_px`` (tests/test_figure_fonts.py).
        "config": {"axis": {"labelFontSize": font_px, "titleFontSize": font_px},
                   "legend": {"labelFontSize": font_px, "titleFontSize": font_px},
                   "title": {"fontSize": round(font_px * 1.15)}},
        "layer": [
            {"mark": {"type": "point", "filled": True, "size": 22, "opacity": 0.7},
             "encoding": {
                 "x": {"field": "x", "type": "quantitative", "title": x_title, "axis": {"labels": False}},
                 "y": {"field": "y", "type": "quantitative", "title": y_title, "axis": {"labels": False}},
                 "color": colour,
                 "shape": {"field": "mistake", "type": "nominal", "title": "",
                           "scale": {"domain": ["right", "mistake"], "range": ["circle", "cross"]}},
                 "size": {"condition": {"test": "datum.mistake == 'mistake'", "value": 90}, "value": 22},
                 "tooltip": [{"field": "image"}, {"field": "label", "title": "digit"}],
             }},
            {"transform": [{"filter": "datum.current"}],
             "mark": {"type": "point", "size": 420, "strokeWidth": 3, "color": "black", "filled": False},
             "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"},
                          "tooltip": [{"field": "image"}, {"field": "label", "title": "digit"}]}},
        ],
    }
