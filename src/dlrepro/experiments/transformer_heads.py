"""Experiment `transformer-heads`: one attention head or several."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="transformer-heads", title="Transformer: one head or several", notes="note 003 (lecture 08)",
    claim="Several heads attend to different things at once; at a fixed model width they do at"
          " least as well as one wide head. Vaswani et al. (Table 3, WMT en-de dev): 1 head"
          " PPL 5.29 / BLEU 24.9 against 8 heads 4.92 / 25.8 — a small gap, not a large one.",
    setting="The reverse task of transformer-positions (sinusoidal positions, width 32) with 1 head"
            " of d_k 32 or 4 heads of d_k 8. The attention maps below are one held-out string's,"
            " per head: reverse's cross-attention should trace the anti-diagonal; the copy task's"
            " maps (the diagonal) are in transformer-positions.",
    checks=[Check("4 heads reach a higher held-out token accuracy than 1 head", "token_accuracy",
                  {"heads": 4}, {"heads": 1}),
            Check("4 heads learn faster: lower held-out loss over training (mean of the curve)",
                  "teacher_forced_loss_mean", {"heads": 4}, {"heads": 1}, expect="less")],
    plots=[Plot("curves", {"x": "step", "y": "teacher_forced_loss"}),
           Plot("curves", {"x": "step", "y": "greedy_token_accuracy"})],
    table_metrics=["token_accuracy", "exact_accuracy", "teacher_forced_loss_mean",
                   "attention_entropy_final"],
    images=True, position=17, see_also=("transformer-positions",))
