"""An event batch goes ahead of telemetry in the engine: a committed entrapment never waits for a whole
telemetry batch being evaluated, only for the chunk in progress."""

from __future__ import annotations

import threading
import time

from gateway.precedence import Precedence
from ingest.database import connect
from ingest.records import Batch, Sample
from ingest.registry import Device, upsert_device
from rules.alarms import list_alarms

from .conftest import at, event

DEVICES = 400
SAMPLES_PER_DEVICE = 200
REPEATS = 20  # the same readings again (a redelivered backlog): seconds of evaluation in little memory


def many_lifts(db, estate: dict[str, str]) -> list[str]:
    ids = [f"{estate['site']}-L{n:04d}" for n in range(DEVICES)]
    for device_id in ids:
        upsert_device(db, Device(device_id, estate["site"], "elevator", device_id, estate["b1"],
                                 attributes={"rated_speed": 1.75}))
    db.commit()
    return ids


def telemetry(device_ids: list[str]) -> Batch:
    """Every lift reporting in turn, second after second, the whole of it ``REPEATS`` times."""
    return Batch([Sample(d, at(s), {"speed": 1.0}) for s in range(SAMPLES_PER_DEVICE) for d in device_ids] * REPEATS)


def test_an_entrapment_is_committed_while_a_telemetry_batch_is_still_being_evaluated(db, db_url, estate,
                                                                                     make_engine):
    lifts = many_lifts(db, estate)
    engine = make_engine()
    engine.process(telemetry(lifts[:1]), now=at(0))  # first sight of the devices is not what is measured
    backlog = telemetry(lifts)
    finished: dict[str, float] = {}

    def evaluate_telemetry() -> None:
        engine.process(backlog, now=at(SAMPLES_PER_DEVICE))
        finished["telemetry"] = time.monotonic()

    worker = threading.Thread(target=evaluate_telemetry)
    worker.start()
    time.sleep(0.3)
    asked = time.monotonic()
    engine.process(event(estate["el1"], "trapped", SAMPLES_PER_DEVICE), now=at(SAMPLES_PER_DEVICE))
    alarm_at = time.monotonic()
    telemetry_running = worker.is_alive()
    with connect(db_url) as other:
        alarms = [a for a in list_alarms(other) if a.rule_id == "elevator.trapped"]
    worker.join()

    assert [a.state for a in alarms] == ["active"]
    assert telemetry_running, "the telemetry batch was over before the entrapment was committed"
    # Waiting for the chunk in progress, not for the rest of the batch.
    assert alarm_at - asked < 0.5 * (finished["telemetry"] - asked)


class SlowScorer:
    """An anomaly scorer that takes 5 ms a row (the detector takes about 1 ms) and calls every row normal."""

    def score(self, key, channels, ts, values, *, alarm="state") -> float:
        time.sleep(0.005)
        return 0.0

    def flush(self, now) -> None:
        pass


def test_an_entrapment_does_not_wait_for_the_anomaly_rows_a_telemetry_batch_deferred(db, db_url, estate,
                                                                                     make_engine):
    lifts = many_lifts(db, estate)
    engine = make_engine(scorer=SlowScorer())
    # One door-closing time per lift: 400 anomaly rows, two seconds of scoring at the end of the batch.
    backlog = Batch([Sample(d, at(0), {"door_close_time": 3.0}) for d in lifts])
    finished: dict[str, float] = {}

    def evaluate_telemetry() -> None:
        engine.process(backlog, now=at(0))
        finished["telemetry"] = time.monotonic()

    worker = threading.Thread(target=evaluate_telemetry)
    worker.start()
    time.sleep(0.3)
    asked = time.monotonic()
    engine.process(event(estate["el1"], "trapped", 1), now=at(1))
    alarm_at = time.monotonic()
    telemetry_running = worker.is_alive()
    worker.join()

    assert telemetry_running, "the anomaly scoring was over before the entrapment was committed"
    assert alarm_at - asked < 0.25 * (finished["telemetry"] - asked)


def test_telemetry_evaluation_pauses_while_an_urgent_record_is_on_its_way_and_lets_it_in(db, db_url, estate,
                                                                                        make_engine):
    lifts = many_lifts(db, estate)
    precedence = Precedence(longest_s=30)
    engine = make_engine(give_way=precedence)
    engine.process(telemetry(lifts[:1]), now=at(0))
    two_chunks = Batch([Sample(d, at(1), {"speed": 1.0}) for d in lifts[:2]] * 256)  # milliseconds of work
    precedence.begin()  # the gateway's safety lane has taken an entrapment and is committing it
    worker = threading.Thread(target=engine.process, args=(two_chunks,), kwargs={"now": at(1)})
    worker.start()
    time.sleep(0.5)
    paused = worker.is_alive()
    asked = time.monotonic()
    engine.process(event(estate["el1"], "trapped", 2), now=at(2))
    alarm_s = time.monotonic() - asked
    precedence.end()
    worker.join(5)

    assert paused, "the telemetry batch went on while the entrapment was on its way"
    assert alarm_s < 0.5, "the entrapment waited for the paused telemetry batch"
    assert not worker.is_alive()


def test_an_event_batch_never_waits_for_the_urgent_record_it_carries_itself(db, db_url, estate, make_engine):
    lifts = many_lifts(db, estate)
    precedence = Precedence(longest_s=30)
    engine = make_engine(give_way=precedence)
    engine.process(telemetry(lifts[:1]), now=at(0))
    entrapment = event(estate["el1"], "trapped", 1)
    batch = Batch([Sample(d, at(1), {"speed": 1.0}) for d in lifts[:2]] * 256, entrapment.events)
    precedence.begin()  # announced by the safety lane for this very batch
    started = time.monotonic()
    engine.process(batch, now=at(1))
    precedence.end()

    assert time.monotonic() - started < 1.0
