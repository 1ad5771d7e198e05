"""Experiment `vae`: Variational autoencoder."""
from dlrepro.experiments import Check, Experiment, Plot

EXPERIMENT = Experiment(
    id="vae", title="Variational autoencoder", notes="note 002, note 003",
    claim="The VAE's loss is reconstruction + KL divergence; the KL term rises and then settles;"
          " sampling the prior N(0, I) generates new data, which a plain autoencoder cannot.",
    setting="Note 002's MLP VAE (LeakyReLU 0.2, hidden 400, BCE summed over pixels + KL, Adam 1e-3) and"
            " a convolutional VAE (note 002's conv encoder/decoder); latent 2 or 20. Curves per epoch"
            " on train and test; prior samples scored by the Fréchet distance in the features of the"
            " DAG's own Fashion-MNIST classifier, against the same for the autoencoder experiment's"
            " plain AE decoding N(0, I). A finding at the default size (10,000 images, 8 epochs):"
            " the KL has risen but still moves ~9% in the last epoch, so \"settles\" is not"
            " reached there; the full profile trains 50 epochs on all images.",
    checks=[Check("the KL term rises during training (test KL: end − initialisation)", "kl_rise",
                  {"architecture": "mlp", "latent": 20}),
            Check("the KL term settles (relative change over the last epoch < 5%)",
                  "kl_last_epoch_change", {"architecture": "mlp", "latent": 20}, expect="less",
                  threshold=0.05),
            Check("prior samples of the VAE (latent 2) are closer to real images (Fréchet distance)"
                  " than N(0, I) decoded by a plain AE (latent 2)", "fd/prior",
                  {"architecture": "mlp", "latent": 2}, {"latent": 2, "noise": 0.0}, expect="less",
                  b_experiment="autoencoder")],
    plots=[Plot("curves", {"y": "train_recon", "also": "test_recon"}),
           Plot("curves", {"y": "train_kl", "also": "test_kl"}),
           Plot("curves", {"y": "train_loss", "also": "test_loss"}),
           Plot("bars", {"metric": "fd/prior"})],
    table_metrics=["final_test_recon", "final_test_kl", "final_test_loss", "psnr/reconstruction",
                   "ssim/reconstruction", "lpips/reconstruction", "fd/prior"],
    images=True,
    position=11)
