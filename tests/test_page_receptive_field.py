"""AppTest of pages/receptive_field.py, reached through the router: the step table, edits in the
design editor (invalid, added, deleted, blank rows), and one unit's field drawn on a digit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/receptive_field.py"
EDITOR = "rf_editor_1"  # the design starts from Step 4; the key changes at each insert, deletion or reset
# The Step 4 design's rows: 0 conv, 1 relu, 2 bn, 3 dropout, 4 conv, 5 relu, 6 bn, 7 maxpool, 8 conv 1x1,
# then four blocks of conv, relu, bn, dropout (9-12, 13-16, 17-20, 21-24), 25 avgpool 4, 26 conv 1x1.
STEP4_ROWS = 27


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


def checks(at) -> list[str]:
    return next(d.value for d in at.dataframe if "check" in d.value.columns)["check"].tolist()


def test_an_edit_that_makes_a_layer_invalid_is_flagged_on_its_row(at):
    edit(at, edited_rows={"4": {"kernel": 0}})
    assert "Row 4 (conv): kernel must be at least 1 (got 0)" in texts(at.error)
    found = checks(at)
    assert found[:4] == ["✓"] * 4 and found[4].startswith("✗ kernel must be at least 1")
    assert found[5] == "… input unknown until row 4 is fixed"
    assert metric(at, "Final receptive field") == "—"
    assert any("invalid row" in t for t in texts(at.info)) or at.radio(key="rf_digit_source").value == "step"


# --- issue 15: the designer said PASS for broken designs, hid problems, and added rows badly ---------------

@pytest.mark.parametrize(("edits", "broken"), [
    ({"0": {"kernel": 0}}, "Row 0 (conv)"),  # once: "Parameters 0, 10,000 left" and PASS
    ({"21": {"kernel": 99}}, "Row 21 (conv)"),  # once: "PASS · 1,812 parameters", a 1.4M-weight layer left out
])
def test_a_design_with_an_invalid_row_never_passes_the_budget(at, edits, broken):
    edit(at, edited_rows=edits)
    assert not any(t.startswith("PASS") for t in texts(at.success))
    assert any(t.startswith("UNKNOWN · ") and f"unknown until {broken} is fixed" in t for t in texts(at.warning))
    assert metric(at, "Parameters").startswith("≥ ")


def test_the_kernel_99_row_still_counts_its_weights(at):
    edit(at, edited_rows={"21": {"kernel": 99}})
    counted = int(metric(at, "Parameters").removeprefix("≥ ").replace(",", ""))
    assert counted == 9_436 - 16 * 16 * 9 + 16 * 16 * 99 * 99  # row 21 is a 16 -> 16 conv


def test_every_invalid_row_reports_its_own_problem(at):
    edit(at, edited_rows={"0": {"kernel": 0}, "4": {"stride": -1}, "9": {"kernel": 99}})
    errors = texts(at.error)
    assert "Row 0 (conv): kernel must be at least 1 (got 0)" in errors
    assert "Row 4 (conv): stride must be at least 1 (got -1)" in errors
    assert any(t.startswith("Row 9 (conv): output would be smaller than 1x1: the kernel spans 99") for t in errors)
    found = checks(at)
    assert [i for i, c in enumerate(found) if c.startswith("✗")] == [0, 4, 9]
    assert any("unknown until Row 0 (conv), Row 4 (conv) and Row 9 (conv) are fixed" in t for t in texts(at.warning))


def test_rows_are_numbered_as_the_messages_number_them(at):
    editor = at.dataframe[1]
    assert list(editor.value.index) == list(range(STEP4_ROWS))
    config = json.loads(editor.proto.columns)
    assert not config.get("_index", {}).get("hidden", False)  # the row numbers are shown
    assert checks(at) == ["✓"] * STEP4_ROWS
    table = next(d.value for d in at.dataframe if "check" in d.value.columns)
    assert table["row"].tolist() == list(range(STEP4_ROWS))


def test_a_row_inserted_after_the_output_layer_is_a_valid_copy(at):
    at.selectbox(key="rf_insert_after").set_value(26)
    at.button(key="rf_insert").click().run()
    assert not at.exception
    assert list(at.dataframe[1].value.index) == list(range(STEP4_ROWS + 1))
    assert at.dataframe[1].value.iloc[27][["type", "out_channels", "kernel"]].tolist() == ["conv", 10, 1]
    assert metric(at, "Parameters") == "9,536"  # a 1x1 conv from 10 to 10 channels
    assert checks(at) == ["✓"] * (STEP4_ROWS + 1)
    assert any(t.startswith("PASS · 9,536 parameters") for t in texts(at.success))


def test_a_row_inserted_mid_design_copies_its_neighbour(at):
    at.selectbox(key="rf_insert_after").set_value(1)  # the first relu
    at.button(key="rf_insert").click().run()
    assert at.dataframe[1].value["type"].tolist()[:4] == ["conv", "relu", "relu", "batchnorm"]
    assert metric(at, "Parameters") == "9,436"
    assert at.selectbox(key="rf_insert_after").value == 2  # the new row: pressing again stacks copies below it
    at.selectbox(key="rf_insert_after").set_value(-1)  # at the top: a copy of row 0, a 1 -> 12 channel conv
    at.button(key="rf_insert").click().run()
    assert at.dataframe[1].value["type"].tolist()[:2] == ["conv", "conv"]
    # The old row 0 now takes 12 channels in; one more 3x3 leaves the 4x4 average pool only 2x2 to pool.
    assert metric(at, "Parameters") == f"≥ {9_436 + 12 * 12 * 9:,}"
    assert any(t.startswith("Row 27 (avgpool): output would be smaller than 1x1") for t in texts(at.error))


def test_deleting_rows_renumbers_them_and_shrinks_the_field(at):
    edit(at, deleted_rows=[21, 22, 23, 24])  # the last 3x3 block: the 4x4 average pool now sees 6x6
    assert list(at.dataframe[1].value.index) == list(range(STEP4_ROWS - 4))
    assert metric(at, "Final receptive field") == "24x24"
    assert any(t.startswith("FAIL · ") and "only 24x24" in t for t in texts(at.error))


def test_a_design_too_big_for_the_budget_fails_it(at):
    edit(at, edited_rows={"0": {"out_channels": 64}})
    assert any(t.startswith("FAIL · ") and "over the budget" in t for t in texts(at.error))


ODD_EDITS = [
    {"edited_rows": {"0": {"kernel": None, "type": None, "out_channels": None}}},
    {"edited_rows": {"9": {"stride": None, "padding": None, "dilation": None}}},
    {"deleted_rows": list(range(STEP4_ROWS))},
    {"edited_rows": {"0": {"type": "avgpool", "dilation": 3}, "7": {"padding": 5}}},
    {"edited_rows": {"1": {"type": "gap"}, "4": {"groups": 5}}},
]


@pytest.mark.parametrize("state", ODD_EDITS)
def test_odd_edits_never_crash(at, state):
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


def linked_design(app) -> str:
    value = app.query_params["design"]
    return value[0] if isinstance(value, list) else value


# --- share and train ------------------------------------------------------------------------------------

def test_a_link_reopens_its_design_and_an_edit_updates_the_link(runs_dir):
    from mnist_core.engine.design import parse_design
    from mnist_core.engine.recipes import design_from_step

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.query_params["design"] = design_from_step(5).to_json()
    app.switch_page(PAGE).run()
    assert not app.exception
    assert metric(app, "Parameters") == "4,918"
    assert app.dataframe[1].value["type"].tolist()[:3] == ["conv", "batchnorm", "silu"]
    # the link's rows replaced Step 4's: the editor's second snapshot
    app.session_state["rf_editor_2"] = {"edited_rows": {"0": {"out_channels": 8}}, "added_rows": [],
                                        "deleted_rows": []}
    app.run()
    linked = parse_design(linked_design(app))
    assert linked.layers[0].out_channels == 8 and linked.params == 4_918 - 2 * 9 - 2 * 2 - 2 * 16 * 9


def test_a_tampered_link_is_refused_with_a_message(runs_dir):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.query_params["design"] = '{"format": "mnist-design/1", "layers": [{"type": "conv", "kernel": "exec(1)"}]}'
    app.switch_page(PAGE).run()
    assert not app.exception
    assert any("cannot be opened" in t and "kernel must be a whole number" in t for t in texts(app.error))
    assert metric(app, "Parameters") == "9,436"  # Step 4's design stays


def test_train_this_design_queues_a_run_of_the_design(at, runs_dir):
    from mnist_core.engine.design import parse_design
    from ui.state import job_manager

    edit(at, edited_rows={"17": {"out_channels": 12}})  # a narrower fifth block
    expected = parse_design(linked_design(at))
    at.selectbox(key="rf_design_recipe").set_value(3)
    at.selectbox(key="rf_design_images").set_value(2_560).run()
    lengths = next(c.value for c in at.caption if "**Class run**" in c.value)
    assert "over seeds" not in lengths and "shipped run" not in lengths  # Step 3's network's, not the design's
    at.button(key="rf_design_train").click().run()
    assert not at.exception
    manager = job_manager()  # the process's one queue (a cached resource), which the page submitted to
    (run,) = manager.store.list()
    try:
        assert run.config.design == expected.to_json() and run.config.step == 3
        assert run.config.rotation_degrees == 7.0 and run.config.train_limit == 2_560  # Step 3's recipe
        assert run.label.startswith("Design · Step 3's recipe")
    finally:
        manager.stop(run.run_id)
        manager.wait(run.run_id, 120)


def test_an_untrainable_design_says_why_instead_of_offering_the_form(at):
    edit(at, deleted_rows=[26])  # no 1x1 conv to the ten digits
    assert any("The design cannot be trained yet" in t and "must end in 10 channels at 1x1" in t
               for t in texts(at.info))
    assert not [b for b in at.button if b.key == "rf_design_train"]


# --- what a design may ask of the server (issue 27) ---------------------------------------------------------

def test_a_design_too_big_for_memory_fails_its_verdict_and_offers_no_start(runs_dir):
    # Issue 27's design: 1,632 parameters, a 256x256 map of 96 channels kept seven times for backward.
    padded = [{"type": "conv", "out_channels": 96, "kernel": 1, "padding": 114}]
    head = [{"type": "gap"}, {"type": "conv", "out_channels": 10, "kernel": 1}]
    pairs = [{"type": kind} for _ in range(3) for kind in ("batchnorm", "relu")]
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.query_params["design"] = json.dumps({"format": "mnist-design/1", "layers": padded + pairs + head})
    app.switch_page(PAGE).run()
    assert not app.exception
    assert metric(app, "Parameters") == "1,632"  # within the parameter budget ...
    assert any(t.startswith("FAIL · training it at batch size 128 needs about 27.0 GB") and "2.0 GB" in t
               for t in texts(app.error))  # ... but not the memory one
    assert any("The design cannot be trained yet" in t and "2.0 GB one run may use" in t for t in texts(app.info))
    assert not [b for b in app.button if b.key == "rf_design_train"]


def test_the_steps_design_passes_the_memory_verdict(at):
    assert any(t.startswith("PASS · training it at batch size 128 needs about") for t in texts(at.success))


def test_a_design_nested_thousands_deep_is_refused_with_a_sentence(runs_dir):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.query_params["design"] = "[" * 3000 + "]" * 3000
    app.switch_page(PAGE).run()
    assert not app.exception
    assert any("cannot be opened" in t and "nested too deeply" in t for t in texts(app.error))


def test_the_check_table_after_an_invalid_row_shows_dashes_not_none(at):
    """Issue 29: the rows after an invalid one printed "None" in their size columns."""
    edit(at, edited_rows={"4": {"kernel": 0}})
    table = next(d.value for d in at.dataframe if "check" in d.value.columns)
    assert "None" not in table.astype(str).to_numpy() and "<NA>" not in table.astype(str).to_numpy()
    assert table["n out"].tolist()[5] == "—" and table["params"].tolist()[0] == "108"


def test_design_runs_read_like_every_other_table_with_who_made_each(at, runs_dir):
    """Issue 29: "8888" and "57.5" where every other table has 8,888 and 57.50."""
    from mnist_core.engine.recipes import design_from_step
    from mnist_core.lesson.steps import STEPS
    from mnist_core.runs.store import RunStore, update_status, write_history

    run = RunStore(runs_dir).create(STEPS[4].recipe.with_(design=design_from_step(5).to_json(), epochs=1),
                                    owner="0123456789abcdef", owner_name="Ada")
    write_history(run.path, [{"epoch": 1, "train_loss": 1.0, "train_acc": 60.0, "test_loss": 1.2, "test_acc": 57.5,
                              "lr": 0.05, "seconds": 30.0}])
    update_status(run.path, state="stopped", params=8_888)
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Same as the design above" in d.value.columns)
    row = table.iloc[0]
    assert (row["Params"], row["Final test %"], row["By"]) == ("8,888", "57.50", "Ada")
