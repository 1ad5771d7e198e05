"""Experiment `autoencoder`: Autoencoders and denoising autoencoders."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="autoencoder", title="Autoencoders and denoising autoencoders", notes="note 000 §4, note 002",
    claim="An autoencoder's bottleneck keeps the important features of its input (a wider"
          " bottleneck reconstructs better); a denoising autoencoder restores a noisy input.",
    setting="Note 002's convolutional autoencoder (MSE, Adam 1e-3, weight decay 1e-5); latent size ×"
            " noise factor (0 = plain AE; 0.3 = denoising, trained to output the clean image — the"
            " note's loop compares with the noisy input instead, which would teach it to keep the"
            " noise). Scored on test images: PSNR, SSIM, LPIPS of the reconstruction of the (noisy)"
            " input against the clean image.",
    checks=[Check("a wider bottleneck reconstructs better: latent 32 has higher PSNR than latent 2",
                  "psnr/reconstruction", {"latent": 32, "noise": 0.0}, {"latent": 2, "noise": 0.0}),
            Check("… and lower LPIPS", "lpips/reconstruction", {"latent": 32, "noise": 0.0},
                  {"latent": 2, "noise": 0.0}, expect="less"),
            Check("the denoising AE (latent 32) restores noisy input: its output has a higher PSNR"
                  " against the clean image than the noisy input has", "psnr/reconstruction",
                  {"latent": 32, "noise": 0.3}, metric_b="psnr/noisy_input"),
            Check("… and a higher SSIM", "ssim/reconstruction", {"latent": 32, "noise": 0.3},
                  metric_b="ssim/noisy_input")],
    plots=[Plot("bars", {"metric": "psnr/reconstruction"}),
           Plot("bars", {"metric": "ssim/reconstruction"}),
           Plot("bars", {"metric": "lpips/reconstruction"}),
           Plot("curves", {"y": "train_loss", "also": "test_loss"})],
    table_metrics=["psnr/reconstruction", "ssim/reconstruction", "lpips/reconstruction", "psnr/noisy_input",
                   "final_test_loss", "fd/prior"],
    images=True,
    position=10)
