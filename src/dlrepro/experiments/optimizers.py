"""Experiment `optimizers`: Optimizers."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="optimizers", title="Optimizers", notes="note 000 §8, note 002",
    claim="Momentum and RMSProp speed up gradient descent; Adam (momentum + RMSProp with bias"
          " correction) is a good default; RMSProp and Adadelta adapt the step per parameter.",
    setting="MLP 256-256, a few epochs; optimizer × learning rate grid; each optimizer at its best"
            " learning rate (chosen on validation accuracy).",
    checks=[Check("momentum beats plain SGD (each at its best LR)", "test_acc",
                  {"optimizer": "momentum"}, {"optimizer": "sgd"}),
            Check("RMSProp beats plain SGD (each at its best LR)", "test_acc",
                  {"optimizer": "rmsprop"}, {"optimizer": "sgd"}),
            Check("Adam beats plain SGD (each at its best LR)", "test_acc",
                  {"optimizer": "adam"}, {"optimizer": "sgd"})],
    plots=[Plot("lr_sensitivity", {"metric": "test_acc", "series": "optimizer"}),
           Plot("curves", {"y": "val_loss", "x": "epoch", "tuned": True})],
    table_metrics=["test_acc", "val_acc_best"],
    position=8)
