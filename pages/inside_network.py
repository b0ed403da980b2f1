"""Inside the network: what every layer makes of one digit, how the answer is read out, where the model
looks and where the digit sits among thousands of others. All computation lives in
``mnist_core.explain``; the sections are drawn by ``ui.inside_*``."""

import streamlit as st

from mnist_core.engine.checkpoints import CheckpointError
from ui import inside_projection, inside_sources, inside_views
from ui.routing import through_the_router

through_the_router(__file__)

st.title("Inside the network")
st.caption("Pick a model and a digit (a test digit, one of the model's mistakes, your drawing or an upload) and "
           "follow it through the network, layer by layer.")

left, right = st.columns(2, gap="large")
with left:
    choice = inside_sources.choose_model()
with right:
    digit = inside_sources.choose_input(choice) if choice is not None else None
if choice is not None:
    inside_sources.write_query_params(choice, digit)
if choice is None or digit is None:
    st.stop()

try:
    maps, result = inside_views.explain(choice, digit)
except CheckpointError as exc:  # a user's run whose checkpoint is damaged or not ours
    st.error(f"This model cannot be loaded: {exc}")
    st.stop()
inside_views.header(choice, digit, result)
tabs = st.tabs(["Feature maps", "Pick a unit", "Filters", "Read-out", "Where it looks", "Where the classes separate"])
with tabs[0]:
    inside_views.feature_maps(maps)
with tabs[1]:
    inside_views.unit_picker(choice, digit, maps)
with tabs[2]:
    inside_views.filter_section(choice)
with tabs[3]:
    inside_views.readout_section(digit, result)
with tabs[4]:
    inside_views.attribution_section(choice, digit, result)
with tabs[5]:
    inside_projection.projection_section(choice, digit)
