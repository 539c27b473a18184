"""Each injectable fault leaves its signature in the data a device sends."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from gateway.protocol import Rejection, RejectionReason, TopicKind, decode, parse_topic
from gateway.protocol.catalog import device_type
from simulators.offline import PlannedFault, run_offline

EL, FIRE, WATER, SUMP = "S001-B01-EL01", "S001-FIRE01", "S001-PR01", "S001-SP01"


def after(trace, code, metric):
    """Telemetry carrying ``metric`` sampled after the first event ``code``."""
    ts = next(e.ts for e in trace.events if e.code == code)
    return [m.metrics for m in trace.telemetry if m.ts > ts and metric in m.metrics]


def test_trapped_stops_the_car_level_with_doors_closed_and_a_passenger_inside(estate, trace):
    run = trace(estate, EL, duration_s=200, faults=(PlannedFault(5, EL, "trapped", 120),))
    trapped = next(e for e in run.events if e.code == "trapped")
    assert trapped.detail["in_door_zone"] is True
    rescued = next(e.ts for e in run.events if e.code == "normal_operation")
    during = [m.metrics for m in run.telemetry if trapped.ts < m.ts < rescued and "car_status" in m.metrics]
    assert during
    assert all(m["passenger_status"] == 1 and m["car_status"] == 0 and m["door_status"] == 1 for m in during)
    assert all(m["door_zone"] == 1 for m in during)
    assert run.codes().index("trapped") < run.codes().index("alarm_button") < run.codes().index("normal_operation")
    assert after(run, "normal_operation", "passenger_status")[-1]["passenger_status"] == 2


def test_trapped_between_floors_stops_outside_the_door_zone(estate, trace):
    run = trace(estate, EL, duration_s=120, faults=(PlannedFault(5, EL, "trapped_between_floors"),))
    trapped = next(e for e in run.events if e.code == "trapped")
    assert trapped.detail["in_door_zone"] is False
    assert "stopped_outside_door_zone" in run.codes()
    assert all(m["door_zone"] == 2 and m["passenger_status"] == 1 for m in after(run, "trapped", "car_status"))


def test_stopped_outside_door_zone_with_an_empty_car_is_not_an_entrapment(estate, trace):
    run = trace(estate, EL, duration_s=120, faults=(PlannedFault(5, EL, "stopped_outside_door_zone"),))
    assert "stopped_outside_door_zone" in run.codes() and "trapped" not in run.codes()
    stopped = after(run, "stopped_outside_door_zone", "car_status")
    assert all(m["door_zone"] == 2 and m["car_status"] == 0 for m in stopped)


def test_door_open_while_running_shows_an_open_door_on_a_moving_car(estate, trace):
    run = trace(estate, EL, duration_s=900, faults=(PlannedFault(5, EL, "door_open_while_running"),))
    assert "door_open_while_running" in run.codes()
    assert any(s["car_status"] == 1 and s["door_status"] == 2 for s in run.samples("car_status", "door_status"))


@pytest.mark.parametrize(("fault", "floor"), [("top_overshoot", 18), ("bottom_overshoot", 1)])
def test_overshoot_leaves_the_car_past_the_terminal_landing_out_of_service(estate, trace, fault, floor):
    run = trace(estate, EL, duration_s=120, faults=(PlannedFault(5, EL, fault),))
    assert fault in run.codes() and "out_of_service" in run.codes()
    final = after(run, fault, "car_status")[-1]
    assert final["car_position"] == floor and final["door_zone"] == 2 and final["service_mode"] == 0


def test_door_degradation_drifts_the_close_time_upward(estate, trace):
    # One day of wear per simulated minute, 0.3 s/day: +3 s over ten minutes.
    run = trace(estate, EL, duration_s=900, faults=(PlannedFault(0, EL, "door_degradation",
                                                                  params={"time_scale": 1440}),))
    close = run.series("door_close_time")
    assert close[-1] > close[0] + 2.0


def test_pump_bearing_wear_raises_current_and_vibration(estate, trace):
    healthy = trace(estate, WATER, duration_s=1800)
    worn = trace(estate, WATER, duration_s=1800, faults=(PlannedFault(0, WATER, "pump_bearing_wear",
                                                                        params={"severity_per_h": 2.0}),))
    assert worn.series("pump1_vibration")[-1] > 2 * healthy.series("pump1_vibration")[-1]
    assert worn.series("pump1_current")[-1] > healthy.series("pump1_current")[-1]


def test_fire_pump_bearing_wear_shows_during_the_weekly_test(estate, trace):
    start = datetime(2026, 11, 23, 1, 55, tzinfo=UTC)  # 09:55 China time, test at 10:00
    worn = trace(estate, FIRE, duration_s=420, start=start, faults=(PlannedFault(0, FIRE, "pump_bearing_wear"),))
    running = [m for m in worn.samples("fire_pump_running", "fire_pump_vibration") if m["fire_pump_running"] == 1]
    assert running and max(m["fire_pump_vibration"] for m in running) > 2.3  # ISO 10816-3 zone A limit


def test_water_pump_failure_reports_a_fault_and_the_standby_takes_over(estate, trace):
    run = trace(estate, WATER, duration_s=300, faults=(PlannedFault(5, WATER, "pump_failure"),))
    assert "pump_fault" in run.codes()
    final = after(run, "pump_fault", "pump1_running")[-1]
    assert final["pump1_running"] == 0 and final["pump2_running"] == 1 and final["outlet_pressure"] >= 0.10


@pytest.mark.parametrize(("device", "code"), [(FIRE, "fault"), (SUMP, "pump_fault")])
def test_pump_failure_is_reported_by_plant_devices(estate, trace, device, code):
    assert code in trace(estate, device, duration_s=60, faults=(PlannedFault(5, device, "pump_failure"),)).codes()


def test_water_pipe_burst_collapses_the_outlet_pressure(estate, trace):
    run = trace(estate, WATER, duration_s=120, faults=(PlannedFault(30, WATER, "pipe_burst"),))
    pressure = run.series("outlet_pressure")
    assert pressure[0] >= 0.25 and pressure[-1] < 0.10


def test_fire_pipe_burst_collapses_the_riser_and_starts_the_fire_pump(estate, trace):
    run = trace(estate, FIRE, duration_s=120, faults=(PlannedFault(30, FIRE, "pipe_burst"),))
    assert run.series("hydrant_pressure")[-1] < 0.10 and "started" in run.codes()


def test_sump_pump_failure_rises_the_level_to_high_and_overflow(estate, trace):
    run = trace(estate, SUMP, duration_s=2400, faults=(PlannedFault(5, SUMP, "sump_pump_failure"),))
    assert run.codes().count("pump_fault") == 2
    assert run.codes().index("sump_high") < run.codes().index("sump_overflow")
    assert max(run.series("sump_level")) >= estate.device(SUMP).attributes["overflow_level"]


def test_fire_tank_leak_drains_below_the_low_level(estate, trace):
    run = trace(estate, FIRE, duration_s=1500, faults=(PlannedFault(5, FIRE, "fire_tank_leak",
                                                                    params={"rate_m_per_h": 3.0}),))
    assert run.series("fire_tank_level")[-1] < estate.device(FIRE).attributes["tank_low_level"]


def test_fire_alarm_is_followed_by_water_flow_and_the_fire_pump(estate, trace):
    run = trace(estate, FIRE, duration_s=180, faults=(PlannedFault(5, FIRE, "fire_alarm"),))
    codes = run.codes()
    assert codes.index("fire_alarm") < codes.index("water_flow") < codes.index("started")
    alarm = run.events[codes.index("fire_alarm")]
    assert {"loop", "address", "component_type"} <= alarm.detail.keys()
    assert after(run, "started", "fire_pump_running")[-1]["fire_pump_running"] == 1


def test_sensor_stuck_freezes_one_metric(estate, trace):
    run = trace(estate, FIRE, duration_s=300, faults=(PlannedFault(100, FIRE, "sensor_stuck",
                                                                   params={"metric": "hydrant_pressure"}),))
    since = run.telemetry[0].ts + timedelta(seconds=110)
    stuck = [m.metrics["hydrant_pressure"] for m in run.telemetry if m.ts > since and "hydrant_pressure" in m.metrics]
    assert len(set(stuck)) == 1 and len(set(run.series("hydrant_pressure"))) > 1


def test_sensor_drift_moves_one_metric_out_of_its_limit(estate, trace):
    run = trace(estate, WATER, duration_s=3600, faults=(PlannedFault(0, WATER, "sensor_drift",
                                                                    params={"metric": "turbidity", "rate_per_h": 2}),))
    assert run.series("turbidity")[0] < 1.0 < run.series("turbidity")[-1]


def test_sensor_dropout_removes_one_metric_from_telemetry(estate, trace):
    run = trace(estate, SUMP, duration_s=120, faults=(PlannedFault(30, SUMP, "sensor_dropout",
                                                                   params={"metric": "sump_level"}, duration_s=60),))
    with_level = [m.ts for m in run.telemetry if "sump_level" in m.metrics]
    without = [m.ts for m in run.telemetry if "sump_level" not in m.metrics]
    assert without and min(without) > min(with_level) and max(with_level) > max(without)


def test_clock_skew_puts_timestamps_ahead_so_the_gateway_rejects_them(estate):
    start = datetime(2026, 11, 23, tzinfo=UTC)
    sent = run_offline(estate, start=start, duration_s=40, devices=[SUMP],
                       faults=(PlannedFault(15, SUMP, "clock_skew", params={"skew_s": 900}),))
    reasons = []
    for message in sent:
        try:
            decode(TopicKind(message.kind), message.payload, now=message.ts)
            reasons.append(None)
        except Rejection as exc:
            reasons.append(exc.reason)
    assert reasons[0] is None and reasons[-1] is RejectionReason.TS_IN_FUTURE


def test_malformed_payloads_provoke_every_reason_a_device_can(estate):
    sent = run_offline(estate, start=datetime(2026, 11, 23, tzinfo=UTC), duration_s=30, devices=[WATER],
                       faults=(PlannedFault(15, WATER, "malformed_payloads"),))
    catalogue = device_type("water_supply")
    seen_seq: set[int] = set()
    provoked = set()
    for message in sent:
        reason = _rejection(message, catalogue, seen_seq)
        if message.malformed:
            assert reason == message.malformed
            provoked.add(reason)
        else:
            assert reason is None
    assert provoked == {r.value for r in RejectionReason} - {"unknown_device", "site_mismatch", "out_of_order_seq"}


def _rejection(message, catalogue, seen_seq):
    """What a gateway would say: protocol decode, then the catalogue and seq checks it owns."""
    try:
        parse_topic(f"pw/v1/S001/{WATER}/{message.kind}")
        decoded = decode(TopicKind(message.kind), message.payload, now=message.ts)
    except Rejection as exc:
        return exc.reason.value
    body = orjson.loads(message.payload)
    if message.kind == "event" and body["code"] not in catalogue.events:
        return "unknown_event_code"
    for name, value in body.get("metrics", {}).items():
        if name not in catalogue.metrics:
            return "unknown_metric"
        if not catalogue.metrics[name].min <= value <= catalogue.metrics[name].max:
            return "out_of_range"
    if decoded.seq in seen_seq:
        return "replayed_seq"
    seen_seq.add(decoded.seq)  # only accepted messages count, so a rejected one leaves no gap
    return None
