"""The rule pack compiled against the estate's devices: which evaluators each reading and event feeds.

``Routing.add(device)`` offers a device every rule of its type and every rule not tied to one type
(composites). The rule's subject (the device itself, or for a scope kind its building or site) picks the
overrides that apply; then the rule's kind binds it (``rules.kinds``), writing into a ``Binding``: evaluators
by metric and event code, clock watchers, urgent triggers, evaluators shared by a scope. The engine's hot
path reads the ``DeviceRoutes`` and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingest.registry import Device
from rules.evaluators import ClearingHandler, Deferred, Evaluator, EventHandler, Reader, Subject, Watcher
from rules.hooks import AnomalyScorer, Forecaster
from rules.kinds import KINDS, RuleKind
from rules.lifecycle import Lifecycle, OpenAlarm
from rules.model import Rule, RulePack
from rules.overrides import Overrides
from rules.urgency import Triggers


@dataclass(slots=True, eq=False)
class DeviceRoutes:
    """One device, the evaluators its data feeds, and when it last sent telemetry."""

    device: Device
    by_metric: dict[str, list[Reader]] = field(default_factory=dict)
    # (handler, clearing): an ``EventHandler`` if not clearing, else a ``ClearingHandler``.
    by_event: dict[str, list[tuple[Any, bool]]] = field(default_factory=dict)
    last_seen: datetime | None = None


class Binding:
    """What a kind's binder writes into when it compiles a rule for one device.

    ``scorer`` and ``forecaster`` are the engine's model hooks; ``deferred`` collects evaluators that decide at
    the end of a batch.
    """

    __slots__ = ("_events", "_levels", "_routes", "_routing", "deferred", "device", "forecaster", "scorer")

    def __init__(self, routing: Routing, routes: DeviceRoutes) -> None:
        self._routing = routing
        self._routes = routes
        self._events: list[str] = []
        self._levels: list[tuple[str, bool, float]] = []
        self.device = routes.device
        self.scorer = routing.scorer
        self.forecaster = routing.forecaster
        self.deferred = routing.deferred

    def reading(self, metric: str, reader: Reader) -> None:
        """Feed the device's readings of ``metric`` to ``reader``."""
        self._routes.by_metric.setdefault(metric, []).append(reader)

    def event(self, code: str, handler: EventHandler) -> None:
        """Feed the device's events of ``code`` to ``handler``."""
        self._routes.by_event.setdefault(code, []).append((handler, False))

    def clearing_event(self, code: str, handler: ClearingHandler) -> None:
        """Let the device's events of ``code`` end ``handler``'s alarm."""
        self._routes.by_event.setdefault(code, []).append((handler, True))

    def watch(self, watcher: Watcher) -> None:
        """Have ``watcher`` look at the device's silence on every tick."""
        self._routing.watch(watcher, self._routes)

    def urgent_event(self, code: str) -> None:
        """An event of ``code`` from the device may raise an alarm at once (``rules.urgency``)."""
        self._events.append(code)

    def urgent_level(self, metric: str, upward: bool, trip: float) -> None:
        """A reading of ``metric`` crossing ``trip`` (upward or downward) may raise an alarm at once."""
        self._levels.append((metric, upward, trip))

    def shared(self, fingerprint: str, make: Callable[[], Evaluator]) -> Evaluator:
        """The evaluator of ``fingerprint`` that several devices feed (one building or site), made on first use."""
        return self._routing.shared(fingerprint, make)

    def triggers(self) -> Triggers:
        """The device's urgent triggers declared so far."""
        return Triggers.of(self._events, self._levels)


class Routing:
    """A pack compiled for the devices added to it: their routes, the evaluators owning alarms (by fingerprint)
    and the devices' urgent triggers."""

    def __init__(self, pack: RulePack, *, scorer: AnomalyScorer, forecaster: Forecaster) -> None:
        self.scorer = scorer
        self.forecaster = forecaster
        self.devices: dict[str, DeviceRoutes] = {}
        self.owners: dict[str, Evaluator] = {}
        self.triggers: dict[str, Triggers] = {}
        self.deferred: set[Deferred] = set()
        self._watched: dict[object, tuple[Watcher, DeviceRoutes]] = {}
        self._shared: dict[str, Evaluator] = {}
        self._overrides = Overrides(pack.overrides)
        self._offered: dict[str | None, list[tuple[RuleKind, Rule]]] = defaultdict(list)
        for rule in pack.rules:
            kind = KINDS[rule.kind]
            self._offered[rule.device_type if kind.device_typed else None].append((kind, rule))

    def add(self, device: Device) -> None:
        """Compile every rule that applies to ``device``."""
        routes = DeviceRoutes(device)
        self.devices[device.id] = routes
        binding = Binding(self, routes)
        itself = Subject(device.id, device.site_id, device.building_id, device.id,
                         {"device": device.id, "building": device.building_id, "site": device.site_id})
        for kind, base in (*self._offered.get(device.type, ()), *self._offered.get(None, ())):
            subject = itself if kind.scope is None else kind.scope(base, device)
            if subject is None:
                continue
            rule = self._overrides.apply(base, subject.scopes)
            if not rule.enabled:
                continue
            owner = kind.bind(rule, subject, binding)
            if owner is not None:
                self.owners[owner.fingerprint] = owner
        triggers = binding.triggers()
        if triggers:
            self.triggers[device.id] = triggers

    def watch(self, watcher: Watcher, routes: DeviceRoutes) -> None:
        """Have ``watcher`` look at the silence of ``routes``' device."""
        self._watched[watcher] = (watcher, routes)

    def shared(self, fingerprint: str, make: Callable[[], Evaluator]) -> Evaluator:
        """The evaluator of ``fingerprint`` shared by several devices, made on first use."""
        evaluator = self._shared.get(fingerprint)
        if evaluator is None:
            evaluator = self._shared[fingerprint] = make()
        return evaluator

    def check_silence(self, life: Lifecycle, now: datetime) -> None:
        """Let every clock watcher compare ``now`` with its device's last telemetry."""
        for watcher, routes in self._watched.values():
            watcher.check(life, now, routes.last_seen)

    def resume(self, life: Lifecycle, alarms: Iterable[OpenAlarm]) -> None:
        """End, among ``alarms``, those of clock watchers whose device has spoken since the alarm began."""
        for alarm in list(alarms):
            watched = self._watched.get(alarm.owner)
            if watched is None:
                continue
            watcher, routes = watched
            if routes.last_seen is not None and routes.last_seen > alarm.first_seen:
                watcher.check(life, routes.last_seen, routes.last_seen)
