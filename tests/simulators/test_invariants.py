"""Physical invariants and the normal operating ranges of DOMAIN.md hold in fault-free operation."""

from datetime import UTC, datetime

import orjson
import pytest

from gateway.protocol.catalog import device_type
from simulators.offline import run_offline

START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 China time, morning peak


@pytest.fixture(scope="module")
def hours_of_plant(estate, trace):
    """Three simulated hours of the plant devices: the morning peak and the 10:00 weekly pump test."""
    return {d: trace(estate, d, duration_s=3 * 3600, seed=3) for d in ("S001-FIRE01", "S001-PR01", "S001-SP01")}


@pytest.fixture(scope="module")
def elevator_hour(estate, trace):
    return trace(estate, "S001-B01-EL01", duration_s=3600, seed=3)


def test_seq_strictly_increases_per_device_across_all_message_kinds(estate):
    last: dict[str, int] = {}
    for message in run_offline(estate, start=START, duration_s=600, seed=1):
        assert message.seq > last.get(message.device, -1)
        last[message.device] = message.seq


def test_every_value_is_a_catalogue_metric_within_its_range_and_every_event_a_catalogue_code(estate):
    for message in run_offline(estate, start=START, duration_s=900, seed=2):
        kind = device_type(estate.device(message.device).type)
        if message.kind == "telemetry":
            for name, value in orjson.loads(message.payload)["metrics"].items():
                spec = kind.metrics[name]
                assert spec.min <= value <= spec.max, (name, value)
        else:
            assert orjson.loads(message.payload)["code"] in kind.events


def test_door_is_never_open_while_the_car_moves(elevator_hour):
    samples = elevator_hour.samples("car_status", "door_status")
    assert any(s["car_status"] == 1 for s in samples), "the car should travel in an hour of morning peak"
    assert all(s["door_status"] == 1 for s in samples if s["car_status"] == 1)


def test_speed_never_exceeds_rated_speed(estate, elevator_hour):
    rated = estate.device("S001-B01-EL01").attributes["rated_speed"]
    assert max(elevator_hour.series("speed")) <= rated


def test_car_stays_within_the_shaft_and_stops_only_in_the_door_zone(elevator_hour):
    assert set(elevator_hour.series("car_position")) <= set(range(1, 19))
    stopped = elevator_hour.samples("car_status", "door_zone")
    assert all(s["door_zone"] == 1 for s in stopped if s["car_status"] == 0)


def test_passengers_are_never_reported_trapped_in_normal_operation(elevator_hour):
    assert "trapped" not in elevator_hour.codes()


@pytest.mark.slow
@pytest.mark.parametrize(("device", "metric", "height"), [
    ("S001-PR01", "tank_level", "tank_height"), ("S001-FIRE01", "fire_tank_level", "tank_height"),
    ("S001-SP01", "sump_level", "pit_depth")])
def test_levels_stay_within_their_vessel(estate, hours_of_plant, device, metric, height):
    levels = hours_of_plant[device].series(metric)
    assert min(levels) >= 0 and max(levels) <= estate.device(device).attributes[height]


@pytest.mark.slow
def test_water_tank_stays_above_its_low_level_under_diurnal_demand(estate, hours_of_plant):
    low = estate.device("S001-PR01").attributes["tank_low_level"]
    assert min(hours_of_plant["S001-PR01"].series("tank_level")) > low


@pytest.mark.slow
def test_fire_water_pressures_stay_in_their_code_ranges(hours_of_plant):
    fire = hours_of_plant["S001-FIRE01"]
    assert min(fire.series("sprinkler_end_pressure")) >= 0.05  # GB 50974 4.0.5
    assert min(fire.series("hydrant_pressure")) >= 0.25 and max(fire.series("hydrant_pressure")) <= 0.50  # 7.4.12


@pytest.mark.slow
def test_jockey_pump_cycles_to_hold_the_riser_pressure(hours_of_plant):
    assert 1.0 in hours_of_plant["S001-FIRE01"].series("jockey_pump_running")


@pytest.mark.slow
def test_water_quality_and_pressure_stay_within_gb_limits(hours_of_plant):
    water = hours_of_plant["S001-PR01"]
    assert min(water.series("outlet_pressure")) >= 0.10  # GB 50368 tap pressure
    assert min(water.series("residual_chlorine")) >= 0.05  # GB 5749-2022
    assert max(water.series("turbidity")) <= 1.0  # GB 5749-2022


@pytest.mark.slow
def test_booster_frequency_follows_the_diurnal_demand(hours_of_plant):
    frequency = hours_of_plant["S001-PR01"].series("pump1_frequency")
    per_hour = len(frequency) // 3
    morning_peak, mid_morning = frequency[:per_hour], frequency[2 * per_hour:]  # 08:00 vs 10:00
    assert sum(morning_peak) / per_hour > sum(mid_morning) / per_hour


@pytest.mark.slow
def test_sump_pumps_start_on_level_and_keep_the_pit_below_high_level(estate, trace):
    day = trace(estate, "S001-SP01", duration_s=12 * 3600, seed=11)
    assert 1.0 in day.series("pump1_running")
    assert max(day.series("sump_level")) < estate.device("S001-SP01").attributes["high_level"]


def test_weekly_pump_test_starts_the_fire_pump(estate, trace):
    monday = trace(estate, "S001-FIRE01", duration_s=2 * 3600 + 300)  # 08:00 -> 10:05 China time
    assert "pump_test" in monday.codes() and "started" in monday.codes()
    assert max(monday.series("fire_pump_current")) > 50
