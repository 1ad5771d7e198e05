import numpy as np
import pytest
from scipy import stats

from dlrepro.metrics.stats import mean_ci, paired_difference


def test_mean_ci_matches_scipy_t_interval():
    values = [0.81, 0.84, 0.79, 0.86, 0.83]
    low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values),
                                 scale=stats.sem(values))
    result = mean_ci(values)
    assert result["mean"] == pytest.approx(np.mean(values))
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((low, high))


def test_nan_values_are_dropped_and_single_values_have_no_interval():
    assert mean_ci([1.0, float("nan"), 3.0])["n"] == 2
    single = mean_ci([2.0])
    assert single["mean"] == 2.0 and np.isnan(single["ci_low"])


def test_paired_difference_uses_pairs_not_groups():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = a - np.array([0.10, 0.11, 0.09, 0.10])  # tiny but consistent improvement
    result = paired_difference(a, b)
    assert result["mean"] == pytest.approx(0.1)
    assert result["ci_low"] > 0  # unpaired, the spread of a would hide it
    assert result["p_value"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
