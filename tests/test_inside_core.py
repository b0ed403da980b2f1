"""Tests for the explainers behind *Inside the network*: mnist_core/explain/activations, readout,
filters, attribution, projection and spread. Expected values come from the model summary, the
model's own output, hand computation on tiny networks, and a second method (numpy) that must agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mnist_core.common.paths import shipped_run_path
from mnist_core.engine.checkpoints import load_checkpoint
from mnist_core.engine.design import build_design
from mnist_core.engine.models import NAMED_NETWORKS
from mnist_core.engine.recipes import design_from_step
from mnist_core.engine.summary import summarize
from mnist_core.explain import activations, attribution, filters, projection, readout, spread
from mnist_core.explain.digits import test_digits
from mnist_core.explain.inference import normalize_field
from mnist_core.explain.named_blocks import named_blocks
from mnist_core.lesson.steps import STEPS

SAMPLE = test_digits("/nonexistent")  # the bundled ten, whatever is on disk


def shipped(step: int) -> nn.Module:
    return load_checkpoint(shipped_run_path(step) / "model.pt")[0]


@pytest.mark.parametrize("step", list(STEPS))
def test_every_layer_has_the_shape_the_model_summary_lists(step):
    model = shipped(step)
    rows = summarize(model)
    maps = activations.feature_maps(model, SAMPLE.normalised(slice(0, 1))[0])
    # Step 7's network deskews first: its first map is the straightened digit itself, one channel at 28x28.
    first = ["deskew", "block1"] if step == 7 else ["block1", "block2"]
    assert [m.view.name for m in maps][:2] == first and maps[-1].view.name == "classifier"
    assert (maps[0].view.kind == "deskew") == (step == 7) and (step != 7 or maps[0].values.shape == (1, 28, 28))
    for fmap in maps:
        assert fmap.values.shape == rows[fmap.view.summary_index].output_shape == fmap.view.shape
    if step == 5:  # depthwise then pointwise: both halves of each separable block are shown
        names = [m.view.name for m in maps]
        assert names.index("block3.0") == names.index("block3") - 1
        assert maps[names.index("block3.0")].view.kind == "depthwise"


def test_receptive_fields_are_the_analytic_ones():
    views = {v.name: v for v in activations.layer_views(STEPS[4].build_model())}
    # 3x3 convs add 2 per jump; the pool doubles the jump: 3, 5, pool 6, 1x1 6, then 10, 14, 18, 22, GAP 28.
    assert [views[n].receptive_field for n in ("block1", "block2", "pool", "transition", "block3", "block4",
                                               "block5", "block6", "gap")] == [3, 5, 6, 6, 10, 14, 18, 22, 28]


def test_a_module_three_blocks_share_is_counted_with_each_block_that_calls_it():
    """The weight-tied trial calls block 4's convolutions from blocks 5 and 6 too: each block's row is its own
    call (8, 6 and 4 pixels), and the shared depthwise convolution gets no view (one hook would see three calls)."""
    views = activations.layer_views(NAMED_NETWORKS["tied1908"](0.0, "silu"))
    names = [v.name for v in views]
    assert len(names) == len(set(names)) and "block4.0" not in names
    sizes = {v.name: v.row.out_size for v in views}
    assert (sizes["block4"], sizes["block5"], sizes["block6"]) == (8, 6, 4)


def test_views_follow_the_forward_pass_not_the_registration_order():
    """The late-pool trial registers its pool before block 3 but calls block 3 first."""
    names = [v.name for v in activations.layer_views(NAMED_NETWORKS["latepool1916"](0.0, "silu"))]
    assert names.index("block3") < names.index("pool") < names.index("block4")


def test_grad_cam_looks_at_each_networks_own_last_block():
    assert attribution.last_block(activations.layer_views(STEPS[7].build_model())) == "block6"
    assert attribution.last_block(activations.layer_views(NAMED_NETWORKS["reference3762"](0.0, "relu"))) == "stage3"


def hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def test_hooks_are_removed_after_each_call_and_a_second_call_does_not_double():
    model = shipped(2)
    image = SAMPLE.normalised(slice(0, 1))[0]
    first = activations.feature_maps(model, image)
    assert hook_count(model) == 0
    second = activations.feature_maps(model, image)
    assert hook_count(model) == 0
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.values, b.values)
    readout.readout(model, image)
    attribution.attributions(model, SAMPLE.pixels(0), 3)
    activations.unit_field(model, image, first[4].view, 0, 1, 1)
    assert hook_count(model) == 0


def test_hooks_are_removed_when_the_forward_fails():
    model = shipped(1)
    with pytest.raises(RuntimeError):
        activations.capture(model, torch.zeros(1, 3, 28, 28), ["block1"])  # wrong channel count
    assert hook_count(model) == 0


@pytest.mark.parametrize("step", list(STEPS))
def test_readout_logits_equal_the_models_own_output(step):
    model = shipped(step)
    for position in range(3):
        image = SAMPLE.normalised(slice(position, position + 1))
        result = readout.readout(model, image[0])
        own = model(image)[0].detach().numpy().astype(np.float64)
        np.testing.assert_allclose(np.log(result.probabilities), own, atol=1e-5)
        assert result.predicted == int(own.argmax())
        np.testing.assert_allclose(result.contributions(result.predicted).sum(), result.logits[result.predicted],
                                   rtol=1e-9)
        np.testing.assert_allclose(attribution.Logits(model)(image)[0].detach().numpy(), result.logits, atol=1e-5)


def test_filters_of_each_kind():
    lesson = {f.name: f for f in filters.filter_sets(shipped(4))}
    assert lesson["block1.0"].kind == "first 3x3" and lesson["block1.0"].weights.shape == (12, 3, 3)
    assert lesson["transition"].weights.shape == (10, 14) and lesson["classifier"].weights.shape == (10, 16)
    separable = filters.filter_sets(shipped(5))
    depthwise = [f for f in separable if f.kind.startswith("depthwise")]
    pointwise = [f for f in separable if f.kind.startswith("pointwise")]
    assert [f.weights.shape for f in depthwise] == [(16, 3, 3), (24, 3, 3), (24, 3, 3), (24, 3, 3)]
    assert [f.weights.shape for f in pointwise] == [(24, 16), (24, 24), (24, 24), (24, 24), (10, 24)]


class TinyNet(nn.Module):
    """A 1x1 conv with known weights (the "block"), a global average pool and a linear readout."""

    def __init__(self):
        super().__init__()
        self.block = nn.Conv2d(1, 2, 1, bias=False)
        self.head = nn.Linear(2, 3, bias=False)
        with torch.no_grad():
            self.block.weight.copy_(torch.tensor([1.0, -2.0]).reshape(2, 1, 1, 1))
            self.head.weight.copy_(torch.tensor([[1.0, 0.5], [-1.0, 2.0], [0.0, 0.0]]))

    def forward(self, x):
        return self.head(self.block(x).mean((2, 3)))


def test_grad_cam_on_a_tiny_network_equals_the_hand_computation():
    image = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    net = TinyNet()
    layer_map, upsampled = attribution.grad_cam(net, net.block, image, target=1)
    # By hand: A_0 = x, A_1 = -2x. Logit 1 = mean(A_0) * -1 + mean(A_1) * 2, so the mean gradient over
    # each map (4 pixels) is alpha_0 = -1/4 * 4 / 4 = -0.25 and alpha_1 = 2/4 = 0.5 (d mean / d pixel = 1/4,
    # averaged over the 4 pixels gives 1/4 times the weight). CAM = -0.25 x + 0.5 (-2x) = -1.25 x.
    expected = -1.25 * image.numpy()
    np.testing.assert_allclose(layer_map, expected, rtol=1e-6)
    np.testing.assert_allclose(upsampled, expected, rtol=1e-6)  # same size: the upsampling changes nothing
    zero_map, _ = attribution.grad_cam(net, net.block, image, target=2)
    np.testing.assert_array_equal(zero_map, np.zeros((2, 2)))


def test_occlusion_of_a_blank_region_changes_nothing():
    pixels = np.zeros((28, 28), dtype=np.float32)
    pixels[4:12, 4:12] = 1.0  # ink only in the top-left corner
    model = shipped(4)
    square = normalize_field(pixels)
    answer = int(model(square[None]).argmax())  # the class the square is taken for has the most to lose
    drop = attribution.occlusion(model, square, target=answer)
    # Patches of 7 at a stride of 3 start at 0, 3, ... 21; only those starting at 0, 3, 6 or 9 touch rows
    # (or columns) 4-11, and they end by row 15, so every pixel in rows or columns 16-27 is covered by blank
    # patches only: no change, up to float rounding (a batch of 64 rounds differently from a batch of 1).
    assert np.abs(drop[16:, :]).max() < 1e-6 and np.abs(drop[:, 16:]).max() < 1e-6
    assert np.abs(drop[4:12, 4:12]).max() > 1e-3  # while hiding the ink did change the probability
    assert np.abs(attribution.occlusion(shipped(4), normalize_field(np.zeros((28, 28))), target=0)).max() < 1e-6


def test_unit_field_gradient_lies_inside_the_analytic_box():
    model = shipped(4)
    image = SAMPLE.normalised(slice(0, 1))[0]
    view = next(v for v in activations.layer_views(model) if v.name == "block4")
    maps = activations.feature_maps(model, image, [view])[0].values
    channel, y, x = np.unravel_index(maps.argmax(), maps.shape)
    unit = activations.unit_field(model, image, view, int(channel), int(y), int(x))
    assert unit.activation == pytest.approx(float(maps[channel, y, x]), rel=1e-5)
    top, left, bottom, right = unit.box
    assert bottom - top + 1 == view.receptive_field == 14
    g_top, g_left, g_bottom, g_right = unit.gradient_box
    assert top <= g_top and left <= g_left and g_bottom <= bottom and g_right <= right
    with pytest.raises(ValueError, match="outside"):
        activations.unit_field(model, image, view, 0, 8, 0)


def test_pca_matches_numpy_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    result = projection.pca_2d(features)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(features.T))
    top = eigenvectors[:, ::-1][:, :2]
    centred = features - features.mean(0)
    for axis in range(2):
        np.testing.assert_allclose(np.abs(result.coordinates[:, axis]), np.abs(centred @ top[:, axis]), atol=1e-8)
    assert result.explained[0] == pytest.approx(eigenvalues[-1] / eigenvalues.sum(), rel=1e-6)


def test_pooled_features_and_tsne_cache(tmp_path):
    model = shipped(4)
    pooled = projection.pooled_features(model, SAMPLE.normalised())
    assert pooled.features.shape == (10, 16)
    np.testing.assert_array_equal(pooled.predictions, model(SAMPLE.normalised()).argmax(1).numpy())
    checkpoint = shipped_run_path(4) / "model.pt"
    cache = projection.tsne_cache_file(tmp_path, checkpoint, SAMPLE.indices)
    first, cached = projection.cached_tsne(pooled.features, cache)
    assert not cached and cache.is_file()
    second, cached = projection.cached_tsne(pooled.features, cache)
    assert cached and np.array_equal(first.coordinates, second.coordinates)
    other = projection.tsne_cache_file(tmp_path, shipped_run_path(1) / "model.pt", SAMPLE.indices)
    assert other != cache


def test_batchnorm_steadies_the_spread_of_every_block():
    images = SAMPLE.normalised()
    plain = {s.name: s.std for s in spread.block_spreads(shipped(1), images)}
    normed = {s.name: s.std for s in spread.block_spreads(shipped(2), images)}
    assert list(plain) == list(normed) == [f"block{i}" for i in range(1, 7)]
    assert max(plain.values()) / min(plain.values()) > 3 * max(normed.values()) / min(normed.values())
    for block in spread.block_spreads(shipped(1), images):  # the bins hold the middle 99% of the values
        edges, (histogram,) = spread.shared_histograms([block])
        assert 0.99 <= histogram.sum() <= 1.0 and len(edges) == spread.HISTOGRAM_BINS + 1


def test_the_core_does_not_import_streamlit():
    import subprocess
    import sys
    code = ("import mnist_core.explain.activations, mnist_core.explain.readout, mnist_core.explain.attribution, "
            "mnist_core.explain.projection, mnist_core.explain.spread, mnist_core.explain.filters, sys; "
            "print('streamlit' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_a_mosaic_leaves_room_between_rows_for_the_channel_numbers():
    from mnist_core.explain.activations import mosaic

    values = np.arange(5 * 4 * 3, dtype=np.float32).reshape(5, 4, 3)  # five 4x3 maps, three across
    image, where = mosaic(values, columns=3, row_gap=2)
    assert image.shape == (4 + 2 + 4, 3 * 4 - 1)
    assert np.array_equal(image[6:10, 0:3], values[3]) and np.array_equal(image[6:10, 4:7], values[4])
    assert np.isnan(image[4:6]).all() and np.isnan(image[6:, 8:]).all()  # the gutter, and the missing sixth tile
    assert tuple(where[7, 5]) == (4, 1, 1) and tuple(where[4, 0]) == (-1, -1, -1)
    assert mosaic(values, columns=3)[0].shape == (4 + 1 + 4, 11)  # one cell between rows by default


@pytest.mark.parametrize("step", list(STEPS))
def test_a_design_grouped_into_named_blocks_computes_what_the_design_does(step):
    """Every step as design rows: the grouped network shares the design's modules and gives its outputs exactly,
    with the names a step's network has (a separable block's depthwise and 1x1 in one block)."""
    design = build_design(design_from_step(step).to_json()).eval()
    grouped = named_blocks(design).eval()
    images = SAMPLE.normalised(slice(0, 4))
    with torch.no_grad():
        assert torch.equal(grouped(images), design(images))
    names = [name for name, _ in grouped.named_children()]
    assert names[-2:] == ["gap", "classifier"] and "pool" in names and names[names.index("pool") - 1] == "block2"
    assert names[0] == ("deskew" if step == 7 else "block1")
    assert {id(p) for p in grouped.parameters()} == {id(p) for p in design.parameters()}  # the same weights
    if step >= 5:  # the first separable block: depthwise 3x3, its 1x1, BatchNorm, activation
        kinds = [type(m).__name__ for m in grouped.block3]
        assert kinds[:3] == ["Conv2d", "Conv2d", "BatchNorm2d"] and grouped.block3[0].groups > 1
    own = shipped(step)
    assert named_blocks(own) is own  # a step's own network is read by its own names
