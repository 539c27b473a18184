"""A gateway thread that dies ends the process with a non-zero status, so a supervisor restarts it, instead of
leaving a process that looks alive and ingests nothing."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from gateway.crash import EXIT_WORKER_DIED, guarded_thread
from gateway.protocol import topic_for

from .conftest import now_ms

REPO = Path(__file__).resolve().parents[2]
# A gateway process whose writer thread dies on its first commit: the hook raises what no handler catches.
DYING_GATEWAY = """
import sys, time
from gateway.protocol.endpoint import MqttEndpoint
from gateway.service import Gateway

class Fatal(BaseException):
    pass

def explode(batch):
    raise Fatal()

gateway = Gateway(endpoint=MqttEndpoint.parse(sys.argv[1]), database_url=sys.argv[2], client_id=sys.argv[3],
                  on_committed=explode, flush_interval_s=0.05)
gateway.start()
gateway.wait_connected()
print("ready", flush=True)
time.sleep(60)
"""


def test_a_dead_writer_thread_ends_the_process_with_status_70(mqtt_url, db_url, site_id, devices, publisher) -> None:
    process = subprocess.Popen([sys.executable, "-c", DYING_GATEWAY, mqtt_url, db_url, f"gw-{site_id}-dying"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout.readline().strip() == b"ready"
        started = time.monotonic()
        publisher.publish(topic_for(site_id, devices[0], "event"), {"ts": now_ms(), "seq": 1, "code": "trapped"})
        assert process.wait(timeout=30) == EXIT_WORKER_DIED == 70
        assert time.monotonic() - started < 10
        assert b"died (Fatal)" in process.stderr.read()
    finally:
        process.kill()
        process.wait()


def test_a_guarded_thread_hands_its_error_to_on_crash() -> None:
    crashes: list[tuple[str, BaseException]] = []
    done = threading.Event()

    def fail() -> None:
        raise RecursionError("too deep")

    def record(name: str, exc: BaseException) -> None:
        crashes.append((name, exc))
        done.set()

    guarded_thread(fail, name="worker", on_crash=record).start()
    assert done.wait(5)
    assert [(name, type(exc)) for name, exc in crashes] == [("worker", RecursionError)]
