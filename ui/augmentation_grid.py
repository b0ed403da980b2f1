"""Real training digits beside the versions the trainer makes of them, drawn by the trainer's own code.

The grid calls ``mnist_core.engine.augment.random_affine`` with the step's recipe, so what
a student sees is what the network is trained on; "New random draw" picks another seed.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from mnist_core.engine.augment import random_affine
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import denormalize, load_mnist, mnist_is_ready

DIGITS = 8
ZOOM = 3  # 28 px digits shown at 84 px


@st.cache_resource(show_spinner=False)
def _training_images() -> tuple[torch.Tensor, torch.Tensor]:
    data = load_mnist()
    return data.train_images, data.train_labels


def augmented_pairs(images: torch.Tensor, config: TrainConfig, seed: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """``DIGITS`` training digits chosen by ``seed`` and their augmented versions, as uint8 (N, 28, 28)."""
    generator = torch.Generator().manual_seed(seed)
    picked = torch.randperm(len(images), generator=generator)[:DIGITS]
    originals = images[picked]
    moved = random_affine(originals, config.rotation_degrees, config.translate, config.scale, generator)

    def pixels(batch: torch.Tensor) -> np.ndarray:
        return (denormalize(batch).clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1).numpy()

    return pixels(originals), pixels(moved), picked.tolist()


def _big(image: np.ndarray) -> np.ndarray:
    return np.kron(image, np.ones((ZOOM, ZOOM), dtype=np.uint8))


def augmentation_grid(config: TrainConfig, key: str) -> None:
    st.subheader("What the trainer sees")
    if not mnist_is_ready():
        st.info("MNIST is not on this machine yet (it is fetched the first time a run trains): the grid of real "
                "training digits appears once it is.", icon=":material/info:")
        return
    seed_key = f"{key}_augment_seed"
    st.session_state.setdefault(seed_key, 0)
    if st.button("New random draw", icon=":material/casino:", key=f"{key}_augment_redraw"):
        st.session_state[seed_key] += 1
    images, labels = _training_images()
    originals, moved, picked = augmented_pairs(images, config, st.session_state[seed_key])
    st.caption(f"Top: {DIGITS} training digits as stored. Bottom: the same digits as one epoch of training might "
               f"show them, rotated by a random angle of up to ±{config.rotation_degrees:g}° by the trainer's own "
               f"augmentation code (draw {st.session_state[seed_key]}).")
    # One column per digit, its caption inside it: captions under a row of images ran into each other.
    for column, k, original, augmented in zip(st.columns(DIGITS, gap="small"), picked, originals, moved,
                                              strict=True):
        column.image(_big(original), caption=f"a {int(labels[k])} (#{k})", width=28 * ZOOM)
        column.image(_big(augmented), caption="as trained", width=28 * ZOOM)
