"""Tests for mnist_core/explain/challenge.py: the order, the scoring and the end of the ten-digit challenge."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.explain.challenge import Challenge
from mnist_core.explain.inference import Prediction, preprocess
from tests.test_inference import SEVEN, canvas_drawing

DRAWING = preprocess(canvas_drawing(SEVEN, 60, 40, 150))


def reading(digit: int) -> Prediction:
    probabilities = np.full(10, 0.02)
    probabilities[digit] = 0.82
    return Prediction(digit=digit, probabilities=probabilities)


def test_each_digit_is_asked_once_in_an_order_that_changes():
    orders = {Challenge.start("m", np.random.default_rng(seed)).order for seed in range(20)}
    assert all(sorted(order) == list(range(10)) for order in orders)
    assert len(orders) > 15  # shuffled, not one fixed order


def test_ten_answers_are_scored_against_the_digit_asked():
    challenge = Challenge.start("Step 4", np.random.default_rng(0))
    wrong_on = {challenge.order[2], challenge.order[7]}
    for _ in range(10):
        asked = challenge.asked
        read = (asked + 1) % 10 if asked in wrong_on else asked
        challenge = challenge.answer(DRAWING, reading(read))
    assert challenge.finished and challenge.asked is None
    assert challenge.score == 8
    assert [m.asked for m in challenge.misses] == [challenge.order[2], challenge.order[7]]
    assert all(m.read == (m.asked + 1) % 10 and m.confidence == pytest.approx(0.82) for m in challenge.misses)
    assert challenge.misses[0].seen.shape == (28, 28)
    assert np.array_equal(challenge.misses[0].seen, DRAWING.centred)


def test_no_answer_after_ten_and_no_empty_answer():
    challenge = Challenge.start("m", np.random.default_rng(1))
    blank = preprocess(np.zeros((280, 280), dtype=np.uint8))
    with pytest.raises(ValueError, match="nothing was drawn"):
        challenge.answer(blank, None)
    for _ in range(10):
        challenge = challenge.answer(DRAWING, reading(challenge.asked))
    assert challenge.score == 10
    with pytest.raises(ValueError, match="over"):
        challenge.answer(DRAWING, reading(3))


def test_an_answer_leaves_the_earlier_challenge_unchanged():
    first = Challenge.start("m", np.random.default_rng(2))
    second = first.answer(DRAWING, reading(first.asked))
    assert first.answers == () and len(second.answers) == 1 and second.asked == first.order[1]
