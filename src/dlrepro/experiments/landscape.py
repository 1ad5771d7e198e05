"""Experiment `landscape`: Optimizers on toy loss surfaces."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="landscape", title="Optimizers on toy loss surfaces", notes="note 000 §1, §8",
    claim="Plateaus and local optima trap gradient descent; momentum speeds it through an"
          " ill-conditioned ravine; RMSProp and Adam rescale each axis and so cross flat regions.",
    setting="Two 2-D surfaces: a ravine f = x²/2 + 10y² and a surface with a global minimum near (2, 0),"
            " a local minimum near (−2, 0) and a nearly flat plateau far away. Start 0 = (5, 3) (on the"
            " plateau), start 1 = (−3, 0.5) (beside the local minimum), both jittered by the seed; same"
            " learning rate for every optimizer.",
    checks=[Check("ravine: momentum reaches f − f* < tolerance in fewer steps than plain GD",
                  "steps_to_tol/0", {"surface": "ravine", "optimizer": "momentum"},
                  {"surface": "ravine", "optimizer": "sgd"}, expect="less"),
            Check("plateau: Adam ends closer to the global minimum than plain GD",
                  "final_distance/0", {"surface": "plateau", "optimizer": "adam"},
                  {"surface": "plateau", "optimizer": "sgd"}, expect="less"),
            Check("plateau: RMSProp ends closer to the global minimum than plain GD",
                  "final_distance/0", {"surface": "plateau", "optimizer": "rmsprop"},
                  {"surface": "plateau", "optimizer": "sgd"}, expect="less"),
            Check("GD started beside the local minimum stays trapped (final f − f* > 0.1)",
                  "final_gap/1", {"surface": "plateau", "optimizer": "sgd"}, threshold=0.1)],
    plots=[Plot("trajectories")],
    table_metrics=["steps_to_tol/0", "steps_to_tol/1", "final_distance/0", "final_gap/1"],
    position=2)
