"""From a picture of a digit to the model's answer, the way MNIST itself was made.

MNIST's digits were size-normalised to fit a 20x20 box with their aspect ratio kept
(anti-aliased, so grey levels remain) and then placed in a 28x28 field with their
centre of mass at the centre. A drawing on a 280x280 canvas or a photo of a digit on
paper looks nothing like that, and a network trained only on MNIST judges it badly
unless it is put through the same steps: find the ink (white on black, or black on
white, detected and inverted), crop to its bounding box, bring a stroke much wider or
thinner than MNIST's into MNIST's range (a digit photographed small and enlarged often
has one), fit the longer side to 20 px, centre by mass in 28x28, normalise with the
training mean and std. ``preprocess`` does this and keeps every intermediate image, so a
page can show what the model saw; ``predict`` and ``saliency`` run a model on the result.
A picture with no ink gives a ``Pipeline`` whose ``nothing_drawn`` is true, and never a
prediction. No Streamlit here.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps

from mnist_core.engine.data import MNIST_MEAN, MNIST_STD, denormalize
from mnist_core.engine.deskew import deskew_layer

FIT_SIZE = 20  # MNIST's digits fill a 20x20 box ...
FIELD_SIZE = 28  # ... inside a 28x28 field,
FIELD_CENTRE = 14.0  # with the centre of mass at pixel index 14 (measured on MNIST: 13.99, 14.01)
MIN_CONTRAST = 0.15  # ink must differ from the background by this much of the full range, else it is noise
MIN_INK_FRACTION = 1e-4  # fewer inked pixels than this share of the picture (or than 4) is nothing drawn
UNSURE_BELOW = 0.70  # a top probability under this is reported as "unsure", with the runner-up
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # bigger files are refused before they are decoded
# Bigger pictures are refused before their pixels are read. A phone saves 12 MP by default (48 MP only in
# its full-resolution mode), and one digit needs far fewer: at 12 MP an upload costs ~100 MB while it is
# decoded (RGBA, then the upright copy), where 50 MP of a tiny PNG (7000x7000 compresses to 208 kB) cost ~409 MB.
MAX_UPLOAD_PIXELS = 12_000_000
MIN_UPLOAD_SIDE = 16  # a picture narrower than this has too few pixels to show a digit (MNIST's are 28x28)
WORK_SIDE = 1024  # larger pictures are shrunk to this longer side first: a digit needs no more
MIXED_BORDER = 1 / 6  # a border level within this of halfway between the extremes is half ink, half background
BACKGROUND_ROUNDS = 3  # fit the border's plane, drop the pixels far off it, fit again: three rounds settle

NOTHING_DRAWN = "Nothing drawn yet: draw a digit."
# MNIST's own digits, measured by ``python -m mnist_core preprocess-check`` on the first 5,000 training digits
# with ``stroke_width`` and ``slant`` below: the 5th percentile, the median and the 95th.
MNIST_STROKE = (1.87, 2.54, 3.81)  # stroke width in pixels, the digit fitted to 20 px
MNIST_SLANT = (-0.582, -0.125, 0.333)  # shear mu11/mu02: columns per row; negative leans the top right
STROKE_WORK = 4  # stroke width is measured and changed at this many times the 20 px scale
MAX_SHEAR = 1.0  # deskewing never shears by more than 45 degrees


@dataclass(frozen=True)
class Preparation:
    """The steps between the crop and the 20 px fit for pictures unlike MNIST's, each switchable.

    The default is what ``preprocess`` does: a stroke wider or thinner than almost all of MNIST's
    (outside its 5th-95th percentile) is brought to the nearest end of that range, and every other
    digit is left as it was. The other settings are the alternatives measured against it (docs/
    dashboard.md, *Digits photographed small*): ``stroke`` "median" brings every stroke to MNIST's
    median width, "none" leaves all alone; ``deskew`` shears the crop so its slant (``slant``)
    becomes 0 ("full"), MNIST's median ("median"), or the nearest end of MNIST's range ("range");
    ``sharpen`` steepens the grey edges that enlargement blurs, by a contrast stretch of 0.25..0.75
    to 0..1 ("stretch") or a threshold at 0.5 ("threshold"), before the fit anti-aliases again.
    """

    stroke: str = "range"  # "range", "median" or "none"
    deskew: str = "none"  # "none", "full", "median" or "range"
    sharpen: str = "none"  # "none", "stretch" or "threshold"


BEFORE_STROKES = Preparation(stroke="none")  # the pipeline as it was before stroke widths were brought into range


class ImageError(ValueError):
    """A file that cannot be used as a picture of a digit; the message says why, for the user."""


@dataclass(frozen=True)
class Pipeline:
    """Every stage of ``preprocess``; all images are float32 in [0, 1] with ink bright.

    When ``nothing_drawn`` is true only ``ink`` is set: there is nothing to crop, centre or classify.
    """

    ink: np.ndarray  # (H, W) the picture as ink on black, after any inversion and noise removal
    inverted: bool  # True when the picture was dark ink on a light background
    box: tuple[int, int, int, int] | None = None  # (top, left, bottom, right) of the ink, bottom/right exclusive
    crop: np.ndarray | None = None  # the ink's bounding box, at the picture's own resolution
    stroked: np.ndarray | None = None  # crop with its stroke width brought into MNIST's range (crop itself if it was)
    stroke_widths: tuple[float, float] | None = None  # the stroke width before and after, at the 20 px scale
    fitted: np.ndarray | None = None  # stroked scaled so its longer side is FIT_SIZE px
    centred: np.ndarray | None = None  # (28, 28) fitted, placed so its centre of mass is at the centre
    input: torch.Tensor | None = None  # (1, 28, 28) centred, normalised like the training data

    @property
    def nothing_drawn(self) -> bool:
        return self.input is None


@dataclass(frozen=True)
class Prediction:
    digit: int
    probabilities: np.ndarray  # (10,) summing to 1

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.digit])

    @property
    def top_two(self) -> list[tuple[int, float]]:
        """The two most probable digits with their probabilities, most probable first."""
        order = np.argsort(-self.probabilities)[:2]
        return [(int(d), float(self.probabilities[d])) for d in order]

    @property
    def unsure(self) -> bool:
        return self.confidence < UNSURE_BELOW


def to_gray(image: np.ndarray | Image.Image) -> np.ndarray:
    """Any picture -> (H, W) float32 luminance in [0, 1].

    Takes a PIL image or an array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), uint8 or
    float in [0, 1]. Transparency is flattened onto a background that contrasts with the
    opaque pixels, so dark strokes on a transparent layer stay visible and so do light ones.
    """
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGBA") if image.mode not in ("L", "RGB", "RGBA") else image)
    pixels = np.asarray(image)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (3, 4)) or 0 in pixels.shape:
        raise ImageError(f"expected a grayscale, RGB or RGBA picture, got an array of shape {pixels.shape}")
    pixels = pixels.astype(np.float32) / 255.0 if pixels.dtype == np.uint8 else pixels.astype(np.float32)
    if pixels.ndim == 2:
        return np.clip(pixels, 0.0, 1.0)
    gray = pixels[:, :, :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma, as PIL's "L"
    if pixels.shape[2] == 4:
        alpha = pixels[:, :, 3]
        if alpha.min() < 1.0:
            weight = alpha.sum()
            # Light strokes go onto black, dark strokes onto white; fully transparent -> all background.
            stroke_level = float((gray * alpha).sum() / weight) if weight > 0 else 0.0
            backdrop = 1.0 if stroke_level < 0.5 else 0.0
            gray = gray * alpha + backdrop * (1.0 - alpha)
    return np.clip(gray, 0.0, 1.0)


def border_pixels(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one-pixel ring around the picture: (rows, columns, levels), each a flat array."""
    h, w = image.shape
    on_border = np.zeros((h, w), dtype=bool)
    on_border[[0, -1], :] = True
    on_border[:, [0, -1]] = True
    rows, cols = np.nonzero(on_border)
    return rows, cols, image[rows, cols]


def fit_background(image: np.ndarray) -> tuple[np.ndarray, float]:
    """(H, W) the background as a plane a + b*x + c*y fitted to the border, and the noise about it.

    The border is where a picture of a digit is background: the digit touches it at a few
    points at most, whatever share of the picture its ink covers. A plane follows paper lit
    unevenly from one side, as phone photos are, and a drawing's black background fits it
    exactly. The fit is robust: border pixels more than a few noise widths off the plane
    (ink that reaches the edge) are dropped and the plane fitted again. The noise is the
    robust standard deviation (1.4826 x median absolute deviation) of the kept pixels.
    """
    h, w = image.shape
    rows, cols, level = border_pixels(image)
    y, x = rows / max(1, h - 1) - 0.5, cols / max(1, w - 1) - 0.5  # centred coordinates keep the fit well posed
    design = np.stack([np.ones_like(x), x, y], axis=1)
    level = level.astype(np.float64)
    # Start from the pixels near the border's typical level: ink on the edge would tilt a first plane.
    typical = float(np.median(level))
    keep = np.abs(level - typical) <= 3.0 * 1.4826 * float(np.median(np.abs(level - typical))) + 1e-4
    for _ in range(BACKGROUND_ROUNDS):
        coefficients, *_ = np.linalg.lstsq(design[keep], level[keep], rcond=None)
        residual = level - design @ coefficients
        centre = float(np.median(residual[keep]))
        noise = 1.4826 * float(np.median(np.abs(residual[keep] - centre)))
        within = np.abs(residual - centre) <= 3.0 * noise + 1e-4
        if within.sum() < 3:
            break
        keep = within
    coefficients, *_ = np.linalg.lstsq(design[keep], level[keep], rcond=None)
    a, b, c = coefficients
    y_all = (np.arange(h, dtype=np.float64) / max(1, h - 1) - 0.5)[:, None]
    x_all = (np.arange(w, dtype=np.float64) / max(1, w - 1) - 0.5)[None, :]
    return (a + b * x_all + c * y_all).astype(np.float32), noise


def ink_is_dark(gray: np.ndarray) -> bool:
    """Whether (H, W) luminance shows dark ink on a light background (True) or light ink on dark.

    The ink is what departs furthest from the border's level: if the darkest pixel is further
    below it than the lightest is above, the ink is dark. When the border is itself half ink
    (its level midway between the extremes, as in a straight 1 cropped tight), the middle of
    the picture decides instead: a digit's ink gathers towards the middle, its background
    towards the edges. A flat picture is called by its level (light paper, or a dark canvas).
    """
    ring_level = float(np.median(border_pixels(gray)[2]))
    darkest, lightest = float(gray.min()), float(gray.max())
    if lightest <= darkest:
        return ring_level > 0.5
    position = (ring_level - darkest) / (lightest - darkest)  # 0: the border is as dark as the darkest pixel
    if abs(position - 0.5) > MIXED_BORDER:
        return position > 0.5
    h, w = gray.shape
    middle = float(np.median(gray[h // 4:h - h // 4, w // 4:w - w // 4]))
    return middle < ring_level


def find_ink(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """(H, W) luminance -> (ink in [0, 1] with the background at 0, whether it was inverted).

    Nothing here assumes the ink is a small share of the picture, so a digit that fills
    the frame keeps its faint strokes: the background is read from the border (see
    ``fit_background``), never from the picture as a whole. Dark ink on a light background
    (``ink_is_dark``) is inverted to MNIST's white on black. The background plane is
    subtracted, levels are stretched so the strong ink is 1, and a floor five noise widths
    up removes paper texture and JPEG noise while a clean drawing keeps its grey
    anti-aliased edges.
    """
    gray = gray.astype(np.float32)
    inverted = ink_is_dark(gray)
    ink = (1.0 - gray) if inverted else gray
    background, noise = fit_background(ink)
    ink = ink - background
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        return np.zeros_like(gray), bool(inverted)
    # The strongest ink is a high percentile of the clearly inked pixels, not the maximum, which noise inflates.
    peak = float(np.percentile(ink[ink > peak / 2], 90))
    floor = min(0.5, max(0.02, 5.0 * noise / peak))  # 5 sigma: not one stray pixel in a million widens the box
    ink = np.clip((ink / peak - floor) / (1.0 - floor), 0.0, 1.0)
    return ink.astype(np.float32), bool(inverted)


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the inked pixels (bottom/right exclusive), or None if too few."""
    inked = ink > 0
    if inked.sum() < max(4, MIN_INK_FRACTION * ink.size):
        return None
    rows = np.flatnonzero(inked.any(axis=1))
    cols = np.flatnonzero(inked.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def fit_to_box(crop: np.ndarray, size: int = FIT_SIZE) -> np.ndarray:
    """Scale so the longer side is ``size`` px, aspect ratio kept, anti-aliased (grey levels kept)."""
    h, w = crop.shape
    scale = size / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    # PIL widens its filter when shrinking, so every source pixel contributes: true anti-aliasing.
    resized = Image.fromarray(crop.astype(np.float32), mode="F").resize((new_w, new_h), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def trim(image: np.ndarray) -> np.ndarray:
    """``image`` cropped to its inked (non-zero) pixels; an image with no ink is returned as it is."""
    rows, cols = np.flatnonzero(image.max(1) > 0), np.flatnonzero(image.max(0) > 0)
    if rows.size == 0:
        return image
    return image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def sharpen(crop: np.ndarray, how: str) -> np.ndarray:
    """Grey edges steepened ("stretch": 0.25..0.75 -> 0..1; "threshold": at 0.5), or ``crop`` itself ("none")."""
    if how == "stretch":
        return trim(np.clip((crop - 0.25) / 0.5, 0.0, 1.0).astype(np.float32))
    if how == "threshold":
        return trim((crop >= 0.5).astype(np.float32))
    return crop


def slant(image: np.ndarray) -> float:
    """The ink's shear mu11 / mu02 (columns per row about the centre of mass); 0 for an upright digit.

    Negative when the top leans right, as most of MNIST's digits do. Shearing every row by
    ``-slant * (row - centre)`` columns makes mu11, and so the slant, zero: MNIST-style deskewing.
    """
    total = float(image.sum())
    rows, cols = np.indices(image.shape, dtype=np.float64)
    row_c, col_c = (rows * image).sum() / total, (cols * image).sum() / total
    mu02 = float(((rows - row_c) ** 2 * image).sum())
    mu11 = float(((rows - row_c) * (cols - col_c) * image).sum())
    return mu11 / mu02 if mu02 > 0 else 0.0


def shear_rows(image: np.ndarray, shear: float) -> np.ndarray:
    """Each row moved by ``-shear * (row - centre of mass)`` columns (bilinear), then trimmed to the ink."""
    h, w = image.shape
    row_c = float((np.arange(h)[:, None] * image).sum() / image.sum())
    pad = int(np.ceil(abs(shear) * max(row_c, h - row_c))) + 1
    # Output pixel (x, y) takes the input at (x - pad + shear * (y - row_c), y); PIL's pixel centres are at +0.5.
    sheared = Image.fromarray(image.astype(np.float32), mode="F").transform(
        (w + 2 * pad, h), Image.Transform.AFFINE, (1, shear, -pad - shear * (row_c + 0.5) + 0.5, 0, 1, 0),
        resample=Image.Resampling.BILINEAR)
    return trim(np.clip(np.asarray(sheared, dtype=np.float32), 0.0, 1.0))


def deskew(crop: np.ndarray, how: str = "full") -> np.ndarray:
    """``crop`` sheared so its ``slant`` is 0 ("full"), MNIST's median ("median"), or within MNIST's range
    ("range"); ``crop`` itself for "none"."""
    if how == "none":
        return crop
    now = slant(crop)
    goal = {"full": 0.0, "median": MNIST_SLANT[1]}.get(how, min(max(now, MNIST_SLANT[0]), MNIST_SLANT[2]))
    shear = float(np.clip(now - goal, -MAX_SHEAR, MAX_SHEAR))
    return crop if abs(shear) < 1e-3 else shear_rows(crop, shear)


def stroke_width(image: np.ndarray) -> float:
    """The typical stroke width of the ink in pixels: twice its area over its perimeter.

    A stroke of width w and length L has area w*L and perimeter about 2L. The area is the sum
    of the ink; the perimeter is the total variation (the sum of |steps| along rows and columns)
    times pi/4, which turns the city-block length of an edge into its true length averaged over
    directions. Both sums are nearly unchanged by a blur narrower than the stroke, so a blurred stroke
    measures about as wide as a sharp one.
    """
    padded = np.pad(image.astype(np.float64), 1)
    variation = np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum()
    return float(2.0 * padded.sum() / (variation * np.pi / 4)) if variation > 0 else 0.0


def _disk_filter(image: np.ndarray, radius: int, grow: bool) -> np.ndarray:
    """Each pixel the maximum (``grow``) or minimum of ``image`` over a disk of whole-pixel ``radius``."""
    source = np.pad(image, radius)
    h, w = image.shape
    out = image.copy()
    pick = np.maximum if grow else np.minimum
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx <= radius * radius:
                out = pick(out, source[radius + dy:radius + dy + h, radius + dx:radius + dx + w])
    return out


def grey_disk(image: np.ndarray, radius: float, grow: bool) -> np.ndarray:
    """Grey dilation (``grow``, the image padded so the ink can spread) or erosion with a disk of ``radius`` px.

    A fractional radius blends the results of the two whole radii either side of it, so each
    edge moves by ``radius`` on average however small it is.
    """
    whole = int(np.floor(radius))
    part = radius - whole
    base = np.pad(image, whole + 1) if grow else image
    lower = _disk_filter(base, whole, grow)
    if part < 1e-3:
        return lower
    return ((1.0 - part) * lower + part * _disk_filter(base, whole + 1, grow)).astype(np.float32)


def fit_stroke(crop: np.ndarray, how: str = "range") -> tuple[np.ndarray, float, float]:
    """(the crop with its strokes widened or thinned, the width before, the width after), widths at the 20 px scale.

    The width is measured with the digit fitted to STROKE_WORK x 20 px and changed there by a grey
    dilation or erosion with a disk, which keeps the anti-aliased edges. "range" brings it into MNIST's
    5th-95th percentile and leaves a width inside alone (the crop is returned as it was); "median"
    brings every width to MNIST's median. An erosion that would leave no ink is not made.
    """
    big = fit_to_box(crop, FIT_SIZE * STROKE_WORK)
    width = stroke_width(big) / STROKE_WORK
    low, middle, high = MNIST_STROKE
    goal = middle if how == "median" else min(max(width, low), high)
    radius = (goal - width) / 2 * STROKE_WORK  # each edge moves by half the change
    if how == "none" or abs(radius) < 0.5:
        return crop, width, width
    changed = trim(grey_disk(big, abs(radius), grow=radius > 0))
    if changed.max() <= 0:
        return crop, width, width
    return changed, width, stroke_width(changed) / STROKE_WORK


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted centre of an image with some ink."""
    total = float(image.sum())
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def centre_in_field(fitted: np.ndarray, size: int = FIELD_SIZE) -> np.ndarray:
    """Place ``fitted`` in a size x size field so its centre of mass lands on FIELD_CENTRE.

    The shift is whole pixels, as MNIST's was, so no extra blur is added. A lopsided digit (a 7
    whose heavy bar pulls its centre of mass up) would be pushed past the edge and lose the end of
    its stroke: the shift stops where the whole digit still fits, a pixel or two off the centre.
    """
    com_row, com_col = centre_of_mass(fitted)
    h, w = fitted.shape
    top = min(max(round(FIELD_CENTRE - com_row), 0), max(size - h, 0))
    left = min(max(round(FIELD_CENTRE - com_col), 0), max(size - w, 0))
    field = np.zeros((size, size), dtype=np.float32)
    rows, cols = min(h, size - top), min(w, size - left)
    field[top:top + rows, left:left + cols] = fitted[:rows, :cols]
    return field


def normalize_field(field: np.ndarray) -> torch.Tensor:
    """(28, 28) pixels in [0, 1] -> (1, 28, 28) normalised exactly like the training images."""
    return ((torch.from_numpy(np.ascontiguousarray(field, dtype=np.float32)) - MNIST_MEAN) / MNIST_STD).unsqueeze(0)


def straightened(model: torch.nn.Module, field: np.ndarray) -> np.ndarray | None:
    """The (28, 28) input ``field`` as the model's convolutions see it, for a model that deskews; else None."""
    deskew = deskew_layer(model)
    if deskew is None:
        return None
    with torch.no_grad():
        return denormalize(deskew(normalize_field(field).unsqueeze(0)))[0, 0].numpy()


def preprocess(image: np.ndarray | Image.Image, preparation: Preparation = Preparation()) -> Pipeline:
    """A picture of a digit, any size, either polarity -> the model's input and every stage on the way.

    ``preparation`` chooses the steps between the crop and the fit; leave it out for the pipeline
    that ``predict`` and the Draw-a-digit page use.
    """
    ink, inverted = find_ink(to_gray(image))
    box = ink_box(ink)
    if box is None:
        return Pipeline(ink=ink, inverted=inverted)
    top, left, bottom, right = box
    crop = ink[top:bottom, left:right]
    stroked, width, new_width = fit_stroke(deskew(sharpen(crop, preparation.sharpen), preparation.deskew),
                                           preparation.stroke)
    fitted = fit_to_box(stroked)
    centred = centre_in_field(fitted)
    return Pipeline(ink=ink, inverted=inverted, box=box, crop=crop, stroked=stroked, stroke_widths=(width, new_width),
                    fitted=fitted, centred=centred, input=normalize_field(centred))


def predict_batch(model: torch.nn.Module, inputs: torch.Tensor) -> np.ndarray:
    """(B, 1, 28, 28) normalised inputs -> (B, 10) probabilities, with the model in eval mode."""
    model.eval()
    with torch.no_grad():
        return model(inputs).exp().numpy()  # the lesson's models return log-probabilities


def predict(model: torch.nn.Module, pipeline: Pipeline) -> Prediction | None:
    """The model's answer for one preprocessed picture; None when nothing was drawn."""
    if pipeline.nothing_drawn:
        return None
    probabilities = predict_batch(model, pipeline.input.unsqueeze(0))[0]
    return Prediction(digit=int(probabilities.argmax()), probabilities=probabilities)


def class_score(log_probabilities: torch.Tensor, digit: int) -> torch.Tensor:
    """The logit of ``digit`` relative to the mean logit, from (B, 10) log-probabilities.

    log_softmax subtracts the same log-sum-exp from every logit, so the log-probability
    of ``digit`` minus the mean log-probability equals its logit minus the mean logit.
    Unlike the log-probability, this score does not saturate: a confident answer still
    has gradients worth showing.
    """
    return log_probabilities[:, digit] - log_probabilities.mean(dim=1)


def saliency(model: torch.nn.Module, pipeline: Pipeline, digit: int) -> np.ndarray:
    """(28, 28) gradient x input: how much each pixel's ink raises the score (``class_score``) of ``digit``.

    The input term is the pixel's ink in [0, 1], not its normalised value, so a blank
    pixel contributes nothing (against a blank-field baseline) rather than its gradient
    times the background's negative level. Positive: this ink argues for ``digit``.
    ``torch.autograd.grad`` leaves the parameters' ``.grad`` untouched, so a model
    shared between users is never changed.
    """
    if pipeline.nothing_drawn:
        raise ValueError("nothing was drawn, so there is no saliency to compute")
    model.eval()
    x = pipeline.input.unsqueeze(0).clone().requires_grad_(True)  # (1, 1, 28, 28)
    (gradient,) = torch.autograd.grad(class_score(model(x), digit).sum(), x)
    pixel_gradient = gradient[0, 0].numpy() / MNIST_STD  # d/d(pixel) = d/d(normalised) / std
    return (pixel_gradient * pipeline.centred).astype(np.float32)


def read_image_bytes(data: bytes) -> np.ndarray:
    """An uploaded or stored image file -> (H, W, 4) uint8 RGBA, upright, longer side at most WORK_SIDE.

    Raises ImageError with a message for the user for an empty file, a file over
    MAX_UPLOAD_BYTES or MAX_UPLOAD_PIXELS, a picture under MIN_UPLOAD_SIDE either way,
    and anything Pillow cannot decode.
    """
    if not data:
        raise ImageError("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(f"the file is larger than the limit of {MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_UPLOAD_PIXELS:
                raise ImageError(f"the picture is {image.width}x{image.height} pixels; the limit is "
                                 f"{MAX_UPLOAD_PIXELS / 1e6:.0f} megapixels, plenty for one digit: crop it, or "
                                 "take it at a lower resolution")
            if min(image.width, image.height) < MIN_UPLOAD_SIDE:
                raise ImageError(f"the picture is only {image.width}x{image.height} pixels, too small to show a "
                                 f"digit; it needs at least {MIN_UPLOAD_SIDE} pixels each way (MNIST's are 28x28)")
            image.draft("RGB", (WORK_SIDE, WORK_SIDE))  # a JPEG decodes at 1/2, 1/4 or 1/8 size: never more
            image = ImageOps.exif_transpose(image)  # phone photos are stored sideways with an EXIF rotation
            image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
            return np.asarray(image.convert("RGBA"))
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("the picture has too many pixels to open safely") from None
    except Image.UnidentifiedImageError:
        raise ImageError("this is not an image: no PNG, JPEG or other picture format was recognised") from None
    except (OSError, ValueError, SyntaxError):  # Pillow's ways of saying a recognised file is broken
        raise ImageError("the image could not be decoded: the file is damaged or cut short") from None
