"""Run a whole estate against an MQTT broker: one link per device, one simulation thread, fault injection."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.protocol import Rejection
from gateway.protocol.commands import decode_command
from gateway.protocol.endpoint import MqttEndpoint
from simulators.device import SimulatedDevice
from simulators.estate import EstateLayout
from simulators.faults import FaultRecord, GroundTruthLog, fault_catalog
from simulators.link import DeviceLink

log = logging.getLogger(__name__)
STEP_S = 0.2  # simulated seconds per physics step: fine enough for door and speed profiles at 1 s sampling


@dataclass
class _Active:
    record: FaultRecord
    ends_after_s: float | None  # simulated seconds since the simulation started


class SiteSimulator:
    """Simulate every device of ``layout``; ``speedup`` compresses simulated time (10 = ten times faster).

    Payload timestamps are always the true UTC time of sending (plus any injected clock skew), so a sped-up
    simulation never trips the gateway's clock-skew check; only the simulated processes run faster.
    ``duration_s`` of a fault is in simulated seconds. ``passwords`` maps device ids to their own broker
    passwords (a broker with per-device logins); a device not in it logs in with the URL's password.
    """

    def __init__(self, layout: EstateLayout, *, mqtt_url: str, protocol: str = "5", seed: int = 0,
                 speedup: float = 1.0, ground_truth_path: Path | None = None, qos: int = 1,
                 passwords: Mapping[str, str] | None = None) -> None:
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        self.layout = layout
        self.speedup = speedup
        self.seed = seed
        self.endpoint = MqttEndpoint.parse(mqtt_url)
        self.protocol = protocol
        self.qos = qos
        self._passwords = dict(passwords or {})
        self.ground_truth = GroundTruthLog(ground_truth_path)
        self.devices: dict[str, SimulatedDevice] = {}
        self.links: dict[str, DeviceLink] = {}
        self.faults: dict[str, _Active] = {}
        self.elapsed_s = 0.0
        self._scheduled: list[tuple[float, str, str, float | None, dict[str, Any]]] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self, *, connect_timeout: float = 10.0) -> None:
        """Connect every device (births published), then start simulating in a background thread."""
        start = datetime.now(UTC)
        for layout in self.layout.devices:
            device = SimulatedDevice(layout, seed=self.seed, start=start)
            self.devices[layout.id] = device
            link = DeviceLink(
                self.endpoint, self.layout.site_id, layout.id, protocol=self.protocol, qos=self.qos,
                birth=lambda d=device: d.birth(datetime.now(UTC)), will=device.will(), on_command=self._command,
                password=self._passwords.get(layout.id),
            )
            self.links[layout.id] = link
            link.connect()
        deadline = time.monotonic() + connect_timeout
        for link in self.links.values():
            if not link.connected.wait(max(deadline - time.monotonic(), 0.0)):
                self.stop()
                raise TimeoutError(f"{link.device_id} could not connect to {self.endpoint.url()}")
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.layout.site_id}", daemon=True)
        self._thread.start()

    def stop(self, *, announce_offline: bool = True) -> None:
        """End open faults (closing their ground-truth records), publish offline states, disconnect.

        ``announce_offline=False`` disconnects without saying offline: the devices pause with the system that
        runs them (the demo stopping as a whole), which is no outage for the gateway to raise alarms on.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            for fault_id in list(self.faults):
                self.clear(fault_id)
        offline = SimulatedDevice.will() if announce_offline else None
        for link in self.links.values():
            link.close(offline)

    def __enter__(self) -> SiteSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults --------------------------------------------------------------------------------------------
    def inject(self, device_id: str, fault: str, *, duration_s: float | None = None, **params: Any) -> FaultRecord:
        """Start ``fault`` on ``device_id`` now; it ends after ``duration_s`` simulated seconds, or on
        ``clear``/``stop``. Raises ``KeyError`` for an unknown device and ``ValueError`` for a fault the
        device cannot have."""
        device = self.devices[device_id]
        spec = fault_catalog().get(fault)
        if spec is None:
            raise ValueError(f"unknown fault {fault!r}; known: {sorted(fault_catalog())}")
        if not spec.applies_to(device.layout.type):
            raise ValueError(f"fault {fault!r} does not apply to a {device.layout.type}")
        now = datetime.now(UTC)
        with self._lock:
            device.start_fault(fault, params)
            expected = spec.expected_for(device.layout.type)
            if expected is not None and fault == "pump_bearing_wear" and expected.metric:
                expected = replace(expected, metric=expected.metric.replace("pump1", f"pump{params.get('pump', 1)}"))
            record = FaultRecord(
                fault_id=uuid.uuid4().hex[:12], site=self.layout.site_id, device=device_id,
                device_type=device.layout.type, fault=fault, start=now,
                end=now + timedelta(seconds=duration_s / self.speedup) if duration_s else None,
                params=params, expected_alarm=expected, expected_rejection=spec.rejection,
            )
            ends = self.elapsed_s + duration_s if duration_s else None
            self.faults[record.fault_id] = _Active(record, ends)
            if fault == "network_flap":
                self.links[device_id].drop()
        self.ground_truth.write(record)
        log.info("injected %s on %s (%s)", fault, device_id, record.fault_id)
        return record

    def schedule(self, at_s: float, device_id: str, fault: str, *, duration_s: float | None = None,
                 **params: Any) -> None:
        """Inject ``fault`` once the simulation has run ``at_s`` simulated seconds (checked when it fires)."""
        if device_id not in {d.id for d in self.layout.devices}:
            raise KeyError(device_id)
        with self._lock:
            self._scheduled.append((at_s, device_id, fault, duration_s, params))
            self._scheduled.sort(key=lambda item: item[0])

    def clear(self, fault_id: str) -> FaultRecord:
        """End an injected fault now and write its final ground-truth line."""
        with self._lock:
            active = self.faults.pop(fault_id)
            record = active.record
            self.devices[record.device].end_fault(record.fault)
            if record.fault == "network_flap":
                self.links[record.device].restore()
            record.end = datetime.now(UTC)
        self.ground_truth.write(record)
        return record

    def active_faults(self) -> list[FaultRecord]:
        """Faults in force now."""
        with self._lock:
            return [active.record for active in self.faults.values()]

    def sent(self) -> dict[str, int]:
        """Messages published per device so far."""
        return {device_id: link.sent for device_id, link in self.links.items()}

    # -- internals -----------------------------------------------------------------------------------------
    def _run(self) -> None:
        wall_step = STEP_S / self.speedup
        next_wall = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                self._tick()
            next_wall += wall_step
            delay = next_wall - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -1.0:
                # Too far behind (machine busy): drop the backlog rather than burst to catch up.
                next_wall = time.monotonic()

    def _tick(self) -> None:
        self.elapsed_s += STEP_S
        while self._scheduled and self._scheduled[0][0] <= self.elapsed_s:
            _, device_id, fault, duration_s, params = self._scheduled.pop(0)
            try:
                self.inject(device_id, fault, duration_s=duration_s, **params)
            except ValueError as exc:
                log.warning("scheduled fault %s on %s skipped: %s", fault, device_id, exc)
        stamp = datetime.now(UTC)
        for device_id, device in self.devices.items():
            link = self.links[device_id]
            for message in device.step(STEP_S, stamp):
                link.publish(message.kind, message.payload, retain=message.retain)
        for fault_id, active in list(self.faults.items()):
            if active.ends_after_s is not None and self.elapsed_s >= active.ends_after_s:
                self.clear(fault_id)

    def _command(self, device_id: str, payload: bytes) -> None:
        try:
            command = decode_command(payload)
        except Rejection as exc:
            log.warning("ignored command for %s: %s", device_id, exc)
            return
        try:
            if command.action == "inject":
                self.inject(device_id, command.fault, duration_s=command.duration_s, **command.params)
            else:
                for record in self.active_faults():
                    if record.device == device_id and record.fault == command.fault:
                        self.clear(record.fault_id)
        except (KeyError, ValueError) as exc:
            log.warning("command for %s failed: %s", device_id, exc)
