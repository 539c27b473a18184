"""A fire alarm panel with detector loops and its water system: riser pressure held by a jockey pump, a fire
pump on auto-start, a rooftop tank with a float valve, and the weekly simulated auto-start test."""

from __future__ import annotations

from datetime import datetime, timedelta

from simulators.estate import DeviceLayout
from simulators.models.base import CHINA, ActiveFault, DeviceModel

SMOKE_DETECTOR = 42  # GB/T 26875.3 component type: photoelectric smoke detector (DOMAIN.md §2.2)
FIRE_PUMP = 91       # GB/T 26875.3 component type: fire pump
WATER_FLOW = 96      # GB/T 26875.3 component type: water-flow indicator


class FireSystemModel(DeviceModel):
    """Pressures in MPa, levels in m. The fire pump, once started, runs until the panel is reset."""

    device_type = "fire_system"
    faults = frozenset({"pump_bearing_wear", "pump_failure", "pipe_burst", "fire_tank_leak", "fire_alarm"})

    def __init__(self, layout: DeviceLayout, *, seed: int, start: datetime) -> None:
        super().__init__(layout, seed=seed, start=start)
        self.tank_height = float(layout.attributes["tank_height"])
        self.tank_area = float(layout.attributes.get("tank_area", 6.0))
        self.pressure = self.p["hydrant_standby_mpa"]
        self.level = self.p["tank_normal_m"]
        self.refilling = False
        self.jockey = False
        self.fire_pump = False
        self.fire_pump_auto = True
        self.testing_until: datetime | None = None
        self.next_test = self._next_test_after(start)
        self.sprinkler_flowing = False
        self._said_no_start = False  # a failed start is reported once, not every step

    def default_sensor(self) -> str:
        return "hydrant_pressure"

    def _raw_metrics(self) -> dict[str, float]:
        wear = self._wear()
        vibration = (self.p["fire_pump_vibration_mm_s"] + 6.0 * wear) if self.fire_pump else 0.1
        current = self.p["fire_pump_current_a"] * (1 + 0.25 * wear) if self.fire_pump else 0.0
        return {
            "sprinkler_end_pressure": max(self.pressure * self.p["sprinkler_end_ratio"] + self.noise(0.002), 0.0),
            "hydrant_pressure": max(self.pressure + self.noise(0.003), 0.0),
            "fire_tank_level": max(self.level + self.noise(0.005), 0.0),
            "jockey_pump_running": 1.0 if self.jockey else 0.0,
            "jockey_pump_current": self.p["jockey_current_a"] + self.noise(0.1) if self.jockey else 0.0,
            "fire_pump_running": 1.0 if self.fire_pump else 0.0,
            "fire_pump_auto": 1.0 if self.fire_pump_auto else 0.0,
            "fire_pump_current": max(current + self.noise(1.0), 0.0) if self.fire_pump else 0.0,
            "fire_pump_vibration": max(vibration + abs(self.noise(0.1)), 0.0),
        }

    def start_pump_test(self) -> None:
        """The weekly simulated auto-start test (GB 50974 ch. 14): the pump runs for the test duration."""
        self.emit("pump_test", component_type=FIRE_PUMP)
        if self._start_fire_pump(cause="test"):
            self.testing_until = self.now + timedelta(seconds=self.p["pump_test_duration_s"])

    def _advance(self, dt: float) -> None:
        if self.now >= self.next_test:
            self.next_test = self._next_test_after(self.now)
            if not self.fire_pump:
                self.start_pump_test()
        if self.testing_until is not None and self.now >= self.testing_until:
            self.testing_until = None
            self.fire_pump = False
        self._alarm_progress()
        self._pressure(dt)
        self._tank(dt)

    def _pressure(self, dt: float) -> None:
        p = self.p
        burst = self.active.get("pipe_burst")
        target: float | None = None  # what open outlets or a running fire pump impose on the riser
        if burst is not None:
            target = float(burst.params.get("residual_mpa", 0.05))
        elif self.fire_pump:
            target = p["fire_pump_mpa"]
        elif self.sprinkler_flowing:
            target = p["hydrant_standby_mpa"] - p["fire_flow_drop_mpa"]
        if target is not None:
            self.pressure += (target - self.pressure) * min(dt / p["pressure_time_constant_s"], 1.0)
        self.pressure -= p["leak_mpa_per_h"] / 3600 * dt
        if self.jockey and burst is None:
            self.pressure += p["jockey_mpa_per_s"] * dt
        if self.pressure < p["jockey_start_mpa"]:
            self.jockey = True
        elif self.pressure >= p["jockey_stop_mpa"]:
            self.jockey = False
        if self.pressure < p["fire_pump_start_mpa"] and not self.fire_pump and not self._said_no_start:
            self._said_no_start = not self._start_fire_pump(cause="low_pressure")
        self.pressure = max(self.pressure, 0.0)

    def _tank(self, dt: float) -> None:
        p = self.p
        outflow_m_s = 0.0
        if self.sprinkler_flowing:
            outflow_m_s += p["sprinkler_head_l_s"] / 1000 / self.tank_area
        if "pipe_burst" in self.active:
            outflow_m_s += p["burst_outflow_l_s"] / 1000 / self.tank_area
        leak = self.active.get("fire_tank_leak")
        if leak is not None:
            outflow_m_s += float(leak.params.get("rate_m_per_h", 0.5)) / 3600
        self.level -= outflow_m_s * dt
        # The make-up valve is shut during a leak fault (that is why the leak shows at all).
        if leak is None:
            if self.level < p["tank_refill_m"]:
                self.refilling = True
            if self.refilling:
                self.level += p["tank_refill_m_per_h"] / 3600 * dt
                if self.level >= p["tank_normal_m"]:
                    self.refilling = False
        self.level = min(max(self.level, 0.0), self.tank_height)

    def _alarm_progress(self) -> None:
        alarm = self.active.get("fire_alarm")
        if alarm is None or self.sprinkler_flowing:
            return
        delay = self.p["sprinkler_delay_s"]
        if (self.now - alarm.started).total_seconds() >= delay and alarm.params.get("sprinkler", True):
            self.sprinkler_flowing = True
            self.emit("water_flow", component_type=WATER_FLOW, zone=alarm.params.get("zone", 1))

    def _start_fire_pump(self, *, cause: str) -> bool:
        if "pump_failure" in self.active or not self.fire_pump_auto:
            self.emit("fault", component_type=FIRE_PUMP, cause=f"pump did not start ({cause})")
            return False
        self.fire_pump = True
        self.emit("started", component_type=FIRE_PUMP, cause=cause)
        self.emit("feedback", component_type=FIRE_PUMP)
        return True

    def _wear(self) -> float:
        fault = self.active.get("pump_bearing_wear")
        if fault is None:
            return 0.0
        hours = (self.now - fault.started).total_seconds() / 3600
        return min(float(fault.params.get("severity_per_h", 0.5)) * hours + 0.2, 1.5)

    def _next_test_after(self, t: datetime) -> datetime:
        """The next Monday 10:00 local time after ``t``."""
        local = t.astimezone(CHINA)
        candidate = (local + timedelta(days=(7 - local.weekday()) % 7)).replace(hour=10, minute=0, second=0,
                                                                               microsecond=0)
        if candidate <= local:
            candidate += timedelta(seconds=self.p["pump_test_interval_s"])
        return candidate

    def _on_fault_start(self, fault: ActiveFault) -> None:
        if fault.name == "fire_alarm":
            loops = self.p["detector_loops"]
            loop = int(fault.params.get("loop", self.rng.randint(1, len(loops))))
            address = int(fault.params.get("address", self.rng.randint(1, loops[loop - 1])))
            self.emit("fire_alarm", component_type=SMOKE_DETECTOR, loop=loop, address=address,
                      zone=fault.params.get("zone", 1))
        elif fault.name == "pump_failure":
            self.fire_pump = False
            self.emit("fault", component_type=FIRE_PUMP, cause="pump tripped")

    def _on_fault_end(self, fault: ActiveFault) -> None:
        self._said_no_start = False
        if fault.name in ("fire_alarm", "pipe_burst"):
            self.sprinkler_flowing = False
            self.fire_pump = False
            self.testing_until = None
            self.emit("reset", cause=fault.name)
