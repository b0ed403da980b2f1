"""Three sets of pictures for judging ``inference.preprocess`` on digits from outside MNIST.

A digit photographed small (8 to 16 pixels tall) and enlarged to fill the frame is blurred,
its strokes may be thicker or thinner than MNIST's, and it may lean. Each set here is made
the same way every time (seeded), so two ways of preparing a picture can be compared:

* ``font_digits``: outside MNIST. Digits rendered from every TrueType font on the machine
  that draws all ten of them, leaned by -15 to 15 degrees, thickened or thinned, shrunk to
  8-16 px tall on paper (dark ink on light, unevenly lit, with noise) and enlarged to a
  200-400 px frame with bilinear or bicubic resampling. These are typeset shapes, not human
  handwriting: they test slant, stroke width and blur, not the variety of people's hands.
* ``uci_digits``: outside MNIST, real handwriting: the 8x8 digits that scikit-learn ships (UCI's
  optdigits, 43 writers), which were already small, on the same paper and enlarged the same way.
* ``mnist_photographed``: MNIST test digits put through the same small photo and enlargement.
* ``canvas_redrawn``: MNIST test digits re-drawn as a user draws on the 280x280 canvas:
  scaled up 4-10x, solid thick strokes, anywhere on the black square, white on black.

``mnist_shapes`` measures MNIST's own stroke widths and slants, from which ``inference`` takes
its ranges; ``passes_through`` checks that MNIST's own digits still come out of ``preprocess``
as they went in. ``accuracy`` runs a model on a set through ``preprocess`` and ``predict_batch``, the path that
``python -m mnist_core predict`` and the Draw-a-digit page take.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mnist_core.engine.data import MnistTensors, denormalize
from mnist_core.explain.inference import (
    FIT_SIZE,
    STROKE_WORK,
    Preparation,
    fit_to_box,
    predict_batch,
    preprocess,
    slant,
    stroke_width,
    trim,
)

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
RENDER_SIZE = 96  # fonts are drawn this many points large, then leaned, thickened and shrunk
SMALL_HEIGHTS = (8, 16)  # the digit's height in the small photo, pixels, both ends included
FRAME_SIDES = (200, 400)  # the enlarged picture's longer side, pixels
MAX_LEAN_DEGREES = 15.0
PEN_CHANGES = (-2, -1, 0, 2, 4, 6)  # pen p < 0: MinFilter(1 - 2p), thinner; p > 0: MaxFilter(2p + 1), thicker
CANVAS = 280


@dataclass(frozen=True)
class PictureSet:
    name: str
    pictures: list[np.ndarray]  # each (H, W) uint8 gray or (H, W, 4) uint8 RGBA
    labels: np.ndarray  # (N,) int


def digit_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> list[Path]:
    """Every .ttf/.otf font under ``dirs`` that draws ten different digits, sorted by path."""
    found = []
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".ttf", ".otf")):
            try:
                font = ImageFont.truetype(str(path), 32)
                masks = {bytes(font.getmask(str(d))) for d in range(10)}
            except OSError:
                continue
            if len(masks) == 10 and all(masks):  # a font without digits draws one box for all ten
                found.append(path)
    return sorted(found)


def _tight(ink: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(ink.max(1) > 0.02), np.flatnonzero(ink.max(0) > 0.02)
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _render_font_digit(font: ImageFont.FreeTypeFont, digit: int, lean: float, pen: int) -> np.ndarray:
    """(H, W) float ink in [0, 1], tight: the glyph leaned by ``lean`` degrees and its pen changed."""
    side = RENDER_SIZE * 2
    image = Image.new("L", (side, side), 0)
    ImageDraw.Draw(image).text((side // 4, side // 8), str(digit), fill=255, font=font)
    shear = np.tan(np.radians(lean))  # positive leans the top to the right, as a right-handed writer does
    image = image.transform(image.size, Image.Transform.AFFINE, (1, shear, -shear * side / 2, 0, 1, 0),
                            resample=Image.Resampling.BICUBIC)
    for size in range(-2 * pen + 1, 1, -2):  # thinner, but a hairline font is not thinned away
        thinner = image.filter(ImageFilter.MinFilter(size))
        if np.asarray(thinner).max() > 128:
            image = thinner
            break
    if pen > 0:
        image = image.filter(ImageFilter.MaxFilter(2 * pen + 1))
    return _tight(np.asarray(image, dtype=np.float32) / 255.0)


def photograph_small(ink: np.ndarray, rng: np.random.Generator, shrink: bool = True) -> np.ndarray:
    """A tight (H, W) ink picture as a small photo of dark ink on paper, enlarged to fill a frame: (H', W') uint8.

    The digit is shrunk (anti-aliased) to 8-16 px tall (unless ``shrink`` is false), set on
    paper with a 10-25% margin, lit unevenly and given sensor noise at that small size, then the
    whole photo is enlarged with bilinear or bicubic resampling so its longer side is 200-400 px.
    """
    h, w = ink.shape
    height = int(rng.integers(SMALL_HEIGHTS[0], SMALL_HEIGHTS[1] + 1)) if shrink else h
    width = max(1, round(w * height / h))
    small = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize((width, height),
                                                                                  Image.Resampling.BOX))
    margin = max(2, round(rng.uniform(0.10, 0.25) * height))
    frame_h, frame_w = height + 2 * margin, width + 2 * margin
    placed = np.zeros((frame_h, frame_w), dtype=np.float32)
    top, left = margin + int(rng.integers(-1, 2)), margin + int(rng.integers(-1, 2))
    placed[top:top + height, left:left + width] = np.clip(small, 0, 1)
    y, x = np.mgrid[0:frame_h, 0:frame_w]
    tilt = rng.uniform(-0.15, 0.15, size=2)
    paper = rng.uniform(0.75, 0.95) + tilt[0] * (x / frame_w - 0.5) + tilt[1] * (y / frame_h - 0.5)
    ink_level = rng.uniform(0.05, 0.30)
    photo = paper - (paper - ink_level) * placed + rng.normal(0, rng.uniform(0.005, 0.03), placed.shape)
    photo = (np.clip(photo, 0, 1) * 255).round().astype(np.uint8)
    side = int(rng.integers(FRAME_SIDES[0], FRAME_SIDES[1] + 1))
    scale = side / max(frame_h, frame_w)
    resample = Image.Resampling.BILINEAR if rng.random() < 0.5 else Image.Resampling.BICUBIC
    return np.asarray(Image.fromarray(photo).resize((round(frame_w * scale), round(frame_h * scale)), resample))


def font_digits(seed: int = 0, per_digit: int = 5, fonts: list[Path] | None = None,
                pens: tuple[int, ...] = PEN_CHANGES) -> PictureSet:
    """``per_digit`` pictures of each digit in each font (default: ``digit_fonts``): random lean, pen (one of
    ``pens``), size and enlargement."""
    rng = np.random.default_rng(seed)
    pictures, labels = [], []
    for path in fonts if fonts is not None else digit_fonts():
        font = ImageFont.truetype(str(path), RENDER_SIZE)
        for digit in range(10):
            for _ in range(per_digit):
                lean = float(rng.uniform(-MAX_LEAN_DEGREES, MAX_LEAN_DEGREES))
                pen = int(rng.choice(pens))
                pictures.append(photograph_small(_render_font_digit(font, digit, lean, pen), rng))
                labels.append(digit)
    return PictureSet("outside MNIST: fonts, photographed small", pictures, np.array(labels))


def uci_digits(seed: int = 0) -> PictureSet:
    """The 1,797 handwritten digits of scikit-learn's ``load_digits`` (UCI's optdigits: 43 writers, none of
    MNIST's; 8x8 with 17 levels of ink), set on paper and enlarged as ``photograph_small`` does, at their own size."""
    from sklearn.datasets import load_digits  # only here: scikit-learn takes a second to import

    digits = load_digits()
    rng = np.random.default_rng(seed)
    pictures = [photograph_small(trim((image / 16.0).astype(np.float32)), rng, shrink=False) for image in digits.images]
    return PictureSet("outside MNIST: UCI handwriting, 8x8", pictures, digits.target.astype(int))


def _mnist_pixels(mnist: MnistTensors, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` test digits as (N, 28, 28) uint8, and their labels."""
    pixels = (denormalize(mnist.test_images[:count]) * 255).round().to(torch.uint8)[:, 0].numpy()
    return pixels, mnist.test_labels[:count].numpy()


def mnist_photographed(mnist: MnistTensors, count: int = 1000, seed: int = 0) -> PictureSet:
    """The first ``count`` MNIST test digits, photographed small and enlarged as ``font_digits`` are."""
    rng = np.random.default_rng(seed)
    pixels, labels = _mnist_pixels(mnist, count)
    pictures = [photograph_small(_tight(p.astype(np.float32) / 255.0), rng) for p in pixels]
    return PictureSet("MNIST test digits, photographed small", pictures, labels)


def redraw_as_canvas(pixels: np.ndarray, rng: np.random.Generator, canvas: int = CANVAS) -> np.ndarray:
    """An MNIST digit re-drawn the way a user would: scaled up 4-10x, thick pen strokes, anywhere on the canvas."""
    crop = (_tight(pixels.astype(np.float32) / 255.0) * 255).round().astype(np.uint8)
    scale = rng.uniform(4, 10)
    h, w = crop.shape
    big = Image.fromarray(crop).resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC)
    pen = Image.fromarray(np.where(np.asarray(big) > 100, 255, 0).astype(np.uint8))  # a pen is solid, not grey
    pen = pen.filter(ImageFilter.MaxFilter(int(rng.integers(1, 4)) * 2 + 1))  # thicker strokes
    pen = np.asarray(pen.filter(ImageFilter.GaussianBlur(1)))[:canvas, :canvas]  # the canvas anti-aliases
    top, left = (int(rng.integers(0, canvas - n + 1)) for n in pen.shape)
    gray = np.zeros((canvas, canvas), dtype=np.uint8)
    gray[top:top + pen.shape[0], left:left + pen.shape[1]] = pen
    return np.dstack([gray, gray, gray, np.full_like(gray, 255)])


def canvas_redrawn(mnist: MnistTensors, count: int = 1000, seed: int = 0) -> PictureSet:
    """The first ``count`` MNIST test digits re-drawn on the canvas (``redraw_as_canvas``)."""
    rng = np.random.default_rng(seed)
    pixels, labels = _mnist_pixels(mnist, count)
    return PictureSet("canvas-style: MNIST test digits re-drawn", [redraw_as_canvas(p, rng) for p in pixels], labels)


def accuracy(model: torch.nn.Module, pictures: PictureSet, preparation: Preparation | None = None) -> float:
    """The share of ``pictures`` that ``model`` reads right through ``preprocess`` (with ``preparation``)."""
    inputs, read = [], []
    for picture in pictures.pictures:
        pipeline = preprocess(picture) if preparation is None else preprocess(picture, preparation)
        read.append(not pipeline.nothing_drawn)
        if not pipeline.nothing_drawn:
            inputs.append(pipeline.input)
    predicted = np.full(len(pictures.labels), -1)  # a picture read as blank is a wrong answer
    if inputs:
        predicted[np.array(read)] = predict_batch(model, torch.stack(inputs)).argmax(1)
    return float((predicted == pictures.labels).mean())


def mnist_shapes(mnist: MnistTensors, count: int = 5000) -> dict[str, np.ndarray]:
    """{"stroke": widths, "slant": slants} of the first ``count`` training digits, measured as ``preprocess``
    measures a picture (``stroke_width`` at STROKE_WORK x 20 px, per 20 px; ``slant``)."""
    pixels = denormalize(mnist.train_images[:count])[:, 0].numpy()
    crops = [trim(p.astype(np.float32)) for p in pixels]
    return {
        "stroke": np.array([stroke_width(fit_to_box(c, FIT_SIZE * STROKE_WORK)) / STROKE_WORK for c in crops]),
        "slant": np.array([slant(c) for c in crops]),
    }


def passes_through(mnist: MnistTensors, preparation: Preparation | None = None, count: int = 500,
                   tolerance: float = 0.03) -> float:
    """The share of the first ``count`` MNIST test digits that ``preprocess`` returns within ``tolerance``
    of themselves everywhere: MNIST is already cropped, fitted and centred, so it should pass unchanged."""
    originals = mnist.test_images[:count]
    pixels = (denormalize(originals) * 255).round().to(torch.uint8)[:, 0].numpy()
    inputs = torch.stack([(preprocess(p) if preparation is None else preprocess(p, preparation)).input
                          for p in pixels])
    worst = (denormalize(inputs) - denormalize(originals)).abs().flatten(1).max(1).values
    return float((worst < tolerance).float().mean())
