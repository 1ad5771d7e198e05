"""word2vec: ours (dlrepro.models.word2vec) and gensim's reference on the same corpus and settings,
evaluated with gensim's KeyedVectors functions (WS353 and SimLex-999 Spearman with OOV share,
questions-words analogy accuracy, nearest neighbours of a fixed word list), plus words/s.

gensim has no full-softmax mode (hs=0, negative=0 is refused): that combination is ours alone
(the configuration excludes it). Full softmax costs |V| dot products per prediction, so it
trains on the first `softmax_words` words of the corpus only; its words/s is measured the same
way as everybody's (corpus words per second of training).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dlrepro.data.text_corpus import read_sentences
from dlrepro.provenance import device_description
from dlrepro.runfiles import write_run
from dlrepro.train.seeding import derive_seed

NEIGHBOUR_WORDS = ["king", "woman", "city", "music", "computer", "water", "good", "run"]
EVALUATION_SETS = {"ws353": "wordsim353.tsv", "simlex": "simlex999.txt"}


def evaluate(kv) -> tuple[dict, pd.DataFrame]:
    """Scores with gensim's own evaluation functions, and the neighbours table."""
    import warnings

    from gensim.test.utils import datapath

    metrics = {}
    with warnings.catch_warnings():   # gensim warns when a whole test set is out of vocabulary
        warnings.simplefilter("ignore")
        for name, filename in EVALUATION_SETS.items():
            try:
                _pearson, spearman, oov = kv.evaluate_word_pairs(datapath(filename))
                metrics[f"{name}_spearman"] = float(spearman.statistic)
                metrics[f"{name}_oov"] = float(oov) / 100
            except ValueError:   # gensim raises when every pair is out of vocabulary
                metrics[f"{name}_spearman"], metrics[f"{name}_oov"] = math.nan, 1.0
        try:
            accuracy, sections = kv.evaluate_word_analogies(datapath("questions-words.txt"))
        except ValueError:
            accuracy, sections = math.nan, []
    total = next((s for s in sections if s["section"] == "Total accuracy"), None)
    answered = len(total["correct"]) + len(total["incorrect"]) if total else 0
    metrics["analogy_accuracy"] = float(accuracy) if answered else math.nan
    metrics["analogy_answered"] = answered
    rows = []
    for word in NEIGHBOUR_WORDS:
        if word in kv.key_to_index:
            for rank, (other, similarity) in enumerate(kv.most_similar(word, topn=8), 1):
                rows.append({"word": word, "rank": rank, "neighbour": other,
                             "similarity": float(similarity)})
    return metrics, pd.DataFrame(rows, columns=["word", "rank", "neighbour", "similarity"])


def _train_ours(settings, sentences, seed, device):
    from dlrepro.models.word2vec import Vocabulary, Word2Vec

    vocab = Vocabulary.build(sentences, settings["min_count"])
    ids, sentence_ids = vocab.encode(sentences)
    if settings["output"] == "softmax" and settings["softmax_words"]:
        ids, sentence_ids = ids[:settings["softmax_words"]], sentence_ids[:settings["softmax_words"]]
    model = Word2Vec(vocab, {**settings, "seed": seed}, device=device)
    history = model.train(ids, sentence_ids)
    return vocab.words, model.vectors(), history, len(ids)


def _train_gensim(settings, sentences, seed, schedule: str = "words"):
    """gensim's Word2Vec with the same settings. `schedule="words"` (the reference) makes its
    learning rate decay with the words trained, as word2vec.c and ours do; gensim's default call
    (`total_examples=`) decays it with the sentences trained instead, which on a corpus of a few
    long Wikipedia lines followed by many short WordNet glosses keeps the rate higher for longer
    (measured: +0.05 WS353 after 1 epoch, +0.01 after 5). `schedule="sentences"` is that call."""
    from gensim.models import Word2Vec as GensimWord2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochLog(CallbackAny2Vec):   # per-epoch loss and time, as for ours
        def __init__(self):
            self.rows, self.tic, self.last_loss, self.elapsed = [], 0.0, 0.0, 0.0

        def on_epoch_begin(self, model):
            self.tic = time.perf_counter()

        def on_epoch_end(self, model):
            seconds = time.perf_counter() - self.tic
            self.elapsed += seconds
            loss = model.get_latest_training_loss()   # cumulative over the run
            self.rows.append({"epoch": len(self.rows) + 1, "epoch_time": seconds,
                              "elapsed": self.elapsed, "gensim_loss": loss - self.last_loss})
            self.last_loss = loss

    log = EpochLog()
    hs = settings["output"] == "hierarchical"
    model = GensimWord2Vec(
        vector_size=settings["dim"], window=settings["window"], min_count=settings["min_count"],
        sample=settings["sample"], sg=int(settings["architecture"] == "skipgram"), hs=int(hs),
        negative=0 if hs else settings["negative"], alpha=settings["alpha"],
        min_alpha=settings["min_alpha"], seed=seed, workers=1)   # workers=1: bit-identical reruns
    model.build_vocab(sentences)
    progress = {"words": {"total_words": model.corpus_total_words},
                "sentences": {"total_examples": model.corpus_count}}[schedule]
    # compute_loss must be given to train() itself: its default (False) overrides the model's.
    # gensim's loss is its own float32 running sum that skips saturated scores: logged as
    # gensim_loss, not comparable with ours' mean loss.
    model.train(sentences, epochs=settings["epochs"], callbacks=[log], compute_loss=True, **progress)
    words = model.corpus_total_words
    for row in log.rows:
        row["words_per_second"] = words / row["epoch_time"]
    return list(model.wv.index_to_key), model.wv.vectors, log.rows, words


def run(spec: dict, out_dir: str | Path, corpus: str | Path) -> dict:
    from gensim.models import KeyedVectors

    from dlrepro.train.seeding import enable_determinism, resolve_device

    enable_determinism()
    settings, experiment = spec["settings"], spec["experiment"]
    seed = derive_seed(spec["seed"], experiment, "word2vec") % (2 ** 31)
    sentences = read_sentences(corpus)
    tic = time.perf_counter()
    if settings["implementation"] == "gensim":
        words, vectors, history, corpus_words = _train_gensim(settings, sentences, seed)
        device = "cpu (gensim, 1 worker)"
    else:
        import torch
        torch.set_num_threads(spec.get("threads", 1))
        torch_device = resolve_device(spec["device"])
        words, vectors, history, corpus_words = _train_ours(settings, sentences, seed, torch_device)
        device = device_description(torch_device)
    train_seconds = sum(row["epoch_time"] for row in history)
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, np.asarray(vectors, dtype=np.float32))
    metrics, neighbours = evaluate(kv)
    frame = pd.DataFrame(history)
    status = "ok" if "loss" not in frame or np.isfinite(frame["loss"]).all() else "diverged"
    metrics = {"status": status, "vocabulary": len(words), "corpus_words": corpus_words,
               **metrics}
    # Timing lives in run.json (metrics.json stays deterministic); words/s is a timing too.
    write_run(out_dir, spec, metrics, frame, device,
              {"train_seconds": train_seconds, "epoch_seconds": train_seconds / len(history),
               "words_per_second": corpus_words * len(history) / train_seconds,
               "wall_seconds": time.perf_counter() - tic},
              extra_tables={"neighbours": neighbours})
    return metrics
