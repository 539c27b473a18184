"""What every device model shares: seeded randomness, an event outbox, faults and sensor faults."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from gateway.protocol.catalog import DeviceType, device_type
from simulators.estate import DeviceLayout
from simulators.faults import SENSOR_FAULTS
from simulators.parameters import params

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for local hours.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def device_seed(seed: int, device_id: str) -> int:
    """A per-device seed that is stable across processes (unlike ``hash``)."""
    digest = hashlib.sha256(f"{seed}:{device_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class ActiveFault:
    """A fault in force on a model, with the simulated time it started."""

    name: str
    started: datetime
    params: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Emitted:
    """An event the model raised during a step."""

    ts: datetime
    code: str
    detail: dict[str, Any]


class DeviceModel:
    """Base class. Subclasses implement ``_advance`` (physics), ``_raw_metrics`` and their fault hooks.

    Time is simulated time (UTC-aware); ``step`` is called with a fixed ``dt`` so that a seed and a start time
    fully determine every value the model produces.
    """

    device_type: str = ""
    faults: frozenset[str] = frozenset()

    def __init__(self, layout: DeviceLayout, *, seed: int, start: datetime) -> None:
        self.layout = layout
        self.rng = random.Random(device_seed(seed, layout.id))
        # Measurement noise draws from its own stream so that how often a model is sampled never changes
        # its physics.
        self._noise_rng = random.Random(device_seed(seed + 1, layout.id))
        self.now = start
        self.p = params(self.device_type)
        self.catalog: DeviceType = device_type(self.device_type)
        self.active: dict[str, ActiveFault] = {}
        self._outbox: list[Emitted] = []

    # -- driving -------------------------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        """Advance the physics by ``dt`` simulated seconds."""
        self.now += timedelta(seconds=dt)
        self._advance(dt)

    def metrics(self, names: list[str] | None = None) -> dict[str, float]:
        """Current sensor readings (after sensor faults), limited to ``names`` if given."""
        raw = self._raw_metrics()
        values = {name: raw[name] for name in (names or raw) if name in raw}
        for fault in self.active.values():
            metric = fault.params.get("metric")
            if fault.name not in SENSOR_FAULTS or metric not in values:
                continue
            if fault.name == "sensor_dropout":
                del values[metric]
            elif fault.name == "sensor_stuck":
                values[metric] = fault.state.setdefault("value", raw[metric])
            else:
                hours = (self.now - fault.started).total_seconds() / 3600
                values[metric] = raw[metric] + float(fault.params.get("rate_per_h", 0.0)) * hours
        return {name: self._clamp(name, value) for name, value in values.items()}

    def drain_events(self) -> list[Emitted]:
        """Events raised since the last call, oldest first."""
        events, self._outbox = self._outbox, []
        return events

    # -- faults --------------------------------------------------------------------------------------------
    def start_fault(self, name: str, params: dict[str, Any] | None = None) -> None:
        """Put fault ``name`` in force; ``ValueError`` if this device type cannot have it."""
        params = dict(params or {})
        if name in SENSOR_FAULTS:
            metric = params.setdefault("metric", self.default_sensor())
            if metric not in self.catalog.metrics:
                raise ValueError(f"{self.device_type} has no metric {metric!r}")
        elif name not in self.faults:
            raise ValueError(f"fault {name!r} does not apply to a {self.device_type}")
        fault = ActiveFault(name, self.now, params)
        self.active[name] = fault
        self._on_fault_start(fault)

    def end_fault(self, name: str) -> None:
        """Lift fault ``name`` (no effect if it is not in force)."""
        fault = self.active.pop(name, None)
        if fault is not None:
            self._on_fault_end(fault)

    def default_sensor(self) -> str:
        """The metric sensor faults act on when none is named."""
        return next(iter(self.catalog.metrics))

    # -- helpers for subclasses ----------------------------------------------------------------------------
    def emit(self, code: str, **detail: Any) -> None:
        """Raise event ``code`` (must be in the device type's catalogue)."""
        if code not in self.catalog.events:
            raise ValueError(f"{code!r} is not a {self.device_type} event code")
        self._outbox.append(Emitted(self.now, code, detail))

    def local_hour(self) -> int:
        """Hour of day on the estate's clock (China Standard Time)."""
        return self.now.astimezone(CHINA).hour

    def noise(self, sigma: float) -> float:
        """Gaussian measurement noise."""
        return self._noise_rng.gauss(0.0, sigma)

    def _clamp(self, name: str, value: float) -> float:
        spec = self.catalog.metrics[name]
        return round(min(max(value, spec.min), spec.max), 4)

    def _advance(self, dt: float) -> None:
        raise NotImplementedError

    def _raw_metrics(self) -> dict[str, float]:
        raise NotImplementedError

    def _on_fault_start(self, fault: ActiveFault) -> None:
        """Hook: a model-level fault started (sensor faults need no hook)."""

    def _on_fault_end(self, fault: ActiveFault) -> None:
        """Hook: a model-level fault ended."""
