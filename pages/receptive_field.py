"""Receptive field: how much of the digit each layer sees, computed layer by layer and checked
against the network itself. Three parts: a step's table, an editable design of your own with the
parameter budget (which trains like any step: ``ui/designer.py``), and one output unit's field drawn
on a real test digit. All arithmetic lives in ``mnist_core.engine.fields`` (the table),
``mnist_core.explain.rf`` (the measured field) and ``mnist_core.engine.design``; this page only
collects widgets and draws what comes back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from mnist_core.engine.design import model_from_specs
from mnist_core.engine.fields import RFRow, model_table, rf_table
from mnist_core.engine.specs import LayerSpec
from mnist_core.explain import rf
from mnist_core.explain.digits import sample_digits
from mnist_core.lesson.steps import STEPS
from ui import designer
from ui.presentation import plot
from ui.routing import through_the_router

through_the_router(__file__)

TABLE_HEADERS = {
    "index": "#", "name": "layer", "in_size": "n in", "kernel": "kernel", "stride": "stride", "padding": "padding",
    "dilation": "dilation", "out_size": "n out", "jump_in": "jump in", "jump_out": "jump out", "rf_in": "RF in",
    "rf_out": "RF out", "start_in": "start in", "start_out": "start out", "out_channels": "channels",
    "params": "params",
}


step_label = designer.step_label


def table_frame(rows: list[RFRow], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame([{label: getattr(row, attr) for attr, label in columns.items()} for row in rows])
    # Nullable ints, so a row without numbers shows empty cells instead of turning the column to floats.
    for label in columns.values():
        if label not in ("layer", "type", "problem", "start in", "start out"):
            frame[label] = frame[label].astype("Int64")
    return frame


@st.cache_data
def load_digits():
    return sample_digits()


def field_figure(digit: np.ndarray, heat: np.ndarray, box: tuple[int, int, int, int], centre: tuple[float, float],
                 title: str) -> go.Figure:
    """The digit in grey, the measured field as a heat map over it, the analytic field as a box."""
    n = digit.shape[0]
    top, left, bottom, right = box
    shown = np.where(heat > 0, heat / heat.max(), np.nan)  # NaN is transparent: the digit shows outside the field
    fig = go.Figure()
    fig.add_trace(go.Heatmap(z=digit, colorscale="gray", showscale=False, hoverinfo="skip"))
    fig.add_trace(go.Heatmap(z=shown, colorscale="Plasma", opacity=0.45, zmin=0, zmax=1,
                             colorbar=dict(title="gradient<br>(relative)", thickness=12),
                             hovertemplate="row %{y}, col %{x}<br>gradient %{z:.3f}<extra>measured field</extra>"))
    fig.add_shape(type="rect", x0=left - 0.5, y0=top - 0.5, x1=right + 0.5, y1=bottom + 0.5,
                  line=dict(color="#00e5ff", width=3, dash="dash"))
    fig.add_trace(go.Scatter(x=[centre[1]], y=[centre[0]], mode="markers", name="field centre",
                             marker=dict(symbol="x", size=12, color="#00e5ff"), showlegend=False))
    lo, hi = min(-0.5, top - 1.5, left - 1.5), max(n - 0.5, bottom + 1.5, right + 1.5)
    fig.update_xaxes(range=[lo, hi], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[hi, lo], showgrid=False, zeroline=False, scaleanchor="x")
    fig.update_layout(title=title, height=520, margin=dict(l=10, r=10, t=50, b=10))
    return fig


st.title("Receptive field")
st.markdown(
    "A unit's **receptive field** (RF) is the patch of the input image it can see. Each 3x3 convolution "
    "widens it by 2 times the **jump** (how many input pixels apart neighbouring units are), and every "
    "stride or pool multiplies the jump. The lesson's network is laid out so that the last layer's RF is "
    "exactly 28: it sees the whole digit."
)

# --- 1. a step's network --------------------------------------------------------------------------------
st.header("1 · A step's network, layer by layer")
LESSON_FINAL_STEP = 4  # the lesson's own final network opens the page
step_number = st.selectbox("Network", list(STEPS), index=list(STEPS).index(LESSON_FINAL_STEP),
                           format_func=step_label, key="rf_step")
step_model = STEPS[step_number].build_model()  # built per run: cheap, and never shared between sessions
step_table = model_table(step_model)
show_pointwise = st.toggle("Show layers that change no geometry (activations, BatchNorm, dropout)",
                           key="rf_show_pointwise")
st.dataframe(table_frame(rf.shown_rows(step_table, show_pointwise), TABLE_HEADERS), hide_index=True)
st.caption("Sizes, jumps and RFs are in input pixels. *start* is the input pixel (0-27) on which the first "
           "unit's field is centred. Recurrences: n out = ⌊(n in + 2p − k_eff)/s⌋ + 1 with k_eff = d(k−1)+1; "
           "jump out = jump in · s; RF out = RF in + (k_eff − 1) · jump in.")
(st.success if step_table.covers_input else st.warning)(step_table.summary())
for note in step_table.notes:
    st.info(note)

# --- 2. design your own ---------------------------------------------------------------------------------
st.header("2 · Design your own")
design_specs, design = designer.render(LESSON_FINAL_STEP)

# --- 3. see it on a digit -------------------------------------------------------------------------------
st.header("3 · See one unit's field on a digit")
source = st.radio("Network", ["step", "design"], horizontal=True, key="rf_digit_source",
                  format_func=lambda s: step_label(step_number) if s == "step" else "Your design")
if source == "design" and not design.ok:
    st.info("Your design has an invalid row, so this shows the step's network instead.")
    source = "step"
if source == "design":
    # Channels do not change where a unit looks, so one channel per layer measures the same field cheaply.
    field_specs = [LayerSpec(s.kind, 1 if s.kind == "conv" else None, s.kernel, s.stride, s.padding, s.dilation)
                   for s in design_specs]
    field_model, field_table = model_from_specs(field_specs), rf_table(field_specs)
else:
    field_model, field_table = step_model, step_table

choices = [row.index for row in rf.shown_rows(field_table, pointwise=False) if row.ok]
if not choices:
    st.info("No layer to show yet.")
    st.stop()
names = {row.index: row.name for row in field_table.rows}
if st.session_state.get("rf_digit_layer") not in choices:
    st.session_state["rf_digit_layer"] = choices[len(choices) // 2]  # mid-network: a field smaller than the digit
layer_col, y_col, x_col, digit_col = st.columns([3, 1, 1, 2])
layer = layer_col.selectbox("Layer", choices, key="rf_digit_layer",
                            format_func=lambda i: f"{i} · {names[i]} (RF {field_table.rows[i].rf_out})")
row = field_table.rows[layer]
n_out = row.out_size
for axis in ("rf_digit_y", "rf_digit_x"):  # start in the middle; stay inside this layer's output grid
    current = st.session_state.get(axis)
    if current is None or current > n_out - 1:
        st.session_state[axis] = n_out // 2 if current is None else n_out - 1
y = y_col.number_input("Output row", 0, n_out - 1, step=1, key="rf_digit_y")
x = x_col.number_input("Output column", 0, n_out - 1, step=1, key="rf_digit_x")
images, labels, digits_from = load_digits()
digit_index = digit_col.selectbox("Digit", range(len(images)), key="rf_digit_index",
                                  format_func=lambda i: f"test digit #{i} (a {labels[i]})")

heat = rf.measure_field(field_model, layer, int(y), int(x))
comparison = rf.compare_fields(row, heat, int(y), int(x))
centre = (row.start_out + y * row.jump_out, row.start_out + x * row.jump_out)
plot(
    field_figure(images[digit_index], heat, comparison.analytic, centre,
                 f"Layer {layer} · {row.name}, unit ({y}, {x}) of {n_out}x{n_out}: RF {row.rf_out}"),
    key="rf_digit_figure",
)
(st.success if comparison.agree else st.warning)(comparison.explanation)
st.caption(
    f"Dashed box: the analytic field. Colour: the gradient of this unit with respect to each input pixel, in a "
    f"copy of the network with every weight positive (so no path cancels), max-pools replaced by sums over the "
    f"same windows, and ReLU / BatchNorm / dropout passed through. Pixels where it is non-zero are the measured "
    f"field. It is brightest in the middle because more paths lead from the centre to the unit than from the "
    f"edges. Digit from {digits_from}."
)
