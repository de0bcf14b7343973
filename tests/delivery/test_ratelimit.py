"""RateLimiter: exact limits on a fake clock, checked against a brute-force model."""

from __future__ import annotations

import copy
import math
from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.delivery.ratelimit import RateLimiter, RateLimits
from bot.domain.clock import FakeClock

US = timedelta(microseconds=1)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


def make(
    global_per_second: float = 25,
    per_chat_per_second: float = 1,
    per_group_per_minute: float = 20,
    enabled: bool = True,
) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    limits = RateLimits(global_per_second, per_chat_per_second, per_group_per_minute, enabled)
    return RateLimiter(limits, clock), clock


# -- examples ----------------------------------------------------------------------------


def test_private_chat_one_per_second() -> None:
    limiter, clock = make()
    t0 = clock.now()
    assert limiter.reserve("42", False) is None
    assert limiter.reserve("42", False) == t0 + SECOND
    clock.advance(SECOND - US)
    assert limiter.reserve("42", False) == t0 + SECOND
    clock.advance(US)
    assert limiter.reserve("42", False) is None
    assert limiter.reserve("43", False) is None  # other chats are independent


def test_refusals_count_nothing() -> None:
    limiter, clock = make()
    t0 = clock.now()
    assert limiter.reserve("42", False) is None
    for _ in range(100):
        assert limiter.reserve("42", False) == t0 + SECOND
        clock.advance(timedelta(milliseconds=5))
    clock.set(t0 + SECOND)
    assert limiter.reserve("42", False) is None


def test_group_twenty_per_minute_and_one_per_second() -> None:
    limiter, clock = make()
    t0 = clock.now()
    for i in range(20):
        assert limiter.reserve("-100", True) is None
        if i < 19:
            assert limiter.reserve("-100", True) == t0 + i * SECOND + SECOND
        clock.advance(SECOND)
    # 20 grants at t0 .. t0+19s: the 21st waits for the first to leave the minute.
    assert limiter.reserve("-100", True) == t0 + MINUTE
    clock.set(t0 + MINUTE - US)
    assert limiter.reserve("-100", True) == t0 + MINUTE
    clock.set(t0 + MINUTE)
    assert limiter.reserve("-100", True) is None
    assert limiter.reserve("-100", True) == t0 + MINUTE + SECOND


def test_global_limit_per_second_window() -> None:
    limiter, clock = make(global_per_second=25)
    t0 = clock.now()
    for i in range(25):
        assert limiter.reserve(str(i), False) is None
    assert limiter.reserve("x", False) == t0 + SECOND
    clock.advance(0.5)
    assert limiter.reserve("x", False) == t0 + SECOND
    clock.advance(0.5)
    assert limiter.reserve("x", False) is None


def test_global_window_boundary_is_exact() -> None:
    limiter, clock = make(global_per_second=2)
    t0 = clock.now()
    assert limiter.reserve("a", False) is None
    assert limiter.reserve("b", False) is None
    clock.set(t0 + SECOND)  # [t0, t0+1s) is over: exactly two more, not three
    assert limiter.reserve("c", False) is None
    assert limiter.reserve("d", False) is None
    assert limiter.reserve("e", False) == t0 + 2 * SECOND


def test_paid_broadcast_preset() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits.telegram(paid_broadcast=True), clock)
    assert all(limiter.reserve(f"u{i}", False) is None for i in range(1000))
    assert limiter.reserve("one-more", False) == clock.now() + SECOND
    normal = RateLimits.telegram()
    assert (normal.global_per_second, normal.per_chat_per_second) == (25, 1)
    assert normal.per_group_per_minute == 20


def test_fractional_rates_round_towards_safety() -> None:
    limiter, clock = make(global_per_second=2.5, per_chat_per_second=3, per_group_per_minute=0.5)
    t0 = clock.now()
    assert limiter.reserve("a", False) is None
    assert limiter.reserve("a", False) == t0 + timedelta(microseconds=333_334)
    assert limiter.reserve("b", False) is None
    assert limiter.reserve("c", False) == t0 + SECOND  # floor(2.5) = 2 per second
    clock.advance(SECOND)
    assert limiter.reserve("-g", True) is None
    assert limiter.reserve("-g", True) == t0 + SECOND + 2 * MINUTE  # 0.5/min = 1 per 2 min


def test_disabled_always_grants() -> None:
    limiter, _ = make(enabled=False)
    assert all(limiter.reserve("42", False) is None for _ in range(1000))
    assert limiter.tracked_chats == 0


@pytest.mark.parametrize("rates", [(0, 1, 20), (25, -1, 20), (25, 1, float("inf"))])
def test_invalid_rates_rejected(rates: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError):
        RateLimits(*rates)


def test_block_chat() -> None:
    limiter, clock = make()
    t0 = clock.now()
    limiter.block_chat("42", t0 + 30 * SECOND)
    limiter.block_chat("42", t0 + 10 * SECOND)  # a shorter block never shortens a longer one
    assert limiter.reserve("42", False) == t0 + 30 * SECOND
    assert limiter.reserve("-42", True) is None
    clock.set(t0 + 30 * SECOND)
    assert limiter.reserve("42", False) is None
    assert limiter.reserve("42", False) == t0 + 31 * SECOND


def test_block_all_and_combined_wait() -> None:
    limiter, clock = make()
    t0 = clock.now()
    assert limiter.reserve("42", False) is None
    limiter.block_all(t0 + 5 * SECOND)
    limiter.block_chat("42", t0 + 7 * SECOND)
    assert limiter.reserve("1", False) == t0 + 5 * SECOND
    assert limiter.reserve("42", False) == t0 + 7 * SECOND  # the latest of all constraints
    clock.set(t0 + 5 * SECOND)
    assert limiter.reserve("1", False) is None
    assert limiter.reserve("42", False) == t0 + 7 * SECOND


def test_clock_going_backwards_never_overshoots() -> None:
    limiter, clock = make()
    t0 = clock.now()
    assert limiter.reserve("42", False) is None
    clock.set(t0 - timedelta(hours=1))
    assert limiter.reserve("42", False) == t0 + SECOND


def test_memory_stays_bounded_with_many_chats() -> None:
    limiter, clock = make(global_per_second=1000)
    peak = 0
    for i in range(100_000):
        assert limiter.reserve(f"u{i}", False) is None
        assert limiter.reserve(f"-{i}", True) is None
        limiter.block_chat(f"b{i}", clock.now() + SECOND)
        clock.advance(timedelta(milliseconds=2))
        peak = max(peak, limiter.tracked_chats)
    # 500 chats/s: private lasts 1 s, groups 60 s, blocks are swept when they double.
    assert peak < 500 + 60 * 500 + 2 * 500 + 200
    clock.advance(2 * MINUTE)
    assert limiter.reserve("last", False) is None
    limiter.block_chat("b-last", clock.now() + SECOND)
    assert limiter.tracked_chats == 2
    assert len(limiter._global_grants) <= 1000


# -- property: limiter == brute-force model, windows never overfilled ---------------------

CHATS = ["1", "2", "3", "-10", "-20"]
ADVANCES_US = [
    0,
    1,
    999,
    1000,
    40_000,
    333_333,
    500_000,
    999_999,
    1_000_000,
    3_000_000,
    59_999_999,
    60_000_000,
]


Op = tuple[str, str, int]  # (action, chat, microseconds)


def _ops(chats: st.SearchStrategy[str]) -> st.SearchStrategy[list[Op]]:
    reserve = st.tuples(st.just("reserve"), chats, st.just(0))
    op = st.one_of(
        reserve,
        reserve,
        reserve,
        st.tuples(st.just("advance"), st.just(""), st.sampled_from(ADVANCES_US)),
        st.tuples(st.just("advance"), st.just(""), st.integers(0, 2_000_000)),
        # Jump to the last retry time returned: lands exactly on window boundaries.
        st.tuples(st.just("wait_for_retry"), st.just(""), st.just(0)),
        st.tuples(st.just("block_chat"), chats, st.integers(-1_000_000, 5_000_000)),
        st.tuples(st.just("block_all"), st.just(""), st.integers(-1_000_000, 3_000_000)),
    )
    return st.lists(op, min_size=4, max_size=60)


limits_st = st.builds(
    RateLimits,
    global_per_second=st.sampled_from([1, 2, 2.5, 3, 25, 0.5]),
    per_chat_per_second=st.sampled_from([1, 3, 0.5, 1000]),
    per_group_per_minute=st.sampled_from([1, 2, 3, 20, 0.5, 120]),
)


def _spec(limits: RateLimits) -> tuple[timedelta, tuple[int, timedelta], tuple[int, timedelta]]:
    def window(rate: float, width: timedelta) -> tuple[int, timedelta]:
        if rate >= 1:
            return int(rate), width
        return 1, _ceil_div(width, rate)

    return (
        _ceil_div(SECOND, limits.per_chat_per_second),
        window(limits.global_per_second, SECOND),
        window(limits.per_group_per_minute, MINUTE),
    )


def _ceil_div(width: timedelta, rate: float) -> timedelta:
    # Exactly width / rate, rounded up to a microsecond (timedelta / float rounds to nearest).
    return timedelta(microseconds=math.ceil(Fraction(width // US) / Fraction(rate)))


class Model:
    """Brute force over the full grant history."""

    def __init__(self, limits: RateLimits) -> None:
        self.gap, self.glob, self.group = _spec(limits)
        self.grants: list[tuple[datetime, str]] = []
        self.chat_blocks: dict[str, datetime] = {}
        self.global_block: datetime | None = None

    def ready(self, chat: str, now: datetime) -> datetime:
        times = [now]
        if self.global_block is not None:
            times.append(self.global_block)
        if chat in self.chat_blocks:
            times.append(self.chat_blocks[chat])
        mine = [t for t, c in self.grants if c == chat]
        if mine:
            times.append(mine[-1] + self.gap)
        times.append(self._window_ready([t for t, _ in self.grants], now, *self.glob))
        if chat.startswith("-"):
            times.append(self._window_ready(mine, now, *self.group))
        return max(times)

    @staticmethod
    def _window_ready(
        grants: list[datetime], now: datetime, cap: int, width: timedelta
    ) -> datetime:
        recent = sorted(t for t in grants if t + width > now)
        return recent[-cap] + width if len(recent) >= cap else now


def _assert_windows(grants: list[tuple[datetime, str]], model: Model) -> None:
    def check(times: list[datetime], cap: int, width: timedelta) -> None:
        times = sorted(times)
        for i in range(len(times) - cap):
            assert times[i + cap] - times[i] >= width, (times[i], times[i + cap], cap, width)

    check([t for t, _ in grants], *model.glob)
    for chat in {c for _, c in grants}:
        mine = [t for t, c in grants if c == chat]
        check(mine, 1, model.gap)
        if chat.startswith("-"):
            check(mine, *model.group)


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(limits=limits_st, ops=_ops(st.sampled_from(CHATS)))
def test_matches_model_and_never_overfills_a_window(limits: RateLimits, ops: list[Op]) -> None:
    _run(limits, ops)


@PROPERTY
@given(
    limits=limits_st,
    ops=_ops(st.integers(0, 10_000).map(str) | st.integers(1, 10_000).map(lambda n: f"-{n}")),
)
def test_many_mostly_new_chats_stress_the_global_window(limits: RateLimits, ops: list[Op]) -> None:
    _run(limits, ops)


def _run(limits: RateLimits, ops: list[Op]) -> None:
    clock = FakeClock()
    limiter = RateLimiter(limits, clock)
    model = Model(limits)
    last_retry: datetime | None = None
    for action, chat, micros in ops:
        now = clock.now()
        if action == "advance":
            clock.advance(timedelta(microseconds=micros))
        elif action == "wait_for_retry":
            if last_retry is not None and last_retry > now:
                clock.set(last_retry)
        elif action == "block_chat":
            until = now + timedelta(microseconds=micros)
            limiter.block_chat(chat, until)
            model.chat_blocks[chat] = max(until, model.chat_blocks.get(chat, until))
        elif action == "block_all":
            until = now + timedelta(microseconds=micros)
            limiter.block_all(until)
            model.global_block = max(until, model.global_block or until)
        else:
            expected = model.ready(chat, now)
            got = limiter.reserve(chat, chat.startswith("-"))
            if expected <= now:
                assert got is None
                model.grants.append((now, chat))
            else:
                assert got == expected
                last_retry = got
                _assert_retry_is_grantable(limiter, clock, chat, got)
    _assert_windows(model.grants, model)


def _assert_retry_is_grantable(
    limiter: RateLimiter, clock: FakeClock, chat: str, retry: datetime
) -> None:
    twin, twin_clock = copy.deepcopy((limiter, clock))
    twin_clock.set(retry - US)
    assert twin.reserve(chat, chat.startswith("-")) == retry  # not a microsecond earlier
    twin_clock.set(retry)
    assert twin.reserve(chat, chat.startswith("-")) is None
