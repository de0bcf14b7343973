"""The dashboard's sentences about a funnel's messages (pure)."""

from __future__ import annotations

from bot.analytics import StepDelivery
from bot.web.console.delivery_views import delivery_text, reasons_line


def test_a_step_at_scale_reads_like_a_marketer_would_say_it() -> None:
    step = StepDelivery(
        delivered=940, failed=25, suppressed=35,
        failure_reasons={"400: Bad Request: chat not found": 25},
        suppression_reasons={"contact opted out of marketing messages": 30,
                             "contact blocked the bot": 5},
    )  # fmt: skip
    assert delivery_text(1000, step) == "1,000 queued: 940 delivered, 25 failed, 35 suppressed"
    assert reasons_line(step) == (
        "failed: 400: Bad Request: chat not found 25; suppressed: contact opted out of"
        " marketing messages 30, contact blocked the bot 5"
    )


def test_pending_and_unknown_show_only_when_there_are_some() -> None:
    assert (
        delivery_text(3, StepDelivery(delivered=3))
        == "3 queued: 3 delivered, 0 failed, 0 suppressed"
    )
    text = delivery_text(1200, StepDelivery(delivered=1000, pending=150, unknown=50))
    assert text.endswith("0 suppressed, 150 pending, 50 outcome unknown")
    assert reasons_line(StepDelivery(delivered=3)) == ""
