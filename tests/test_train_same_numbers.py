"""The trainer built for the GPU gives, on the CPU, the numbers the trainer before it gave, to the last bit.

``reference_train`` below is the training loop, the rotation/affine augmentation and the
evaluation exactly as they were before the loop was rebuilt (data on the host, every batch
copied to the device, ``.item()`` after every batch), kept here as the second method that
must agree. The shipped runs in ``assets/`` and the seed tables came from that loop; if the
new one drifted by one bit, they would no longer be reproducible.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mnist_core.engine.pixels import BACKGROUND
from mnist_core.engine.schedule import apply_schedule
from mnist_core.engine.train import seed_everything, train, training_loss
from mnist_core.lesson.steps import get_step

pytestmark = pytest.mark.real_data


def _old_warp(images, theta):
    grid = F.affine_grid(theta.to(images.device, images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images - BACKGROUND, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False) + BACKGROUND


def _old_random_affine(images, max_degrees, translate, scale, generator):
    batch = images.shape[0]
    if translate <= 0 and scale <= 0:
        if max_degrees <= 0:
            return images
        angles = (torch.rand(batch, generator=generator) * 2 - 1) * math.radians(max_degrees)
        cos, sin = torch.cos(angles), torch.sin(angles)
        zeros = torch.zeros_like(cos)
        theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
        return _old_warp(images, theta)
    angles = (torch.rand(batch, generator=generator) * 2 - 1) * math.radians(max_degrees) if max_degrees > 0 \
        else torch.zeros(batch)
    zoom = 1 + (torch.rand(batch, generator=generator) * 2 - 1) * scale if scale > 0 else torch.ones(batch)
    shift = (torch.rand(batch, 2, generator=generator) * 2 - 1) * 2 * translate if translate > 0 \
        else torch.zeros(batch, 2)
    cos, sin = torch.cos(angles) / zoom, torch.sin(angles) / zoom
    return _old_warp(images, torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                                          torch.stack([sin, cos, shift[:, 1]], 1)], 1))


def _old_evaluate(model, images, labels):
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(images), 1000):
            log_probs = model(images[start:start + 1000])
            target = labels[start:start + 1000]
            total_loss += F.nll_loss(log_probs, target, reduction="sum").item()
            correct += int((log_probs.exp().max(dim=1)[1] == target).sum())
    return total_loss / len(labels), 100.0 * correct / len(labels)


def torch_optimizer(model, config):
    """torch.optim's own optimizer for the recipe: the trainer's SGD must give its numbers to the bit."""
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def reference_train(config, data):
    """The loop as it was: returns (history without the timings, model)."""
    generator = seed_everything(config.seed)
    model = get_step(config.step).build_model(config)
    optimizer = torch_optimizer(model, config)
    def limit(tensor, n):
        return tensor[:n] if n else tensor

    train_x, train_y = limit(data.train_images, config.train_limit), limit(data.train_labels, config.train_limit)
    test_x, test_y = limit(data.test_images, config.test_limit), limit(data.test_labels, config.test_limit)
    batches = math.ceil(len(train_x) / config.batch_size)
    history, batches_done = [], 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        loss_sum, correct, seen = torch.zeros(()), torch.zeros((), dtype=torch.long), 0
        for batch in range(batches):
            lr = apply_schedule(optimizer, config, batches_done, batches)
            index = order[batch * config.batch_size:(batch + 1) * config.batch_size]
            images = _old_random_affine(train_x[index], config.rotation_degrees, config.translate, config.scale,
                                        generator)
            labels = train_y[index]
            optimizer.zero_grad(set_to_none=True)
            log_probs = model(images)
            loss = training_loss(log_probs, labels, config.label_smoothing)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(labels)
            correct += (log_probs.argmax(1) == labels).sum()
            seen += len(labels)
            batches_done += 1
            loss.item(), correct.item()  # the old loop read both after every batch
        test_loss, test_acc = _old_evaluate(model, test_x, test_y)
        history.append({"epoch": epoch, "train_loss": loss_sum.item() / seen,
                        "train_acc": 100.0 * correct.item() / seen, "test_loss": test_loss, "test_acc": test_acc,
                        "lr": lr})
    return history, model


# Each shipped step's recipe, one that turns on every other path (Adam, OneCycle, shift, zoom,
# label smoothing) and SGD's momentum and weight decay against torch.optim.SGD. TRAIN_IMAGES is the
# fewest that still try everything: every weight is updated by any batch, so it is compared after
# the first; 400 gives each recipe two epochs (a second permutation, the schedule across epochs) of
# at least two batches, the last one partial (400 = 3 x 128 + 16 = 384 + 16).
TRAIN_IMAGES = 400
TEST_IMAGES = 500
CASES = {
    "step1": get_step(1).recipe,
    "step4": get_step(4).recipe,
    "step5": get_step(5).recipe,
    "every option": get_step(4).recipe.with_(optimizer="adam", lr=0.01, scheduler="onecycle", translate=0.1,
                                             scale=0.1, label_smoothing=0.1, batch_size=384),
    # SGD with its momentum cycled by OneCycle and weight decay: every branch of the trainer's own SGD.
    "sgd, cycled momentum, weight decay": get_step(4).recipe.with_(scheduler="onecycle", lr=0.05, weight_decay=5e-4),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_cpu_gives_the_old_loops_numbers_to_the_last_bit(mnist, name):
    config = CASES[name].with_(epochs=2, train_limit=TRAIN_IMAGES, test_limit=TEST_IMAGES, device="cpu")
    assert config.train_limit % config.batch_size and config.train_limit // config.batch_size >= 1
    expected_history, expected_model = reference_train(config, mnist)
    result = train(config, mnist)
    assert [{k: v for k, v in e.to_dict().items() if k != "seconds"} for e in result.history] == expected_history
    for (key, got), want in zip(result.model.state_dict().items(), expected_model.state_dict().values(), strict=True):
        assert torch.equal(got, want), key
    assert result.final_eval.loss == expected_history[-1]["test_loss"]
