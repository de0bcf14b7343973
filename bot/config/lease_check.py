"""`delivery.lease_seconds` against what one claimed message can cost (bot/delivery/dispatcher.py).

A worker claims up to `delivery.batch_size` rows at once with a lease of `lease_seconds`; once
the lease has run out, any worker takes the rows' worker for dead and records them as outcome
unknown. So the lease must outlast, for the last row of a claim:

- its wait and its send: the claim's sends go `delivery.concurrency` at a time, each request
  bounded by `telegram.request_timeout_seconds`. With the rate limits on, a claim holds no more
  rows than the global limit lets go at once (`Dispatcher._claim_size`), and a chat gets one
  send per claim (its next row waits for the per-chat gap). A failed send is never retried
  inside the claim: it is rescheduled and claimed again later, with a lease of its own;
- storing the outcomes, which the dispatcher retries for up to half the lease (a database
  outage must not lose what Telegram answered).

Hence the rule: lease_seconds >= 2 x rounds of sends x request timeout.
"""

from __future__ import annotations

import math

from bot.config.models import DeliverySettings, TelegramSettings
from bot.config.origins import Origins
from bot.config.problems import ConfigProblem
from bot.config.yaml_tree import YamlPath

LEASE: YamlPath = ("delivery", "lease_seconds")
REQUEST_TIMEOUT: YamlPath = ("telegram", "request_timeout_seconds")


def claim_size(delivery: DeliverySettings) -> int:
    """The most rows one claim can hold."""
    if not delivery.limits_enabled:
        return delivery.batch_size
    rate = (
        delivery.paid_broadcast_per_second
        if delivery.paid_broadcast
        else delivery.global_per_second
    )
    return min(delivery.batch_size, max(1, math.floor(rate)))


def send_rounds(delivery: DeliverySettings) -> int:
    """How many request timeouts the last row of a full claim may wait for, its own included."""
    return math.ceil(claim_size(delivery) / delivery.concurrency)


def minimum_lease(delivery: DeliverySettings, telegram: TelegramSettings) -> float:
    return 2 * send_rounds(delivery) * telegram.request_timeout_seconds


def lease_problems(
    delivery: DeliverySettings | None, telegram: TelegramSettings | None, origins: Origins
) -> list[ConfigProblem]:
    """A problem when the lease can run out under a live worker. It is put on the lease,
    unless only the request timeout was changed: then on that."""
    if delivery is None or telegram is None:
        return []
    needed = minimum_lease(delivery, telegram)
    lease = delivery.lease_seconds
    if lease >= needed:
        return []
    timeout = telegram.request_timeout_seconds
    why = _why(delivery, timeout)
    if _given(origins, REQUEST_TIMEOUT) and not _given(origins, LEASE):
        most = lease / (2 * send_rounds(delivery))
        message = (
            f"must be at most {most:g} with delivery.lease_seconds at {lease:g} (it is "
            f"{timeout:g}): {why}; lower it or raise delivery.lease_seconds to {needed:g}"
        )
        return [origins.problem(REQUEST_TIMEOUT, message)]
    message = (
        f"must be at least {needed:g} with telegram.request_timeout_seconds at {timeout:g} "
        f"(it is {lease:g}): {why}; raise it or lower telegram.request_timeout_seconds"
    )
    return [origins.problem(LEASE, message)]


def _why(delivery: DeliverySettings, timeout: float) -> str:
    rounds = send_rounds(delivery)
    store = "and storing the outcome is retried for up to half the lease"
    if rounds == 1:
        return f"a claimed message's send may take {timeout:g} s {store}"
    claim = claim_size(delivery)
    return (
        f"a claim of up to {claim} messages goes out {delivery.concurrency} at a time "
        f"(delivery.concurrency), so its last one may wait {rounds} x {timeout:g} s, {store}"
    )


def _given(origins: Origins, path: YamlPath) -> bool:
    """Whether the file or the environment sets this key (rather than the default)."""
    return path in origins.marks or origins.from_env(path) is not None
