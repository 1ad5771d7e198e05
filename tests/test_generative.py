"""The generative families (AE, DAE, VAE, GANs) through their one training loop."""
import json

import pandas as pd
import pytest
import torch

from dlrepro import runfolder
from dlrepro.config import expand_runs, validate
from dlrepro.data.fashion_mnist import load_cache
from dlrepro.report.plots import run_figure
from tests.conftest import history_without_wall_time, train_run

FAMILIES = {
    "ae": {"model": "ae", "latent": 2, "noise": 0.3, "optimizer": "adam", "lr": 0.001},
    "vae-mlp": {"model": "vae", "architecture": "mlp", "hidden": [64], "latent": 2, "lr": 0.001},
    "vae-conv": {"model": "vae", "architecture": "conv", "latent": 4, "lr": 0.001},
    "gan-mlp": {"model": "gan", "architecture": "mlp", "latent": 16, "lr": 0.0002},
    "dcgan": {"model": "gan", "architecture": "dcgan", "latent": 16, "lr": 0.0002},
    "cgan": {"model": "gan", "architecture": "cgan", "latent": 16, "lr": 0.0002},
    "aae-mixture": {"model": "aae", "prior": "mixture", "latent": 2, "lr": 0.001},
    "aae-vae": {"model": "aae", "regulariser": "kl", "latent": 2, "lr": 0.001},
    "pix2pix": {"model": "pix2pix", "width": 4, "eval_images": 50},
    "cyclegan": {"model": "cyclegan", "width": 4, "eval_images": 50},
}


def gen_spec(experiment=None, **settings) -> dict:
    experiment = experiment or {"aae": "aae"}.get(settings["model"], "gan")
    base = {"train_size": 256, "epochs": 2, "batch_size": 64, "logs_per_epoch": 2, **settings}
    config = validate({"seeds": [0], "device": "cpu", "metrics": {"images": 50},
                       "data": {"validation_size": 200, "test_size": 200},
                       "experiments": {experiment: {"base": base}}})
    return expand_runs(config)[0].spec(config)


@pytest.fixture(scope="module")
def cache(fmnist_cache):
    return load_cache(fmnist_cache)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_trains_and_leaves_what_scoring_needs(family, cache, tmp_path):
    spec = gen_spec(**FAMILIES[family])
    metrics = train_run(spec, tmp_path, cache)
    assert metrics["status"] == "ok"
    outputs = runfolder.RunFolder(tmp_path).outputs()
    sets = list(outputs["pairs"].values()) + list(outputs["samples"].values())
    for images in [im for s in sets for im in (s if isinstance(s, tuple) else (s,))]:
        assert images.shape == (50, 1, 28, 28)
        assert images.min() >= 0 and images.max() <= 1
    assert run_figure(outputs["figures"]["grid"])[:4] == b"\x89PNG"   # drawn at report time
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["epoch"].iloc[0] == 0 and history["epoch"].iloc[-1] == 2
    if family.startswith("gan") or family in ("dcgan", "cgan"):
        assert {"train_d_loss", "train_g_loss", "train_d_real", "train_d_fake"} <= set(history)
        assert len(history) == 1 + 2 * 2          # logs_per_epoch points per epoch
    if family == "cgan":
        assert torch.equal(outputs["sample_labels"]["samples"], torch.arange(50) % 10)
    if family.startswith("aae"):   # distances to every prior each epoch; prior drawn behind the codes
        assert {"test_mmd_normal", "test_mmd_mixture", "test_mmd_uniform"} <= set(history)
        assert outputs["figures"]["latent"]["background"].shape == (50, 2)
        assert run_figure(outputs["figures"]["latent"])[:4] == b"\x89PNG"
    if family in ("pix2pix", "cyclegan"):   # scored against the truth; classified as their labels
        assert set(outputs["samples"]) == {"translated", "edges", "real"}
        assert all(torch.equal(labels, outputs["sample_labels"]["real"])
                   for labels in outputs["sample_labels"].values())
        reference, translated = outputs["pairs"]["translated"]
        assert torch.equal(translated, outputs["samples"]["translated"])
        assert torch.equal(reference, outputs["samples"]["real"])
        assert set(outputs["pairs"]) == ({"translated", "reverse"} if family == "cyclegan"
                                         else {"translated"})
        assert list(outputs["figures"]["grid"]["rows"])[:3] == ["input (edges)", "target", "output"]
        assert len(history) == 1 + 2 * 2 and {"train_d_loss", "train_g_gan"} <= set(history)
    if family == "ae":   # denoising: the noisy input is kept to compare against
        assert set(outputs["pairs"]) == {"reconstruction", "noisy_input"}
        assert outputs["figures"]["latent"]["codes"].shape == (50, 2)
        assert run_figure(outputs["figures"]["latent"])[:4] == b"\x89PNG"


def test_vae_kl_term_is_the_closed_form_gaussian_kl():
    from dlrepro.families.vae import VAE

    settings = validate({"experiments": {"vae": {"base": {"model": "vae", "hidden": [32],
                                                          "latent": 3}}}})["experiments"]["vae"]["base"]
    from dlrepro.config import _settings_validator
    _settings_validator().validate(settings)
    torch.manual_seed(0)
    model = VAE(settings)
    x = torch.rand(5, 1, 28, 28)
    losses = model.losses(x, torch.Generator().manual_seed(0))
    mean, log_var = model.encoder(x)
    q = torch.distributions.Normal(mean, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    expected = torch.distributions.kl_divergence(q, p).sum() / 5
    assert torch.allclose(losses["kl"], expected, rtol=1e-5)
    assert torch.allclose(losses["loss"], losses["recon"] + losses["kl"])


@pytest.mark.parametrize("family", ["vae-mlp", "gan-mlp", "aae-mixture", "pix2pix"])
def test_same_seed_gives_identical_files(family, cache, tmp_path):
    spec = gen_spec(**FAMILIES[family])
    for name in ("a", "b"):
        train_run(spec, tmp_path / name, cache)
    assert (tmp_path / "a/metrics.json").read_bytes() == (tmp_path / "b/metrics.json").read_bytes()
    a, b = (runfolder.RunFolder(tmp_path / n).outputs() for n in ("a", "b"))
    for name in a["samples"]:
        assert torch.equal(a["samples"][name], b["samples"][name])


@pytest.mark.parametrize("family", ["vae-conv", "dcgan", "aae-mixture", "cyclegan"])
def test_interrupted_run_resumes_to_identical_results(family, cache, tmp_path, monkeypatch):
    spec = gen_spec(**{**FAMILIES[family], "epochs": 3})
    train_run(spec, tmp_path / "whole", cache)

    real_save, saves = runfolder.atomic_torch_save, []

    def save_then_die(obj, path):   # the process dies right after the epoch-2 checkpoint
        real_save(obj, path)
        saves.append(path)
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(runfolder, "atomic_torch_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_run(spec, tmp_path / "cut", cache)
    assert not (tmp_path / "cut/metrics.json").exists()
    monkeypatch.setattr(runfolder, "atomic_torch_save", real_save)
    train_run(spec, tmp_path / "cut", cache)
    assert (tmp_path / "cut/metrics.json").read_bytes() == (tmp_path / "whole/metrics.json").read_bytes()
    cut = history_without_wall_time(tmp_path / "cut/history.csv")
    whole = history_without_wall_time(tmp_path / "whole/history.csv")
    assert len(whole) == 1 + 3 * 2 and whole["epoch"].iloc[-1] == 3
    pd.testing.assert_frame_equal(cut, whole, check_exact=True)


def test_diverging_vae_is_a_result_not_a_crash(cache, tmp_path):
    spec = gen_spec(**{**FAMILIES["vae-mlp"], "lr": 1e6})
    metrics = train_run(spec, tmp_path, cache)
    assert metrics["status"] == "diverged"
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "diverged"
    assert (tmp_path / "outputs.pt").exists()


def test_vae_reconstruction_term_is_torch_binary_cross_entropy():
    import torch.nn.functional as F

    from dlrepro.families.vae import bce_sum

    x, x_hat = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    x_hat[0, 0, 0, :3] = torch.tensor([0.0, 1.0, 1e-30])
    assert torch.allclose(bce_sum(x_hat, x), F.binary_cross_entropy(x_hat, x, reduction="sum"))
