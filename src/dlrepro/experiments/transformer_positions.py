"""Experiment `transformer-positions`: what positional encodings are for."""
from dlrepro.experiments import Check, Experiment, Plot

SETTING = ("An encoder–decoder Transformer (2 + 2 pre-norm blocks, width 32, 2 heads of d_k 16, MLP"
           " 64; Adam 3e-3 decayed by a cosine to 3e-4, batch 32, 400 steps) learns to copy, reverse or sort random strings of"
           " 12 symbols, lengths 8–12, fresh from the seed at every step; scored by greedy decoding"
           " on 32 held-out strings per length, and on longer strings (13–16) never seen in"
           " training. Every variant of a seed sees the same strings.")


def task_check(text, metric, task, a, b=None, **kw):
    """A check on one task: positions a (against b)."""
    return Check(text, metric, {"task": task, "positions": a},
                 None if b is None else {"task": task, "positions": b}, **kw)


EXPERIMENT = Experiment(
    id="transformer-positions", title="Transformer: positional encodings", notes="note 003 (lecture 08)",
    claim="Self-attention ignores the order of its inputs, so positional encodings are needed:"
          " without them an encoder is permutation-equivariant, and a task that depends on order"
          " (copy, reverse) fails while one that does not (sort: the output depends only on the"
          " multiset of symbols) is the control. Sinusoidal encodings are defined at every"
          " position; learned ones have no trained rows beyond the training lengths, so"
          " sinusoidal ones should generalise better to longer strings.",
    setting=SETTING + " References of the same kind: minGPT's sort demo reaches 100% test"
                      " accuracy with 3 layers, 3 heads, d = 48; the Annotated Transformer decodes"
                      " copy exactly.",
    checks=[task_check("with sinusoidal positions copy is learned: held-out token accuracy > 0.9"
                       " (so a failure without positions is not a failed setup)",
                       "token_accuracy", "copy", "sinusoidal", threshold=0.9),
            task_check("without positions copy fails: sinusoidal positions beat none",
                       "token_accuracy", "copy", "sinusoidal", "none"),
            task_check("with sinusoidal positions reverse is learned: token accuracy > 0.9",
                       "token_accuracy", "reverse", "sinusoidal", threshold=0.9),
            task_check("without positions reverse fails: sinusoidal positions beat none",
                       "token_accuracy", "reverse", "sinusoidal", "none"),
            task_check("sort, the control, does not need positions: no positions within 0.05 of"
                       " sinusoidal in token accuracy", "token_accuracy", "sort", "none",
                       "sinusoidal", threshold=-0.05),
            task_check("sinusoidal positions generalise to longer strings better than learned"
                       " ones (copy, lengths 13–16)", "long_token_accuracy", "copy", "sinusoidal",
                       "learned"),
            task_check("... and on reverse", "long_token_accuracy", "reverse", "sinusoidal",
                       "learned")],
    plots=[Plot("curves", {"x": "step", "y": "greedy_token_accuracy"}),
           Plot("curves", {"x": "step", "y": "teacher_forced_loss"}),
           Plot("bars", {"metric": "long_token_accuracy"})],
    table_metrics=["token_accuracy", "exact_accuracy", "long_token_accuracy",
                   "long_exact_accuracy", "teacher_forced_loss"],
    images=True, position=15,
    see_also=("transformer-scaling", "transformer-heads", "transformer-mask", "transformer-lm"))
