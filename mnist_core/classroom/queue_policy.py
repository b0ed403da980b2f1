"""Fair turns for a class: a limit of live runs per student, round-robin order, a cap on kept runs.

First-come order lets one student's burst of Starts fill the queue ahead of everybody.
Here the waiting line is served by owner in turn: the next run to start belongs to the
waiting student who was served longest ago (a student never served goes first), and each
student's own runs keep their order. One student's burst therefore delays another
student's first run by at most the one run already training per slot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from mnist_core.common.wording import count


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class QueuePolicy:
    max_active_per_owner: int = 2  # runs waiting or training per student at once
    max_kept_per_owner: int = 30  # runs kept on disk per student; delete old ones to start more

    @classmethod
    def from_env(cls) -> QueuePolicy:
        """``MNIST_MAX_ACTIVE_PER_STUDENT`` and ``MNIST_MAX_KEPT_PER_STUDENT`` override the defaults."""
        return cls(_env_int("MNIST_MAX_ACTIVE_PER_STUDENT", cls.max_active_per_owner),
                   _env_int("MNIST_MAX_KEPT_PER_STUDENT", cls.max_kept_per_owner))

    def refusal(self, active: int, kept: int) -> str | None:
        """Why a student with ``active`` live runs and ``kept`` runs on disk may not start one more, or None."""
        if active >= self.max_active_per_owner:
            return (f"You already have {count(active, 'run')} waiting or training, the most one student may have at "
                    f"once on this server ({self.max_active_per_owner}). Start this one when one of yours ends, "
                    "or stop one.")
        if kept >= self.max_kept_per_owner:
            return (f"You keep {kept} runs, the most this server keeps per student ({self.max_kept_per_owner}). "
                    "Delete some of yours on Compare runs, then start again.")
        return None


def start_order(waiting: list[tuple[str, str]], last_served: dict[str, int]) -> list[str]:
    """Run ids of ``waiting`` (run id, owner) pairs in the order they will start.

    ``last_served`` maps an owner to a counter value of their latest start (higher is more
    recent; absent means never served). Owners take turns, least recently served first;
    ties go to the owner whose oldest waiting run came first.
    """
    per_owner: dict[str, list[str]] = {}
    for run_id, owner in waiting:
        per_owner.setdefault(owner, []).append(run_id)
    served = dict(last_served)
    tick = max(served.values(), default=0)
    first_seen = {owner: i for i, owner in enumerate(per_owner)}
    order: list[str] = []
    while per_owner:
        owner = min(per_owner, key=lambda o: (served.get(o, -1), first_seen[o]))
        order.append(per_owner[owner].pop(0))
        if not per_owner[owner]:
            del per_owner[owner]
        tick += 1
        served[owner] = tick
    return order
