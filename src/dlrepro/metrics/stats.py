"""Statistics over seeds: mean with a Student-t 95% confidence interval, paired differences."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def mean_ci(values, confidence: float = CONFIDENCE) -> dict:
    """n, mean, std and the t-interval of the mean; NaNs (diverged runs' losses) are dropped."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return {"n": 0, "mean": math.nan, "std": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    mean = float(x.mean())
    if n == 1:
        return {"n": 1, "mean": mean, "std": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n))
    return {"n": n, "mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half}


def paired_difference(a, b, confidence: float = CONFIDENCE) -> dict:
    """Mean of a - b over the seeds both have, with its CI (and the paired t-test p-value)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    diff = a[keep] - b[keep]
    result = mean_ci(diff, confidence)
    if result["n"] >= 2 and result["std"] > 0:
        result["p_value"] = float(stats.ttest_rel(a[keep], b[keep]).pvalue)
    else:
        result["p_value"] = math.nan
    return result


def auroc(negatives, positives) -> float:
    """Area under the ROC curve of a score meant to be higher for `positives`: the probability that
    a random positive outscores a random negative (ties count half), i.e. the Mann-Whitney U
    statistic over n_pos·n_neg."""
    negatives, positives = np.asarray(negatives, dtype=float), np.asarray(positives, dtype=float)
    u = stats.mannwhitneyu(positives, negatives, alternative="two-sided").statistic
    return float(u / (len(positives) * len(negatives)))
