"""Image-quality metrics of note 004, batched in torch, plus scikit-image as the reference.

Images are float tensors N x 1 x H x W (or N x H x W) with values in [0, 1] (data range 1).

* PSNR = 10 · log10(s² / MSE), per image (s = data range).
* SSIM = luminance · contrast · structure, computed exactly like scikit-image's
  `structural_similarity(..., data_range=1)` defaults: a 7 x 7 uniform window, sample covariance
  (N/(N-1)), K1 = 0.01, K2 = 0.03, the mean over the window positions that fit in the image.
  (skimage filters with `mode='reflect'` and then crops the border the reflection touched, which
  is the same as a valid box filter.) Batched in float32 it agrees with skimage to ~1e-5, in
  float64 to ~1e-14.
* Fréchet distance between two feature sets (the FID formula, on our own classifier's features).
"""
from __future__ import annotations

import numpy as np
import torch

SSIM_WINDOW = 7
SSIM_K1, SSIM_K2 = 0.01, 0.03
CHUNK = 64  # images per SSIM chunk: small enough to stay in CPU cache


def _as_batch(images: torch.Tensor, dtype=torch.float64) -> torch.Tensor:
    images = torch.as_tensor(images)
    if images.dim() == 2:
        images = images[None, None]
    elif images.dim() == 3:
        images = images[:, None]
    return images.to(dtype)


def psnr(reference: torch.Tensor, candidate: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-image PSNR in dB (inf for identical images)."""
    x, y = _as_batch(reference), _as_batch(candidate)
    mse = (x - y).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(data_range ** 2 / mse)


def ssim(reference: torch.Tensor, candidate: torch.Tensor, data_range: float = 1.0,
         dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Per-image mean SSIM, equal to skimage.metrics.structural_similarity (grey, defaults):
    within ~1e-5 in float32 (the fast default), ~1e-14 in float64."""
    x, y = _as_batch(reference, dtype), _as_batch(candidate, dtype)
    height, width = x.shape[-2:]
    if min(height, width) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got {height}x{width}")
    box_h, box_w = _box_matrix(height, dtype).to(x.device), _box_matrix(width, dtype).to(x.device)
    return torch.cat([_ssim_chunk(x[i:i + CHUNK, 0], y[i:i + CHUNK, 0], box_h, box_w, data_range)
                      for i in range(0, len(x), CHUNK)])


def _box_matrix(n: int, dtype) -> torch.Tensor:
    """n x (n - 6) matrix whose columns average 7 neighbours: a valid 1-D box filter."""
    rows, cols = torch.arange(n)[:, None], torch.arange(n - SSIM_WINDOW + 1)[None]
    return ((rows >= cols) & (rows < cols + SSIM_WINDOW)).to(dtype) / SSIM_WINDOW


def _ssim_chunk(x, y, box_h, box_w, data_range: float) -> torch.Tensor:
    # The separable box filter as two plain 2-D matrix products over a small chunk (it stays in
    # cache): several times faster on CPU than avg_pool2d, and exact. Only four maps are
    # needed: SSIM uses the variances through their sum vx + vy.
    n, height, width = x.shape
    maps = torch.stack([x, y, x * x + y * y, x * y], 1)
    rows = (maps.reshape(-1, width) @ box_w).reshape(n, 4, height, -1)
    filtered = (rows.transpose(2, 3).reshape(-1, height) @ box_h).reshape(n, 4, box_w.shape[1], -1)
    ux, uy, u_sq, uxy = filtered.unbind(1)   # (transposed maps: the mean is all that is taken)
    cov_norm = SSIM_WINDOW ** 2 / (SSIM_WINDOW ** 2 - 1)  # sample covariance, as skimage
    ux_uy, squares = ux * uy, ux * ux + uy * uy
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    s = (((2 * ux_uy + c1) * (2 * cov_norm * (uxy - ux_uy) + c2))
         / ((squares + c1) * (cov_norm * (u_sq - squares) + c2)))
    return s.flatten(1).mean(1, dtype=torch.float64)


def psnr_skimage(reference, candidate, data_range: float = 1.0) -> np.ndarray:
    """The reference implementation, one image at a time."""
    from skimage.metrics import peak_signal_noise_ratio

    x, y = _as_batch(reference).numpy(), _as_batch(candidate).numpy()
    return np.array([peak_signal_noise_ratio(a[0], b[0], data_range=data_range)
                     for a, b in zip(x, y)])


def ssim_skimage(reference, candidate, data_range: float = 1.0) -> np.ndarray:
    from skimage.metrics import structural_similarity

    x, y = _as_batch(reference).numpy(), _as_batch(candidate).numpy()
    return np.array([structural_similarity(a[0], b[0], data_range=data_range)
                     for a, b in zip(x, y)])


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½) between two sets of feature vectors (rows)."""
    from scipy import linalg

    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(covmean).all():  # near-singular product: regularise, as pytorch-fid does
        offset = np.eye(len(cov_a)) * 1e-6
        covmean = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    covmean = covmean.real  # tiny imaginary parts are numerical noise
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b)
                 - 2 * np.trace(covmean))
