"""The adversarial autoencoder: its priors, the two-sample distance, the VAE-only-normal rule."""
import math

import pytest
import torch

from dlrepro.config import expand_runs, validate
from dlrepro.errors import ConfigError
from dlrepro.families.aae import (MIXTURE_RADIUS, MIXTURE_STD, UNIFORM_HALF_WIDTH, AAE,
                                  sample_prior)
from dlrepro.metrics.two_sample import BANDWIDTHS, mmd2


@pytest.mark.parametrize("dim", [2, 8])
def test_prior_samplers_have_their_moments(dim):
    g = torch.Generator().manual_seed(0)
    n = 200_000
    normal = sample_prior("normal", n, dim, g)
    assert normal.mean(0).abs().max() < 0.01 and (normal.var(0) - 1).abs().max() < 0.02
    uniform = sample_prior("uniform", n, dim, g)
    assert uniform.abs().max() <= UNIFORM_HALF_WIDTH
    assert (uniform.var(0) - UNIFORM_HALF_WIDTH ** 2 / 3).abs().max() < 0.02
    mixture = sample_prior("mixture", n, dim, g)
    assert mixture.mean(0).abs().max() < 0.03
    circle = MIXTURE_RADIUS ** 2 / 2 + MIXTURE_STD ** 2       # cos² averages to 1/2 over the 10 means
    assert abs(mixture[:, 0].var() / circle - 1) < 0.02 and abs(mixture[:, 1].var() / circle - 1) < 0.02
    if dim > 2:
        assert (mixture[:, 2:].var(0) - MIXTURE_STD ** 2).abs().max() < 0.01
    # ten equally likely components, their means on the circle 36 degrees apart
    angle = 2 * math.pi * torch.arange(10) / 10
    means = MIXTURE_RADIUS * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    share = torch.bincount(torch.cdist(mixture[:, :2], means).argmin(1), minlength=10) / n
    assert (share - 0.1).abs().max() < 0.005


def test_mmd_matches_the_formula_and_separates_distributions():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(40, 3, generator=g), torch.randn(30, 3, generator=g) + 0.5

    def k(a, b):   # the kernel, one pair at a time
        squared = float(((a - b) ** 2).sum()) / 3
        return sum(math.exp(-squared / (2 * h * h)) for h in BANDWIDTHS)

    xx = sum(k(x[i], x[j]) for i in range(40) for j in range(40) if i != j) / (40 * 39)
    yy = sum(k(y[i], y[j]) for i in range(30) for j in range(30) if i != j) / (30 * 29)
    xy = sum(k(x[i], y[j]) for i in range(40) for j in range(30)) / (40 * 30)
    assert mmd2(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-6)   # float32 inputs
    same = [mmd2(torch.randn(500, 2, generator=g), torch.randn(500, 2, generator=g)) for _ in range(5)]
    other = mmd2(sample_prior("mixture", 500, 2, g), torch.randn(500, 2, generator=g))
    assert max(abs(v) for v in same) < 0.02 < other


def test_vae_baseline_accepts_only_the_normal_prior():
    config = {"experiments": {"aae": {"base": {"model": "aae", "regulariser": "kl"},
                                      "grid": {"prior": ["normal", "mixture"]}}}}
    with pytest.raises(ConfigError, match="prior"):
        expand_runs(validate(config))
    config["experiments"]["aae"]["grid"]["prior"] = ["normal"]
    assert len(expand_runs(validate(config))) > 0


def test_regularisation_phase_trains_the_discriminator_and_the_encoder_only():
    """With the reconstruction phase switched off, a step moves the latent discriminator and the
    encoder (as the generator), never the decoder; D's loss is the BCE of prior samples (1)
    against codes (0), G's the non-saturating BCE of codes against 1."""
    torch.manual_seed(0)
    model = AAE({"latent": 2, "prior": "mixture", "lr": 1e-3, "weight_decay": 0.0,
                 "adversarial_lr": 1e-3})
    optimizers = model.make_optimizers()
    optimizers["autoencoder"] = torch.optim.SGD(model.parameters(), lr=0.0)   # phase 1 off
    x = torch.rand(16, 1, 28, 28)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    state = torch.get_rng_state()
    codes = model.encoder(x).detach()
    prior = sample_prior("mixture", 16, 2)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expected_d = (bce(model.discriminator(prior)[:, 0], torch.ones(16))
                  + bce(model.discriminator(codes)[:, 0], torch.zeros(16)))
    torch.set_rng_state(state)   # the step draws the same prior samples
    logs = model.train_step(x, None, optimizers)
    assert logs["d_loss"].item() == pytest.approx(expected_d.item(), rel=1e-5)
    moved = {name.split(".")[0] for name, p in model.named_parameters()
             if not torch.equal(p.detach(), before[name])}
    assert moved == {"encoder", "discriminator"}
