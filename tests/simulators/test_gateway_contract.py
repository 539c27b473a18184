"""What the simulators send passes the gateway's own validation; what they break, it rejects."""

from datetime import UTC, datetime

import pytest

from gateway.protocol import Rejection, TopicKind
from gateway.protocol.catalog import catalog
from gateway.validation import check_payload
from simulators.offline import PlannedFault, run_offline

START = datetime(2026, 11, 23, tzinfo=UTC)
EVERY_MODEL_FAULT = (
    PlannedFault(5, "S001-B01-EL01", "trapped_between_floors", 60), PlannedFault(5, "S001-B01-EL02", "top_overshoot"),
    PlannedFault(5, "S001-FIRE01", "fire_alarm"), PlannedFault(5, "S001-PR01", "pipe_burst"),
    PlannedFault(5, "S001-SP01", "sump_pump_failure"),
)


def validate(estate, message):
    kind = estate.device(message.device).type
    check_payload(TopicKind(message.kind), message.payload, message.ts, catalog()[kind], kind)


def test_normal_and_faulty_traffic_is_accepted_by_the_gateway_validator(estate):
    sent = run_offline(estate, start=START, duration_s=300, seed=4, faults=EVERY_MODEL_FAULT)
    for message in sent:
        validate(estate, message)
    assert len(sent) > 700  # 300 s of 5 devices


@pytest.mark.parametrize("reason", ["oversize", "bad_json", "schema_violation", "bad_timestamp", "ts_in_future",
                                    "ts_too_old",
                                    "too_many_metrics", "unknown_metric", "out_of_range", "unknown_event_code"])
def test_each_malformed_payload_is_rejected_by_the_gateway_with_its_reason(estate, reason):
    sent = run_offline(estate, start=START, duration_s=3, devices=["S001-PR01"],
                       faults=(PlannedFault(0, "S001-PR01", "malformed_payloads", params={"reasons": [reason]}),))
    [malformed] = [m for m in sent if m.malformed]
    with pytest.raises(Rejection) as caught:
        validate(estate, malformed)
    assert caught.value.reason == reason
