"""begin/finish: the limits hold for when messages reach Telegram, whatever the network does.

A message sent between `begin` and `finish` may arrive at any moment in that interval, so the
property checked is the strongest one: no window holds more sends *whose interval touches it*
than the limit allows.
"""

from __future__ import annotations

import heapq
import itertools
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.ratelimit import IN_FLIGHT_RECHECK, RateLimiter, RateLimits
from bot.domain.clock import FakeClock

SECOND = timedelta(seconds=1)

step = st.tuples(
    st.integers(min_value=0, max_value=400),  # ms to wait before trying
    st.integers(min_value=0, max_value=4),  # which chat
    st.integers(min_value=0, max_value=1500),  # ms the request takes
)


@settings(max_examples=200, deadline=None)
@given(st.lists(step, min_size=1, max_size=120), st.integers(min_value=1, max_value=5))
def test_windows_hold_on_arrival_times(steps, global_cap) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(global_cap, 1, 20), clock)
    flights: list[tuple[object, int, str]] = []  # (finish time, order, chat)
    intervals: list[tuple[object, object, str]] = []
    started: dict[int, object] = {}
    for order, (wait_ms, chat_no, latency_ms) in enumerate(steps):
        target = clock.now() + timedelta(milliseconds=wait_ms)
        while flights and flights[0][0] <= target:  # answers that come back meanwhile
            at, number, chat = heapq.heappop(flights)
            clock.set(at)  # type: ignore[arg-type]
            limiter.finish(chat, False)
            intervals.append((started.pop(number), at, chat))
        clock.set(target)
        chat = f"telegram:{chat_no}"
        if limiter.begin(chat, False) is None:
            started[order] = clock.now()
            heapq.heappush(flights, (clock.now() + timedelta(milliseconds=latency_ms), order, chat))
    for at, number, chat in sorted(flights):
        intervals.append((started.pop(number), at, chat))

    for begin, _end, _chat in intervals:  # every window that starts at a begin time
        touching = [i for i in intervals if i[0] < begin + SECOND and i[1] >= begin]
        assert len(touching) <= global_cap
    by_chat: dict[str, list[tuple[object, object]]] = {}
    for begin, end, chat in intervals:
        by_chat.setdefault(chat, []).append((begin, end))
    for spans in by_chat.values():
        spans.sort()
        for (_, end), (next_begin, _) in itertools.pairwise(spans):
            assert next_begin >= end + SECOND  # type: ignore[operator]


def test_in_flight_sends_fill_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(2, 1, 20), clock)
    assert limiter.begin("a", False) is None
    assert limiter.begin("b", False) is None
    assert limiter.free_global_slots() == 0
    assert limiter.begin("c", False) == clock.now() + IN_FLIGHT_RECHECK
    limiter.finish("a", False)
    limiter.finish("b", False)
    clock.advance(1)
    assert limiter.free_global_slots() == 2
    assert limiter.begin("c", False) is None


def test_next_send_to_a_chat_waits_a_second_after_the_answer() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(25, 1, 20), clock)
    assert limiter.begin("a", False) is None
    clock.advance(0.3)  # the request takes 300 ms
    limiter.finish("a", False)
    answered = clock.now()
    clock.advance(0.9)
    assert limiter.begin("a", False) == answered + SECOND


def test_disabled_limits_never_wait() -> None:
    limiter = RateLimiter(RateLimits(1, 1, 1, enabled=False), FakeClock())
    for _ in range(100):
        assert limiter.begin("a", False) is None
    limiter.finish("a", False)
