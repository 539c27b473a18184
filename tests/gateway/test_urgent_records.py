"""A record the ``urgent`` predicate marks is committed without waiting for the flush interval: first with
the rest of its device's records, in arrival order, then the batch it arrived in."""

from __future__ import annotations

import time

from gateway.protocol import topic_for
from ingest.records import Batch, DeviceEvent, Sample

from .conftest import count, now_ms, wait_until

LONG_FLUSH_S = 30.0  # far beyond every wait below: only urgency can commit before it


def is_entrapment(record: Sample | DeviceEvent) -> bool:
    return isinstance(record, DeviceEvent) and record.code == "trapped"


def test_an_urgent_record_is_committed_without_waiting_for_the_flush_interval(
        make_gateway, publisher, db, site_id, devices):
    make_gateway(flush_interval_s=LONG_FLUSH_S, urgent=is_entrapment)
    publisher.publish(topic_for(site_id, devices[0], "event"), {"ts": now_ms(), "seq": 1, "code": "trapped"})
    wait_until(lambda: count(db, "SELECT count(*) FROM device_events WHERE code = 'trapped'") == 1, timeout=5)


def test_records_not_marked_urgent_wait_for_the_flush_interval(make_gateway, publisher, db, site_id, devices):
    gateway = make_gateway(flush_interval_s=LONG_FLUSH_S, urgent=is_entrapment)
    publisher.publish(topic_for(site_id, devices[0], "event"), {"ts": now_ms(), "seq": 1, "code": "door_reopen"})
    wait_until(lambda: gateway.stats().unacknowledged == 1)
    time.sleep(0.5)  # an urgent record is committed within milliseconds of its arrival
    assert count(db, "SELECT count(*) FROM device_events") == 0
    assert gateway.stats().unacknowledged == 1


def is_overspeed(record: Sample | DeviceEvent) -> bool:
    return isinstance(record, Sample) and record.metrics.get("speed", 0.0) > 2.0


def test_the_urgent_devices_records_commit_first_then_the_rest_of_the_batch(
        make_gateway, publisher, db, site_id, devices):
    committed: list[Batch] = []
    gateway = make_gateway(flush_interval_s=LONG_FLUSH_S, urgent=is_overspeed, on_committed=committed.append)
    lift, pumps = devices[0], devices[1]
    ts = now_ms()
    publisher.publish(topic_for(site_id, pumps, "telemetry"), {"ts": ts, "seq": 1, "metrics": {"outlet_pressure": 0.3}})
    publisher.publish(topic_for(site_id, lift, "telemetry"), {"ts": ts, "seq": 1, "metrics": {"speed": 1.0}})
    publisher.publish(topic_for(site_id, lift, "telemetry"), {"ts": ts + 1, "seq": 2, "metrics": {"speed": 3.0}})
    wait_until(lambda: gateway.stats().acked == 3, timeout=5)
    assert [[s.device_id for s in b.samples] for b in committed] == [[lift, lift], [pumps]]
    assert count(db, "SELECT count(*) FROM readings") == 3


def test_an_urgent_batch_keeps_each_devices_sequence_accounting(make_gateway, publisher, db, site_id, devices):
    gateway = make_gateway(flush_interval_s=LONG_FLUSH_S, urgent=is_overspeed)
    ts = now_ms()
    for seq in (1, 2):
        publisher.publish(topic_for(site_id, devices[0], "telemetry"), {"ts": ts + seq, "seq": seq,
                                                                        "metrics": {"speed": 1.0}})
    publisher.publish(topic_for(site_id, devices[0], "telemetry"), {"ts": ts + 3, "seq": 3, "metrics": {"speed": 3.0}})
    wait_until(lambda: gateway.stats().acked == 3, timeout=5)
    stats = gateway.stats()
    assert (stats.seq_gaps, stats.seq_missing, stats.seq_replays) == (0, 0, 0)


def test_a_failing_urgency_predicate_leaves_records_to_their_batch(make_gateway, publisher, db, site_id, devices):
    def broken(record: Sample | DeviceEvent) -> bool:
        raise KeyError(record.device_id)

    gateway = make_gateway(flush_interval_s=0.05, urgent=broken)
    publisher.publish(topic_for(site_id, devices[0], "event"), {"ts": now_ms(), "seq": 1, "code": "trapped"})
    publisher.publish(topic_for(site_id, devices[0], "event"), {"ts": now_ms() + 1, "seq": 2, "code": "trapped"})
    wait_until(lambda: gateway.stats().acked == 2, timeout=5)
    assert count(db, "SELECT count(*) FROM device_events") == 2
