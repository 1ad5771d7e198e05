"""Experiment `transformer-lm`: a decoder-only character model, with and without positions."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="transformer-lm", title="Transformer: a character-level language model",
    notes="note 003 (lecture 08)",
    claim="A decoder-only Transformer (masked self-attention) predicts each character from the"
          " ones before it. The note says attention needs positional encodings; for a causal"
          " model, 'no positions' is known to be nearly competitive, because the mask itself"
          " leaks position (Haviv et al. 2022) — measured here rather than assumed.",
    setting="The blocks of transformer-positions without cross-attention (2 blocks, width 32,"
            " 2 heads, MLP 128; Adam 3e-3 with the cosine decay, 64 windows of 32 characters per step, 500 steps) on"
            " the first million characters of the word2vec corpus (lower-case letters and"
            " spaces); bits per character on 200 held-out windows from the text's end. Beside"
            " them, what no context (unigram) and the previous character alone (bigram) give"
            " on the same characters.",
    checks=[Check("the model uses more than the previous character: learned positions beat the"
                  " bigram model's bits/char", "bits_per_char", {"positions": "learned"},
                  expect="less", metric_b="bigram_bits_per_char"),
            Check("no positions is nearly competitive: within 0.1 bits/char of learned"
                  " positions", "bits_per_char", {"positions": "none"},
                  {"positions": "learned"}, expect="less", threshold=0.1),
            Check("... and of sinusoidal positions", "bits_per_char", {"positions": "none"},
                  {"positions": "sinusoidal"}, expect="less", threshold=0.1)],
    plots=[Plot("curves", {"x": "step", "y": "bits_per_char"})],
    table_metrics=["bits_per_char", "bigram_bits_per_char", "unigram_bits_per_char",
                   "attention_entropy_final"],
    extra_table=("samples", "Greedy continuations of held-out prompts (each variant's lowest seed)"),
    images=True, position=19, see_also=("transformer-positions",))
