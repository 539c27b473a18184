"""A secondary-water pump room: break tank with float-valve inlet, diurnal demand, two VFD booster pumps
holding the outlet pressure, and online chlorine and turbidity analysers."""

from __future__ import annotations

from datetime import datetime

from simulators.estate import DeviceLayout
from simulators.models.base import ActiveFault, DeviceModel


class WaterSupplyModel(DeviceModel):
    """Pump 1 is duty, pump 2 assists at peak demand and takes over when pump 1 fails."""

    device_type = "water_supply"
    faults = frozenset({"pump_bearing_wear", "pump_failure", "pipe_burst"})

    def __init__(self, layout: DeviceLayout, *, seed: int, start: datetime) -> None:
        super().__init__(layout, seed=seed, start=start)
        attrs = layout.attributes
        self.tank_height = float(attrs["tank_height"])
        self.tank_low = float(attrs["tank_low_level"])
        self.tank_area = float(attrs.get("tank_area", 20.0))
        self.households = int(attrs.get("households", 600))
        self.level = self.tank_height * self.p["refill_stop_frac"]
        self.inlet_open = False
        self.frequency = {1: 0.0, 2: 0.0}
        self.outlet = self.p["outlet_setpoint_mpa"]
        self.chlorine = self.p["chlorine_mg_l"]
        self.low_reported = False
        self.demand_l_s = 0.0

    def default_sensor(self) -> str:
        return "outlet_pressure"

    def _raw_metrics(self) -> dict[str, float]:
        values = {
            "tank_level": self.level + self.noise(0.005),
            "inlet_pressure": self.p["inlet_pressure_mpa"] + self.noise(0.004),
            "outlet_pressure": max(self.outlet + self.noise(0.003), 0.0),
            "pumps_auto": 1.0,
            "residual_chlorine": max(self.chlorine + self.noise(0.01), 0.0),
            "turbidity": max(self.p["turbidity_ntu"] + self.noise(0.03), 0.0),
        }
        for pump in (1, 2):
            f = self.frequency[pump]
            running = f > 0
            wear = self._wear(pump)
            ratio = f / self.p["pump_rated_hz"]
            current = self.p["pump_rated_current_a"] * (0.15 + 0.85 * ratio**3) * (1 + 0.3 * wear)
            vibration = (self.p["pump_vibration_mm_s"] * ratio + 6.0 * wear) if running else 0.1
            values[f"pump{pump}_running"] = 1.0 if running else 0.0
            values[f"pump{pump}_frequency"] = round(f, 2)
            values[f"pump{pump}_current"] = max(current + self.noise(0.2), 0.0) if running else 0.0
            values[f"pump{pump}_vibration"] = max(vibration + abs(self.noise(0.05)), 0.0)
        return values

    def _advance(self, dt: float) -> None:
        p = self.p
        demand = p["demand_l_s_per_household"] * self.households * p["diurnal_factor"][self.local_hour()]
        demand *= 1 + self.noise(0.05)
        burst = self.active.get("pipe_burst")
        if burst is not None:
            demand += float(burst.params.get("flow_l_s", 15.0))
        self.demand_l_s = max(demand, 0.0)
        supplied = self._boost(self.demand_l_s, burst is not None)
        self._tank(supplied, dt)
        # Residence time in the tank slowly consumes free chlorine; fresh inflow restores it.
        fresh = p["chlorine_mg_l"] if self.inlet_open else self.chlorine
        self.chlorine += (fresh - self.chlorine) * min(dt / 600, 1) - p["chlorine_decay_per_h"] / 3600 * dt

    def _boost(self, demand: float, burst: bool) -> float:
        """Set pump speeds for ``demand`` (L/s); returns what the pumps deliver."""
        p = self.p
        available = [n for n in (1, 2) if not self._failed(n)]
        capacity = p["pump_capacity_l_s"]
        if not available or self.level <= 0.05:
            self.frequency = {1: 0.0, 2: 0.0}
            self.outlet = 0.0
            return 0.0
        needed = 1 if demand <= 0.9 * capacity or len(available) == 1 else 2
        share = min(demand / (capacity * needed), 1.0)
        hz = p["pump_min_hz"] + (p["pump_rated_hz"] - p["pump_min_hz"]) * share
        if burst:
            hz = p["pump_rated_hz"]
        self.frequency = {n: (hz if n in available[:needed] else 0.0) for n in (1, 2)}
        if burst:
            self.outlet = p["burst_outlet_mpa"]
        else:
            shortfall = max(demand - capacity * needed, 0.0) / max(demand, 1e-9)
            self.outlet = p["outlet_setpoint_mpa"] * (1 - shortfall)
        return min(demand, capacity * needed)

    def _tank(self, outflow_l_s: float, dt: float) -> None:
        p = self.p
        if self.level < self.tank_height * p["refill_start_frac"]:
            self.inlet_open = True
        elif self.level >= self.tank_height * p["refill_stop_frac"]:
            self.inlet_open = False
        inflow = p["refill_l_s"] if self.inlet_open else 0.0
        self.level += (inflow - outflow_l_s) / 1000 / self.tank_area * dt
        self.level = min(max(self.level, 0.0), self.tank_height)
        if self.level < self.tank_low and not self.low_reported:
            self.low_reported = True
            self.emit("tank_low", level_m=round(self.level, 3))
        elif self.level > self.tank_low + 0.1:
            self.low_reported = False

    def _failed(self, pump: int) -> bool:
        fault = self.active.get("pump_failure")
        return fault is not None and int(fault.params.get("pump", 1)) == pump

    def _wear(self, pump: int) -> float:
        fault = self.active.get("pump_bearing_wear")
        if fault is None or int(fault.params.get("pump", 1)) != pump:
            return 0.0
        hours = (self.now - fault.started).total_seconds() / 3600
        return min(float(fault.params.get("severity_per_h", 0.5)) * hours + 0.2, 1.5)

    def _on_fault_start(self, fault: ActiveFault) -> None:
        if fault.name == "pump_failure":
            self.emit("pump_fault", pump=int(fault.params.get("pump", 1)))
