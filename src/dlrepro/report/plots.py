"""Figures for the report, drawn from the tidy tables; each function returns PNG bytes.

Bands and error bars are 95% confidence intervals of the mean over seeds.
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dlrepro.experiments.catalog import TUNE_BY  # noqa: E402
from dlrepro.metrics.stats import mean_ci  # noqa: E402

DPI = 110


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def _colors(n: int):
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def tuned_variants(runs: pd.DataFrame, tune_axis: str = "lr") -> list[str]:
    """For each setting of the other axes, the variant whose learning rate is best on validation."""
    if f"axis.{tune_axis}" not in runs:
        return list(dict.fromkeys(runs["variant"]))
    # Only this experiment's axes: the runs table has a column for every experiment's axes.
    others = [c for c in runs.columns if c.startswith("axis.") and c != f"axis.{tune_axis}"
              and runs[c].notna().all()]
    score = runs.assign(score=runs[TUNE_BY].fillna(0.0)).groupby(
        [*others, "variant"], sort=False)["score"].mean().reset_index()
    if not others:
        return [score.loc[score["score"].idxmax(), "variant"]]
    best = score.loc[score.groupby(others, sort=False)["score"].idxmax()]
    return list(best["variant"])


def _band(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    rows = []
    for epoch, group in frame.groupby("epoch"):
        stats = mean_ci(group[y])
        rows.append({"x": group[x].mean(), "mean": stats["mean"],
                     "low": stats["ci_low"], "high": stats["ci_high"]})
    return pd.DataFrame(rows)


def curves(history: pd.DataFrame, runs: pd.DataFrame, y: str, x: str = "epoch",
           tuned: bool = False, also: str | None = None, logx: bool = False) -> bytes:
    variants = tuned_variants(runs) if tuned else list(dict.fromkeys(runs["variant"]))
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for color, variant in zip(_colors(len(variants)), variants):
        frame = history[history["variant"] == variant]
        for column, style in ((y, "-"), (also, "--")):
            if column is None or column not in frame:
                continue
            band = _band(frame, x, column).dropna(subset=["mean"])
            label = variant if column == y else None
            ax.plot(band["x"], band["mean"], style, color=color, label=label, lw=1.6)
            ax.fill_between(band["x"], band["low"], band["high"], color=color, alpha=0.15, lw=0)
    ax.set_xlabel({"epoch": "epoch", "elapsed": "wall-clock seconds"}.get(x, x))
    ax.set_ylabel(y if also is None else f"{y} (solid), {also} (dashed)")
    if logx:
        ax.set_xscale("symlog", linthresh=0.1)
    if y.endswith("loss") and (history[y].dropna() > 0).all():
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2 if len(variants) > 6 else 1, loc="best")
    title = f"{y} vs {x}" + (" (each at its best learning rate)" if tuned else "")
    ax.set_title(title, fontsize=10)
    return _png(fig)


def bars(runs: pd.DataFrame, metric: str) -> bytes:
    variants = list(dict.fromkeys(runs["variant"]))
    stats = [mean_ci(runs.loc[runs["variant"] == v, metric]) for v in variants]
    means = np.array([s["mean"] for s in stats])
    errors = np.array([[s["mean"] - s["ci_low"], s["ci_high"] - s["mean"]] for s in stats]).T
    fig, ax = plt.subplots(figsize=(7.5, 0.5 + 0.38 * len(variants)))
    ax.barh(range(len(variants)), means, xerr=np.nan_to_num(errors), color=_colors(len(variants)),
            capsize=3)
    for seed_values, i in ((runs.loc[runs["variant"] == v, metric], i) for i, v in enumerate(variants)):
        ax.plot(seed_values, [i] * len(seed_values), "k.", ms=4)
    ax.set_yticks(range(len(variants)), variants, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric} (bar: mean, whisker: 95% CI, dots: seeds)")
    finite = means[np.isfinite(means)]
    if len(finite) and metric.endswith("acc"):
        ax.set_xlim(max(0.0, finite.min() - 0.1), min(1.0, finite.max() + 0.05))
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def lr_sensitivity(runs: pd.DataFrame, metric: str, series: str) -> bytes:
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    values = list(dict.fromkeys(runs[f"axis.{series}"]))
    for color, value in zip(_colors(len(values)), values):
        subset = runs[runs[f"axis.{series}"] == value]
        rows = []
        for lr, group in subset.groupby("axis.lr"):
            stats = mean_ci(group[metric])
            rows.append((float(lr), stats["mean"], stats["ci_low"], stats["ci_high"],
                         int((group["status"] == "diverged").sum())))
        rows.sort()
        lrs, mean, low, high, diverged = map(np.array, zip(*rows))
        ax.plot(lrs, mean, "o-", color=color, label=f"{series}={value}")
        ax.fill_between(lrs, low, high, color=color, alpha=0.15, lw=0)
        for lr, m, d in zip(lrs, mean, diverged):
            if d:
                ax.annotate("×", (lr, m), color=color, fontsize=12, ha="center", va="center")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (× = some seeds diverged)")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"learning-rate sensitivity: {metric}", fontsize=10)
    return _png(fig)


def layer_profile(history: pd.DataFrame, runs: pd.DataFrame, prefix: str, epoch="last",
                  log: bool = True, ylabel: str = "") -> bytes:
    columns = sorted((c for c in history.columns if c.startswith(prefix)),
                     key=lambda c: int(c.split("/")[1]))
    variants = list(dict.fromkeys(runs["variant"]))
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for color, variant in zip(_colors(len(variants)), variants):
        frame = history[history["variant"] == variant].dropna(subset=columns)
        if frame.empty:
            continue
        if epoch == "last":
            frame = frame.loc[frame.groupby("seed")["epoch"].idxmax()]
        else:
            frame = frame[frame["epoch"] == epoch]
        means = frame[columns].mean()
        ax.plot(range(1, len(columns) + 1), means.values, "o-", color=color, label=variant, ms=3)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel(ylabel or prefix.rstrip("/"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2 if len(variants) > 6 else 1)
    return _png(fig)


def trajectories(history: pd.DataFrame, runs: pd.DataFrame) -> bytes:
    import torch

    from dlrepro.experiments.landscape import surface_fn

    surfaces = list(dict.fromkeys(runs["axis.surface"]))
    optimizers = list(dict.fromkeys(runs["axis.optimizer"]))
    fig, axes = plt.subplots(1, len(surfaces), figsize=(6 * len(surfaces), 5), squeeze=False)
    seed = runs["seed"].min()
    for ax, surface in zip(axes[0], surfaces):
        axis = torch.linspace(-6, 6, 300, dtype=torch.float64)
        xx, yy = torch.meshgrid(axis, axis, indexing="xy")
        zz = surface_fn(surface)(torch.stack([xx, yy], dim=-1))
        # Levels at quantiles of f: both the steep ravine walls and the flat plateau show shape.
        levels = np.unique(np.quantile(zz.numpy(), np.linspace(0, 1, 25)))
        ax.contourf(xx, yy, zz, levels=levels, cmap="Greys_r", alpha=0.55)
        for color, optimizer in zip(_colors(len(optimizers)), optimizers):
            variant = runs[(runs["axis.surface"] == surface) &
                           (runs["axis.optimizer"] == optimizer)]["variant"].iloc[0]
            frame = history[(history["variant"] == variant) & (history["seed"] == seed)]
            for start, path in frame.groupby("start"):
                ax.plot(path["x"], path["y"], "-", color=color, lw=1.4,
                        label=optimizer if start == 0 else None)
                ax.plot(path["x"].iloc[0], path["y"].iloc[0], "o", color=color, ms=4)
        ax.set_title(f"{surface} (seed {seed}; dots = starts)", fontsize=10)
        ax.set_xlim(-6, 6)
        ax.set_ylim(-6, 6)
        ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


PLOTTERS = {"curves": curves, "bars": bars, "lr_sensitivity": lr_sensitivity,
            "layer_profile": layer_profile, "trajectories": trajectories}


def draw(kind: str, options: dict, history: pd.DataFrame, runs: pd.DataFrame) -> bytes:
    if kind in ("bars", "lr_sensitivity"):
        return PLOTTERS[kind](runs, **options)
    return PLOTTERS[kind](history, runs, **options)
