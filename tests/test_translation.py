"""Image-to-image translation: the edge operator, the networks, pix2pix and CycleGAN."""
import math

import numpy as np
import pytest
import scipy.ndimage
import torch

from dlrepro.config import _settings_validator
from dlrepro.data import Split
from dlrepro.families import translation
from dlrepro.families.cyclegan import CycleGAN, unpaired_halves
from dlrepro.families.pix2pix import Pix2Pix
from dlrepro.families.translation import Discriminator, ImagePool, UNet, edges
from dlrepro.train.generative import GenerativeSteps


def settings(model: str, **values) -> dict:
    filled = {"model": model, **values}
    _settings_validator().validate(filled)      # the family's defaults filled in
    return filled


def garments(n: int, seed: int = 0) -> torch.Tensor:
    """Bright rectangles of random size and shade on black, N x 1 x 28 x 28 in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 1, 28, 28)
    for image in images:
        top, left = torch.randint(2, 10, (2,), generator=g).tolist()
        height, width = torch.randint(8, 16, (2,), generator=g).tolist()
        image[0, top:top + height, left:left + width] = 0.3 + 0.7 * torch.rand((), generator=g)
    return images


# -- the edge operator ---------------------------------------------------------------------------
def test_edges_are_the_thresholded_sobel_magnitude_and_deterministic():
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    first, second = edges(images), edges(images.clone())
    assert torch.equal(first, second)
    assert set(first.unique().tolist()) <= {0.0, 1.0}
    for image, edge in zip(images[:, 0].double().numpy(), first[:, 0].numpy()):
        gx = scipy.ndimage.sobel(image, axis=1, mode="constant")
        gy = scipy.ndimage.sobel(image, axis=0, mode="constant")
        expected = np.hypot(gx, gy) > translation.EDGE_THRESHOLD
        # (a magnitude within float32 rounding of the threshold may fall either way)
        near = np.abs(np.hypot(gx, gy) - translation.EDGE_THRESHOLD) < 1e-5
        assert np.array_equal(edge.astype(bool)[~near], expected[~near])
    # an outline: a filled square's edge map is its border, its inside and the background are 0
    square = torch.zeros(1, 1, 28, 28)
    square[..., 8:20, 8:20] = 1.0
    edge = edges(square)[0, 0]
    assert edge[14, 14] == 0 and edge[2, 2] == 0 and edge[8, 14] == 1 and edge[7, 14] == 1


def test_padding_to_32_and_back_is_exact():
    images = torch.rand(3, 1, 28, 28)
    padded = translation.to_model(images)
    assert padded.shape == (3, 1, 32, 32) and padded.min() >= -1 and padded.max() <= 1
    assert torch.allclose(translation.from_model(padded), images, atol=1e-6)


# -- the discriminators: shapes and receptive fields ----------------------------------------------
@pytest.mark.parametrize("depth, logits, field", [("pixel", 32, 1), ("patch", 16, 12),
                                                  ("image", 1, 46)])
def test_discriminator_shapes_and_receptive_field(depth, logits, field):
    torch.manual_seed(0)
    net = Discriminator(2, 4, depth, "batch").eval()   # eval: BN does not mix positions
    assert net.receptive_field() == field
    x = torch.randn(1, 2, 32, 32, requires_grad=True)
    out = net(x)
    assert out.shape == (1, 1, logits, logits)
    # measured: the input pixels one logit's gradient reaches (clipped by the image for 'image')
    out[0, 0, logits // 2, logits // 2].backward()
    rows, cols = np.nonzero(x.grad.abs().sum((0, 1)).numpy())
    assert rows.max() - rows.min() + 1 == min(field, 32)
    assert cols.max() - cols.min() + 1 == min(field, 32)


def test_the_report_states_each_depths_receptive_field():
    from dlrepro.experiments.pix2pix import EXPERIMENT

    assert translation.receptive_fields() == {"pixel": 1, "patch": 12, "image": 46}
    assert "pixel 1 × 1, patch 12 × 12" in EXPERIMENT.setting


# -- the generator ----------------------------------------------------------------------------------
def test_unet_skips_carry_information():
    torch.manual_seed(0)
    net = UNet(4, "batch").eval()
    x = translation.to_model(edges(garments(4)))
    out = net(x)
    assert out.shape == x.shape
    levels = net.skip_connections()
    assert len(levels) == 4                    # every level but the outermost
    for level in levels:                       # zero what each skip carries across
        level.register_forward_hook(lambda module, inputs, output: torch.cat(
            [torch.zeros_like(inputs[0]), output[:, inputs[0].shape[1]:]], 1))
    zeroed = net(x)
    assert (out - zeroed).abs().max() > 1e-2
    assert UNet(4, "batch", skips=False).skip_connections() == []


def test_a_tiny_pix2pix_lowers_its_l1_on_a_fixed_batch():
    torch.manual_seed(0)
    model = Pix2Pix(settings("pix2pix", width=4, lr=0.002))
    optimizers = model.make_optimizers()
    x = garments(16)
    with torch.no_grad():
        model.eval()
        before = (model.translate(x) - x).abs().mean().item()
    model.train()
    for _ in range(60):
        logs = model.train_step(x, None, optimizers)
    assert set(logs) == {"d_loss", "g_gan", "l1"}
    model.eval()
    with torch.no_grad():
        after = (model.translate(x) - x).abs().mean().item()
    assert after < 0.5 * before


def test_the_loss_setting_picks_the_terms():
    l1_only = Pix2Pix(settings("pix2pix", loss="l1", width=2))
    assert not hasattr(l1_only, "discriminator") and set(l1_only.make_optimizers()) == {"generator"}
    conditional = Pix2Pix(settings("pix2pix", loss="cgan", width=2))
    assert conditional.l1_weight == 0 and conditional.discriminator.net[0].in_channels == 2
    unconditional = Pix2Pix(settings("pix2pix", loss="l1+gan", width=2))
    assert unconditional.l1_weight == 100 and unconditional.discriminator.net[0].in_channels == 1


# -- CycleGAN --------------------------------------------------------------------------------------
def test_cyclegan_halves_are_disjoint_and_fixed(fmnist_cache):
    from dlrepro.config import expand_runs, validate
    from dlrepro.data.fashion_mnist import load_cache
    from dlrepro.families import get

    config = validate({"seeds": [0], "device": "cpu", "data": {"validation_size": 200},
                       "experiments": {"cyclegan": {"base": {"model": "cyclegan", "train_size": 101,
                                                             "width": 2}}}})
    spec = expand_runs(config)[0].spec(config)
    steps = GenerativeSteps(get("cyclegan"), spec, load_cache(fmnist_cache))
    steps.prepare_data(torch.device("cpu"))
    steps.build(torch.device("cpu"))
    train = steps.train.x.flatten(1)
    a_side, b_side = steps.examples.x[:, 0].flatten(1), steps.examples.x[:, 1].flatten(1)
    assert len(steps.examples) == 50 and steps.steps_per_epoch == math.ceil(50 / 32)
    assert torch.equal(a_side, train[:50]) and torch.equal(b_side, train[50:100])
    # no training image appears on both sides (compared as images, not as indices)
    assert not (torch.cdist(a_side, b_side) == 0).any()


def test_unpaired_halves_of_a_labelled_split():
    x = torch.arange(6.0).reshape(6, 1, 1, 1)
    halves = unpaired_halves(Split(x, torch.arange(6)))
    assert halves.x[:, 0].flatten().tolist() == [0, 1, 2]
    assert halves.x[:, 1].flatten().tolist() == [3, 4, 5]


def test_cyclegan_learning_rate_is_constant_then_linear_to_zero():
    model = CycleGAN(settings("cyclegan", width=2, epochs=4, lr=0.01))
    optimizers = model.make_optimizers()
    rates = []
    for epoch in range(1, 5):
        model.start_epoch(epoch, optimizers)
        rates.append([g["lr"] for o in optimizers.values() for g in o.param_groups])
    assert np.allclose(rates, [[0.01] * 2, [0.01] * 2, [0.01 * 2 / 3] * 2, [0.01 / 3] * 2])


def test_image_pool_fills_then_swaps_and_is_checkpointed():
    torch.manual_seed(0)
    pool = ImagePool(3, (1, 2, 2))
    first = torch.arange(3.0)[:, None, None, None].expand(3, 1, 2, 2)
    assert torch.equal(pool(first), first) and int(pool.count) == 3
    later = torch.full((200, 1, 2, 2), 9.0)
    out = pool(later)
    returned_old = (out[:, 0, 0, 0] != 9).sum().item()
    assert 0 < returned_old <= 3 + 200 and out.shape == later.shape
    assert set(pool.state_dict()) == {"images", "count"}
    assert ImagePool(0, (1, 2, 2))(later) is later
