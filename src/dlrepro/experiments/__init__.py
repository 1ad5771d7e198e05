"""The experiment catalogue: one module per experiment in this package, each declaring
`EXPERIMENT = Experiment(...)`: the claim of the notes, the setting that tests it, the checks
that decide the verdict (dlrepro.analysis.verdict), its figures and its table's metrics.

The experiment ids are listed here and nowhere else: the config schema's list of experiments,
the README's tables and the tests take them from `EXPERIMENTS`. The runs of an experiment come
from the config block of the same id (config/config.yaml).

A check compares one metric between two selections of variants (paired by seed; the second may
come from another experiment), two metrics of the same runs, or one selection against a
threshold. A selection names axis values; if several variants match (for example every learning
rate of one optimizer), the one with the best mean validation accuracy is used: the learning
rate is tuned on validation data, never on test data.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field


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
    relative: bool = False         # compare a / b − 1 (paired by seed) instead of a − b
    # {metric: floor} that both compared selections' means must exceed, or the outcome is "did
    # not learn": for a baseline that could win or lose only by never training
    learned: dict | None = None


@dataclass(frozen=True)
class Published:
    """A published number beside ours: `value` (or a (low, high) range over the source's rows)
    of `metric` for the setting `what`, shown next to our variant `ours` (a selection, as in
    Check). `measured`: instead of a printed number, a reference implementation's runs in the
    same experiment (gensim on our corpus). `comparable`: when ours is comparable with it.
    `setting`: the published setting in our settings' terms; the report then says whether the
    run it shows used it, and where it differs (the default profile's rows do)."""
    what: str
    metric: str
    ours: dict
    source: str
    value: float | tuple[float, float] | None = None
    measured: dict | None = None
    comparable: str = "full profile"
    setting: dict | None = None


@dataclass(frozen=True)
class Plot:
    kind: str                      # a figure of dlrepro.report.plots (curves, bars, ...)
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    notes: str                     # where in the study notes the claim is made
    claim: str
    setting: str
    checks: list[Check]
    plots: list[Plot]
    table_metrics: list[str]       # the columns of its summary table in the report
    deterministic: bool = False    # one run is the whole answer (no seeds to average)
    images: bool = False           # show each variant's image figures (from its outputs.pt)
    extra_table: tuple[str, str] | None = None   # (per-run table name, heading) shown as is
    extra_table_pivot: tuple[str, str, str] | None = None   # (row key, order, value): joined
    position: float = 0            # order in the report (ties: by id)
    see_also: tuple[str, ...] = ()  # related experiments, linked from this one's section
    literature: tuple[Published, ...] = ()   # published numbers for a setting like ours


def _discover() -> list[Experiment]:
    found = []
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        experiment = getattr(module, "EXPERIMENT", None)
        if experiment is None:
            continue
        if experiment.id.replace("-", "_") != module_info.name:
            raise RuntimeError(f"experiment '{experiment.id}' must live in "
                               f"experiments/{experiment.id.replace('-', '_')}.py")
        found.append(experiment)
    return sorted(found, key=lambda e: (e.position, e.id))


EXPERIMENTS: list[Experiment] = _discover()
BY_ID: dict[str, Experiment] = {e.id: e for e in EXPERIMENTS}
