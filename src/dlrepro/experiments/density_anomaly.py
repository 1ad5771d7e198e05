"""Experiment `density-anomaly`: does an explicit model's likelihood detect out-of-distribution data?"""
from dlrepro.experiments import Check, Experiment, Plot


def ood_check(model: str, text: str, metric: str = "ood_auroc") -> Check:
    return Check(text, metric, {"model": model}, threshold=0.5)


EXPERIMENT = Experiment(
    id="density-anomaly", title="Explicit density models: anomaly detection by likelihood",
    notes="note 003 (lecture 09)",
    claim="Explicit models give p(x) for any input, so they allow density estimation and hence"
          " anomaly detection: inputs unlike the training data get low likelihood.",
    setting="The models of density-likelihood fitted to binarised Fashion-MNIST, then used to score"
            " the Fashion-MNIST test set (in distribution) and the MNIST test set (out of"
            " distribution) with −log p(x) as the anomaly score; AUROC = the probability that a"
            " random MNIST digit scores higher than a random Fashion-MNIST image (0.5 = chance,"
            " below 0.5 = the digits look *more* likely). Nalisnick et al. (2019, \"Do deep"
            " generative models know what they don't know?\") found the opposite of the claim for"
            " Fashion-MNIST → MNIST with several model classes (PixelCNN, VAE, Glow). Second row,"
            " the commonly proposed fix: the score relative to a simple background model, −log"
            " p(x) + log p_independent(x) with the independent-pixel model fitted to the same"
            " images (a likelihood ratio; after Serrà et al. 2020's input-complexity correction,"
            " with the independent model in the role of their compressor). density-likelihood's"
            " table gives the opposite direction (MNIST-trained models scoring Fashion-MNIST).",
    checks=[Check("NADE fits Fashion-MNIST better than independent pixels (so its scores come from"
                  " a model that learned)", "test_nll", {"model": "nade"}, {"model": "bernoulli"},
                  expect="less"),
            ood_check("nade", "NADE's likelihood flags the MNIST digits: AUROC of −log p(x) > 0.5"),
            ood_check("pixelcnn", "the PixelCNN's likelihood flags them: AUROC > 0.5"),
            ood_check("vae-density", "the VAE's (−ELBO) flags them: AUROC > 0.5"),
            ood_check("nade", "the likelihood ratio against independent pixels flags them for NADE:"
                              " AUROC > 0.5", "ood_auroc_ratio"),
            ood_check("pixelcnn", "... and for the PixelCNN", "ood_auroc_ratio")],
    plots=[Plot("bars", {"metric": "ood_auroc"}),
           Plot("bars", {"metric": "ood_auroc_ratio"}),
           Plot("curves", {"y": "val_nll"})],
    table_metrics=["test_nll", "test_bits_per_dim", "ood_nll", "ood_auroc", "ood_auroc_ratio",
                   "n_params"],
    images=True, position=21, see_also=("density-likelihood",))
