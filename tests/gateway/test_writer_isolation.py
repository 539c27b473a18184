"""A message validation lets through but the database refuses never blocks its batch: it is found by committing
halves of the batch, dead-lettered as ``storage_failed`` with its payload, acknowledged, and the rest is stored.

Validation is complete for every known case, so these tests open a gap in it on purpose (the content check
switched off) to stand for one not yet known.
"""

from __future__ import annotations

import pytest

from gateway.dead_letters import list_dead_letters
from gateway.protocol import payloads, topic_for

from .conftest import count, now_ms, wait_until

DEEP = b'{"x":' * 1000 + b"1" + b"}" * 1000  # deeper than Python's encoder goes, within the JSON decoder's limit


@pytest.fixture
def validation_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payloads, "check_content", lambda raw: None)


@pytest.mark.parametrize("detail", [b'{"note": "\\u0000"}', DEEP], ids=["nul-refused-by-postgres",
                                                                         "recursion-in-python"])
def test_a_message_the_database_refuses_is_dead_lettered_and_its_batch_stored(
        validation_gap, make_gateway, publisher, db, site_id, devices, detail) -> None:
    gateway = make_gateway(flush_interval_s=0.5)  # the three messages share one batch
    ts = now_ms()
    publisher.publish(topic_for(site_id, devices[0], "telemetry"), {"ts": ts, "seq": 1, "metrics": {"speed": 1.0}})
    publisher.publish(topic_for(site_id, devices[1], "event"),
                      b'{"ts": %d, "seq": 1, "code": "pump_fault", "detail": %s}' % (ts, detail))
    publisher.publish(topic_for(site_id, devices[2], "event"), {"ts": ts, "seq": 1, "code": "fire_alarm"})
    wait_until(lambda: gateway.stats().acked == 3)
    [letter] = list_dead_letters(db)
    assert (letter.reason, letter.device_id) == ("storage_failed", devices[1])
    assert letter.payload_size > 0 and letter.payload
    assert count(db, "SELECT count(*) FROM readings WHERE device_id = %s", devices[0]) == 1
    assert count(db, "SELECT count(*) FROM device_events WHERE device_id = %s", devices[2]) == 1
    assert gateway.stats().rejected_by_reason == {"storage_failed": 1}


def test_after_an_isolated_failure_the_next_batches_commit_whole(
        validation_gap, make_gateway, publisher, db, site_id, devices) -> None:
    gateway = make_gateway()
    publisher.publish(topic_for(site_id, devices[1], "event"),
                      {"ts": now_ms(), "seq": 1, "code": "pump_fault", "detail": {"note": "\x00"}})
    wait_until(lambda: gateway.stats().acked == 1)
    base = now_ms()
    for i in range(20):
        publisher.publish(topic_for(site_id, devices[0], "telemetry"),
                          {"ts": base + i, "seq": i + 2, "metrics": {"speed": 1.0}})
    wait_until(lambda: count(db, "SELECT count(*) FROM readings") == 20)
    assert gateway.stats().database_errors == 0
