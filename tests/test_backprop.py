"""Note 004's worked example: hand-derived chain rule = autograd = finite differences."""
import pytest

from dlrepro.families import backprop
from dlrepro.runfolder import RunFolder


def test_hand_gradients_equal_finite_differences_and_autograd():
    hand = backprop.hand_gradients(backprop.WEIGHTS)
    numeric = backprop.finite_difference_gradients(backprop.WEIGHTS)
    auto = backprop.autograd_gradients(backprop.WEIGHTS)
    for name in backprop.WEIGHT_NAMES:
        assert hand[name] == pytest.approx(numeric[name], abs=1e-9), name
        assert hand[name] == pytest.approx(auto[name], abs=1e-14), name


def test_w5_follows_the_notes_chain_rule_with_the_sign_fixed():
    h1, _, out1, _ = (v.item() for v in backprop.forward(backprop.WEIGHTS))
    tar1 = backprop.TARGETS[0]
    expected = (out1 - tar1) * out1 * (1 - out1) * h1
    assert backprop.hand_gradients(backprop.WEIGHTS)["w5"] == pytest.approx(expected, rel=1e-12)
    # The note's literal sign, (tar1 - out1), points uphill: a step along it raises the error.
    lr = 0.5
    uphill = {**backprop.WEIGHTS, "w5": backprop.WEIGHTS["w5"] + lr * expected}
    downhill = {**backprop.WEIGHTS, "w5": backprop.WEIGHTS["w5"] - lr * expected}
    before = backprop.total_error(backprop.WEIGHTS).item()
    assert backprop.total_error(downhill).item() < before < backprop.total_error(uphill).item()


def test_run_writes_the_contract_files(tmp_path):
    spec = {"experiment": "backprop", "variant": "base", "seed": 0, "axes": {},
            "settings": {"model": "backprop", "lr": 0.5}}
    metrics = backprop.run(spec, RunFolder(tmp_path))
    assert metrics["error_change"] < 0
    assert {"metrics.json", "run.json", "gradients.csv"} <= {p.name for p in tmp_path.iterdir()}
