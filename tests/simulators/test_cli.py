"""The command line (``python -m simulators`` / ``propwatch simulate``)."""

import argparse

import orjson
import pytest

from simulators.cli import main, parse_fault
from simulators.faults import read_ground_truth


def test_fault_spec_with_time_duration_and_params():
    assert parse_fault("S001-PR01:sensor_drift@30+600,metric=turbidity,rate_per_h=2") == (
        30.0, "S001-PR01", "sensor_drift", 600.0, {"metric": "turbidity", "rate_per_h": 2.0})


def test_fault_spec_minimal():
    assert parse_fault("S001-B01-EL01:trapped") == (0.0, "S001-B01-EL01", "trapped", None, {})


def test_bad_fault_spec_is_refused():
    with pytest.raises(argparse.ArgumentTypeError):
        parse_fault("trapped")


def test_faults_lists_every_fault(capsys):
    assert main(["faults"]) == 0
    assert "door_open_while_running" in capsys.readouterr().out


def test_layout_prints_the_estate(capsys):
    main(["layout", "--site", "S777", "--buildings", "2"])
    layout = orjson.loads(capsys.readouterr().out)
    assert layout["site_id"] == "S777" and len(layout["devices"]) == 7


def test_run_with_a_scheduled_fault_writes_ground_truth(site_id, mqtt_url, tmp_path):
    truth = tmp_path / "gt.jsonl"
    status = main(["run", "--mqtt-url", mqtt_url, "--site", site_id, "--buildings", "1", "--speedup", "50",
                   "--duration", "1", "--fault", f"{site_id}-B01-EL01:trapped@5+20", "--ground-truth", str(truth)])
    [record] = read_ground_truth(truth)
    assert status == 0 and record["fault"] == "trapped" and record["end"] is not None


def test_load_reports_json(site_id, mqtt_url, tmp_path, capsys):
    status = main(["load", "--mqtt-url", mqtt_url, "--site", site_id, "--buildings", "2", "--rate", "500",
                   "--duration", "0.5", "--ledger", str(tmp_path / "ledger.json")])
    report = orjson.loads(capsys.readouterr().out)
    assert status == 0 and report["sent"] == 250 and report["devices"] == 5  # 4 elevators + the pump room
