"""Resolve the database and broker a command uses: the configured ones, or embedded ones under data_dir."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from pathlib import Path

from gateway.protocol.endpoint import MqttEndpoint
from propwatch.broker_auth import RegistryLogins, embedded_secrets, registry_access
from propwatch.embedded import EmbeddedBroker, EmbeddedPostgres, SecuredBrokerUnavailable
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


def external_endpoint(settings: Settings) -> MqttEndpoint | None:
    """``PROPWATCH_MQTT_URL``; without user info in it, logged in as the gateway with its configured password."""
    endpoint = settings.mqtt
    if endpoint is None or endpoint.username or settings.mqtt_gateway_password is None:
        return endpoint
    return dataclasses.replace(endpoint, username=settings.gateway_client_id,
                               password=settings.mqtt_gateway_password.get_secret_value())


def broker(settings: Settings, stack: contextlib.ExitStack, database_url: str,
           data_dir: Path | None = None) -> tuple[MqttEndpoint, str]:
    """``PROPWATCH_MQTT_URL`` and protocol, or an embedded Mosquitto secured with the gateway's login and one per
    registered device, following the registry while it runs (all stopped when ``stack`` closes).

    ``database_url`` must be migrated: the logins come from its registry. Raises ``SystemExit`` when no
    Mosquitto is installed: an embedded broker is never open to anonymous clients.
    """
    configured = external_endpoint(settings)
    if configured is not None:
        return configured, settings.mqtt_protocol
    data_dir = data_dir or settings.data_dir
    secrets = embedded_secrets(settings, data_dir)
    access = registry_access(database_url, [secrets.gateway], secrets.master_key)
    try:
        embedded = EmbeddedBroker(data_dir / "mqtt", port=settings.mqtt_embedded_port, access=access)
    except SecuredBrokerUnavailable as exc:
        raise SystemExit(f"propwatch: {exc}; or set PROPWATCH_MQTT_URL to a broker of your own") from None
    stack.callback(embedded.stop)
    logins = RegistryLogins(database_url, embedded, [secrets.gateway], secrets.master_key, current=access,
                            interval_s=settings.mqtt_logins_refresh_s)
    logins.start()
    stack.callback(logins.stop)
    log.info("broker: embedded %s on %s, %d device logins (`propwatch broker device-password ID` prints one)",
             embedded.handle.kind, embedded.handle.url, len(access.devices))
    endpoint = MqttEndpoint(embedded.handle.host, embedded.handle.port, secrets.gateway.username,
                            secrets.gateway.password)
    return endpoint, settings.mqtt_protocol
