"""SiteSimulator against the real broker: births, wills, commands, ground truth."""

import urllib.request

import orjson
import pytest

from gateway.protocol.commands import CommandMessage, encode_command
from simulators.control import ControlServer
from simulators.estate import demo_estate
from simulators.faults import read_ground_truth
from simulators.site import SiteSimulator


@pytest.fixture
def estate(site_id):
    return demo_estate(site_id, buildings=1)


@pytest.fixture
def running(estate, mqtt_url, tmp_path):
    sims = []

    def start(**options):
        sim = SiteSimulator(estate, mqtt_url=mqtt_url, seed=1, speedup=20, ground_truth_path=tmp_path / "gt.jsonl",
                            **options)
        sim.start()
        sims.append(sim)
        return sim

    yield start
    for sim in sims:
        sim.stop()


def test_every_device_publishes_a_retained_birth_with_its_metrics(estate, running, listen):
    running()
    live = listen(f"pw/v1/{estate.site_id}/+/state")
    live.wait_for(lambda *m: len({t for t, b, r in live.messages if b["status"] == "online"}) == len(estate.devices))
    late = listen(f"pw/v1/{estate.site_id}/+/state")  # subscribed after every birth: gets them retained
    late.wait_for(lambda *m: len(late.messages) == len(estate.devices))
    retained = [(t, b) for t, b, r in late.messages if r]
    assert len(retained) == len(estate.devices)
    assert all(b["status"] == "online" and b["firmware"] for t, b in retained)
    elevator = next(b for t, b in retained if t.endswith("-EL01/state"))
    assert elevator["type"] == "elevator" and "car_position" in elevator["metrics"]


def test_telemetry_seq_increases_per_device_across_kinds(estate, running, listen):
    listener = listen(f"pw/v1/{estate.site_id}/#")
    running()
    listener.wait_for(lambda *m: len(listener.messages) > 60)
    last: dict[str, int] = {}
    for topic, body, _ in list(listener.messages):
        if topic.endswith(("/telemetry", "/event")):
            device = topic.split("/")[3]
            assert body["seq"] > last.get(device, -1)
            last[device] = body["seq"]
    assert len(last) == len(estate.devices)


def test_cmd_topic_injects_a_fault_that_shows_in_data_and_ground_truth(estate, running, listen, mqtt_url, tmp_path):
    listener = listen(f"pw/v1/{estate.site_id}/#")
    running()
    device = f"{estate.site_id}-B01-EL01"
    command = CommandMessage(action="inject", fault="trapped", duration_s=600)
    listener._client.publish(f"pw/v1/{estate.site_id}/{device}/cmd", encode_command(command), qos=1)
    listener.wait_for(lambda topic, body, retain: topic.endswith(f"{device}/event") and body["code"] == "trapped")
    [record] = read_ground_truth(tmp_path / "gt.jsonl")
    assert record["device"] == device and record["fault"] == "trapped"
    assert record["expected_alarm"] == {"category": "elevator_entrapment", "code": "trapped", "metric": None}


def test_network_flap_fires_the_will_and_the_device_comes_back(estate, running, listen):
    listener = listen(f"pw/v1/{estate.site_id}/+/state")
    sim = running()
    device = f"{estate.site_id}-SP01"
    sim.inject(device, "network_flap", duration_s=10)
    topic = f"pw/v1/{estate.site_id}/{device}/state"
    listener.wait_for(lambda t, body, retain: t == topic and body["status"] == "offline")
    statuses = [b["status"] for t, b, r in listener.wait_for(
        lambda t, body, retain: t == topic and len([m for m in listener.messages if m[0] == topic]) >= 3)]
    assert statuses[-3:] == ["online", "offline", "online"]


def test_stop_leaves_a_retained_offline_state(estate, running, listen):
    sim = running()
    sim.stop()
    listener = listen(f"pw/v1/{estate.site_id}/+/state")
    listener.wait_for(lambda *m: len(listener.messages) == len(estate.devices))
    assert all(retain and body == {"status": "offline"} for _, body, retain in listener.messages)


def test_mqtt_3_1_1_devices_work_too(estate, running, listen):
    listener = listen(f"pw/v1/{estate.site_id}/+/telemetry")
    running(protocol="3.1.1")
    listener.wait_for(lambda t, body, retain: "metrics" in body)


def test_stop_closes_open_faults_in_the_ground_truth(estate, running, tmp_path):
    sim = running()
    sim.inject(f"{estate.site_id}-PR01", "pipe_burst")
    sim.stop()
    [record] = read_ground_truth(tmp_path / "gt.jsonl")
    assert record["end"] is not None and record["expected_alarm"]["category"] == "water_outage"


def test_inject_refuses_unknown_and_inapplicable_faults(estate, running):
    sim = running()
    with pytest.raises(ValueError, match="unknown fault"):
        sim.inject(f"{estate.site_id}-PR01", "alien_invasion")
    with pytest.raises(ValueError, match="does not apply"):
        sim.inject(f"{estate.site_id}-PR01", "trapped")
    with pytest.raises(KeyError):
        sim.inject("NOT-A-DEVICE", "trapped")


def test_control_api_injects_and_lists_faults(estate, running):
    sim = running()
    control = ControlServer(sim)
    control.start()
    try:
        body = orjson.dumps({"device": f"{estate.site_id}-FIRE01", "fault": "fire_alarm", "duration_s": 60})
        request = urllib.request.Request(f"{control.url}/inject", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            record = orjson.loads(response.read())
        with urllib.request.urlopen(f"{control.url}/faults", timeout=5) as response:
            active = orjson.loads(response.read())
    finally:
        control.stop()
    assert record["expected_alarm"]["category"] == "fire_alarm"
    assert [f["fault_id"] for f in active] == [record["fault_id"]]
