"""Experiment `activations`: Activation functions and initialisation."""
from dlrepro.experiments import Check, Experiment, Plot

# A linear network that never trained loses to anything: it must first beat half accuracy.
LEARNED = {"test_acc": 0.5}

EXPERIMENT = Experiment(
    id="activations", title="Activation functions and initialisation", notes="note 000 §2, note 004",
    claim="Sigmoid saturates and its gradients vanish in deep nets (and it is not zero-centred); tanh is"
          " better; ReLU and LeakyReLU fix it; without a nonlinearity stacked layers collapse to one"
          " linear map.",
    setting="An 8-hidden-layer MLP (width 128); activation × init (Xavier, He); per-layer gradient norms"
            " at initialisation.",
    checks=[Check("ReLU (He init) reaches higher test accuracy than sigmoid (Xavier init)", "test_acc",
                  {"activation": "relu", "init": "he"}, {"activation": "sigmoid", "init": "xavier"}),
            Check("sigmoid's first-layer gradient is smaller relative to its last layer's than ReLU's"
                  " (log10 ratio)", "grad_ratio_first_last_log10",
                  {"activation": "sigmoid", "init": "xavier"}, {"activation": "relu", "init": "he"},
                  expect="less"),
            Check("tanh reaches higher test accuracy than sigmoid (both Xavier)", "test_acc",
                  {"activation": "tanh", "init": "xavier"}, {"activation": "sigmoid", "init": "xavier"}),
            Check("ReLU beats the purely linear network (identity activation)", "test_acc",
                  {"activation": "relu", "init": "he"}, {"activation": "identity", "init": "xavier"},
                  learned=LEARNED)],
    plots=[Plot("layer_profile", {"prefix": "grad_norm/", "epoch": 0, "log": True,
                                  "ylabel": "gradient norm at initialisation"}),
           Plot("curves", {"y": "val_acc", "x": "epoch"}),
           Plot("bars", {"metric": "test_acc"})],
    table_metrics=["test_acc", "grad_ratio_first_last_log10"],
    position=4)
