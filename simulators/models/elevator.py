"""A traction lift: traffic-driven trips, trapezoidal speed profile, door cycles, load and motor current."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from simulators.estate import DeviceLayout
from simulators.models.base import ActiveFault, DeviceModel

STOP_FAULTS = ("trapped", "trapped_between_floors", "stopped_outside_door_zone", "top_overshoot", "bottom_overshoot")
IDLE, OPENING, OPEN, CLOSING, RUNNING, HALTED = "idle", "opening", "open", "closing", "running", "halted"
ARRIVED_M = 0.002


@dataclass
class Stop:
    """A landing the car must serve: ``board`` passengers get in, or everyone gets out."""

    floor: int
    board: int = 0


class ElevatorModel(DeviceModel):
    """One car. Floors are numbered 1..N; height 0 m is the floor-1 landing."""

    device_type = "elevator"
    faults = frozenset({
        "trapped", "trapped_between_floors", "door_open_while_running", "stopped_outside_door_zone",
        "top_overshoot", "bottom_overshoot", "door_degradation",
    })

    def __init__(self, layout: DeviceLayout, *, seed: int, start: datetime) -> None:
        super().__init__(layout, seed=seed, start=start)
        self.floors = int(layout.attributes["floors"])
        self.rated_speed = float(layout.attributes["rated_speed"])
        self.rated_load = float(layout.attributes["rated_load"])
        self.h = self.p["floor_height_m"]
        self.position_m = 0.0
        self.velocity = 0.0
        self.target_m: float | None = None
        self.halt_m: float | None = None
        self.phase = IDLE
        self.phase_s = 0.0
        self.door = 0.0  # 0 closed .. 1 fully open
        self.load_kg = 0.0
        self.stops: list[Stop] = []
        self.run_count = 0
        self.running_s = 0.0
        self.service_mode = 1
        self.last_close_s = self.p["door_close_time_s"]
        self.stopped_s = 0.0  # time stopped with the doors closed
        self.door_signal_lost = False
        self.reported: set[str] = set()  # fault reports already raised for the current stop

    # -- observations --------------------------------------------------------------------------------------
    @property
    def floor(self) -> int:
        """Nearest landing (what the controller reports as car position)."""
        return min(max(round(self.position_m / self.h) + 1, 1), self.floors)

    @property
    def in_door_zone(self) -> bool:
        """Within the unlocking zone of a landing (never beyond the terminal landings)."""
        nearest = (self.floor - 1) * self.h
        return abs(self.position_m - nearest) <= self.p["door_zone_m"] and 0 <= self.position_m <= self.top_m

    @property
    def top_m(self) -> float:
        return (self.floors - 1) * self.h

    @property
    def moving(self) -> bool:
        return abs(self.velocity) > 1e-6

    def _raw_metrics(self) -> dict[str, float]:
        speed = abs(self.velocity)
        door_closed = self.door <= 0.0 and not self.door_signal_lost
        direction = 0 if not self.moving else (1 if self.velocity > 0 else 2)
        current = self.p["motor_current_idle_a"]
        if self.moving:
            imbalance = abs(self.load_kg - self.p["counterweight_balance"] * self.rated_load) / self.rated_load
            current += (self.p["motor_current_full_a"] - current) * (0.35 + imbalance) * speed / self.rated_speed
        vibration = self.p["vibration_running_m_s2"] * (0.3 + speed / self.rated_speed) if self.moving else 0.01
        return {
            "car_position": float(self.floor),
            "car_status": 1.0 if self.moving else 0.0,
            "car_direction": float(direction),
            "door_zone": 1.0 if self.in_door_zone else 2.0,
            "door_status": 1.0 if door_closed else 2.0,
            "passenger_status": 1.0 if self.load_kg > 0 else 2.0,
            "service_mode": float(self.service_mode),
            "speed": round(speed, 3),
            "load": max(self.load_kg + (self.noise(3.0) if self.load_kg else 0.0), 0.0),
            "motor_current": max(current + self.noise(0.3), 0.0),
            "vibration": max(vibration + abs(self.noise(0.02)), 0.0),
            "door_close_time": max(self.last_close_s + self.noise(0.05), 0.0),
            "run_count": float(self.run_count),
            "running_hours": round(self.running_s / 3600, 3),
        }

    # -- physics -------------------------------------------------------------------------------------------
    def _advance(self, dt: float) -> None:
        self.phase_s += dt
        if self.phase == IDLE:
            self._idle(dt)
        elif self.phase == OPENING:
            self.door = min(self.door + dt / self.p["door_open_time_s"], 1.0)
            if self.door >= 1.0:
                self._serve_landing()
                self._enter(OPEN)
        elif self.phase == OPEN:
            if self.phase_s >= self.p["door_dwell_s"]:
                self._enter(CLOSING)
        elif self.phase == CLOSING:
            close_time = self._door_close_time()
            self.door = max(self.door - dt / close_time, 0.0)
            if self.door <= 0.0:
                self.last_close_s = close_time
                self._depart()
        elif self.phase == RUNNING:
            self._run(dt)
        else:
            self._halted(dt)

    def _enter(self, phase: str) -> None:
        self.phase, self.phase_s = phase, 0.0

    def _idle(self, dt: float) -> None:
        pending = self._pending_stop_fault()
        if pending is not None:
            self._begin_fault_trip(pending)
            return
        rate = self.p["calls_per_hour"][self.local_hour()] / 3600
        if self.rng.random() < rate * dt:
            self._new_call()
        if self.stops:
            self._depart()

    def _new_call(self) -> None:
        passengers = self.rng.choice((1, 1, 1, 2, 2, 3))
        upper = self.rng.randint(2, self.floors)
        if self.rng.random() < self.p["from_lobby_share"][self.local_hour()]:
            origin, destination = 1, upper
        else:
            origin, destination = upper, 1
        self.stops = [Stop(origin, board=passengers), Stop(destination)]

    def _depart(self) -> None:
        """Doors are closed: head for the next stop, or idle."""
        if self.stops and (self.stops[0].floor - 1) * self.h == self.position_m:
            self._enter(OPENING)
            return
        if not self.stops:
            self._enter(IDLE)
            return
        self.target_m = (self.stops[0].floor - 1) * self.h
        self.run_count += 1
        self._enter(RUNNING)

    def _serve_landing(self) -> None:
        stop = self.stops.pop(0) if self.stops else Stop(self.floor)
        if stop.board:
            self.load_kg += stop.board * self.p["passenger_mass_kg"]
        else:
            self.load_kg = 0.0

    def _run(self, dt: float) -> None:
        assert self.target_m is not None
        self.running_s += dt
        if "door_open_while_running" in self.active:
            if not self.door_signal_lost:
                self.emit("door_open_while_running", floor=self.floor, speed=round(abs(self.velocity), 2))
            self.door_signal_lost = True
        remaining = self.target_m - self.position_m
        distance = abs(remaining)
        accel = self.p["acceleration_m_s2"]
        speed = min(self.rated_speed, abs(self.velocity) + accel * dt, math.sqrt(2 * accel * distance))
        step = min(speed * dt, distance)
        self.velocity = math.copysign(max(speed, 0.05), remaining) if distance > ARRIVED_M else 0.0
        self.position_m += math.copysign(step, remaining)
        if self.halt_m is not None and (self.position_m - self.halt_m) * math.copysign(1, remaining) >= 0:
            self.position_m = self.halt_m
            self._halt()
            return
        if abs(self.target_m - self.position_m) <= ARRIVED_M:
            self.position_m, self.velocity, self.target_m = self.target_m, 0.0, None
            self.door_signal_lost = False
            if "trapped" in self.active:
                self._halt()
            else:
                self._enter(OPENING)

    # -- faults --------------------------------------------------------------------------------------------
    def _door_close_time(self) -> float:
        fault = self.active.get("door_degradation")
        base = self.p["door_close_time_s"]
        if fault is None:
            return base
        days = (self.now - fault.started).total_seconds() / 86400 * float(fault.params.get("time_scale", 1.0))
        return min(base + float(fault.params.get("increase_s_per_day", 0.3)) * days, 20.0)

    def _pending_stop_fault(self) -> ActiveFault | None:
        for name in ("trapped_between_floors", "stopped_outside_door_zone", "top_overshoot", "bottom_overshoot"):
            fault = self.active.get(name)
            if fault is not None and not fault.state.get("engaged"):
                return fault
        return None

    def _begin_fault_trip(self, fault: ActiveFault) -> None:
        """From idle, start the trip on which the fault strikes."""
        fault.state["engaged"] = True
        self.stops = []
        if fault.name == "trapped_between_floors":
            self.load_kg = max(self.load_kg, self.p["passenger_mass_kg"])
        if fault.name in ("trapped_between_floors", "stopped_outside_door_zone"):
            neighbour = self.floor + 1 if self.floor < self.floors else self.floor - 1
            self.target_m = (neighbour - 1) * self.h
            self.halt_m = (self.position_m + self.target_m) / 2
        elif fault.name == "top_overshoot":
            self.target_m = self.top_m + float(fault.params.get("overshoot_m", 0.4))
            self.halt_m = self.target_m
        else:
            self.target_m = -float(fault.params.get("overshoot_m", 0.4))
            self.halt_m = self.target_m
        self.run_count += 1
        self._enter(RUNNING)

    def _halt(self) -> None:
        self.velocity, self.target_m, self.halt_m = 0.0, None, None
        self.stops, self.stopped_s, self.reported = [], 0.0, set()
        if "trapped" in self.active:
            self.load_kg = max(self.load_kg, self.p["passenger_mass_kg"])
        self._enter(HALTED)
        for name in ("top_overshoot", "bottom_overshoot"):
            if name in self.active:
                self.emit(name, floor=self.floor, position_m=round(self.position_m, 2))
                self.service_mode = 0
                self.emit("out_of_service", cause=name)

    def _halted(self, dt: float) -> None:
        self.stopped_s += dt
        self._watch_entrapment()
        if not self.in_door_zone and self.stopped_s >= self.p["outside_zone_timer_s"] and not self._said("outside"):
            self.emit("stopped_outside_door_zone", floor=self.floor, position_m=round(self.position_m, 2))

    def _watch_entrapment(self) -> None:
        """The terminal's derivation: person in car, doors closed, car stopped for longer than the timer."""
        if self.load_kg > 0 and self.stopped_s >= self.p["trapped_timer_s"] and not self._said("trapped"):
            self.emit("trapped", floor=self.floor, in_door_zone=self.in_door_zone, passengers=1)
        if self.load_kg > 0 and self.stopped_s >= self.p["trapped_timer_s"] + 15 and not self._said("alarm_button"):
            self.emit("alarm_button", floor=self.floor)

    def _said(self, key: str) -> bool:
        """True if ``key`` was already reported for this stop; marks it reported otherwise."""
        if key in self.reported:
            return True
        self.reported.add(key)
        return False

    def _on_fault_start(self, fault: ActiveFault) -> None:
        if fault.name == "trapped" and self.phase in (IDLE, OPEN, OPENING, CLOSING):
            # A passenger is in (or steps into) the car, the doors close and the car will not start.
            self.load_kg = max(self.load_kg, self.p["passenger_mass_kg"])
            self.door, self.stops, self.stopped_s, self.reported = 0.0, [], 0.0, set()
            self._enter(HALTED)

    def _on_fault_end(self, fault: ActiveFault) -> None:
        if fault.name not in STOP_FAULTS:
            self.door_signal_lost = False
            return
        # Rescue or repair: the car is brought level to the nearest landing, doors open, everyone leaves.
        self.position_m = (self.floor - 1) * self.h
        self.velocity, self.target_m, self.halt_m = 0.0, None, None
        self.stops, self.stopped_s = [Stop(self.floor)], 0.0
        self.reported = set()
        self.service_mode = 1
        self.emit("normal_operation", cause=fault.name)
        self._enter(OPENING)
