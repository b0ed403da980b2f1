"""Round-robin order by owner, and the per-student limits' messages."""

from __future__ import annotations

import pytest

from mnist_core.classroom.queue_policy import QueuePolicy, start_order


def test_three_owners_take_turns_each_in_their_own_order():
    waiting = [("a1", "A"), ("a2", "A"), ("a3", "A"), ("b1", "B"), ("c1", "C"), ("b2", "B"), ("c2", "C")]
    assert start_order(waiting, {}) == ["a1", "b1", "c1", "a2", "b2", "c2", "a3"]


def test_the_owner_served_longest_ago_goes_first():
    waiting = [("a2", "A"), ("b1", "B"), ("c1", "C")]
    # A and B were served (B most recently), C never: C, then A, then B.
    assert start_order(waiting, {"A": 5, "B": 7}) == ["c1", "a2", "b1"]


def test_a_burst_delays_another_students_first_run_by_at_most_one_run():
    burst = [(f"a{i}", "A") for i in range(1, 11)]
    order = start_order([*burst, ("b1", "B")], {"A": 1})  # A's first run is training already
    assert order.index("b1") == 0
    order = start_order([*burst, ("b1", "B")], {})
    assert order.index("b1") <= 1


@pytest.mark.parametrize("active, kept, refused, words", [
    (0, 0, False, ""), (1, 5, False, ""), (2, 0, True, "waiting or training"), (0, 30, True, "Delete some"),
])
def test_limits_say_why_a_start_is_refused(active, kept, refused, words):
    why = QueuePolicy(max_active_per_owner=2, max_kept_per_owner=30).refusal(active, kept)
    assert (why is not None) is refused
    assert words in (why or "")


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MNIST_MAX_ACTIVE_PER_STUDENT", "3")
    monkeypatch.setenv("MNIST_MAX_KEPT_PER_STUDENT", "not a number")
    policy = QueuePolicy.from_env()
    assert policy.max_active_per_owner == 3 and policy.max_kept_per_owner == QueuePolicy.max_kept_per_owner
