"""Experiment `activations`: Activation functions and initialisation."""
from dlrepro.experiments import Check, Experiment, Plot

DEEP = [128] * 8                   # the experiment's network: eight hidden layers of 128
LINEAR = {"hidden": DEEP, "activation": "identity", "init": "xavier"}   # at its better lr
ONE_LAYER = {"hidden": [], "activation": "identity", "init": "xavier"}  # softmax regression
# A linear network that never trained (it diverges at lr 0.05) loses to anything and "matches"
# nothing: each compared run must first beat half accuracy.
LEARNED = {"test_acc": 0.5}

EXPERIMENT = Experiment(
    id="activations", title="Activation functions and initialisation", notes="note 000 §2, note 004",
    claim="Sigmoid saturates and its gradients vanish in deep nets (and it is not zero-centred); tanh is"
          " better; ReLU and LeakyReLU fix it; without a nonlinearity stacked layers collapse to one"
          " linear map.",
    setting="An 8-hidden-layer MLP (width 128, lr 0.05); activation × init (Xavier, He); per-layer"
            " gradient norms at initialisation. The linear controls: the same eight layers without a"
            " nonlinearity (identity, Xavier), which diverge at lr 0.05 and so also train at 0.01"
            " (each check takes the rate better on validation), and one linear layer (softmax"
            " regression), which is what eight stacked linear layers can at most express.",
    checks=[Check("ReLU (He init) reaches higher test accuracy than sigmoid (Xavier init)", "test_acc",
                  {"activation": "relu", "init": "he"}, {"activation": "sigmoid", "init": "xavier"}),
            Check("sigmoid's first-layer gradient is smaller relative to its last layer's than ReLU's"
                  " (log10 ratio)", "grad_ratio_first_last_log10",
                  {"activation": "sigmoid", "init": "xavier"}, {"activation": "relu", "init": "he"},
                  expect="less"),
            Check("tanh reaches higher test accuracy than sigmoid (both Xavier)", "test_acc",
                  {"activation": "tanh", "init": "xavier"}, {"activation": "sigmoid", "init": "xavier"}),
            Check("ReLU beats the trained deep linear network (eight identity layers)", "test_acc",
                  {"activation": "relu", "init": "he"}, LINEAR, learned=LEARNED),
            Check("stacked linear layers collapse to one linear map: the deep linear network is no"
                  " better than one linear layer (test accuracy at most 0.01 above it)", "test_acc",
                  LINEAR, ONE_LAYER, expect="less", threshold=0.01, learned=LEARNED)],
    plots=[Plot("layer_profile", {"prefix": "grad_norm/", "epoch": 0, "log": True,
                                  "ylabel": "gradient norm at initialisation"}),
           Plot("curves", {"y": "val_acc", "x": "epoch"}),
           Plot("bars", {"metric": "test_acc"})],
    table_metrics=["test_acc", "grad_ratio_first_last_log10"],
    position=4)
