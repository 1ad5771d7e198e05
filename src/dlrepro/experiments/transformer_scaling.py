"""Experiment `transformer-scaling`: why attention scores are divided by √d_k."""
from dlrepro.experiments import Check, Experiment, Plot

UNSCALED_16 = {"scaled": False, "head_dim": 16}
# scaled at d_k 16 is the default model: transformer-positions' reverse run with sinusoidal positions
SCALED_16, POSITIONS = {"task": "reverse", "positions": "sinusoidal"}, "transformer-positions"
UNSCALED_64, SCALED_64 = {"scaled": False, "head_dim": 64}, {"scaled": True, "head_dim": 64}

EXPERIMENT = Experiment(
    id="transformer-scaling", title="Transformer: scaling the scores by √d_k",
    notes="note 003 (lecture 08)",
    claim="Attention scores are divided by √d_k because the dot product of two d_k-dimensional"
          " vectors has a variance that grows with d_k: unscaled, the softmax saturates (sharper"
          " attention, lower entropy) and its gradients vanish, so training is slower or less"
          " stable, the more so the larger d_k.",
    setting="The reverse task of transformer-positions (sinusoidal positions, 2 heads, width 32),"
            " with each head's width d_k set to 16 or 64 (queries and keys are projected to"
            " heads × d_k), scores divided by √d_k or not; scaled at d_k 16 is that experiment's"
            " own reverse run, which the checks at d_k 16 read. Attention entropy (nats, mean over"
            " heads and queries) and the norm of the gradient reaching the query and key weights"
            " are logged per attention every 50 steps on a fixed held-out batch; 'initial' is"
            " step 0, before any update.",
    checks=[Check("unscaled attention is sharper at initialisation (lower entropy), d_k 64",
                  "attention_entropy_initial", UNSCALED_64, SCALED_64, expect="less"),
            Check("... and at d_k 16", "attention_entropy_initial", UNSCALED_16, SCALED_16,
                  expect="less", b_experiment=POSITIONS),
            Check("unscaled, the query/key weights get smaller gradients at initialisation, d_k 64",
                  "qk_grad_initial", UNSCALED_64, SCALED_64, expect="less"),
            Check("unscaled, training is slower at d_k 64: higher held-out loss over training"
                  " (mean of the logged curve)", "teacher_forced_loss_mean", UNSCALED_64,
                  SCALED_64),
            Check("... and at d_k 16", "teacher_forced_loss_mean", UNSCALED_16, SCALED_16,
                  b_experiment=POSITIONS),
            Check("scaled, d_k 64 learns reverse: token accuracy > 0.9 (the baseline learned)",
                  "token_accuracy", SCALED_64, threshold=0.9)],
    plots=[Plot("curves", {"x": "step", "y": "teacher_forced_loss"}),
           Plot("curves", {"x": "step", "y": "attention_entropy"}),
           Plot("layer_profile", {"prefix": "qk_grad encoder/", "epoch": 0, "log": True,
                                  "ylabel": "‖∇ query, key weights‖, encoder, step 0"}),
           Plot("layer_profile", {"prefix": "entropy cross/", "epoch": "last", "log": False,
                                  "ylabel": "cross-attention entropy (nats), last step"})],
    table_metrics=["teacher_forced_loss_mean", "token_accuracy", "attention_entropy_initial",
                   "attention_entropy_final", "qk_grad_initial", "qk_grad_mean"],
    position=16, see_also=("transformer-positions",))
