"""Hostile devices, probed as an outsider would: stock ``mosquitto_pub`` with one device's own login against the
broker configured as in production (logins, ACLs, client ids bound to user names).

Each test sends what once stopped ingestion for every device, then checks what users care about: a good message
from another device is stored and its alarm raised within 2 s, the gateway stays connected, and the hostile
message is in the dead-letter table with its reason.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.broker_config import MAX_PACKET_SIZE
from gateway.credentials import BrokerAccess, Credential, DeviceCredential
from gateway.dead_letters import MAX_STORED_PAYLOAD, DeadLetterPolicy, list_dead_letters
from gateway.protocol import MAX_PAYLOAD_BYTES, Rejection, TopicKind, topic_for
from gateway.protocol.catalog import device_type
from gateway.protocol.endpoint import MqttEndpoint
from gateway.service import Gateway
from gateway.validation import check_payload
from ingest.records import Batch
from ingest.registry import Device, Site, upsert_device, upsert_site
from propwatch.embedded import EmbeddedBroker
from rules.alarms import clear
from rules.engine import RuleEngine

from .conftest import now_ms, wait_until

pytestmark = pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto-clients not installed")

ALARM_WITHIN_S = 2.0
ELEVATOR = device_type("elevator")


@dataclass(frozen=True)
class Estate:
    site: str
    hostile: str  # an elevator whose login the outsider holds
    goods: tuple[str, ...]  # other elevators, each of whose first entrapment must raise its alarm
    access: BrokerAccess

    @property
    def good(self) -> str:
        return self.goods[0]


GOOD_LIFTS = 3


@pytest.fixture
def estate(db: psycopg.Connection, site_id: str) -> Estate:
    upsert_site(db, Site(site_id, f"Estate {site_id}"))
    lifts = [f"{site_id}-EL{n:02d}" for n in range(GOOD_LIFTS + 1)]
    for lift in lifts:
        upsert_device(db, Device(lift, site_id, "elevator", lift, attributes={"rated_speed": 1.75}))
    gateway = Credential(f"gw-{site_id}", secrets.token_urlsafe(12))
    devices = tuple(DeviceCredential(lift, site_id, secrets.token_urlsafe(12)) for lift in lifts)
    return Estate(site_id, lifts[0], tuple(lifts[1:]), BrokerAccess((gateway,), devices))


@pytest.fixture
def broker(tmp_path: Path, estate: Estate) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(tmp_path / "mqtt", access=estate.access)
    if not broker.handle.secured:
        broker.stop()
        pytest.skip("a broker with logins and ACLs needs Mosquitto")
    yield broker
    broker.stop()


class Pipeline:
    """A gateway with the rules engine on its commit path, as ``propwatch pipeline`` runs them."""

    def __init__(self, db_url: str, broker: EmbeddedBroker, estate: Estate, **options: object) -> None:
        login = estate.access.gateways[0]
        self.engine = RuleEngine(db_url, sites=[estate.site])
        self.committed: list[Batch] = []
        self.gateway = Gateway(
            endpoint=MqttEndpoint(broker.handle.host, broker.handle.port, login.username, login.password),
            database_url=db_url, client_id=login.username, on_committed=self._process,
            urgent=self.engine.urgency, flush_interval_s=0.05, **options,
        )
        self.gateway.start()
        self.gateway.wait_connected()

    def _process(self, batch: Batch) -> None:
        self.committed.append(batch)
        self.engine.process(batch)

    def active_alarm(self, device_id: str, since: datetime) -> int | None:
        """The id of the device's active alarm first seen at or after ``since``, if there is one."""
        for alarm in self.engine.open_alarms():
            if alarm.device_id == device_id and alarm.state == "active" and alarm.first_seen >= since:
                return alarm.id
        return None

    def stop(self) -> None:
        self.gateway.stop()
        self.engine.close()


@pytest.fixture
def start_pipeline(db_url: str, broker: EmbeddedBroker, estate: Estate) -> Iterator:
    started: list[Pipeline] = []

    def start(**options: object) -> Pipeline:
        started.append(Pipeline(db_url, broker, estate, **options))
        return started[-1]

    yield start
    for pipeline in started:
        pipeline.stop()


@pytest.fixture
def pipeline(start_pipeline) -> Pipeline:
    return start_pipeline()


def mosquitto_pub(broker: EmbeddedBroker, estate: Estate, device: str, kind: str, payload: bytes | dict, *,
                  retain: bool = False, lines: bool = False, check: bool = True) -> subprocess.CompletedProcess:
    """Publish one QoS 1 message as ``device`` with its own login and client id, the way a stock client does
    (with ``lines``, one message per line of ``payload``); with ``check``, a failed publish fails the test."""
    login = estate.access.device(device)
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    command = ["mosquitto_pub", "-h", broker.handle.host, "-p", str(broker.handle.port), "-u", device,
               "-P", login.password, "-i", device, "-q", "1", "-t", topic_for(estate.site, device, kind),
               "-l" if lines else "-s"]
    return subprocess.run([*command, "-r"] if retain else command, input=data, check=check, capture_output=True,
                          timeout=120)


def dead_letter_reasons(db: psycopg.Connection, device: str) -> list[str]:
    return [letter.reason for letter in list_dead_letters(db, device_id=device)]


def assert_dead_lettered(db: psycopg.Connection, device: str, reasons: list[str]) -> None:
    """The device's dead letters carry exactly ``reasons`` (once the batch holding them has committed)."""
    wait_until(lambda: dead_letter_reasons(db, device) == reasons, timeout=5)


def assert_monitoring_continues(pipeline: Pipeline, broker: EmbeddedBroker, estate: Estate,
                                db: psycopg.Connection, good: str | None = None) -> None:
    """Another device's entrapment is stored and its alarm active within 2 s; the gateway is connected."""
    good = good or estate.good
    ts = now_ms()
    device_time = datetime.fromtimestamp(ts / 1000, tz=UTC)
    mosquitto_pub(broker, estate, good, "event", {"ts": ts, "seq": 1, "code": "trapped"})
    wait_until(lambda: pipeline.active_alarm(good, device_time) is not None, timeout=ALARM_WITHIN_S)
    stored = db.execute("SELECT count(*) FROM device_events WHERE device_id = %s AND code = 'trapped' AND ts = %s",
                        (good, device_time)).fetchone()[0]
    assert stored == 1
    assert pipeline.gateway.stats().connected


def test_seq_at_the_top_of_bigint_is_refused_and_the_device_goes_on(pipeline, broker, estate, db) -> None:
    mosquitto_pub(broker, estate, estate.hostile, "telemetry",
                  {"ts": now_ms(), "seq": 2**63 - 1, "metrics": {"speed": 1.0}})
    mosquitto_pub(broker, estate, estate.hostile, "telemetry", {"ts": now_ms(), "seq": 5, "metrics": {"speed": 1.0}})
    assert_monitoring_continues(pipeline, broker, estate, db)
    assert_dead_lettered(db, estate.hostile, ["schema_violation"])
    assert db.execute("SELECT count(*) FROM readings WHERE device_id = %s", (estate.hostile,)).fetchone()[0] == 1


def test_nul_in_a_birth_message_is_refused(pipeline, broker, estate, db) -> None:
    mosquitto_pub(broker, estate, estate.hostile, "state", b'{"status": "online", "firmware": "fw\\u0000"}')
    assert_monitoring_continues(pipeline, broker, estate, db)
    assert_dead_lettered(db, estate.hostile, ["schema_violation"])


def test_a_retained_birth_with_nul_is_refused_at_start_and_not_again_after_a_restart(
        start_pipeline, broker, estate, db) -> None:
    mosquitto_pub(broker, estate, estate.hostile, "state", b'{"status": "online", "firmware": "fw\\u0000"}',
                  retain=True)
    first = start_pipeline()  # a new session: the broker hands it the retained message on subscribing
    assert_dead_lettered(db, estate.hostile, ["schema_violation"])
    first.stop()
    restarted = start_pipeline()
    assert_monitoring_continues(restarted, broker, estate, db)
    assert_dead_lettered(db, estate.hostile, ["schema_violation"])


def test_an_event_nested_a_thousand_levels_deep_is_refused(pipeline, broker, estate, db) -> None:
    nested = b"[" * 1000 + b"]" * 1000  # 2 KB
    mosquitto_pub(broker, estate, estate.hostile, "event",
                  b'{"ts": %d, "seq": 1, "code": "trapped", "detail": {"x": %s}}' % (now_ms(), nested))
    assert_monitoring_continues(pipeline, broker, estate, db)
    assert_dead_lettered(db, estate.hostile, ["schema_violation"])


@pytest.mark.parametrize("ts,reason", [("0001-01-01T00:00:00+08:00", "ts_too_old"),
                                       ("9999-12-31T23:59:59-08:00", "ts_in_future")])
def test_a_time_without_a_utc_date_is_named_and_logs_no_error(pipeline, broker, estate, db, caplog, ts,
                                                               reason) -> None:
    caplog.set_level(logging.WARNING)
    mosquitto_pub(broker, estate, estate.hostile, "event", {"ts": ts, "seq": 1, "code": "trapped"})
    assert_monitoring_continues(pipeline, broker, estate, db)
    assert_dead_lettered(db, estate.hostile, [reason])
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def padded_event(size: int) -> bytes:
    """A well-formed entrapment event padded to exactly ``size`` bytes."""
    head = b'{"ts": %d, "seq": 1, "code": "trapped", "detail": {"pad": "' % now_ms()
    return head + b"x" * (size - len(head) - 3) + b'"}}'


def test_a_payload_over_the_protocols_limit_but_within_the_brokers_is_dead_lettered_as_oversize(
        pipeline, broker, estate, db) -> None:
    payload = padded_event(128 * 1024)  # a runaway firmware buffer: 8 x MAX_PAYLOAD_BYTES, half max_packet_size
    mosquitto_pub(broker, estate, estate.hostile, "event", payload)
    assert_monitoring_continues(pipeline, broker, estate, db)
    assert_dead_lettered(db, estate.hostile, ["oversize"])
    [letter] = list_dead_letters(db, device_id=estate.hostile)
    assert (letter.payload_size, letter.payload) == (len(payload), payload[:MAX_STORED_PAYLOAD])
    assert MAX_PAYLOAD_BYTES < len(payload) < MAX_PACKET_SIZE


def test_a_packet_beyond_the_brokers_bound_is_cut_at_the_broker_and_monitoring_continues(
        pipeline, broker, estate, db) -> None:
    result = mosquitto_pub(broker, estate, estate.hostile, "event", padded_event(MAX_PACKET_SIZE), check=False)
    assert result.returncode != 0
    assert_monitoring_continues(pipeline, broker, estate, db)
    assert dead_letter_reasons(db, estate.hostile) == []
    log = (broker.data_dir / "mosquitto.log").read_text(encoding="utf-8", errors="replace")
    assert f"Client {estate.hostile} disconnected due to oversize packet." in log


def test_an_entrapment_six_days_old_is_stored_and_raised_as_late_with_its_receipt_time(
        pipeline, broker, estate, db) -> None:
    device_time = datetime.fromtimestamp((now_ms() - 6 * 86_400_000) / 1000, tz=UTC)
    mosquitto_pub(broker, estate, estate.hostile, "event",
                  {"ts": int(device_time.timestamp() * 1000), "seq": 1, "code": "trapped"})
    assert_monitoring_continues(pipeline, broker, estate, db)
    ts, received_at = db.execute("SELECT ts, received_at FROM device_events WHERE device_id = %s",
                                 (estate.hostile,)).fetchone()
    assert ts == device_time
    assert datetime.now(UTC) - received_at < timedelta(seconds=30)
    [event] = [e for batch in pipeline.committed for e in batch.events if e.device_id == estate.hostile]
    assert (event.late, event.received_at) == (True, received_at)
    [good] = [e for batch in pipeline.committed for e in batch.events if e.device_id == estate.good]
    assert not good.late


def test_a_flood_of_malformed_messages_keeps_a_bounded_sample_and_counts_the_rest(start_pipeline, broker, estate,
                                                                                  db) -> None:
    policy = DeadLetterPolicy(burst=20, per_minute=60.0)
    pipeline = start_pipeline(dead_letters=policy)
    flood = 5_000
    started = time.monotonic()
    mosquitto_pub(broker, estate, estate.hostile, "telemetry", b"not json\n" * flood, lines=True)
    assert_monitoring_continues(pipeline, broker, estate, db)
    wait_until(lambda: pipeline.gateway.stats().rejected_by_reason.get("bad_json") == flood, timeout=60)
    allowance = policy.burst + (time.monotonic() - started) * policy.per_minute / 60
    stored = len(dead_letter_reasons(db, estate.hostile))
    assert 20 <= stored <= allowance
    assert pipeline.gateway.stats().dead_letters_suppressed == flood - stored


def test_dead_letters_are_pruned_to_the_newest_max_rows(start_pipeline, broker, estate, db) -> None:
    policy = DeadLetterPolicy(burst=1_000, max_rows=50, prune_interval_s=0.5)
    pipeline = start_pipeline(dead_letters=policy)
    mosquitto_pub(broker, estate, estate.hostile, "telemetry", b"not json\n" * 300, lines=True)
    wait_until(lambda: pipeline.gateway.stats().rejected_by_reason.get("bad_json") == 300, timeout=60)
    wait_until(lambda: len(list_dead_letters(db, limit=1_000)) == 50, timeout=10)


# Arbitrary JSON: any strings (NUL, lone surrogates, escapes), any numbers (beyond 64 bits, NaN), and depths from
# none to beyond the JSON decoder's own limit.
json_scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text())
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=10), kids, max_size=4), max_leaves=30)
near_valid = st.fixed_dictionaries({"seq": json_values},
                                   optional={"metrics": json_values, "code": json_values, "detail": json_values,
                                             "status": json_values, "firmware": json_values, "extra": json_values})


def dumps(value: object) -> bytes:
    """Stdlib JSON, which writes what devices may send and orjson refuses (NaN, integers beyond 64 bits)."""
    return json.dumps(value).encode()


def deep(depth: int) -> bytes:
    return b'{"ts": %d, "seq": 1, "code": "trapped", "detail": {"x": %s}}' % (now_ms(), b"[" * depth + b"]" * depth)


payloads = (st.builds(dumps, json_values) | st.builds(lambda v: dumps({**v, "ts": now_ms()}), near_valid)
            | st.builds(deep, st.integers(0, 3000)))


def verdict(kind: str, payload: bytes) -> str | None:
    """What the gateway's own checks say of a payload from an elevator: the reason, or ``None`` if accepted."""
    try:
        check_payload(TopicKind(kind), payload, datetime.now(UTC), ELEVATOR, "elevator")
    except Rejection as rejection:
        return str(rejection.reason)
    return None


@pytest.fixture
def generous_pipeline(start_pipeline) -> Pipeline:
    """Every dead letter kept: all examples come from one device, far beyond its usual allowance."""
    return start_pipeline(dead_letters=DeadLetterPolicy(burst=100_000))


@pytest.fixture
def good_lifts(estate: Estate) -> Iterator[str]:
    """The good lifts in turn, one per example."""
    return itertools.cycle(estate.goods)


def rescue(pipeline: Pipeline, db: psycopg.Connection, lift: str) -> None:
    """An operator clears the lift's entrapment alarm, so its next entrapment raises a new one."""
    alarm_id = pipeline.active_alarm(lift, datetime.min.replace(tzinfo=UTC))
    assert alarm_id is not None
    clear(db, alarm_id, actor="test", comment="passenger released")


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(st.tuples(st.sampled_from(["telemetry", "event", "state"]), payloads), min_size=1,
                         max_size=6))
def test_arbitrary_json_on_every_topic_kind_never_stops_monitoring(generous_pipeline, good_lifts, broker, estate,
                                                                   db, messages) -> None:
    before = Counter(dead_letter_reasons(db, estate.hostile))
    acked = generous_pipeline.gateway.stats().acked
    expected: Counter[str] = Counter()
    for kind, payload in messages:
        mosquitto_pub(broker, estate, estate.hostile, kind, payload)
        reason = verdict(kind, payload)
        if reason is not None:
            expected[reason] += 1
    good = next(good_lifts)
    assert_monitoring_continues(generous_pipeline, broker, estate, db, good)
    wait_until(lambda: generous_pipeline.gateway.stats().acked == acked + len(messages) + 1)
    wait_until(lambda: Counter(dead_letter_reasons(db, estate.hostile)) - before == expected, timeout=5)
    rescue(generous_pipeline, db, good)
