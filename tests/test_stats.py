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


# -- power and multiplicity -----------------------------------------------------------------
from dlrepro.metrics.stats import (detection_power, holm, minimum_detectable_effect,  # noqa: E402
                                   seeds_needed, t_test_p)


@pytest.mark.parametrize("n", [2, 3, 5, 10, 40])
def test_minimum_detectable_effect_with_a_known_sd_is_the_closed_form(n):
    # paired differences with known sd sigma: MDE = (z_{1-alpha/2} + z_{power}) * sigma / sqrt(n)
    sigma = 0.013
    closed = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * sigma / np.sqrt(n)
    assert minimum_detectable_effect(sigma, n, known_sd=True) == pytest.approx(closed, rel=1e-5)


def test_the_t_tests_minimum_detectable_effect_has_its_power_by_simulation():
    # 40,000 simulated 5-seed paired t-tests at the MDE reject 80% of the time (binomial sd 0.2%)
    sd, n = 0.02, 5
    mde = minimum_detectable_effect(sd, n)
    assert mde > minimum_detectable_effect(sd, n, known_sd=True)   # the t-test pays for not knowing sd
    diffs = np.random.default_rng(0).normal(mde, sd, size=(40_000, n))
    p = stats.ttest_1samp(diffs, 0.0, axis=1).pvalue
    assert (p < 0.05).mean() == pytest.approx(0.8, abs=0.01)
    assert float(detection_power(mde, sd, n)) == pytest.approx(0.8, abs=1e-9)


def test_seeds_needed_is_the_first_n_with_the_power():
    sd, effect = 1.0, 0.5
    n = seeds_needed(effect, sd)
    assert detection_power(effect, sd, n) >= 0.8 > detection_power(effect, sd, n - 1)
    assert n == 34   # the textbook ~(2.80 / 0.5)^2 + 2 for a paired t-test of d = 0.5
    assert seeds_needed(0.0, sd) == float("inf") and np.isnan(seeds_needed(0.5, 0.0))


def test_holm_on_a_worked_example():
    # p = (0.01, 0.04, 0.03, 0.005), m = 4: sorted 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06,
    # 0.04*1 = 0.04 -> 0.06 (kept non-decreasing); at 5% the first two are rejected.
    p = [0.01, 0.04, 0.03, 0.005, float("nan")]
    adjusted = holm(p)
    assert adjusted[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(adjusted[4])
    assert list(adjusted[:4] < 0.05) == [True, False, False, True]
    assert holm([0.4, 0.9]) == pytest.approx([0.8, 0.9]) and holm([0.6, 0.7])[0] == 1.0


def test_t_test_p_matches_scipy():
    values = [0.03, 0.01, 0.04, -0.005, 0.02]
    from dlrepro.metrics.stats import mean_ci
    assert t_test_p(mean_ci(values), 0.0) == pytest.approx(stats.ttest_1samp(values, 0.0).pvalue)
    assert t_test_p(mean_ci(values), 0.01) == pytest.approx(stats.ttest_1samp(values, 0.01).pvalue)
