"""How much storing images as 8-bit levels (runfolder.py) moves the scores, and how much it saves.

Scores each image set twice, as float32 and as read back from outputs.pt, and prints the change
next to the file sizes: `pixel/` the largest change of a pixel; `psnr/`, `ssim/` the mean
absolute change of an image's score; `lpips/` and `fd/` the change of the set's score. By default
the sets are distortions of the first 1,000 Fashion-MNIST test images that are not 8-bit levels
(Gaussian noise, Gaussian blur: what a model's outputs look like to the storage); `--outputs`
adds float32 outputs.pt files of an older run, `--classifier` the Fréchet distance of their
sample sets.

  python benchmarks/outputs_precision.py [--outputs OLD/outputs.pt ...] [--classifier DIR]
      [--data results/data/fashion-mnist.pt] [--torch-home weights/torch]
"""
from __future__ import annotations

import argparse
import io
import json
import tempfile
from pathlib import Path

import torch

from dlrepro.families.distortions import distort, set_name
from dlrepro.metrics import image, perceptual
from dlrepro.runfolder import RunFolder


def file_bytes(obj) -> int:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.tell()


def test_images(data: str) -> torch.Tensor:
    from dlrepro.data.fashion_mnist import load_cache

    return load_cache(data)["test_images"].float().div(255)[:, None]


def distortion_outputs(originals: torch.Tensor) -> dict:
    generator = torch.Generator().manual_seed(0)
    return {"pairs": {set_name(kind, s): (originals, distort(originals, kind, s, generator))
                      for kind, s in (("noise", 0.1), ("blur", 1.0))}, "samples": {}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outputs", nargs="*", default=[], help="float32 outputs.pt of older runs")
    parser.add_argument("--classifier", help="a feature classifier's run folder (for the Fréchet distance)")
    parser.add_argument("--data", default="results/data/fashion-mnist.pt")
    parser.add_argument("--torch-home", default="weights/torch")
    args = parser.parse_args()

    lpips = (perceptual.load(args.torch_home)
             if perceptual.status(args.torch_home, "auto").available else None)
    classifier = None
    if args.classifier:
        from dlrepro.scoring import FeatureClassifier
        classifier = FeatureClassifier(args.classifier)
    real_images = test_images(args.data)            # read once: the distortions' originals and
    real_features: dict[int, object] = {}           # the Fréchet distance's reference features
    sources = {"distortions": distortion_outputs(real_images[:1000])}
    sources.update({path: RunFolder(Path(path).parent).outputs() for path in args.outputs})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for source, outputs in sources.items():
            folder = RunFolder(tmp)
            folder.save_outputs(outputs)
            stored = folder.outputs()
            row = {"source": source, "float32_bytes": file_bytes(outputs),
                   "stored_bytes": folder.outputs_file.stat().st_size, "change": {}}
            changes = row["change"]
            for name, (reference, candidate) in outputs["pairs"].items():
                back = stored["pairs"][name][1]
                changes[f"pixel/{name}"] = float((back - candidate).abs().max())
                for metric, fn in (("psnr", image.psnr), ("ssim", image.ssim)):
                    changes[f"{metric}/{name}"] = float((fn(reference, back) - fn(reference, candidate))
                                                        .nan_to_num(posinf=0).abs().mean())
                if lpips is not None:
                    a, b = (perceptual.distance(lpips, reference, c, size=64).mean()
                            for c in (candidate, back))
                    changes[f"lpips/{name}"] = float((a - b).abs())
            for name, samples in outputs["samples"].items():
                changes[f"pixel/{name}"] = float((stored["samples"][name] - samples).abs().max())
                if classifier is not None:
                    n = len(samples)
                    if n not in real_features:
                        real_features[n] = classifier(real_images[:n])[0]
                    fd = [image.frechet_distance(classifier(s)[0], real_features[n])
                          for s in (samples, stored["samples"][name])]
                    changes[f"fd/{name}"] = abs(fd[0] - fd[1])
            rows.append(row)
    print(json.dumps({"lpips": lpips is not None, "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
