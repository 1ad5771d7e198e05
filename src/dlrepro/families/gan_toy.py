"""The GAN theory of note 003 (lecture 10; Goodfellow et al. 2014) on toy data whose densities are
known exactly, so every quantity of the theory can be computed and compared (`study`):

optimal-discriminator  1-D. p_data = ½N(−2, 0.5²) + ½N(2, 0.5²), p_g = N(0, 1.5²) held fixed. A
                       discriminator trained to convergence is compared with the analytic
                       D*(x) = p_data(x) / (p_data(x) + p_g(x)) where the data are (mixture
                       density (p_data + p_g)/2 > 0.02; outside, no sample constrains D).
value-vs-jsd           1-D. p_data = N(0, 1), p_g = N(μ, 1) for each μ of `shifts`. For each, a
                       discriminator trained to convergence gives V(D, G) = E_data log D +
                       E_g log(1 − D); at D* the theory says V = −log 4 + 2·JSD(p_data ‖ p_g), zero
                       JSD (V = −log 4) exactly when p_g = p_data. Both sides by numerical
                       integration on a grid (trapezoid rule), V also at the analytic D*.
ring-minimax, ring-non-saturating, ring-r1
                       2-D. The ring of 8 Gaussians of the unrolled-GAN paper (Metz et al. 2017),
                       radius 2, σ 0.05 here (0.02 there: wider modes need fewer steps), learned with Goodfellow's minimax generator loss
                       (minimise log(1 − D(G(z)))), the non-saturating loss (maximise log D(G(z))),
                       or the non-saturating loss plus the R1 gradient penalty on real data
                       (γ/2·E‖∇D(x)‖², Mescheder et al. 2018), the stabiliser chosen here because
                       it costs one extra backward pass. Counted every `log_every` steps on 2,500
                       samples, as in VEEGAN (Srivastava et al. 2017): a sample is high quality
                       within 3σ of its nearest mode; a mode counts as covered when at least 1% of
                       the samples are high-quality samples of it (VEEGAN counts one sample; the
                       1% keeps stray points of a collapsed generator from counting).

Custom family: a run takes seconds to a minute on a CPU, so it has no checkpoint (a killed run
trains again from the start, to the same numbers).
"""
from __future__ import annotations

import math
import time

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.families import Family
from dlrepro.train.seeding import derive_seed, enable_determinism

STUDIES = ("optimal-discriminator", "value-vs-jsd", "ring-minimax", "ring-non-saturating", "ring-r1")
RING_MODES, RING_RADIUS, RING_STD = 8, 2.0, 0.05
RING_SAMPLES, COVERED_SHARE = 2500, 0.01
CPU = torch.device("cpu")
DATA_REGION = 0.02       # D is compared with D* where (p_data + p_g)/2 exceeds this


# -- densities and the theory's integrals (on a 1-D grid) -------------------------------------
def normal_log_pdf(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std * math.sqrt(2 * math.pi))


def normal_pdf(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return torch.exp(normal_log_pdf(x, mean, std))


def bimodal_pdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * normal_pdf(x, -2.0, 0.5) + 0.5 * normal_pdf(x, 2.0, 0.5)


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data / (p_data + p_g) (1/2 where both vanish)."""
    total = p_data + p_g
    return torch.where(total > 0, p_data / total.clamp_min(1e-300), torch.full_like(total, 0.5))


def jsd(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> float:
    """Jensen-Shannon divergence (nats) of two densities given on the grid x."""
    m = (p + q) / 2
    kl_pm = torch.xlogy(p, p) - torch.xlogy(p, m)
    kl_qm = torch.xlogy(q, q) - torch.xlogy(q, m)
    return float(torch.trapezoid(0.5 * kl_pm + 0.5 * kl_qm, x))


def value(p_data: torch.Tensor, p_g: torch.Tensor, log_d: torch.Tensor,
          log_one_minus_d: torch.Tensor, x: torch.Tensor) -> float:
    """V(D, G) = ∫ p_data log D + p_g log(1 − D) dx on the grid x (0·log 0 = 0)."""
    integrand = (torch.where(p_data > 0, p_data * log_d, torch.zeros_like(x))
                 + torch.where(p_g > 0, p_g * log_one_minus_d, torch.zeros_like(x)))
    return float(torch.trapezoid(integrand, x))


# -- training a discriminator against fixed samplers -------------------------------------------
def mlp(inputs: int, width: int, outputs: int) -> nn.Module:
    return nn.Sequential(nn.Linear(inputs, width), nn.LeakyReLU(0.2),
                         nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, outputs))


def train_discriminator(sample_data, sample_g, settings: dict, generator: torch.Generator,
                        device=CPU) -> nn.Module:
    """D trained to convergence (settings d_steps) by the discriminator's loss of the minimax
    game, on fresh samples of both distributions every step (drawn on the CPU from the run's
    generator: the same samples on every device)."""
    d = mlp(1, 64, 1).to(device)
    optimizer = torch.optim.Adam(d.parameters(), lr=settings["lr"])
    n = settings["batch_size"]
    ones, zeros = torch.ones(n, 1, device=device), torch.zeros(n, 1, device=device)
    for _ in range(settings["d_steps"]):
        loss = (F.binary_cross_entropy_with_logits(d(sample_data(n, generator).to(device)), ones)
                + F.binary_cross_entropy_with_logits(d(sample_g(n, generator).to(device)), zeros))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return d


def sample_bimodal(n: int, generator) -> torch.Tensor:
    side = torch.randint(0, 2, (n, 1), generator=generator).float() * 4 - 2
    return side + 0.5 * torch.randn(n, 1, generator=generator)


def sample_normal(mean: float, std: float):
    return lambda n, generator: mean + std * torch.randn(n, 1, generator=generator)


def discriminator_logit(d: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """D's logit on the float64 grid (the network is float32; the integrals are float64)."""
    with torch.no_grad():
        return d(x[:, None].float().to(next(d.parameters()).device))[:, 0].double().cpu()


def study_optimal_discriminator(settings, generator, device=CPU):
    x = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    p_data, p_g = bimodal_pdf(x), normal_pdf(x, 0.0, 1.5)
    d = train_discriminator(sample_bimodal, sample_normal(0.0, 1.5), settings, generator, device)
    d_x = torch.sigmoid(discriminator_logit(d, x))
    d_star = optimal_discriminator(p_data, p_g)
    region = (p_data + p_g) / 2 > DATA_REGION
    error = (d_x - d_star).abs()
    m = (p_data + p_g) / 2
    metrics = {"d_star_max_error": float(error[region].max()),
               "d_star_mean_error": float(torch.trapezoid(m * error, x))}   # weighted by the data
    history = pd.DataFrame({"x": x, "p_data": p_data, "p_g": p_g, "d": d_x, "d_star": d_star}).iloc[::6]
    return metrics, history, {}


def study_value_vs_jsd(settings, generator, device=CPU):
    rows = []
    for mu in settings["shifts"]:
        x = torch.linspace(-10, 10 + mu, 4001, dtype=torch.float64)
        log_p_data, log_p_g = normal_log_pdf(x, 0.0, 1.0), normal_log_pdf(x, mu, 1.0)
        p_data, p_g = log_p_data.exp(), log_p_g.exp()
        d = train_discriminator(sample_normal(0.0, 1.0), sample_normal(mu, 1.0), settings, generator,
                                device)
        logit = discriminator_logit(d, x)
        # log D* and log(1 − D*) from the log densities: D* itself rounds to 1 in the tails.
        log_total = torch.logaddexp(log_p_data, log_p_g)
        divergence = jsd(p_data, p_g, x)
        rows.append({"mu": mu, "jsd": divergence,
                     "v_formula": -math.log(4) + 2 * divergence,
                     "v_trained": value(p_data, p_g, F.logsigmoid(logit), F.logsigmoid(-logit), x),
                     "v_at_d_star": value(p_data, p_g, log_p_data - log_total, log_p_g - log_total, x)})
    table = pd.DataFrame(rows)
    equal = table[table["mu"] == 0]["v_trained"]
    others = table[table["mu"] != 0]["v_trained"]
    metrics = {"value_gap_max": float((table["v_formula"] - table["v_trained"]).abs().max()),
               "value_at_d_star_gap_max": float((table["v_formula"] - table["v_at_d_star"]).abs().max())}
    if len(equal) and len(others):
        metrics["value_at_equal_plus_log4"] = float(equal.iloc[0] + math.log(4))
        metrics["value_rise_min"] = float(others.min() - equal.iloc[0])
    return metrics, table, {"value_vs_jsd": table}


# -- the ring of 8 Gaussians -------------------------------------------------------------------
def ring_modes() -> torch.Tensor:
    angle = 2 * math.pi * torch.arange(RING_MODES) / RING_MODES
    return RING_RADIUS * torch.stack([torch.cos(angle), torch.sin(angle)], 1)


def sample_ring(n: int, generator) -> torch.Tensor:
    mode = torch.randint(0, RING_MODES, (n,), generator=generator)
    return ring_modes()[mode] + RING_STD * torch.randn(n, 2, generator=generator)


def mode_coverage(samples: torch.Tensor) -> tuple[int, float]:
    """(modes covered, share of high-quality samples): high quality = within 3σ of the nearest
    mode; a mode is covered when ≥ COVERED_SHARE of all samples are high-quality samples of it."""
    distance, nearest = torch.cdist(samples, ring_modes()).min(1)
    good = distance < 3 * RING_STD
    per_mode = torch.bincount(nearest[good], minlength=RING_MODES)
    return int((per_mode >= COVERED_SHARE * len(samples)).sum()), float(good.float().mean())


def study_ring(settings, generator, loss: str, device=CPU):
    latent, n = settings["latent"], settings["batch_size"]
    g_net, d_net = mlp(latent, settings["width"], 2).to(device), mlp(2, settings["width"], 1).to(device)
    betas = (0.5, 0.999)
    g_opt = torch.optim.Adam(g_net.parameters(), lr=settings["lr"], betas=betas)
    d_opt = torch.optim.Adam(d_net.parameters(), lr=settings["lr"], betas=betas)
    z_eval = torch.randn(RING_SAMPLES, latent, generator=generator).to(device)   # the same at every log
    rows = []
    for step in range(settings["ring_steps"] + 1):
        if step % settings["log_every"] == 0:
            with torch.no_grad():
                covered, quality = mode_coverage(g_net(z_eval).cpu())
            rows.append({"step": step, "modes_covered": covered, "hq_fraction": quality})
        if step == settings["ring_steps"]:
            break
        real = sample_ring(n, generator).to(device)
        fake = g_net(torch.randn(n, latent, generator=generator).to(device))
        if loss == "ring-r1":
            real.requires_grad_(True)
        d_real, d_fake = d_net(real), d_net(fake.detach())
        d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()   # BCE: real 1, fake 0
        if loss == "ring-r1":
            grad, = torch.autograd.grad(d_real.sum(), real, create_graph=True)
            d_loss = d_loss + settings["r1_gamma"] / 2 * grad.pow(2).sum(1).mean()
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        logit = d_net(fake)
        # minimax: minimise log(1 − D) = −softplus(logit); non-saturating: minimise −log D.
        g_loss = -F.softplus(logit).mean() if loss == "ring-minimax" else F.softplus(-logit).mean()
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        if step % settings["log_every"] == 0:
            rows[-1].update(d_loss=d_loss.item(), g_loss=g_loss.item())
    history = pd.DataFrame(rows)
    last_quarter = history[history["step"] >= 0.75 * settings["ring_steps"]]
    metrics = {"modes_covered": int(history["modes_covered"].iloc[-1]),
               "hq_fraction": float(history["hq_fraction"].iloc[-1]),
               "modes_covered_late_mean": float(last_quarter["modes_covered"].mean()),
               "modes_covered_max": int(history["modes_covered"].max())}
    return metrics, history, {}


def run(spec: dict, folder, inputs=None, progress: bool = False) -> dict:
    settings, study = spec["settings"], spec["settings"]["study"]
    enable_determinism()
    torch.set_num_threads(spec.get("threads", 1))
    seed = derive_seed(spec["seed"], spec["experiment"], study)
    torch.manual_seed(seed)                          # the networks' initialisation
    generator = torch.Generator().manual_seed(seed)  # every sample
    device, described = FAMILY.device_for(spec)
    tic = time.perf_counter()
    if study == "optimal-discriminator":
        metrics, history, tables = study_optimal_discriminator(settings, generator, device)
    elif study == "value-vs-jsd":
        metrics, history, tables = study_value_vs_jsd(settings, generator, device)
    else:
        metrics, history, tables = study_ring(settings, generator, study, device)
    finite = all(math.isfinite(v) for v in metrics.values())
    metrics = {"status": "ok" if finite else "diverged", **metrics}
    folder.write(spec, metrics, history, described,
                 {"train_seconds": time.perf_counter() - tic}, tables=tables)
    return metrics


FAMILY = Family(
    name="gan-toy", kind="custom", fixed_seconds=10.0, data=None, run=run,
    outside_engine="three studies on samplers with closed-form densities, each its own small loop "
                   "(a discriminator trained to convergence; a GAN on a ring of Gaussians)",
    description="GAN theory on toy densities: D*, V = −log 4 + 2·JSD, mode coverage on a ring",
    settings={
        "study": {"enum": list(STUDIES), "default": "optimal-discriminator"},
        "lr": {"description": "Adam learning rate of every network.", "type": "number",
               "exclusiveMinimum": 0, "default": 0.001},
        "batch_size": {"description": "Samples of each distribution per step.", "type": "integer",
                       "minimum": 2, "default": 128},
        "d_steps": {"description": "Steps that train a discriminator to convergence (1-D studies).",
                    "type": "integer", "minimum": 1, "default": 2000},
        "shifts": {"description": "value-vs-jsd: the means μ of p_g = N(μ, 1) (include 0).",
                   "type": "array", "items": {"type": "number", "minimum": 0},
                   "default": [0.0, 0.5, 1.0, 2.0, 4.0], "minItems": 1},
        "ring_steps": {"description": "Ring: GAN training steps.", "type": "integer", "minimum": 1,
                       "default": 2000},
        "log_every": {"description": "Ring: steps between mode counts.", "type": "integer",
                      "minimum": 1, "default": 100},
        "latent": {"description": "Ring: the generator's noise size.", "type": "integer",
                   "minimum": 1, "default": 16},
        "width": {"description": "Ring: hidden width of the generator and the discriminator "
                                 "(two hidden layers each).", "type": "integer", "minimum": 1,
                  "default": 64},
        "r1_gamma": {"description": "ring-r1: weight γ of the R1 penalty γ/2·E‖∇D(x)‖².",
                     "type": "number", "minimum": 0, "default": 0.1},
    })
