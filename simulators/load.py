"""Load mode: M devices publishing 10-metric telemetry at a paced aggregate rate, with an exact ledger.

Payloads are assembled from pre-encoded metric blocks (orjson) so the hot loop only formats ``ts`` and
``seq``. Devices are spread over ``connections`` MQTT connections per process (a load generator does not need
one will per device), and over ``processes`` worker processes when one process cannot reach the rate.
Publishing uses ``FastPublisher`` (batched writes, no network thread) rather than paho.
The ledger records, per device, the seq ranges published, so a benchmark can prove zero loss and zero
duplicates by comparing it with what was stored.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from gateway.protocol import TopicKind, topic_for
from gateway.protocol.catalog import device_type
from gateway.protocol.endpoint import MqttEndpoint
from simulators.estate import DeviceLayout, EstateLayout
from simulators.fastpub import FastPublisher, topic_block

VARIANTS = 16  # distinct pre-encoded metric blocks per device, so values are not all identical


@dataclass(frozen=True)
class LoadConfig:
    """What to generate. ``rate`` is the aggregate target in messages per second over all devices."""

    rate: float
    duration_s: float
    devices: int | None = None  # None: every device of the layout that has enough metrics
    qos: int = 1
    processes: int = 1
    connections: int = 2  # MQTT connections per process
    metrics_per_message: int = 10
    protocol: str = "5"
    max_inflight: int = 20000  # unacknowledged QoS 1 messages per connection
    drain_timeout_s: float = 30.0
    # Fixed values for some metrics (e.g. inside every alarm threshold, for background traffic); the others
    # sweep their catalogue range.
    values: Mapping[str, float] = field(default_factory=dict)


@dataclass
class LoadReport:
    """What was achieved. ``sent`` counts publishes handed to the client; ``acked`` PUBACKs (QoS ≥ 1)."""

    target_rate: float
    achieved_rate: float
    sent: int
    acked: int
    elapsed_s: float
    devices: int
    processes: int
    qos: int
    max_lag_s: float
    ledger: dict[str, list[list[int]]] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """The report without the ledger (for printing)."""
        data = asdict(self)
        data.pop("ledger")
        return data


def load_devices(layout: EstateLayout, config: LoadConfig) -> list[DeviceLayout]:
    """The devices load mode drives: those whose catalogue has ``metrics_per_message`` metrics."""
    eligible = [d for d in layout.devices
                if len(device_type(d.type).metrics) >= config.metrics_per_message]
    chosen = eligible if config.devices is None else eligible[: config.devices]
    if config.devices is not None and len(chosen) < config.devices:
        raise ValueError(f"layout has only {len(chosen)} devices with {config.metrics_per_message} metrics")
    return chosen


def run_load(layout: EstateLayout, mqtt_url: str, config: LoadConfig, *, ledger_path: Path | None = None) -> LoadReport:
    """Generate the load, wait for acknowledgements, write the ledger (JSON) if asked, and report."""
    devices = load_devices(layout, config)
    shares = [devices[i :: config.processes] for i in range(config.processes)]
    jobs = [(layout.site_id, [(d.id, d.type) for d in share], mqtt_url, config, config.rate * len(share) / len(devices))
            for share in shares if share]
    if len(jobs) == 1:
        results = [_worker(*jobs[0])]
    else:
        with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_worker, *zip(*jobs, strict=True)))
    sent = sum(r["sent"] for r in results)
    elapsed = max(r["elapsed_s"] for r in results)
    ledger: dict[str, list[list[int]]] = {}
    for r in results:
        ledger.update(r["ledger"])
    report = LoadReport(
        target_rate=config.rate, achieved_rate=sent / elapsed if elapsed else 0.0, sent=sent,
        acked=sum(r["acked"] for r in results), elapsed_s=elapsed, devices=len(devices),
        processes=len(jobs), qos=config.qos, max_lag_s=max(r["max_lag_s"] for r in results), ledger=ledger,
    )
    if ledger_path is not None:
        ledger_path.parent.mkdir(parents=True, exist_ok=True)
        ledger_path.write_bytes(orjson.dumps({"site": layout.site_id, "qos": config.qos, "sent": sent,
                                              "ranges": ledger}))
    return report


def read_ledger(path: Path) -> set[tuple[str, int]]:
    """The exact set of (device, seq) a load run published."""
    data = orjson.loads(path.read_bytes())
    return {(device, seq) for device, ranges in data["ranges"].items()
            for first, last in ranges for seq in range(first, last + 1)}


def _metric_blocks(device_kind: str, count: int, seed: int, fixed: Mapping[str, float]) -> list[bytes]:
    """Pre-encoded ``{"name": value, ...}`` blocks with values inside each metric's catalogue range (``fixed``
    where it names the metric)."""
    specs = list(device_type(device_kind).metrics.values())[:count]
    blocks = []
    for variant in range(VARIANTS):
        # Wrapped so every value stays inside the catalogue range, whatever the device's seed.
        phase = ((seed + variant) % VARIANTS) / VARIANTS
        sweep = {s.name: round(s.min + (min(s.max, s.min + 100) - s.min) * phase, 3) for s in specs}
        blocks.append(orjson.dumps({name: fixed.get(name, value) for name, value in sweep.items()}))
    return blocks


def _worker(site_id: str, devices: list[tuple[str, str]], mqtt_url: str, config: LoadConfig,
            rate: float) -> dict[str, object]:
    endpoint = MqttEndpoint.parse(mqtt_url)
    publishers = [
        FastPublisher(endpoint.host, endpoint.port, f"load-{site_id}-{devices[0][0]}-{n}", protocol=config.protocol,
                      qos=config.qos, username=endpoint.username, password=endpoint.password,
                      window=config.max_inflight)
        for n in range(min(config.connections, len(devices)))
    ]
    plan = [(topic_block(topic_for(site_id, device_id, TopicKind.TELEMETRY)),
             _metric_blocks(kind, config.metrics_per_message, i, config.values), publishers[i % len(publishers)])
            for i, (device_id, kind) in enumerate(devices)]
    seqs = [0] * len(devices)
    n_devices = len(devices)
    total = math.floor(rate * config.duration_s)
    sent, max_lag = 0, 0.0
    start = time.monotonic()
    try:
        while sent < total:
            now = time.monotonic()
            due = min(math.floor((now - start) * rate) + 1, total)
            max_lag = max(max_lag, (due - sent) / rate)
            if sent >= due:
                for publisher in publishers:
                    publisher.poll()
                time.sleep(max(min((sent + 1) / rate - (now - start), 0.002), 0.0))
                continue
            # One batch per wake-up, at most ~10 ms of traffic, so pacing stays smooth.
            batch_end = min(due, sent + max(int(rate / 100), 1))
            ts = int(time.time() * 1000)
            while sent < batch_end:
                index = sent % n_devices
                block, metrics, publisher = plan[index]
                seq = seqs[index]
                publisher.publish(block, b'{"ts":%d,"seq":%d,"metrics":%s}' % (ts, seq, metrics[seq % VARIANTS]))
                seqs[index] = seq + 1
                sent += 1
            for publisher in publishers:
                publisher.flush()
        elapsed = time.monotonic() - start
        for publisher in publishers:
            publisher.drain(config.drain_timeout_s)
    finally:
        for publisher in publishers:
            publisher.close()
    ledger = {device_id: [[0, seqs[i] - 1]] for i, (device_id, _) in enumerate(devices) if seqs[i]}
    acked = sum(p.acked - p.refused for p in publishers) if config.qos else sent
    return {"sent": sent, "acked": acked, "elapsed_s": elapsed, "max_lag_s": max_lag, "ledger": ledger}
