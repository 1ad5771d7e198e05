"""Experiment `cyclegan`: unpaired translation through cycle consistency, against pix2pix."""
from dlrepro.experiments import Check, Experiment, Plot, Published
from dlrepro.experiments.pix2pix import FCN, ORDERING, PIX2PIX

CYCLEGAN = {"cycle_weight": 10.0, "identity": 0.5}       # the authors' defaults
NO_IDENTITY = {"cycle_weight": 10.0, "identity": 0.0}
GAN_ALONE = {"cycle_weight": 0.0, "identity": 0.0}

EXPERIMENT = Experiment(
    id="cyclegan", title="CycleGAN: unpaired translation",
    notes="note 000 §10, note 001 §10, note 002 §4.2",
    claim="CycleGAN learns a translation from unpaired sets: two generators G: A → B and F: B → A"
          " whose compositions must return their input (cycle consistency); without the cycle"
          " loss the mapping is arbitrary (any image the discriminator accepts); an identity loss"
          " helps keep the input's content. Pairs, when they exist, do better: pix2pix is its"
          " upper bound.",
    setting="The pix2pix task (edge maps ↔ Fashion-MNIST images, 32 × 32) without pairs: the"
            " training images are split once into two fixed halves, domain A = the edge maps of"
            " the first half, domain B = the images of the second, so no pair (edges(x), x) is"
            " ever seen; the paired test set is used only to score. G and F are the pix2pix U-Net"
            " (instance norm), D_A and D_B the patch discriminator: the comparison with pix2pix is"
            " one of objectives. Least-squares GAN loss, cycle loss λ = 10 on both cycles, identity"
            " loss 0.5·λ, a history of 50 generated images for the discriminators, lr constant for"
            " the first half of the epochs then linearly to 0, Adam β1 = 0.5 (the authors'"
            " defaults; the default profile uses lr 1e-3 and width 8, like pix2pix). Ablations:"
            " the GAN alone (λ = 0, no identity), no identity loss. Scores as pix2pix (FCN-score ="
            " the project's classifier on G(edges(x))), plus the reverse F(x) against edges(x) and"
            " both cycle errors on test images. The paper's (Cityscapes labels → photo, per-pixel"
            " accuracy): CycleGAN 0.52 vs pix2pix 0.71; the GAN alone and one-directional cycles"
            " do worse.",
    checks=[Check("CycleGAN learned: its translations are closer to real images than the edge maps"
                  " are (Fréchet distance in the classifier's features)", "fd/translated",
                  CYCLEGAN, metric_b="fd/edges", expect="less"),
            Check("unpaired translation keeps the garment: CycleGAN's images are classified as"
                  " their garment more often than the edge maps (FCN-score above the floor)", FCN,
                  CYCLEGAN, metric_b="class_acc/edges"),
            Check("without the cycle loss the mapping is arbitrary: with it (no identity loss in"
                  " either) the FCN-score is higher", FCN, NO_IDENTITY, GAN_ALONE),
            Check("... and the translations are closer to the truth (PSNR)", "psnr/translated",
                  NO_IDENTITY, GAN_ALONE),
            Check("the cycle loss closes the cycle: test error |F(G(a)) − a| lower with it",
                  "final_test_cycle_a", NO_IDENTITY, GAN_ALONE, expect="less"),
            Check("the identity loss helps: FCN-score with it above without", FCN, CYCLEGAN,
                  NO_IDENTITY),
            Check("pairs help: pix2pix (L1 + cGAN, same U-Net) beats CycleGAN on FCN-score (paper:"
                  " 0.71 vs 0.52)", FCN, CYCLEGAN, PIX2PIX, b_experiment="pix2pix", expect="less"),
            Check("... and on PSNR", "psnr/translated", CYCLEGAN, PIX2PIX, b_experiment="pix2pix",
                  expect="less")],
    plots=[Plot("curves", {"y": "train_cycle", "also": "train_identity"}),
           Plot("curves", {"y": "train_d_loss", "also": "train_g_gan"}),
           Plot("curves", {"y": "test_cycle_a", "also": "test_cycle_b"}),
           Plot("bars", {"metric": FCN})],
    table_metrics=[FCN, "class_acc/edges", "psnr/translated", "ssim/translated", "lpips/translated",
                   "fd/translated", "psnr/reverse", "lpips/reverse", "final_test_cycle_a",
                   "final_test_cycle_b"],
    literature=(Published("CycleGAN, Cityscapes labels → photo: FCN-score (per-pixel accuracy);"
                          " pix2pix 0.71 on the same task", FCN, CYCLEGAN,
                          "Zhu et al., Unpaired image-to-image translation using cycle-consistent"
                          " adversarial networks, ICCV 2017, table 2", value=0.52,
                          comparable=ORDERING),),
    images=True, position=12.6, see_also=("pix2pix", "gan"))
