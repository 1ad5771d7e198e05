"""Experiment `validation`: Validation set and early stopping."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="validation", title="Validation set and early stopping", notes="note 000 §3",
    claim="The validation set reveals overfitting and picks the epoch (early stopping); the test set"
          " is kept for the final score only.",
    setting="MLP 256-256 trained long on a small (1,000) and a larger (4,000) training set; early"
            " stopping (patience 5, on validation accuracy) on or off.",
    checks=[Check("with 1,000 training images the model overfits: train − test accuracy gap > 0.05",
                  "gap", {"train_size": 1000, "early_stopping": False}, threshold=0.05),
            Check("the epoch chosen on validation scores better on test than the last epoch",
                  "test_acc_best_minus_last", {"train_size": 1000, "early_stopping": False}),
            Check("early stopping ends training in fewer epochs", "epochs_run",
                  {"train_size": 1000, "early_stopping": True},
                  {"train_size": 1000, "early_stopping": False}, expect="less")],
    plots=[Plot("curves", {"y": "train_acc", "x": "epoch", "also": "val_acc"}),
           Plot("bars", {"metric": "gap"})],
    table_metrics=["test_acc", "test_acc_last", "test_acc_best_val", "gap", "epochs_run", "best_epoch"],
    position=5)
