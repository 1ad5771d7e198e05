"""The family registry: every model family of the project, one module each in this package.

A family module declares `FAMILY = Family(...)`, which says everything the rest of the project
needs to know about it; nothing outside the family's module names the family:

  name        the `model:` value of a config's settings
  kind        "classifier", "generative" or "density": trained by the one engine
              (dlrepro.train.engine) with that kind's steps and the family's `build`;
              "sequence": trained by the engine with the family's own `steps` (the Transformer);
              "custom": its own `run`, with the reason in `outside_engine`
  outside_engine  custom: why it does not train through the engine (a test holds every
              family to it: only a custom family, with a reason, has a loop of its own)
  cpu_only    why it runs on the CPU whatever the config's device says (empty: it runs on the
              resolved device); run.json records the device that really ran either way
  data        what its training job reads: "fashion-mnist", "binarised" (binarised MNIST and
              Fashion-MNIST), "corpus" or None
  settings    JSON-schema properties of its settings, with defaults; the config validator
              checks each run's settings against them and names the family and key on error
  rules       JSON-schema rules between settings (e.g. if/then), checked with them
  scored      the scoring stage rates its outputs.pt (PSNR, SSIM, LPIPS, Fréchet distance)
  figures     it leaves figure data in outputs.pt for the report without being scored
  build       settings -> nn.Module (classifier: logits; generative: see train/generative.py)
  steps       sequence: (family, spec, inputs) -> the engine's steps for one run
  run         custom: (spec, RunFolder, Inputs) -> metrics
  derived_metrics  generative: history frame -> extra metrics read off the curves
  plan_work   the planner's count of a run's work, (settings, data config) -> plan.Work
              (optimisation steps, batch, examples evaluated); the seconds come from the step
              costs measured for that shape (benchmarks/gpu_check.py); default: an epoch loop
  step_probe  custom families priced in steps: (settings, device, corpus) -> a closure doing one
              optimisation step, which benchmarks/gpu_check.py times (the engine's kinds need
              none: the check builds their steps itself)
  plan_cost   a family priced in other units (word2vec: words at the measured words/s),
              (settings, costs, corpus_words) -> (steps, seconds, measured)
  fixed_seconds    custom families priced neither way: seconds per run for the planner

Adding a family: one module here with its FAMILY (see README, "Add a family").
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

KINDS = ("classifier", "generative", "density", "sequence", "custom")
DATA = ("fashion-mnist", "binarised", "corpus", None)


@dataclass(frozen=True, eq=False)   # one object per family: compared and hashed by identity
class Family:
    name: str
    kind: str
    data: str | None
    settings: dict
    description: str = ""
    rules: list = field(default_factory=list)
    scored: bool = False
    figures: bool = False
    build: Callable | None = None
    steps: Callable | None = None
    run: Callable | None = None
    outside_engine: str = ""
    cpu_only: str = ""
    derived_metrics: Callable | None = None
    plan_work: Callable | None = None
    step_probe: Callable | None = None
    plan_cost: Callable | None = None
    fixed_seconds: float = 1.0
    module: str = field(default="", compare=False)

    def __post_init__(self):
        # raised, not asserted: a declaration error must stop the registry under python -O too
        if self.kind not in KINDS:
            raise ValueError(f"family {self.name}: kind must be one of {KINDS}, not {self.kind!r}")
        if self.data not in DATA:
            raise ValueError(f"family {self.name}: data must be one of {DATA}, not {self.data!r}")
        if (self.run is not None) != (self.kind == "custom"):
            raise ValueError(f"family {self.name}: a custom family has run(), a trained one has build()")
        if (self.steps is not None) != (self.kind == "sequence"):
            raise ValueError(f"family {self.name}: a sequence family has steps, no other has")
        if (self.kind == "custom") != bool(self.outside_engine):
            raise ValueError(f"family {self.name}: a custom family says why it trains outside the "
                             "engine (outside_engine=...), and only a custom family does")

    def device_for(self, spec: dict):
        """(torch device, run.json's description) of a custom run: the config's device resolved
        as the engine resolves it, or the CPU for a family that says why it is CPU only."""
        import torch

        from dlrepro.provenance import device_description
        from dlrepro.train.seeding import resolve_device

        if self.cpu_only:
            device = torch.device("cpu")
            return device, f"{device_description(device)} (CPU only: {self.cpu_only})"
        device = resolve_device(spec["device"])
        return device, device_description(device)

    @property
    def reads_fashion_mnist(self) -> bool:
        return self.data == "fashion-mnist"

    @property
    def trains_seeds_together(self) -> bool:
        """Its steps train a variant's seeds as one stacked model (train/stack.py). Generative
        families draw noise (reparameterisation, latent codes, corruption) from the global
        stream inside their models' code: until each seed's generator is threaded through
        their steps, they train seed after seed."""
        return self.kind == "classifier"

    @property
    def leaves_outputs(self) -> bool:
        """It writes outputs.pt (what scoring and the report's image figures read)."""
        return self.scored or self.figures

    def settings_schema(self) -> dict:
        """The JSON schema of this family's settings (unknown keys rejected)."""
        return {"description": f"settings of model family '{self.name}' ({self.module}): "
                               f"allowed keys are {', '.join(sorted(self.settings))}",
                "type": "object", "additionalProperties": False,
                "properties": {"model": {"const": self.name}, **self.settings},
                **({"allOf": self.rules} if self.rules else {})}

    def train(self, specs: list[dict], folders: list, inputs, progress: bool = True,
              slots_per_gpu: int = 1, keep_checkpoints: bool = False) -> list[dict]:
        """Train runs (the seeds of one or more variants) into their folders (RunFolders);
        return their metrics. Where the specs' `seeds_together` says so, a variant's seeds train
        as one stacked model."""
        if self.kind == "custom":
            return [self.run(spec, folder, inputs, progress=progress) for spec, folder in zip(specs, folders)]
        from dlrepro.train import engine

        groups = []
        for variant_specs, variant_folders in group_runs(specs, folders, _variant):
            groups += ([(variant_specs, variant_folders)] if self.trains_together(variant_specs)
                       else [([s], [f]) for s, f in zip(variant_specs, variant_folders)])
        results = []
        for group_specs, group_folders in groups:
            results += engine.train(group_specs, group_folders,
                                    self._steps(group_specs, inputs.load(self.data)),
                                    progress=progress, slots_per_gpu=slots_per_gpu,
                                    keep_checkpoints=keep_checkpoints)
        return results

    def trains_together(self, specs: list[dict]) -> bool:
        """These runs (one variant's seeds) would train as one stacked model here."""
        return (self.trains_seeds_together and _seeds_together(specs[0])
                and len({_variant(spec) for spec in specs}) == 1)

    def _steps(self, specs: list[dict], cache: dict):
        from dlrepro.train import engine

        if self.kind == "classifier":
            from dlrepro.train.classifier import ClassifierSteps
            return ClassifierSteps(self, specs, cache)
        if self.kind == "density":
            from dlrepro.train.density import DensitySteps
            return engine.OneRun(DensitySteps(self, specs[0], cache))
        if self.kind == "sequence":
            return engine.OneRun(self.steps(self, specs[0], cache))
        from dlrepro.train.generative import GenerativeSteps
        return engine.OneRun(GenerativeSteps(self, specs[0], cache))


def _seeds_together(spec: dict) -> bool:
    """The config's seeds_together: auto = on a GPU (where launches, not arithmetic, bound
    small models); a CPU measured no faster (benchmarks/gpu_check.py, seeds_together)."""
    from dlrepro.train.seeding import resolve_device

    value = spec.get("seeds_together", "auto")
    return value is True or (value == "auto" and resolve_device(spec["device"]).type == "cuda")


def group_runs(specs: list[dict], folders: list, key) -> list[tuple[list, list]]:
    """(specs, folders) of the runs with the same key(spec), in the order the keys first appear."""
    groups: dict[str, tuple[list, list]] = {}
    for spec, folder in zip(specs, folders):
        group = groups.setdefault(key(spec), ([], []))
        group[0].append(spec)
        group[1].append(folder)
    return list(groups.values())


def _variant(spec: dict) -> str:
    """Seeds train together only within one variant of one experiment."""
    return f"{spec['experiment']}/{spec['variant']}"


def _discover() -> dict[str, Family]:
    families = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        family = getattr(module, "FAMILY", None)
        if family is None:          # helper modules (shared layers, settings fragments)
            continue
        if family.name in families:
            raise RuntimeError(f"model family '{family.name}' is declared twice "
                               f"({families[family.name].module} and {module.__name__})")
        object.__setattr__(family, "module", module.__name__)
        families[family.name] = family
    return families


FAMILIES: dict[str, Family] = _discover()


def get(name: str) -> Family:
    if name not in FAMILIES:
        from dlrepro.errors import ConfigError
        raise ConfigError(f"unknown model family '{name}'; known: {', '.join(FAMILIES)}")
    return FAMILIES[name]
