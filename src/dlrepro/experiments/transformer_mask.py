"""Experiment `transformer-mask`: why the decoder hides the future."""
from dlrepro.experiments import Check, Experiment, Plot

# the masked model is transformer-positions' reverse run with sinusoidal positions
CAUSAL, POSITIONS = {"task": "reverse", "positions": "sinusoidal"}, "transformer-positions"
VISIBLE = {"decoder_mask": "none"}

EXPERIMENT = Experiment(
    id="transformer-mask", title="Transformer: the decoder's mask", notes="note 003 (lecture 08)",
    claim="The decoder's self-attention is masked so that each position sees only earlier ones:"
          " in training (teacher forcing) the whole target is given, and without the mask the"
          " decoder reads the answer off the next position; at generation time that position does"
          " not exist yet, so the model that learned to look ahead fails.",
    setting="The reverse task of transformer-positions (sinusoidal positions) without the"
            " decoder's mask, against that experiment's reverse run (masked; a check there makes"
            " sure it learned). Teacher-forced loss and accuracy (the target given) and greedy"
            " decoding (each symbol from those decoded before it) on the same held-out strings."
            " Copy, tried first, hides the leak: both models reach a teacher-forced loss of"
            " ~0.002 and the unmasked one still decodes 96% of tokens, because copy can be read"
            " off the source through cross-attention as easily as off the next position.",
    checks=[Check("with the future visible, the teacher-forced loss is lower than with the mask",
                  "teacher_forced_loss", VISIBLE, CAUSAL, expect="less", b_experiment=POSITIONS),
            Check("... but greedy decoding fails: token accuracy below the masked model's",
                  "token_accuracy", VISIBLE, CAUSAL, expect="less", b_experiment=POSITIONS)],
    plots=[Plot("curves", {"x": "step", "y": "teacher_forced_loss"}),
           Plot("curves", {"x": "step", "y": "greedy_token_accuracy"})],
    table_metrics=["teacher_forced_loss", "teacher_forced_accuracy", "token_accuracy",
                   "exact_accuracy"],
    images=True, position=18, see_also=("transformer-positions",))
