"""Show images of any shape at one size: each inside the same square box, its real pixels visible."""

from __future__ import annotations

import numpy as np
from PIL import Image

BOX_FILL = 0.22  # the box's grey around an image that is not square, so the image's own edges show


def square_box(image: np.ndarray, side: int) -> np.ndarray:
    """(H, W) or (H, W, 3) -> (side, side[, 3]): the image, aspect kept, in a square box of a fixed size.

    Smaller images are enlarged by a whole factor with every pixel a solid block (the real
    pixels, no smoothing); larger ones are shrunk by averaging. A thin image (a drawn 1)
    sits in the middle of the box with grey either side, so every stage shows at one size.
    """
    h, w = image.shape[:2]
    if max(h, w) <= side:
        factor = side // max(h, w)
        scaled = np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
    else:
        scale = side / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        channels = [image] if image.ndim == 2 else [image[:, :, c] for c in range(image.shape[2])]
        shrunk = [np.asarray(Image.fromarray(c.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
                  for c in channels]
        scaled = shrunk[0] if image.ndim == 2 else np.stack(shrunk, axis=2)
    box = np.full((side, side, *image.shape[2:]), BOX_FILL, dtype=np.float32)
    top, left = (side - scaled.shape[0]) // 2, (side - scaled.shape[1]) // 2
    box[top:top + scaled.shape[0], left:left + scaled.shape[1]] = scaled
    return box
