"""The dispatch scheduler: an APScheduler job that syncs alarms, fires SLA steps, reassigns expired offers,
opens preventive orders, acts on overdue fund reviews and delivers queued notifications.

All its state is in the database (cursor, ``sla_steps``, offers, plans, draw review deadlines, outbox and
deliveries), so a restarted scheduler (or several running at once) carries on exactly where the last one stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from dispatch.alarm_sync import TransitionSource, sync_alarms
from dispatch.escalation import fire_due_steps
from dispatch.fund.draws import apply_deemed_approvals
from dispatch.notify import Notifier, Router, deliver_pending
from dispatch.notify.outbox import as_router
from dispatch.preventive import open_due_orders
from dispatch.workorders import reassign_expired
from ingest.database import connect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunReport:
    """What one pass did (``notifications_sent`` counts deliveries that went through)."""

    alarm_transitions: int
    steps_fired: int
    offers_expired: int
    preventive_opened: int
    fund_reviews_overdue: int
    notifications_sent: int


class DispatchScheduler:
    """Runs ``run_once`` every ``interval_s`` seconds on a background thread (one pass at a time).

    ``notifier`` is a ``Router`` (channels and routes, ``dispatch.notify.router_from_environment``) or a single
    notifier that gets every notification."""

    def __init__(
        self,
        database_url: str,
        *,
        notifier: Notifier | Router,
        interval_s: float = 1.0,
        alarm_source: TransitionSource | None = None,
    ) -> None:
        self._database_url = database_url
        self._router = as_router(notifier)
        self._interval_s = interval_s
        self._alarm_source = alarm_source
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        """Start the background job; the first pass runs at once."""
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler.add_job(
            self._tick, "interval", seconds=self._interval_s, id="dispatch", max_instances=1, coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop the job, waiting for a running pass to finish."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None

    def run_once(self, now: datetime | None = None) -> RunReport:
        """One pass at ``now`` (default: the current time). Overdue fund reviews come before delivery so that
        their escalation goes out in the same pass."""
        now = now or datetime.now(UTC)
        with connect(self._database_url, autocommit=True) as conn:
            return RunReport(
                alarm_transitions=sync_alarms(conn, source=self._alarm_source),
                steps_fired=len(fire_due_steps(conn, now=now)),
                offers_expired=reassign_expired(conn, now=now),
                preventive_opened=open_due_orders(conn, now=now),
                fund_reviews_overdue=len(apply_deemed_approvals(conn, now)),
                notifications_sent=deliver_pending(conn, self._router, now=now),
            )

    def _tick(self) -> None:
        try:
            report = self.run_once()
        except Exception:
            # A failed pass is retried on the next tick; the job must outlive a database restart.
            log.exception("dispatch pass failed; retrying on the next tick")
            return
        if any(vars(report).values()):
            log.info("dispatch pass: %s", report)
