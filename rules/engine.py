"""The rules engine: evaluates committed batches and the passage of time into alarm transitions.

Per batch: each reading goes to the evaluators routed by (device, metric), each event to those routed by
(device, code) (``rules.routing``, compiled from the rule kinds of ``rules.kinds``); the lifecycle collects
changes; one transaction writes them with their NOTIFYs. No database
round trip happens per reading. Open alarms (pending timers included) live in the database, so a restarted
engine reloads them and carries on where the old one stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg

from ingest.database import connect
from ingest.history import last_seen
from ingest.records import Batch, DeviceEvent
from ingest.registry import get_devices, list_devices
from rules import store
from rules.anomaly.dbstore import DatabaseModelStore
from rules.hooks import AnomalyScorer, DetectorScorer, Forecaster, TrendForecaster
from rules.lifecycle import Change, Lifecycle, OpenAlarm
from rules.model import RulePack
from rules.overrides import apply_overrides
from rules.priority_lock import GiveWay, PriorityLock
from rules.routing import Routing
from rules.silences import load_silences
from rules.suppression import Inhibitor, Silencer, Suppression
from rules.urgency import Urgency

log = logging.getLogger(__name__)

PRESENCE = frozenset({"online", "offline"})
# Samples evaluated between two chances for an event batch to go first: ~5-15 ms of evaluation under load.
LEND_EVERY = 256
# Anomaly rows (about 1 ms each) scored between two looks for a waiting event batch.
LEND_DEFERRED_EVERY = 8

# apply_overrides stays importable from here: the anomaly model refresh (rules.anomaly.refresh) uses it.
__all__ = ["RuleEngine", "apply_overrides"]


class RuleEngine:
    """Evaluate batches and time against a rule pack; persist alarm transitions and NOTIFY ``pw_alarms``.

    The engine composes the rule kinds (compiled per device by ``rules.routing``), the suppression of new
    alarms (``rules.suppression``), the alarm lifecycle and its store. The rules in force are ``pack``
    (``None``: the default pack; ``rules.packs.load_pack_file`` gives the defaults with a site file over them)
    with the packs stored in the database laid over it, re-read when a new version is published (checked every
    ``reload_interval_s`` of ``tick`` time). The default scorer keeps anomaly models in ``anomaly_models``;
    ``tick`` checkpoints them every ``checkpoint_interval_s`` and ``close`` once more. ``process`` and ``tick``
    may come from different threads; they run one at a time, except that a batch carrying events (the gateway's
    safety lane: entrapments, fire alarms, presence) goes first: a telemetry batch being evaluated lends the
    engine to it every ``LEND_EVERY`` samples (``rules.priority_lock``), so an event waits for at most one chunk
    of telemetry, never for the whole batch. With ``give_way`` (the gateway's ``Precedence``) it also pauses there,
    lending the engine, while an urgent record is on its way to it, not yet committed.

    ``urgency`` tells a gateway which records may raise an alarm at once (``rules.urgency``); it follows the
    pack and the devices the engine knows.

    With ``sites`` the engine is one partition of the estate: it knows only those sites' devices and open
    alarms, and ignores readings of others (which another partition evaluates). No rule spans sites, so
    partitions never need each other's state.
    """

    def __init__(self, database_url: str, pack: RulePack | None = None, *, scorer: AnomalyScorer | None = None,
                 forecaster: Forecaster | None = None, reload_interval_s: float = 5.0,
                 checkpoint_interval_s: float = 300.0, sites: Sequence[str] = (),
                 give_way: GiveWay | None = None) -> None:
        self._url = database_url
        self._sites = frozenset(sites)
        self._foreign: set[str] = set()  # devices of sites another partition evaluates
        # The gateway's writer threads call process() and the pipeline's timer calls tick(): one at a time,
        # event batches first.
        self._lock = PriorityLock()
        self._give_way = give_way
        self._yields = False  # whether the batch being evaluated steps aside for urgent records on their way
        self._conn: psycopg.Connection = connect(self._url)
        self._base_pack = pack
        # A model store the engine makes is the engine's to close.
        self._own_store = DatabaseModelStore(database_url) if scorer is None else None
        self._scorer = scorer or DetectorScorer(self._own_store)
        self._forecaster = forecaster or TrendForecaster()
        self._reload_interval_s = reload_interval_s
        self._checkpoint_interval_s = checkpoint_interval_s
        self._open: dict[str, OpenAlarm] = {}
        self._life = Lifecycle(self._open, Suppression().mutes)
        self.urgency = Urgency()
        self._marks: tuple[int, ...] = ()
        self._last_poll: datetime | None = None
        self._last_checkpoint: datetime | None = None
        self._action_mark = store.last_transition_id(self._conn)
        self._conn.commit()
        self.pack: RulePack = self._load()
        self._restore()

    # ------------------------------------------------------------------ public API

    def process(self, batch: Batch, now: datetime | None = None) -> None:
        """Evaluate one committed batch, then write the resulting transitions in one transaction.

        A batch with events goes ahead of any other call waiting, and of the rest of a telemetry batch being
        evaluated; the transitions that telemetry raised so far are written with the event batch's.
        """
        urgent = bool(batch.events)
        with self._lock.hold(urgent=urgent):
            # An event batch never steps aside for the urgent record on its way: that record may be its own.
            yields, self._yields = self._yields, not urgent
            try:
                self._process(batch, now)
            finally:
                self._yields = yields

    def tick(self, now: datetime | None = None) -> None:
        """Apply time: ``for`` periods, recovery, absence; follow operator actions and new pack versions."""
        with self._lock.hold():
            self._tick(now or datetime.now(UTC))

    def reload(self) -> None:
        """Re-read the rule pack, silences and device registry; open alarms and timers carry over."""
        with self._lock.hold():
            self._reload()

    def close(self) -> None:
        """Save the anomaly models and close the database connection."""
        with self._lock.hold():
            self._scorer.flush(datetime.now(UTC))
            self._conn.close()
            if self._own_store is not None:
                self._own_store.close()

    def open_alarms(self) -> list[OpenAlarm]:
        """The alarms the engine holds open (for diagnostics and tests)."""
        with self._lock.hold():
            return list(self._open.values())

    # ------------------------------------------------------------------ evaluation

    def _process(self, batch: Batch, now: datetime | None) -> None:
        life = self._life
        life.now = now or datetime.now(UTC)
        # Read, not waited for as a notification: a NOTIFY reaches this connection some time after the
        # operator's commit, and a batch evaluated before it arrived re-fired the alarm just cleared instead of
        # opening a new one (an entrapment right after a manual clear was lost).
        self._follow_operators()
        routing = self._routing
        devices = routing.devices
        unknown: list[Any] = []
        samples = batch.samples
        # A device clock ahead of ours (the gateway takes readings up to MAX_SKEW_S ahead) is read as now: an
        # evaluator ignores readings older than its last one, so a single reading stamped minutes ahead would
        # otherwise blind the device's rules until the clock caught up with it.
        latest = life.now
        for start in range(0, len(samples), LEND_EVERY):
            if start and self._urgent_pending():
                self._lend(now)
            for sample in samples[start:start + LEND_EVERY]:
                ctx = devices.get(sample.device_id)
                if ctx is None:
                    unknown.append(sample)
                    continue
                ts = sample.ts if sample.ts <= latest else latest
                if ctx.last_seen is None or ts > ctx.last_seen:
                    ctx.last_seen = ts
                by_metric = ctx.by_metric
                for metric, value in sample.metrics.items():
                    evaluators = by_metric.get(metric)
                    if evaluators is not None:
                        for evaluator in evaluators:
                            evaluator.reading(life, value, ts)
        events = batch.events
        if unknown or any(e.device_id not in devices for e in events):
            self._learn_devices({s.device_id for s in unknown} | {e.device_id for e in events})
            known = [s for s in unknown if s.device_id in devices]
            if known:
                self._process(Batch(samples=known), now)
        for event in events:
            ctx = devices.get(event.device_id)
            if ctx is None:
                continue
            if event.code not in PRESENCE and (ctx.last_seen is None or event.ts > ctx.last_seen):
                ctx.last_seen = event.ts
            at, detail = _when(event)
            for handler, clearing in ctx.by_event.get(event.code, ()):
                if clearing:
                    handler.clearing_event(life, event.code, at)
                else:
                    handler.event(life, event.code, at, detail)
        self._flush_deferred(now)
        routing.resume(life, self._open.values())
        self._flush()

    def _flush_deferred(self, now: datetime | None) -> None:
        """Score what this batch deferred (anomaly rows), letting waiting event batches in between.

        Anomaly scoring costs about a millisecond a row: a telemetry batch of many devices spends tens of
        milliseconds here, which an entrapment must not wait for.
        """
        routing = self._routing
        pending = list(routing.deferred)
        routing.deferred.clear()
        for done, deferred in enumerate(pending):
            if done % LEND_DEFERRED_EVERY == LEND_DEFERRED_EVERY - 1 and self._urgent_pending():
                self._lend(now)
            deferred.flush(self._life)

    def _urgent_pending(self) -> bool:
        return self._lock.urgent_waiting or (self._yields and self._give_way is not None and self._give_way.requested)

    def _lend(self, now: datetime | None) -> None:
        """Let the event batches waiting run now, in the middle of this telemetry batch, and those on their way.

        The anomaly scoring this batch has deferred stays its own: run by the event batch, it would put the
        cost of a telemetry batch back on the entrapment's path.
        """
        deferred = self._routing.deferred
        held_back = set(deferred)
        deferred.clear()
        give_way = self._give_way
        pause = self._yields and give_way is not None and give_way.requested
        self._lock.lend(during=give_way.wait if pause else None)
        deferred |= held_back
        self._life.now = now or datetime.now(UTC)  # the event batch set its own

    def _tick(self, now: datetime) -> None:
        life = self._life
        life.now = now
        if self._last_poll is None or (now - self._last_poll).total_seconds() >= self._reload_interval_s:
            self._last_poll = now
            try:
                changed = store.change_marks(self._conn) != self._marks
                self._conn.commit()
            except psycopg.OperationalError as exc:
                log.warning("could not check for rule changes (%s); reconnecting", exc)
                self._reconnect()
                changed = False
            if changed:
                self._reload()
        self._follow_operators()
        self._routing.check_silence(life, now)
        life.tick(now)
        self._flush()
        if self._last_checkpoint is None:
            self._last_checkpoint = now
        elif (now - self._last_checkpoint).total_seconds() >= self._checkpoint_interval_s:
            self._last_checkpoint = now
            self._scorer.flush(now)

    # ------------------------------------------------------------------ loading

    def _load(self) -> RulePack:
        """Read the pack, silences and devices; compile the pack for the devices this engine takes."""
        conn = self._conn
        self._marks = store.change_marks(conn)
        pack = store.effective_pack(conn, self._base_pack)
        silences = load_silences(conn)
        devices = [d for d in list_devices(conn) if self._takes(d.site_id)]
        conn.commit()
        self._life.mutes = Suppression(Silencer(silences), Inhibitor(pack.inhibitions, self._open)).mutes
        self._routing = Routing(pack, scorer=self._scorer, forecaster=self._forecaster)
        for device in devices:
            self._routing.add(device)
        self.urgency.publish(self._routing.triggers)
        return pack

    def _reload(self) -> None:
        previous = self._routing
        self.pack = self._load()
        for device_id, routes in self._routing.devices.items():
            old = previous.devices.get(device_id)
            if old is not None:
                routes.last_seen = old.last_seen
        for fingerprint, evaluator in self._routing.owners.items():
            old_owner = previous.owners.get(fingerprint)
            if old_owner is not None:
                evaluator.adopt(old_owner)
        self._attach(list(self._open.values()))

    def _attach(self, alarms: list[OpenAlarm]) -> None:
        """Give each open alarm to the evaluator that now owns its fingerprint; clear orphans."""
        owners = self._routing.owners
        for alarm in alarms:
            evaluator = owners.get(alarm.fingerprint)
            if evaluator is None:
                self._life.clear(alarm, self._life.now or datetime.now(UTC), "rule no longer applies", {})
                continue
            alarm.rule = evaluator.rule
            alarm.owner = evaluator
            evaluator.alarm = alarm
            if alarm.last_seen > evaluator.last_ts:
                evaluator.last_ts = alarm.last_seen
        self._flush()

    def _restore(self) -> None:
        """Reload open alarms, replay guards and the last telemetry time of each device after a start."""
        owners = self._routing.owners
        for fingerprint, seen in store.replay_marks(self._conn).items():
            evaluator = owners.get(fingerprint)
            if evaluator is not None and seen > evaluator.last_ts:
                evaluator.last_ts = seen
        restored = []
        for row in store.open_alarms(self._conn, sorted(self._sites)):
            evaluator = owners.get(row.fingerprint)
            rule = evaluator.rule if evaluator else None
            if rule is None:
                rule = next((r for r in self.pack.rules if r.id == row.rule_id), None)
            if rule is None:
                log.warning("open alarm %s has no rule %s in the pack; left as is", row.id, row.rule_id)
                continue
            site_id, building_id, device_id = (evaluator.site_id, evaluator.building_id, evaluator.device_id) \
                if evaluator else ("", None, None)
            restored.append(OpenAlarm(
                row.fingerprint, rule, site_id, building_id, device_id, row.state, row.first_seen, row.last_seen,
                row.value, dict(row.detail), id=row.id, activated_at=row.activated_at,
                recovering_since=row.recovering_since, suppressed=row.suppressed, persisted_seen=row.last_seen,
                raised_in_silence=row.raised_in_silence, silence_id=row.silence_id, returned_at=row.returned_at))
        for alarm in restored:
            self._open[alarm.fingerprint] = alarm
        devices = self._routing.devices
        for device_id, ts in last_seen(self._conn).items():
            if device_id in devices:
                devices[device_id].last_seen = ts
        self._conn.commit()
        self._attach(restored)

    def _learn_devices(self, device_ids: set[str]) -> None:
        missing = [d for d in device_ids if d not in self._routing.devices and d not in self._foreign]
        if not missing:
            return
        found = get_devices(self._conn, missing)
        self._conn.commit()
        for device in found:
            if self._takes(device.site_id):
                self._routing.add(device)
            else:
                self._foreign.add(device.id)
        self.urgency.publish(self._routing.triggers)

    def _takes(self, site_id: str) -> bool:
        """Whether this engine evaluates the site (every site when it was given none)."""
        return not self._sites or site_id in self._sites

    # ------------------------------------------------------------------ persistence

    def _follow_operators(self, changes: list[Change] | None = None) -> set[OpenAlarm]:
        """Read the operator actions recorded since the last call and apply them (``Lifecycle.follow``).

        Returns the alarms an operator has cleared, whose pending writes must be dropped.
        """
        try:
            actions = store.operator_actions(self._conn, self._action_mark)
            self._conn.commit()
        except psycopg.OperationalError as exc:
            # Evaluation must not wait for this; the actions are read again on the next call.
            log.warning("could not read operator actions (%s); reconnecting", exc)
            self._reconnect()
            return set()
        if actions:
            self._action_mark = actions[-1].transition_id
        return self._life.follow(actions, changes or ())

    def _flush(self) -> None:
        changes, alarms = self._life.take()
        if not changes and not alarms:
            return
        try:
            # Operator actions are read only when there is something to write, not once per batch.
            cleared = self._follow_operators(changes)
            changes = [c for c in changes if c.alarm not in cleared]
            alarms = [a for a in alarms if a not in cleared]
            store.write_changes(self._conn, changes, alarms)
        except psycopg.Error:
            # Keep what was not written; the next process() or tick() writes it (the fingerprint index keeps
            # a retried insert from duplicating an alarm).
            self._life.restore(changes, alarms)
            self._reconnect()
            raise

    def _reconnect(self) -> None:
        if not self._conn.closed:
            try:
                self._conn.rollback()
                return
            except psycopg.Error:
                self._conn.close()
        self._conn = connect(self._url)


def _when(event: DeviceEvent) -> tuple[datetime, dict[str, Any]]:
    """The time an alarm takes from ``event``, and the detail it carries.

    A late event (device time long before receipt: a replayed buffer, a clock behind) acts at its receipt, so
    the alarm's activation and every deadline counted from it (SLA, escalation) start when the platform could
    first respond, never in the past. Its alarm is marked ``late`` with the device time; the stored event keeps
    its device time.
    """
    if not event.late or event.received_at is None:
        return event.ts, event.detail
    return event.received_at, {**event.detail, "late": True, "device_ts": event.ts.isoformat()}
