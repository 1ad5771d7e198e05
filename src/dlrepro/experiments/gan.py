"""Experiment `gan`: GAN, DCGAN and conditional GAN."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="gan", title="GAN, DCGAN and conditional GAN", notes="note 002, note 003, note 004",
    claim="A GAN is a minimax game between a generator and a discriminator; early on the"
          " discriminator's loss falls while the generator's rises; DCGAN's convolutions improve"
          " the images; a conditional GAN controls the class of what it generates.",
    setting="MLP GAN, DCGAN (strided (transposed) convolutions, BN) and a cGAN (the MLP GAN given the"
            " one-hot class), non-saturating generator loss, Adam (β1 0.5). Samples from fixed noise"
            " scored by the Fréchet distance in the features of the DAG's own Fashion-MNIST"
            " classifier (no Inception weights needed), class accuracy of the cGAN's samples under"
            " that classifier, LPIPS diversity (mean distance between random pairs of samples).",
    checks=[Check("MLP GAN: the discriminator's loss falls during epoch 1 (end − first point)",
                  "d_loss_early_change", {"architecture": "mlp"}, expect="less"),
            Check("MLP GAN: the generator's loss rises during epoch 1", "g_loss_early_change",
                  {"architecture": "mlp"}),
            Check("DCGAN's samples are closer to real images than the MLP GAN's (Fréchet distance)",
                  "fd/samples", {"architecture": "dcgan"}, {"architecture": "mlp"}, expect="less"),
            Check("the cGAN controls the class: > 50% of its samples are classified as the class"
                  " asked for (chance: 10%)", "class_acc/samples", {"architecture": "cgan"},
                  threshold=0.5)],
    plots=[Plot("curves", {"y": "train_d_loss", "also": "train_g_loss"}),
           Plot("curves", {"y": "train_d_real", "also": "train_d_fake"}),
           Plot("bars", {"metric": "fd/samples"})],
    table_metrics=["fd/samples", "class_acc/samples", "lpips_diversity/samples", "final_train_d_loss",
                   "final_train_g_loss", "fd/real_train"],
    images=True,
    position=12)
