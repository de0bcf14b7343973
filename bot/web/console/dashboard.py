"""`/console/dashboard`: the supervisors' dashboard of a period (funnels, service, trends,
contact drivers), drawn on the server as inline SVG (see charts.py for why)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from aiohttp import web

from bot.analytics import Bucket, Period, PeriodError, ReportService
from bot.domain.ports import UnitOfWork
from bot.domain.report_ports import ReportUnitOfWork
from bot.web.console.context import agent_of, console_of, error_page, render, uow_of
from bot.web.console.dashboard_views import Board, funnel_view, service_tiles, trend_views

PRESETS = (("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"))
DEFAULT_SINCE = "30d"
LONGEST = timedelta(days=366)  # a longer period is a job for `nudge report`, not a page
WEEKLY_AFTER = timedelta(days=31)  # longer periods: one trend point per week
DRIVERS_SHOWN = 5
REFRESH_SECONDS = 60
"""A page whose period reaches the present reloads its board this often (console.js), while
its tab is visible: a minute is fresh enough for a wall screen, and a 90-day board costs about
a second of report queries."""
FIELD_NAMES = {"--since": "Period", "--from": "From", "--to": "To"}  # the CLI's words, the form's


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard_page, name="dashboard")


@dataclass(frozen=True, slots=True)
class PeriodForm:
    """The period picker as submitted: a preset (`since`) or dates (`first`, `last`)."""

    since: str | None
    first: str | None
    last: str | None

    @classmethod
    def of(cls, query: Mapping[str, str]) -> PeriodForm:
        def field(name: str) -> str | None:
            return query.get(name, "").strip() or None  # an empty date box: not given

        since, first, last = field("since"), field("from"), field("to")
        if since is None and first is None and last is None:
            since = DEFAULT_SINCE
        return cls(since, first, last)

    def period(self, reports: ReportService) -> Period:
        period = reports.period(self.since, self.first, self.last)
        if period.end - period.start > LONGEST:
            raise PeriodError(
                f"the dashboard shows at most {LONGEST.days} days; pick a shorter period "
                "(or use `nudge report` for longer ones)"
            )
        return period


def form_message(error: PeriodError) -> str:
    """The period's error in the form's words (`From: ...` rather than `--from: ...`)."""
    text = str(error)
    for option, label in FIELD_NAMES.items():
        text = text.replace(option, label)
    return text[:1].upper() + text[1:]


class _Lent:
    """The request's open unit of work, lent to the reports without closing it.

    The console's guard holds one unit of work open for the whole request; on SQLite a second
    one opened by the same request would wait for the first forever (sqlite_inline.py), and
    one snapshot for the whole page is what a reader expects anyway.
    """

    def __init__(self, uow: ReportUnitOfWork) -> None:
        self._uow = uow

    async def __aenter__(self) -> ReportUnitOfWork:
        return self._uow

    async def __aexit__(self, *exc: object) -> None:
        return None  # the guard rolls back the read-only transaction when the request ends


def lent(uow: UnitOfWork) -> Callable[[], ReportUnitOfWork]:
    """A unit-of-work factory for `ReportService` that hands out the request's own."""
    if not hasattr(uow, "reports"):
        raise TypeError(f"{type(uow).__name__} has no report queries (uow.reports)")
    borrowed = cast(ReportUnitOfWork, _Lent(cast(ReportUnitOfWork, uow)))
    return lambda: borrowed


async def board_of(reports: ReportService, period: Period) -> Board:
    bucket = Bucket.WEEK if period.end - period.start > WEEKLY_AFTER else Bucket.DAY
    service = await reports.service(period)
    funnels = await reports.funnels(period)
    csat = await reports.csat_trend(period, bucket)
    waits = await reports.first_response_trend(period, bucket)
    return Board(
        period=period,
        bucket=bucket,
        service_empty=service.empty,
        tiles=service_tiles(service),
        trends=trend_views(csat, waits, bucket),
        funnels=tuple(funnel_view(funnel) for funnel in funnels.funnels),
        drivers=await reports.drivers(period, DRIVERS_SHOWN),
    )


def _ask_again(request: web.Request, context: dict[str, Any], error: str) -> web.Response:
    """The picker again with one sentence saying what was wrong with the period."""
    return render(
        request, "dashboard.html", status=400, **context, error=error, board=None, refresh_seconds=0
    )


async def dashboard_page(request: web.Request) -> web.Response:
    console, agent = console_of(request), agent_of(request)
    if not agent.is_supervisor:
        return error_page(request, 403, "Supervisors only", "This page is for supervisors.")
    if console.reports is None:
        return error_page(request, 404, "No dashboard", "Reports are not set up here.")
    reports = console.reports(lent(uow_of(request)))
    form = PeriodForm.of(request.query)
    context: dict[str, Any] = {"form": form, "presets": PRESETS, "zone": reports.zone.key}
    try:
        period = form.period(reports)
    except PeriodError as exc:
        return _ask_again(request, context, form_message(exc))
    board = await board_of(reports, period)
    now = console.clock.now()
    # A past period does not change: only a page showing the present refreshes itself.
    refresh = REFRESH_SECONDS if period.end > now - timedelta(seconds=REFRESH_SECONDS) else 0
    updated = now.astimezone(reports.zone).strftime("%H:%M")
    return render(
        request,
        "dashboard.html",
        **context,
        error=None,
        board=board,
        refresh_seconds=refresh,
        updated=updated,
    )
