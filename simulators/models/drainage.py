"""A basement sump pit: seepage plus rain-event inflow, duty/standby pumps started by level floats."""

from __future__ import annotations

from datetime import datetime, timedelta

from simulators.estate import DeviceLayout
from simulators.models.base import ActiveFault, DeviceModel


class DrainageModel(DeviceModel):
    """Pump 1 is duty (starts at the duty float), pump 2 standby (starts at ``high_level``)."""

    device_type = "drainage"
    faults = frozenset({"pump_failure", "sump_pump_failure"})

    def __init__(self, layout: DeviceLayout, *, seed: int, start: datetime) -> None:
        super().__init__(layout, seed=seed, start=start)
        attrs = layout.attributes
        self.depth = float(attrs["pit_depth"])
        self.high = float(attrs["high_level"])
        self.overflow = float(attrs["overflow_level"])
        self.area = float(attrs.get("pit_area", 4.0))
        self.level = self.p["stop_m"] + 0.1
        self.running = {1: False, 2: False}
        self.storm_until: datetime | None = None
        self.reported: set[str] = set()

    def default_sensor(self) -> str:
        return "sump_level"

    def _raw_metrics(self) -> dict[str, float]:
        values = {"sump_level": max(self.level + self.noise(0.005), 0.0), "pumps_auto": 1.0}
        for pump in (1, 2):
            on = self.running[pump]
            values[f"pump{pump}_running"] = 1.0 if on else 0.0
            values[f"pump{pump}_current"] = max(self.p["pump_current_a"] + self.noise(0.15), 0.0) if on else 0.0
        return values

    def _advance(self, dt: float) -> None:
        p = self.p
        if self.storm_until is None and self.rng.random() < p["storms_per_day"] / 86400 * dt:
            self.storm_until = self.now + timedelta(seconds=p["storm_duration_s"])
        if self.storm_until is not None and self.now >= self.storm_until:
            self.storm_until = None
        inflow = p["seepage_l_s"] + (p["storm_inflow_l_s"] if self.storm_until else 0.0)
        flood = self.active.get("sump_pump_failure")
        if flood is not None:
            inflow += float(flood.params.get("inflow_l_s", p["storm_inflow_l_s"]))
        self._floats()
        outflow = sum(p["pump_capacity_l_s"] for pump, on in self.running.items() if on)
        self.level += (inflow - outflow) / 1000 / self.area * dt
        self.level = min(max(self.level, 0.0), self.depth)
        self._alarms()

    def _floats(self) -> None:
        p = self.p
        if self.level >= p["duty_start_m"]:
            self.running[1] = True
        if self.level >= self.high:
            self.running[2] = True
        if self.level <= p["stop_m"]:
            self.running = {1: False, 2: False}
        for pump in (1, 2):
            if self._failed(pump):
                self.running[pump] = False

    def _alarms(self) -> None:
        for code, level in (("sump_high", self.high), ("sump_overflow", self.overflow)):
            if self.level >= level and code not in self.reported:
                self.reported.add(code)
                self.emit(code, level_m=round(self.level, 3))
            elif self.level < level - 0.1:
                self.reported.discard(code)

    def _failed(self, pump: int) -> bool:
        if "sump_pump_failure" in self.active:
            return True
        fault = self.active.get("pump_failure")
        return fault is not None and int(fault.params.get("pump", 1)) == pump

    def _on_fault_start(self, fault: ActiveFault) -> None:
        pumps = (1, 2) if fault.name == "sump_pump_failure" else (int(fault.params.get("pump", 1)),)
        for pump in pumps:
            self.emit("pump_fault", pump=pump)
