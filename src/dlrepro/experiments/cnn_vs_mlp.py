"""Experiment `cnn-vs-mlp`: CNN vs MLP."""
from dlrepro.experiments import Check, Experiment, Plot, Published

BENCHMARK = ("Fashion-MNIST benchmark (Xiao, Rasul & Vollgraf 2017; the benchmark table of"
             " github.com/zalandoresearch/fashion-mnist)")

EXPERIMENT = Experiment(
    id="cnn-vs-mlp", title="CNN vs MLP", notes="note 000 §6",
    claim="Parameter sharing and sparse connections: a CNN needs far fewer weights and generalises"
          " better on images.",
    setting="MLP 256-256 vs a CNN of two 3×3 conv blocks (16/32 channels) and one linear layer; same"
            " data, optimizer and epochs (default profile: all 55k training images, 3 epochs of"
            " Adam 1e-3, sized so both reach the benchmark's ballpark; full profile: 30 epochs,"
            " channels 32/64).",
    checks=[Check("the CNN has fewer parameters", "n_params", {"model": "cnn"}, {"model": "mlp"},
                  expect="less"),
            Check("the CNN reaches higher test accuracy", "test_acc", {"model": "cnn"},
                  {"model": "mlp"}, learned={"test_acc": 0.5})],
    plots=[Plot("curves", {"y": "val_acc", "x": "epoch"}), Plot("bars", {"metric": "test_acc"})],
    table_metrics=["n_params", "test_acc", "epoch_seconds"],
    literature=(Published("2 conv + pooling layers, 60k training images (the table's 2-conv rows)",
                          "test_acc", {"model": "cnn"}, BENCHMARK, value=(0.876, 0.916)),
                Published("MLP 256-128-100, 60k training images", "test_acc", {"model": "mlp"},
                          BENCHMARK, value=0.883)),
    position=7)
