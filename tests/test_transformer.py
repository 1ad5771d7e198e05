"""The Transformer family: each part does what the note says it does, and runs are reproducible."""
import json
import math
import sys

import pytest
import torch

from dlrepro.data import Inputs
from dlrepro.errors import ConfigError
from dlrepro.families import get
from dlrepro.families.transformer import (Attention, CharText, LanguageModel, Seq2Seq, recorded,
                                          sinusoidal_table)
from dlrepro.runfolder import CHECKPOINT, RunFolder
from tests.conftest import kill_after_checkpoint_and_rerun

FAMILY = get("transformer")


def settings(**changes) -> dict:
    s = {k: v["default"] for k, v in FAMILY.settings.items()}
    return {**s, "model": "transformer", **changes}


def train(run_spec: dict, out) -> dict:
    """One run through the engine, as a training job runs it."""
    [metrics] = FAMILY.train([run_spec], [RunFolder(out)], Inputs(), progress=False)
    return metrics


def spec(**changes) -> dict:
    return {"experiment": "transformer-test", "variant": "v", "seed": 0, "axes": {},
            "settings": settings(**changes), "device": "cpu", "threads": 1}


def test_sinusoidal_table_equals_the_formula():
    table = sinusoidal_table(20, 8)
    for p in range(20):
        for i in range(4):
            angle = p / 10000 ** (2 * i / 8)
            assert table[p, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[p, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)


def test_unscaled_scores_are_exactly_sqrt_dk_times_the_scaled_ones():
    torch.manual_seed(0)
    scaled = Attention(d_model=16, heads=2, head_dim=64, scaled=True)
    unscaled = Attention(d_model=16, heads=2, head_dim=64, scaled=False)
    unscaled.load_state_dict(scaled.state_dict())
    x = torch.randn(3, 5, 16)
    assert torch.allclose(unscaled.scores(x, x), scaled.scores(x, x) * math.sqrt(64), rtol=1e-6)


@pytest.mark.parametrize("scaled", [True, False])
@pytest.mark.parametrize("causal", [True, False])
def test_explicit_attention_equals_sdpa(scaled, causal):
    """The report's maps and entropies come from the explicit path: it must be the same
    attention as the one trained (SDPA)."""
    torch.manual_seed(0)
    attention = Attention(d_model=16, heads=4, head_dim=8, scaled=scaled)
    x = torch.randn(2, 7, 16)
    fast = attention(x, x, causal)
    attention.record = True
    explicit = attention(x, x, causal)
    assert torch.allclose(fast, explicit, atol=1e-5)
    assert torch.allclose(attention.weights.sum(-1), torch.ones(2, 4, 7))
    if causal:
        assert (attention.weights.triu(1) == 0).all()


def test_causal_mask_hides_every_future_position():
    torch.manual_seed(0)
    model = Seq2Seq(settings()).eval()
    source = torch.randint(1, 13, (2, 9))
    target = torch.randint(1, 13, (2, 9))
    with torch.no_grad():
        reference = model(source, target)
        for k in range(1, 9):              # decoder input position k holds target[k − 1]
            changed = target.clone()
            changed[:, k - 1] = changed[:, k - 1] % 12 + 1
            logits = model(source, changed)
            # positions before k never see it; position k does (so the test can fail)
            assert torch.equal(logits[:, :k], reference[:, :k]), k
            assert not torch.allclose(logits[:, k:], reference[:, k:])
    # without the mask the first position already sees the last symbol
    model.causal = False
    with torch.no_grad():
        changed = target.clone()
        changed[:, -2] = changed[:, -2] % 12 + 1
        assert not torch.allclose(model(source, changed)[:, 0], model(source, target)[:, 0])


def test_causal_mask_of_the_language_model():
    torch.manual_seed(0)
    model = LanguageModel(settings(task="lm"), characters=20).eval()
    x = torch.randint(0, 20, (2, 12))
    with torch.no_grad():
        reference = model(x)
        changed = x.clone()
        changed[:, 6] = (changed[:, 6] + 1) % 20
        logits = model(changed)
    assert torch.equal(logits[:, :6], reference[:, :6])
    assert not torch.allclose(logits[:, 6:], reference[:, 6:])


def test_without_positions_the_encoder_is_permutation_equivariant():
    torch.manual_seed(0)
    source = torch.randint(1, 13, (3, 10))
    permutation = torch.randperm(10)
    for positions, equivariant in (("none", True), ("sinusoidal", False), ("learned", False)):
        torch.manual_seed(0)
        model = Seq2Seq(settings(positions=positions)).eval()
        with torch.no_grad():
            permuted_out = model.encode(source[:, permutation])
            out_permuted = model.encode(source)[:, permutation]
        assert torch.allclose(permuted_out, out_permuted, atol=1e-5) == equivariant, positions


def test_learned_rows_beyond_the_training_lengths_get_no_gradient():
    torch.manual_seed(0)
    model = Seq2Seq(settings(positions="learned"))
    source = torch.randint(1, 13, (4, 12))
    torch.nn.functional.cross_entropy(model(source, source).flatten(0, 1), source.flatten()).backward()
    grad = model.positions.table.weight.grad
    assert grad[:12].abs().sum(1).gt(0).all()
    assert grad[12:].abs().sum() == 0        # rows 12..16 exist for the longer strings, untrained


def test_a_tiny_model_learns_copy(tmp_path):
    metrics = train(spec(task="copy", steps=300, log_every=100), tmp_path)
    assert metrics["status"] == "ok"
    assert metrics["token_accuracy"] > 0.9, metrics
    figure = RunFolder(tmp_path).outputs()["figures"]["attention"]
    assert set(figure["maps"]) == {"encoder/1", "encoder/2", "decoder/1", "decoder/2",
                                   "cross/1", "cross/2"}
    # heads x queries x keys, for one held-out string of the shortest training length (8)
    cross, encoder, decoder = (figure["maps"][name] for name in ("cross/1", "encoder/1", "decoder/1"))
    assert cross["weights"].shape == (2, 8, 8)
    # (stored as 8-bit levels, as outputs.pt stores every image-like tensor)
    assert torch.allclose(cross["weights"].sum(-1), torch.ones(2, 8), atol=8 / 510)
    # each map carries its own axis labels: cross-attention's queries are the decoder's inputs
    # (BOS, then the greedy output) and its keys the source string, read by the encoder too
    assert cross["queries"][0] == "BOS" and cross["queries"] == decoder["queries"] == decoder["keys"]
    assert cross["keys"] == encoder["keys"] == encoder["queries"] and "BOS" not in cross["keys"]


def test_recorded_weights_are_those_of_the_trained_parameters():
    torch.manual_seed(0)
    model = Seq2Seq(settings()).eval()
    source = torch.randint(1, 13, (2, 8))
    with torch.no_grad():
        plain = model(source, source)
        again, weights = recorded(model, lambda: model(source, source))
    assert torch.allclose(plain, again, atol=1e-5)
    assert weights["decoder/1"].shape == (2, 2, 8, 8)
    assert all(not a.record for a in model.attentions().values())   # switched back off


def test_char_text_baselines_and_a_too_short_corpus(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab" * 2000)
    text = CharText(corpus, settings(task="lm", text_chars=3000, eval_chars=500, context=16))
    # a perfectly alternating text: the bigram model predicts it almost surely, the unigram not
    baselines = text.baselines(text.held_out_windows(16))
    assert baselines["unigram_bits_per_char"] == pytest.approx(1.0, abs=1e-3)
    assert baselines["bigram_bits_per_char"] < 0.01
    corpus.write_text("short text")
    from dlrepro.errors import DataError
    with pytest.raises(DataError, match="eval_chars"):
        CharText(corpus, settings(task="lm"))


def test_odd_width_with_sinusoidal_positions_is_rejected_by_the_config():
    from dlrepro.config import expand_runs, load_config

    config = load_config(["config/config.yaml"])
    config["experiments"] = {"transformer-mask": {
        "seeds": [0], "base": {"model": "transformer", "d_model": 33}, "grid": {}}}
    with pytest.raises(ConfigError, match="d_model"):
        expand_runs(config)


def test_run_killed_midway_resumes_to_identical_metrics(tmp_path):
    run_spec = spec(task="reverse", steps=300, log_every=20, d_model=16, ff=32, batch_size=32)
    train(run_spec, tmp_path / "uninterrupted")

    out = tmp_path / "killed"
    command = [sys.executable, "-m", "dlrepro.cli", "train", "--spec", json.dumps(run_spec),
               "--out", str(out), "--quiet"]
    rerun = kill_after_checkpoint_and_rerun(command, out / CHECKPOINT, out / "metrics.json",
                                            settle=1.0)
    assert "resuming" in rerun.stderr
    assert ((out / "metrics.json").read_bytes()
            == (tmp_path / "uninterrupted/metrics.json").read_bytes())
    assert ((out / "history.csv").read_bytes()
            == (tmp_path / "uninterrupted/history.csv").read_bytes())
    assert not (out / CHECKPOINT).exists()


def test_a_diverging_run_is_recorded_not_raised(tmp_path):
    metrics = train(spec(task="copy", steps=40, log_every=10, lr=1e9), tmp_path)
    assert metrics["status"] == "diverged"
    folder = RunFolder(tmp_path)
    assert folder.metrics()["status"] == "diverged" and folder.outputs() == {"figures": {}}
    assert not (tmp_path / CHECKPOINT).exists()
