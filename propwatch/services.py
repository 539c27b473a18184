"""Resolve the database and broker a command uses: the configured ones, or embedded ones under data_dir."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from gateway.protocol.endpoint import MqttEndpoint
from propwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from propwatch.settings import Settings

log = logging.getLogger(__name__)
EMBEDDED_DATABASE = "propwatch"


def database_url(settings: Settings, stack: contextlib.ExitStack, data_dir: Path | None = None) -> str:
    """``PROPWATCH_DATABASE_URL``, or an embedded PostgreSQL (stopped when ``stack`` closes)."""
    if settings.database_url:
        return settings.database_url
    server = EmbeddedPostgres((data_dir or settings.data_dir) / "postgres")
    stack.callback(server.stop)
    log.info("database: embedded PostgreSQL in %s", server.data_dir)
    return server.ensure_database(EMBEDDED_DATABASE)


def broker(settings: Settings, stack: contextlib.ExitStack, data_dir: Path | None = None) -> tuple[MqttEndpoint, str]:
    """``PROPWATCH_MQTT_URL`` and protocol, or an embedded broker (stopped when ``stack`` closes)."""
    if settings.mqtt is not None:
        return settings.mqtt, settings.mqtt_protocol
    embedded = EmbeddedBroker((data_dir or settings.data_dir) / "mqtt")
    stack.callback(embedded.stop)
    # The Python fallback broker speaks MQTT 3.1.1 only.
    protocol = settings.mqtt_protocol if embedded.handle.kind == "mosquitto" else "3.1.1"
    log.info("broker: embedded %s on %s (MQTT %s)", embedded.handle.kind, embedded.handle.url, protocol)
    return MqttEndpoint.parse(embedded.handle.url), protocol
