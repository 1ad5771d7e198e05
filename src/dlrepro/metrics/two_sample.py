"""Two-sample distance between point clouds: the maximum mean discrepancy (MMD).

Why MMD (Gretton et al. 2012) and not the sliced Wasserstein distance: its unbiased estimate has no
projection count to tune, is cheap for a thousand points in 2-8 dimensions, and is zero in
expectation exactly when the two distributions are equal (for a characteristic kernel such as
the Gaussian). The kernel is a sum of Gaussian kernels over several bandwidths, so that both the
coarse placement of a cloud (a mixture's components) and its fine shape count; distances are
divided by the dimension, so the same bandwidths suit latent sizes 2 and 8.
"""
from __future__ import annotations

import torch

BANDWIDTHS = (0.25, 0.5, 1.0, 2.0, 4.0)


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidths=BANDWIDTHS) -> float:
    """Unbiased estimate of MMD² between samples x (n x d) and y (m x d); may be slightly
    negative when the distributions are equal."""
    x, y = x.double(), y.double()
    d = x.shape[1]

    def kernel(a, b):
        squared = torch.cdist(a, b).pow(2) / d
        return sum(torch.exp(-squared / (2 * h * h)) for h in bandwidths)

    n, m = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    within_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    within_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(within_x + within_y - 2 * kxy.mean())
