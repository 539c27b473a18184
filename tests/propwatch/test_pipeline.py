"""The pipeline process wires its parts and stops all of them."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from gateway.endpoint import MqttEndpoint
from propwatch.embedded import EmbeddedBroker
from propwatch.pipeline import Pipeline


@pytest.fixture
def pipeline(db_url: str, own_broker: EmbeddedBroker) -> Pipeline:
    return Pipeline(database_url=db_url, endpoint=MqttEndpoint.parse(own_broker.handle.url))


def test_the_anomaly_models_are_retrained_nightly_at_18_utc(pipeline: Pipeline) -> None:
    pipeline.start()
    try:
        (job,) = pipeline.model_scheduler.get_jobs()
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
