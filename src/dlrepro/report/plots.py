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

from dlrepro.analysis.verdict import TUNE_BY  # noqa: E402
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
    """Mean and 95% CI over seeds at each epoch (at each x for curves that have no epochs)."""
    rows = []
    key = "epoch" if "epoch" in frame and frame["epoch"].notna().any() else x
    for _, group in frame.groupby(key):
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
            if column is None or column not in frame or frame[column].isna().all():
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


def bars(runs: pd.DataFrame, metric: str) -> bytes | None:
    if metric not in runs or runs[metric].isna().all():
        return None   # nothing measured (e.g. LPIPS unavailable): no empty figure
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
    time = "epoch" if "epoch" in history and history["epoch"].notna().any() else "step"
    variants = list(dict.fromkeys(runs["variant"]))
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for color, variant in zip(_colors(len(variants)), variants):
        frame = history[history["variant"] == variant].dropna(subset=columns)
        if frame.empty:
            continue
        if epoch == "last":
            frame = frame.loc[frame.groupby("seed")[time].idxmax()]
        else:
            frame = frame[frame[time] == epoch]
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

    from dlrepro.families.surface import surface_fn

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


OUTCOME_COLORS = {"supports": "#2e7d32", "contradicts": "#c62828"}


def check_dots(checks: pd.DataFrame) -> bytes | None:
    """Each check's per-seed values (paired differences, or the metric against its threshold)
    as dots, its raw 95% CI (thin) and Holm-corrected CI (thick), and the reference line: one
    bad seed shows at once. One row per check with at least two seeds, each on its own scale."""
    import json

    rows = [r for r in checks.itertuples() if r.n >= 2]
    if not rows:
        return None
    fig, axes = plt.subplots(len(rows), 1, figsize=(7.5, 0.62 * len(rows) + 0.5), squeeze=False)
    for ax, r in zip(axes[:, 0], rows):
        values = np.asarray(json.loads(r.differences), dtype=float)
        color = OUTCOME_COLORS.get(r.outcome, "#b8860b")
        ax.axvline(r.threshold, color="#888", lw=1, ls="--")
        ax.plot([r.ci_low, r.ci_high], [0, 0], color=color, lw=1.2)
        ax.plot([r.ci_low_holm, r.ci_high_holm], [0, 0], color=color, lw=4, alpha=0.45,
                solid_capstyle="butt")
        jitter = np.linspace(-0.25, 0.25, len(values)) if len(values) > 1 else np.zeros(1)
        ax.scatter(values, jitter, s=16, color="#222", zorder=3)
        ax.plot([r.mean], [0], marker="|", ms=14, color=color, mew=2)
        ax.set_yticks([])
        ax.set_ylim(-0.6, 0.6)
        ax.tick_params(axis="x", labelsize=7)
        label = r.text if len(r.text) <= 70 else r.text[:67] + "…"
        ax.set_title(f"{r.check + 1}. {label} ({r.outcome})", fontsize=7.5, loc="left", pad=2)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    return _png(fig)


def image_rows(rows: dict, size: float = 0.75) -> bytes:
    """Rows of 28x28 grey images (tensors N x 1 x H x W in [0, 1]), one labelled row per entry."""
    ncol = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(len(rows), ncol, figsize=(1.6 + size * ncol, size * len(rows) + 0.2),
                             squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(ncol):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.axis("off") if c >= len(images) else ax.imshow(
                np.asarray(images[c]).squeeze(), cmap="gray", vmin=0, vmax=1)
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[r][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(wspace=0.04, hspace=0.08)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def attention_maps(maps: dict) -> bytes:
    """One row per attention, one column per head: the weights of each query (row) over the keys
    (columns) for one input. `maps`: {name: {"weights": heads x queries x keys, "keys": labels,
    "queries": labels}}."""
    heads = max(len(m["weights"]) for m in maps.values())
    names = list(maps)
    fig, axes = plt.subplots(len(names), heads, figsize=(1.9 * heads + 0.6, 1.9 * len(names)),
                             squeeze=False)
    for r, name in enumerate(names):
        weights, keys, queries = maps[name]["weights"], maps[name]["keys"], maps[name]["queries"]
        for h in range(heads):
            ax = axes[r][h]
            if h >= len(weights):
                ax.axis("off")
                continue
            ax.imshow(np.asarray(weights[h]), cmap="viridis", vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(range(len(keys)), keys, fontsize=5)
            ax.set_yticks(range(len(queries)), queries, fontsize=5)
            ax.set_title(f"{name.replace('/', ' ')}, head {h + 1}", fontsize=7)
    fig.tight_layout()
    return _png(fig)


def latent_scatter(codes, labels, background=None) -> bytes:
    """The 2-D latent codes of test images, coloured by class (over samples of the prior the codes
    were pushed towards, in grey, when given)."""
    from dlrepro.data.fashion_mnist import CLASSES

    codes, labels = np.asarray(codes), np.asarray(labels)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    if background is not None:
        background = np.asarray(background)
        ax.scatter(background[:, 0], background[:, 1], s=4, color="0.8", label="prior samples")
    for color, c in zip(_colors(10), range(10)):
        points = codes[labels == c]
        ax.scatter(points[:, 0], points[:, 1], s=5, color=color, label=CLASSES[c])
    ax.set_xlabel("z₁")
    ax.set_ylabel("z₂")
    ax.legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1, 0.5))
    ax.set_title("latent codes of test images", fontsize=10)
    return _png(fig)


def distortion_curves(image_scores: pd.DataFrame, labels: dict | None = None,
                      reversed_axes: tuple = ()) -> bytes:
    """PSNR, SSIM and LPIPS against distortion strength, one row per distortion (mean over seeds,
    band = 95% CI); below, PSNR against LPIPS for every set: where the metrics disagree. The
    experiment names each distortion's axis (`labels`) and those whose strength falls as the
    parameter rises (`reversed_axes`)."""
    frame = image_scores[image_scores["kind"] == "pairs"].copy()
    parts = frame["set"].str.split("=", n=1, expand=True)
    frame["distortion"], frame["strength"] = parts[0], parts[1].astype(float)
    kinds = list(dict.fromkeys(frame["distortion"]))
    metrics = [m for m in ("psnr", "ssim", "lpips") if frame[m].notna().any()]
    scatter = "lpips" in metrics
    fig = plt.figure(figsize=(3.2 * len(metrics), 2.3 * len(kinds) + 3.6 * scatter))
    grid = fig.add_gridspec(len(kinds) + scatter, len(metrics),
                            height_ratios=[1] * len(kinds) + [1.6] * scatter)
    labels = labels or {}
    colors = dict(zip(kinds, _colors(len(kinds))))
    for r, kind in enumerate(kinds):
        subset = frame[frame["distortion"] == kind]
        for c, metric in enumerate(metrics):
            rows = [(s, mean_ci(g[metric])) for s, g in subset.groupby("strength")]
            x = [s for s, _ in rows]
            ax = fig.add_subplot(grid[r, c])
            ax.plot(x, [st["mean"] for _, st in rows], "o-", color=colors[kind])
            ax.fill_between(x, [st["ci_low"] for _, st in rows], [st["ci_high"] for _, st in rows],
                            color=colors[kind], alpha=0.2, lw=0)
            if kind in reversed_axes:
                ax.invert_xaxis()  # stronger distortion to the right, as for the others
            ax.set_xlabel(labels.get(kind, kind), fontsize=8)
            ax.set_ylabel(f"{metric} ({'lower' if metric == 'lpips' else 'higher'} = closer)",
                          fontsize=8)
            ax.grid(alpha=0.3)
    if scatter:
        ax = fig.add_subplot(grid[-1, :])
        means = frame.groupby(["distortion", "strength"])[["psnr", "lpips"]].mean().reset_index()
        for kind in kinds:
            sub = means[means["distortion"] == kind]
            ax.scatter(sub["psnr"], sub["lpips"], color=colors[kind], label=kind, s=30)
            for row in sub.itertuples():
                ax.annotate(f"{row.strength:g}", (row.psnr, row.lpips), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel("PSNR (dB)")
        ax.set_ylabel("LPIPS")
        ax.set_title("every set: similar PSNR with different LPIPS is where the metrics disagree",
                     fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _png(fig)


def lpips_sizes(image_scores: pd.DataFrame) -> bytes | None:
    """LPIPS of every distortion set at the report's input size (64) against the other (32):
    does the ranking of the distortions depend on the size the 28 x 28 images are upsampled to?"""
    from scipy.stats import spearmanr

    frame = image_scores[image_scores["kind"] == "pairs"]
    other = [c for c in frame.columns if c.startswith("lpips@")]
    if not other or frame["lpips"].isna().all():
        return None
    other = other[0]
    means = frame.groupby("set", sort=False)[["lpips", other]].mean().reset_index()
    means["distortion"] = means["set"].str.split("=").str[0]
    rho = spearmanr(means["lpips"], means[other]).statistic
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    kinds = list(dict.fromkeys(means["distortion"]))
    for color, kind in zip(_colors(len(kinds)), kinds):
        sub = means[means["distortion"] == kind]
        ax.scatter(sub["lpips"], sub[other], color=color, label=kind, s=30)
        for name, x, y in zip(sub["set"], sub["lpips"], sub[other]):
            ax.annotate(name.split("=")[1], (x, y), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    ax.set_xlabel("LPIPS at 64 × 64 (used in the report)")
    ax.set_ylabel(f"LPIPS at {other[6:]} × {other[6:]}")
    ax.set_title(f"ranking of the {len(means)} distortion sets: Spearman ρ = {rho:.3f}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def quality_vs_time(runs: pd.DataFrame, quality: str, speed: str, reference: str = "") -> bytes:
    """Each variant's quality against its training speed (mean ± 95% CI over seeds); variants
    whose name holds `reference` (an axis value, 'axis=value') are drawn as squares."""
    variants = list(dict.fromkeys(runs["variant"]))
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for color, variant in zip(_colors(len(variants)), variants):
        group = runs[runs["variant"] == variant]
        q, v = mean_ci(group[quality]), mean_ci(group[speed])
        marker = "s" if reference and reference in variant else "o"
        ax.errorbar(v["mean"], q["mean"], xerr=[[v["mean"] - v["ci_low"]], [v["ci_high"] - v["mean"]]]
                    if np.isfinite(v["ci_low"]) else None,
                    yerr=[[q["mean"] - q["ci_low"]], [q["ci_high"] - q["mean"]]]
                    if np.isfinite(q["ci_low"]) else None,
                    fmt=marker, color=color, label=variant, capsize=3)
    ax.set_xscale("log")
    ax.set_xlabel(f"{speed.replace('_', ' ')} (log scale{f'; squares = {reference}' if reference else ''})")
    ax.set_ylabel(quality)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    ax.set_title("quality against training speed", fontsize=10)
    return _png(fig)


PLOTTERS = {"curves": curves, "bars": bars, "lr_sensitivity": lr_sensitivity,
            "layer_profile": layer_profile, "trajectories": trajectories,
            "quality_vs_time": quality_vs_time}


def histograms(panels: dict, xlabel: str) -> bytes:
    """One panel per score, the sets overlaid as step histograms on shared bins."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.4), squeeze=False)
    for ax, (title, sets) in zip(axes[0], panels.items()):
        values = {label: np.asarray(v, dtype=float) for label, v in sets.items()}
        pooled = np.concatenate(list(values.values()))
        # the range of 99% of the scores: a long tail would squeeze the rest into a few bins
        bins = np.linspace(pooled.min(), np.percentile(pooled, 99), 61)
        for color, (label, v) in zip(_colors(len(values)), values.items()):
            ax.hist(np.minimum(v, bins[-1]), bins=bins, histtype="step", lw=1.5, color=color,
                    density=True, label=label)
        ax.set_title(f"{title} (top 1% piled in the last bin)", fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def lines(x: list, series: dict, xlabel: str, ylabel: str, logx: bool = False) -> bytes:
    """A few named series over one x (markers: the measured points)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for color, (label, y) in zip(_colors(len(series)), series.items()):
        ax.plot(x, y, "o-", color=color, label=label)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def run_figure(figure: dict) -> bytes | None:
    """A figure whose data a run left in its outputs.pt (see train/generative.py)."""
    if figure["kind"] == "image_rows":
        return image_rows(figure["rows"], size=figure.get("size", 0.75))
    if figure["kind"] == "latent_scatter":
        return latent_scatter(figure["codes"], figure["labels"], figure.get("background"))
    if figure["kind"] == "attention_maps":
        return attention_maps(figure["maps"])
    if figure["kind"] == "histograms":
        return histograms(figure["panels"], figure["xlabel"])
    if figure["kind"] == "lines":
        return lines(figure["x"], figure["series"], figure["xlabel"], figure["ylabel"],
                     figure.get("logx", False))
    return None


def draw(kind: str, options: dict, history: pd.DataFrame, runs: pd.DataFrame,
         image_scores: pd.DataFrame | None = None) -> bytes | None:
    """PNG bytes, or None when the figure would be empty."""
    if kind == "distortion_curves":
        return distortion_curves(image_scores, **options)
    if kind == "lpips_sizes":
        return lpips_sizes(image_scores, **options)
    if kind in ("bars", "lr_sensitivity", "quality_vs_time"):
        return PLOTTERS[kind](runs, **options)
    return PLOTTERS[kind](history, runs, **options)
