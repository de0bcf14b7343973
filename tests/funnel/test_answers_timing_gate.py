"""Reading replies, wait steps in a time zone, quiet hours and the frequency cap."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.funnel.answers import classify_answer
from bot.funnel.gate import cap_until, quiet_until
from bot.funnel.model import FrequencyCap, QuietHours
from bot.funnel.steps import WaitStep
from bot.funnel.timing import wait_until


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Yes", "yes"), ("yes please!", "yes"), ("Да, давайте", "yes"), ("da", "yes"),
        ("네", "yes"), ("No thanks", "no"), ("нет", "no"), ("Nu acum", "no"), ("아니요", "no"),
        ("next Friday", "date"), ("в пятницу", "date"), ("joi", "date"), ("12.05", "date"),
        ("2026-03-01", "date"), ("내일", "date"), ("how much is it?", "other"), ("", "other"),
        ("yes", "yes"), ("other", "other"),
    ],
)  # fmt: skip
def test_answers_in_four_languages(text: str, answer: str) -> None:
    assert classify_answer(text) == answer


def test_wait_until_a_time_of_day_on_weekdays_in_the_contacts_zone() -> None:
    step = WaitStep(id="w", until=time(10, 0), weekdays=(1, 3))  # Tuesday, Thursday
    monday_noon = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # 12:00 in Chisinau
    assert wait_until(step, monday_noon, "Europe/Chisinau") == datetime(
        2026, 1, 6, 8, 0, tzinfo=UTC
    )
    tuesday_early = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)  # 09:00 local: today still counts
    assert wait_until(step, tuesday_early, "Europe/Chisinau") == datetime(
        2026, 1, 6, 8, 0, tzinfo=UTC
    )
    assert wait_until(WaitStep(id="d", duration=timedelta(hours=3)), monday_noon, "UTC") == (
        monday_noon + timedelta(hours=3)
    )


def test_wait_until_follows_daylight_saving_time() -> None:
    step = WaitStep(id="w", until=time(9, 0))
    before_switch = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Chisinau moves to UTC+3 on the 29th
    assert wait_until(step, before_switch, "Europe/Chisinau") == datetime(
        2026, 3, 29, 6, 0, tzinfo=UTC
    )


def test_quiet_hours_wrap_past_midnight_in_the_zone() -> None:
    quiet = QuietHours(time(21, 0), time(9, 0))
    evening = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)  # 22:00 local
    morning = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)  # 09:00 in Chisinau
    assert quiet_until(quiet, evening, "Europe/Chisinau", "UTC") == morning
    early = datetime(2026, 1, 6, 5, 0, tzinfo=UTC)  # 07:00 local
    assert quiet_until(quiet, early, "Europe/Chisinau", "UTC") == morning
    assert quiet_until(quiet, morning + timedelta(hours=1), "Europe/Chisinau", "UTC") is None
    assert quiet_until(None, evening, None, "UTC") is None
    # No contact zone: the quiet hours' own zone (20:00 UTC is 05:00 in Seoul: quiet until 09:00).
    seoul = QuietHours(time(21, 0), time(9, 0), timezone="Asia/Seoul")
    assert quiet_until(seoul, evening, None, "UTC") == datetime(2026, 1, 6, 0, 0, tzinfo=UTC)
    assert quiet_until(seoul, evening, "Europe/Chisinau", "UTC") == morning  # the contact's wins


def test_frequency_cap_frees_a_place_when_the_oldest_leaves_the_window() -> None:
    cap = FrequencyCap(2, timedelta(days=1))
    at = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    sent = [at - timedelta(hours=20), at - timedelta(hours=2)]
    assert cap_until(sent, cap, at) == at + timedelta(hours=4)
    assert cap_until(sent[1:], cap, at) is None
    assert cap_until([at - timedelta(days=2), *sent[1:]], cap, at) is None
    assert cap_until(sent, None, at) is None
