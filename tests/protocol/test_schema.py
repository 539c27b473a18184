"""docs/protocol.schema.json is generated from the models and agrees with them on real traffic."""

from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import orjson
import pytest

from gateway.protocol.schema import protocol_schema, render
from simulators.estate import demo_estate
from simulators.offline import PlannedFault, run_offline

PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "protocol.schema.json"


def validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(protocol_schema()["$defs"][kind])


def test_published_schema_is_up_to_date():
    assert PUBLISHED.read_bytes() == render(), "run: python -m gateway.protocol.schema docs/protocol.schema.json"


def test_published_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(orjson.loads(PUBLISHED.read_bytes()))


def test_everything_the_simulators_send_validates_against_the_schema():
    estate = demo_estate("S001", buildings=1)
    sent = run_offline(estate, start=datetime(2026, 11, 23, tzinfo=UTC), duration_s=120,
                       faults=(PlannedFault(5, "S001-B01-EL01", "trapped"),
                               PlannedFault(5, "S001-FIRE01", "fire_alarm")))
    kinds = set()
    for message in sent:
        validator(message.kind).validate(orjson.loads(message.payload))
        kinds.add(message.kind)
    assert kinds == {"telemetry", "event"}


@pytest.mark.parametrize("payload", [
    {"ts": 1795608000000, "seq": 1, "metrics": {}},
    {"ts": "2026-11-25T08:00:00", "seq": 1, "metrics": {"speed": 1}},
    {"ts": 1795608000000, "seq": 1, "metrics": {"Speed": 1}},
    {"ts": 1795608000000, "seq": 1, "metrics": {"speed": "fast"}},
])
def test_schema_rejects_what_decode_rejects(payload):
    assert not validator("telemetry").is_valid(payload)


def test_state_schema_accepts_birth_and_will():
    state = validator("state")
    assert state.is_valid({"status": "offline"})
    assert state.is_valid({"status": "online", "type": "elevator", "model": "m", "firmware": "1", "metrics": ["speed"],
                           "ts": "2026-11-25T08:00:00Z"})
    assert not state.is_valid({"status": "sleeping"})
