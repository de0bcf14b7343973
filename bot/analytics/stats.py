"""The statistics of the reports, small enough to check by hand.

- Quantiles interpolate linearly between the two nearest ranks (numpy's default): the value at
  fraction `q` of a sorted list of n values sits at position `q * (n - 1)`. So the median of
  an even count is the mean of the two middle values, as everyone expects.
- Two proportions are compared with the two-proportion z-test (pooled standard error), and the
  two-sided p-value comes from the normal distribution: `erfc(|z| / sqrt(2))`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SIGNIFICANCE = 0.05


def quantile(values: Sequence[float], q: float) -> float | None:
    """The `q` quantile (0..1) of `values`; None when there are none."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"a quantile is between 0 and 1, not {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


@dataclass(frozen=True, slots=True)
class Spread:
    """How long something took: count, median and 90th percentile, in seconds."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Spread:
        return cls(len(seconds), quantile(seconds, 0.5), quantile(seconds, 0.9))


@dataclass(frozen=True, slots=True)
class Rate:
    """`part` of `whole`; `value` is None when `whole` is 0 (nothing to divide)."""

    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def percent(self) -> float | None:
        value = self.value
        return None if value is None else 100.0 * value


@dataclass(frozen=True, slots=True)
class ZTest:
    difference: float  # second rate minus first, as a fraction
    z: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE


def two_proportion_z_test(first: Rate, second: Rate) -> ZTest | None:
    """Whether `second` differs from `first` more than chance would explain; None when either
    group is empty or the pooled rate is 0 or 1 (no variance: the test says nothing)."""
    if first.whole == 0 or second.whole == 0:
        return None
    p1, p2 = first.part / first.whole, second.part / second.whole
    pooled = (first.part + second.part) / (first.whole + second.whole)
    variance = pooled * (1 - pooled) * (1 / first.whole + 1 / second.whole)
    if variance <= 0:
        return None
    z = (p2 - p1) / math.sqrt(variance)
    return ZTest(difference=p2 - p1, z=z, p_value=math.erfc(abs(z) / math.sqrt(2)))
