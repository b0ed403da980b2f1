"""The lesson's networks.

Both follow the same plan: two 3x3 convolutions at full resolution, a max-pool and a
1x1 "transition" that squeezes the channels, four more 3x3 convolutions, global average
pooling, and a 1x1 convolution to the ten classes. No padding anywhere, so the
receptive field of the last layer grows to exactly 28 pixels: the whole digit. No
convolution has a bias, since the BatchNorm (or the next ReLU's freedom) makes it
redundant, and a parameter saved is a parameter that can go into a channel.

Step 1 builds it plain (``LessonNet(batch_norm=False, dropout=0)``); Steps 2-4 add
BatchNorm after every 3x3 block and a little dropout.

Step 5 goes past the lesson with another plan: ``SeparableNet`` splits each 3x3 block after
the max-pool into a depthwise 3x3 and a pointwise 1x1 convolution, which buys wider layers
for fewer parameters (4,918 in all), and uses SiLU where the lesson uses ReLU.

Two more networks are trials a recipe can name (``TrainConfig.network``) rather than steps:
``ReferenceNet``, a public 3,762-parameter design rebuilt so it can be measured here, and
``TinyNet`` (2,924), a first candidate for a step under 3,000 parameters.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.engine.deskew import Deskew


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, bias=False)


def conv1x1(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)


class FastDropout(nn.Module):
    """``nn.Dropout`` with cheaper random numbers: same expectation, same behaviour in eval.

    PyTorch's dropout draws one float per activation on a single core, which took a
    third of each training step on a 2-core CPU. Here each 64-bit random word yields
    four 16-bit draws, compared with a threshold: about 2.5x less time per mask, and
    the drop probability is exact to 1/65,536.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        n = x.numel()
        words = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64, device=x.device)
        draws = words.view(torch.int16)[:n].view(x.shape)  # uniform over [-32768, 32767]
        keep = draws >= round(self.p * 65536) - 32768
        return x * keep * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


# The nonlinearity of every block, by the name a recipe gives (``TrainConfig.activation``).
# ReLU is the lesson's. SiLU, x * sigmoid(x), is smooth and lets a little negative signal
# (and its gradient) through where ReLU outputs a hard zero.
# The recipe accepts exactly these names (``config.ACTIVATIONS`` is read from here).
ACTIVATION_LAYERS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "silu": nn.SiLU}


def conv_block(in_channels: int, out_channels: int, batch_norm: bool, dropout: float,
               activation: str = "relu") -> nn.Sequential:
    """3x3 conv -> activation -> [BatchNorm] -> [Dropout]; BatchNorm after the ReLU, as the lesson has it."""
    layers: list[nn.Module] = [conv3x3(in_channels, out_channels), ACTIVATION_LAYERS[activation]()]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    if dropout > 0:
        layers.append(FastDropout(dropout))
    return nn.Sequential(*layers)


# Output channels of block1, block2, the 1x1 squeeze, then block3 to block6. The shape
# comments in ``forward`` are for these, the lesson's own; Step 5 narrows them.
LESSON_WIDTHS = (12, 14, 10, 14, 14, 16, 16)


class LessonNet(nn.Module):
    """The lesson's network: 9,264 parameters plain (Step 1), 9,436 with BatchNorm (Steps 2-4).

    Dropout sits after the first block and after each block past the transition; the
    block right before the max-pool has none, since the pool already drops three
    activations in four.
    """

    building_blocks = (conv_block,)  # the helpers __init__ calls; the step page shows their code with the class

    def __init__(self, batch_norm: bool = True, dropout: float = 0.05,
                 widths: tuple[int, ...] = LESSON_WIDTHS, activation: str = "relu", deskew: bool = False) -> None:
        super().__init__()
        c1, c2, squeeze, c3, c4, c5, c6 = widths
        self.deskew = Deskew() if deskew else None  # no weights: the random draws below are the same either way
        self.block1 = conv_block(1, c1, batch_norm, dropout, activation)
        self.block2 = conv_block(c1, c2, batch_norm, 0.0, activation)
        self.pool = nn.MaxPool2d(2, 2)
        self.transition = conv1x1(c2, squeeze)  # squeeze channels before the second stage
        self.block3 = conv_block(squeeze, c3, batch_norm, dropout, activation)
        self.block4 = conv_block(c3, c4, batch_norm, dropout, activation)
        self.block5 = conv_block(c4, c5, batch_norm, dropout, activation)
        self.block6 = conv_block(c5, c6, batch_norm, dropout, activation)
        self.gap = nn.AvgPool2d(4)
        self.classifier = conv1x1(c6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        if self.deskew is not None:
            x = self.deskew(x)  # (B, 1, 28, 28), each digit upright and centred
        x = self.block1(x)  # (B, 12, 26, 26)
        x = self.block2(x)  # (B, 14, 24, 24)
        x = self.pool(x)  # (B, 14, 12, 12)
        x = self.transition(x)  # (B, 10, 12, 12)
        x = self.block3(x)  # (B, 14, 10, 10)
        x = self.block4(x)  # (B, 14, 8, 8)
        x = self.block5(x)  # (B, 16, 6, 6)
        x = self.block6(x)  # (B, 16, 4, 4)
        x = self.gap(x)  # (B, 16, 1, 1)
        x = self.classifier(x)  # (B, 10, 1, 1)
        return F.log_softmax(x.flatten(1), dim=1)  # (B, 10)


def conv_bn_act(in_channels: int, out_channels: int, activation: str) -> nn.Sequential:
    """3x3 conv -> BatchNorm -> activation: Step 5's full-resolution block."""
    return nn.Sequential(conv3x3(in_channels, out_channels), nn.BatchNorm2d(out_channels),
                         ACTIVATION_LAYERS[activation]())


def separable_block(in_channels: int, out_channels: int, dropout: float, activation: str) -> nn.Sequential:
    """Depthwise 3x3 -> pointwise 1x1 -> BatchNorm -> activation -> [Dropout].

    The depthwise convolution looks at a 3x3 window of each channel on its own (9 weights
    per channel); the pointwise one mixes the channels (one weight per pair). Together they
    see what a 3x3 convolution sees for ``9 * c_in + c_in * c_out`` weights instead of
    ``9 * c_in * c_out``: 792 instead of 5,184 at 24 channels in and out.
    """
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, in_channels, kernel_size=3, groups=in_channels, bias=False),
        conv1x1(in_channels, out_channels),
        nn.BatchNorm2d(out_channels),
        ACTIVATION_LAYERS[activation](),
    ]
    if dropout > 0:
        layers.append(FastDropout(dropout))
    return nn.Sequential(*layers)


class SeparableNet(nn.Module):
    """Step 5: 4,918 parameters, about half the lesson's.

    The lesson's plan (no padding, two 3x3 blocks at full resolution, a max-pool, four more
    3x3 blocks down to 4x4, global average pooling, a 1x1 convolution to the ten digits),
    with three changes. The four blocks after the pool are depthwise-separable, which pays
    for 24 channels each where the lesson had 14-16; the two full-resolution blocks, where
    the strokes are found, stay ordinary 3x3 convolutions (10 and 16 channels) and need no
    squeeze after the pool; and every block normalises before its activation, which is
    SiLU in Step 5's recipe. The receptive field of the last block is 22 pixels, and the
    average pool over its 4x4 outputs covers the whole digit.
    """

    building_blocks = (conv_bn_act, separable_block)

    def __init__(self, dropout: float = 0.0, activation: str = "silu",
                 widths: tuple[int, int, int] = (10, 16, 24), deskew: bool = False) -> None:
        super().__init__()
        c1, c2, c3 = widths  # the two full-resolution blocks, then the four separable ones
        self.deskew = Deskew() if deskew else None  # no weights: the random draws below are the same either way
        self.block1 = conv_bn_act(1, c1, activation)
        self.block2 = conv_bn_act(c1, c2, activation)
        self.pool = nn.MaxPool2d(2, 2)
        self.block3 = separable_block(c2, c3, dropout, activation)
        self.block4 = separable_block(c3, c3, dropout, activation)
        self.block5 = separable_block(c3, c3, dropout, activation)
        self.block6 = separable_block(c3, c3, dropout, activation)
        self.gap = nn.AvgPool2d(4)
        self.classifier = conv1x1(c3, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        if self.deskew is not None:
            x = self.deskew(x)  # (B, 1, 28, 28), each digit upright and centred
        x = self.block1(x)  # (B, 10, 26, 26)
        x = self.block2(x)  # (B, 16, 24, 24)
        x = self.pool(x)  # (B, 16, 12, 12)
        x = self.block3(x)  # (B, 24, 10, 10)
        x = self.block4(x)  # (B, 24, 8, 8)
        x = self.block5(x)  # (B, 24, 6, 6)
        x = self.block6(x)  # (B, 24, 4, 4)
        x = self.gap(x)  # (B, 24, 1, 1)
        x = self.classifier(x)  # (B, 10, 1, 1)
        return F.log_softmax(x.flatten(1), dim=1)  # (B, 10)


def tied_separable_block(shared: nn.Sequential, channels: int, activation: str) -> nn.Sequential:
    """One more use of ``shared``'s depthwise and pointwise convolutions, with a BatchNorm of its own.

    The two convolutions are the same modules (the same weights, trained by every use); only
    the BatchNorm is new, because each use sees a different map size and statistics.
    """
    depthwise, pointwise = shared[0], shared[1]
    return nn.Sequential(depthwise, pointwise, nn.BatchNorm2d(channels), ACTIVATION_LAYERS[activation]())


class TiedSeparableNet(nn.Module):
    """A trial for Step 7: Step 6's network with its last three blocks sharing one set of weights (1,908 parameters).

    Blocks 4, 5 and 6 of Step 6 have the same shape (18 channels in and out, a depthwise 3x3
    and a pointwise 1x1), so one set of those weights can serve all three: the image passes
    through the same convolutions three times, as a small recurrent network would, each time
    followed by a BatchNorm of its own. The network computes exactly as much as Step 6 and
    its receptive field is the same (22 pixels), but it keeps 972 fewer parameters.
    """

    building_blocks = (conv_bn_act, separable_block, tied_separable_block)

    def __init__(self, dropout: float = 0.0, activation: str = "silu",
                 widths: tuple[int, int, int] = (8, 10, 18)) -> None:
        super().__init__()
        c1, c2, c3 = widths
        self.block1 = conv_bn_act(1, c1, activation)
        self.block2 = conv_bn_act(c1, c2, activation)
        self.pool = nn.MaxPool2d(2, 2)
        self.block3 = separable_block(c2, c3, dropout, activation)
        self.block4 = separable_block(c3, c3, 0.0, activation)  # the shared weights live here
        self.block5 = tied_separable_block(self.block4, c3, activation)
        self.block6 = tied_separable_block(self.block4, c3, activation)
        self.gap = nn.AvgPool2d(4)
        self.classifier = conv1x1(c3, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        x = self.block1(x)  # (B, 8, 26, 26)
        x = self.block2(x)  # (B, 10, 24, 24)
        x = self.pool(x)  # (B, 10, 12, 12)
        x = self.block3(x)  # (B, 18, 10, 10)
        x = self.block4(x)  # (B, 18, 8, 8)
        x = self.block5(x)  # (B, 18, 6, 6): block 4's convolutions again
        x = self.block6(x)  # (B, 18, 4, 4): and once more
        x = self.gap(x)  # (B, 18, 1, 1)
        x = self.classifier(x)  # (B, 10, 1, 1)
        return F.log_softmax(x.flatten(1), dim=1)  # (B, 10)


STEP7_WIDTHS = (6, 8, 14)  # Step 7's channels: the two full-resolution blocks, then the four separable ones


class ResidualSeparableNet(SeparableNet):
    """A trial for Step 7: Step 7's network with a shortcut around each of its last three blocks (no parameters).

    Blocks 4, 5 and 6 keep their channel count, so each block's input can be added to its output;
    the block trims one pixel from every side (no padding), so the input is trimmed the same way
    first. The shortcut gives the gradient a path past each block and lets a block learn a change
    to what it is given rather than all of it. The layers are built in the same order as
    ``SeparableNet``'s, so a seed starts both networks from the same weights.
    """

    def __init__(self, dropout: float = 0.0, activation: str = "silu",
                 widths: tuple[int, int, int] = STEP7_WIDTHS) -> None:
        super().__init__(dropout, activation, widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        x = self.block1(x)  # (B, 6, 26, 26)
        x = self.block2(x)  # (B, 8, 24, 24)
        x = self.pool(x)  # (B, 8, 12, 12)
        x = self.block3(x)  # (B, 14, 10, 10)
        for block in (self.block4, self.block5, self.block6):  # 10 -> 8 -> 6 -> 4 pixels a side
            x = block(x) + x[:, :, 1:-1, 1:-1]
        x = self.gap(x)  # (B, 14, 1, 1)
        x = self.classifier(x)  # (B, 10, 1, 1)
        return F.log_softmax(x.flatten(1), dim=1)  # (B, 10)


class LatePoolSeparableNet(SeparableNet):
    """A trial for Step 7: Step 7's network with its max-pool one block later (the same 1,916 parameters).

    The first separable block works on the 24x24 map instead of the pooled 12x12 one, so one more
    layer sees the strokes at full detail; the three after the pool then shrink 11 -> 9 -> 7 -> 5
    and the average pool covers 5x5. The receptive field ends at 20 pixels instead of 22 and the
    network computes about a quarter more. The layers are built in ``SeparableNet``'s order, so a
    seed starts both networks from the same weights.
    """

    def __init__(self, dropout: float = 0.0, activation: str = "silu",
                 widths: tuple[int, int, int] = STEP7_WIDTHS) -> None:
        super().__init__(dropout, activation, widths)
        self.gap = nn.AvgPool2d(5)  # no weights: the random draws above are SeparableNet's

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        x = self.block1(x)  # (B, 6, 26, 26)
        x = self.block2(x)  # (B, 8, 24, 24)
        x = self.block3(x)  # (B, 14, 22, 22)
        x = self.pool(x)  # (B, 14, 11, 11)
        x = self.block4(x)  # (B, 14, 9, 9)
        x = self.block5(x)  # (B, 14, 7, 7)
        x = self.block6(x)  # (B, 14, 5, 5)
        x = self.gap(x)  # (B, 14, 1, 1)
        x = self.classifier(x)  # (B, 10, 1, 1)
        return F.log_softmax(x.flatten(1), dim=1)  # (B, 10)


class DepthwiseActivatedNet(SeparableNet):
    """A trial for Step 7: Step 7's network with a second activation in each separable block (1,916 parameters).

    In ``separable_block`` the depthwise and the pointwise convolutions run back to back, so together
    they are one linear map followed by one activation. Here the depthwise output is normalised
    (BatchNorm without its scale and shift, so no parameters) and activated before the pointwise
    convolution mixes the channels, as MobileNet's blocks do: twice the nonlinear layers for the same
    weights. Built in ``SeparableNet``'s order, so a seed starts both networks from the same weights.
    """

    def __init__(self, dropout: float = 0.0, activation: str = "silu",
                 widths: tuple[int, int, int] = STEP7_WIDTHS) -> None:
        super().__init__(dropout, activation, widths)
        for name in ("block3", "block4", "block5", "block6"):
            depthwise, *rest = getattr(self, name)
            setattr(self, name, nn.Sequential(depthwise, nn.BatchNorm2d(depthwise.out_channels, affine=False),
                                              ACTIVATION_LAYERS[activation](), *rest))


class Shift3x3(nn.Module):
    """Each channel moved one pixel in one of nine directions (the centre among them): a 3x3 look with no weights.

    It stands where a depthwise 3x3 convolution stands and shrinks the map by the same two pixels,
    but each channel's "kernel" is a fixed one-hot: channel c sees the pixel at offset c mod 9 of its
    3x3 window (the Shift layer of Wu et al., 2018). The pointwise convolution after it then mixes
    channels that looked in different directions, so the block still sees a 3x3 window as a whole.
    The kernels are a buffer, rebuilt with the network, so they are neither trained nor saved.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        kernel = torch.zeros(channels, 1, 3, 3)
        for c in range(channels):
            row, column = divmod(c % 9, 3)
            kernel[c, 0, row, column] = 1.0
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.kernel.to(x.dtype), groups=self.kernel.shape[0])


class ShiftSeparableNet(SeparableNet):
    """A trial for Step 7: every depthwise 3x3 replaced by a shift with no weights, paid into width (1,954 parameters).

    At 14 channels a separable block spends 126 of its 350 parameters on the depthwise filters.
    Here each separable block moves its channels a pixel in fixed directions instead (``Shift3x3``)
    and spends everything on the pointwise mixing and BatchNorm, which buys 18 channels after the
    pool instead of 14 for about the same budget. The question it asks: is a learned 3x3 filter per
    channel worth more than four more channels? With ``shift_stem`` the second full-resolution block,
    Step 7's most expensive layer (448 weights), is a shift and a 1x1 as well; at 9, 14 and 19
    channels (1,944 parameters) the first block's nine channels give the shift all nine directions.
    """

    def __init__(self, dropout: float = 0.0, activation: str = "silu",
                 widths: tuple[int, int, int] = (6, 8, 18), shift_stem: bool = False) -> None:
        super().__init__(dropout, activation, widths)
        for name in ("block3", "block4", "block5", "block6"):
            depthwise, *rest = getattr(self, name)
            setattr(self, name, nn.Sequential(Shift3x3(depthwise.in_channels), *rest))
        if shift_stem:  # the second full-resolution block too: a shift, then a 1x1 where the 3x3 was
            conv, *rest = self.block2
            self.block2 = nn.Sequential(Shift3x3(conv.in_channels), conv1x1(conv.in_channels, conv.out_channels),
                                        *rest)


def padded_conv_bn_act(in_channels: int, out_channels: int, activation: str) -> nn.Sequential:
    """3x3 conv (padded, so the image keeps its size) -> BatchNorm -> activation."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), ACTIVATION_LAYERS[activation]())


def padded_separable_block(in_channels: int, out_channels: int, activation: str) -> nn.Sequential:
    """Depthwise 3x3 (padded) -> pointwise 1x1 -> BatchNorm -> activation: ``separable_block`` keeping the size."""
    return nn.Sequential(
        nn.Conv2d(in_channels, in_channels, kernel_size=3, padding=1, groups=in_channels, bias=False),
        conv1x1(in_channels, out_channels),
        nn.BatchNorm2d(out_channels),
        ACTIVATION_LAYERS[activation](),
    )


# Output channels of TinyNet's three stages (28x28, 14x14 and 7x7 pixels).
TINY_WIDTHS = (8, 16, 28)


class TinyNet(nn.Module):
    """A candidate for a network under 3,000 parameters (2,924): not yet a step, see docs/research.md, Step 6.

    Three stages of two blocks, at 28x28, 14x14 and 7x7 pixels, with a max-pool between
    stages; every convolution is padded, so the stages keep their size and the last one
    still sees the digit's edges. Only the very first convolution is an ordinary 3x3 (one
    grey channel in, nothing for a depthwise filter to share); every other block is
    depthwise-separable. BatchNorm before SiLU, global average pooling over the 7x7 map
    and a 1x1 convolution to the ten digits. Receptive field of the last block: 32 pixels.
    """

    building_blocks = (padded_conv_bn_act, padded_separable_block)

    def __init__(self, activation: str = "silu", widths: tuple[int, int, int] = TINY_WIDTHS) -> None:
        super().__init__()
        c1, c2, c3 = widths
        self.block1 = padded_conv_bn_act(1, c1, activation)
        self.block2 = padded_separable_block(c1, c1, activation)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.block3 = padded_separable_block(c1, c2, activation)
        self.block4 = padded_separable_block(c2, c2, activation)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.block5 = padded_separable_block(c2, c3, activation)
        self.block6 = padded_separable_block(c3, c3, activation)
        self.gap = nn.AvgPool2d(7)
        self.classifier = conv1x1(c3, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        x = self.block1(x)  # (B, 8, 28, 28)
        x = self.block2(x)  # (B, 8, 28, 28)
        x = self.pool1(x)  # (B, 8, 14, 14)
        x = self.block3(x)  # (B, 16, 14, 14)
        x = self.block4(x)  # (B, 16, 14, 14)
        x = self.pool2(x)  # (B, 16, 7, 7)
        x = self.block5(x)  # (B, 28, 7, 7)
        x = self.block6(x)  # (B, 28, 7, 7)
        x = self.gap(x)  # (B, 28, 1, 1)
        x = self.classifier(x)  # (B, 10, 1, 1)
        return F.log_softmax(x.flatten(1), dim=1)  # (B, 10)


def reference_block(in_channels: int, out_channels: int, dropout: float, activation: str) -> nn.Sequential:
    """3x3 conv (padded, with a bias) -> BatchNorm -> activation -> [Dropout], as the public design has it."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
                               nn.BatchNorm2d(out_channels), ACTIVATION_LAYERS[activation]()]
    if dropout > 0:
        layers.append(FastDropout(dropout))
    return nn.Sequential(*layers)


class ReferenceNet(nn.Module):
    """A public 3,762-parameter design from the same course family, rebuilt to be measured in our trainer.

    Three stages of three padded 3x3 blocks with 4, 8 and 8 channels, a max-pool after each
    of the first two, global average pooling over 7x7 and a 1x1 convolution (with a bias) to
    the ten digits. Its convolutions keep their biases, which BatchNorm makes redundant: 70
    of its parameters. Its dropout here is our ``FastDropout`` (same expectation).

    ``faithful=True`` builds it as its notebook does, which our first rebuild did not: dropout
    only after the two pools (not in every block), and every convolution starting from
    Xavier-uniform weights and zero biases (PyTorch's default is Kaiming-uniform).
    """

    building_blocks = (reference_block,)

    def __init__(self, dropout: float = 0.01, activation: str = "relu", faithful: bool = False) -> None:
        super().__init__()
        # The notebook drops out only after its pools; our first rebuild after every block.
        after_pools, in_blocks = (dropout, 0.0) if faithful else (0.0, dropout)
        self.stage1 = nn.Sequential(*(reference_block(i, 4, in_blocks, activation) for i in (1, 4, 4)))
        self.pool1 = self._pool(after_pools)
        self.stage2 = nn.Sequential(*(reference_block(i, 8, in_blocks, activation) for i in (4, 8, 8)))
        self.pool2 = self._pool(after_pools)
        self.stage3 = nn.Sequential(*(reference_block(8, 8, in_blocks, activation) for _ in range(3)))
        self.gap = nn.AvgPool2d(7)
        self.classifier = nn.Conv2d(8, 10, kernel_size=1)
        if faithful:
            for conv in (m for m in self.modules() if isinstance(m, nn.Conv2d)):
                nn.init.xavier_uniform_(conv.weight)
                nn.init.zeros_(conv.bias)

    @staticmethod
    def _pool(dropout: float) -> nn.Module:
        """A 2x2 max-pool, followed by dropout where the faithful rebuild has it there."""
        return nn.Sequential(nn.MaxPool2d(2, 2), FastDropout(dropout)) if dropout else nn.MaxPool2d(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        x = self.stage1(x)  # (B, 4, 28, 28)
        x = self.pool1(x)  # (B, 4, 14, 14)
        x = self.stage2(x)  # (B, 8, 14, 14)
        x = self.pool2(x)  # (B, 8, 7, 7)
        x = self.stage3(x)  # (B, 8, 7, 7)
        x = self.gap(x)  # (B, 8, 1, 1)
        x = self.classifier(x)  # (B, 10, 1, 1)
        return F.log_softmax(x.flatten(1), dim=1)  # (B, 10)


# The networks a recipe can name in ``TrainConfig.network`` instead of its step's own, built from the
# recipe's dropout and activation. The recipe accepts exactly these names (``config.NETWORKS`` reads them here).
NAMED_NETWORKS: dict[str, Callable[[float, str], nn.Module]] = {
    "reference3762": lambda dropout, activation: ReferenceNet(dropout=dropout, activation=activation),
    "reference3762-faithful": lambda dropout, activation: ReferenceNet(dropout=dropout, activation=activation,
                                                                       faithful=True),
    "tiny2924": lambda dropout, activation: TinyNet(activation=activation),
    "tied1908": lambda dropout, activation: TiedSeparableNet(dropout=dropout, activation=activation),
    "latepool1916": lambda dropout, activation: LatePoolSeparableNet(dropout=dropout, activation=activation),
    "dwact1916": lambda dropout, activation: DepthwiseActivatedNet(dropout=dropout, activation=activation),
    "residual1916": lambda dropout, activation: ResidualSeparableNet(dropout=dropout, activation=activation),
    "shift1954": lambda dropout, activation: ShiftSeparableNet(dropout=dropout, activation=activation),
    "deskew1916": lambda dropout, activation: SeparableNet(dropout=dropout, activation=activation,
                                                           widths=STEP7_WIDTHS, deskew=True),
    "shiftstem1944": lambda dropout, activation: ShiftSeparableNet(dropout=dropout, activation=activation,
                                                                   widths=(9, 14, 19), shift_stem=True),
}


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (BatchNorm counts 2 per channel; running stats are buffers)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
