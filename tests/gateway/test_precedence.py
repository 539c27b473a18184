"""Within one gateway process the telemetry lane steps aside while an urgent record of the safety lane is being
committed and evaluated, for a bounded time (``gateway.precedence``)."""

from __future__ import annotations

import threading
import time

from gateway.precedence import Precedence
from gateway.protocol import topic_for
from ingest.records import Batch, DeviceEvent, Sample

from .conftest import count, now_ms, wait_until


def is_entrapment(record: Sample | DeviceEvent) -> bool:
    return isinstance(record, DeviceEvent) and record.code == "trapped"


def test_a_waiting_thread_goes_on_as_soon_as_the_urgent_work_ends() -> None:
    precedence = Precedence(longest_s=30)
    precedence.begin()
    waited: list[float] = []
    started = time.monotonic()
    waiter = threading.Thread(target=lambda: (precedence.wait(), waited.append(time.monotonic() - started)))
    waiter.start()
    time.sleep(0.2)
    assert waiter.is_alive()
    precedence.end()
    waiter.join(2)
    assert 0.2 <= waited[0] < 1.0


def test_a_notice_never_withdrawn_holds_nobody_longer_than_its_bound() -> None:
    precedence = Precedence(longest_s=0.3)
    precedence.begin()
    started = time.monotonic()
    precedence.wait()
    assert 0.25 <= time.monotonic() - started < 1.0
    assert not precedence.requested
    precedence.wait()  # expired: no second pause
    assert time.monotonic() - started < 1.0


def test_urgent_work_is_requested_until_every_record_announced_has_ended() -> None:
    precedence = Precedence(longest_s=30)
    precedence.begin()
    precedence.begin()
    precedence.end()
    assert precedence.requested
    precedence.end()
    assert not precedence.requested


def test_telemetry_is_not_taken_while_an_urgent_record_is_on_its_way(make_gateway, publisher, db, site_id,
                                                                    elevators) -> None:
    precedence = Precedence(longest_s=30)
    gateway = make_gateway(precedence=precedence)
    precedence.begin()
    publisher.publish(topic_for(site_id, elevators[0], "telemetry"),
                      {"ts": now_ms(), "seq": 1, "metrics": {"load": 1.0}})
    time.sleep(1.0)
    assert count(db, "SELECT count(*) FROM readings") == 0
    precedence.end()
    wait_until(lambda: count(db, "SELECT count(*) FROM readings") == 1, timeout=5)
    assert gateway.stats().connected


def test_the_safety_lane_announces_an_entrapment_until_it_is_committed_and_evaluated(make_gateway, publisher, db,
                                                                                     site_id, elevators) -> None:
    precedence = Precedence(longest_s=30)
    seen: list[tuple[int, bool]] = []

    def evaluate(batch: Batch) -> None:
        seen.append((len(batch.events), precedence.requested))

    make_gateway(precedence=precedence, urgent=is_entrapment, on_committed=evaluate)
    publisher.publish(topic_for(site_id, elevators[0], "event"), {"ts": now_ms(), "seq": 1, "code": "trapped"})
    wait_until(lambda: count(db, "SELECT count(*) FROM device_events WHERE code = 'trapped'") == 1, timeout=5)
    wait_until(lambda: (1, True) in seen, timeout=5)
    wait_until(lambda: not precedence.requested, timeout=5)
