"""Experiment `aae`: Adversarial autoencoder against the VAE."""
from dlrepro.experiments import Check, Experiment, Plot

ADVERSARIAL, VAE = {"regulariser": "adversarial"}, {"regulariser": "kl"}

EXPERIMENT = Experiment(
    id="aae", title="Adversarial autoencoder", notes="note 002 §3, note 003 (lecture 10)",
    claim="An adversarial autoencoder replaces the VAE's KL term by a GAN on the latent codes, so it"
          " can match any prior it can sample from (a mixture of Gaussians, a uniform), where the VAE"
          " needs a closed-form KL (N(0, I)); its decoded prior samples are as realistic as the VAE's.",
    setting="Note 002's convolutional autoencoder (binary cross-entropy per image, Adam 1e-3) plus a"
            " discriminator on the codes (two hidden layers of 256; prior samples against codes,"
            " Adam 5e-4, β1 0.5; the encoder as its generator, non-saturating loss), with priors"
            " N(0, I), a mixture of 10 Gaussians on a circle of radius 4 (σ 0.5) and the uniform"
            " square [−2, 2]²; beside it the project's convolutional VAE (its KL targets N(0, I)"
            " only). Distance of the test codes to each prior: MMD² (Gaussian kernels, bandwidths"
            " 0.25–4 per dimension) between 1,000 codes and 1,000 prior samples. The VAE's codes are"
            " sampled from q(z|x). Decoded prior samples are scored by the Fréchet distance in the"
            " features of the DAG's own classifier.",
    checks=[Check("mixture prior: the AAE's codes are closer to the mixture (MMD²) than the VAE's",
                  "final_test_mmd_mixture", {**ADVERSARIAL, "prior": "mixture"}, VAE,
                  expect="less"),
            Check("uniform prior: the AAE's codes are closer to the uniform square (MMD²) than the"
                  " VAE's", "final_test_mmd_uniform", {**ADVERSARIAL, "prior": "uniform"}, VAE,
                  expect="less"),
            Check("normal prior: the AAE matches N(0, I) at least as closely as the VAE (MMD² no"
                  " more than 0.01 above the VAE's)", "final_test_mmd_normal",
                  {**ADVERSARIAL, "prior": "normal"}, VAE, expect="less", threshold=0.01),
            Check("normal prior: the AAE's decoded prior samples are about as realistic as the VAE's"
                  " (Fréchet distance at most 25% above)", "fd/prior",
                  {**ADVERSARIAL, "prior": "normal"}, VAE, expect="less", threshold=0.25,
                  relative=True)],
    plots=[Plot("curves", {"y": "test_mmd_mixture"}),
           Plot("curves", {"y": "test_mmd_uniform"}),
           Plot("curves", {"y": "test_mmd_normal"}),
           Plot("curves", {"y": "train_recon", "also": "test_recon"}),
           Plot("bars", {"metric": "fd/prior"})],
    table_metrics=["final_test_mmd_normal", "final_test_mmd_mixture", "final_test_mmd_uniform",
                   "final_test_recon", "psnr/reconstruction", "ssim/reconstruction",
                   "lpips/reconstruction", "fd/prior"],
    images=True,
    position=12)
