"""AppTest of pages/receptive_field.py, reached through the router: the step table, edits in the
design editor (invalid, added, deleted, blank rows), and one unit's field drawn on a digit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/receptive_field.py"
EDITOR = "rf_editor_4_0"  # the design starts from Step 4; the key changes on a reset
# The Step 4 design's rows: 0 conv, 1 bn, 2 conv, 3 bn, 4 maxpool, 5 conv 1x1, 6 conv, 7 bn, 8 conv,
# 9 bn, 10 conv, 11 bn, 12 conv, 13 bn, 14 avgpool 4, 15 conv 1x1.


@pytest.fixture()
def at(runs_dir):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.switch_page(PAGE).run()  # straight to this page: no need to render Home first
    assert not app.exception
    return app


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def edit(at, **state):
    at.session_state[EDITOR] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **state}
    at.run()
    assert not at.exception
    return at


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_step4_table_reaches_28(at):
    assert any("whole 28x28 digit" in t for t in texts(at.success))
    table = at.dataframe[0].value
    assert table["RF out"].tolist()[-1] == 28 and table["n out"].tolist()[-1] == 1
    assert metric(at, "Parameters") == "9,436" and metric(at, "Final receptive field") == "28x28"
    assert not at.error
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert figure["layout"]["shapes"][0]["type"] == "rect"
    assert any("exactly" in t for t in texts(at.success))


def test_an_edit_that_makes_a_layer_invalid_is_flagged_on_its_row(at):
    edit(at, edited_rows={"2": {"kernel": 0}})
    assert "Row 2 (conv): kernel must be at least 1 (got 0)" in texts(at.error)
    checks = at.dataframe[2].value["check"].tolist()
    assert checks[:2] == ["✓", "✓"] and checks[2].startswith("✗ kernel must be at least 1")
    assert checks[3].startswith("✗ not computed")
    assert metric(at, "Final receptive field") == "—"
    assert any("invalid row" in t for t in texts(at.info)) or at.radio(key="rf_digit_source").value == "step"


def test_adding_a_layer_changes_params_and_deleting_one_shrinks_the_field(at):
    edit(at, added_rows=[{"type": "conv", "out_channels": 10, "kernel": 1}])
    assert metric(at, "Parameters") == "9,536"  # a 1x1 conv from 10 to 10 channels
    edit(at, deleted_rows=[12, 13])  # drop the last 3x3 conv: the 4x4 average pool now sees 6x6
    assert metric(at, "Final receptive field") == "24x24"
    assert any(t.startswith("FAIL · ") and "only 24x24" in t for t in texts(at.error))


def test_a_design_too_big_for_the_budget_fails_it(at):
    edit(at, edited_rows={"0": {"out_channels": 64}})
    assert any(t.startswith("FAIL · ") and "over the budget" in t for t in texts(at.error))


ODD_EDITS = [
    {"added_rows": [{}]},
    {"added_rows": [{"type": None, "kernel": None}]},
    {"edited_rows": {"0": {"kernel": None, "type": None}}},
    {"edited_rows": {"6": {"stride": None, "padding": None, "dilation": None}}},
    {"deleted_rows": list(range(16))},
    {"edited_rows": {"0": {"type": "avgpool", "dilation": 3}, "4": {"padding": 5}}},
    {"edited_rows": {"1": {"type": "dropout"}}, "added_rows": [{"type": "gap"}]},
]


def test_odd_edits_never_crash(at):
    for state in ODD_EDITS:
        edit(at, **state)
        assert metric(at, "Parameters")


def test_field_on_a_digit_for_a_chosen_layer_and_unit(at):
    at.selectbox(key="rf_digit_layer").set_value(9).run()  # block3's conv: RF 10
    at.number_input(key="rf_digit_y").set_value(0).run()
    at.number_input(key="rf_digit_x").set_value(9).run()
    assert not at.exception
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    shape = figure["layout"]["shapes"][0]
    assert (shape["x0"], shape["y0"], shape["x1"], shape["y1"]) == (17.5, -0.5, 27.5, 9.5)
    title = figure["layout"]["title"]["text"]
    assert "Layer 9 · block3.0 (Conv2d)" in title and "RF 10" in title


def test_padded_design_explains_the_clipped_field(at):
    edit(at, edited_rows={"0": {"padding": 1}})
    at.radio(key="rf_digit_source").set_value("design").run()
    at.selectbox(key="rf_digit_layer").set_value(0).run()
    at.number_input(key="rf_digit_y").set_value(0).run()
    at.number_input(key="rf_digit_x").set_value(0).run()
    assert not at.exception
    assert any("zero padding" in t for t in texts(at.success))
