"""The ten-digit challenge: test a trained network on your own handwriting.

The student is asked for each digit 0-9 once, in a random order, draws it, and the
network's reading of the drawing is scored against the digit asked for. After ten
answers the challenge is over: a score out of ten and, for every miss, what the
network saw (the 28x28 input) and what it read. A ``Challenge`` is immutable: each
answer returns a new one, so a page can keep it in session state and a test can
replay it. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mnist_core.explain.inference import Pipeline, Prediction

DIGITS = tuple(range(10))


@dataclass(frozen=True)
class Answer:
    """One drawing and how the network read it."""

    asked: int  # the digit the student was asked to draw
    read: int  # the network's top answer
    confidence: float  # its probability for ``read``
    seen: np.ndarray  # (28, 28) in [0, 1]: the input the network saw, before normalisation

    @property
    def right(self) -> bool:
        return self.read == self.asked


@dataclass(frozen=True)
class Challenge:
    """Each of 0-9 once in ``order``; ``answers`` so far, in the same order."""

    order: tuple[int, ...]
    model_label: str  # which network is being tested, as the page names it
    answers: tuple[Answer, ...] = field(default=())

    @classmethod
    def start(cls, model_label: str, rng: np.random.Generator | None = None) -> Challenge:
        """A new challenge with the ten digits shuffled."""
        rng = rng if rng is not None else np.random.default_rng()
        return cls(order=tuple(int(d) for d in rng.permutation(DIGITS)), model_label=model_label)

    @property
    def finished(self) -> bool:
        return len(self.answers) == len(self.order)

    @property
    def asked(self) -> int | None:
        """The digit to draw now, or None once all ten are answered."""
        return None if self.finished else self.order[len(self.answers)]

    @property
    def score(self) -> int:
        return sum(answer.right for answer in self.answers)

    @property
    def misses(self) -> tuple[Answer, ...]:
        return tuple(answer for answer in self.answers if not answer.right)

    def answer(self, pipeline: Pipeline, prediction: Prediction) -> Challenge:
        """The challenge with this drawing scored as the answer to ``asked``.

        Raises ValueError when the challenge is over or the drawing is empty: an empty
        canvas is no answer, and the page must not offer to submit one.
        """
        if self.finished:
            raise ValueError("the challenge is over: start a new one")
        if pipeline.nothing_drawn or prediction is None:
            raise ValueError("nothing was drawn, so there is nothing to score")
        scored = Answer(asked=self.asked, read=prediction.digit, confidence=prediction.confidence,
                        seen=pipeline.centred.copy())
        return Challenge(order=self.order, model_label=self.model_label, answers=(*self.answers, scored))
