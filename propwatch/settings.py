"""Settings from ``PROPWATCH_*`` environment variables, checked once at start-up.

A bad value stops the process with a message that names the variable, never a traceback from deep inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.batching import LATE_EVENT_AFTER
from gateway.dead_letters import DeadLetterPolicy
from gateway.protocol.endpoint import MqttEndpoint
from gateway.service import STALL_AFTER_S

ENV_PREFIX = "PROPWATCH_"


@dataclass(frozen=True)
class GatewayLimits:
    """What a gateway keeps of bad traffic, when an event counts as late, and when a session reports a stall."""

    dead_letters: DeadLetterPolicy = field(default_factory=DeadLetterPolicy)
    late_event_after_s: float = LATE_EVENT_AFTER.total_seconds()
    stall_after_s: float = STALL_AFTER_S


class SettingsError(Exception):
    """A configuration value is missing or malformed; the message names the environment variable."""


class Settings(BaseSettings):
    """Every knob of a propwatch process. Unset URLs mean "use the embedded service"."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str | None = Field(default=None, description="PostgreSQL URL; unset = embedded PostgreSQL")
    mqtt_url: str | None = Field(default=None, description="mqtt:// or mqtts:// URL; unset = embedded broker")
    mqtt_protocol: Literal["5", "3.1.1"] = Field(
        default="3.1.1", description="MQTT protocol version of the gateway and simulators (docs/ingest.md)"
    )
    mqtt_session_expiry_s: int = Field(default=3600, ge=0, description="Gateway persistent-session expiry")
    mqtt_master_key: SecretStr | None = Field(
        default=None, min_length=32,
        description="Device passwords are HMAC-SHA256(key, device id); unset = generated and kept in the data dir")
    mqtt_gateway_password: SecretStr | None = Field(
        default=None, min_length=16,
        description="Password of the gateway's broker login (user name: gateway_client_id); unset = kept one")
    mqtt_embedded_port: int | None = Field(default=None, ge=1, le=65535,
                                           description="Port of the embedded broker; unset = any free port")
    mqtt_logins_refresh_s: float = Field(default=10.0, gt=0,
                                         description="How often the embedded broker's logins follow the registry")
    data_dir: Path = Field(default=Path(".data"), description="Embedded database, broker and uploads")
    web_host: str = Field(default="127.0.0.1", description="Address the web app listens on")
    web_port: int = Field(default=8000, ge=1, le=65535, description="Port the web app listens on")
    web_max_body_bytes: int = Field(default=1024 * 1024, ge=1024,
                                    description="Largest JSON or form body the web app reads (uploads: 8 MiB)")
    web_statement_timeout_s: float = Field(default=10.0, gt=0, le=600,
                                           description="Longest a web request's query may run before it gets 503")
    web_log_client_address: bool = Field(default=False,
                                         description="Put the client's address in the access log (personal data)")
    admin_password: SecretStr | None = Field(default=None, min_length=8,
                                             description="Password for `propwatch users create-admin`; unset = ask")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO")
    storage: Literal["auto", "timescaledb", "plain"] = Field(
        default="auto", description="Storage mode of a new database (docs/operations.md)")
    rules_file: Path | None = Field(default=None, description="Extra rule pack (YAML) loaded after the defaults")
    secret_key: str | None = Field(default=None, min_length=32,
                                   description="Signs sessions; set it when several web processes share users")
    gateway_client_id: str = Field(default="propwatch-gateway", min_length=1,
                                   description="The gateway's MQTT client id: its persistent session")
    gateway_shared_group: str | None = Field(default=None,
                                             description="Shared-subscription group of several gateway workers")
    gateway_sites: str = Field(default="", description="Comma-separated site ids this worker takes; empty = all")
    gateway_tls_ca_file: str | None = Field(default=None, description="The broker's CA for mqtts://")
    gateway_dead_letter_burst: int = Field(default=DeadLetterPolicy.burst, ge=1,
                                           description="Dead letters a device may cause at once before its rate")
    gateway_dead_letter_per_minute: float = Field(default=DeadLetterPolicy.per_minute, gt=0,
                                                  description="Dead letters kept per device per minute after a burst")
    gateway_dead_letter_max_age_days: float = Field(default=DeadLetterPolicy.max_age / timedelta(days=1), gt=0,
                                                    description="Dead letters older than this are pruned")
    gateway_dead_letter_max_rows: int = Field(default=DeadLetterPolicy.max_rows, ge=1,
                                              description="Dead letters kept at most (the newest)")
    gateway_late_event_after_s: float = Field(default=LATE_EVENT_AFTER.total_seconds(), gt=0,
                                              description="An event whose device time is older at receipt is late")
    gateway_stall_after_s: float = Field(default=STALL_AFTER_S, gt=0,
                                         description="Readiness fails when messages wait this long without a commit")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (e.g. postgresql://user@127.0.0.1:5432/propwatch)")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str | None) -> str | None:
        if value is not None:
            MqttEndpoint.parse(value)
        return value

    @field_validator("gateway_sites")
    @classmethod
    def _check_gateway_sites(cls, value: str) -> str:
        for site in _split_sites(value):
            if "/" in site or "+" in site or "#" in site:
                raise ValueError(f"{site!r} is not a site id (no '/', '+' or '#')")
        return value

    @property
    def sites(self) -> tuple[str, ...]:
        """The site ids of ``gateway_sites``; empty for every site."""
        return _split_sites(self.gateway_sites)

    @property
    def gateway_limits(self) -> GatewayLimits:
        """The dead-letter bounds, late-event age and stall age a gateway runs with."""
        policy = DeadLetterPolicy(burst=self.gateway_dead_letter_burst, per_minute=self.gateway_dead_letter_per_minute,
                                  max_age=timedelta(days=self.gateway_dead_letter_max_age_days),
                                  max_rows=self.gateway_dead_letter_max_rows)
        return GatewayLimits(policy, self.gateway_late_event_after_s, self.gateway_stall_after_s)

    @property
    def mqtt(self) -> MqttEndpoint | None:
        """The configured broker, or ``None`` for the embedded one."""
        return MqttEndpoint.parse(self.mqtt_url) if self.mqtt_url else None


def _split_sites(value: str) -> tuple[str, ...]:
    return tuple(site.strip() for site in value.split(",") if site.strip())


def load_settings(**overrides: object) -> Settings:
    """Read the environment (plus explicit overrides); raise ``SettingsError`` naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(f"{ENV_PREFIX}{field.upper()}: {error['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems)) from None
