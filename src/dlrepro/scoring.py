"""The scoring stage: rate what the image runs left in their folders, without re-training.

For each run folder's outputs.pt:
  pair sets    (reference, candidate) images -> PSNR, SSIM (batched torch; scikit-image on the
               first images as a cross-check), LPIPS when available
  sample sets  generated images -> Fréchet distance to real test images in the features of the
               DAG's own classifier, class accuracy (when the samples have intended labels),
               LPIPS diversity (mean distance between random pairs of samples); sets named in
               `reference_sets` are not generated (a floor or ceiling beside the samples, e.g.
               the translation models' inputs and targets): no diversity for them
Writes one JSON per run: {"metrics": {...}, "sets": [...], "lpips": {...}}.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch

from dlrepro.data.fashion_mnist import MEAN, STD, load_cache
from dlrepro.errors import DataError
from dlrepro.io import write_json
from dlrepro.metrics import image, perceptual
from dlrepro.runfolder import RunFolder

CROSSCHECK_IMAGES = 100
DIVERSITY_PAIRS = 500


class FeatureClassifier:
    """The classifier trained by the DAG; features = the input of its last linear layer."""

    def __init__(self, run_dir: str | Path):
        from dlrepro.families import get

        folder = RunFolder(run_dir)
        info = folder.info()
        self.settings = info["spec"]["settings"]
        self.test_acc = folder.metrics()["test_acc"]
        self.model = get(self.settings["model"]).build(self.settings)
        checkpoint = folder.checkpoint(info["spec_hash"])
        if checkpoint is None:   # the classifier's weights are its checkpoint: nothing to score with
            raise DataError(f"the feature classifier's weights '{folder.checkpoint_file}' are missing "
                            f"or unreadable: delete '{folder.path}' and re-run snakemake")
        self.model.load_state_dict(checkpoint["state"]["model"])
        self.model.eval()
        last = [m for m in self.model.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.register_forward_hook(lambda module, inputs, output: setattr(self, "_features", inputs[0]))

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(features, predicted classes) of images in [0, 1]."""
        features, predictions = [], []
        for i in range(0, len(images), 1000):
            logits = self.model((images[i:i + 1000] - MEAN) / STD)
            features.append(self._features.double())
            predictions.append(logits.argmax(1))
        return torch.cat(features).numpy(), torch.cat(predictions).numpy()


def _mean(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.inf


class Scorer:
    def __init__(self, classifier_dir, data_path, torch_home, lpips_mode: str = "required",
                 lpips_size: int = 64):
        self.classifier = FeatureClassifier(classifier_dir)
        self.cache = load_cache(data_path)
        self.lpips_status = perceptual.status(torch_home, lpips_mode)
        self.lpips = perceptual.load(torch_home) if self.lpips_status.available else None
        self.lpips_size = lpips_size
        self._real: dict[int, tuple] = {}

    def real_features(self, n: int):
        """Features of the first n test images, and of n training images (the 'real' floor)."""
        if n not in self._real:
            test = self.cache["test_images"][:n].float().div(255)[:, None]
            train = self.cache["train_images"][-n:].float().div(255)[:, None]
            self._real[n] = (self.classifier(test)[0], self.classifier(train)[0])
        return self._real[n]

    def score(self, outputs: dict, other_lpips_size: int | None = None) -> tuple[dict, list[dict]]:
        """Scores of one run's outputs; `other_lpips_size` adds LPIPS at a second input size
        (image-metrics: does the ranking of the distortions depend on it?)."""
        metrics, sets = {}, []
        for name, (reference, candidate) in outputs["pairs"].items():
            psnr, ssim = image.psnr(reference, candidate), image.ssim(reference, candidate)
            row = {"set": name, "kind": "pairs", "n": len(reference),
                   "psnr": _mean(psnr), "ssim": _mean(ssim)}
            k = min(CROSSCHECK_IMAGES, len(reference))
            row["psnr_vs_skimage"] = float(np.nan_to_num(np.abs(
                psnr[:k].numpy() - image.psnr_skimage(reference[:k], candidate[:k])), nan=0.0).max())
            row["ssim_vs_skimage"] = float(np.abs(
                ssim[:k].numpy() - image.ssim_skimage(reference[:k], candidate[:k])).max())
            row["lpips"] = self._lpips(reference, candidate, self.lpips_size)
            sets.append(row)
            for metric in ("psnr", "ssim", "lpips"):
                metrics[f"{metric}/{name}"] = row[metric]
            if other_lpips_size:
                row[f"lpips@{other_lpips_size}"] = self._lpips(reference, candidate, other_lpips_size)
                metrics[f"lpips@{other_lpips_size}/{name}"] = row[f"lpips@{other_lpips_size}"]
        if outputs["pairs"]:  # largest disagreement with scikit-image over all pair sets
            metrics["psnr_vs_skimage_max_abs_diff"] = max(r["psnr_vs_skimage"] for r in sets)
            metrics["ssim_vs_skimage_max_abs_diff"] = max(r["ssim_vs_skimage"] for r in sets)
        references = outputs.get("reference_sets", ())
        for name, samples in outputs["samples"].items():
            real_test, real_train = self.real_features(len(samples))
            features, predicted = self.classifier(samples)
            row = {"set": name, "kind": "samples", "n": len(samples),
                   "fd": image.frechet_distance(features, real_test),
                   "fd_real_train": image.frechet_distance(real_train, real_test)}
            labels = outputs["sample_labels"].get(name)
            row["class_acc"] = (float((predicted == labels.numpy()).mean())
                                if labels is not None else math.nan)
            row["lpips_diversity"] = math.nan
            if self.lpips and name not in references:
                g = torch.Generator().manual_seed(0)
                a = torch.randint(len(samples), (DIVERSITY_PAIRS,), generator=g)
                b = (a + 1 + torch.randint(len(samples) - 1, (DIVERSITY_PAIRS,), generator=g)) % len(samples)
                row["lpips_diversity"] = self._lpips(samples[a], samples[b], self.lpips_size)
            sets.append(row)
            for metric in ("fd", "class_acc", "lpips_diversity"):
                if not (metric == "class_acc" and labels is None) and not (
                        metric == "lpips_diversity" and name in references):
                    metrics[f"{metric}/{name}"] = row[metric]
            metrics["fd/real_train"] = row["fd_real_train"]
        return metrics, sets

    def _lpips(self, a, b, size: int) -> float:
        return _mean(perceptual.distance(self.lpips, a, b, size=size)) if self.lpips else math.nan

    def lpips_info(self) -> dict:
        s = self.lpips_status
        return {"available": s.available, "file": s.file, "sha256": s.sha256,
                "source": s.source, "message": s.message, "size": self.lpips_size}


# LPIPS input sizes: 64 is the patch size LPIPS was calibrated on; 32 the smallest AlexNet takes.
LPIPS_SIZES = (64, 32)


def score_runs(run_dirs: list[str | Path], outs: list[str | Path], classifier_dir, data_path,
               torch_home, lpips_mode: str = "required", lpips_size: int = 64) -> None:
    scorer = Scorer(classifier_dir, data_path, torch_home, lpips_mode, lpips_size)
    other = next(size for size in LPIPS_SIZES if size != lpips_size)
    for i, (run_dir, out) in enumerate(zip(run_dirs, outs), start=1):
        folder = RunFolder(run_dir)
        print(f"dlrepro score: {i}/{len(outs)} {folder.path}", file=sys.stderr, flush=True)
        if folder.metrics()["status"] == "diverged":
            metrics, sets = {}, []  # NaN images: nothing to score (the run reports its status)
        else:
            outputs = folder.outputs()
            # A run may ask for LPIPS at both input sizes (image-metrics: does the size matter?).
            metrics, sets = scorer.score(outputs, other if outputs.get("lpips_both_sizes") else None)
        metrics["classifier_test_acc"] = scorer.classifier.test_acc
        write_json(out, {"run": str(folder.path), "metrics": metrics, "sets": sets,
                         "lpips": scorer.lpips_info()})
