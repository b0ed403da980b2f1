"""Where the classes separate: the pooled features of many test digits, projected to two dimensions.

The global average pool hands the classifier C numbers per digit (16 in the lesson's
networks, 24 in Step 5). A good network puts digits of one class close together in that
C-dimensional space and the classes apart, since the classifier is only a linear map
from it. ``pooled_features`` collects those vectors; ``pca_2d`` projects them onto their
two directions of largest spread (exact and quick); ``tsne_2d`` (scikit-learn's t-SNE)
keeps neighbours together instead, which shows clusters better but takes seconds to
minutes, so ``cached_tsne`` keeps each result in a file named by the checkpoint's
content and the digits used, and a second look is instant. No Streamlit here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mnist_core.common.atomic import atomic_path
from mnist_core.explain.activations import capture

DEFAULT_COUNT = 2_000
MAX_COUNT = 10_000
FEATURE_BATCH = 1_000  # the evaluation batch size: ~1,000 images stay in cache
TSNE_PERPLEXITY = 30.0  # scikit-learn's default; neighbourhoods of about 30 digits
TSNE_SEED = 0  # one fixed seed, so a cached map and a recomputed one are the same picture


@dataclass(frozen=True)
class PooledFeatures:
    features: np.ndarray  # (N, C) float32: each digit's pooled vector
    predictions: np.ndarray  # (N,) the model's answer for each digit


def pooled_features(model: nn.Module, images: torch.Tensor, layer: str = "gap") -> PooledFeatures:
    """The ``layer`` output (flattened) and the prediction for normalised ``images`` (N, 1, 28, 28)."""
    features, predictions = [], []
    for start in range(0, len(images), FEATURE_BATCH):
        outputs, log_probabilities = capture(model, images[start:start + FEATURE_BATCH], [layer])
        features.append(outputs[layer].flatten(1).numpy())
        predictions.append(log_probabilities.argmax(1).numpy())
    return PooledFeatures(np.concatenate(features).astype(np.float32), np.concatenate(predictions))


@dataclass(frozen=True)
class Projection:
    coordinates: np.ndarray  # (N, 2)
    method: str  # "PCA" or "t-SNE"
    explained: tuple[float, float] | None = None  # PCA: share of the total variance along each axis


def pca_2d(features: np.ndarray) -> Projection:
    """The features on their two principal axes (sign fixed so the same data always looks the same)."""
    if len(features) < 2:
        raise ValueError("a projection needs at least two digits")
    centred = features.astype(np.float64) - features.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2] * np.sign(axes[:2, [0]] + (axes[:2, [0]] == 0))  # first loading positive
    total = float((singular**2).sum()) or 1.0
    explained = tuple(float(s**2 / total) for s in singular[:2])
    return Projection(centred @ axes.T, "PCA", explained)


def tsne_2d(features: np.ndarray) -> Projection:
    """scikit-learn's t-SNE, initialised from PCA, fixed seed."""
    from sklearn.manifold import TSNE

    n = len(features)
    if n < 5:
        raise ValueError("t-SNE needs at least five digits")
    perplexity = min(TSNE_PERPLEXITY, (n - 1) / 3)  # scikit-learn refuses a perplexity >= n
    coordinates = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto",
                       random_state=TSNE_SEED).fit_transform(features.astype(np.float64))
    return Projection(coordinates, "t-SNE")


def fingerprint(checkpoint: Path | str) -> str:
    """A short name for a checkpoint's content: the same weights give the same name, wherever they lie."""
    return hashlib.sha256(Path(checkpoint).read_bytes()).hexdigest()[:16]


def tsne_cache_file(cache_dir: Path | str, checkpoint: Path | str, indices: np.ndarray) -> Path:
    """Where the t-SNE of these digits (their test-set ``indices``) under this checkpoint is kept."""
    digits = hashlib.sha256(np.ascontiguousarray(indices, dtype=np.int64).tobytes()).hexdigest()[:12]
    return Path(cache_dir) / f"tsne-{fingerprint(checkpoint)}-{len(indices)}-{digits}.npz"


def cached_tsne(features: np.ndarray, cache_file: Path | str) -> tuple[Projection, bool]:
    """(t-SNE of ``features``, whether it came from ``cache_file``); a new result is written there.

    A cache file that cannot be read, or holds another number of points, is recomputed and replaced.
    """
    cache_file = Path(cache_file)
    try:
        with np.load(cache_file) as kept:
            coordinates = kept["coordinates"]
        if coordinates.shape == (len(features), 2):
            return Projection(coordinates, "t-SNE"), True
    except (OSError, KeyError, ValueError):
        pass
    projection = tsne_2d(features)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache_file) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, coordinates=projection.coordinates)
    return projection, False
