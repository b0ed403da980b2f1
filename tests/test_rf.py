"""Tests for mnist_core/engine/fields.py and explain/rf.py: hand-computed tables, the analytic field
against the gradient-measured one, row-level reasons for layers that make no sense, and the ``rf`` command."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from mnist_core.commands.cli import main
from mnist_core.engine.design import model_from_specs
from mnist_core.engine.fields import model_table, rf_table
from mnist_core.engine.models import FastDropout, count_parameters
from mnist_core.engine.specs import LayerSpec, records_from_specs, spec_from_record, specs_from_model
from mnist_core.explain import rf
from mnist_core.explain.digits import sample_digits
from mnist_core.lesson.steps import STEPS

S = LayerSpec


def conv(out, k, s=1, p=0, d=1):
    return S("conv", out, k, s, p, d)


def pool(kind, k, s=None, p=0, d=1):
    return S(kind, None, k, s, p, d)


# Each expected row: (n_out, j_out, r_out, start_out), computed by hand with the recurrences in rf's
# docstring, for a 28x28 input; the start is the pixel index of the centre of the first output's field.
HAND_TABLES = {
    "stride-2 convs": (
        [conv(8, 3, s=2), conv(8, 3, s=2), conv(8, 3)],
        [(13, 2, 3, 1), (6, 4, 7, 3), (4, 4, 15, 7)],
    ),
    "padded": (
        [conv(8, 3, p=1), conv(8, 3, p=1), pool("maxpool", 2), conv(8, 3, p=1)],
        [(28, 1, 3, 0), (28, 1, 5, 0), (14, 2, 6, 0.5), (14, 2, 10, 0.5)],
    ),
    "dilated": (
        [conv(8, 3, d=2), conv(8, 3), conv(8, 3, p=4, d=4)],
        [(24, 1, 5, 2), (22, 1, 7, 3), (22, 1, 15, 3)],
    ),
    "max-pool k3 s2": (
        [pool("maxpool", 3, 2), conv(8, 3)],
        [(13, 2, 3, 1), (11, 2, 7, 3)],
    ),
    "max-pool k2 s3 (stride > kernel)": (
        [conv(8, 3), pool("maxpool", 2, 3), conv(8, 3)],
        [(26, 1, 3, 1), (9, 3, 4, 1.5), (7, 3, 10, 4.5)],
    ),
    "pointwise layers and a global pool": (
        [conv(8, 5), S("relu"), S("batchnorm"), S("dropout"), pool("avgpool", 2), S("gap")],
        [(24, 1, 5, 2), (24, 1, 5, 2), (24, 1, 5, 2), (24, 1, 5, 2), (12, 2, 6, 2.5), (1, 24, 28, 13.5)],
    ),
}


@pytest.mark.parametrize("name", list(HAND_TABLES))
def test_hand_computed_tables(name):
    specs, expected = HAND_TABLES[name]
    table = rf_table(specs)
    assert table.ok
    assert [(r.out_size, r.jump_out, r.rf_out, r.start_out) for r in table.rows] == expected
    # Each row starts where the one before it ended.
    for before, after in zip(table.rows, table.rows[1:], strict=False):
        assert (after.in_size, after.jump_in, after.rf_in, after.start_in) == \
            (before.out_size, before.jump_out, before.rf_out, before.start_out)


# Step 4's conv / pool rows, by hand: (n_out, j_out, r_out, start_out).
STEP4_BY_HAND = [(26, 1, 3, 1), (24, 1, 5, 2), (12, 2, 6, 2.5), (12, 2, 6, 2.5), (10, 2, 10, 4.5),
                 (8, 2, 14, 6.5), (6, 2, 18, 8.5), (4, 2, 22, 10.5), (1, 8, 28, 13.5), (1, 8, 28, 13.5)]


def test_step4_receptive_field_grows_to_28():
    table = model_table(STEPS[4].build_model())
    rows = rf.shown_rows(table, pointwise=False)
    assert [(r.out_size, r.jump_out, r.rf_out, r.start_out) for r in rows] == STEP4_BY_HAND
    assert table.final_rf == 28 and table.covers_input
    assert "whole 28x28 digit" in table.summary()
    assert not table.notes


@pytest.mark.parametrize("number", list(STEPS))
def test_parameter_count_matches_pytorch(number):
    model = STEPS[number].build_model()
    assert model_table(model).total_params == count_parameters(model)


@pytest.mark.parametrize("name", list(HAND_TABLES))
def test_built_design_matches_its_table(name):
    """The network built from a spec list has the table's parameter count and output sizes."""
    specs, _ = HAND_TABLES[name]
    model, table = model_from_specs(specs), rf_table(specs)
    assert count_parameters(model) == table.total_params
    x = torch.zeros(1, 1, 28, 28)
    for layer, row in zip(model, table.rows, strict=True):
        x = layer.eval()(x)
        assert x.shape[-1] == row.out_size and x.shape[1] == row.out_channels


def test_coverage_with_padding_is_not_the_whole_digit():
    table = rf_table([conv(4, 3, p=1)] * 14)  # RF 29 >= 28, but 28x28 outputs centred all over
    assert table.final_rf == 29 and not table.covers_input
    assert "zero padding" in table.summary()
    assert not rf_table([conv(4, 3)] * 5).covers_input  # RF 11


# --- the analytic field against the gradient -------------------------------------------------------------

def _sequential(*layers):
    return nn.Sequential(*layers)


ARCHITECTURES = {
    "step 1": lambda: STEPS[1].build_model(),
    "step 4": lambda: STEPS[4].build_model(),
    "stride-2 convs": lambda: _sequential(nn.Conv2d(1, 4, 3, 2), nn.ReLU(), nn.Conv2d(4, 4, 3, 2), nn.Conv2d(4, 2, 3)),
    "padded": lambda: _sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.Conv2d(4, 4, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(4, 4, 5, padding=2)),
    "dilated": lambda: _sequential(nn.Conv2d(1, 4, 3, dilation=2), nn.Conv2d(4, 4, 3), nn.Conv2d(4, 4, 3, dilation=3)),
    "max-pool k3 s2, dropout": lambda: _sequential(nn.Conv2d(1, 4, 3), FastDropout(0.1), nn.MaxPool2d(3, 2),
                                                   nn.Conv2d(4, 4, 3, bias=True), nn.AdaptiveAvgPool2d(1)),
    "max-pool k2 s3": lambda: _sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2, 3), nn.Conv2d(4, 4, 3)),
    "avg-pool, grouped conv": lambda: _sequential(nn.Conv2d(1, 4, 3), nn.AvgPool2d(3, 2, padding=1),
                                                  nn.Conv2d(4, 4, 3, groups=2), nn.Dropout2d(0.1)),
}
SOLID = {"step 1", "step 4", "stride-2 convs", "padded", "max-pool k3 s2, dropout", "avg-pool, grouped conv"}


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_analytic_field_equals_gradient_measured_field(name):
    model = ARCHITECTURES[name]()
    table = model_table(model)
    assert table.ok, table.problems
    for row in rf.shown_rows(table, pointwise=False):
        m = row.out_size - 1
        for y, x in {(0, 0), (m, m), (m // 2, m // 2), (0, m)}:
            heat = rf.measure_field(model, row.index, y, x)
            mask = heat > 0
            box = rf.clip_box(row.field_box(y, x), 28)
            assert rf.box_of(mask) == box, (row.name, y, x)
            top, left, bottom, right = box
            inside = mask[top: bottom + 1, left: right + 1]
            if name in SOLID:
                assert inside.all(), (row.name, y, x)
            else:  # dilation or stride > kernel: a sparse grid inside the box
                assert inside.any()
            assert rf.compare_fields(row, heat, y, x).agree


def test_no_padding_field_is_the_analytic_box_exactly():
    model = ARCHITECTURES["step 1"]()
    row = model_table(model).rows[-1]
    heat = rf.measure_field(model, row.index, 0, 0)
    assert row.field_box(0, 0) == (0, 0, 27, 27) and (heat > 0).all()
    assert "exactly" in rf.compare_fields(row, heat, 0, 0).explanation


def test_padding_clips_the_field_at_the_border():
    model = ARCHITECTURES["padded"]()
    row = model_table(model).rows[-1]  # RF 14, jump 2, start 0.5
    assert row.field_box(0, 0) == (-6, -6, 7, 7)
    heat = rf.measure_field(model, row.index, 0, 0)
    comparison = rf.compare_fields(row, heat, 0, 0)
    assert comparison.measured == (0, 0, 7, 7) and comparison.agree
    assert "zero padding" in comparison.explanation and "8x8" in comparison.explanation
    middle = rf.compare_fields(row, rf.measure_field(model, row.index, 7, 7), 7, 7)
    assert middle.analytic == middle.measured  # away from the border nothing is clipped


def test_measuring_leaves_the_model_alone():
    model = STEPS[4].build_model().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rf.measure_field(model, 25, 0, 0)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_dilated_field_has_holes():
    model = _sequential(nn.Conv2d(1, 1, 3, dilation=2))
    heat = rf.measure_field(model, 0, 0, 0)
    assert np.argwhere(heat > 0).tolist() == [[r, c] for r in (0, 2, 4) for c in (0, 2, 4)]
    assert "sparse" in rf.compare_fields(model_table(model).rows[0], heat, 0, 0).explanation


# --- problems are reported on their row ------------------------------------------------------------------

INVALID = [
    (conv(8, 0), "kernel must be at least 1 (got 0)"),
    (conv(8, 3, s=0), "stride must be at least 1 (got 0)"),
    (conv(8, 3, s=-2), "stride must be at least 1 (got -2)"),
    (conv(8, None), "kernel is empty"),
    (conv(0, 3), "out channels must be at least 1 (got 0)"),
    (conv(None, 3), "out channels is empty"),
    (conv(8, 3, p=-1), "padding must be at least 0 (got -1)"),
    (conv(8, 3, d=0), "dilation must be at least 1 (got 0)"),
    (conv(8, 27), "output would be smaller than 1x1: the kernel spans 27 pixels but the input is only 26"),
    (conv(8, 11, d=3), "the kernel spans 31 pixels"),
    (pool("avgpool", 2, d=2), "an average pool has no dilation"),
    (pool("maxpool", 2, p=2), "padding 2 is more than half the kernel"),
    (S("dense", 10, 3), "layer type is 'dense'"),
    (S(None), "layer type is empty"),
]


@pytest.mark.parametrize(("spec", "reason"), INVALID, ids=[reason for _, reason in INVALID])
def test_invalid_layer_gets_its_reason_on_its_row(spec, reason):
    table = rf_table([conv(8, 3), spec, conv(8, 3)])
    assert not table.ok and table.final_rf is None and not table.covers_input
    first, bad, after = table.rows
    assert first.ok and reason in bad.problem
    # The row below is fine by itself: it waits for row 1, with no problem of its own.
    assert after.problem is None and after.blocked_by == 1 and not after.ok and after.rf_out is None
    assert reason in table.summary()
    assert table.budget_verdict(10_000)[0] is None
    with pytest.raises(ValueError, match="layer 1"):
        model_from_specs([conv(8, 3), spec, conv(8, 3)])


def test_unknown_modules_are_reported_not_skipped():
    model = _sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 10))
    table = model_table(model)
    assert table.rows[0].ok and table.rows[0].rf_out == 3
    assert "Flatten is not a layer the calculator knows" in table.rows[1].problem
    assert table.rows[2].blocked_by == 1 and "Linear is not a layer" in table.rows[2].problem
    with pytest.raises(ValueError, match="Flatten"):
        rf.measure_field(model, 2, 0, 0)
    assert "ceil_mode" in model_table(_sequential(nn.MaxPool2d(2, ceil_mode=True))).rows[0].problem


def test_every_invalid_row_reports_its_own_problem():
    """Issue 15: stride -1 and kernel 99 stayed hidden while row 0 (kernel 0) was broken."""
    table = rf_table([conv(8, 0), conv(8, 3, s=-1), conv(8, 3), conv(8, 99)])
    problems = [row.problem for row in table.rows]
    assert problems[0] == "kernel must be at least 1 (got 0)"
    assert problems[1] == "stride must be at least 1 (got -1)"
    assert problems[2] is None and table.rows[2].blocked_by == 0
    # Row 3's input size is unknown, but no row above pads, so it is at most 28: 99 is too big for any of it.
    assert problems[3] == ("output would be smaller than 1x1: the kernel spans 99 pixels but no input here can be "
                           "more than 28")
    assert [row.index for row in table.problems] == [0, 1, 3]
    padded = rf_table([conv(8, 0), conv(8, 3, p=2), conv(8, 33)])  # 28 + 2 * 2 = 32 at most: 33 is too big
    assert "no input here can be more than 32" in padded.rows[2].problem
    assert rf_table([conv(8, 0), conv(8, 3, p=2), conv(8, 32)]).rows[2].problem is None  # 32 might fit


def test_rows_below_an_invalid_row_still_count_their_own_parameters():
    # A conv's weights do not depend on the input's size: row 0's kernel is broken, but its 8 out
    # channels are known, so row 1 has 8 * 16 * 3 * 3 weights and row 2 (batchnorm) 2 * 16.
    table = rf_table([conv(8, 0), conv(16, 3), S("batchnorm"), conv(4, 1)])
    assert [row.params for row in table.rows] == [None, 8 * 16 * 9, 2 * 16, 16 * 4]
    assert [row.out_channels for row in table.rows] == [8, 16, 16, 4]
    # A row whose own channel count is broken leaves the next conv's weights unknown.
    assert rf_table([conv(0, 3), conv(16, 3)]).rows[1].params is None


@pytest.mark.parametrize(("specs", "counted"), [
    ([conv(12, 0), conv(14, 3)], 12 * 14 * 9),  # the page once said "PASS · 0 parameters"
    ([conv(12, 3), conv(14, 3), conv(16, 99)], 12 * 9 + 12 * 14 * 9 + 14 * 16 * 99 * 99),  # ~2.2M, once left out
])
def test_a_design_with_an_invalid_row_gets_no_budget_verdict(specs, counted):
    table = rf_table(specs)
    passed, text = table.budget_verdict(10_000)
    assert passed is None
    assert "unknown until" in text and f"at least {counted:,}" in text
    assert table.total_params == counted


def test_a_valid_design_gets_a_budget_verdict():
    assert rf_table([conv(12, 3)]).budget_verdict(10_000) == (True, "108 parameters: within the budget of "
                                                                       "fewer than 10,000.")
    assert rf_table([conv(100, 10)]).budget_verdict(10_000)[0] is False


# --- rows of an editable table ---------------------------------------------------------------------------

@pytest.mark.parametrize(("record", "expected"), [
    ({"type": "conv", "out_channels": 8.0, "kernel": 3.0}, S("conv", 8, 3, name="conv")),
    ({"type": " MaxPool ", "kernel": np.int64(2)}, S("maxpool", None, 2, name="maxpool")),
    ({"type": "relu", "kernel": "nonsense"}, S("relu", name="relu")),  # ignored on pointwise layers
    ({"type": None, "out_channels": None, "kernel": math.nan, "stride": pd.NA, "padding": "", "dilation": None},
     None),
    ({}, None),
])
def test_spec_from_record(record, expected):
    assert spec_from_record(record) == expected


@pytest.mark.parametrize(("record", "reason"), [
    ({"type": "conv", "out_channels": 8, "kernel": 2.5}, "kernel must be a whole number (got 2.5)"),
    ({"type": "conv", "out_channels": "many", "kernel": 3}, "out channels must be a whole number"),
    ({"type": "conv", "out_channels": pd.NA, "kernel": 3}, "out channels is empty"),
])
def test_unreadable_cells_become_the_rows_reason(record, reason):
    row = rf_table([spec_from_record(record, name="Row 0")]).rows[0]
    assert reason in row.problem and row.name == "Row 0"


@pytest.mark.parametrize("step, params", [(4, 9_436), (5, 4_918)])
def test_records_round_trip_a_step(step, params):
    """The editor's rows keep everything that counts: Step 5's depthwise convolutions stay depthwise."""
    specs = specs_from_model(STEPS[step].build_model())
    records = records_from_specs(specs)
    assert [r["type"] for r in records][:3] == ["conv", "batchnorm", "conv"]
    table = rf_table([spec_from_record(r) for r in records])
    assert table.final_rf == 28 and table.total_params == params


def test_an_empty_groups_cell_is_an_ordinary_convolution_and_a_bad_one_is_refused():
    plain = spec_from_record({"type": "conv", "out_channels": 8, "kernel": 3, "groups": None})
    assert plain.groups == 1
    row = rf_table([spec_from_record({"type": "conv", "out_channels": 6, "kernel": 3, "groups": 4})],
                      in_channels=4).rows[0]
    assert "groups 4 must divide both" in row.problem


# --- digits and the command line -------------------------------------------------------------------------

def test_bundled_sample_digits(tmp_path):
    images, labels, source = sample_digits(tmp_path)  # an empty data folder: nothing there, nothing fetched
    assert images.shape == (10, 28, 28) and images.dtype == np.uint8 and images.max() > 200
    assert labels.tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9] and "bundled" in source
    assert not list(tmp_path.iterdir())


def test_cli_prints_the_table(capsys):
    assert main(["rf", "--step", "4"]) == 0
    out = capsys.readouterr().out
    assert "pool (MaxPool2d)" in out and "whole 28x28 digit" in out and "9,436" in out
    assert "block1.1 (ReLU)" not in out
    assert main(["rf", "--step", "1", "--all-layers"]) == 0
    assert "block1.1 (ReLU)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["rf", "--step", "9"], ["rf", "--step", "4", "--input-size", "0"],
                                  ["rf", "--step", "4", "--input-size", "12"]])
def test_cli_errors_are_one_line(argv, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
