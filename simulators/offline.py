"""Drive an estate without a broker, as fast as the CPU allows: for tests, replays and data sets.

Message timestamps are simulated time, so the output is a pure function of (layout, seed, start, faults).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulators.device import SimulatedDevice
from simulators.estate import EstateLayout
from simulators.faults import fault_catalog
from simulators.site import STEP_S


@dataclass(frozen=True)
class PlannedFault:
    """A fault to start ``at_s`` simulated seconds into the run, for ``duration_s`` (None: to the end)."""

    at_s: float
    device: str
    fault: str
    duration_s: float | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """One message a device sent, with the simulated time it was sent at."""

    device: str
    kind: str
    payload: bytes
    ts: datetime
    seq: int | None
    malformed: str | None = None


def run_offline(layout: EstateLayout, *, start: datetime, duration_s: float, seed: int = 0,
                faults: Iterable[PlannedFault] = (), devices: Iterable[str] | None = None) -> list[Sent]:
    """Simulate ``duration_s`` seconds of ``layout`` from ``start`` (UTC-aware); every message sent, in order.

    ``devices`` limits the run to some device ids (the others are not simulated at all).
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    wanted = set(devices) if devices is not None else None
    sims = {d.id: SimulatedDevice(d, seed=seed, start=start)
            for d in layout.devices if wanted is None or d.id in wanted}
    pending = sorted(faults, key=lambda f: f.at_s)
    for planned in pending:
        spec = fault_catalog()[planned.fault]
        if not spec.applies_to(sims[planned.device].layout.type):
            raise ValueError(f"fault {planned.fault!r} does not apply to {planned.device}")
    ending: list[tuple[float, PlannedFault]] = []
    out: list[Sent] = []
    steps = round(duration_s / STEP_S)
    for n in range(1, steps + 1):
        elapsed = n * STEP_S
        while pending and pending[0].at_s <= elapsed:
            planned = pending.pop(0)
            sims[planned.device].start_fault(planned.fault, dict(planned.params))
            if planned.duration_s is not None:
                ending.append((planned.at_s + planned.duration_s, planned))
        for finish, planned in list(ending):
            if finish <= elapsed:
                sims[planned.device].end_fault(planned.fault)
                ending.remove((finish, planned))
        stamp = start + timedelta(seconds=elapsed)
        for device_id, device in sims.items():
            for message in device.step(STEP_S, stamp):
                out.append(Sent(device_id, str(message.kind), message.payload, stamp, message.seq,
                                message.malformed))
    return out
