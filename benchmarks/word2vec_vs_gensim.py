"""Word2vec targets: ours vs gensim on the packaged corpus, same settings, as a table.

    python benchmarks/word2vec_vs_gensim.py [--epochs 5] [--seeds 3] [--device cpu|cuda]
        [--combos cbow-hierarchical,cbow-negative,skipgram-hierarchical,skipgram-negative]
        [--softmax-words 100000]

For each combination: WS353 Spearman of ours and of gensim (workers=1) as the mean over seeds
0 .. --seeds-1, the difference of the means with its 95% CI (Welch: the seeds of the two
implementations are unrelated; target: ours ≥ gensim − 0.03), and words/s of both (corpus
words × epochs / training seconds, median over the seeds), measured in this one invocation.
The reference decays its learning rate with the words trained, as word2vec.c and ours do; the
column "gensim default" is gensim's default call (decay by sentences), shown for comparison.
One seed alone is not enough: WS353 moves by up to ±0.03 between seeds on this corpus.
Full softmax (ours only; gensim has none) is timed on the first --softmax-words words.
Builds results/data/corpus.txt first if it is missing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from dlrepro.data.text_corpus import build, read_sentences
from dlrepro.families import get
from dlrepro.families.word2vec import _train_gensim, _train_ours, evaluate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402


def settings_for(architecture: str, output: str, epochs: int, softmax_words: int) -> dict:
    defaults = {k: v["default"] for k, v in get("word2vec").settings.items() if "default" in v}
    return {**defaults, "model": "word2vec", "architecture": architecture, "output": output,
            "epochs": epochs, "softmax_words": softmax_words}


def score(words, vectors) -> float:
    import numpy as np
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, np.asarray(vectors, dtype=np.float32))
    return evaluate(kv)[0]["ws353_spearman"]


def difference_ci(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Mean of a − mean of b with Welch's 95% interval (scipy's unequal-variance t-test)."""
    diff = float(np.mean(a) - np.mean(b))
    if len(a) < 2 or len(b) < 2:
        return diff, float("nan"), float("nan")
    interval = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
    return diff, float(interval.low), float(interval.high)


def spread(values: list[float]) -> str:
    return f"{np.mean(values):7.3f}±{np.std(values, ddof=1) if len(values) > 1 else 0:.3f}"


def measure(train, settings, sentences, seeds, *extra) -> tuple[list[float], float]:
    """WS353 per seed and the median words/s of `train` (ours or gensim)."""
    quality, speed = [], []
    for seed in range(seeds):
        words, vectors, history, n = train(settings, sentences, seed, *extra)
        quality.append(score(words, vectors))
        speed.append(n * len(history) / sum(r["epoch_time"] for r in history))
    return quality, float(np.median(speed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--corpus", type=Path, default=Path("results/data/corpus.txt"))
    parser.add_argument("--combos", default="cbow-hierarchical,cbow-negative,"
                                            "skipgram-hierarchical,skipgram-negative")
    parser.add_argument("--softmax-words", type=int, default=100_000)
    parser.add_argument("--record", action="store_true",
                        help="also write a dated record under benchmarks/results/")
    args = parser.parse_args()
    if not args.corpus.exists():
        build(["enwiki", "wordnet"], args.corpus)
    sentences = read_sentences(args.corpus)
    print(f"corpus {args.corpus}: {sum(map(len, sentences)):,} tokens; {args.epochs} epochs; "
          f"{args.seeds} seeds; ours on {args.device}")
    print(f"{'combination':24} {'ours WS353':>14} {'gensim':>14} {'ours−gensim [95% CI]':>26} "
          f"{'target':>6} {'ours w/s':>10} {'gensim w/s':>11} {'gensim default':>14}")
    rows = []
    for combo in args.combos.split(","):
        architecture, output = combo.split("-")
        settings = settings_for(architecture, output, args.epochs, args.softmax_words)
        ours, ours_speed = measure(_train_ours, settings, sentences, args.seeds, args.device)
        ref, ref_speed = measure(_train_gensim, settings, sentences, args.seeds, "words")
        default, _ = measure(_train_gensim, settings, sentences, args.seeds, "sentences")
        diff, low, high = difference_ci(ours, ref)
        print(f"{combo:24} {spread(ours)} {spread(ref)} {diff:+9.3f} [{low:+.3f}, {high:+.3f}] {'met' if diff >= -0.03 else 'missed':>6} "
              f"{ours_speed:10,.0f} {ref_speed:11,.0f} {np.mean(default):14.3f}", flush=True)
        print(f"{'':24} per seed: ours {[round(q, 3) for q in ours]}, gensim {[round(q, 3) for q in ref]}, "
              f"gensim default {[round(q, 3) for q in default]}")
        rows.append({"combination": combo, "ours_ws353": round(float(np.mean(ours)), 3),
                     "gensim_ws353": round(float(np.mean(ref)), 3), "ours_words_s": round(ours_speed),
                     "gensim_words_s": round(ref_speed)})
    if args.record:
        records.write("word2vec-vs-gensim", {
            "summary": f"{args.epochs} epochs, {args.seeds} seeds, WS353 ours / gensim and words/s ours / gensim: "
                       + "; ".join(f"{r['combination']} {r['ours_ws353']} / {r['gensim_ws353']}, "
                                   f"{r['ours_words_s']:,} / {r['gensim_words_s']:,}" for r in rows),
            "rows": rows})
    for architecture in ("cbow", "skipgram"):
        settings = settings_for(architecture, "softmax", 1, args.softmax_words)
        words, vectors, history, n = _train_ours(settings, sentences, 0, args.device)
        speed = n / history[0]["epoch_time"]
        print(f"{architecture + '-softmax':24} {'(first ' + format(n, ',') + ' words)':>62} "
              f"{speed:10,.0f} {'—':>11}", flush=True)


if __name__ == "__main__":
    main()
