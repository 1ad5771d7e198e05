"""Experiment `batchnorm`: Batch normalization."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="batchnorm", title="Batch normalization", notes="note 000 §9, note 004",
    claim="Batch normalization stabilises training, allows a larger learning rate and keeps each"
          " layer's input distribution steady.",
    setting="MLP with 4 hidden layers of 256, plain SGD; BN off/on × learning rate {0.01, 0.1, 1.0};"
            " per-layer activation standard deviation each epoch.",
    checks=[Check("at a large learning rate (1.0), BN reaches higher test accuracy than no BN",
                  "test_acc", {"batchnorm": True, "lr": 1.0}, {"batchnorm": False, "lr": 1.0}),
            Check("with BN, the large learning rate (1.0) still learns: test accuracy > 0.5",
                  "test_acc", {"batchnorm": True, "lr": 1.0}, threshold=0.5),
            Check("with BN the activation scale varies less across layers (log10 max/min std)",
                  "act_std_spread_log10", {"batchnorm": True, "lr": 0.1},
                  {"batchnorm": False, "lr": 0.1}, expect="less")],
    plots=[Plot("lr_sensitivity", {"metric": "test_acc", "series": "batchnorm"}),
           Plot("curves", {"y": "train_loss", "x": "epoch"}),
           Plot("layer_profile", {"prefix": "act_std/", "epoch": "last", "log": True,
                                  "ylabel": "activation std after training"})],
    table_metrics=["test_acc", "act_std_spread_log10"],
    position=9)
