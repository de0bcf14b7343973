"""`delivery.lease_seconds` must outlast what a claimed message can cost: its wait and send
(`telegram.request_timeout_seconds` per round of `delivery.concurrency` sends) plus the outcome
store's retries (half the lease). And the Telegram poller's lease has sane bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, check_settings, load_settings


def problems_for(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return [str(p).replace(str(path), "config.yaml") for p in check_settings(path, environ or {})]


def test_a_lease_shorter_than_a_send_and_its_outcome_store_is_refused_at_the_lease(
    tmp_path: Path,
) -> None:
    text = "telegram:\n  request_timeout_seconds: 15\ndelivery:\n  lease_seconds: 20\n"
    assert problems_for(tmp_path, text) == [
        "config.yaml:4:18: delivery.lease_seconds: must be at least 30 with "
        "telegram.request_timeout_seconds at 15 (it is 20): a claimed message's send may take "
        "15 s and storing the outcome is retried for up to half the lease; raise it or lower "
        "telegram.request_timeout_seconds"
    ]
    with pytest.raises(ConfigError, match=r"delivery\.lease_seconds: must be at least 30"):
        load_settings(tmp_path / "config.yaml", environ={})


def test_a_longer_request_timeout_alone_is_refused_at_the_timeout(tmp_path: Path) -> None:
    text = "# requests may be slow here\ntelegram:\n  request_timeout_seconds: 90\n"
    assert problems_for(tmp_path, text) == [
        "config.yaml:3:28: telegram.request_timeout_seconds: must be at most 60 with "
        "delivery.lease_seconds at 120 (it is 90): a claimed message's send may take 90 s and "
        "storing the outcome is retried for up to half the lease; lower it or raise "
        "delivery.lease_seconds to 180"
    ]


def test_without_rate_limits_a_claim_goes_out_in_rounds_of_concurrency(tmp_path: Path) -> None:
    text = "delivery:\n  limits_enabled: false\n  lease_seconds: 100\n"
    [problem] = problems_for(tmp_path, text)
    assert problem.startswith("config.yaml:3:18: delivery.lease_seconds: must be at least 120 ")
    assert "a claim of up to 200 messages goes out 64 at a time" in problem
    assert "may wait 4 x 15 s" in problem
    text = "delivery:\n  limits_enabled: false\n  lease_seconds: 100\n  concurrency: 200\n"
    assert problems_for(tmp_path, text) == []  # one round: 2 x 15 s


def test_paid_broadcast_claims_more_at_once_than_the_default_limit(tmp_path: Path) -> None:
    batch = "delivery:\n  batch_size: 1000\n"
    assert problems_for(tmp_path, batch) == []  # 25 a second: one claim is one round
    [problem] = problems_for(tmp_path, batch + "  paid_broadcast: true\n")
    assert "delivery.lease_seconds: must be at least 480 " in problem
    assert "a claim of up to 1000 messages goes out 64 at a time" in problem


def test_a_lease_set_in_the_environment_is_named_by_its_variable(tmp_path: Path) -> None:
    environ = {"NUDGE_DELIVERY__LEASE_SECONDS": "25"}
    [problem] = problems_for(tmp_path, "", environ)
    assert problem.startswith(
        "environment: NUDGE_DELIVERY__LEASE_SECONDS: must be at least 30 with "
        "telegram.request_timeout_seconds at 15 (it is 25)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",  # the defaults: 120 s against 2 x 15 s
        "delivery:\n  lease_seconds: 30\n",  # exactly twice the request timeout
        "telegram:\n  request_timeout_seconds: 60\n",
        "telegram:\n  request_timeout_seconds: 1.5\ndelivery:\n  lease_seconds: 3\n",
    ],
)
def test_leases_long_enough_are_accepted(tmp_path: Path, text: str) -> None:
    assert problems_for(tmp_path, text) == []


def test_the_pollers_lease_has_bounds(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("telegram:\n  polling_lease_seconds: 5\n")
    assert load_settings(path, environ={}).telegram.polling_lease_seconds == 5
    assert problems_for(tmp_path, "telegram:\n  polling_lease_seconds: 0.5\n") == [
        "config.yaml:2:26: telegram.polling_lease_seconds: must be at least 1"
    ]
