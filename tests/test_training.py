"""The training loop's contract: determinism, resume after a kill, divergence, probes."""
import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from dlrepro.runfolder import CHECKPOINT
from tests.conftest import kill_after_checkpoint_and_rerun, tiny_spec, tool_env, train_run


def test_same_seed_gives_identical_metrics_bytes(fmnist_cache, tmp_path):
    spec = tiny_spec()
    train_run(spec, tmp_path / "a", fmnist_cache)
    train_run(spec, tmp_path / "b", fmnist_cache)
    assert (tmp_path / "a/metrics.json").read_bytes() == (tmp_path / "b/metrics.json").read_bytes()
    history = pd.read_csv(tmp_path / "a/history.csv")
    assert list(history["epoch"]) == [0, 1, 2]


def test_other_seed_gives_other_numbers(fmnist_cache, tmp_path):
    a = train_run(tiny_spec(), tmp_path / "a", fmnist_cache, progress=False)
    spec = tiny_spec()
    spec["seed"] = 1
    b = train_run(spec, tmp_path / "b", fmnist_cache)
    assert a["train_loss"] != b["train_loss"]


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_run_killed_midway_resumes_to_identical_metrics(model, fmnist_cache, tmp_path):
    """The CNN's channels-last weights too: saved, restored and trained on to the same bytes."""
    spec = (tiny_spec(hidden=[512, 512], train_size=4000, epochs=8, batch_size=16) if model == "mlp"
            else tiny_spec(model="cnn", channels=[8, 16], dense=[32], train_size=3000, epochs=6,
                           batch_size=16, optimizer="momentum", lr=0.02))
    train_run(spec, tmp_path / "uninterrupted", fmnist_cache)

    out = tmp_path / "killed"
    command = [sys.executable, "-m", "dlrepro.cli", "train", "--spec", json.dumps(spec),
               "--out", str(out), "--data", str(fmnist_cache), "--quiet"]
    rerun = kill_after_checkpoint_and_rerun(command, out / CHECKPOINT, out / "metrics.json")
    assert "resuming" in rerun.stderr
    assert ((out / "metrics.json").read_bytes()
            == (tmp_path / "uninterrupted/metrics.json").read_bytes())


def test_checkpoint_from_other_settings_is_not_reused(fmnist_cache, tmp_path):
    old = train_run(tiny_spec(lr=0.1), tmp_path, fmnist_cache, progress=False)
    metrics = train_run(tiny_spec(lr=0.05), tmp_path, fmnist_cache, progress=False)
    fresh = train_run(tiny_spec(lr=0.05), tmp_path / "fresh", fmnist_cache, progress=False)
    assert metrics == fresh and metrics != old


def test_diverging_learning_rate_is_a_result_not_a_crash(fmnist_cache, tmp_path):
    metrics = train_run(tiny_spec(lr=1e6, optimizer="sgd"), tmp_path, fmnist_cache,
                               progress=False)
    assert metrics["status"] == "diverged"
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["status"] == "diverged"
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "diverged"
    history = pd.read_csv(tmp_path / "history.csv")
    assert not math.isfinite(history["train_loss"].iloc[-1])


def test_probes_measure_without_changing_training(fmnist_cache, tmp_path):
    plain = train_run(tiny_spec(batchnorm=True), tmp_path / "plain", fmnist_cache,
                             progress=False)
    probed = train_run(
        tiny_spec(batchnorm=True, probes=["grad_norms", "activation_stats", "grad_noise"]),
        tmp_path / "probed", fmnist_cache, progress=False)
    for key in ("train_loss", "test_acc", "val_loss"):
        assert probed[key] == plain[key]
    history = pd.read_csv(tmp_path / "probed/history.csv")
    assert {"grad_norm/0", "grad_norm/1", "act_std/0", "grad_noise"} <= set(history.columns)
    assert (history["grad_norm/0"] > 0).all() and (history["grad_noise"] > 0).all()


def test_grad_noise_is_zero_for_full_batch(fmnist_cache, tmp_path):
    metrics = train_run(tiny_spec(batch_size="full", probes=["grad_noise"]), tmp_path,
                               fmnist_cache, progress=False)
    assert metrics["grad_noise"] == 0.0


@pytest.mark.parametrize("split_seed_differs", [False, True])
def test_variants_share_the_split_and_seeds_do_not(fmnist_cache, split_seed_differs):
    import torch

    from dlrepro.data import split_fashion_mnist
    from dlrepro.train.seeding import derive_seed

    cache = torch.load(fmnist_cache)
    a = split_fashion_mnist(cache, derive_seed(0, "dropout", "split"), 100, 50, 10, "cpu")
    b = split_fashion_mnist(cache, derive_seed(int(split_seed_differs), "dropout", "split"),
                            100, 50, 10, "cpu")
    assert torch.equal(a["val"].y, b["val"].y) != split_seed_differs
    assert torch.equal(a["test"].x, b["test"].x)  # the test set never moves


def test_a_run_in_a_fresh_process_repeats_to_the_byte(fmnist_cache, tmp_path):
    """What the determinism switch is for: `dlrepro train` in two fresh interpreters (no state
    shared with this one) gives the same metrics.json bytes and the same curves, dropout masks
    and data order included; and the engine turned deterministic algorithms on."""
    import json
    import subprocess
    import sys

    from tests.conftest import history_without_wall_time, tool_env

    spec = tiny_spec(dropout=0.5)
    probe = ("import sys, torch; from dlrepro.cli import main; code = main(sys.argv[1:]); "
             "print('deterministic', torch.are_deterministic_algorithms_enabled()); sys.exit(code)")
    for name in ("a", "b"):
        out = subprocess.run([sys.executable, "-c", probe, "train", "--spec", json.dumps([spec]),
                              "--out", str(tmp_path / name), "--data", str(fmnist_cache), "--quiet"],
                             capture_output=True, text=True, env=tool_env())
        assert out.returncode == 0, out.stderr[-2000:]
        assert "deterministic True" in out.stdout
    assert (tmp_path / "a/metrics.json").read_bytes() == (tmp_path / "b/metrics.json").read_bytes()
    assert history_without_wall_time(tmp_path / "a/history.csv").equals(
        history_without_wall_time(tmp_path / "b/history.csv"))


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_device_cuda_without_cuda_is_a_clear_config_error(fmnist_cache, tmp_path):
    spec = tiny_spec()
    spec["device"] = "cuda"
    result = subprocess.run([sys.executable, "-m", "dlrepro.cli", "train", "--spec",
                             json.dumps(spec), "--out", str(tmp_path / "run"), "--data",
                             str(fmnist_cache)], capture_output=True, text=True, env=tool_env())
    assert result.returncode == 2
    assert "config key 'device'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run/metrics.json").exists()


@pytest.mark.parametrize("model", ["mlp", "ae"])
def test_a_finished_run_leaves_no_checkpoint_and_reruns_to_the_same_numbers(model, fmnist_cache,
                                                                           tmp_path):
    """A complete run is its files: the resume point is removed, and a re-run (which therefore
    trains afresh) rewrites identical metrics. A spec that keeps its weights (the scoring
    stage's feature classifier) keeps them, without the optimizer state."""
    import torch

    from tests.test_generative import gen_spec

    spec = (gen_spec("autoencoder", model="ae", latent=2, optimizer="adam", lr=0.001)
            if model == "ae" else tiny_spec())
    first = train_run(spec, tmp_path, fmnist_cache)
    assert not (tmp_path / CHECKPOINT).exists()
    metrics_bytes = (tmp_path / "metrics.json").read_bytes()
    assert train_run(spec, tmp_path, fmnist_cache) == first
    assert (tmp_path / "metrics.json").read_bytes() == metrics_bytes

    kept = tmp_path / "kept"
    assert train_run({**spec, "keep_weights": True}, kept, fmnist_cache) == first
    checkpoint = torch.load(kept / CHECKPOINT, weights_only=False)
    assert "model" in checkpoint["state"]
    assert not any(k.startswith("optimizer") for k in checkpoint["state"])


def test_outputs_store_images_as_8_bit_levels_once_each(tmp_path):
    """The data set's images come back exactly, a model's within half a level (1/510); other
    tensors (codes, labels, values outside [0, 1]) exactly; a tensor given twice is stored once."""
    import torch

    from dlrepro.runfolder import RunFolder

    full_test_set = torch.randint(0, 256, (10_000, 1, 28, 28), dtype=torch.uint8).float() / 255.0
    originals = full_test_set[:100]                  # a view of the whole set
    reconstructions = torch.rand(100, 1, 28, 28)      # not levels: stored as the nearest level
    noisy = originals + torch.randn(100, 1, 28, 28)   # outside [0, 1]: not an image, kept as is
    codes = torch.rand(100, 2)                        # 2-D: not images
    folder = RunFolder(tmp_path)
    folder.save_outputs({"pairs": {"reconstruction": (originals, reconstructions),
                                   "noisy": (originals, noisy)},
                         "codes": codes, "labels": torch.arange(100)})
    back = folder.outputs()
    a, b = back["pairs"]["reconstruction"]
    assert a.dtype == b.dtype == torch.float32
    assert torch.equal(a, originals) and torch.equal(back["pairs"]["noisy"][0], originals)
    assert 0 < (b - reconstructions).abs().max() <= 1 / 510 + 1e-7
    assert torch.equal(b, (reconstructions * 255).round() / 255)
    assert torch.equal(back["pairs"]["noisy"][1], noisy)
    assert torch.equal(back["codes"], codes) and torch.equal(back["labels"], torch.arange(100))
    # originals once + reconstructions as bytes, noisy as float32 (+ pickle overhead); neither the
    # 10,000-image base tensor nor a second copy of the originals
    assert folder.outputs_file.stat().st_size < 2 * 100 * 784 + 100 * 784 * 4 + 20_000


def test_runs_of_an_experiment_store_a_shared_image_set_once(tmp_path):
    """Image sets that several runs hold (the test images each one reconstructs) are stored once
    in the experiment's _shared folder, by content; each outputs.pt reads back what it saved. A
    missing or corrupt shared file is an error that names it and the fix, and the run that is
    re-run writes it again."""
    import pytest
    import torch

    from dlrepro.errors import DataError
    from dlrepro.runfolder import RunFolder

    test_images = torch.randint(0, 256, (200, 1, 28, 28), dtype=torch.uint8).float() / 255.0
    folders = [RunFolder(tmp_path / "autoencoder" / variant / f"seed{seed}")
               for variant in ("latent=2", "latent=32") for seed in (0, 1)]
    outputs = [{"pairs": {"reconstruction": (test_images, torch.rand(200, 1, 28, 28))},
                "figures": {"grid": test_images[:10]}} for _ in folders]
    for folder, out in zip(folders, outputs):
        folder.save_outputs(out)
    shared = sorted((tmp_path / "autoencoder" / "_shared").glob("*.pt"))
    assert len(shared) == 1 + len(folders)        # the test images once, each reconstruction once
    for folder, out in zip(folders, outputs):
        back = folder.outputs()
        assert torch.equal(back["pairs"]["reconstruction"][0], test_images)
        assert torch.equal(back["pairs"]["reconstruction"][1],
                           (out["pairs"]["reconstruction"][1] * 255).round() / 255)
        assert torch.equal(back["figures"]["grid"], test_images[:10])   # small: kept inline
        assert folder.outputs_file.stat().st_size < 15_000     # two 157 kB sets not inside
    # a folder that is not results/runs/<experiment>/<variant>/seed<n> keeps everything inline
    RunFolder(tmp_path / "elsewhere").save_outputs(outputs[0])
    assert len(list((tmp_path / "_shared").glob("*.pt"))) == 0
    # the shared file corrupted (or deleted): a DataError naming it and how to re-create it
    [common] = [p for p in shared if p.stat().st_size > 150_000 and
                torch.equal(torch.load(p).float() / 255.0, test_images)]
    common.write_bytes(common.read_bytes()[:1000])
    with pytest.raises(DataError, match=f"{common.stem}.*rm -r {folders[0].path}"):
        folders[0].outputs()
    common.unlink()
    with pytest.raises(DataError, match="shared image set"):
        folders[1].outputs()
    folders[0].save_outputs(outputs[0])             # the re-run writes it again
    assert torch.equal(folders[1].outputs()["pairs"]["reconstruction"][0], test_images)


def test_a_killed_pack_restores_its_finished_runs_instead_of_retraining(fmnist_cache, tmp_path):
    """A job trains an experiment's short variants one after another. Killed during the second,
    it is re-run with its outputs deleted (as Snakemake does): the first run's checkpoint, kept
    until the whole job ends, restores it without training, to the same bytes."""
    import signal
    import time

    short = {**tiny_spec(), "variant": "short"}
    long = {**tiny_spec(hidden=[512, 512], train_size=4000, epochs=8, batch_size=16), "variant": "long"}
    train_run(short, tmp_path / "alone", fmnist_cache)
    folders = [tmp_path / "pack/short", tmp_path / "pack/long"]
    command = [sys.executable, "-m", "dlrepro.cli", "train", "--spec", json.dumps([short, long]),
               "--out", *map(str, folders), "--data", str(fmnist_cache), "--quiet"]
    process = subprocess.Popen(command, env=tool_env(), stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (folders[1] / CHECKPOINT).exists() and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (folders[1] / "metrics.json").exists(), "the pack finished before it could be killed"
    assert (folders[0] / "metrics.json").exists() and (folders[0] / CHECKPOINT).exists()
    for folder in folders:       # Snakemake removes a killed job's outputs before its re-run
        for name in ("metrics.json", "run.json", "history.csv"):
            (folder / name).unlink(missing_ok=True)
    rerun = subprocess.run(command, env=tool_env(), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming {folders[0]} after epoch {short['settings']['epochs']}" in rerun.stderr
    assert ((folders[0] / "metrics.json").read_bytes()
            == (tmp_path / "alone/metrics.json").read_bytes())
    assert not any((folder / CHECKPOINT).exists() for folder in folders)   # pruned at the end


def test_the_2c2d_network_is_deepobs_fmnist_2c2d():
    """conv 5x5 x32, pool, conv 5x5 x64, pool, dense 1024, 10 outputs: DeepOBS's parameter count;
    its init draws N(0, 0.05^2) cut at 2 sd (scipy's truncated-normal sd) and sets biases to 0.05."""
    import torch
    from scipy.stats import truncnorm

    from dlrepro.config import expand_runs, validate
    from dlrepro.families import get

    settings = expand_runs(validate({"experiments": {"optimizers": {"base": {
        "model": "cnn", "channels": [32, 64], "kernel": 5, "dense": [1024],
        "init": "truncated-normal"}}}}))[0].settings
    torch.manual_seed(0)
    model = get("cnn").build(settings)
    expected = (25 * 32 + 32) + (25 * 32 * 64 + 64) + (7 * 7 * 64 * 1024 + 1024) + (1024 * 10 + 10)
    assert sum(p.numel() for p in model.parameters()) == expected == 3_274_634
    weights = torch.cat([p.detach().flatten() for n, p in model.named_parameters() if n.endswith("weight")])
    biases = torch.cat([p.detach().flatten() for n, p in model.named_parameters() if n.endswith("bias")])
    assert float(weights.abs().max()) <= 0.1 and bool((biases == 0.05).all())
    assert float(weights.std()) == pytest.approx(0.05 * truncnorm(-2, 2).std(), rel=0.01)
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
