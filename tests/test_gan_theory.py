"""GAN theory on toy densities: the integrals, D*, the ring's mode count, a run end to end."""
import math

import pytest
import torch

from dlrepro.families import gan_toy
from dlrepro.families.gan_toy import (RING_STD, jsd, mode_coverage, normal_pdf,
                                      optimal_discriminator, ring_modes, value)


def test_jsd_integral_matches_closed_forms():
    x = torch.linspace(-1, 3, 400_001, dtype=torch.float64)
    uniform = lambda a: ((x >= a) & (x <= a + 1)).double()   # noqa: E731  U[a, a+1]
    for shift in (0.0, 0.25, 0.5, 1.0, 1.5):
        # the non-overlapping mass of each counts log 2: JSD = min(shift, 1) · log 2
        assert jsd(uniform(0.0), uniform(shift), x) == pytest.approx(min(shift, 1) * math.log(2), abs=1e-4)
    p = normal_pdf(x, 1.0, 0.3)
    assert jsd(p, p, x) == pytest.approx(0.0, abs=1e-12)
    # identical distributions: D* = 1/2 everywhere and V = −log 4
    half = torch.full_like(x, math.log(0.5))
    assert value(p, p, half, half, x) == pytest.approx(-math.log(4), abs=1e-6)


@pytest.mark.parametrize("mu", [0.5, 2.0])
def test_optimal_discriminator_of_two_gaussians_is_a_logistic_in_x(mu):
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    d_star = optimal_discriminator(normal_pdf(x, 0.0, 1.0), normal_pdf(x, mu, 1.0))
    # N(0,1) / (N(0,1) + N(μ,1)) = σ(μ²/2 − μx)
    assert torch.allclose(d_star, torch.sigmoid(mu ** 2 / 2 - mu * x), atol=1e-12)
    # and the value at D* is −log 4 + 2·JSD (the theorem, numerically)
    x = torch.linspace(-12, 12 + mu, 40_001, dtype=torch.float64)
    p, q = normal_pdf(x, 0.0, 1.0), normal_pdf(x, mu, 1.0)
    d_star = optimal_discriminator(p, q)
    v = value(p, q, torch.log(d_star), torch.log1p(-d_star), x)
    assert v == pytest.approx(-math.log(4) + 2 * jsd(p, q, x), abs=1e-6)


def test_mode_coverage_counts_modes_and_quality():
    g = torch.Generator().manual_seed(0)
    modes = ring_modes()
    everywhere = modes[torch.arange(800) % 8] + 0.5 * RING_STD * torch.randn(800, 2, generator=g)
    assert mode_coverage(everywhere) == (8, 1.0)
    collapsed = modes[3] + 0.5 * RING_STD * torch.randn(800, 2, generator=g)
    assert mode_coverage(collapsed) == (1, 1.0)
    centre = 0.1 * torch.randn(800, 2, generator=g)   # between the modes: nothing counts
    assert mode_coverage(centre) == (0, 0.0)
    stray = torch.cat([collapsed[:795], modes[:5]])   # 5 stray points (< 1%) cover no mode
    assert mode_coverage(stray)[0] == 1


@pytest.mark.parametrize("study", gan_toy.STUDIES)
def test_each_study_runs_and_reruns_to_the_same_numbers(study, tmp_path):
    from dlrepro.families import get
    from dlrepro.runfolder import RunFolder

    family = get("gan-toy")
    settings = {k: v["default"] for k, v in family.settings.items()}
    settings.update(model="gan-toy", study=study, d_steps=30, ring_steps=40, log_every=20,
                    shifts=[0.0, 2.0])
    spec = {"experiment": "gan-theory", "variant": study, "seed": 0, "axes": {"study": study},
            "settings": settings, "device": "cpu", "threads": 1}
    first = family.run(spec, RunFolder(tmp_path / "a"))
    second = family.run(spec, RunFolder(tmp_path / "b"))
    assert first == second and first["status"] == "ok"
    assert (tmp_path / "a/metrics.json").read_bytes() == (tmp_path / "b/metrics.json").read_bytes()
    if study == "value-vs-jsd":   # at the analytic D*, V is the formula (integration error only)
        assert first["value_at_d_star_gap_max"] < 1e-6


def _trained(study: str, tmp_path, **extra) -> dict:
    from dlrepro.families import get
    from dlrepro.runfolder import RunFolder

    family = get("gan-toy")
    settings = {k: v["default"] for k, v in family.settings.items()}
    settings.update(model="gan-toy", study=study, **extra)
    spec = {"experiment": "gan-theory", "variant": study, "seed": 0, "axes": {"study": study},
            "settings": settings, "device": "cpu", "threads": 1}
    return family.run(spec, RunFolder(tmp_path / study))


def test_trained_studies_agree_with_the_theory(tmp_path):
    """The trained networks, not only the integrals: a discriminator trained to convergence is
    close to D* = p_data / (p_data + p_g) where the data are; V at the trained D is close to
    −log 4 + 2·JSD and smallest when p_g = p_data; a GAN on the ring reaches several modes."""
    d = _trained("optimal-discriminator", tmp_path, d_steps=600)
    assert d["d_star_mean_error"] < 0.08, d
    v = _trained("value-vs-jsd", tmp_path, d_steps=600, shifts=[0.0, 1.0, 2.0])
    assert v["value_gap_max"] < 0.05 and v["value_rise_min"] > 0.1, v
    assert abs(v["value_at_equal_plus_log4"]) < 0.01, v
    ring = _trained("ring-non-saturating", tmp_path, ring_steps=800, log_every=100)
    assert ring["modes_covered_max"] >= 3 and ring["hq_fraction"] > 0.05, ring


def test_a_run_trains_on_the_configured_device_and_records_it(tmp_path):
    """gan-toy resolves `device` as the engine does: the CPU it ran on goes into run.json, and
    `cuda` where no CUDA is visible is the engine's config error, not a silent CPU run."""
    import json

    from dlrepro.errors import ConfigError
    from dlrepro.families import get
    from dlrepro.provenance import device_description
    from dlrepro.runfolder import RunFolder

    family = get("gan-toy")
    settings = {**{k: v["default"] for k, v in family.settings.items()}, "model": "gan-toy",
                "study": "ring-r1", "ring_steps": 4, "log_every": 2}
    spec = {"experiment": "gan-theory", "variant": "r1", "seed": 0, "axes": {},
            "settings": settings, "device": "cpu", "threads": 1}
    family.run(spec, RunFolder(tmp_path / "cpu"))
    recorded = json.loads((tmp_path / "cpu/run.json").read_text())["device"]
    assert recorded == device_description(torch.device("cpu"))
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="'device' is 'cuda'"):
            family.run({**spec, "device": "cuda"}, RunFolder(tmp_path / "cuda"))
