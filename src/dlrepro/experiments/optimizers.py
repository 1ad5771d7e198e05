"""Experiment `optimizers`: Optimizers."""
from dlrepro.experiments import Check, Experiment, Plot, Published

DEEPOBS = ("DeepOBS baselines, fmnist_2c2d, test accuracy after 100 epochs at batch 128, each"
           " optimizer at its tuned learning rate (Schneider, Balles & Hennig, ICLR 2019)")
# Plain SGD at its best rate must have trained: beating a stalled baseline shows nothing.
LEARNED = {"test_acc": 0.5}
NOT_2C2D = "a different problem: DeepOBS trains a 2-conv CNN on all 60k images for 100 epochs"

EXPERIMENT = Experiment(
    id="optimizers", title="Optimizers", notes="note 000 §8, note 002",
    claim="Momentum and RMSProp speed up gradient descent; Adam (momentum + RMSProp with bias"
          " correction) is a good default; RMSProp and Adadelta adapt the step per parameter.",
    setting="MLP 256-256, a few epochs; optimizer × learning rate grid; each optimizer at its best"
            " learning rate (chosen on validation accuracy).",
    checks=[Check("momentum beats plain SGD (each at its best LR)", "test_acc",
                  {"optimizer": "momentum"}, {"optimizer": "sgd"}, learned=LEARNED),
            Check("RMSProp beats plain SGD (each at its best LR)", "test_acc",
                  {"optimizer": "rmsprop"}, {"optimizer": "sgd"}, learned=LEARNED),
            Check("Adam beats plain SGD (each at its best LR)", "test_acc",
                  {"optimizer": "adam"}, {"optimizer": "sgd"}, learned=LEARNED)],
    plots=[Plot("lr_sensitivity", {"metric": "test_acc", "series": "optimizer"}),
           Plot("curves", {"y": "val_loss", "x": "epoch", "tuned": True})],
    table_metrics=["test_acc", "val_acc_best"],
    literature=tuple(Published(f"fmnist_2c2d, {name}", "test_acc", {"optimizer": optimizer}, DEEPOBS,
                               value=value, comparable=NOT_2C2D)
                     for name, optimizer, value in (("SGD", "sgd", 0.9264),
                                                    ("momentum", "momentum", 0.9242),
                                                    ("Adam", "adam", 0.9221))),
    position=8)
