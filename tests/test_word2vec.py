"""Word2vec: the Huffman tree, the output layers' gradients, sampling, determinism, evaluation,
the corpus builder."""
import re

import numpy as np
import pytest
import torch

from dlrepro.errors import DataError
from dlrepro.data.text_corpus import build, read_sentences, synthetic_sentences, wordnet_sentences
from dlrepro.families.word2vec import (Vocabulary, Word2Vec, huffman_tree, keep_probability,
                                     noise_distribution)

SETTINGS = {"architecture": "skipgram", "output": "negative", "dim": 8, "window": 2,
            "min_count": 1, "sample": 0.0, "negative": 3, "alpha": 0.05, "min_alpha": 0.0001,
            "epochs": 2, "batch_words": 64, "row_cap": 0, "softmax_words": None, "seed": 0}


def synthetic_corpus_file(folder, sentences: int):
    path = folder / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in synthetic_sentences(sentences)) + "\n")
    return path


def run_spec(seed: int, **settings) -> dict:
    """A word2vec run's spec as the DAG builds it (SETTINGS, changed by `settings`)."""
    resolved = {**{k: v for k, v in SETTINGS.items() if k != "seed"}, "model": "word2vec", **settings}
    return {"experiment": "word2vec", "variant": "v", "seed": seed, "axes": {},
            "settings": resolved, "device": "cpu", "threads": 1}


@pytest.fixture(scope="module")
def corpus():
    sentences = list(synthetic_sentences(800))
    vocab = Vocabulary.build(sentences, 1)
    return sentences, vocab, *vocab.encode(sentences)


def test_huffman_codes_are_prefix_free_and_frequent_words_get_shorter_codes():
    counts = np.array([500, 300, 120, 80, 80, 40, 20, 10, 5, 1])
    codes, points = huffman_tree(counts)
    strings = ["".join(map(str, c)) for c in codes]
    for i, a in enumerate(strings):
        for j, b in enumerate(strings):
            if i != j:
                assert not b.startswith(a), (a, b)
    for i in range(len(counts)):
        for j in range(len(counts)):
            if counts[i] > counts[j]:
                assert len(codes[i]) <= len(codes[j])
    assert all(0 <= p < len(counts) - 1 for path in points for p in path)
    assert all(path[0] == len(counts) - 2 for path in points)   # every path starts at the root
    # Kraft equality: a full binary tree's code lengths satisfy sum 2^-len = 1.
    assert sum(2.0 ** -len(c) for c in codes) == pytest.approx(1.0)


def test_hierarchical_softmax_probabilities_of_all_words_sum_to_one(corpus):
    _, vocab, _, _ = corpus
    model = Word2Vec(vocab, {**SETTINGS, "output": "hierarchical"})
    model.out = torch.randn(model.out.shape, generator=torch.Generator().manual_seed(1))
    hidden = torch.randn(SETTINGS["dim"])
    probability = []
    for w in range(len(vocab)):
        path = slice(model.path_start[w], model.path_start[w] + model.path_length[w])
        score = model.out[model.path_points[path]] @ hidden
        branch = torch.where(model.path_codes[path] > 0, torch.sigmoid(-score), torch.sigmoid(score))
        probability.append(branch.prod())
    assert torch.stack(probability).sum().item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("output", ["softmax", "hierarchical", "negative"])
def test_hand_written_gradients_equal_autograd(corpus, output):
    _, vocab, _, _ = corpus
    model = Word2Vec(vocab, {**SETTINGS, "output": output})
    model.out = torch.randn(model.out.shape, generator=torch.Generator().manual_seed(2))
    hidden = torch.randn(5, SETTINGS["dim"], generator=torch.Generator().manual_seed(3))
    target = torch.tensor([0, 3, 7, 7, 12])
    state = model.generator.get_state()
    out_before = model.out.clone()
    lr = 0.1
    grad_hidden, loss = model._output_step(hidden, target, lr)
    # The same loss with autograd (the same negatives: replay the generator).
    model.generator.set_state(state)
    out = out_before.clone().requires_grad_(True)
    h = hidden.clone().requires_grad_(True)
    if output == "softmax":
        reference = torch.nn.functional.cross_entropy(h @ out.T, target, reduction="sum")
    elif output == "hierarchical":
        reference = 0
        for i, w in enumerate(target.tolist()):
            path = slice(model.path_start[w], model.path_start[w] + model.path_length[w])
            score = out[model.path_points[path]] @ h[i]
            sign = 1 - 2 * model.path_codes[path]
            reference = reference - torch.nn.functional.logsigmoid(sign * score).sum()
    else:
        negatives = torch.multinomial(model.noise, len(target) * SETTINGS["negative"],
                                      replacement=True, generator=model.generator).view(len(target), -1)
        rows = torch.cat([target[:, None], negatives], 1)
        score = torch.einsum("brd,bd->br", out[rows], h)
        sign = torch.ones_like(score)
        sign[:, 1:] = -1
        weight = torch.ones_like(score)
        weight[:, 1:] = (negatives != target[:, None]).float()
        reference = -(torch.nn.functional.logsigmoid(sign * score) * weight).sum()
    reference.backward()
    assert loss.item() == pytest.approx(reference.item(), rel=1e-5)
    assert torch.allclose(grad_hidden, -lr * h.grad, atol=1e-5)          # SGD step on the input
    assert torch.allclose(model.out - out_before, -lr * out.grad, atol=1e-5)


def test_negative_samples_follow_unigram_to_the_three_quarters(corpus):
    _, vocab, _, _ = corpus
    expected = noise_distribution(vocab.counts)
    assert np.allclose(expected, vocab.counts ** 0.75 / (vocab.counts ** 0.75).sum())
    model = Word2Vec(vocab, SETTINGS)
    draws = torch.multinomial(model.noise, 200_000, replacement=True, generator=model.generator)
    observed = np.bincount(draws.numpy(), minlength=len(vocab)) / 200_000
    assert np.abs(observed - expected).max() < 0.005


def test_subsampling_keeps_rare_words_and_drops_frequent_ones():
    keep = keep_probability(np.array([100_000, 1000, 10]), sample=1e-3)
    assert keep[2] == 1.0 and keep[0] < keep[1] <= 1.0


@pytest.mark.parametrize("architecture", ["cbow", "skipgram"])
@pytest.mark.parametrize("output", ["hierarchical", "negative"])
def test_same_seed_gives_identical_vectors_and_training_separates_the_groups(corpus, architecture, output):
    _, vocab, ids, sentence_ids = corpus
    settings = {**SETTINGS, "architecture": architecture, "output": output, "epochs": 3}
    a, b = Word2Vec(vocab, settings), Word2Vec(vocab, settings)
    a.train(ids, sentence_ids)
    b.train(ids, sentence_ids)
    assert np.array_equal(a.vectors(), b.vectors())
    c = Word2Vec(vocab, {**settings, "seed": 1})
    c.train(ids, sentence_ids)
    assert not np.array_equal(a.vectors(), c.vectors())
    vectors = a.vectors() / np.linalg.norm(a.vectors(), axis=1, keepdims=True)
    index = {w: i for i, w in enumerate(vocab.words)}
    same = vectors[index["king"]] @ vectors[index["queen"]]
    other = vectors[index["king"]] @ vectors[index["ship"]]
    assert same > other          # words of one group share contexts


def test_the_gensim_variant_reruns_to_the_same_bytes_and_its_seed_matters(tmp_path):
    """Our use of gensim (one worker, the run's derived seed) makes a DAG run of the reference
    repeat to the byte, and another seed give other vectors: the reference is seeded, not
    merely deterministic."""
    from dlrepro.data import Inputs
    from dlrepro.families import get
    from dlrepro.runfolder import RunFolder

    corpus = synthetic_corpus_file(tmp_path, 500)
    spec = lambda seed: run_spec(seed, implementation="gensim", output="hierarchical", epochs=1)  # noqa: E731
    family, inputs = get("word2vec"), Inputs(corpus=corpus)
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        family.train([spec(seed)], [RunFolder(tmp_path / name)], inputs, progress=False)
    metrics = {name: (tmp_path / name / "metrics.json").read_bytes() for name in "abc"}
    assert metrics["a"] == metrics["b"] and metrics["a"] != metrics["c"]
    neighbours = {name: (tmp_path / name / "neighbours.csv").read_text() for name in "ac"}
    assert neighbours["a"] != neighbours["c"]


def record_gensim_rates(monkeypatch) -> dict:
    """The start rate gensim was given and the rate its last job used in each epoch, through its
    public API (Word2Vec.train with one more callback; alpha and min_alpha_yet_reached)."""
    from gensim.models import Word2Vec as GensimWord2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    seen = {"start": [], "epoch_end": []}
    original = GensimWord2Vec.train

    class EpochEnd(CallbackAny2Vec):
        def on_epoch_end(self, model):
            seen["epoch_end"].append(model.min_alpha_yet_reached)

    def train(model, *args, callbacks=(), **kwargs):
        seen["start"].append(model.alpha)
        return original(model, *args, callbacks=[*callbacks, EpochEnd()], **kwargs)

    monkeypatch.setattr(GensimWord2Vec, "train", train)
    return seen


def test_gensim_reference_decays_the_learning_rate_with_words_like_ours(monkeypatch):
    """One 10,000-word line then 2,000 five-word lines: half the words are done after the first
    job, so the epoch's last job runs halfway down the rate (gensim's default call counts
    sentences: 1 of 2,001 done, the rate still near alpha)."""
    from dlrepro.families.word2vec import _train_gensim

    words = [w for sentence in synthetic_sentences(4000) for w in sentence]
    sentences = [words[:10_000]] + [words[i:i + 5] for i in range(0, 10_000, 5)]
    assert len(sentences[0]) == 10_000 and all(len(s) == 5 for s in sentences[1:])
    settings = {**SETTINGS, "epochs": 1, "alpha": 0.025, "min_alpha": 0.0001}
    seen = record_gensim_rates(monkeypatch)
    _train_gensim(settings, sentences, seed=0, schedule="words")
    _train_gensim(settings, sentences, seed=0, schedule="sentences")
    assert seen["start"] == [pytest.approx(0.025)] * 2
    by_words, by_sentences = seen["epoch_end"]
    assert by_words == pytest.approx(0.025 - (0.025 - 0.0001) * 0.5, rel=1e-6)
    assert by_sentences == pytest.approx(0.025 - (0.025 - 0.0001) / 2001, rel=1e-6)


@pytest.mark.parametrize("architecture, alpha", [("cbow", 0.05), ("skipgram", 0.025)])
def test_without_alpha_both_implementations_start_at_word2vec_cs_rate(monkeypatch, corpus,
                                                                      architecture, alpha):
    """alpha null: word2vec.c's 0.05 for CBOW, 0.025 for skip-gram, for ours and for gensim."""
    from dlrepro.families.word2vec import _train_gensim

    sentences, vocab, ids, sentence_ids = corpus
    settings = {**SETTINGS, "architecture": architecture, "alpha": None, "epochs": 1}
    assert Word2Vec(vocab, settings).s["alpha"] == alpha
    assert Word2Vec(vocab, {**settings, "alpha": 0.01}).s["alpha"] == 0.01
    seen = record_gensim_rates(monkeypatch)
    _train_gensim(settings, sentences, seed=0, schedule="words")
    assert seen["start"] == [pytest.approx(alpha)]


def test_evaluation_on_a_planted_embedding_gives_the_known_spearman():
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath

    from dlrepro.families.word2vec import evaluate

    pairs = [line.split("\t") for line in open(datapath("wordsim353.tsv"))
             if not line.startswith("#")]
    chosen, seen = [], set()
    for a, b, score in pairs:          # pairs with words not used by another chosen pair
        if a != b and a not in seen and b not in seen and len(chosen) < 6:
            chosen.append((a, b, float(score)))
            seen |= {a, b}
    dim = 2 * len(chosen)
    kv, planted = KeyedVectors(dim), {}
    for i, (a, b, score) in enumerate(chosen):
        angle = np.arccos(score / 10)          # cosine similarity = human score / 10
        va, vb = np.zeros(dim), np.zeros(dim)
        va[2 * i] = 1
        vb[2 * i], vb[2 * i + 1] = np.cos(angle), np.sin(angle)
        kv.add_vectors([a, b], np.stack([va, vb]).astype(np.float32))
        planted[a], planted[b] = va, vb
    metrics, neighbours = evaluate(kv)
    # Known answer: the planted cosines (score/10 within a chosen pair, 0 across pairs, 1 for a
    # word with itself) against the human scores, over the pairs whose words are both planted.
    judged = [(float(s), planted[a] @ planted[b]) for a, b, s in pairs if a in seen and b in seen]
    from scipy.stats import spearmanr
    expected = spearmanr([h for h, _ in judged], [c for _, c in judged]).statistic
    assert metrics["ws353_spearman"] == pytest.approx(expected, abs=1e-6)
    assert metrics["ws353_spearman"] > 0.9
    assert metrics["ws353_oov"] == pytest.approx(1 - len(judged) / len(pairs), abs=1e-3)


def test_neighbours_are_the_nearest_vectors_in_order():
    """Planted vectors with known cosines: the neighbour table must list them by similarity, and
    leave out the listed words that are not in the vocabulary."""
    from gensim.models import KeyedVectors

    from dlrepro.families.word2vec import NEIGHBOUR_WORDS, evaluate

    kv = KeyedVectors(3)
    angles = {"queen": 0.3, "prince": 0.6, "castle": 1.0, "apple": 1.5}   # radians from "king"
    kv.add_vectors(["king", *angles], np.array(
        [[1, 0, 0], *[[np.cos(a), np.sin(a), 0] for a in angles.values()]], dtype=np.float32))
    _, neighbours = evaluate(kv)
    assert set(neighbours["word"]) == {"king"} and "king" in NEIGHBOUR_WORDS
    assert list(neighbours["neighbour"]) == ["queen", "prince", "castle", "apple"]
    assert list(neighbours["rank"]) == [1, 2, 3, 4]
    assert np.allclose(neighbours["similarity"], np.cos(list(angles.values())), atol=1e-6)


def test_wordnet_glosses_skip_the_licence_and_split_on_semicolons(tmp_path):
    for name in ("data.noun", "data.verb", "data.adj", "data.adv"):
        (tmp_path / name).write_text(
            "  1 This software and database is being provided | to you\n"
            "00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived; "
            "\"the Entity exists\"  \n")
    sentences = list(wordnet_sentences(tmp_path))
    assert sentences[:2] == [["that", "which", "is", "perceived"], ["the", "entity", "exists"]]
    assert len(sentences) == 8


def test_missing_wordnet_names_the_package(tmp_path):
    with pytest.raises(DataError, match="apt-get install -y wordnet-base"):
        build(["wordnet"], tmp_path / "corpus.txt", wordnet_dir=tmp_path / "nowhere")
    assert not (tmp_path / "corpus.txt").exists()


def test_corpus_build_is_checksummed_and_lines_are_short(tmp_path):
    long = tmp_path / "long.txt"
    long.write_text(("Word " * 25_000) + "\nSecond, line!\n")
    info = build(["file"], tmp_path / "corpus.txt", path=long)
    sentences = read_sentences(tmp_path / "corpus.txt")
    assert max(len(s) for s in sentences) == 10_000 and sentences[-1] == ["second", "line"]
    assert info["total_tokens"] == 25_002
    import hashlib
    assert info["sha256"] == hashlib.sha256((tmp_path / "corpus.txt").read_bytes()).hexdigest()


def test_a_job_reads_the_corpus_once_and_each_seed_matches_its_run_alone(tmp_path):
    """The seeds of a job share one read and encoding of the corpus: a seed trained after
    another gives the metrics.json bytes it gives alone, and a corpus rewritten at the same path
    is read again."""
    import json

    from dlrepro.data import Inputs
    from dlrepro.families import get
    from dlrepro.families import word2vec as w2v
    from dlrepro.runfolder import RunFolder

    corpus = synthetic_corpus_file(tmp_path, 400)
    spec = lambda seed: run_spec(seed, implementation="ours", epochs=1)  # noqa: E731
    family, inputs = get("word2vec"), Inputs(corpus=corpus)
    w2v._corpus.cache_clear(), w2v._corpus_encoded.cache_clear()
    family.train([spec(0), spec(1)], [RunFolder(tmp_path / "a0"), RunFolder(tmp_path / "a1")],
                 inputs, progress=False)
    assert w2v._corpus.cache_info().misses == 1 and w2v._corpus_encoded.cache_info().misses == 1
    w2v._corpus.cache_clear(), w2v._corpus_encoded.cache_clear()
    family.train([spec(1)], [RunFolder(tmp_path / "b1")], inputs, progress=False)
    assert ((tmp_path / "a1/metrics.json").read_bytes() == (tmp_path / "b1/metrics.json").read_bytes())

    corpus.write_text("alpha beta gamma\n" * 50)      # same path, new contents: read again
    family.train([spec(0)], [RunFolder(tmp_path / "c0")], inputs, progress=False)
    assert json.loads((tmp_path / "c0/metrics.json").read_text())["vocabulary"] == 3


def test_our_word2vec_shows_its_progress_in_words_and_stays_quiet_when_asked(tmp_path, capsys):
    """The DAG's longest job shows a progress bar (words trained, the run's name); --quiet
    (progress=False) shows none, and the numbers are the same either way."""
    from dlrepro.data import Inputs
    from dlrepro.families import get
    from dlrepro.runfolder import RunFolder

    corpus = synthetic_corpus_file(tmp_path, 400)
    spec = run_spec(0, implementation="ours", architecture="cbow", epochs=2)
    family, inputs = get("word2vec"), Inputs(corpus=corpus)
    family.train([spec], [RunFolder(tmp_path / "shown")], inputs, progress=True)
    shown = capsys.readouterr().err
    assert "word2vec/v/seed0" in shown and re.search(r"\d+(\.\d+)?k?word", shown), shown[-500:]
    family.train([spec], [RunFolder(tmp_path / "quiet")], inputs, progress=False)
    assert "word2vec/v/seed0" not in capsys.readouterr().err
    assert (tmp_path / "shown/metrics.json").read_bytes() == (tmp_path / "quiet/metrics.json").read_bytes()


@pytest.mark.parametrize("output, largest", [("hierarchical", 128), ("negative", 256), ("softmax", 1024)])
def test_a_batch_above_the_stable_size_is_a_config_error_not_a_nan_run(tmp_path, output, largest):
    """Summed updates of large batches diverge (NaN at 4,096 and 32,768 centre words for every
    combination): the configuration refuses them, naming the key and the variant."""
    from dlrepro.config import ConfigError, expand_runs, load_config
    from tests.conftest import REPO

    def runs(batch):
        overlay = tmp_path / f"w2v-{batch}.yaml"
        overlay.write_text("experiments:\n  word2vec:\n    grid:\n      implementation: [ours]\n"
                           f"      output: [{output}]\n      batch_words: [{batch}]\n")
        return expand_runs(load_config([REPO / "config/config.yaml", overlay]))

    assert {r.settings["batch_words"] for r in runs(largest) if r.experiment == "word2vec"} == {largest}
    with pytest.raises(ConfigError, match=rf"word2vec.*batch_words.*{largest + 1} is greater than the maximum of {largest}"):
        runs(largest + 1)
