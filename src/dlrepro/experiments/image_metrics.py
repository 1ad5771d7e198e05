"""Experiment `image-metrics`: PSNR, SSIM and LPIPS on known distortions."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="image-metrics", title="PSNR, SSIM and LPIPS on known distortions", notes="note 004",
    claim="PSNR = 10·log10(s²/MSE) compares pixels; SSIM = luminance · contrast · structure compares"
          " local statistics; LPIPS (deep features) tracks human perception best — for example a"
          " 1-pixel shift, barely visible, costs much PSNR but little LPIPS.",
    setting="Test images (a different random set per seed) under Gaussian noise, Gaussian blur, a shift"
            " by 1–2 px and JPEG compression at several strengths; each version scored against its"
            " original by our batched PSNR/SSIM (checked against scikit-image on every set) and LPIPS"
            " (v0.1, AlexNet; grey repeated to 3 channels, in [−1, 1]). AlexNet cannot take 28×28"
            " images, so they are upsampled (bilinear): the report uses 64×64, the patch size LPIPS"
            " was calibrated on; every set is also scored at 32×32, the smallest size AlexNet takes,"
            " and the second figure shows whether the ranking of the distortions depends on it.",
    checks=[Check("batched PSNR equals scikit-image's (max |difference| < 1e-4 dB)",
                  "psnr_vs_skimage_max_abs_diff", {}, expect="less", threshold=1e-4),
            Check("batched SSIM equals scikit-image's (max |difference| < 1e-4)",
                  "ssim_vs_skimage_max_abs_diff", {}, expect="less", threshold=1e-4),
            Check("PSNR rates a 1-px shift as worse than Gaussian noise σ = 0.1", "psnr/shift=1", {},
                  metric_b="psnr/noise=0.1", expect="less"),
            Check("LPIPS rates the 1-px shift as closer to the original than the noise σ = 0.1",
                  "lpips/shift=1", {}, metric_b="lpips/noise=0.1", expect="less")],
    plots=[Plot("distortion_curves", {"labels": {"noise": "noise σ", "blur": "blur σ (px)",
                                                 "shift": "shift (px)", "jpeg": "JPEG quality"},
                                      "reversed_axes": ("jpeg",)}),   # lower quality = stronger
           Plot("lpips_sizes")],
    table_metrics=["psnr_vs_skimage_max_abs_diff", "ssim_vs_skimage_max_abs_diff", "psnr/shift=1",
                   "psnr/noise=0.1", "lpips/shift=1", "lpips/noise=0.1", "lpips@32/shift=1",
                   "lpips@32/noise=0.1"],
    images=True,
    position=13)
