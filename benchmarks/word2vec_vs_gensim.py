"""Word2vec targets: ours vs gensim on the packaged corpus, same settings, as a table.

    python benchmarks/word2vec_vs_gensim.py [--epochs 5] [--device cpu|cuda]
        [--combos cbow-hierarchical,cbow-negative,skipgram-hierarchical,skipgram-negative]
        [--softmax-words 100000]

For each combination: WS353 Spearman of ours and of gensim (workers=1), the difference (target:
ours ≥ gensim − 0.03), and words/s of both (corpus words × epochs / training seconds), measured
in this one invocation. Full softmax (ours only; gensim has none) is timed on the first
--softmax-words words. Builds results/data/corpus.txt first if it is missing.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from dlrepro.config import load_schema
from dlrepro.data.text_corpus import build, read_sentences
from dlrepro.experiments.word2vec import _train_gensim, _train_ours, evaluate


def settings_for(architecture: str, output: str, epochs: int, softmax_words: int) -> dict:
    defaults = {k: v["default"] for k, v in load_schema()["$defs"]["settings"]["properties"].items()
                if "default" in v}
    return {**defaults, "model": "word2vec", "architecture": architecture, "output": output,
            "epochs": epochs, "softmax_words": softmax_words}


def score(words, vectors) -> float:
    import numpy as np
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, np.asarray(vectors, dtype=np.float32))
    return evaluate(kv)[0]["ws353_spearman"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--corpus", type=Path, default=Path("results/data/corpus.txt"))
    parser.add_argument("--combos", default="cbow-hierarchical,cbow-negative,"
                                            "skipgram-hierarchical,skipgram-negative")
    parser.add_argument("--softmax-words", type=int, default=100_000)
    args = parser.parse_args()
    if not args.corpus.exists():
        build(["enwiki", "wordnet"], args.corpus)
    sentences = read_sentences(args.corpus)
    print(f"corpus {args.corpus}: {sum(map(len, sentences)):,} tokens; {args.epochs} epochs; "
          f"ours on {args.device}")
    header = f"{'combination':24} {'ours WS353':>10} {'gensim':>7} {'ours−gensim':>11} " \
             f"{'ours w/s':>10} {'gensim w/s':>11}"
    print(header)
    for combo in args.combos.split(","):
        architecture, output = combo.split("-")
        settings = settings_for(architecture, output, args.epochs, args.softmax_words)
        words, vectors, history, n = _train_ours(settings, sentences, 0, args.device)
        ours, ours_speed = score(words, vectors), n * len(history) / sum(r["epoch_time"] for r in history)
        words, vectors, history, n = _train_gensim(settings, sentences, 0)
        ref, ref_speed = score(words, vectors), n * len(history) / sum(r["epoch_time"] for r in history)
        print(f"{combo:24} {ours:10.3f} {ref:7.3f} {ours - ref:+11.3f} {ours_speed:10,.0f} "
              f"{ref_speed:11,.0f}", flush=True)
    for architecture in ("cbow", "skipgram"):
        settings = settings_for(architecture, "softmax", 1, args.softmax_words)
        words, vectors, history, n = _train_ours(settings, sentences, 0, args.device)
        speed = n / history[0]["epoch_time"]
        print(f"{architecture + '-softmax':24} {'(first ' + format(n, ',') + ' words)':>30} "
              f"{speed:10,.0f} {'—':>11}", flush=True)


if __name__ == "__main__":
    main()
