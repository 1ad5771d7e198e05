"""Experiment `optimizers`: Optimizers."""
from dlrepro.experiments import Check, Experiment, Plot, Published

DEEPOBS = ("DeepOBS baselines, fmnist_2c2d, test accuracy after 100 epochs at batch 128, each"
           " optimizer at its tuned learning rate (Schneider, Balles & Hennig, ICLR 2019)")
# Plain SGD at its best rate must have trained: beating a stalled baseline shows nothing.
LEARNED = {"test_acc": 0.5}
# DeepOBS's fmnist_2c2d problem in our settings: the full profile trains it (config/full.yaml)
# (the report names the first differences: the most telling first)
FMNIST_2C2D = {"model": "cnn", "epochs": 100, "train_size": None, "batch_size": 128,
               "channels": [32, 64], "kernel": 5, "dense": [1024], "init": "truncated-normal",
               "weight_decay": 0.0}
WHEN = ("full profile (config/full.yaml: DeepOBS's problem, on 50,000 of its 60,000 training"
        " images; the rest pick the rate)")

EXPERIMENT = Experiment(
    id="optimizers", title="Optimizers", notes="note 000 §8, note 002",
    claim="Momentum and RMSProp speed up gradient descent; Adam (momentum + RMSProp with bias"
          " correction) is a good default; RMSProp and Adadelta adapt the step per parameter.",
    setting="MLP 256-256, a few epochs (the full profile: DeepOBS's fmnist_2c2d CNN, 100 epochs);"
            " optimizer × learning rate grid; each optimizer at its best learning rate (chosen on"
            " validation accuracy).",
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
                               value=value, comparable=WHEN,
                               setting={**FMNIST_2C2D, **extra})
                     for name, optimizer, value, extra in (
                         ("SGD", "sgd", 0.9264, {}),
                         ("momentum 0.99", "momentum", 0.9242, {"momentum": 0.99}),
                         ("Adam", "adam", 0.9221, {}))),
    position=8)
