"""The rules engine: evaluates committed batches and the passage of time into alarm transitions.

Per batch: each reading goes to the evaluators indexed by (device, metric), each event to those indexed by
(device, code); the lifecycle collects changes; one transaction writes them with their NOTIFYs. No database
round trip happens per reading. Open alarms (pending timers included) live in the database, so a restarted
engine reloads them and carries on where the old one stopped.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import psycopg

from ingest.database import connect
from ingest.history import last_seen
from ingest.records import Batch
from ingest.registry import Device, list_devices
from rules import store
from rules.anomaly.dbstore import DatabaseModelStore
from rules.evaluators import (
    AbsenceEvaluator,
    AnomalyChannel,
    AnomalyEvaluator,
    CompositeEvaluator,
    CompositeLeg,
    Evaluator,
    EventEvaluator,
    ForecastEvaluator,
    RateEvaluator,
    ThresholdEvaluator,
)
from rules.hooks import AnomalyScorer, DetectorScorer, Forecaster, TrendForecaster
from rules.lifecycle import ACKNOWLEDGED, ACTIVE, CLEARED, Change, Lifecycle, OpenAlarm, Suppression
from rules.model import (
    Absence,
    AnomalySpec,
    Composite,
    EventMatch,
    ForecastSpec,
    Inhibition,
    Level,
    Override,
    Rate,
    Rule,
    RulePack,
    Threshold,
)
from rules.silences import Silence, load_silences
from rules.urgency import Triggers, Urgency

log = logging.getLogger(__name__)

PRESENCE = frozenset({"online", "offline"})
# Override keys that live on the rule itself; the others change its kind-specific spec.
RULE_KEYS = {"enabled": "enabled", "severity": "severity", "for": "for_s", "clear_for": "clear_for_s",
             "manual_clear": "manual_clear"}
SPEC_KEYS = {"window": "window_s", "after": "seconds", "within": "within_s", "horizon": "horizon_s"}
SCOPE_ORDER = ("site", "building", "device")


@dataclass(eq=False)
class DeviceContext:
    """One device and the evaluators its data feeds."""

    device: Device
    by_metric: dict[str, list[Any]] = field(default_factory=dict)
    by_event: dict[str, list[tuple[Any, bool]]] = field(default_factory=dict)
    absence: list[AbsenceEvaluator] = field(default_factory=list)
    last_seen: datetime | None = None


def apply_overrides(rule: Rule, overrides: list[Override], scopes: dict[str, str | None]) -> Rule:
    """``rule`` with the overrides that match ``scopes`` applied, site first, then building, then device."""
    matching = [o for o in overrides if o.rule == rule.id and scopes.get(o.scope_type) == o.scope_id]
    for override in sorted(matching, key=lambda o: SCOPE_ORDER.index(o.scope_type)):
        rule_changes = {RULE_KEYS[k]: v for k, v in override.values.items() if k in RULE_KEYS}
        spec_changes = {SPEC_KEYS.get(k, k): v for k, v in override.values.items() if k not in RULE_KEYS}
        spec = replace(rule.spec, **{k: v for k, v in spec_changes.items() if hasattr(rule.spec, k)})
        rule = replace(rule, spec=spec, **rule_changes)
    return rule


def _threshold_levels(spec: Threshold, attributes: dict[str, Any]) -> tuple[float, float] | None:
    level = spec.above or spec.below
    assert level is not None
    trip = level.resolve(attributes)
    if trip is None:
        return None
    clear = (spec.clear or Level(constant=trip)).resolve(attributes)
    return trip, trip if clear is None else clear


def _device_triggers(ctx: DeviceContext) -> Triggers:
    """What the device sends that an immediate rule (no ``for`` period) acts on at once."""
    events = [code for code, bound in ctx.by_event.items()
              if any(not clearing and _rule_of(target).for_s == 0 for target, clearing in bound)]
    levels = []
    for evaluators in ctx.by_metric.values():
        for evaluator in evaluators:
            if isinstance(evaluator, ThresholdEvaluator) and evaluator.rule.for_s == 0:
                levels.append((evaluator.metric, evaluator.upward, evaluator.trip))
            elif isinstance(evaluator, CompositeLeg) and evaluator.composite.rule.for_s == 0:
                condition = evaluator.condition
                if condition.above is not None:
                    levels.append((condition.metric, True, condition.above))
                if condition.below is not None:
                    levels.append((condition.metric, False, condition.below))
    return Triggers.of(events, levels)


def _rule_of(target: Any) -> Rule:
    return target.composite.rule if isinstance(target, CompositeLeg) else target.rule


class RuleEngine:
    """Evaluate batches and time against a rule pack; persist alarm transitions and NOTIFY ``pw_alarms``.

    The rules in force are ``pack`` (``None``: the default pack; ``rules.packs.load_pack_file`` gives the
    defaults with a site file over them) with the packs stored in the database laid over it, re-read when a
    new version is published (checked every ``reload_interval_s`` of ``tick`` time). The default scorer keeps
    anomaly models in ``anomaly_models``; ``tick`` checkpoints them every ``checkpoint_interval_s`` and ``close``
    once more. ``process`` and ``tick`` may come from different threads; they run one at a time.

    ``urgency`` tells a gateway which records may raise an alarm at once (``rules.urgency``); it follows the
    pack and the devices the engine knows.

    With ``sites`` the engine is one partition of the estate: it knows only those sites' devices and open
    alarms, and ignores readings of others (which another partition evaluates). No rule spans sites, so
    partitions never need each other's state.
    """

    def __init__(self, database_url: str, pack: RulePack | None = None, *, scorer: AnomalyScorer | None = None,
                 forecaster: Forecaster | None = None, reload_interval_s: float = 5.0,
                 checkpoint_interval_s: float = 300.0, sites: Sequence[str] = ()) -> None:
        self._url = database_url
        self._sites = frozenset(sites)
        self._foreign: set[str] = set()  # devices of sites another partition evaluates
        # The gateway's writer thread calls process() and the pipeline's timer calls tick(): one at a time.
        self._lock = threading.Lock()
        self._conn: psycopg.Connection = connect(self._url)
        self._base_pack = pack
        # A model store the engine makes is the engine's to close.
        self._own_store = DatabaseModelStore(database_url) if scorer is None else None
        self._scorer = scorer or DetectorScorer(self._own_store)
        self._forecaster = forecaster or TrendForecaster()
        self._reload_interval_s = reload_interval_s
        self._checkpoint_interval_s = checkpoint_interval_s
        self._open: dict[str, OpenAlarm] = {}
        self._life = Lifecycle(self._open, self._suppression)
        self._devices: dict[str, DeviceContext] = {}
        self._triggers: dict[str, Triggers] = {}
        self.urgency = Urgency()
        self._composites: dict[str, CompositeEvaluator] = {}
        self._pending_rows: set[AnomalyEvaluator] = set()
        self._silences: list[Silence] = []
        self._inhibitions: list[Inhibition] = []
        self._marks: tuple[int, int, int] = (0, 0, 0)
        self._last_poll: datetime | None = None
        self._last_checkpoint: datetime | None = None
        self._action_mark = store.last_transition_id(self._conn)
        self._conn.commit()
        self.pack: RulePack = self._load()
        self._restore()

    # ------------------------------------------------------------------ public API

    def process(self, batch: Batch, now: datetime | None = None) -> None:
        """Evaluate one committed batch, then write the resulting transitions in one transaction."""
        with self._lock:
            self._process(batch, now)

    def tick(self, now: datetime | None = None) -> None:
        """Apply time: ``for`` periods, recovery, absence; follow operator actions and new pack versions."""
        with self._lock:
            self._tick(now or datetime.now(UTC))

    def reload(self) -> None:
        """Re-read the rule pack, silences and device registry; open alarms and timers carry over."""
        with self._lock:
            self._reload()

    def close(self) -> None:
        """Save the anomaly models and close the database connection."""
        with self._lock:
            self._scorer.flush(datetime.now(UTC))
            self._conn.close()
            if self._own_store is not None:
                self._own_store.close()

    def open_alarms(self) -> list[OpenAlarm]:
        """The alarms the engine holds open (for diagnostics and tests)."""
        with self._lock:
            return list(self._open.values())

    # ------------------------------------------------------------------ evaluation

    def _process(self, batch: Batch, now: datetime | None) -> None:
        life = self._life
        life.now = now or datetime.now(UTC)
        # Read, not waited for as a notification: a NOTIFY reaches this connection some time after the
        # operator's commit, and a batch evaluated before it arrived re-fired the alarm just cleared instead of
        # opening a new one (an entrapment right after a manual clear was lost).
        self._follow_operators()
        devices = self._devices
        unknown: list[Any] = []
        for sample in batch.samples:
            ctx = devices.get(sample.device_id)
            if ctx is None:
                unknown.append(sample)
                continue
            ts = sample.ts
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
            for evaluator, clearing in ctx.by_event.get(event.code, ()):
                if clearing:
                    evaluator.clearing_event(life, event.code, event.ts)
                else:
                    evaluator.event(life, event.code, event.ts, event.detail)
        for evaluator in self._pending_rows:
            evaluator.flush(life)
        self._pending_rows.clear()
        self._resume_absent()
        self._flush()

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
        for ctx in self._devices.values():
            for evaluator in ctx.absence:
                evaluator.check(life, now, ctx.last_seen)
        life.tick(now)
        self._release_silenced(now)
        self._flush()
        if self._last_checkpoint is None:
            self._last_checkpoint = now
        elif (now - self._last_checkpoint).total_seconds() >= self._checkpoint_interval_s:
            self._last_checkpoint = now
            self._scorer.flush(now)

    def _reload(self) -> None:
        last_seen = {device_id: ctx.last_seen for device_id, ctx in self._devices.items()}
        previous = self._evaluators()
        self.pack = self._load()
        for device_id, seen in last_seen.items():
            if device_id in self._devices:
                self._devices[device_id].last_seen = seen
        for fingerprint, evaluator in self._evaluators().items():
            if fingerprint in previous:
                evaluator.adopt(previous[fingerprint])
        self._attach(list(self._open.values()))

    # ------------------------------------------------------------------ loading and compiling

    def _load(self) -> RulePack:
        conn = self._conn
        self._marks = store.change_marks(conn)
        pack = store.effective_pack(conn, self._base_pack)
        self._silences = load_silences(conn)
        devices = [d for d in list_devices(conn) if self._takes(d.site_id)]
        conn.commit()
        self._inhibitions = list(pack.inhibitions)
        self._devices = {}
        self._triggers = {}
        self._composites = {}
        self._compile(pack, devices)
        self.urgency.publish(self._triggers)
        return pack

    def _compile(self, pack: RulePack, devices: list[Device]) -> None:
        by_type: dict[str, list[Rule]] = defaultdict(list)
        composites: list[Rule] = []
        for rule in pack.rules:
            if rule.kind == "composite":
                composites.append(rule)
            elif rule.device_type:
                by_type[rule.device_type].append(rule)
        overrides = defaultdict(list)
        for override in pack.overrides:
            overrides[override.rule].append(override)
        self._pack_index = (by_type, composites, overrides)
        for device in devices:
            self._add_device(device)

    def _add_device(self, device: Device) -> None:
        by_type, composites, overrides = self._pack_index
        ctx = DeviceContext(device)
        self._devices[device.id] = ctx
        scopes = {"device": device.id, "building": device.building_id, "site": device.site_id}
        subject = {"site_id": device.site_id, "building_id": device.building_id, "device_id": device.id,
                   "subject": device.id}
        for base in by_type.get(device.type, ()):
            rule = apply_overrides(base, overrides.get(base.id, []), scopes)
            if rule.enabled:
                self._bind(ctx, rule, subject)
        for base in composites:
            spec = base.spec
            assert isinstance(spec, Composite)
            scope_id = device.building_id if spec.scope == "building" else device.site_id
            if scope_id is None:
                continue
            rule = apply_overrides(base, overrides.get(base.id, []), {spec.scope: scope_id})
            if not rule.enabled:
                continue
            key = f"{rule.id}/{spec.scope}:{scope_id}"
            composite = self._composites.get(key)
            if composite is None:
                composite = self._composites[key] = CompositeEvaluator(
                    rule, rule.spec, site_id=device.site_id,
                    building_id=device.building_id if spec.scope == "building" else None,
                    device_id=None, subject=f"{spec.scope}:{scope_id}")
            types = set()
            for index, condition in enumerate(spec.conditions):
                if condition.device_type != device.type:
                    continue
                types.add(condition.device_type)
                leg = CompositeLeg(composite, index, condition, device.id)
                if condition.event:
                    ctx.by_event.setdefault(condition.event, []).append((leg, False))
                elif condition.metric:
                    ctx.by_metric.setdefault(condition.metric, []).append(leg)
            if types:
                for code in spec.clear_events:
                    ctx.by_event.setdefault(code, []).append((composite, True))
        triggers = _device_triggers(ctx)
        if triggers:
            self._triggers[device.id] = triggers

    def _bind(self, ctx: DeviceContext, rule: Rule, subject: dict[str, Any]) -> None:
        spec = rule.spec
        attributes = ctx.device.attributes
        if isinstance(spec, Threshold):
            levels = _threshold_levels(spec, attributes)
            if levels is not None:
                ctx.by_metric.setdefault(spec.metric, []).append(
                    ThresholdEvaluator(rule, spec, levels[0], levels[1], **subject))
        elif isinstance(spec, Rate):
            ctx.by_metric.setdefault(spec.metric, []).append(RateEvaluator(rule, spec, **subject))
        elif isinstance(spec, EventMatch):
            evaluator = EventEvaluator(rule, spec, **subject)
            for code in spec.codes:
                ctx.by_event.setdefault(code, []).append((evaluator, False))
            for code in spec.clear_events:
                ctx.by_event.setdefault(code, []).append((evaluator, True))
        elif isinstance(spec, Absence):
            ctx.absence.append(AbsenceEvaluator(rule, spec.seconds, **subject))
        elif isinstance(spec, AnomalySpec):
            evaluator = AnomalyEvaluator(rule, spec, self._scorer, **subject)
            for metric in spec.metrics:
                ctx.by_metric.setdefault(metric, []).append(AnomalyChannel(evaluator, metric, self._pending_rows))
        elif isinstance(spec, ForecastSpec):
            threshold = spec.threshold.resolve(attributes)
            if threshold is not None:
                ctx.by_metric.setdefault(spec.metric, []).append(
                    ForecastEvaluator(rule, spec, threshold, self._forecaster, **subject))

    def _evaluators(self) -> dict[str, Evaluator]:
        found: dict[str, Evaluator] = {}
        for ctx in self._devices.values():
            for evaluators in ctx.by_metric.values():
                found.update((e.fingerprint, e) for e in evaluators if isinstance(e, Evaluator))
                found.update((e.evaluator.fingerprint, e.evaluator) for e in evaluators
                             if isinstance(e, AnomalyChannel))
            for pairs in ctx.by_event.values():
                found.update((e.fingerprint, e) for e, _ in pairs if isinstance(e, Evaluator))
            found.update((e.fingerprint, e) for e in ctx.absence)
        found.update((c.fingerprint, c) for c in self._composites.values())
        return found

    def _attach(self, alarms: list[OpenAlarm]) -> None:
        """Give each open alarm to the evaluator that now owns its fingerprint; clear orphans."""
        evaluators = self._evaluators()
        for alarm in alarms:
            evaluator = evaluators.get(alarm.fingerprint)
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
        evaluators = self._evaluators()
        for fingerprint, seen in store.replay_marks(self._conn).items():
            evaluator = evaluators.get(fingerprint)
            if evaluator is not None and seen > evaluator.last_ts:
                evaluator.last_ts = seen
        restored = []
        for row in store.open_alarms(self._conn, sorted(self._sites)):
            evaluator = evaluators.get(row.fingerprint)
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
                recovering_since=row.recovering_since, suppressed=row.suppressed, persisted_seen=row.last_seen))
        for alarm in restored:
            self._open[alarm.fingerprint] = alarm
        for device_id, ts in last_seen(self._conn).items():
            if device_id in self._devices:
                self._devices[device_id].last_seen = ts
        self._conn.commit()
        self._attach(restored)

    def _learn_devices(self, device_ids: set[str]) -> None:
        missing = [d for d in device_ids if d not in self._devices and d not in self._foreign]
        if not missing:
            return
        rows = self._conn.execute(
            "SELECT id, site_id, type, name, building_id, model, attributes FROM devices WHERE id = ANY(%s)",
            (missing,)).fetchall()
        self._conn.commit()
        for row in rows:
            device = Device(*row)
            if self._takes(device.site_id):
                self._add_device(device)
            else:
                self._foreign.add(device.id)
        self.urgency.publish(self._triggers)

    def _takes(self, site_id: str) -> bool:
        """Whether this engine evaluates the site (every site when it was given none)."""
        return not self._sites or site_id in self._sites

    # ------------------------------------------------------------------ suppression

    def _suppression(self, alarm: OpenAlarm, at: datetime) -> Suppression | None:
        scopes = {"device": alarm.device_id, "building": alarm.building_id, "site": alarm.site_id}
        for silence in self._silences:
            if scopes.get(silence.scope_type) == silence.scope_id and silence.covers(at):
                return Suppression(f"silence {silence.id}: {silence.reason}", silence=True)
        rule = alarm.rule
        for inhibition in self._inhibitions:
            if rule.id not in inhibition.target_rules and rule.category not in inhibition.target_categories:
                continue
            wanted = scopes.get(inhibition.scope)
            if wanted is None:
                continue
            for source in self._open.values():
                if source is alarm or source.state not in (ACTIVE, ACKNOWLEDGED):
                    continue
                if source.rule.id not in inhibition.source_rules and \
                        source.rule.category not in inhibition.source_categories:
                    continue
                source_scope = {"device": source.device_id, "building": source.building_id,
                                "site": source.site_id}[inhibition.scope]
                if source_scope == wanted:
                    return Suppression(f"inhibited by {source.fingerprint} ({inhibition.id}): {inhibition.reason}",
                                       silence=False)
        return None

    def _release_silenced(self, now: datetime) -> None:
        """Silenced alarms still open when no silence (nor an inhibition) covers them any more."""
        for alarm in [a for a in self._open.values() if a.suppressed and a.detail.get("silenced")]:
            if alarm.state in (ACTIVE, ACKNOWLEDGED) and self._suppression(alarm, now) is None:
                self._life.release(alarm, now)

    # ------------------------------------------------------------------ persistence

    def _resume_absent(self) -> None:
        """An open absence alarm ends as soon as its device speaks again."""
        for alarm in [a for a in self._open.values() if isinstance(a.owner, AbsenceEvaluator)]:
            ctx = self._devices.get(alarm.device_id or "")
            owner = alarm.owner
            assert isinstance(owner, AbsenceEvaluator)
            if ctx is not None and ctx.last_seen is not None and ctx.last_seen > alarm.first_seen:
                owner.check(self._life, ctx.last_seen, ctx.last_seen)

    def _follow_operators(self, changes: list[Change] | None = None) -> set[OpenAlarm]:
        """Apply acknowledgements and manual clears made through ``rules.alarms`` by other connections.

        ``changes`` not yet written are corrected to start from the acknowledged state. Returns the alarms an
        operator has cleared, whose pending writes must be dropped.
        """
        try:
            actions = store.operator_actions(self._conn, self._action_mark)
            self._conn.commit()
        except psycopg.OperationalError as exc:
            # Evaluation must not wait for this; the actions are read again on the next call.
            log.warning("could not read operator actions (%s); reconnecting", exc)
            self._reconnect()
            return set()
        changes = changes or []
        by_id = {a.id: a for a in self._open.values() if a.id is not None}
        by_id.update((c.alarm.id, c.alarm) for c in changes if c.alarm.id is not None)
        operator_cleared: set[OpenAlarm] = set()
        for action in actions:
            self._action_mark = action.transition_id
            alarm = by_id.get(action.alarm_id)
            if alarm is None:
                continue
            if action.to_state == CLEARED:
                operator_cleared.add(alarm)
                self._open.pop(alarm.fingerprint, None)
                alarm.state = CLEARED
                if alarm.owner is not None and alarm.owner.alarm is alarm:
                    alarm.owner.alarm = None
            elif action.to_state == ACKNOWLEDGED:
                if alarm.state == ACTIVE:
                    alarm.state = ACKNOWLEDGED
                for change in changes:
                    if change.alarm is alarm and change.from_state == ACTIVE:
                        change.from_state = ACKNOWLEDGED
        return operator_cleared

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

