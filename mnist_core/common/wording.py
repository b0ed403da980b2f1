"""Words for the sentences the app and the CLI write."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with its noun in agreement: ``1 epoch``, ``2 epochs``, ``0 epochs``, ``1,200 images``."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
