"""word2vec: our PyTorch implementation and gensim's reference on the same corpus and settings.

Ours (notes 000 §7 and 001): CBOW and skip-gram, with a full softmax,
hierarchical softmax (a Huffman tree) or negative sampling as the output layer.

It follows the reference implementation (word2vec.c, and gensim which copies it):
* vocabulary of words seen ≥ min_count times, sorted by count;
* frequent words dropped at random: keep with probability (√(f/(s·T)) + 1)·s·T/f
  (f = count, T = corpus tokens, s = `sample`), fresh draw each epoch;
* dynamic window: each centre word uses a window b ~ U{1..window} (near words count more);
* skip-gram predicts each context word from the centre word; CBOW predicts the centre word from
  the mean of its context vectors (each context vector then gets the whole error, as in
  word2vec.c and gensim);
* learning rate decays linearly from `alpha` to `min_alpha` over all epochs;
* plain SGD with hand-written gradients of the three output layers (as in word2vec.c).

Batched for speed: a batch is `batch_words` centre positions with all their (centre, context)
pairs; the updates of a batch are summed into the embedding tables with index_add_, which is
deterministic. The random streams (subsampling, windows, negatives) come from one seeded
generator, so a seed gives identical vectors.

Both are evaluated with gensim's KeyedVectors functions (WS353 and SimLex-999 Spearman with OOV share,
questions-words analogy accuracy, nearest neighbours of a fixed word list), plus words/s.

gensim has no full-softmax mode (hs=0, negative=0 is refused): that combination is ours alone
(the configuration excludes it). Full softmax costs |V| dot products per prediction, so it
trains on the first `softmax_words` words of the corpus only; its words/s is measured the same
way as everybody's (corpus words per second of training).
"""
from __future__ import annotations

import functools
import heapq
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dlrepro.data.text_corpus import read_sentences
from dlrepro.families import Family
from dlrepro.provenance import device_description
from dlrepro.train.seeding import derive_seed, enable_determinism, resolve_device


@dataclass
class Vocabulary:
    words: list[str]          # by descending count (ties: alphabetical)
    counts: np.ndarray        # int64

    @classmethod
    def build(cls, sentences: list[list[str]], min_count: int) -> "Vocabulary":
        counts = Counter(word for sentence in sentences for word in sentence)
        kept = sorted(((c, w) for w, c in counts.items() if c >= min_count), key=lambda cw: (-cw[0], cw[1]))
        return cls([w for _, w in kept], np.array([c for c, _ in kept], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, sentences: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(word ids, sentence ids) of the in-vocabulary tokens, in corpus order."""
        index = {w: i for i, w in enumerate(self.words)}
        ids, sentence_ids = [], []
        for s, sentence in enumerate(sentences):
            known = [index[w] for w in sentence if w in index]
            ids.extend(known)
            sentence_ids.extend([s] * len(known))
        return np.array(ids, dtype=np.int64), np.array(sentence_ids, dtype=np.int64)


def huffman_tree(counts: np.ndarray) -> tuple[list[list[int]], list[list[int]]]:
    """Huffman codes and paths for each word: codes[w] are the 0/1 branch choices from the root,
    points[w] the inner nodes (0 .. V-2) they are taken at. Frequent words get short codes."""
    n = len(counts)
    if n < 2:
        return [[0]] * n, [[0]] * n
    heap = [(int(c), i) for i, c in enumerate(counts)]   # leaves 0..n-1, inner nodes n..2n-2
    heapq.heapify(heap)
    parent, branch = [0] * (2 * n - 1), [0] * (2 * n - 1)
    next_node = n
    while len(heap) > 1:
        c1, a = heapq.heappop(heap)
        c2, b = heapq.heappop(heap)
        parent[a], branch[a] = next_node, 0
        parent[b], branch[b] = next_node, 1
        heapq.heappush(heap, (c1 + c2, next_node))
        next_node += 1
    root = 2 * n - 2
    codes, points = [], []
    for word in range(n):
        code, path, node = [], [], word
        while node != root:
            code.append(branch[node])
            path.append(parent[node] - n)
            node = parent[node]
        codes.append(code[::-1])
        points.append(path[::-1])
    return codes, points


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Negative-sampling distribution: unigram counts to the power 3/4, normalised."""
    weights = counts.astype(np.float64) ** power
    return weights / weights.sum()


def keep_probability(counts: np.ndarray, sample: float) -> np.ndarray:
    if sample <= 0:
        return np.ones(len(counts))
    threshold = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / threshold) + 1) * threshold / counts)


# Batch size and row cap by output layer when the settings leave them null. Measured on the
# packaged corpus (benchmarks/word2vec_vs_gensim.py, 5 epochs): negative sampling matches gensim
# with plain summed batches of 256 (at 1024 skip-gram's WS353 swings by ±0.05 between seeds:
# the most frequent noise words collect hundreds of summed updates per batch); the hierarchical
# softmax, whose root is on every path, needs small, capped batches.
BATCH_DEFAULTS = {"hierarchical": (128, 128), "negative": (256, 0), "softmax": (1024, 0)}


def initial_alpha(settings: dict) -> float:
    """`alpha`, or word2vec.c's default for the architecture (gensim uses 0.025 for both)."""
    if settings.get("alpha") is not None:
        return settings["alpha"]
    return 0.05 if settings["architecture"] == "cbow" else 0.025


def rows_of(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """table[index] for a row table: `embedding` copies whole rows, several times faster on a CPU
    than advanced indexing (measured: 0.4 vs 3.3 ms for 9,000 rows of 100)."""
    return torch.nn.functional.embedding(index, table)


class Word2Vec:
    def __init__(self, vocab: Vocabulary, settings: dict, device="cpu"):
        batch, cap = BATCH_DEFAULTS[settings["output"]]
        settings = {**settings, "batch_words": settings.get("batch_words") or batch,
                    "row_cap": cap if settings.get("row_cap") is None else settings["row_cap"],
                    "alpha": initial_alpha(settings)}
        self.vocab, self.s = vocab, settings
        self.architecture, self.output = settings["architecture"], settings["output"]
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(settings["seed"])
        v, d = len(vocab), settings["dim"]
        # Input vectors uniform in [-1/d, 1/d) as gensim 4 (word2vec.c used half that range:
        # measured on the packaged corpus, the wider start learns markedly faster in the first
        # epochs); output vectors zero.
        self.input = ((2 * torch.rand(v, d, generator=self.generator) - 1) / d).to(self.device)
        rows = {"softmax": v, "hierarchical": max(v - 1, 1), "negative": v}[self.output]
        self.out = torch.zeros(rows, d, device=self.device)
        if self.output == "hierarchical":
            # Each word's path, flattened: its nodes are points[start[w] : start[w] + length[w]].
            codes, points = huffman_tree(vocab.counts)
            self.path_length = torch.tensor([len(c) for c in codes], device=self.device)
            self.path_start = torch.cumsum(self.path_length, 0) - self.path_length
            self.path_points = torch.tensor([p for path in points for p in path], device=self.device)
            self.path_codes = torch.tensor([c for code in codes for c in code],
                                           dtype=torch.float32, device=self.device)
        if self.output == "negative":
            self.noise = torch.tensor(noise_distribution(vocab.counts), dtype=torch.float64)
        self.keep = torch.tensor(keep_probability(vocab.counts, settings["sample"]))

    # -- pairs ---------------------------------------------------------------------------
    def _epoch_tokens(self, ids: torch.Tensor, sentence_ids: torch.Tensor):
        kept = torch.rand(len(ids), generator=self.generator, dtype=torch.float64) < self.keep[ids]
        return ids[kept], sentence_ids[kept]

    def _epoch_pairs(self, sentence_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list]:
        """Every (centre position, context position) pair of the epoch's tokens, grouped by batch
        of `batch_words` centres (batch b's pairs are [bounds[b], bounds[b + 1])). Built once per
        epoch with whole-corpus tensor operations: per batch, the same ~80 small operations cost
        a third of the training time. Within a batch, pairs stay ordered by offset (measured: in
        centre order, skip-gram's table updates run ~1.4x slower)."""
        window, n = self.s["window"], len(sentence_ids)
        centre = torch.arange(n, dtype=torch.int32)
        reach = torch.randint(1, window + 1, (n,), generator=self.generator, dtype=torch.int32)
        pairs_c, pairs_o = [], []
        for offset in range(1, window + 1):
            for sign in (-1, 1):
                other = centre + sign * offset
                ok = (reach >= offset) & (other >= 0) & (other < n)
                ok &= sentence_ids[other.clamp(0, n - 1)] == sentence_ids  # same sentence
                pairs_c.append(centre[ok])
                pairs_o.append(other[ok])
        centre, context = torch.cat(pairs_c), torch.cat(pairs_o)
        batch = centre // self.s["batch_words"]
        order = torch.argsort(batch, stable=True)
        batches = torch.arange((n + self.s["batch_words"] - 1) // self.s["batch_words"] + 1,
                               dtype=torch.int32)
        return centre[order], context[order], torch.searchsorted(batch[order], batches).tolist()

    # -- output layers: return (gradient for the hidden vectors, loss sum) -----------------
    def _output_step(self, hidden: torch.Tensor, target: torch.Tensor, lr: float):
        """One SGD step of the output layer for predictions (hidden[i] -> target[i]): updates the
        output vectors, returns (the step for the hidden vectors, the summed loss)."""
        if self.output == "softmax":
            logits = hidden @ self.out.T                                      # B x V
            loss = -(torch.log_softmax(logits, 1).gather(1, target[:, None])).sum()
            error = -torch.softmax(logits, 1)
            error[torch.arange(len(target)), target] += 1                   # one-hot − p
            grad_hidden = lr * error @ self.out
            self.out += lr * error.T @ hidden
            return grad_hidden, loss
        if self.output == "negative":
            # Binary logistic regressions: the target (label 1) against k noise words (label 0);
            # a noise word equal to the target is skipped, as word2vec.c does. Every prediction
            # has 1 + k rows: B x (1 + k) x d blocks.
            k = self.s["negative"]
            negatives = torch.multinomial(self.noise, len(target) * k, replacement=True,
                                          generator=self.generator).view(-1, k).to(self.device)
            rows = torch.cat([target[:, None], negatives], 1)                 # B x (1 + k)
            vectors = rows_of(self.out, rows)                                 # B x (1 + k) x d
            score = (vectors * hidden[:, None, :]).sum(2)
            label = torch.zeros(rows.shape, device=self.device)
            label[:, 0] = 1
            weight = torch.ones(rows.shape, device=self.device)
            weight[:, 1:] = (negatives != target[:, None]).float()
            g = (label - torch.sigmoid(score)) * weight                      # word2vec's g / alpha
            loss = -(torch.nn.functional.logsigmoid(torch.where(label > 0, score, -score)) * weight).sum()
            step = lr * g
            grad_hidden = torch.bmm(step[:, None, :], vectors)[:, 0]
            updates = self._capped(step, rows)[:, :, None] * hidden[:, None, :]
            self.out.index_add_(0, rows.flatten(), updates.flatten(0, 1))
            return grad_hidden, loss
        # Hierarchical softmax: one logistic regression per node on the target's Huffman
        # path; code 0 means "go left" = label 1 (word2vec.c's 1 - code).
        length = self.path_length[target]
        pair = torch.repeat_interleave(torch.arange(len(target), device=self.device), length)
        first = torch.repeat_interleave(self.path_start[target], length)
        node = torch.arange(len(pair), device=self.device) - torch.repeat_interleave(
            torch.cumsum(length, 0) - length, length)
        rows, label = self.path_points[first + node], 1 - self.path_codes[first + node]
        vectors, hidden_rows = rows_of(self.out, rows), rows_of(hidden, pair)   # N x d
        score = (vectors * hidden_rows).sum(1)
        g = label - torch.sigmoid(score)                                      # word2vec's g / alpha
        loss = -torch.nn.functional.logsigmoid(torch.where(label > 0, score, -score)).sum()
        step = lr * g
        grad_hidden = torch.zeros_like(hidden).index_add_(0, pair, step[:, None] * vectors)
        self.out.index_add_(0, rows, self._capped(step, rows)[:, None] * hidden_rows)
        return grad_hidden, loss

    def _capped(self, step: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """The output table's step per use of a row: a row used more than `row_cap` times in the
        batch gets its summed update scaled down to row_cap updates' worth. Sequential SGD applies
        a frequent row's updates one after another, each seeing the last; summed at once they
        overshoot (every HS pair touches the root: thousands of updates per batch)."""
        cap = self.s["row_cap"]
        if not cap:
            return step
        uses = torch.bincount(rows.flatten(), minlength=len(self.out)).to(step.dtype)
        return step * (cap / uses[rows]).clamp(max=1.0)

    # -- training ------------------------------------------------------------------------
    def train(self, ids: np.ndarray, sentence_ids: np.ndarray, progress=None) -> list[dict]:
        """Train for settings['epochs'] epochs; returns one history row per epoch."""
        s = self.s
        ids_all, sentences_all = torch.from_numpy(ids), torch.from_numpy(sentence_ids)
        total = s["epochs"] * len(ids)
        history, done, elapsed = [], 0, 0.0
        for epoch in range(1, s["epochs"] + 1):
            tic = time.perf_counter()
            tokens, sentence_ids = self._epoch_tokens(ids_all, sentences_all)
            scale = len(ids) / max(len(tokens), 1)    # progress in raw corpus words, for the LR
            loss_sum = torch.zeros((), device=self.device)
            predictions = torch.zeros((), device=self.device)
            pair_centres, pair_contexts, bounds = self._epoch_pairs(sentence_ids)
            for batch, start in enumerate(range(0, len(tokens), s["batch_words"])):
                stop = min(start + s["batch_words"], len(tokens))
                lr = max(s["min_alpha"], s["alpha"] - (s["alpha"] - s["min_alpha"]) * done / total)
                centre = pair_centres[bounds[batch]:bounds[batch + 1]].long()
                context = pair_contexts[bounds[batch]:bounds[batch + 1]].long()
                centre_w = tokens[centre].to(self.device)
                context_w = tokens[context].to(self.device)
                if self.architecture == "skipgram":
                    grad, loss = self._output_step(rows_of(self.input, centre_w), context_w, lr)
                    self.input.index_add_(0, centre_w, grad)
                    predictions += len(centre_w)
                else:   # CBOW: mean of each centre's context vectors predicts the centre
                    slot = centre - start
                    count = torch.bincount(slot, minlength=stop - start).to(self.device)
                    has = count > 0
                    slot_d = slot.to(self.device)
                    hidden = torch.zeros(stop - start, self.input.shape[1], device=self.device)
                    hidden.index_add_(0, slot_d, rows_of(self.input, context_w))
                    hidden = hidden[has] / count[has, None]
                    targets = tokens[start:stop].to(self.device)[has]
                    grad, loss = self._output_step(hidden, targets, lr)
                    spread = torch.zeros(stop - start, grad.shape[1], device=self.device)
                    spread[has] = grad   # each context word gets the whole error (word2vec.c, gensim)
                    self.input.index_add_(0, context_w, rows_of(spread, slot_d))
                    predictions += has.sum()
                loss_sum += loss
                done += (stop - start) * scale
                if progress:
                    progress(stop - start)
            if self.device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - tic
            elapsed += seconds
            loss = (loss_sum / predictions.clamp_min(1)).item()   # one host sync per epoch
            history.append({"epoch": epoch, "loss": loss,
                            "epoch_time": seconds, "elapsed": elapsed,
                            "words_per_second": len(ids) / seconds})
            if not math.isfinite(history[-1]["loss"]):
                break
        return history

    def vectors(self) -> np.ndarray:
        return self.input.cpu().numpy()


# -- the run: train ours or gensim, evaluate with gensim's functions -----------------------
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


def _encode(sentences, min_count: int) -> tuple[Vocabulary, np.ndarray, np.ndarray]:
    vocab = Vocabulary.build(sentences, min_count)
    return (vocab, *vocab.encode(sentences))


# A job trains every seed of its variant in one process: the corpus is read, and its vocabulary
# built and encoded, once (the file's path, modification time and size are the key).
@functools.lru_cache(maxsize=1)
def _corpus(path: str, mtime_ns: int, size: int) -> list[list[str]]:
    return read_sentences(path)


@functools.lru_cache(maxsize=2)
def _corpus_encoded(path: str, mtime_ns: int, size: int, min_count: int):
    return _encode(_corpus(path, mtime_ns, size), min_count)


def _train_ours(settings, sentences, seed, device, encoded=None, progress: str = ""):
    """`progress`: the bar's label (stderr), or "" for none."""
    from tqdm import tqdm

    vocab, ids, sentence_ids = encoded or _encode(sentences, settings["min_count"])
    if settings["output"] == "softmax" and settings["softmax_words"]:
        ids, sentence_ids = ids[:settings["softmax_words"]], sentence_ids[:settings["softmax_words"]]
    model = Word2Vec(vocab, {**settings, "seed": seed}, device=device)
    # words after subsampling, so the bar ends short of its total: it counts what is trained
    with tqdm(total=settings["epochs"] * len(ids), unit="word", unit_scale=True, ascii=True,
              file=sys.stderr, desc=progress, disable=not progress, mininterval=1) as bar:
        history = model.train(ids, sentence_ids, progress=bar.update)
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
        negative=0 if hs else settings["negative"], alpha=initial_alpha(settings),
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


def run(spec: dict, folder, inputs, progress: bool = False) -> dict:
    from gensim.models import KeyedVectors

    enable_determinism()
    settings, experiment = spec["settings"], spec["experiment"]
    seed = derive_seed(spec["seed"], experiment, "word2vec") % (2 ** 31)
    stat = Path(inputs.corpus).stat()
    corpus = (str(inputs.corpus), stat.st_mtime_ns, stat.st_size)
    sentences = _corpus(*corpus)
    tic = time.perf_counter()
    if settings["implementation"] == "gensim":
        words, vectors, history, corpus_words = _train_gensim(settings, sentences, seed)
        device = f"{device_description(torch.device('cpu'))} (gensim's C loop, 1 worker)"
    else:
        torch.set_num_threads(spec.get("threads", 1))
        torch_device = resolve_device(spec["device"])
        words, vectors, history, corpus_words = _train_ours(
            settings, sentences, seed, torch_device, _corpus_encoded(*corpus, settings["min_count"]),
            progress=f"{experiment}/{spec['variant']}/seed{spec['seed']}" if progress else "")
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
    folder.write(spec, metrics, frame, device,
                 {"train_seconds": train_seconds, "epoch_seconds": train_seconds / len(history),
                  "words_per_second": corpus_words * len(history) / train_seconds,
                  "wall_seconds": time.perf_counter() - tic},
                 tables={"neighbours": neighbours})
    return metrics


def plan_cost(s: dict, costs, corpus_words: int) -> tuple[int, float, bool]:
    """(words trained, seconds, measured) at the speed measured for this implementation and
    layer (dlrepro.plan); the full softmax trains on `softmax_words` words only."""
    measured = costs.sections.get("word2vec") or {}   # benchmarks/gpu_check.py's section
    speeds = {("ours", r["architecture"], r["output"]): r["words_per_second"]
              for r in measured.get("ours", [])
              if "words_per_second" in r and r.get("batch_words") == "default"}
    speeds.update({("gensim", r["architecture"], r["output"]): r["words_per_second"]
                   for r in measured.get("gensim_cpu_workers1", []) if "words_per_second" in r})
    key = (s["implementation"], s["architecture"], s["output"])
    speed = speeds.get(key)
    words = corpus_words if s["output"] != "softmax" or key[0] == "gensim" else min(
        corpus_words, s["softmax_words"] or corpus_words)
    if speed is None:   # not measured: the slowest measured rate of that implementation
        rates = [v for k, v in speeds.items() if k[0] == key[0]] or [1e5]
        speed = min(rates) / (50 if s["output"] == "softmax" else 1)
    return words * s["epochs"], words * s["epochs"] / speed, key in speeds


FAMILY = Family(
    name="word2vec", kind="custom", data="corpus", run=run, plan_cost=plan_cost,
    outside_engine="word2vec.c's sparse updates by hand (no autograd, no optimizer), or gensim's "
                   "C loop, one pass over the corpus per epoch",
    description="word2vec, ours (PyTorch) or gensim's, on the prepared corpus",
    settings={
        "implementation": {"description": "ours (PyTorch) or gensim (reference).",
                           "enum": ["ours", "gensim"], "default": "ours"},
        "architecture": {"enum": ["cbow", "skipgram"], "default": "cbow"},
        "output": {"description": "Output layer.", "enum": ["softmax", "hierarchical", "negative"],
                   "default": "negative"},
        "epochs": {"type": "integer", "minimum": 1, "default": 5},
        "dim": {"type": "integer", "minimum": 1, "default": 100},
        "window": {"type": "integer", "minimum": 1, "default": 5},
        "min_count": {"type": "integer", "minimum": 1, "default": 5},
        "sample": {"description": "Frequent-word subsampling threshold (0 = off).",
                   "type": "number", "minimum": 0, "default": 0.001},
        "negative": {"description": "Negative samples per prediction.", "type": "integer",
                     "minimum": 1, "default": 5},
        "alpha": {"description": "Initial learning rate (decays linearly to min_alpha). null = "
                                 "word2vec.c's default: 0.05 for CBOW, 0.025 for skip-gram.",
                  "type": ["number", "null"], "exclusiveMinimum": 0, "default": None},
        "min_alpha": {"type": "number", "minimum": 0, "default": 0.0001},
        "batch_words": {
            "description": "ours: centre words per batch (updates within a batch are summed: "
                           "smaller is closer to word2vec's per-word SGD, larger is faster). null = "
                           "by output layer: 128 for hierarchical softmax, 256 for negative "
                           "sampling, 1024 for the full softmax; larger is refused: summed updates "
                           "of 4,096 or 32,768 centre words diverge on the DAG's corpus (NaN for "
                           "every combination and seed, docs/performance.md).",
            "type": ["integer", "null"], "minimum": 1, "default": None},
        "row_cap": {
            "description": "ours: a table row used more than this many times in one batch gets "
                           "its summed update scaled to this many (0 = plain sum). Hierarchical "
                           "softmax needs it: every prediction updates the tree's root. null = by "
                           "output layer: 128 for hierarchical softmax, 0 otherwise.",
            "type": ["number", "null"], "minimum": 0, "default": None},
        "softmax_words": {
            "description": "ours, full softmax: train on the first N corpus words only (null = "
                           "all); it costs |V| dot products per prediction.",
            "type": ["integer", "null"], "minimum": 1, "default": 200000},
    },
    # a batch above the output layer's default is a config error, not a NaN run
    rules=[{"if": {"properties": {"output": {"const": output}}},
            "then": {"properties": {"batch_words": {"maximum": batch}}}}
           for output, (batch, _) in BATCH_DEFAULTS.items()])
