"""Seeds trained together as one stacked model (train/stack.py) against each seed alone.

Each seed keeps its own split, order, initialisation and dropout masks, so the two modes differ
only in the order of floating-point sums (a batched matmul against separate ones): every metric
within a small tolerance, and a seed's result independent of which seeds share its group.
"""
import json
import math
import sys

import pandas as pd
import pytest

from dlrepro.runfolder import CHECKPOINT, RunFolder
from tests.conftest import kill_after_checkpoint_and_rerun, tiny_spec

# float32 sums in another order: relative differences of ~1e-7 per step, grown over a few epochs
LOSS_RTOL = 1e-4


def group(seeds, together, **settings):
    specs = []
    for seed in seeds:
        spec = tiny_spec(**settings)
        spec.update(seed=seed, seeds_together=together)
        specs.append(spec)
    return specs


def train(specs, out, fmnist_cache):
    from dlrepro.data import Inputs
    from dlrepro.families import get

    folders = [RunFolder(out / f"seed{spec['seed']}") for spec in specs]
    return get(specs[0]["settings"]["model"]).train(specs, folders, Inputs(fmnist_cache),
                                                    progress=False)


def assert_close(a: dict, b: dict, n_examples: int):
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, str) or key in ("epochs_run", "best_epoch", "n_params"):
            assert value == b[key], key
        elif "acc" in key or key == "gap":    # a fraction of examples: at most one flips
            assert abs(value - b[key]) <= 1 / n_examples + 1e-12, key
        else:
            assert math.isclose(value, b[key], rel_tol=LOSS_RTOL, abs_tol=1e-6), (key, value, b[key])


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_one_step_of_the_stack_is_each_members_own_step(model):
    """Outputs, gradients and BatchNorm statistics of the stacked model against each member run
    as an ordinary module, with the same dropout masks: equal up to float summation order. In
    float64: a gradient behind a BatchNorm is a sum with heavy cancellation, and in float32 the
    channels-last CNN alone and its vmapped group (a grouped convolution) sum in different
    orders (~3e-3 relative, one thread); float64 leaves the test its 1e-5."""
    import copy

    import torch
    import torch.nn.functional as F

    from dlrepro.config import expand_runs, validate
    from dlrepro.families import get
    from dlrepro.train.stack import SeedStack

    settings = {"model": model, "batchnorm": True, "dropout": 0.4, **(
        {"channels": [4, 8]} if model == "cnn" else {"hidden": [64, 32]})}
    settings = expand_runs(validate({"experiments": {"dropout": {"base": settings}}}))[0].settings
    torch.manual_seed(0)
    members = [get(model).build(settings).double() for _ in range(3)]
    alone = [copy.deepcopy(m) for m in members]
    stack = SeedStack(members)
    stack.train()
    x, y = torch.randn(3, 32, 1, 28, 28, dtype=torch.float64), torch.randint(0, 10, (3, 32))
    masks = stack.draw_masks(x, [torch.Generator().manual_seed(i) for i in range(3)])
    assert masks and all(len({float(m[i].mean()) for i in range(3)}) == 3 for m in masks.values())
    out = stack(x, masks)
    torch.stack([F.cross_entropy(out[i], y[i]) for i in range(3)]).sum().backward()
    for i, module in enumerate(alone):
        for name, mask in masks.items():
            module.get_submodule(name.rsplit(".", 1)[0]).mask = mask[i]
        reference = module(x[i])
        F.cross_entropy(reference, y[i]).backward()
        assert torch.allclose(out[i], reference, rtol=1e-5, atol=1e-5)
        for name, p in module.named_parameters():
            scale = float(p.grad.abs().max())
            assert float((p.grad - stack.params[name].grad[i]).abs().max()) <= 1e-5 * scale + 1e-6, name
        for name, buffer in module.named_buffers():
            if name not in stack.buffers:      # the dropout masks
                continue
            assert torch.allclose(buffer.float(), stack.buffers[name][i].float(), atol=1e-6), name


# Whole runs: settings whose training does not amplify rounding. (A bias right before a
# BatchNorm has a gradient that is pure rounding noise, which BN cancels; with small data and
# lr 0.1, or with Adam, which scales that noise up to full steps, the modes drift to ~1e-3 in
# loss within 3 epochs: still summation order, as the one-step test above shows.)
@pytest.mark.parametrize("settings", [
    {"model": "mlp", "batchnorm": True, "dropout": 0.3, "probes": ["grad_norms", "activation_stats"]},
    {"model": "cnn", "channels": [4, 8], "dropout": 0.3, "optimizer": "adam", "lr": 0.01},
], ids=["mlp-bn-dropout-probes", "cnn-dropout-adam"])
def test_together_equals_alone_up_to_summation_order(settings, fmnist_cache, tmp_path):
    settings = {"epochs": 3, "train_size": 500, **settings}   # 500 = 15 batches of 32 + 20
    together = train(group([0, 1, 2], True, **settings), tmp_path / "together", fmnist_cache)
    alone = train(group([0, 1, 2], False, **settings), tmp_path / "alone", fmnist_cache)
    assert len({m["test_loss"] for m in alone}) == 3          # three different runs
    for a, b in zip(together, alone):
        assert_close(a, b, n_examples=200)
    for seed in (0, 1, 2):
        ha = pd.read_csv(tmp_path / f"together/seed{seed}/history.csv")
        hb = pd.read_csv(tmp_path / f"alone/seed{seed}/history.csv")
        for column in ("train_loss", "val_loss", *(c for c in ha if c.startswith("grad_norm/"))):
            assert (abs(ha[column] - hb[column]) <= LOSS_RTOL * abs(hb[column]) + 1e-6).all(), column
    info = json.loads((tmp_path / "together/seed0/run.json").read_text())
    assert info["timings"]["seeds_trained_together"] == 3


def test_a_seeds_result_does_not_depend_on_its_group_mates(fmnist_cache, tmp_path):
    settings = {"dropout": 0.3, "batchnorm": True, "epochs": 2}
    three = train(group([0, 1, 2], True, **settings), tmp_path / "three", fmnist_cache)
    two = train(group([1, 2], True, **settings), tmp_path / "two", fmnist_cache)
    # The same arithmetic for seed 1 and 2 (one batched matmul per member): identical numbers.
    assert three[1:] == two
    assert three[0] != three[1]


def test_seeds_stopping_at_different_epochs_are_frozen_where_they_stopped(fmnist_cache, tmp_path):
    """Early stopping ends seeds at different epochs; a stopped seed's weights stay as they were
    (its test score is that of its own epoch) while the others go on."""
    settings = {"epochs": 8, "early_stopping": True, "patience": 1, "lr": 0.5, "train_size": 256}
    together = train(group([0, 1, 2, 3], True, **settings), tmp_path / "together", fmnist_cache)
    alone = train(group([0, 1, 2, 3], False, **settings), tmp_path / "alone", fmnist_cache)
    stopped = [m["epochs_run"] for m in alone]
    assert len(set(stopped)) > 1 and min(stopped) < 8, stopped   # the case under test happens
    for a, b in zip(together, alone):
        assert_close(a, b, n_examples=200)


def test_a_group_killed_midway_resumes_to_identical_metrics(fmnist_cache, tmp_path):
    specs = group([0, 1, 2], True, hidden=[256, 256], dropout=0.2, train_size=3000, epochs=6,
                  batch_size=16)
    train(specs, tmp_path / "uninterrupted", fmnist_cache)
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "dlrepro.cli", "train", "--spec", json.dumps(specs),
               "--out", *(str(out / f"seed{s['seed']}") for s in specs),
               "--data", str(fmnist_cache), "--quiet"]
    rerun = kill_after_checkpoint_and_rerun(command, out / "seed2" / CHECKPOINT,
                                            out / "seed0/metrics.json")
    assert "resuming" in rerun.stderr or "starts afresh" in rerun.stderr
    for seed in (0, 1, 2):
        assert ((out / f"seed{seed}/metrics.json").read_bytes()
                == (tmp_path / f"uninterrupted/seed{seed}/metrics.json").read_bytes())


def test_auto_trains_together_only_on_a_gpu(fmnist_cache, tmp_path):
    """seeds_together: auto on this CPU trains each seed alone: bit-identical to false."""
    auto = train(group([0, 1], "auto", dropout=0.3), tmp_path / "auto", fmnist_cache)
    alone = train(group([0, 1], False, dropout=0.3), tmp_path / "alone", fmnist_cache)
    info = json.loads((tmp_path / "auto/seed0/run.json").read_text())
    assert auto == alone and info["timings"]["seeds_trained_together"] == 1


def test_a_plain_dropout_in_a_stacked_family_is_named():
    from torch import nn

    from dlrepro.train.stack import SeedStack

    with pytest.raises(TypeError, match="plain nn.Dropout.*families.layers.Dropout"):
        SeedStack([nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)) for _ in range(2)])


@pytest.mark.parametrize("together", [True, False])
def test_determinism_check_retrains_the_reference_with_its_group(together, fmnist_cache, tmp_path):
    """A seed trained in a stacked group is reproduced by re-training the group; a seed trained
    alone by re-training it alone. Either way its metrics.json bytes come back identical."""
    from dlrepro.cli import main

    specs = group([0, 1], together, dropout=0.3)
    train(specs, tmp_path / "runs", fmnist_cache)
    result = tmp_path / "determinism.json"
    main(["determinism", "--spec", json.dumps(specs), "--reference",
          str(tmp_path / "runs/seed0/metrics.json"), "--data", str(fmnist_cache), "--quiet",
          "--result", str(result)])
    assert json.loads(result.read_text()) == {"run": "dropout/base/seed0", "identical": True}
