"""The pipeline process: gateway -> rules engine -> dispatcher, wired together, plus the nightly
retraining of anomaly models.

The gateway calls the rules engine after each committed batch (before acknowledging the MQTT messages) and
commits a record the engine marks urgent (``rules.urgency``) without waiting for its batch; a ticker drives
the engine's time-based rules, and a LISTEN on ``pw_alarms`` opens work orders the moment an alarm transition
commits; the dispatch scheduler's periodic scan is the safety net behind that.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler

from dispatch.alarm_sync import sync_alarms
from dispatch.notify import router_from_environment
from dispatch.scheduler import DispatchScheduler
from gateway.crash import OnCrash, exit_process, guarded_thread
from gateway.precedence import Precedence
from gateway.protocol.endpoint import MqttEndpoint
from gateway.service import Gateway
from ingest.database import connect
from ingest.maintenance import schedule_maintenance
from ingest.records import Batch
from propwatch.settings import GatewayLimits
from rules.anomaly.refresh import schedule_refresh
from rules.engine import RuleEngine
from rules.packs import load_pack_file
from supervision.schedule import schedule_credit

log = logging.getLogger(__name__)
ALARM_CHANNEL = "pw_alarms"
DEFAULT_LIMITS = GatewayLimits()  # frozen: shared safely


def freeze_loaded_state() -> None:
    """Exempt what has been loaded so far, the engine's compiled rules above all, from garbage collection.

    Those objects live as long as the process. Left to the collector, each full collection walks all of
    them with the interpreter lock held: ~200 ms for 5,000 lifts, a stall of the gateway and the engine at
    once, long enough to miss the alarm latency target. Frozen, a full collection takes 2-10 ms. Collecting
    first keeps garbage that happens to be waiting from being frozen with them (frozen cycles are never freed).
    """
    gc.collect()
    gc.freeze()


class Pipeline:
    """Gateway, rules and dispatch in one process; ``start()`` returns at once, ``stop()`` joins."""

    def __init__(
        self,
        *,
        database_url: str,
        endpoint: MqttEndpoint,
        protocol: str = "3.1.1",
        rules_file: Path | None = None,
        tick_interval_s: float = 1.0,
        client_id: str = "propwatch-gateway",
        sites: Sequence[str] = (),
        limits: GatewayLimits = DEFAULT_LIMITS,
        on_crash: OnCrash = exit_process,
    ) -> None:
        """``sites`` partitions the work: this pipeline takes only those sites' messages (all when empty),
        and its rules see only them, which is right because no rule spans sites. Each partition needs its own
        ``client_id`` (the broker keeps one persistent session per id). ``limits`` bound the gateway's dead
        letters and set its late-event and stall ages. A worker thread that dies (the gateway's, the ticker, the
        alarm listener) calls ``on_crash``, which by default ends the process so that a supervisor restarts it:
        a pipeline whose listener died would go on storing alarms without ever opening their work orders."""
        self._database_url = database_url
        self._tick_interval_s = tick_interval_s
        self._stopping = threading.Event()
        # The engine serialises process() and tick() itself: the gateway's flush thread and the ticker
        # may call it concurrently.
        base_pack = load_pack_file(rules_file) if rules_file else None
        # While the safety lane commits an urgent record, the telemetry lane and the engine's telemetry
        # evaluation step aside (gateway.precedence).
        precedence = Precedence()
        self.engine = RuleEngine(database_url, pack=base_pack, sites=sites, give_way=precedence)
        # Nightly retraining of the anomaly models from stored history, on the same pack the engine runs.
        self.model_scheduler = BackgroundScheduler(timezone=UTC)
        schedule_refresh(self.model_scheduler, database_url, pack=base_pack)
        # Rollups, retention, and the TimescaleDB jobs the server fails to run (docs/operations.md).
        self.maintenance_scheduler = BackgroundScheduler(timezone=UTC)
        schedule_maintenance(self.maintenance_scheduler, database_url)
        # The property companies' credit, evaluated on the first of each month (docs/supervision.md).
        schedule_credit(self.maintenance_scheduler, database_url)
        self.gateway = Gateway(
            endpoint=endpoint,
            database_url=database_url,
            protocol=protocol,
            client_id=client_id,
            sites=sites,
            on_committed=self._on_committed,
            urgent=self.engine.urgency,
            dead_letters=limits.dead_letters,
            late_event_after_s=limits.late_event_after_s,
            stall_after_s=limits.stall_after_s,
            on_crash=on_crash,
            precedence=precedence,
        )
        # Channels and routes from PROPWATCH_NOTIFICATIONS_FILE; a bad file stops start-up naming the variable.
        self.dispatcher = DispatchScheduler(database_url, notifier=router_from_environment())
        self._threads = [
            guarded_thread(self._tick_loop, name="rules-ticker", on_crash=on_crash),
            guarded_thread(self._alarm_listener, name="alarm-listener", on_crash=on_crash),
        ]

    def start(self) -> None:
        """Start dispatch, the ticker, the alarm listener and finally the gateway (which starts the flow)."""
        freeze_loaded_state()
        self.dispatcher.start()
        self.model_scheduler.start()
        self.maintenance_scheduler.start()
        for thread in self._threads:
            thread.start()
        self.gateway.start()

    def stop(self) -> None:
        """Stop taking messages first, then the workers behind the gateway."""
        self._stopping.set()
        self.gateway.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        self.dispatcher.shutdown()
        self.model_scheduler.shutdown(wait=False)
        self.maintenance_scheduler.shutdown(wait=False)
        self.engine.close()

    def _on_committed(self, batch: Batch) -> None:
        self.engine.process(batch, datetime.now(UTC))

    def _tick_loop(self) -> None:
        while not self._stopping.wait(self._tick_interval_s):
            pack = self.engine.pack
            try:
                self.engine.tick(datetime.now(UTC))
            except Exception:
                log.exception("rules tick failed; retrying on the next tick")
            if self.engine.pack is not pack:
                # A reload compiled every evaluator anew: out of the collector's sight with them too.
                freeze_loaded_state()

    def _alarm_listener(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen_until_stopped()
            except psycopg.Error:
                log.warning("alarm listener lost its connection; reconnecting", exc_info=True)
                self._stopping.wait(1.0)

    def _listen_until_stopped(self) -> None:
        with connect(self._database_url, autocommit=True) as listen_conn, connect(self._database_url) as work_conn:
            listen_conn.execute(f"LISTEN {ALARM_CHANNEL}")
            sync_alarms(work_conn)
            while not self._stopping.is_set():
                # A short timeout bounds how long stop() waits; notifications arriving together are
                # drained by one sync.
                if any(True for _ in listen_conn.notifies(timeout=0.5, stop_after=1)):
                    sync_alarms(work_conn)

