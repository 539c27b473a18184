"""The fault catalogue (``faults.yaml``), fault records and the ground-truth log detection is scored against."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml

# Faults the transport (not the physics model) carries out; they apply to every device type.
TRANSPORT_FAULTS = frozenset({"network_flap", "clock_skew", "malformed_payloads"})
SENSOR_FAULTS = frozenset({"sensor_stuck", "sensor_drift", "sensor_dropout"})


@dataclass(frozen=True)
class ExpectedAlarm:
    """What a correct pipeline raises for a fault: a category of rules/categories.yaml and its trigger."""

    category: str
    code: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class FaultSpec:
    """One entry of the fault catalogue."""

    name: str
    summary: str
    expected: dict[str, ExpectedAlarm]
    rejection: str | None = None

    def expected_for(self, device_type: str) -> ExpectedAlarm | None:
        """The alarm expected when this fault hits a device of ``device_type`` (None: no alarm)."""
        return self.expected.get(device_type) or self.expected.get("*")

    def applies_to(self, device_type: str) -> bool:
        """Whether a device of ``device_type`` can have this fault."""
        return self.name in TRANSPORT_FAULTS | SENSOR_FAULTS or device_type in self.expected


@cache
def fault_catalog() -> dict[str, FaultSpec]:
    """Every injectable fault by name."""
    data = yaml.safe_load((resources.files("simulators") / "faults.yaml").read_text(encoding="utf-8"))
    return {
        name: FaultSpec(
            name=name,
            summary=entry["summary"],
            expected={kind: ExpectedAlarm(**alarm) for kind, alarm in (entry.get("expected") or {}).items()},
            rejection=entry.get("rejection"),
        )
        for name, entry in data["faults"].items()
    }


@dataclass
class FaultRecord:
    """One injected fault as written to the ground-truth log. ``end`` is None while it is open-ended."""

    fault_id: str
    site: str
    device: str
    device_type: str
    fault: str
    start: datetime
    end: datetime | None
    params: dict[str, Any] = field(default_factory=dict)
    expected_alarm: ExpectedAlarm | None = None
    expected_rejection: str | None = None

    def to_json(self) -> bytes:
        """One JSON line (times ISO 8601 UTC)."""
        return orjson.dumps(asdict(self), option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z)


class GroundTruthLog:
    """Append-only JSON-lines file: a line when a fault starts and another, same ``fault_id``, when it ends.

    Readers keep the last line per ``fault_id``. Writes are serialised because faults start from command
    threads and end on the simulation thread.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: FaultRecord) -> None:
        """Append ``record`` (no-op without a path)."""
        if self.path is None:
            return
        with self._lock, self.path.open("ab") as out:
            out.write(record.to_json())


def read_ground_truth(path: Path) -> list[dict[str, Any]]:
    """The final state of every fault in a ground-truth log, in start order."""
    latest: dict[str, dict[str, Any]] = {}
    for line in path.read_bytes().splitlines():
        if line.strip():
            entry = orjson.loads(line)
            latest[entry["fault_id"]] = entry
    return list(latest.values())
