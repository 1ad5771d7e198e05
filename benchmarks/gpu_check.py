"""One prepared GPU check: what the planner and the Speed work need to know about a GPU, measured
in one invocation of at most a few minutes, written as JSON + Markdown.

    python benchmarks/gpu_check.py --out benchmarks/results          # on a GPU (cuda)
    python benchmarks/gpu_check.py --tiny --device cpu --out /tmp/x  # end to end in seconds

Sections (each timed with the device synchronised, warm-up steps excluded):
  step_costs      seconds per optimisation step of every trained experiment of config.yaml at
                  its own batch size (synthetic Fashion-MNIST-shaped data: speed does not depend
                  on pixel values): the per-step costs the cost planner needs
  seeds_together  the engine training S seeds of a variant as one stacked model (seeds_together:
                  torch.func stack_module_state + vmap + functional_call) against the same S
                  seeds one after another, one epoch each, for the dropout MLP and the
                  cnn-vs-mlp CNN: the ratio "Speed:" asks for, and the modes' metric difference
  slots           K processes sharing the device, each training the CNN: aggregate steps/s for
                  K = 1, 2, 4, 8 (the slots_per_gpu question)
  word2vec        our word2vec's words/s for the four HS/NS x CBOW/skip-gram combinations at
                  the default batch and at larger batches, WS353 of each (gensim's evaluation),
                  and gensim's CPU words/s (workers=1) on the same corpus when gensim is there
  image_metrics   batched PSNR + SSIM pairs/s on the device and on the CPU
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))   # runs from a bare checkout too (a bare GPU machine)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(step, device, warmup: int, steps: int) -> float:
    """Seconds per call of step() after warm-up (torch.utils.benchmark's Timer, which
    synchronises CUDA around its measurement)."""
    from torch.utils.benchmark import Timer

    for _ in range(warmup):
        step()
    sync(device)
    return Timer(stmt="step()", globals={"step": step}).timeit(steps).mean


def default_config() -> dict:
    from dlrepro.config import load_config
    return load_config([REPO / "config/config.yaml"])


# ------------------------------------------------------------------ step costs
def family_step(settings: dict, device: torch.device, batch: int, corpus: Path | None = None):
    """A closure doing one optimisation step of the family on a synthetic batch (speed does not
    depend on pixel values), or the family's own step_probe (a custom family priced in steps)."""
    from dlrepro.families import get
    from dlrepro.train.optim import build_optimizer

    torch.manual_seed(0)
    family = get(settings["model"])
    if family.step_probe:
        return family.step_probe(settings, device, corpus)
    model = family.build(settings).to(device).train()
    if family.kind == "density":          # train/density.py: Adam on the mean −log p(x) of 0/1 images
        x = (torch.rand(batch, 1, 28, 28, device=device) < 0.3).float()
        optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])

        def step():
            optimizer.zero_grad(set_to_none=True)
            model.nll(x).mean().backward()
            optimizer.step()
        return step
    if family.kind == "classifier":
        x = torch.rand(batch, 1, 28, 28, device=device)
        y = torch.randint(0, 10, (batch,), device=device)
        optimizer = build_optimizer(settings, model.parameters())

        def step():
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        return step
    from dlrepro.data import Split

    # a generative family's examples: images and labels, or what its training_examples makes of them
    images = Split(torch.rand(2 * batch, 1, 28, 28, device=device),
                   torch.randint(0, 10, (2 * batch,), device=device))
    examples = model.training_examples(images) if hasattr(model, "training_examples") else images
    x, y = examples.x[:batch], examples.y[:batch]
    optimizers = model.make_optimizers()
    return lambda: model.train_step(x, y, optimizers)


def text_file(corpus: Path | None) -> Path:
    """The corpus, or (none prepared) a synthetic one of the same kind of text: a step's speed
    depends on the sizes, not the words."""
    if corpus and corpus.exists():
        return corpus
    import tempfile

    from dlrepro.data.text_corpus import synthetic_sentences
    path = Path(tempfile.mkdtemp()) / "synthetic-corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in synthetic_sentences(20000)) + "\n")
    return path


def step_costs(device, tiny: bool, corpus: Path | None = None, overlays: tuple = ()) -> list[dict]:
    """One step of every distinct shape (dlrepro.plan.shape_key: settings that change a step's
    arithmetic, and the batch) of the experiments of config.yaml, and of config.yaml under each
    overlay (e.g. config/full.yaml), that the planner prices in steps (tiny: the first of each
    experiment, at small batches)."""
    from dlrepro.config import expand_runs, load_config
    from dlrepro.plan import epoch_work, shape_key

    corpus = text_file(corpus)
    configs = [load_config([REPO / "config/config.yaml", *files]) for files in [[], *([o] for o in overlays)]]
    runs = [(run, config) for config in configs for run in expand_runs(config)]
    rows, seen = [], set()
    for run, config in runs:
        settings, family = run.settings, run.family
        if family.kind == "custom" and not family.step_probe:
            continue
        if tiny and any(r["experiment"] == run.experiment for r in rows):
            continue
        # the batch the planner will price (a full batch: the run's whole training split)
        work = (family.plan_work or (lambda s, data: epoch_work(s, data, family.kind)))
        batch = work(settings, config["data"]).batch
        if tiny:
            batch = min(batch, 64)
            settings = {**settings, "batch_size": batch}
        if shape_key(settings) + str(batch) in seen and not tiny:   # tiny: one per experiment
            continue
        seen.add(shape_key(settings) + str(batch))
        step = family_step(settings, device, batch, corpus)
        first = timed(step, device, 1, 1)      # a slow step (a large model) is timed fewer times
        seconds = timed(step, device, 2 if tiny else 3,
                        3 if tiny else max(3, min(20, int(2.0 / max(first, 1e-4)))))
        rows.append({"experiment": run.experiment, "family": settings["model"],
                     "variant": run.variant, "settings": run.settings, "batch": batch,
                     "seconds_per_step": seconds})
        print(f"[gpu_check] step_costs {run.experiment}/{run.variant}: {seconds * 1000:.2f} ms",
              file=sys.stderr, flush=True)
    return rows


# ------------------------------------------------------------------ seeds as a batch dimension
def synthetic_fashion_mnist(train: int, test: int) -> dict:
    """Fashion-MNIST-shaped random data: speed does not depend on pixel values, and a bare GPU
    machine may not have the data set."""
    generator = torch.Generator().manual_seed(0)
    return {"train_images": torch.randint(0, 256, (train, 28, 28), generator=generator, dtype=torch.uint8),
            "train_labels": torch.randint(0, 10, (train,), generator=generator),
            "test_images": torch.randint(0, 256, (test, 28, 28), generator=generator, dtype=torch.uint8),
            "test_labels": torch.randint(0, 10, (test,), generator=generator)}


def seeds_together(device, tiny: bool) -> list[dict]:
    """The engine's own path (dlrepro.train.stack): a variant's seeds trained as one stacked model
    against the same seeds trained one after another, one epoch each, for the dropout
    experiment's MLP and the cnn-vs-mlp CNN of config.yaml; with the largest difference between
    the two modes' metrics (float summation order only)."""
    import tempfile

    from dlrepro.config import expand_runs, validate
    from dlrepro.data import Inputs
    from dlrepro.families import get
    from dlrepro.runfolder import RunFolder

    seeds, train_size = (2, 256) if tiny else (5, 10_000)
    inputs = Inputs(_cache=synthetic_fashion_mnist(train_size + 1000, 1000))
    default_runs = expand_runs(default_config())
    rows = []
    for experiment, model in (("dropout", "mlp"), ("cnn-vs-mlp", "cnn")):
        settings = max((r.settings for r in default_runs if r.experiment == experiment
                        and r.settings["model"] == model), key=lambda s: s["dropout"])
        settings = {**settings, "epochs": 1, "train_size": train_size, "early_stopping": False,
                    "probes": []}
        if tiny and model == "cnn":
            settings["channels"] = [4, 8]
        def train(together: bool, size: int, n_seeds: int):
            config = validate({"seeds": list(range(n_seeds)), "device": device.type,
                               "seeds_together": together,
                               "data": {"validation_size": 1000, "test_size": 1000},
                               "experiments": {experiment: {"base": {**settings, "train_size": size}}}})
            specs = [run.spec(config) for run in expand_runs(config)]
            with tempfile.TemporaryDirectory() as scratch:
                folders = [RunFolder(f"{scratch}/{i}") for i in range(n_seeds)]
                tic = time.perf_counter()
                result = get(model).train(specs, folders, inputs, progress=False)
                return time.perf_counter() - tic, result

        for together in (False, True):   # warm-up: first calls pay one-off set-up costs
            train(together, 64, 2)
        timings, metrics = {}, {}
        for together in (False, True):
            timings[together], metrics[together] = train(together, train_size, seeds)
        diff = max(abs(a[k] - b[k]) for a, b in zip(metrics[False], metrics[True])
                   for k in ("train_loss", "val_loss", "test_loss", "test_acc"))
        rows.append({"model": model, "experiment": experiment, "seeds": seeds,
                     "batch": settings["batch_size"], "train_size": train_size,
                     "sequential_s": timings[False], "together_s": timings[True],
                     "ratio": timings[False] / timings[True], "max_metric_abs_diff": diff})
    return rows


# ------------------------------------------------------------------ slots per GPU
def _slot_worker(device_name: str, seconds: float, tiny: bool, queue) -> None:
    from dlrepro.train.seeding import enable_determinism

    enable_determinism()          # as every DAG job runs
    torch.set_num_threads(1)
    device = torch.device(device_name)
    from dlrepro.config import expand_runs, validate
    settings = expand_runs(validate({"experiments": {"cnn-vs-mlp": {"base": {
        "model": "cnn", "channels": [4, 8] if tiny else [8, 16]}}}}))[0].settings
    step = family_step(settings, device, 64)
    for _ in range(3):
        step()
    sync(device)
    done, tic = 0, time.perf_counter()
    while time.perf_counter() - tic < seconds:
        for _ in range(10):
            step()
        sync(device)
        done += 10
    queue.put(done / (time.perf_counter() - tic))


def slots(device, tiny: bool) -> list[dict]:
    context = mp.get_context("spawn")
    rows, seconds = [], (1.0 if tiny else 6.0)
    for k in ((1, 2) if tiny else (1, 2, 4, 8)):
        queue = context.Queue()
        workers = [context.Process(target=_slot_worker, args=(str(device), seconds, tiny, queue))
                   for _ in range(k)]
        for w in workers:
            w.start()
        rates = [queue.get(timeout=300) for _ in workers]
        for w in workers:
            w.join()
        rows.append({"processes": k, "steps_per_second": sum(rates)})
    for row in rows:
        row["vs_one"] = row["steps_per_second"] / rows[0]["steps_per_second"]
    return rows


# ------------------------------------------------------------------ word2vec
def word2vec(device, tiny: bool, corpus: Path | None, budget_s: float,
             combos: str = "cbow-hierarchical,cbow-negative,skipgram-hierarchical,skipgram-negative",
             batches: str = "32768,4096,default", epochs: int = 2, seeds: str = "0") -> dict:
    """Ours at each batch size and gensim (CPU, workers=1), every combination, each seed: words/s
    and WS353 per seed, and their means (a seed's WS353 is NaN where the run diverged)."""
    from dlrepro.data.text_corpus import read_sentences, synthetic_sentences
    from dlrepro.families import get
    from dlrepro.families.word2vec import _train_gensim, _train_ours

    try:
        import gensim  # noqa: F401
        have_gensim = True
    except ImportError:
        have_gensim = False
    if corpus and corpus.exists():
        sentences, source = read_sentences(corpus), str(corpus.name)
    else:
        sentences, source = [list(s) for s in synthetic_sentences(2000)], "synthetic"
    defaults = {k: v["default"] for k, v in get("word2vec").settings.items() if "default" in v}
    base = {**defaults, "model": "word2vec", "dim": 16 if tiny else 100,
            "min_count": 2 if tiny else 5, "epochs": 1 if tiny else epochs}
    batch_list = [None] if tiny else [None if b == "default" else int(b) for b in batches.split(",")]
    seed_list = [int(s) for s in seeds.split(",")]
    started = time.perf_counter()

    def measured(train, settings) -> dict:
        speeds, scores = [], []
        for seed in seed_list:
            words, vectors, history, n = train(settings, seed)
            speeds.append(n * len(history) / sum(h["epoch_time"] for h in history))
            if have_gensim and not tiny:
                finite = math.isfinite(history[-1].get("loss", 0.0))    # gensim logs no loss
                scores.append(_ws353(words, vectors) if finite else math.nan)
        row = {"seeds": seed_list, "words_per_second": float(np.mean(speeds)),
               "words_per_second_by_seed": speeds}
        if scores:
            row |= {"ws353": float(np.mean(scores)), "ws353_by_seed": scores}
        return row

    rows, gensim_rows = [], []
    for combo in combos.split(","):
        architecture, output = combo.split("-")
        for batch in batch_list:
            row = {"architecture": architecture, "output": output, "batch_words": batch or "default"}
            if time.perf_counter() - started > budget_s:     # the budget cuts what is left
                rows.append(row | {"skipped": "time budget"})
                continue
            settings = {**base, "architecture": architecture, "output": output, "batch_words": batch}
            rows.append(row | measured(lambda s, seed: _train_ours(s, sentences, seed, device), settings))
        if have_gensim:
            row = {"architecture": architecture, "output": output}
            if time.perf_counter() - started > budget_s:
                gensim_rows.append(row | {"skipped": "time budget"})
                continue
            settings = {**base, "architecture": architecture, "output": output}
            gensim_rows.append(row | measured(lambda s, seed: _train_gensim(s, sentences, seed)[:4], settings))
    result = {"corpus": source, "epochs": base["epochs"], "ours": rows}
    if have_gensim:
        result["gensim_cpu_workers1"] = gensim_rows
    return result


def _ws353(words, vectors) -> float:
    from gensim.models import KeyedVectors

    from dlrepro.families.word2vec import evaluate
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, np.asarray(vectors, dtype=np.float32))
    return evaluate(kv)[0]["ws353_spearman"]


# ------------------------------------------------------------------ PSNR / SSIM
def image_metrics(device, tiny: bool) -> list[dict]:
    from dlrepro.metrics import image

    n = 200 if tiny else 10_000
    torch.manual_seed(0)
    a = torch.rand(n, 1, 28, 28)
    b = (a + 0.1 * torch.randn_like(a)).clamp(0, 1)
    rows = []
    for where in dict.fromkeys(["cpu", str(device)]):
        dev = torch.device(where)
        x, y = a.to(dev), b.to(dev)

        def both():
            image.psnr(x, y)
            image.ssim(x, y)
        seconds = timed(both, dev, 1, 2 if tiny else 5)
        rows.append({"device": where, "pairs": n, "pairs_per_second": n / seconds})
    return rows


# ------------------------------------------------------------------ start-up
def startup(device, tiny: bool) -> float:
    """Seconds a training job spends before its first step: interpreter, torch, dlrepro, and the
    first optimizer (torch.optim imports torch._dynamo on first use: 4.4 s of a 12 s job here)."""
    import subprocess

    times = []
    for _ in range(1 if tiny else 3):
        tic = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch, dlrepro.families, dlrepro.train.engine; "
                        "torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)"],
                       check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                           [str(REPO / "src"), os.environ.get("PYTHONPATH", "")])})
        times.append(time.perf_counter() - tic)
    return sorted(times)[len(times) // 2]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"cpu {line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"cpu {platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


# ------------------------------------------------------------------ report
def markdown(result: dict) -> str:
    result = {**result, **{k: result.get(k) or [] for k in
                           ("step_costs", "seeds_together", "slots", "image_metrics")}}
    lines = [f"# GPU check: {result['device_name']} ({result['date']})", "",
             f"`{result['command']}` — torch {result['torch']}, {result['wall_seconds']:.0f} s "
             f"wall time{' (tiny mode)' if result['tiny'] else ''}; a job's start-up "
             f"{result.get('startup_seconds') or float('nan'):.2f} s.", ""]
    lines += ["## Per-step costs (planner; every distinct variant in the JSON)", "",
              "| experiment | families | variants | batch | ms / step (min – max) |",
              "|---|---|---|---|---|"]
    by_experiment: dict[str, list] = {}
    for r in result["step_costs"]:
        by_experiment.setdefault(r["experiment"], []).append(r)
    for experiment, rs in by_experiment.items():
        ms = [1e3 * r["seconds_per_step"] for r in rs]
        batches = sorted({r["batch"] for r in rs})
        lines.append(f"| {experiment} | {', '.join(sorted({r['family'] for r in rs}))} | {len(rs)} | "
                     f"{', '.join(map(str, batches))} | {min(ms):.3f} – {max(ms):.3f} |")
    lines += ["", "## Seeds trained together (one stacked model) vs one after another", "",
              "| model | seeds | batch | train images | one after another, s | together, s | "
              "ratio | largest metric difference |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['seeds']} | {r['batch']} | {r['train_size']} | "
              f"{r['sequential_s']:.2f} | {r['together_s']:.2f} | {r['ratio']:.2f}× | "
              f"{r['max_metric_abs_diff']:.1e} |" for r in result["seeds_together"]]
    lines += ["", "## Processes sharing the device (CNN, batch 64)", "",
              "| processes | steps / s (all) | vs one |", "|---|---|---|"]
    lines += [f"| {r['processes']} | {r['steps_per_second']:.0f} | {r['vs_one']:.2f}× |"
              for r in result["slots"]]
    w2v = result.get("word2vec") or {"corpus": "not run", "epochs": 0, "ours": []}
    seeds = ", ".join(map(str, (w2v["ours"] or [{}])[0].get("seeds", [0])))
    lines += ["", f"## word2vec ({w2v['corpus']}, {w2v['epochs']} epoch(s), seeds {seeds}: means)", "",
              "| ours: combination | batch words | words / s | WS353 |", "|---|---|---|---|"]
    for r in w2v["ours"]:
        if "skipped" in r:
            lines.append(f"| {r['architecture']} + {r['output']} | {r['batch_words']} | skipped | |")
            continue
        ws = f"{r['ws353']:.3f}" if "ws353" in r else "–"
        lines.append(f"| {r['architecture']} + {r['output']} | {r['batch_words']} | "
                     f"{r['words_per_second']:,.0f} | {ws} |")
    if "gensim_cpu_workers1" in w2v:
        lines += ["", "| gensim (CPU, workers=1): combination | words / s | WS353 |", "|---|---|---|"]
        lines += [f"| {r['architecture']} + {r['output']} | skipped | |" if "skipped" in r else
                  f"| {r['architecture']} + {r['output']} | {r['words_per_second']:,.0f} | "
                  f"{r.get('ws353', float('nan')):.3f} |" for r in w2v["gensim_cpu_workers1"]]
    lines += ["", "## Batched PSNR + SSIM", "", "| device | pairs | pairs / s |", "|---|---|---|"]
    lines += [f"| {r['device']} | {r['pairs']} | {r['pairs_per_second']:,.0f} |"
              for r in result["image_metrics"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="minimal sizes: the CI's end-to-end run")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument("--corpus", default=str(REPO / "results/data/corpus.txt"))
    parser.add_argument("--step-configs", default="",
                        help="overlays whose shapes step_costs measures too (e.g. config/full.yaml)")
    parser.add_argument("--word2vec-seconds", type=float, default=180.0,
                        help="time budget of the word2vec section")
    parser.add_argument("--word2vec-combos",
                        default="cbow-hierarchical,cbow-negative,skipgram-hierarchical,skipgram-negative")
    parser.add_argument("--word2vec-batches", default="32768,4096,default",
                        help="centre words per batch ('default' = the model's own)")
    parser.add_argument("--word2vec-epochs", type=int, default=2)
    parser.add_argument("--word2vec-seeds", default="0", help="seeds of each word2vec row, e.g. 0,1,2")
    parser.add_argument("--sections",
                        default="startup_seconds,step_costs,seeds_together,slots,word2vec,image_metrics")
    args = parser.parse_args()

    tic = time.perf_counter()
    device = torch.device(args.device)
    from dlrepro.train.seeding import enable_determinism
    enable_determinism()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    result = {"device": str(device), "device_name": name, "tiny": args.tiny,
              "date": datetime.date.today().isoformat(), "torch": torch.__version__,
              "command": "python benchmarks/gpu_check.py " + " ".join(sys.argv[1:]),
              "cpu_count": os.cpu_count()}
    sections = {"step_costs": lambda: step_costs(device, args.tiny, Path(args.corpus),
                                                  tuple(filter(None, args.step_configs.split(",")))),
                "seeds_together": lambda: seeds_together(device, args.tiny),
                "slots": lambda: slots(device, args.tiny),
                "word2vec": lambda: word2vec(device, args.tiny, Path(args.corpus),
                                             args.word2vec_seconds, args.word2vec_combos,
                                             args.word2vec_batches, args.word2vec_epochs,
                                             args.word2vec_seeds),
                "image_metrics": lambda: image_metrics(device, args.tiny),
                "startup_seconds": lambda: startup(device, args.tiny)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    slug = "tiny" if args.tiny else "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
    stem = out / f"gpu_check_{slug}_{result['date']}"
    failed = []
    for section in args.sections.split(","):
        started = time.perf_counter()
        print(f"[gpu_check] {section} ...", file=sys.stderr, flush=True)
        try:
            result[section] = sections[section]()
        except Exception as err:   # keep the other sections' numbers; say what broke
            import traceback
            result[section] = None
            result.setdefault("errors", {})[section] = traceback.format_exc()[-2000:]
            failed.append(section)
            print(f"[gpu_check] {section} FAILED: {err!r}", file=sys.stderr, flush=True)
        result.setdefault("section_seconds", {})[section] = time.perf_counter() - started
        print(f"[gpu_check] {section}: {time.perf_counter() - started:.1f} s", file=sys.stderr,
              flush=True)
        result["wall_seconds"] = time.perf_counter() - tic
        # written after every section: a run cut short still leaves what it measured
        stem.with_suffix(".json").write_text(json.dumps(result, indent=2, default=float) + "\n")
        stem.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    if failed:
        print(f"[gpu_check] failed sections: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
