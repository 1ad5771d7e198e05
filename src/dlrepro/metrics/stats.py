"""Statistics over seeds: mean with a Student-t 95% confidence interval, paired differences, the
power of a check and Holm's correction.

The distributions are scipy's (t, non-central t, normal) and Holm's correction is statsmodels'.
Two thin layers stay here on purpose: the t-interval is mean ± t·s/√n in that order of
operations (scipy.stats.t.interval rounds the last bit differently, which would move every
stored interval), and the power guards the far tail where scipy's non-central t returns NaN
(statsmodels' TTestPower passes that NaN on, and its solve_power stops at ~1e-7 in power)."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

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


# -- power and multiplicity (how sure a verdict can be) ---------------------------------------
POWER = 0.8            # the conventional power at which a "minimum detectable effect" is quoted


def t_test_p(result: dict, reference: float = 0.0) -> float:
    """Two-sided p-value of the one-sample (or paired) t-test of mean_ci's result against
    `reference`; with no spread, 0 when the mean differs from it and 1 when it does not."""
    n, mean, std = result["n"], result["mean"], result.get("std", math.nan)
    if n < 2 or not math.isfinite(mean) or not math.isfinite(std):
        return math.nan
    if std == 0:
        return 0.0 if mean != reference else 1.0
    t = (mean - reference) / (std / math.sqrt(n))
    return float(2 * stats.t.sf(abs(t), n - 1))


def detection_power(effect: float, std: float, n, alpha: float = 1 - CONFIDENCE,
                    known_sd: bool = False):
    """Probability that the two-sided level-alpha t-test over n paired differences (or, with
    `known_sd`, the z-test) rejects when the true mean difference is `effect` and their standard
    deviation `std`: the test statistic is non-central t with n - 1 degrees of freedom and
    non-centrality effect * sqrt(n) / std. `n` may be an array."""
    n = np.asarray(n, dtype=float)
    shift = abs(effect) * np.sqrt(n) / std
    if known_sd:
        z = stats.norm.ppf(1 - alpha / 2)
        return stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift)
    df = n - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    # the far tail (rejecting on the wrong side) is negligible and scipy's cdf NaNs out there
    wrong_side = np.nan_to_num(stats.nct.cdf(-crit, df, shift), nan=0.0)
    return stats.nct.sf(crit, df, shift) + wrong_side


def minimum_detectable_effect(std: float, n: int, alpha: float = 1 - CONFIDENCE,
                              power: float = POWER, known_sd: bool = False) -> float:
    """The smallest true mean difference that a check of n seeds with this spread detects with
    the given power (two-sided level alpha); NaN when there is nothing to test."""
    from scipy.optimize import brentq

    if n < 2 or not math.isfinite(std) or std <= 0:
        return math.nan
    unit = std / math.sqrt(n)
    gap = lambda d: float(detection_power(d, std, n, alpha, known_sd)) - power   # noqa: E731
    high = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * unit    # the z closed form
    while gap(high) < 0:                       # the t-test needs more: widen the bracket
        high *= 2
    return float(brentq(gap, 0.0, high, xtol=1e-12 * unit))


def seeds_needed(effect: float, std: float, alpha: float = 1 - CONFIDENCE,
                 power: float = POWER, most: int = 10_000) -> float:
    """How many seeds (paired differences) the t-test needs to detect a true difference of
    `effect` with this spread at the given power; inf beyond `most`, NaN without a spread."""
    if not (math.isfinite(effect) and math.isfinite(std)) or std <= 0 or effect == 0:
        return math.nan if std != std or std <= 0 else math.inf
    n, low = 2, 2
    while n <= most:                           # doubling, then the first n that suffices
        if detection_power(effect, std, n, alpha) >= power:
            candidates = np.arange(low, n + 1)
            return float(candidates[np.argmax(detection_power(effect, std, candidates, alpha)
                                              >= power)])
        low, n = n + 1, n * 2
    return math.inf


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (statsmodels' multipletests); NaNs are not tests and
    stay NaN. A hypothesis is rejected at family-wise level alpha exactly when its adjusted
    p < alpha."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    tested = np.isfinite(p)
    if tested.any():
        adjusted[tested] = multipletests(p[tested], method="holm")[1]
    return adjusted
