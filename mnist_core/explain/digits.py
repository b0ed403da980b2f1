"""The test digits the explainers work on: the whole MNIST test set when it is on disk, else the bundled ten.

Nothing is ever fetched here. ``TestDigits`` keeps the raw uint8 pixels (to draw) and says
where they came from, so a page can tell the user what needs the full data set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mnist_core.common.paths import ASSETS_DIR
from mnist_core.engine.data import mnist_is_ready, normalize, raw_dir, read_idx

FULL_TEST_SET = 10_000
SAMPLE_DIGITS = ASSETS_DIR / "samples" / "mnist_test_digits.npz"


@dataclass(frozen=True)
class TestDigits:
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int64
    indices: np.ndarray  # (N,) each digit's position in the MNIST test set
    full: bool  # True for the whole test set, False for the bundled sample
    source: str  # in words, for the page

    __test__ = False  # not a pytest test class, despite its name

    def __len__(self) -> int:
        return len(self.labels)

    def position(self, test_index: int) -> int | None:
        """Where test-set digit ``test_index`` is in this collection, or None when it is not in it."""
        found = np.flatnonzero(self.indices == test_index)
        return int(found[0]) if found.size else None

    def pixels(self, position: int) -> np.ndarray:
        """(28, 28) float32 ink in [0, 1]."""
        return self.images[position].astype(np.float32) / 255.0

    def normalised(self, positions: np.ndarray | slice | None = None) -> torch.Tensor:
        """(n, 1, 28, 28) normalised like the training data."""
        chosen = self.images if positions is None else self.images[positions]
        return normalize(torch.from_numpy(np.ascontiguousarray(chosen)))


def test_digits(data_dir: Path | str | None = None) -> TestDigits:
    """The MNIST test set if it is on disk and verified, else the bundled sample."""
    if mnist_is_ready(data_dir):
        folder = raw_dir(data_dir)
        images = read_idx(folder / "t10k-images-idx3-ubyte").copy()  # read_idx gives a read-only view
        labels = read_idx(folder / "t10k-labels-idx1-ubyte").astype(np.int64)
        return TestDigits(images, labels, np.arange(len(labels)), True, "the MNIST test set")
    with np.load(SAMPLE_DIGITS) as bundled:
        return TestDigits(bundled["images"].copy(), bundled["labels"].astype(np.int64),
                          bundled["indices"].astype(np.int64), False,
                          f"the {len(bundled['labels'])} bundled sample digits (the MNIST data set is not on disk)")


test_digits.__test__ = False  # a loader, not a pytest test


def sample_digits(data_dir: Path | str | None = None, count: int = 10) -> tuple[np.ndarray, np.ndarray, str]:
    """A few test digits to draw fields on: (uint8 (N, 28, 28), labels (N,), where they came from).

    Reads only the test images when the real data is there (nothing is ever fetched), else the
    bundled sample in ``assets/samples``.
    """
    if mnist_is_ready(data_dir):
        folder = raw_dir(data_dir)
        images = read_idx(folder / "t10k-images-idx3-ubyte")[:count]
        labels = read_idx(folder / "t10k-labels-idx1-ubyte")[:count]
        return images, labels.astype(np.int64), "the MNIST test set"
    with np.load(SAMPLE_DIGITS) as bundled:
        return bundled["images"][:count], bundled["labels"][:count].astype(np.int64), \
            "a bundled sample of MNIST test digits (the full data set is not downloaded)"

