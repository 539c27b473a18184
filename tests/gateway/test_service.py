"""The gateway stores valid device messages and acknowledges them only after commit."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.dead_letters import count_by_reason, list_dead_letters
from gateway.presence import list_presence
from gateway.protocol import topic_for
from gateway.sequence import get_seq_stats
from ingest.records import Batch

from .conftest import count, now_ms, wait_until


def test_telemetry_is_stored_as_readings_and_latest_values(make_gateway, publisher, db, site_id, devices):
    make_gateway()
    ts = now_ms()
    publisher.publish(topic_for(site_id, devices[0], "telemetry"),
                      {"ts": ts, "seq": 1, "metrics": {"speed": 1.5, "load": 320}})
    wait_until(lambda: count(db, "SELECT count(*) FROM reading_values WHERE device_id = %s", devices[0]) == 2)
    latest = dict(db.execute("SELECT metric, value FROM latest_values WHERE device_id = %s", (devices[0],)))
    assert latest == {"speed": 1.5, "load": 320.0}


def test_a_worker_given_sites_takes_only_their_messages(make_gateway, publisher, db, site_id, devices):
    make_gateway(sites=[site_id])
    publisher.publish(topic_for(f"{site_id}X", "OTHER-EL01", "telemetry"),
                      {"ts": now_ms(), "seq": 1, "metrics": {"speed": 1.0}})
    publisher.publish(topic_for(site_id, devices[0], "telemetry"),
                      {"ts": now_ms(), "seq": 1, "metrics": {"speed": 1.0}})
    wait_until(lambda: count(db, "SELECT count(*) FROM readings WHERE device_id = %s", devices[0]) == 1)
    # The other site's message never reached this worker: not stored, and not dead-lettered as unknown.
    assert count(db, "SELECT count(*) FROM dead_letters") == 0


def test_an_event_is_stored_with_its_code_and_seq(make_gateway, publisher, db, site_id, devices):
    make_gateway()
    publisher.publish(topic_for(site_id, devices[0], "event"),
                      {"ts": now_ms(), "seq": 7, "code": "trapped", "detail": {"floor": 3}})
    wait_until(lambda: count(db, "SELECT count(*) FROM device_events WHERE device_id = %s", devices[0]) == 1)
    code, seq, detail = db.execute("SELECT code, seq, detail FROM device_events").fetchone()
    assert (code, seq, detail) == ("trapped", 7, {"floor": 3})


def test_birth_and_will_update_presence_and_become_events(make_gateway, publisher, db, site_id, devices):
    committed: list[Batch] = []
    make_gateway(on_committed=committed.append)
    topic = topic_for(site_id, devices[1], "state")
    publisher.publish(topic, {"status": "online", "type": "water_supply", "firmware": "1.2"})
    wait_until(lambda: [p.status for p in list_presence(db, site_id)] == ["online"])
    publisher.publish(topic, {"status": "offline"})
    wait_until(lambda: [p.status for p in list_presence(db, site_id)] == ["offline"])
    codes = [e.code for b in committed for e in b.events]
    assert codes == ["online", "offline"]
    assert list_presence(db, site_id)[0].firmware == "1.2"


def test_a_repeated_birth_is_no_new_presence_event(make_gateway, publisher, db, site_id, devices):
    committed: list[Batch] = []
    gateway = make_gateway(on_committed=committed.append)
    topic = topic_for(site_id, devices[1], "state")
    for _ in range(2):
        publisher.publish(topic, {"status": "online"})
    wait_until(lambda: gateway.stats().acked == 2)
    assert [e.code for b in committed for e in b.events] == ["online"]


def test_messages_from_an_unregistered_device_are_dead_lettered(make_gateway, publisher, db, site_id, devices):
    gateway = make_gateway()
    publisher.publish(topic_for(site_id, "GHOST-1", "telemetry"), {"ts": now_ms(), "seq": 1, "metrics": {"x": 1}})
    wait_until(lambda: count_by_reason(db) == {"unknown_device": 1})
    assert gateway.stats().rejected_by_reason == {"unknown_device": 1}


def test_a_device_publishing_under_another_site_is_rejected(make_gateway, publisher, db, site_id, devices):
    make_gateway()
    publisher.publish(topic_for(f"{site_id}X", devices[0], "telemetry"),
                      {"ts": now_ms(), "seq": 1, "metrics": {"speed": 1.0}})
    wait_until(lambda: count_by_reason(db) == {"site_mismatch": 1})


def test_catalogue_violations_are_dead_lettered_with_their_reason(make_gateway, publisher, db, site_id, devices):
    make_gateway()
    topic = topic_for(site_id, devices[0], "telemetry")
    publisher.publish(topic, {"ts": now_ms(), "seq": 1, "metrics": {"pressure": 0.3}})
    publisher.publish(topic, {"ts": now_ms(), "seq": 2, "metrics": {"speed": 99.0}})
    publisher.publish(topic_for(site_id, devices[0], "event"), {"ts": now_ms(), "seq": 3, "code": "flood"})
    wait_until(lambda: sum(count_by_reason(db).values()) == 3)
    assert count_by_reason(db) == {"unknown_metric": 1, "out_of_range": 1, "unknown_event_code": 1}
    assert count(db, "SELECT count(*) FROM reading_values") == 0


def test_a_dead_letter_keeps_topic_reason_and_truncated_payload(make_gateway, publisher, db, site_id, devices):
    make_gateway()
    payload = b"{" + b"x" * 5000
    publisher.publish(topic_for(site_id, devices[0], "telemetry"), payload)
    wait_until(lambda: len(list_dead_letters(db, device_id=devices[0])) == 1)
    letter = list_dead_letters(db, reason="bad_json")[0]
    assert letter.topic == topic_for(site_id, devices[0], "telemetry")
    assert letter.payload == payload[:1024] and letter.payload_size == len(payload)
    assert letter.received_at.tzinfo is not None


def test_seq_gaps_and_replays_are_counted_per_device(make_gateway, publisher, db, site_id, devices):
    gateway = make_gateway()
    topic = topic_for(site_id, devices[0], "telemetry")
    base = now_ms()
    for i, seq in enumerate([1, 2, 5, 5, 6]):
        publisher.publish(topic, {"ts": base + i, "seq": seq, "metrics": {"speed": 1.0}})
    wait_until(lambda: gateway.stats().acked == 5)
    stats = get_seq_stats(db, devices[0])
    assert (stats.last_seq, stats.gaps, stats.missing, stats.replays) == (6, 1, 2, 1)


def test_a_failing_on_committed_hook_is_counted_and_messages_still_acked(
    make_gateway, publisher, db, site_id, devices
):
    def explode(batch: Batch) -> None:
        raise RuntimeError("rules engine down")

    gateway = make_gateway(on_committed=explode)
    publisher.publish(topic_for(site_id, devices[0], "telemetry"), {"ts": now_ms(), "seq": 1, "metrics": {"load": 1}})
    wait_until(lambda: gateway.stats().acked == 1)
    assert gateway.stats().on_committed_errors == 1
    assert count(db, "SELECT count(*) FROM reading_values") == 1


def test_messages_published_while_the_gateway_is_down_arrive_after_restart(
    make_gateway, publisher, db, site_id, devices
):
    first = make_gateway(client_id=f"gw-{site_id}-persist")
    first.stop()
    topic = topic_for(site_id, devices[0], "telemetry")
    base = now_ms()
    for i in range(20):
        publisher.publish(topic, {"ts": base + i, "seq": i + 1, "metrics": {"speed": 1.0}})
    make_gateway(client_id=f"gw-{site_id}-persist")
    wait_until(lambda: count(db, "SELECT count(*) FROM reading_values") == 20)


def test_mqtt_5_sessions_work_the_same(make_gateway, publisher, db, site_id, devices):
    first = make_gateway(protocol="5", client_id=f"gw-{site_id}-v5")
    first.stop()
    publisher.publish(topic_for(site_id, devices[0], "telemetry"), {"ts": now_ms(), "seq": 1, "metrics": {"load": 5}})
    make_gateway(protocol="5", client_id=f"gw-{site_id}-v5")
    wait_until(lambda: count(db, "SELECT count(*) FROM reading_values") == 1)


def test_two_shared_subscription_workers_split_the_load_without_loss_or_duplicates(
    make_gateway, publisher, db, site_id, devices
):
    group = f"g{site_id}"
    workers = [make_gateway(client_id=f"gw-{site_id}-{n}", shared_group=group) for n in range(2)]
    topic = topic_for(site_id, devices[0], "telemetry")
    base = now_ms()
    for i in range(200):
        publisher.publish(topic, {"ts": base + i, "seq": i + 1, "metrics": {"speed": 1.0}})
    wait_until(lambda: count(db, "SELECT count(*) FROM reading_values") == 200)
    received = [w.stats().accepted for w in workers]
    assert sum(received) == 200 and min(received) > 0
    assert count(db, "SELECT count(DISTINCT ts) FROM reading_values") == 200


def test_timestamps_are_stored_in_utc(make_gateway, publisher, db, site_id, devices):
    make_gateway()
    local = datetime.now(UTC).astimezone().replace(microsecond=0)
    publisher.publish(topic_for(site_id, devices[0], "telemetry"),
                      {"ts": local.isoformat(), "seq": 1, "metrics": {"load": 5}})
    wait_until(lambda: count(db, "SELECT count(*) FROM reading_values") == 1)
    assert db.execute("SELECT ts FROM reading_values").fetchone()[0] == local


def test_stats_count_what_was_received_written_and_acked(make_gateway, publisher, db, site_id, devices):
    gateway = make_gateway()
    publisher.publish(topic_for(site_id, devices[0], "telemetry"),
                      {"ts": now_ms(), "seq": 1, "metrics": {"load": 5, "speed": 0.5}})
    publisher.publish(topic_for(site_id, devices[0], "telemetry"), b"not json")
    wait_until(lambda: gateway.stats().acked == 2)
    stats = gateway.stats()
    assert (stats.received, stats.accepted, stats.rejected, stats.samples_written) == (2, 1, 1, 1)




def test_a_message_is_acknowledged_only_after_its_batch_committed(make_gateway, publisher, db, site_id, devices):
    seen: list[tuple[int, int]] = []
    holder: list = []

    def observe(batch: Batch) -> None:
        # Runs after COMMIT and before the PUBACK: the rows are visible to another session, nothing acked yet.
        seen.append((count(db, "SELECT count(*) FROM reading_values"), holder[0].stats().acked))

    holder.append(make_gateway(on_committed=observe))
    publisher.publish(topic_for(site_id, devices[0], "telemetry"), {"ts": now_ms(), "seq": 1, "metrics": {"load": 1}})
    wait_until(lambda: holder[0].stats().acked == 1)
    assert seen == [(1, 0)]
