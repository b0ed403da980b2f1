"""The time left of a run counts its test passes as well as its batches."""

from __future__ import annotations

import pytest

from mnist_core.classroom.eta import FORWARD_SHARE, RunClock, seconds_left


def clock(**changes) -> RunClock:
    base = dict(batches_done=10, total_batches=40, batch_size=100, training_seconds=10.0, test_images_per_pass=1000,
                passes_total=2, passes_done=0, images_into_pass=0, eval_seconds=0.0, eval_images=0)
    return RunClock(**{**base, **changes})


def test_before_any_test_pass_a_test_image_costs_a_third_of_a_training_image():
    # 30 batches at 1 s, and 2 passes of 1,000 images at (1 s / 100 images) / 3 each
    assert seconds_left(clock()) == pytest.approx(30 + 2 * 1000 * 0.01 * FORWARD_SHARE)


def test_a_measured_test_pass_replaces_the_estimate_and_the_pass_under_way_counts_what_is_left():
    measured = clock(batches_done=20, training_seconds=20.0, passes_done=1, eval_seconds=5.0, eval_images=1000)
    assert seconds_left(measured) == pytest.approx(20 + 1000 * 0.005)
    in_pass = clock(batches_done=40, training_seconds=40.0, passes_done=1, images_into_pass=600, eval_seconds=5.0,
                    eval_images=1000)
    assert seconds_left(in_pass) == pytest.approx(400 * 0.005)  # the batches are done: only the test pass is left


def test_nothing_measured_means_no_estimate():
    assert seconds_left(clock(batches_done=0, training_seconds=0.0)) is None
