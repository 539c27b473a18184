"""Validation: the telemetry fast path agrees with the protocol's decoder and catalogue check, and the registry
cache refreshes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.directory import DeviceDirectory, DirectoryUnavailable, KnownDevice
from gateway.protocol import Rejection, TopicKind, decode
from gateway.protocol.catalog import catalog
from gateway.validation import check_catalogue, check_payload, validate
from ingest.database import connect
from ingest.registry import Device, Site, upsert_device, upsert_site

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)

ELEVATOR = catalog()["elevator"]
# In-range values of the elevator's metrics, the range edges and just past them, and anything else JSON holds.
edges = [x for spec in ELEVATOR.metrics.values() for x in (spec.min, spec.max, spec.min - 1e-9, spec.max + 1e-9)]
values = (st.floats(-50, 500) | st.sampled_from(edges) | st.integers(-5, 500) | st.floats(allow_nan=False)
          | st.integers(-(2**70), 2**70) | st.booleans() | st.none() | st.text(max_size=3))
names = st.sampled_from(sorted(ELEVATOR.metrics)) | st.from_regex(r"[a-z][a-z0-9_]{0,3}\n?", fullmatch=True) \
    | st.text(max_size=4)
telemetry = st.fixed_dictionaries(
    {"ts": st.integers(NOW_MS - 10**9, NOW_MS + 10**9) | st.sampled_from(
        ["2026-06-01T20:00:00+08:00", "2026-06-01T12:00:00", "2026-06-01T12:00:00Z\n", "x", "2026-06-01"]),
     "seq": st.integers(-2, 2**64) | values,
     "metrics": st.dictionaries(names, values, max_size=70)},
    optional={"extra": values},
)


def outcome(fn, payload: bytes) -> object:
    try:
        message = fn(payload)
    except Rejection as rejection:
        return rejection.reason
    return (message.ts, message.seq, message.metrics)


@given(st.builds(lambda d: json.dumps(d).encode(), telemetry))
def test_the_fast_path_gives_exactly_what_decode_and_the_catalogue_check_give(payload: bytes) -> None:
    def slow_path(p: bytes):
        message = decode(TopicKind.TELEMETRY, p, now=NOW)
        check_catalogue(ELEVATOR, "elevator", message)
        return message

    fast = outcome(lambda p: check_payload(TopicKind.TELEMETRY, p, NOW, ELEVATOR, "elevator"), payload)
    assert fast == outcome(slow_path, payload)


def test_every_catalogue_metric_name_is_a_valid_protocol_metric_name() -> None:
    # The fast path trusts catalogue names instead of checking the protocol's name pattern itself.
    for device_type in catalog().values():
        for name in device_type.metrics:
            payload = json.dumps({"ts": NOW_MS, "seq": 1, "metrics": {name: 0.0}}).encode()
            assert decode(TopicKind.TELEMETRY, payload, now=NOW).metrics == {name: 0.0}


def test_an_event_detail_with_nul_is_a_schema_violation_not_a_failed_flush() -> None:
    class OneElevator:
        def lookup(self, device_id: str) -> KnownDevice:
            return KnownDevice("S1", "elevator")

    payload = json.dumps({"ts": NOW_MS, "seq": 1, "code": "trapped", "detail": {"note": "\x00"}}).encode()
    with pytest.raises(Rejection) as caught:
        validate("pw/v1/S1/S1-EL01/event", payload, OneElevator(), NOW)
    assert caught.value.reason == "schema_violation"


def test_a_device_registered_after_start_is_found_on_the_next_miss(db, db_url, site_id) -> None:
    clock = [0.0]
    directory = DeviceDirectory(db_url, refresh_s=3600, miss_refresh_s=1.0, clock=lambda: clock[0])
    upsert_site(db, Site(site_id, "Estate"))
    assert directory.lookup(f"{site_id}-EL01") is None
    upsert_device(db, Device(f"{site_id}-EL01", site_id, "elevator", "Lift"))
    assert directory.lookup(f"{site_id}-EL01") is None  # misses are rate-limited
    clock[0] = 1.5
    assert directory.lookup(f"{site_id}-EL01").type == "elevator"
    directory.close()


def test_while_the_registry_is_unreadable_known_devices_are_still_found(scratch_database, template_database,
                                                                         site_id) -> None:
    clock = [0.0]
    with scratch_database(template_database) as url:
        with connect(url, autocommit=True) as conn:
            upsert_site(conn, Site(site_id, "Estate"))
            upsert_device(conn, Device(f"{site_id}-EL01", site_id, "elevator", "Lift"))
        directory = DeviceDirectory(url, refresh_s=30, miss_refresh_s=1.0, clock=lambda: clock[0])
        assert directory.lookup(f"{site_id}-EL01").type == "elevator"
    clock[0] = 60.0  # due for a refresh, and the database is gone
    assert directory.lookup(f"{site_id}-EL01").type == "elevator"
    with pytest.raises(DirectoryUnavailable):
        directory.lookup(f"{site_id}-EL02")  # maybe registered since: neither known nor unknown
    directory.close()


def test_a_device_moved_to_another_site_is_seen_at_the_next_refresh(db, db_url, site_id) -> None:
    clock = [0.0]
    directory = DeviceDirectory(db_url, refresh_s=30, miss_refresh_s=1.0, clock=lambda: clock[0])
    upsert_site(db, Site(site_id, "Estate"))
    upsert_site(db, Site(f"{site_id}X", "Other estate"))
    upsert_device(db, Device(f"{site_id}-EL01", site_id, "elevator", "Lift"))
    assert directory.lookup(f"{site_id}-EL01").site_id == site_id
    upsert_device(db, Device(f"{site_id}-EL01", f"{site_id}X", "elevator", "Lift"))
    clock[0] = 10.0  # a hit between refreshes is served from the copy
    assert directory.lookup(f"{site_id}-EL01").site_id == site_id
    clock[0] = 31.0
    assert directory.lookup(f"{site_id}-EL01").site_id == f"{site_id}X"
    directory.close()


class _OneElevator:
    def lookup(self, device_id: str) -> KnownDevice:
        return KnownDevice("S1", "elevator")


def verdict(kind: str, payload: bytes) -> str:
    """The reason ``validate`` rejects the payload for, or ``accepted``."""
    try:
        validate(f"pw/v1/S1/S1-EL01/{kind}", payload, _OneElevator(), NOW)
    except Rejection as rejection:
        return str(rejection.reason)
    return "accepted"


def test_a_literal_backslash_u0000_text_is_no_nul() -> None:
    detail = json.dumps({"note": "\\u0000"})  # the six characters \u0000, escaped in JSON as \\u0000
    assert verdict("event", b'{"ts": %d, "seq": 1, "code": "trapped", "detail": %s}' % (NOW_MS, detail.encode())) \
        == "accepted"


DEEP_OBJECTS = b'{"a":' * 1000 + b"1" + b"}" * 1000  # 1,000 levels in 6 KB
DEEPER_THAN_ORJSON = b"[" * 2000 + b"]" * 2000  # past the decoder's own depth limit


@pytest.mark.parametrize("kind,payload", [
    ("state", b'{"status": "online", "firmware": "fw\\u0000"}'),
    ("state", b'{"status": "online", "model": "%s"}' % (b"m" * 257)),
    ("event", b'{"ts": %d, "seq": 1, "code": "trapped", "detail": {"k\\u0000": 1}}' % NOW_MS),
    ("event", b'{"ts": %d, "seq": 1, "code": "trapped", "detail": %s}' % (NOW_MS, DEEP_OBJECTS)),
    ("event", b'{"ts": %d, "seq": 1, "code": "trapped", "detail": %s}' % (NOW_MS, DEEPER_THAN_ORJSON)),
    ("telemetry", b'{"ts": %d, "seq": 9223372036854775807, "metrics": {"speed": 1}}' % NOW_MS),
])
def test_what_storage_cannot_hold_is_a_schema_violation(kind: str, payload: bytes) -> None:
    assert verdict(kind, payload) == "schema_violation"


@pytest.mark.parametrize("ts,reason", [
    ('"0001-01-01T00:00:00+08:00"', "ts_too_old"), ('"9999-12-31T23:59:59-08:00"', "ts_in_future"),
    (str(NOW_MS - 8 * 86_400_000), "ts_too_old"), (str(NOW_MS + 3_600_000), "ts_in_future"),
])
def test_a_time_outside_the_window_is_named_never_an_internal_error(ts: str, reason: str) -> None:
    for kind, body in (("telemetry", b'"metrics": {"speed": 1}'), ("event", b'"code": "trapped"')):
        assert verdict(kind, b'{"ts": %s, "seq": 1, %s}' % (ts.encode(), body)) == reason
