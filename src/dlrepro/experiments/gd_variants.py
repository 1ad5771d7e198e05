"""Experiment `gd-variants`: Full-batch GD, SGD and mini-batch."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="gd-variants", title="Full-batch GD, SGD and mini-batch", notes="note 000 §1",
    claim="Full-batch gradient descent makes one slow update per epoch; SGD (batch 1) is noisy and"
          " slow per epoch on parallel hardware; mini-batches (2ⁿ) are the efficient middle.",
    setting="Softmax regression on a Fashion-MNIST subset; batch size ∈ {full, 1, 8, …, 512}, the"
            " learning rate tuned per batch size on validation accuracy; same number of epochs.",
    checks=[Check("mini-batch 128 reaches higher test accuracy than full-batch GD", "test_acc",
                  {"batch_size": 128}, {"batch_size": "full"}),
            Check("an epoch with mini-batches of 128 takes less wall time than with batch 1",
                  "epoch_seconds", {"batch_size": 128}, {"batch_size": 1}, expect="less"),
            Check("batch-1 gradients are noisier (E‖g_B − g‖²) than batch-128 gradients",
                  "grad_noise", {"batch_size": 1}, {"batch_size": 128})],
    plots=[Plot("curves", {"y": "val_loss", "x": "epoch", "tuned": True}),
           Plot("curves", {"y": "train_loss", "x": "elapsed", "tuned": True, "logx": True}),
           Plot("lr_sensitivity", {"metric": "test_acc", "series": "batch_size"})],
    table_metrics=["test_acc", "val_acc_best", "epoch_seconds", "grad_noise"],
    position=3)
