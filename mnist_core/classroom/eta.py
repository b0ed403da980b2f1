"""How long a training run has left, counting its test passes as well as its batches.

A run's time is its batches plus one test pass per epoch. Until the first test pass has
been timed, a test image is taken to cost a third of a training image: a test pass runs
the forward pass alone, and the backward pass and the optimiser step cost about twice the
forward pass. After that the measured rate is used.
"""

from __future__ import annotations

from dataclasses import dataclass

FORWARD_SHARE = 1 / 3  # a test image's cost as a share of a training image's, before one is measured


@dataclass(frozen=True)
class RunClock:
    batches_done: int
    total_batches: int
    batch_size: int
    training_seconds: float  # time spent in batches so far (test passes excluded)
    test_images_per_pass: int
    passes_total: int  # one per epoch
    passes_done: int  # finished test passes
    images_into_pass: int  # of the test pass under way, 0 when none is
    eval_seconds: float  # time spent in finished test passes
    eval_images: int  # images scored in finished test passes


def seconds_left(clock: RunClock) -> float | None:
    """Estimated seconds until the run ends; None before the first batch (nothing measured yet)."""
    if clock.batches_done <= 0 or clock.training_seconds <= 0:
        return None
    per_batch = clock.training_seconds / clock.batches_done
    if clock.eval_images > 0:
        per_test_image = clock.eval_seconds / clock.eval_images
    else:
        per_test_image = per_batch / clock.batch_size * FORWARD_SHARE
    batches_left = max(clock.total_batches - clock.batches_done, 0)
    test_images_left = max((clock.passes_total - clock.passes_done) * clock.test_images_per_pass
                           - clock.images_into_pass, 0)
    return batches_left * per_batch + test_images_left * per_test_image
