"""The pipeline process wires its parts and stops all of them."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from gateway.protocol.endpoint import MqttEndpoint
from ingest.database import connect
from propwatch.embedded import EmbeddedBroker
from propwatch.pipeline import Pipeline
from rules.anomaly import refresh
from rules.store import publish_pack


@pytest.fixture
def pipeline(db_url: str, own_broker: EmbeddedBroker) -> Pipeline:
    return Pipeline(database_url=db_url, endpoint=MqttEndpoint.parse(own_broker.handle.url))


def test_the_anomaly_models_are_retrained_nightly_at_18_utc(pipeline: Pipeline) -> None:
    pipeline.start()
    try:
        job = pipeline.model_scheduler.get_job(refresh.JOB_ID)
        assert (job.next_run_time.hour, job.next_run_time.utcoffset().total_seconds()) == (18, 0)
    finally:
        pipeline.stop()


def test_stopping_leaves_none_of_its_threads_running(pipeline: Pipeline) -> None:
    before = set(threading.enumerate())
    pipeline.start()
    pipeline.stop()
    deadline = time.monotonic() + 5
    while (lingering := [t.name for t in set(threading.enumerate()) - before if t.is_alive()]) and (
            time.monotonic() < deadline):
        time.sleep(0.1)
    assert lingering == []


def test_the_gateway_asks_the_engine_which_records_are_urgent(pipeline: Pipeline) -> None:
    assert pipeline.gateway.urgent is pipeline.engine.urgency


def test_starting_takes_the_loaded_engine_out_of_garbage_collection(pipeline: Pipeline) -> None:
    pipeline.start()
    try:
        assert not any(tracked is pipeline.engine for tracked in gc.get_objects())
    finally:
        pipeline.stop()


def test_a_reloaded_pack_is_taken_out_of_garbage_collection_too(db_url: str, own_broker: EmbeddedBroker) -> None:
    pipeline = Pipeline(database_url=db_url, endpoint=MqttEndpoint.parse(own_broker.handle.url),
                        tick_interval_s=0.1)
    first = pipeline.engine.pack
    with connect(db_url) as conn:
        publish_pack(conn, SITE_PACK, actor="admin")
        conn.commit()

    def reloaded_and_frozen() -> bool:
        pack = pipeline.engine.pack
        return pack is not first and not any(tracked is pack for tracked in gc.get_objects())

    pipeline.start()
    try:
        deadline = time.monotonic() + 10
        while not reloaded_and_frozen():
            assert time.monotonic() < deadline, "the reloaded pack is still tracked by the collector"
            time.sleep(0.1)
    finally:
        pipeline.stop()


SITE_PACK = """
pack: site
overrides:
  - rule: elevator.trapped
    site: S1
    set: {enabled: false}
"""


def test_an_alarm_listener_that_dies_ends_the_pipeline_instead_of_dying_silently(
        db_url: str, own_broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    crashes: list[tuple[str, BaseException]] = []
    crashed = threading.Event()

    def record(thread: str, exc: BaseException) -> None:
        crashes.append((thread, exc))
        crashed.set()

    def broken_sync(conn) -> None:
        raise RuntimeError("a bug in the work-order sync")

    monkeypatch.setattr("propwatch.pipeline.sync_alarms", broken_sync)
    pipeline = Pipeline(database_url=db_url, endpoint=MqttEndpoint.parse(own_broker.handle.url), on_crash=record)
    pipeline.start()
    try:
        assert crashed.wait(10)
    finally:
        pipeline.stop()
    assert [(thread, str(exc)) for thread, exc in crashes] == [("alarm-listener", "a bug in the work-order sync")]
