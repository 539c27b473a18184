"""A simulated device: its model, its seq counter and telemetry schedule, and the bytes it puts on the wire.

Nothing here touches the network, so a device can be driven offline (tests, replays) or by ``SiteSimulator``.
Valid payloads are built with the protocol models and ``gateway.protocol.encode``; only the deliberately
malformed ones are written by hand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from gateway.protocol import (
    MAX_METRICS,
    MAX_PAYLOAD_BYTES,
    EventMessage,
    StateMessage,
    TelemetryMessage,
    TopicKind,
    encode,
)
from simulators.estate import DeviceLayout
from simulators.models import MODELS, DeviceModel

FIRMWARE = "propwatch-sim/1.0"
DEFAULT_SKEW_S = 600.0


@dataclass(frozen=True)
class Outgoing:
    """One message to publish: ``kind`` is the last topic level (normally a ``TopicKind``)."""

    kind: str
    payload: bytes
    seq: int | None = None
    retain: bool = False
    malformed: str | None = None  # the rejection reason a malformed message should provoke


class SimulatedDevice:
    """Wraps a device model with the protocol: seq numbering, per-period telemetry groups, events, faults
    of the transport (clock skew, malformed payloads)."""

    def __init__(self, layout: DeviceLayout, *, seed: int, start: datetime) -> None:
        self.layout = layout
        self.model: DeviceModel = MODELS[layout.type](layout, seed=seed, start=start)
        self.seq = 0
        self.elapsed = 0.0
        self.skew = timedelta(0)
        self._last_telemetry: Outgoing | None = None
        self._malformed: list[str] = []
        groups: dict[float, list[str]] = defaultdict(list)
        for spec in self.model.catalog.metrics.values():
            groups[spec.period_s].append(spec.name)
        self.groups = dict(sorted(groups.items()))
        self._next_due = dict.fromkeys(self.groups, 0.0)

    @property
    def metric_names(self) -> list[str]:
        """Every metric this device reports (its catalogue)."""
        return list(self.model.catalog.metrics)

    def birth(self, stamp: datetime) -> bytes:
        """The retained ``online`` state message."""
        return encode(StateMessage(status="online", type=self.layout.type, model=self.layout.model,
                                   firmware=FIRMWARE, metrics=self.metric_names, ts=stamp))

    @staticmethod
    def will() -> bytes:
        """The last-will message, exactly ``{"status":"offline"}`` (no timestamp: the broker sends it later)."""
        return orjson.dumps(StateMessage(status="offline").model_dump(mode="json", exclude_defaults=True))

    def step(self, dt: float, stamp: datetime) -> list[Outgoing]:
        """Advance ``dt`` simulated seconds; return what the device sends, stamped ``stamp`` (+ clock skew)."""
        self.model.step(dt)
        self.elapsed += dt
        ts = stamp + self.skew
        out = [self._event(ts, e.code, e.detail) for e in self.model.drain_events()]
        for period, names in self.groups.items():
            if self.elapsed + 1e-9 >= self._next_due[period]:
                self._next_due[period] += period
                metrics = self.model.metrics(names)
                if metrics:
                    out.append(self._telemetry(ts, metrics))
        if self._malformed and (self._malformed[0] != "replayed_seq" or self._last_telemetry is not None):
            out.append(self._malformed_message(self._malformed.pop(0), ts))
        return out

    def start_fault(self, name: str, params: dict[str, Any]) -> None:
        """Put a model or transport fault in force (``network_flap`` belongs to the MQTT link)."""
        if name == "clock_skew":
            self.set_clock_skew(float(params.get("skew_s", DEFAULT_SKEW_S)))
        elif name == "malformed_payloads":
            params["reasons"] = self.queue_malformed(params.get("reasons"))
        elif name != "network_flap":
            self.model.start_fault(name, params)

    def end_fault(self, name: str) -> None:
        """Lift a fault started with ``start_fault``."""
        if name == "clock_skew":
            self.set_clock_skew(0.0)
        elif name == "malformed_payloads":
            self._malformed.clear()
        elif name != "network_flap":
            self.model.end_fault(name)

    def set_clock_skew(self, seconds: float) -> None:
        """Run the device clock ``seconds`` ahead (negative: behind) of true time."""
        self.skew = timedelta(seconds=seconds)

    def queue_malformed(self, reasons: list[str] | None = None) -> list[str]:
        """Send one malformed message per reason over the next steps; returns the reasons queued."""
        chosen = reasons or list(MALFORMED)
        unknown = set(chosen) - set(MALFORMED)
        if unknown:
            raise ValueError(f"cannot provoke {sorted(unknown)}; choose from {sorted(MALFORMED)}")
        self._malformed.extend(chosen)
        return chosen

    def _next_seq(self) -> int:
        seq, self.seq = self.seq, self.seq + 1
        return seq

    def _event(self, ts: datetime, code: str, detail: dict[str, Any]) -> Outgoing:
        seq = self._next_seq()
        return Outgoing(TopicKind.EVENT, encode(EventMessage(ts=ts, seq=seq, code=code, detail=detail)), seq)

    def _telemetry(self, ts: datetime, metrics: dict[str, float]) -> Outgoing:
        seq = self._next_seq()
        message = Outgoing(TopicKind.TELEMETRY, encode(TelemetryMessage(ts=ts, seq=seq, metrics=metrics)), seq)
        self._last_telemetry = message
        return message

    def _malformed_message(self, reason: str, ts: datetime) -> Outgoing:
        # Malformed messages carry the next seq without consuming it: the gateway rejects them, so the
        # next valid message must still follow the last accepted one without a gap.
        if reason == "replayed_seq":
            assert self._last_telemetry is not None
            return Outgoing(TopicKind.TELEMETRY, self._last_telemetry.payload, self._last_telemetry.seq,
                            malformed=reason)
        kind, body = MALFORMED[reason](self, ts)
        return Outgoing(kind, body, None, malformed=reason)


def _valid(device: SimulatedDevice, ts: datetime) -> dict[str, Any]:
    return {"ts": int(ts.timestamp() * 1000), "seq": device.seq,
            "metrics": device.model.metrics(device.metric_names[:1])}


def _out_of_range(device: SimulatedDevice, ts: datetime) -> dict[str, Any]:
    name, spec = next(iter(device.model.catalog.metrics.items()))
    return {**_valid(device, ts), "metrics": {name: spec.max + abs(spec.max) + 1}}


# Every rejection reason a device can provoke on its own topics, and how. (unknown_device and site_mismatch
# need another device's identity; a device under the broker ACL cannot publish them.)
MALFORMED: dict[str, Any] = {
    "bad_topic": lambda d, ts: ("status", orjson.dumps(_valid(d, ts))),
    "oversize": lambda d, ts: (TopicKind.EVENT, orjson.dumps(
        {"ts": int(ts.timestamp() * 1000), "seq": d.seq, "code": "fault", "detail": {"pad": "x" * MAX_PAYLOAD_BYTES}})),
    "bad_json": lambda d, ts: (TopicKind.TELEMETRY, b'{"ts": 1700000000000, "seq": '),
    "schema_violation": lambda d, ts: (TopicKind.TELEMETRY, orjson.dumps({**_valid(d, ts), "metrics": "hot"})),
    "bad_timestamp": lambda d, ts: (TopicKind.TELEMETRY, orjson.dumps({**_valid(d, ts), "ts": "yesterday"})),
    "ts_in_future": lambda d, ts: (TopicKind.TELEMETRY, orjson.dumps(
        {**_valid(d, ts), "ts": int(ts.timestamp() * 1000) + 3_600_000})),
    "ts_too_old": lambda d, ts: (TopicKind.TELEMETRY, orjson.dumps(
        {**_valid(d, ts), "ts": "0001-01-01T00:00:00+08:00"})),
    "too_many_metrics": lambda d, ts: (TopicKind.TELEMETRY, orjson.dumps(
        {**_valid(d, ts), "metrics": {f"m{i}": 0.0 for i in range(MAX_METRICS + 1)}})),
    "unknown_metric": lambda d, ts: (TopicKind.TELEMETRY, orjson.dumps(
        {**_valid(d, ts), "metrics": {"flux_capacitor": 1.21}})),
    "out_of_range": lambda d, ts: (TopicKind.TELEMETRY, orjson.dumps(_out_of_range(d, ts))),
    "unknown_event_code": lambda d, ts: (TopicKind.EVENT, orjson.dumps(
        {"ts": int(ts.timestamp() * 1000), "seq": d.seq, "code": "warp_core_breach", "detail": {}})),
    "replayed_seq": None,  # resends the last telemetry message byte for byte (see _malformed_message)
}
