"""Readiness from the gateway side: each session reports its status, and a session whose messages wait longer
than its bound without a commit, or that stops reporting, makes ``/readyz`` answer 503."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
from fastapi.testclient import TestClient

from dashboard.app import create_app
from gateway.health import SessionStatus, report_status, stalled_gateways
from gateway.protocol import topic_for

from .conftest import count, now_ms, wait_until


def status_rows(db: psycopg.Connection) -> int:
    return count(db, "SELECT count(*) FROM gateway_status")


def test_a_gateway_that_keeps_up_reports_both_sessions_and_is_not_stalled(make_gateway, publisher, db, site_id,
                                                                           devices) -> None:
    gateway = make_gateway(stall_after_s=1.0)
    publisher.publish(topic_for(site_id, devices[0], "telemetry"), {"ts": now_ms(), "seq": 1, "metrics": {"load": 1}})
    wait_until(lambda: gateway.stats().acked == 1 and status_rows(db) == 2)
    assert stalled_gateways(db) == []


def test_messages_waiting_without_a_commit_stall_the_gateway_until_it_commits_again(
        make_gateway, publisher, db, site_id, devices) -> None:
    engine_free = threading.Event()
    gateway = make_gateway(stall_after_s=1.0, on_committed=lambda batch: engine_free.wait(30))
    try:
        base = now_ms()
        for i in range(3):  # the first batch blocks in the hook; the others wait behind it
            publisher.publish(topic_for(site_id, devices[0], "telemetry"),
                              {"ts": base + i, "seq": i + 1, "metrics": {"load": 1}})
        wait_until(lambda: [s.client_id for s in stalled_gateways(db)] == [gateway.client_id], timeout=10)
        [stall] = stalled_gateways(db)
        assert stall.waiting >= 1 and stall.stuck_for > timedelta(seconds=1)
        assert "without a commit" in stall.describe()
    finally:
        engine_free.set()
    wait_until(lambda: gateway.stats().acked == 3)
    wait_until(lambda: stalled_gateways(db) == [], timeout=10)


def test_a_gateway_that_stops_reporting_is_stalled(db) -> None:
    report_status(db, SessionStatus("gw-gone", waiting=0, stuck_for=None, stall_after=timedelta(seconds=30)))
    assert stalled_gateways(db) == []
    db.execute("UPDATE gateway_status SET reported_at = now() - interval '1 minute'")
    [stall] = stalled_gateways(db)
    assert stall.stuck_for is None and "no report for 60 s" in stall.describe()


def test_a_gateway_stopped_cleanly_leaves_no_status(make_gateway, db) -> None:
    gateway = make_gateway()
    wait_until(lambda: status_rows(db) == 2)
    gateway.stop()
    assert status_rows(db) == 0


def test_readyz_is_503_while_a_gateway_is_stalled(db_url: str, db: psycopg.Connection) -> None:
    with TestClient(create_app(database_url=db_url, secret_key="k")) as client:
        assert client.get("/readyz").status_code == 200
        report_status(db, SessionStatus("gw-1", waiting=40, stuck_for=timedelta(minutes=2),
                                        stall_after=timedelta(seconds=30)))
        res = client.get("/readyz")
    assert res.status_code == 503
    assert res.json()["error"]["message"] == "ingestion stalled"
    assert res.json()["error"]["details"]["stalled"] == ["gw-1: 40 messages waiting 120 s without a commit"]

