"""Experiment `dropout`: Dropout."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="dropout", title="Dropout", notes="note 000 §5",
    claim="Dropout reduces overfitting (an implicit ensemble; less co-adaptation of units).",
    setting="MLP 512-512 on 2,000 training images for 30 epochs; dropout p ∈ {0, 0.2, 0.5}. A"
            " finding at this size: dropout's test-accuracy gain (~+0.02) is about as large as the"
            " seeds' spread, so five seeds cannot resolve it (twelve, measured, did not either; the"
            " power column says how many would); the gap it narrows is resolved.",
    checks=[Check("dropout 0.5 narrows the train − test accuracy gap", "gap", {"dropout": 0.5},
                  {"dropout": 0.0}, expect="less"),
            Check("dropout 0.5 raises test accuracy", "test_acc", {"dropout": 0.5}, {"dropout": 0.0},
                  learned={"test_acc": 0.5})],
    plots=[Plot("curves", {"y": "val_loss", "x": "epoch"}), Plot("bars", {"metric": "gap"})],
    table_metrics=["test_acc", "train_acc", "gap"],
    position=6)
