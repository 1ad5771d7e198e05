"""PSNR/SSIM against scikit-image, the Fréchet distance, LPIPS' offline weights."""
import numpy as np
import pytest
import torch

from dlrepro.metrics import image, perceptual


def _pairs(n=64, size=28, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, size, size, generator=g)
    return x, (x + 0.1 * torch.randn(x.shape, generator=g)).clip(0, 1)


@pytest.mark.parametrize("size", [28, 41])
def test_psnr_and_ssim_equal_scikit_image_on_random_images(size):
    x, y = _pairs(size=size)
    assert np.abs(image.psnr(x, y).numpy() - image.psnr_skimage(x, y)).max() < 1e-4
    assert np.abs(image.ssim(x, y).numpy() - image.ssim_skimage(x, y)).max() < 1e-4
    # float64 is exact to rounding
    assert np.abs(image.ssim(x, y, dtype=torch.float64).numpy() - image.ssim_skimage(x, y)).max() < 1e-10


def test_psnr_and_ssim_equal_scikit_image_on_real_images(fmnist_cache):
    from dlrepro.data.fashion_mnist import load_cache

    real = load_cache(fmnist_cache)["test_images"][:100].float().div(255)[:, None]
    g = torch.Generator().manual_seed(1)
    for distorted in ((real + 0.05 * torch.randn(real.shape, generator=g)).clip(0, 1),
                      torch.roll(real, 1, dims=-1), real.flip(0)):
        assert np.abs(image.psnr(real, distorted).numpy()
                      - image.psnr_skimage(real, distorted)).max() < 1e-4
        assert np.abs(image.ssim(real, distorted).numpy()
                      - image.ssim_skimage(real, distorted)).max() < 1e-4


def test_psnr_is_note_004s_formula():
    x, y = _pairs(n=4)
    mse = ((x.double() - y.double()) ** 2).flatten(1).mean(1)
    assert torch.allclose(image.psnr(x, y), 10 * torch.log10(1 / mse))
    assert torch.isinf(image.psnr(x, x)).all()
    assert torch.allclose(image.ssim(x, x), torch.ones(4, dtype=torch.float64), atol=1e-6)


def test_frechet_distance_of_a_set_with_itself_is_zero_and_with_noise_is_large():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(16, 16))
    features = rng.normal(size=(500, 16)) @ mixing
    assert abs(image.frechet_distance(features, features)) < 1e-6
    same_distribution = rng.normal(size=(500, 16)) @ mixing
    noise = rng.normal(size=(500, 16)) * 10 + 5
    assert image.frechet_distance(features, noise) > 50 * image.frechet_distance(features, same_distribution)
    # A shift of the mean by d adds d² (the covariances are equal).
    assert image.frechet_distance(features, features + 3.0) == pytest.approx(16 * 9, rel=1e-6)


def test_lpips_input_is_three_channels_of_64_in_minus_one_to_one():
    x = torch.rand(2, 1, 28, 28)
    prepared = perceptual.to_lpips_input(x)
    assert prepared.shape == (2, 3, 64, 64)
    assert prepared.min() >= -1 and prepared.max() <= 1
    assert torch.equal(prepared[:, 0], prepared[:, 2])
    assert perceptual.to_lpips_input(x, 32).shape == (2, 3, 32, 32)
