"""Image-to-image translation on Fashion-MNIST: edge maps <-> images, shared by pix2pix and CycleGAN.

The task has a ground truth, so every translation can be scored: domain A is the edge map of an
image, domain B the image itself. The edge operator is a thresholded Sobel gradient magnitude:
one fixed linear filter and one threshold, deterministic by construction, vectorised on any
device, no per-image tuning (Canny's hysteresis thresholds and thinning are per-image and run on
the CPU in numpy; on 28 x 28 images its 1-pixel contours also drop most of a garment's inside).

Images are padded to 32 x 32 (five halvings down to 1 x 1 in the U-Net) and scaled to [-1, 1]
inside the models, as in the authors' code; scored images are cropped back to 28 x 28 in [0, 1].

Networks are the authors' (Isola et al. 2017, Zhu et al. 2017; junyanz/pytorch-CycleGAN-and-pix2pix)
scaled to 32 x 32: 4x4 stride-2 convolutions, LeakyReLU 0.2 down, ReLU up, tanh out, dropout 0.5
in the innermost up-convolutions of the generator (pix2pix's noise source), normalisation by
batch (pix2pix) or instance (CycleGAN).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.data.fashion_mnist import TRAIN_IMAGES
from dlrepro.families.settings import GENERATIVE
from dlrepro.train.work import Work

SIZE, PAD = 32, 2                      # 28 x 28 padded by 2 on every side
EDGE_THRESHOLD = 1.0                   # on the Sobel magnitude of [0, 1] images (max 4·√2)
SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def edges(images: torch.Tensor) -> torch.Tensor:
    """Binary edge maps (0/1, N x 1 x 28 x 28) of images in [0, 1]: the Sobel gradient's
    magnitude (zero padding, as scipy.ndimage.sobel with mode='constant') above EDGE_THRESHOLD."""
    kernels = torch.stack([SOBEL_X, SOBEL_X.T])[:, None].to(images)
    gradient = F.conv2d(images, kernels, padding=1)
    return (gradient.pow(2).sum(1, keepdim=True) > EDGE_THRESHOLD ** 2).to(images.dtype)


def to_model(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] 28 x 28 -> [-1, 1] 32 x 32 (the border is black, -1)."""
    return F.pad(images * 2 - 1, (PAD,) * 4, value=-1.0)


def from_model(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] 32 x 32 -> [0, 1] 28 x 28."""
    return ((images[..., PAD:-PAD, PAD:-PAD] + 1) / 2).clamp(0, 1)


def norm_layer(kind: str, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.InstanceNorm2d(channels)


class Block(nn.Module):
    """One level of the U-Net: down-convolution, the inner levels, up-convolution; with `skip`
    the level's input is concatenated to its output (the U-Net), without it the inner result
    alone goes up (the encoder-decoder of the pix2pix paper's ablation)."""

    def __init__(self, outer: int, inner: int, inside: nn.Module | None, norm: str, skip: bool,
                 outermost: bool = False, dropout: bool = False, in_channels: int | None = None):
        super().__init__()
        in_channels = in_channels or outer
        self.skip = skip and not outermost
        down = [nn.Conv2d(in_channels, inner, 4, 2, 1)]
        if not outermost:
            down = [nn.LeakyReLU(0.2, True), *down]
            if inside is not None:            # the innermost level's 1 x 1 code has no norm
                down.append(norm_layer(norm, inner))
        up_in = inner * (2 if inside is not None and inside.skip else 1)
        up = [nn.ReLU(True), nn.ConvTranspose2d(up_in, outer, 4, 2, 1)]
        up += [nn.Tanh()] if outermost else [norm_layer(norm, outer)]
        if dropout:
            up.append(nn.Dropout(0.5))
        self.down, self.inside, self.up = nn.Sequential(*down), inside, nn.Sequential(*up)

    def forward(self, x):
        h = self.down(x)
        if self.inside is not None:
            h = self.inside(h)
        y = self.up(h)
        return torch.cat([x, y], 1) if self.skip else y


class UNet(nn.Module):
    """32 -> 16 -> 8 -> 4 -> 2 -> 1 and back; widths w, 2w, 4w, 4w, 4w (the authors' 64..512
    over eight levels, scaled to five); dropout in the two innermost up-convolutions."""

    def __init__(self, width: int, norm: str, skips: bool = True, channels: int = 1):
        super().__init__()
        w = width
        block = Block(4 * w, 4 * w, None, norm, skips, dropout=True)            # 2 -> 1 -> 2
        block = Block(4 * w, 4 * w, block, norm, skips, dropout=True)           # 4
        block = Block(2 * w, 4 * w, block, norm, skips)                         # 8
        block = Block(w, 2 * w, block, norm, skips)                             # 16
        self.net = Block(channels, w, block, norm, skips, outermost=True)       # 32

    def forward(self, x):
        return self.net(x)

    def skip_connections(self) -> list[Block]:
        """The levels whose input is concatenated to their output (empty without skips)."""
        return [m for m in self.modules() if isinstance(m, Block) and m.skip]


class Discriminator(nn.Module):
    """PatchGAN: a map of real/fake logits, each seeing `receptive_field()` x `receptive_field()`
    input pixels (the depths of the pix2pix paper's ablation, scaled to 32 x 32):
      pixel   1 x 1 convolutions only (the paper's PixelGAN)                 receptive field 1
      patch   a 4x4 stride-2 and two 3x3 convolutions, 16 x 16 logits           12 (the paper's 70/256)
      image   three 4x4 stride-2 convolutions down to 4 x 4 and one 4x4 over it: 1 logit per image
    """

    def __init__(self, in_channels: int, width: int, depth: str, norm: str):
        super().__init__()
        w = width
        if depth == "pixel":
            layers = [nn.Conv2d(in_channels, w, 1), nn.LeakyReLU(0.2, True),
                      nn.Conv2d(w, 2 * w, 1), norm_layer(norm, 2 * w), nn.LeakyReLU(0.2, True),
                      nn.Conv2d(2 * w, 1, 1)]
        elif depth == "patch":
            layers = [nn.Conv2d(in_channels, w, 4, 2, 1), nn.LeakyReLU(0.2, True),
                      nn.Conv2d(w, 2 * w, 3, 1, 1), norm_layer(norm, 2 * w), nn.LeakyReLU(0.2, True),
                      nn.Conv2d(2 * w, 1, 3, 1, 1)]
        elif depth == "image":
            layers = [nn.Conv2d(in_channels, w, 4, 2, 1), nn.LeakyReLU(0.2, True),
                      nn.Conv2d(w, 2 * w, 4, 2, 1), norm_layer(norm, 2 * w), nn.LeakyReLU(0.2, True),
                      nn.Conv2d(2 * w, 4 * w, 4, 2, 1), norm_layer(norm, 4 * w),
                      nn.LeakyReLU(0.2, True), nn.Conv2d(4 * w, 1, 4)]
        else:
            raise ValueError(f"unknown discriminator depth '{depth}'")
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)

    def receptive_field(self) -> int:
        """Input pixels (per side) one output logit sees: r = r·stride + (kernel − stride),
        from the last convolution back to the input."""
        field = 1
        for conv in reversed([m for m in self.net if isinstance(m, nn.Conv2d)]):
            field = field * conv.stride[0] + conv.kernel_size[0] - conv.stride[0]
        return field


DEPTHS = ("pixel", "patch", "image")


def receptive_fields() -> dict[str, int]:
    """Each discriminator depth's receptive field (for the report's setting text)."""
    return {depth: Discriminator(1, 1, depth, "batch").receptive_field() for depth in DEPTHS}


class ImagePool(nn.Module):
    """Shrivastava et al.'s history of generated images (CycleGAN's discriminators see it): once
    full, each new image is, with probability 1/2, swapped for a random stored one. The pool is
    a buffer, so it goes into the checkpoint and a resumed run draws what the uninterrupted would."""

    def __init__(self, size: int, shape: tuple):
        super().__init__()
        self.size = size
        self.register_buffer("images", torch.zeros(size, *shape))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for image in batch.detach():
            if self.count < self.size:
                self.images[self.count] = image
                self.count += 1
                out.append(image)
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(self.size, ()))
                out.append(self.images[i].clone())
                self.images[i] = image
            else:
                out.append(image)
        return torch.stack(out)


def translation_outputs(x, y, edge_maps, translated, extra_rows: dict | None = None,
                        extra_pairs: dict | None = None) -> dict:
    """What scoring rates and the report shows, the same for both translation families:
    pairs (x, G(edges(x))); sample sets with their true labels, so the feature classifier's
    accuracy on them is the "FCN-score" (translated), its floor (the edge maps) and ceiling
    (the real images); the grid input | target | output for the first ten test images."""
    labelled = {"translated": translated, "edges": edge_maps, "real": x}
    return {"pairs": {"translated": (x, translated), **(extra_pairs or {})},
            "samples": labelled, "sample_labels": {k: y for k in labelled},
            "reference_sets": ["edges", "real"],
            "grid": {"input (edges)": edge_maps[:10], "target": x[:10], "output": translated[:10],
                     **(extra_rows or {})},
            "codes": None, "decode": None}


def adam(parameters, settings: dict) -> torch.optim.Adam:
    """Adam as in both papers (lr 2e-4, β1 0.5)."""
    return torch.optim.Adam(parameters, lr=settings["lr"], betas=(0.5, 0.999))


# The settings both families share (their FAMILY.settings add their own).
TRANSLATION = {
    "logs_per_epoch": GENERATIVE["logs_per_epoch"],
    "width": {"description": "Generator and discriminator width (the authors' 64, scaled).",
              "type": "integer", "minimum": 1, "default": 16},
    "eval_images": {"description": "Test images of the per-epoch test losses.", "type": "integer",
                    "minimum": 1, "default": 500},
}


def plan_work(examples_per_image: float = 1.0):
    """A translation family's plan_work (dlrepro.plan): epochs over its training examples
    (CycleGAN's example is one image of each domain: ½ an example per image), and the test
    losses on eval_images before training and after each epoch."""
    def work(s: dict, data: dict) -> Work:
        examples = int((s["train_size"] or TRAIN_IMAGES - data["validation_size"]) * examples_per_image)
        return Work(s["epochs"] * math.ceil(examples / s["batch_size"]), s["batch_size"],
                    s["eval_images"] * (s["epochs"] + 1))
    return work
