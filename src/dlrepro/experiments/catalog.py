"""The experiment catalogue: each claim of the notes, the checks that test it, and its plots.

A check compares one metric between two selections of variants (paired by seed; the second may
come from another experiment), two metrics of the same runs, or one selection against a
threshold. A selection names axis values; if several variants match (for
example every learning rate of one optimizer), the one with the best mean validation accuracy is
used: the learning rate is tuned on validation data, never on test data.

Verdict rule (written in the report too): a check supports the claim when the 95% CI of the
(paired) difference lies entirely on the claimed side of zero (or of the stated threshold),
contradicts it when the CI lies entirely on the other side, and is unclear otherwise; a check
whose variants are not in the configuration is not measured. An experiment is supported when all
its checks support it, not supported when any check contradicts it, and inconclusive otherwise.
Deterministic experiments (one run is the whole answer) compare the single value directly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from dlrepro.config import format_value
from dlrepro.metrics.stats import mean_ci, paired_difference

TUNE_BY = "val_acc_best"


@dataclass(frozen=True)
class Check:
    text: str
    metric: str
    a: dict
    b: dict | None = None          # None: compare a's metric with `threshold`
    expect: str = "greater"        # a - b - threshold (or a - threshold) expected > 0 or < 0
    threshold: float = 0.0
    metric_b: str | None = None    # compare two metrics of the same runs (a's metric − metric_b)
    b_experiment: str | None = None  # b's runs come from another experiment (paired by seed)


@dataclass(frozen=True)
class Plot:
    kind: str                      # curves | bars | lr_sensitivity | layer_profile | trajectories
                                   # | distortion_curves
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    notes: str
    claim: str
    setting: str
    checks: list[Check]
    plots: list[Plot]
    table_metrics: list[str]
    deterministic: bool = False
    images: bool = False           # show each variant's image figures (figure_*.png of a run)
    extra_table: tuple[str, str] | None = None   # (per-run table name, heading) shown as is


CATALOG = [
    Experiment(
        "backprop", "Backpropagation by hand", "note 004",
        "The chain rule gives ∂E/∂w5 = ∂E/∂out₁ · ∂out₁/∂z₃ · ∂z₃/∂w5 = (out₁ − tar₁)·out₁(1 − out₁)·h₁,"
        " and updating w5 ← w5 − α ∂E/∂w5 lowers the error. (The note writes ∂E/∂out₁ = tar₁ − out₁;"
        " the sign is wrong: that update would climb the error.)",
        "The 2-2-2 sigmoid network of note 004 with squared error (classic numbers: inputs .05/.10,"
        " targets .01/.99); every weight's gradient by the hand-derived formula, by autograd and by"
        " central finite differences in float64.",
        [Check("hand-derived gradients equal autograd's (max |difference| < 1e-12)",
               "max_abs_diff_hand_autograd", {}, expect="less", threshold=1e-12),
         Check("hand-derived gradients equal finite differences (max |difference| < 1e-8)",
               "max_abs_diff_hand_fd", {}, expect="less", threshold=1e-8),
         Check("one gradient step lowers the total error", "error_change", {}, expect="less")],
        [], ["dE_dw5_hand", "dE_dw5_autograd", "w5_after_step", "error_before", "error_after_step",
             "max_abs_diff_hand_autograd", "max_abs_diff_hand_fd"],
        deterministic=True, extra_table=("gradients", "Gradients, weight by weight")),
    Experiment(
        "landscape", "Optimizers on toy loss surfaces", "note 000 §1, §8",
        "Plateaus and local optima trap gradient descent; momentum speeds it through an"
        " ill-conditioned ravine; RMSProp and Adam rescale each axis and so cross flat regions.",
        "Two 2-D surfaces: a ravine f = x²/2 + 10y² and a surface with a global minimum near (2, 0),"
        " a local minimum near (−2, 0) and a nearly flat plateau far away. Start 0 = (5, 3) (on the"
        " plateau), start 1 = (−3, 0.5) (beside the local minimum), both jittered by the seed; same"
        " learning rate for every optimizer.",
        [Check("ravine: momentum reaches f − f* < tolerance in fewer steps than plain GD",
               "steps_to_tol/0", {"surface": "ravine", "optimizer": "momentum"},
               {"surface": "ravine", "optimizer": "sgd"}, expect="less"),
         Check("plateau: Adam ends closer to the global minimum than plain GD",
               "final_distance/0", {"surface": "plateau", "optimizer": "adam"},
               {"surface": "plateau", "optimizer": "sgd"}, expect="less"),
         Check("plateau: RMSProp ends closer to the global minimum than plain GD",
               "final_distance/0", {"surface": "plateau", "optimizer": "rmsprop"},
               {"surface": "plateau", "optimizer": "sgd"}, expect="less"),
         Check("GD started beside the local minimum stays trapped (final f − f* > 0.1)",
               "final_gap/1", {"surface": "plateau", "optimizer": "sgd"}, threshold=0.1)],
        [Plot("trajectories")],
        ["steps_to_tol/0", "steps_to_tol/1", "final_distance/0", "final_gap/1"]),
    Experiment(
        "gd-variants", "Full-batch GD, SGD and mini-batch", "note 000 §1",
        "Full-batch gradient descent makes one slow update per epoch; SGD (batch 1) is noisy and"
        " slow per epoch on parallel hardware; mini-batches (2ⁿ) are the efficient middle.",
        "Softmax regression on a Fashion-MNIST subset; batch size ∈ {full, 1, 8, …, 512}, the"
        " learning rate tuned per batch size on validation accuracy; same number of epochs.",
        [Check("mini-batch 128 reaches higher test accuracy than full-batch GD", "test_acc",
               {"batch_size": 128}, {"batch_size": "full"}),
         Check("an epoch with mini-batches of 128 takes less wall time than with batch 1",
               "epoch_seconds", {"batch_size": 128}, {"batch_size": 1}, expect="less"),
         Check("batch-1 gradients are noisier (E‖g_B − g‖²) than batch-128 gradients",
               "grad_noise", {"batch_size": 1}, {"batch_size": 128})],
        [Plot("curves", {"y": "val_loss", "x": "epoch", "tuned": True}),
         Plot("curves", {"y": "train_loss", "x": "elapsed", "tuned": True, "logx": True}),
         Plot("lr_sensitivity", {"metric": "test_acc", "series": "batch_size"})],
        ["test_acc", "val_acc_best", "epoch_seconds", "grad_noise"]),
    Experiment(
        "activations", "Activation functions and initialisation", "note 000 §2, note 004",
        "Sigmoid saturates and its gradients vanish in deep nets (and it is not zero-centred); tanh is"
        " better; ReLU and LeakyReLU fix it; without a nonlinearity stacked layers collapse to one"
        " linear map.",
        "An 8-hidden-layer MLP (width 128); activation × init (Xavier, He); per-layer gradient norms"
        " at initialisation.",
        [Check("ReLU (He init) reaches higher test accuracy than sigmoid (Xavier init)", "test_acc",
               {"activation": "relu", "init": "he"}, {"activation": "sigmoid", "init": "xavier"}),
         Check("sigmoid's first-layer gradient is smaller relative to its last layer's than ReLU's"
               " (log10 ratio)", "grad_ratio_first_last_log10",
               {"activation": "sigmoid", "init": "xavier"}, {"activation": "relu", "init": "he"},
               expect="less"),
         Check("tanh reaches higher test accuracy than sigmoid (both Xavier)", "test_acc",
               {"activation": "tanh", "init": "xavier"}, {"activation": "sigmoid", "init": "xavier"}),
         Check("ReLU beats the purely linear network (identity activation)", "test_acc",
               {"activation": "relu", "init": "he"}, {"activation": "identity", "init": "xavier"})],
        [Plot("layer_profile", {"prefix": "grad_norm/", "epoch": 0, "log": True,
                                "ylabel": "gradient norm at initialisation"}),
         Plot("curves", {"y": "val_acc", "x": "epoch"}),
         Plot("bars", {"metric": "test_acc"})],
        ["test_acc", "grad_ratio_first_last_log10"]),
    Experiment(
        "validation", "Validation set and early stopping", "note 000 §3",
        "The validation set reveals overfitting and picks the epoch (early stopping); the test set"
        " is kept for the final score only.",
        "MLP 256-256 trained long on a small (1,000) and a larger (10,000) training set; early"
        " stopping (patience 5, on validation accuracy) on or off.",
        [Check("with 1,000 training images the model overfits: train − test accuracy gap > 0.05",
               "gap", {"train_size": 1000, "early_stopping": False}, threshold=0.05),
         Check("the epoch chosen on validation scores better on test than the last epoch",
               "test_acc_best_minus_last", {"train_size": 1000, "early_stopping": False}),
         Check("early stopping ends training in fewer epochs", "epochs_run",
               {"train_size": 1000, "early_stopping": True},
               {"train_size": 1000, "early_stopping": False}, expect="less")],
        [Plot("curves", {"y": "train_acc", "x": "epoch", "also": "val_acc"}),
         Plot("bars", {"metric": "gap"})],
        ["test_acc", "test_acc_last", "test_acc_best_val", "gap", "epochs_run", "best_epoch"]),
    Experiment(
        "dropout", "Dropout", "note 000 §5",
        "Dropout reduces overfitting (an implicit ensemble; less co-adaptation of units).",
        "MLP 512-512 on 2,000 training images for 30 epochs; dropout p ∈ {0, 0.2, 0.5}.",
        [Check("dropout 0.5 narrows the train − test accuracy gap", "gap", {"dropout": 0.5},
               {"dropout": 0.0}, expect="less"),
         Check("dropout 0.5 raises test accuracy", "test_acc", {"dropout": 0.5}, {"dropout": 0.0})],
        [Plot("curves", {"y": "val_loss", "x": "epoch"}), Plot("bars", {"metric": "gap"})],
        ["test_acc", "train_acc", "gap"]),
    Experiment(
        "cnn-vs-mlp", "CNN vs MLP", "note 000 §6",
        "Parameter sharing and sparse connections: a CNN needs far fewer weights and generalises"
        " better on images.",
        "MLP 256-256 vs a CNN of two 3×3 conv blocks (16/32 channels) and one linear layer; same"
        " data, optimizer and epochs.",
        [Check("the CNN has fewer parameters", "n_params", {"model": "cnn"}, {"model": "mlp"},
               expect="less"),
         Check("the CNN reaches higher test accuracy", "test_acc", {"model": "cnn"},
               {"model": "mlp"})],
        [Plot("curves", {"y": "val_acc", "x": "epoch"}), Plot("bars", {"metric": "test_acc"})],
        ["n_params", "test_acc", "epoch_seconds"]),
    Experiment(
        "optimizers", "Optimizers", "note 000 §8, note 002",
        "Momentum and RMSProp speed up gradient descent; Adam (momentum + RMSProp with bias"
        " correction) is a good default; RMSProp and Adadelta adapt the step per parameter.",
        "MLP 256-256, a few epochs; optimizer × learning rate grid; each optimizer at its best"
        " learning rate (chosen on validation accuracy).",
        [Check("momentum beats plain SGD (each at its best LR)", "test_acc",
               {"optimizer": "momentum"}, {"optimizer": "sgd"}),
         Check("RMSProp beats plain SGD (each at its best LR)", "test_acc",
               {"optimizer": "rmsprop"}, {"optimizer": "sgd"}),
         Check("Adam beats plain SGD (each at its best LR)", "test_acc",
               {"optimizer": "adam"}, {"optimizer": "sgd"})],
        [Plot("lr_sensitivity", {"metric": "test_acc", "series": "optimizer"}),
         Plot("curves", {"y": "val_loss", "x": "epoch", "tuned": True})],
        ["test_acc", "val_acc_best"]),
    Experiment(
        "batchnorm", "Batch normalization", "note 000 §9, note 004",
        "Batch normalization stabilises training, allows a larger learning rate and keeps each"
        " layer's input distribution steady.",
        "MLP with 4 hidden layers of 256, plain SGD; BN off/on × learning rate {0.01, 0.1, 1.0};"
        " per-layer activation standard deviation each epoch.",
        [Check("at a large learning rate (1.0), BN reaches higher test accuracy than no BN",
               "test_acc", {"batchnorm": True, "lr": 1.0}, {"batchnorm": False, "lr": 1.0}),
         Check("with BN, the large learning rate (1.0) still learns: test accuracy > 0.5",
               "test_acc", {"batchnorm": True, "lr": 1.0}, threshold=0.5),
         Check("with BN the activation scale varies less across layers (log10 max/min std)",
               "act_std_spread_log10", {"batchnorm": True, "lr": 0.1},
               {"batchnorm": False, "lr": 0.1}, expect="less")],
        [Plot("lr_sensitivity", {"metric": "test_acc", "series": "batchnorm"}),
         Plot("curves", {"y": "train_loss", "x": "epoch"}),
         Plot("layer_profile", {"prefix": "act_std/", "epoch": "last", "log": True,
                                "ylabel": "activation std after training"})],
        ["test_acc", "act_std_spread_log10"]),
    Experiment(
        "autoencoder", "Autoencoders and denoising autoencoders", "note 000 §4, note 002",
        "An autoencoder's bottleneck keeps the important features of its input (a wider"
        " bottleneck reconstructs better); a denoising autoencoder restores a noisy input.",
        "Note 002's convolutional autoencoder (MSE, Adam 1e-3, weight decay 1e-5); latent size ×"
        " noise factor (0 = plain AE; 0.3 = denoising, trained to output the clean image — the"
        " note's loop compares with the noisy input instead, which would teach it to keep the"
        " noise). Scored on test images: PSNR, SSIM, LPIPS of the reconstruction of the (noisy)"
        " input against the clean image.",
        [Check("a wider bottleneck reconstructs better: latent 32 has higher PSNR than latent 2",
               "psnr/reconstruction", {"latent": 32, "noise": 0.0}, {"latent": 2, "noise": 0.0}),
         Check("… and lower LPIPS", "lpips/reconstruction", {"latent": 32, "noise": 0.0},
               {"latent": 2, "noise": 0.0}, expect="less"),
         Check("the denoising AE (latent 32) restores noisy input: its output has a higher PSNR"
               " against the clean image than the noisy input has", "psnr/reconstruction",
               {"latent": 32, "noise": 0.3}, metric_b="psnr/noisy_input"),
         Check("… and a higher SSIM", "ssim/reconstruction", {"latent": 32, "noise": 0.3},
               metric_b="ssim/noisy_input")],
        [Plot("bars", {"metric": "psnr/reconstruction"}),
         Plot("bars", {"metric": "ssim/reconstruction"}),
         Plot("bars", {"metric": "lpips/reconstruction"}),
         Plot("curves", {"y": "train_loss", "also": "test_loss"})],
        ["psnr/reconstruction", "ssim/reconstruction", "lpips/reconstruction", "psnr/noisy_input",
         "final_test_loss", "fd/prior"],
        images=True),
    Experiment(
        "vae", "Variational autoencoder", "note 002, note 003",
        "The VAE's loss is reconstruction + KL divergence; the KL term rises and then settles;"
        " sampling the prior N(0, I) generates new data, which a plain autoencoder cannot.",
        "Note 002's MLP VAE (LeakyReLU 0.2, hidden 400, BCE summed over pixels + KL, Adam 1e-3) and"
        " a convolutional VAE (note 002's conv encoder/decoder); latent 2 or 20. Curves per epoch"
        " on train and test; prior samples scored by the Fréchet distance in the features of the"
        " DAG's own Fashion-MNIST classifier, against the same for the autoencoder experiment's"
        " plain AE decoding N(0, I).",
        [Check("the KL term rises during training (test KL: end − initialisation)", "kl_rise",
               {"architecture": "mlp", "latent": 20}),
         Check("the KL term settles (relative change over the last epoch < 5%)",
               "kl_last_epoch_change", {"architecture": "mlp", "latent": 20}, expect="less",
               threshold=0.05),
         Check("prior samples of the VAE (latent 2) are closer to real images (Fréchet distance)"
               " than N(0, I) decoded by a plain AE (latent 2)", "fd/prior",
               {"architecture": "mlp", "latent": 2}, {"latent": 2, "noise": 0.0}, expect="less",
               b_experiment="autoencoder")],
        [Plot("curves", {"y": "train_recon", "also": "test_recon"}),
         Plot("curves", {"y": "train_kl", "also": "test_kl"}),
         Plot("curves", {"y": "train_loss", "also": "test_loss"}),
         Plot("bars", {"metric": "fd/prior"})],
        ["final_test_recon", "final_test_kl", "final_test_loss", "psnr/reconstruction",
         "ssim/reconstruction", "lpips/reconstruction", "fd/prior"],
        images=True),
    Experiment(
        "gan", "GAN, DCGAN and conditional GAN", "note 002, note 003, note 004",
        "A GAN is a minimax game between a generator and a discriminator; early on the"
        " discriminator's loss falls while the generator's rises; DCGAN's convolutions improve"
        " the images; a conditional GAN controls the class of what it generates.",
        "MLP GAN, DCGAN (strided (transposed) convolutions, BN) and a cGAN (the MLP GAN given the"
        " one-hot class), non-saturating generator loss, Adam (β1 0.5). Samples from fixed noise"
        " scored by the Fréchet distance in the features of the DAG's own Fashion-MNIST"
        " classifier (no Inception weights needed), class accuracy of the cGAN's samples under"
        " that classifier, LPIPS diversity (mean distance between random pairs of samples).",
        [Check("MLP GAN: the discriminator's loss falls during epoch 1 (end − first point)",
               "d_loss_early_change", {"architecture": "mlp"}, expect="less"),
         Check("MLP GAN: the generator's loss rises during epoch 1", "g_loss_early_change",
               {"architecture": "mlp"}),
         Check("DCGAN's samples are closer to real images than the MLP GAN's (Fréchet distance)",
               "fd/samples", {"architecture": "dcgan"}, {"architecture": "mlp"}, expect="less"),
         Check("the cGAN controls the class: > 50% of its samples are classified as the class"
               " asked for (chance: 10%)", "class_acc/samples", {"architecture": "cgan"},
               threshold=0.5)],
        [Plot("curves", {"y": "train_d_loss", "also": "train_g_loss"}),
         Plot("curves", {"y": "train_d_real", "also": "train_d_fake"}),
         Plot("bars", {"metric": "fd/samples"})],
        ["fd/samples", "class_acc/samples", "lpips_diversity/samples", "final_train_d_loss",
         "final_train_g_loss", "fd/real_train"],
        images=True),
    Experiment(
        "image-metrics", "PSNR, SSIM and LPIPS on known distortions", "note 004",
        "PSNR = 10·log10(s²/MSE) compares pixels; SSIM = luminance · contrast · structure compares"
        " local statistics; LPIPS (deep features) tracks human perception best — for example a"
        " 1-pixel shift, barely visible, costs much PSNR but little LPIPS.",
        "Test images (a different random set per seed) under Gaussian noise, Gaussian blur, a shift"
        " by 1–2 px and JPEG compression at several strengths; each version scored against its"
        " original by our batched PSNR/SSIM (checked against scikit-image on every set) and LPIPS"
        " (v0.1, AlexNet; grey repeated to 3 channels, in [−1, 1]). AlexNet cannot take 28×28"
        " images, so they are upsampled (bilinear): the report uses 64×64, the patch size LPIPS"
        " was calibrated on; every set is also scored at 32×32, the smallest size AlexNet takes,"
        " and the second figure shows whether the ranking of the distortions depends on it.",
        [Check("batched PSNR equals scikit-image's (max |difference| < 1e-4 dB)",
               "psnr_vs_skimage_max_abs_diff", {}, expect="less", threshold=1e-4),
         Check("batched SSIM equals scikit-image's (max |difference| < 1e-4)",
               "ssim_vs_skimage_max_abs_diff", {}, expect="less", threshold=1e-4),
         Check("PSNR rates a 1-px shift as worse than Gaussian noise σ = 0.1", "psnr/shift=1", {},
               metric_b="psnr/noise=0.1", expect="less"),
         Check("LPIPS rates the 1-px shift as closer to the original than the noise σ = 0.1",
               "lpips/shift=1", {}, metric_b="lpips/noise=0.1", expect="less")],
        [Plot("distortion_curves"), Plot("lpips_sizes")],
        ["psnr_vs_skimage_max_abs_diff", "ssim_vs_skimage_max_abs_diff", "psnr/shift=1",
         "psnr/noise=0.1", "lpips/shift=1", "lpips/noise=0.1", "lpips@32/shift=1",
         "lpips@32/noise=0.1"],
        images=True),
    Experiment(
        "word2vec", "Word2vec: CBOW vs skip-gram, softmax vs hierarchical softmax vs negative sampling",
        "note 000 §7, note 001",
        "CBOW predicts the centre word from its context, skip-gram the context from the centre word"
        " (skip-gram learns better vectors); a full softmax over the vocabulary is slow, and"
        " hierarchical softmax (a Huffman tree) and negative sampling make training fast at"
        " similar quality.",
        "Our PyTorch word2vec (vocabulary with min_count, subsampling, dynamic window, linear LR"
        " decay, batched SGD with the output layers' hand-written gradients) and gensim's Word2Vec"
        " (workers=1) on the same corpus (gensim's Wikipedia extract + WordNet glosses) and"
        " settings; both decay the learning rate with the words trained, as word2vec.c (gensim's"
        " default call decays it with the sentences trained, which on this corpus keeps it higher"
        " for longer). gensim has no full softmax; ours trains full softmax on the first"
        " `softmax_words` corpus words only, so its quality is not comparable, its speed is."
        " Evaluated with gensim's KeyedVectors functions: WS353 / SimLex-999 Spearman (OOV pairs"
        " skipped), questions-words analogies (most are out of this small vocabulary).",
        [Check("skip-gram beats CBOW on WS353 (ours, negative sampling)", "ws353_spearman",
               {"implementation": "ours", "architecture": "skipgram", "output": "negative"},
               {"implementation": "ours", "architecture": "cbow", "output": "negative"}),
         Check("skip-gram beats CBOW on WS353 (gensim, negative sampling)", "ws353_spearman",
               {"implementation": "gensim", "architecture": "skipgram", "output": "negative"},
               {"implementation": "gensim", "architecture": "cbow", "output": "negative"}),
         Check("hierarchical softmax trains faster than the full softmax (words/s, ours,"
               " skip-gram)", "words_per_second",
               {"implementation": "ours", "architecture": "skipgram", "output": "hierarchical"},
               {"implementation": "ours", "architecture": "skipgram", "output": "softmax"}),
         Check("negative sampling trains faster than the full softmax (words/s, ours, skip-gram)",
               "words_per_second",
               {"implementation": "ours", "architecture": "skipgram", "output": "negative"},
               {"implementation": "ours", "architecture": "skipgram", "output": "softmax"}),
         *[Check(f"ours matches gensim: {label} within 0.03 WS353 (or better)", "ws353_spearman",
                 {"implementation": "ours", "architecture": architecture, "output": output},
                 {"implementation": "gensim", "architecture": architecture, "output": output},
                 threshold=-0.03)
           for label, architecture, output in [
               ("CBOW + hierarchical softmax", "cbow", "hierarchical"),
               ("CBOW + negative sampling", "cbow", "negative"),
               ("skip-gram + hierarchical softmax", "skipgram", "hierarchical"),
               ("skip-gram + negative sampling", "skipgram", "negative")]]],
        [Plot("quality_vs_time"), Plot("bars", {"metric": "ws353_spearman"}),
         Plot("curves", {"y": "loss"})],
        ["ws353_spearman", "ws353_oov", "simlex_spearman", "analogy_accuracy", "words_per_second",
         "train_seconds", "corpus_words"],
        extra_table=("neighbours", "Nearest neighbours (lowest seed of each variant)")),
]
BY_ID = {e.id: e for e in CATALOG}


def _matching(runs: pd.DataFrame, selector: dict) -> pd.DataFrame:
    mask = pd.Series(True, index=runs.index)
    for axis, value in selector.items():
        column = f"axis.{axis}"
        if column not in runs:
            return runs.iloc[0:0]
        mask &= runs[column] == format_value(value)
    return runs[mask]


def select(runs: pd.DataFrame, selector: dict) -> pd.DataFrame:
    """Runs of the matching variant; among several, the one best on validation (diverged = 0)."""
    matched = _matching(runs, selector)
    if matched["variant"].nunique() > 1 and TUNE_BY in matched:
        score = matched[TUNE_BY].fillna(0.0).groupby(matched["variant"]).mean()
        matched = matched[matched["variant"] == score.idxmax()]
    return matched


def outcome(result: dict, expect: str, deterministic: bool, reference: float = 0.0) -> str:
    """Where the estimate's CI lies relative to `reference` (0 for differences)."""
    sign = 1 if expect == "greater" else -1
    if deterministic and result["n"] == 1:
        return "supports" if sign * (result["mean"] - reference) > 0 else "contradicts"
    low, high = sign * (result["ci_low"] - reference), sign * (result["ci_high"] - reference)
    if result["n"] < 2 or math.isnan(low):
        return "unclear"
    low, high = min(low, high), max(low, high)
    if low > 0:
        return "supports"
    if high < 0:
        return "contradicts"
    return "unclear"


def evaluate_checks(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for experiment in CATALOG:
        exp_runs = runs[runs["experiment"] == experiment.id] if len(runs) else runs
        if exp_runs.empty:
            continue
        for i, check in enumerate(experiment.checks):
            a = select(exp_runs, check.a)
            b_runs = runs[runs["experiment"] == check.b_experiment] if check.b_experiment else exp_runs
            b = select(b_runs, check.b) if check.b is not None else None
            metric_b = check.metric_b or check.metric
            if check.metric_b:  # two metrics of the same runs
                b = a
            row = {"experiment": experiment.id, "check": i, "text": check.text,
                   "metric": check.metric, "expect": check.expect,
                   "a_variant": a["variant"].iloc[0] if len(a) else "",
                   "b_variant": "" if b is None else _describe_b(check, b),
                   "threshold": check.threshold}
            measured = (check.metric in a and a[check.metric].notna().any()
                        and (b is None or (metric_b in b and b[metric_b].notna().any())))
            if a.empty or (b is not None and b.empty) or not measured:
                rows.append({**row, "n": 0, "mean": math.nan, "ci_low": math.nan,
                             "ci_high": math.nan, "outcome": "not measured"})
                continue
            if b is None:
                result, reference = mean_ci(a[check.metric]), check.threshold
            elif check.metric_b:
                result, reference = paired_difference(a[check.metric], a[metric_b]), check.threshold
            else:
                pair = a.merge(b, on="seed", suffixes=("", "_b"))
                result = paired_difference(pair[check.metric], pair[f"{check.metric}_b"])
                reference = check.threshold
            rows.append({**row, **{k: result[k] for k in ("n", "mean", "ci_low", "ci_high")},
                         "outcome": outcome(result, check.expect, experiment.deterministic,
                                            reference)})
    return pd.DataFrame(rows)


def _describe_b(check: Check, b: pd.DataFrame) -> str:
    if b.empty:
        return ""
    if check.metric_b:
        return check.metric_b
    variant = b["variant"].iloc[0]
    return f"{check.b_experiment}/{variant}" if check.b_experiment else variant


def verdict(outcomes: list[str]) -> str:
    if outcomes and all(o == "supports" for o in outcomes):
        return "supported"
    if any(o == "contradicts" for o in outcomes):
        return "not supported"
    return "inconclusive"
