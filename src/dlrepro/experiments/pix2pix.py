"""Experiment `pix2pix`: paired translation, edge map -> image, and the pix2pix paper's ablations."""
from dlrepro.experiments import Check, Experiment, Plot, Published
from dlrepro.families.translation import EDGE_THRESHOLD, receptive_fields

# The paper's model: U-Net, a conditional PatchGAN, L1 + cGAN. Every ablation changes one of these.
PIX2PIX = {"loss": "l1+cgan", "generator": "unet", "discriminator": "patch"}
FIELDS = receptive_fields()
PAPER = "Isola et al., Image-to-image translation with conditional adversarial networks, CVPR 2017"
# Our task (edges -> Fashion-MNIST) and FCN-score (a classifier's accuracy) are not theirs: what
# compares is the ordering of the variants, at any profile.
ORDERING = "the ordering only (another task and score)"
FCN = "class_acc/translated"    # our "FCN-score": the project's classifier on the translations

SETTING = (
    "Fashion-MNIST edges ↔ images: the edge map of an image is its Sobel gradient magnitude"
    f" above {EDGE_THRESHOLD:g} (fixed and deterministic; binary line drawings), images padded"
    " to 32 × 32. pix2pix trains on pairs (edges(x), x): a U-Net generator (five levels, dropout"
    " 0.5 in the two innermost up-convolutions, batch norm) and a PatchGAN discriminator that sees"
    " the edge map beside the image; loss cGAN + λ·L1 with λ = 100, Adam β1 = 0.5 (the default"
    " profile uses lr 1e-3 and width 8 to learn within its budget; the paper's 2e-4 needs several"
    " times the steps; config/full.yaml has it). Receptive field of one discriminator logit, on"
    f" the 32 × 32 input: pixel {FIELDS['pixel']} × {FIELDS['pixel']}, patch {FIELDS['patch']} ×"
    f" {FIELDS['patch']} (the paper's 70 × 70 on 256 × 256, scaled), image {FIELDS['image']} ×"
    f" {FIELDS['image']} (one logit sees the whole image). Scored on the paired test set: PSNR,"
    " SSIM, LPIPS of G(edges(x)) against x; the \"FCN-score\" is the accuracy of the DAG's own"
    " Fashion-MNIST classifier on the translated images, between its accuracy on the edge maps"
    " (the floor) and on the real images (the ceiling); the Fréchet distance in that classifier's"
    " features. The paper's FCN-scores (Cityscapes labels → photo, per-pixel accuracy): L1 0.42,"
    " GAN 0.22, cGAN 0.57, L1+GAN 0.64, L1+cGAN 0.66, ground truth 0.80; U-Net 0.55 vs encoder-"
    "decoder 0.29 (L1+cGAN); discriminator 1 × 1 0.39, 16 × 16 0.65, 70 × 70 0.66, 286 × 286"
    " 0.42. Absolute numbers do not transfer to this task; the orderings should.")

EXPERIMENT = Experiment(
    id="pix2pix", title="pix2pix: paired image-to-image translation",
    notes="note 000 §10, note 001 §10, note 002 §4.2",
    claim="pix2pix learns a mapping from paired examples: a conditional GAN plus an L1 term. L1"
          " alone gives blurry averages (best PSNR, least realistic); the adversarial term makes the"
          " images sharp and realistic; the U-Net's skips carry the input's detail to the output;"
          " a PatchGAN discriminator, judging patches, beats one that judges single pixels or the"
          " whole image.",
    setting=SETTING,
    checks=[Check("L1 + cGAN learned: its translations are classified as their garment more often"
                  " than the edge maps they came from (FCN-score above the floor)", FCN, PIX2PIX,
                  metric_b="class_acc/edges"),
            Check("L1 + cGAN beats L1 alone on FCN-score (paper: 0.66 vs 0.42)", FCN, PIX2PIX,
                  {**PIX2PIX, "loss": "l1"}),
            Check("L1 + cGAN beats the cGAN alone on FCN-score (paper: 0.66 vs 0.57)", FCN, PIX2PIX,
                  {**PIX2PIX, "loss": "cgan"}),
            Check("L1 alone has the higher PSNR (the blurry mean minimises pixel error)",
                  "psnr/translated", {**PIX2PIX, "loss": "l1"}, PIX2PIX),
            Check("the adversarial term makes the images more realistic: Fréchet distance of L1 +"
                  " cGAN below L1 alone's", "fd/translated", PIX2PIX, {**PIX2PIX, "loss": "l1"},
                  expect="less"),
            Check("the U-Net beats the same encoder-decoder without skips (paper: 0.55 vs 0.29)",
                  FCN, PIX2PIX, {**PIX2PIX, "generator": "encoder-decoder"}),
            Check(f"a {FIELDS['patch']} × {FIELDS['patch']} patch discriminator beats a 1 × 1 pixel"
                  " one (paper: 0.65 vs 0.39)", FCN, PIX2PIX, {**PIX2PIX, "discriminator": "pixel"}),
            Check("a patch discriminator beats one that judges the whole image (paper: 0.66 vs"
                  " 0.42)", FCN, PIX2PIX, {**PIX2PIX, "discriminator": "image"})],
    plots=[Plot("curves", {"y": "train_l1", "also": "test_l1"}),
           Plot("curves", {"y": "train_d_loss", "also": "train_g_gan"}),
           Plot("bars", {"metric": FCN}),
           Plot("bars", {"metric": "psnr/translated"})],
    table_metrics=[FCN, "class_acc/edges", "class_acc/real", "psnr/translated", "ssim/translated",
                   "lpips/translated", "fd/translated", "fd/edges", "final_test_l1"],
    literature=tuple(
        Published(f"pix2pix, {what}, Cityscapes labels → photo: FCN-score (per-pixel accuracy)", FCN,
                  {**PIX2PIX, **ours}, PAPER, value=value, comparable=ORDERING)
        for what, ours, value in (("L1 + cGAN, U-Net, 70 × 70 PatchGAN", {}, 0.66),
                                  ("L1 alone", {"loss": "l1"}, 0.42),
                                  ("cGAN alone", {"loss": "cgan"}, 0.57),
                                  ("encoder-decoder (L1 + cGAN)", {"generator": "encoder-decoder"}, 0.29),
                                  ("1 × 1 PixelGAN", {"discriminator": "pixel"}, 0.39),
                                  ("286 × 286 ImageGAN", {"discriminator": "image"}, 0.42))),
    images=True, position=12.5, see_also=("cyclegan", "gan"))
