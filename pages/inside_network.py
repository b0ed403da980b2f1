"""Inside the network: what every layer makes of one digit, how the answer is read out, where the model
looks and where the digit sits among thousands of others. All computation lives in
``mnist_core.explain``; the sections are drawn by ``ui.inside_*``."""

import streamlit as st

from mnist_core.engine.checkpoints import CheckpointError
from mnist_core.explain.activations import UnfollowableModel
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
except UnfollowableModel as exc:  # a trial network with a layer of its own, trained from the command line
    st.error(f"This page cannot follow this model layer by layer: {exc}. Its answers can still be read on "
             "*Draw a digit* and its curves on *Compare runs*.")
    st.stop()
inside_views.header(choice, digit, result)
SECTIONS = {  # one section at a time: each draws many figures, and only the one looked at is built
    "Feature maps": lambda: inside_views.feature_maps(maps),
    "Pick a unit": lambda: inside_views.unit_picker(choice, digit, maps),
    "Filters": lambda: inside_views.filter_section(choice),
    "Read-out": lambda: inside_views.readout_section(digit, result),
    "Where it looks": lambda: inside_views.attribution_section(choice, digit, result),
    "Where the classes separate": lambda: inside_projection.projection_section(choice, digit),
}
if st.session_state.get("inside_section") not in SECTIONS:
    st.session_state["inside_section"] = next(iter(SECTIONS))
section = st.segmented_control("Section", list(SECTIONS), key="inside_section", required=True,
                               label_visibility="collapsed")
SECTIONS[section]()
