"""Experiment `gan-theory`: the GAN's optimal discriminator, its value and mode coverage."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="gan-theory", title="GAN theory on toy densities", notes="note 003 (lecture 10)",
    claim="For a fixed generator the optimal discriminator is D*(x) = p_data(x) / (p_data(x) +"
          " p_g(x)); at D* the game's value is V = −log 4 + 2·JSD(p_data ‖ p_g), smallest (−log 4)"
          " exactly when p_g = p_data; in practice GANs drop modes of the data (mode collapse)."
          " (The opening of the game, D's loss falling while G's rises, is a check of the `gan`"
          " experiment.)",
    setting="1-D densities known in closed form: a discriminator (two hidden layers of 64, Adam)"
            " trained to convergence on fresh samples against a fixed p_g, compared with the"
            " analytic D* where the data are, and its value V(D, G) against −log 4 + 2·JSD, both"
            " integrated on a grid, for p_data = N(0, 1) and p_g = N(μ, 1). 2-D: the ring of 8"
            " Gaussians (radius 2, σ 0.05) learned by a GAN (two hidden layers of 64, Adam 1e-3,"
            " β1 0.5) with the minimax generator loss, the non-saturating loss, or the"
            " non-saturating loss plus the R1 gradient penalty; modes covered (≥ 1% of 2,500"
            " samples within 3σ of the mode) and the share of such high-quality samples, counted"
            " during training. VEEGAN's table (σ 0.01 ring, 2,500 samples) for comparison: GAN 1"
            " mode (99.3% high quality), unrolled GAN 7.6 (35.6%), VEEGAN 8.0 (52.9%).",
    checks=[Check("a discriminator trained to convergence matches D* = p_data / (p_data + p_g):"
                  " largest deviation < 0.1 where the data are", "d_star_max_error",
                  {"study": "optimal-discriminator"}, expect="less", threshold=0.1),
            Check("at a converged D, V(D, G) equals −log 4 + 2·JSD within 0.02 nats for every"
                  " shift of p_g", "value_gap_max", {"study": "value-vs-jsd"}, expect="less",
                  threshold=0.02),
            Check("V is smallest when p_g = p_data: every shifted p_g has a larger value",
                  "value_rise_min", {"study": "value-vs-jsd"}),
            Check("the minimax GAN learned the ring: > 30% of its samples are high quality (so a"
                  " missing mode is not a failed run)", "hq_fraction", {"study": "ring-minimax"},
                  threshold=0.3),
            Check("the minimax GAN drops modes: fewer than 8 of 8 covered (mean over the last"
                  " quarter of training)", "modes_covered_late_mean", {"study": "ring-minimax"},
                  expect="less", threshold=8),
            Check("the R1 gradient penalty covers more modes than the non-saturating loss alone",
                  "modes_covered_late_mean", {"study": "ring-r1"},
                  {"study": "ring-non-saturating"})],
    plots=[Plot("curves", {"x": "x", "y": "d", "also": "d_star"}),
           Plot("curves", {"x": "mu", "y": "v_trained", "also": "v_formula"}),
           Plot("curves", {"x": "step", "y": "modes_covered"}),
           Plot("curves", {"x": "step", "y": "hq_fraction"})],
    table_metrics=["d_star_max_error", "d_star_mean_error", "value_gap_max",
                   "value_at_equal_plus_log4", "value_rise_min", "modes_covered_late_mean",
                   "hq_fraction", "modes_covered_max"],
    extra_table=("value_vs_jsd", "V(D, G) at a trained D and at the analytic D* against −log 4 +"
                                 " 2·JSD (seed 0)"),
    see_also=("gan",),
    position=12)
