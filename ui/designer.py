"""The layer designer of the Receptive field page: an editable layer list kept in the session and the
page's link, numbered rows, insert-after-a-row, a check per row, download and upload as JSON, and
"Train this design" with the step pages' recipe form and live panel.

The rows live in ``st.session_state`` (and the design in the URL's ``design`` query parameter, so a
link reopens it). The editor shows them from a snapshot taken at each structural change (a step
chosen, a row inserted or deleted, a file uploaded, a reset); cell edits are read back from it on
every run. All arithmetic and validation come from ``mnist_core``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_core.engine.design import DesignError, design_from_specs, network_problems, parse_design
from mnist_core.engine.fields import RFTable, rf_table
from mnist_core.engine.memory import LESSON_BATCH_SIZE, TRAINING_MEMORY_BUDGET, describe_bytes, training_bytes
from mnist_core.engine.recipes import design_from_step
from mnist_core.engine.specs import KINDS, POINTWISE_KINDS, LayerSpec, insert_copy, records_from_specs, spec_from_record
from mnist_core.lesson.report import summarize
from mnist_core.lesson.steps import STEPS
from mnist_core.lesson.target import PARAM_BUDGET
from mnist_core.runs.store import ENDED_STATES

from .share import share_link
from .state import run_store, training_device
from .training_panel import live_panel, recipe_form

EDITOR_COLUMNS = ["type", "out_channels", "kernel", "stride", "padding", "dilation", "groups"]
ROWS = "rf_design_records"  # the rows as of the editor's snapshot
VERSION = "rf_design_version"  # bumped at each structural change: a new editor key takes a new snapshot
LOADED_QUERY = "rf_design_loaded_query"  # the link's design already applied, so it is read once
LOADED_FILE = "rf_design_loaded_file"  # the uploaded file already applied
QUERY_KEY = "design"
ROW_HEIGHT = 35  # pixels per data-frame row, so a table shows every row without scrolling
KIND_HELP = ("conv: a convolution (no bias, as in the lesson). maxpool / avgpool: pool over kernel x kernel; gap: "
             "a global average pool. relu / silu: the activation. batchnorm: a scale and shift per channel. "
             "dropout: drops with the recipe's dropout probability while training. identity: does nothing. deskew: "
             "straightens and centres the digit (no weights; first layer only).")


def step_label(number: int) -> str:
    return f"Step {number} · {STEPS[number].title}"


def _records_of(specs) -> list[dict]:
    return records_from_specs(specs, keep_pointwise=POINTWISE_KINDS)


def _set_rows(records: list[dict]) -> None:
    st.session_state[ROWS] = records
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1


def _start_from_step() -> None:
    _set_rows(_records_of(design_from_step(st.session_state["rf_design_start"]).layers))


def _load_from_link() -> None:
    """The design in the URL, once per distinct link; a broken one is reported and the rows stay."""
    text = st.query_params.get(QUERY_KEY)
    if not text or st.session_state.get(LOADED_QUERY) == text:
        return
    st.session_state[LOADED_QUERY] = text
    try:
        _set_rows(_records_of(parse_design(text).layers))
    except DesignError as exc:
        st.error(f"The design in this link cannot be opened: {exc}")


def _editor(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=EDITOR_COLUMNS)
    frame[EDITOR_COLUMNS[1:]] = frame[EDITOR_COLUMNS[1:]].astype("Int64")
    return st.data_editor(
        frame,
        key=f"rf_editor_{st.session_state[VERSION]}",
        num_rows="delete",  # rows are added with "Insert" below, as a copy of a neighbour
        placeholder="",  # an empty cell reads as empty (PyTorch's default), not as the word "None"
        hide_index=False,  # the index is the row number every message uses
        width="stretch",
        height=ROW_HEIGHT * (len(frame) + 1) + 3,
        column_config={
            "_index": st.column_config.NumberColumn("row", width="small"),
            "type": st.column_config.SelectboxColumn("type", options=list(KINDS), required=True, help=KIND_HELP),
            "out_channels": st.column_config.NumberColumn("out channels", step=1,
                                                          help="conv only; other layers keep their input's channels"),
            "kernel": st.column_config.NumberColumn("kernel", step=1),
            "stride": st.column_config.NumberColumn("stride", step=1,
                                                    help="empty: 1 for a conv, the kernel for a pool"),
            "padding": st.column_config.NumberColumn("padding", step=1),
            "dilation": st.column_config.NumberColumn("dilation", step=1),
            "groups": st.column_config.NumberColumn(
                "groups", step=1,
                help="conv only: 1 is an ordinary convolution; as many groups as input channels makes it depthwise "
                     "(one filter per channel, as in Step 5)"),
        },
    )


def _row_controls(records: list[dict]) -> None:
    """Insert a copy of a chosen row below it; the toolbar over the editor deletes rows."""
    where, button, _ = st.columns([3, 1, 3], vertical_alignment="bottom")
    positions = [-1, *range(len(records))]
    if "rf_insert_next" in st.session_state:  # the row just inserted, so pressing again stacks copies below it
        st.session_state["rf_insert_after"] = min(st.session_state.pop("rf_insert_next"), len(records) - 1)
    after = where.selectbox(
        "Insert a row after", positions, index=len(positions) - 1, key="rf_insert_after",
        format_func=lambda i: "the top (a copy of row 0)" if i < 0 else f"row {i} ({records[i].get('type') or '?'})",
        help="The new row starts as a copy of the row above it (of row 0 at the top); then change its cells.")
    if button.button("Insert", key="rf_insert", icon=":material/add:"):
        _set_rows(insert_copy(records, after))
        st.session_state["rf_insert_next"] = after + 1
        st.rerun()


NO_VALUE = "—"  # an empty cell, as every other table of the dashboard shows it


def _whole_number(value) -> str:
    return NO_VALUE if value is None or pd.isna(value) else f"{int(value):,}"


def _check_table(names: list[int], table: RFTable) -> None:
    frame = pd.DataFrame([{
        "row": label, "type": row.kind or "?", "n in": row.in_size, "n out": row.out_size, "jump out": row.jump_out,
        "RF out": row.rf_out, "channels": row.out_channels, "params": row.params, "check": row.check or NO_VALUE,
    } for label, row in zip(names, table.rows, strict=True)],
        columns=["row", "type", "n in", "n out", "jump out", "RF out", "channels", "params", "check"])
    for column in ("n in", "n out", "jump out", "RF out", "channels", "params"):
        # As text: a row after an invalid one has no sizes, and an empty number cell reads "None".
        frame[column] = frame[column].map(_whole_number)
    small = st.column_config.Column(width="small")
    st.dataframe(
        frame.style.apply(lambda r: ["background-color: rgba(255, 75, 75, 0.18)" if r["check"].startswith("✗")
                                     else "" for _ in r], axis=1),
        hide_index=True, width="stretch", height=ROW_HEIGHT * (len(frame) + 1) + 3,
        column_config={**{c: small for c in ("row", "n in", "n out", "jump out", "RF out", "channels")},
                       "check": st.column_config.TextColumn("check", width="large")},
    )


def _verdicts(table: RFTable) -> None:
    budget_col, coverage_col, size_col = st.columns(3)
    passed, budget_text = table.budget_verdict(PARAM_BUDGET)
    total = table.total_params
    if passed is None:
        budget_col.metric("Parameters", f"≥ {total:,}", help="Counted over the rows whose parameters are known; "
                                                            "the rest wait for the invalid rows.")
    else:
        budget_col.metric("Parameters", f"{total:,}", delta=f"{PARAM_BUDGET - total:,} left" if passed
                          else f"{total - PARAM_BUDGET + 1:,} too many", delta_color="normal" if passed else "inverse")
    coverage_col.metric("Final receptive field", f"{table.final_rf}x{table.final_rf}" if table.ok else "—")
    size_col.metric("Final output size", f"{table.last.out_size}x{table.last.out_size}" if table.ok else "—")
    if passed is None:
        st.warning("UNKNOWN · " + budget_text[0].upper() + budget_text[1:])
    else:
        (st.success if passed else st.error)(("PASS · " if passed else "FAIL · ") + budget_text)
    if table.ok:
        (st.success if table.covers_input else st.error)(("PASS · " if table.covers_input else "FAIL · ")
                                                         + table.summary())
        _memory_verdict(table)
    for row in table.problems:
        st.error(f"{row.name}: {row.problem}")


def _memory_verdict(table: RFTable) -> None:
    """Parameters do not bound memory: a padded 1x1 conv has few weights and huge maps to keep for backward."""
    needed = training_bytes(table, LESSON_BATCH_SIZE)
    within = needed <= TRAINING_MEMORY_BUDGET
    (st.success if within else st.error)(
        ("PASS · " if within else "FAIL · ")
        + f"training it at batch size {LESSON_BATCH_SIZE} needs about {describe_bytes(needed)} of memory: "
        + ("within" if within else "over") + f" the {describe_bytes(TRAINING_MEMORY_BUDGET)} one run may use.")


def _share(design_json: str | None) -> None:
    """Keep the link current, and offer the design as a file; read an uploaded one."""
    if design_json is not None and st.query_params.get(QUERY_KEY) != design_json:
        st.query_params[QUERY_KEY] = design_json
        st.session_state[LOADED_QUERY] = design_json  # our own link: nothing to load from it
    down, up = st.columns(2)
    with down:
        if design_json is None:
            st.caption("Fix the design to download it or share its link; the address bar keeps its last working "
                       "version.")
        else:
            st.download_button("Download the design (JSON)", parse_design(design_json).to_json(pretty=True),
                               file_name="design.json", mime="application/json", key="rf_design_download",
                               icon=":material/download:")
            st.caption("To share the design, copy this link: it opens the design and nothing of yours (your "
                       "page's own address says who you are: keep that one to yourself).")
            st.code(share_link("receptive_field", {QUERY_KEY: design_json}), language=None, wrap_lines=True)
    with up:
        uploaded = st.file_uploader("Open a design file", type=["json"], key="rf_design_upload",
                                    help="A file downloaded here, or printed by `python -m mnist_core design`.")
        if uploaded is not None and st.session_state.get(LOADED_FILE) != uploaded.file_id:
            st.session_state[LOADED_FILE] = uploaded.file_id
            try:
                _set_rows(_records_of(parse_design(uploaded.getvalue()).layers))
            except DesignError as exc:
                st.error(f"{uploaded.name} is not a design this page can open: {exc}")
            else:
                st.rerun()


def _train(design_json: str | None, problems: list[str], start_number: int) -> None:
    st.subheader("Train this design")
    if design_json is None:
        st.info("The design cannot be trained yet:\n" + "\n".join(f"- {p}" for p in problems))
    else:
        st.markdown(f"It trains on **{training_device()}** in the background, in the same queue as the step pages, "
                    "with the recipe of the step you choose; dropout rows drop with its dropout. The run appears on "
                    "*Compare runs* (and its frontier chart) and on *Draw a digit*.")
        base = st.selectbox("Recipe of", list(STEPS), index=list(STEPS).index(start_number), format_func=step_label,
                            key="rf_design_recipe")
    # The live panel first, as on the step pages: below the form it was out of view after Start.
    live_panel(None, key="rf_design")
    if design_json is not None:
        recipe_form(STEPS[base], design=design_json, key="rf_design")
    runs = [r for r in run_store().list() if r.config.design and r.state in ENDED_STATES]
    if runs:
        st.markdown("**Design runs** (everyone's: *By* says who made each)")
        rows = []
        for run in runs:
            summary = summarize(run.history)
            params = run.status.get("params")
            rows.append({"Run": run.label, "By": run.status.get("owner_name") or "command line",
                         "Params": NO_VALUE if params is None else f"{params:,}", "Epochs": len(run.history),
                         "Final test %": f"{summary.final_test_acc:.2f}" if summary else NO_VALUE,
                         "Status": run.state, "Same as the design above": run.config.design == design_json})
        right = {column: st.column_config.TextColumn(alignment="right") for column in ("Params", "Final test %")}
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config=right,
                     key="rf_design_runs")


def render(default_step: int) -> tuple[list[LayerSpec], RFTable]:
    """The whole "Design your own" section; returns the rows and their table for the rest of the page."""
    st.markdown(
        f"Edit the layers below; the row numbers on the left are the ones the checks use. **Insert** adds a copy "
        f"of the chosen row under it; to delete rows, tick them and use the bin over the table. Output sizes, "
        f"receptive fields and parameters update as you edit. The budget is fewer than **{PARAM_BUDGET:,}** "
        "parameters, the last layer should see all 28x28 pixels, and a network you can train ends in 10 channels "
        "at 1x1, one per digit. Convolutions have no bias, as in the lesson. An empty cell takes PyTorch's default "
        "(stride 1 for a conv and the kernel for a pool); *groups* splits a conv's channels (as many as its input "
        "channels makes it depthwise); *gap* is a global average pool."
    )
    if ROWS not in st.session_state:
        st.session_state.setdefault("rf_design_start", default_step)
        _start_from_step()
    _load_from_link()
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    start_number = left.selectbox("Start from", list(STEPS), format_func=step_label, key="rf_design_start",
                                  on_change=_start_from_step)
    if right.button("Reset to this step", key="rf_design_reset"):
        _start_from_step()
        st.rerun()

    edited = _editor(st.session_state[ROWS])
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in edited.to_dict("records")]
    if len(records) != len(st.session_state[ROWS]):  # rows deleted: renumber them at once
        _set_rows(records)
        st.rerun()
    _row_controls(records)

    names, specs = [], []
    for number, record in enumerate(records):
        spec = spec_from_record(record, name=f"Row {number} ({record.get('type') or 'no type'})")
        if spec is None:  # a row with every cell cleared
            spec = LayerSpec(None, name=f"Row {number} (empty)", problem="the row is empty: choose a layer type")
        names.append(number)
        specs.append(spec)
    table = rf_table(specs)
    _check_table(names, table)
    _verdicts(table)

    problems = network_problems(specs, batch_size=LESSON_BATCH_SIZE)
    design_json = design_from_specs(specs).to_json() if not problems else None
    if table.ok and problems:
        for problem in problems:
            st.warning(f"Not trainable yet · {problem}")
    _share(design_json)
    _train(design_json, problems, start_number)
    return specs, table
