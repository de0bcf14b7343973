"""The report statistics, against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from bot.analytics.stats import Rate, Spread, quantile, two_proportion_z_test


def test_quantiles_interpolate_between_ranks() -> None:
    assert quantile([], 0.5) is None
    assert quantile([7.0], 0.9) == 7.0
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5  # the mean of the two middle values
    # Ten values 1..10: p90 at 0.9 * 9 = 8.1 -> 9 + 0.1 * (10 - 9) = 9.1.
    assert quantile([float(v) for v in range(10, 0, -1)], 0.9) == pytest.approx(9.1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        quantile([1.0], 1.5)


def test_spread_and_rate() -> None:
    assert Spread.of([30.0, 10.0, 20.0]) == Spread(3, 20.0, pytest.approx(28.0))  # type: ignore[arg-type]
    assert Rate(1, 4).percent == 25.0
    assert Rate(0, 0).value is None and Rate(0, 0).percent is None


def test_two_proportion_z_test_by_hand() -> None:
    # 200 of 1000 against 250 of 1000: pooled 0.225; SE = sqrt(0.225 * 0.775 * 0.002)
    # = 0.018675; z = 0.05 / 0.018675 = 2.6774; p = erfc(2.6774 / sqrt 2) = 0.00742.
    test = two_proportion_z_test(Rate(200, 1000), Rate(250, 1000))
    assert test is not None
    assert test.difference == pytest.approx(0.05)
    assert test.z == pytest.approx(2.6774, abs=1e-4)
    assert test.p_value == pytest.approx(0.00742, abs=1e-5)
    assert test.significant
    # The same rates on 100 each: z = 0.05 / sqrt(0.225 * 0.775 * 0.02) = 0.8467, p = 0.397.
    small = two_proportion_z_test(Rate(20, 100), Rate(25, 100))
    assert small is not None and not small.significant
    assert small.p_value == pytest.approx(math.erfc(0.8467 / math.sqrt(2)), abs=1e-4)


def test_z_test_says_nothing_without_data_or_variance() -> None:
    assert two_proportion_z_test(Rate(0, 0), Rate(1, 2)) is None
    assert two_proportion_z_test(Rate(0, 10), Rate(0, 12)) is None  # nobody converted
    assert two_proportion_z_test(Rate(5, 5), Rate(3, 3)) is None  # everybody did
