"""Experiment `backprop`: Backpropagation by hand."""
from dlrepro.experiments import Check, Experiment

EXPERIMENT = Experiment(
    id="backprop", title="Backpropagation by hand", notes="note 004",
    claim="The chain rule gives ∂E/∂w5 = ∂E/∂out₁ · ∂out₁/∂z₃ · ∂z₃/∂w5"
          " = (out₁ − tar₁)·out₁(1 − out₁)·h₁, and updating w5 ← w5 − α ∂E/∂w5 lowers the error."
          " (The note writes ∂E/∂out₁ = tar₁ − out₁; the sign is wrong: that update would climb"
          " the error.)",
    setting="The 2-2-2 sigmoid network of note 004 with squared error (classic numbers: inputs"
            " .05/.10, targets .01/.99); every weight's gradient by the hand-derived formula, by"
            " autograd and by central finite differences in float64.",
    checks=[Check("hand-derived gradients equal autograd's (max |difference| < 1e-12)",
                  "max_abs_diff_hand_autograd", {}, expect="less", threshold=1e-12),
            Check("hand-derived gradients equal finite differences (max |difference| < 1e-8)",
                  "max_abs_diff_hand_fd", {}, expect="less", threshold=1e-8),
            Check("one gradient step lowers the total error", "error_change", {}, expect="less")],
    plots=[],
    table_metrics=["dE_dw5_hand", "dE_dw5_autograd", "w5_after_step", "error_before",
                   "error_after_step", "max_abs_diff_hand_autograd", "max_abs_diff_hand_fd"],
    deterministic=True, extra_table=("gradients", "Gradients, weight by weight"),
    position=1)
