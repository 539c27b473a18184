"""Settings come from PROPWATCH_* variables; a bad value names the variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.dead_letters import DeadLetterPolicy
from gateway.protocol.endpoint import MqttEndpoint
from propwatch.settings import GatewayLimits, SettingsError, load_settings


def test_unset_urls_mean_embedded_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROPWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("PROPWATCH_MQTT_URL", raising=False)
    settings = load_settings()
    assert settings.database_url is None
    assert settings.mqtt is None


def test_mqtt_url_with_credentials_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPWATCH_MQTT_URL", "mqtts://gw:s%40cret@broker.local:8884")
    assert load_settings().mqtt == MqttEndpoint("broker.local", 8884, "gw", "s@cret", tls=True)


def test_bad_mqtt_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPWATCH_MQTT_URL", "http://broker:1883")
    with pytest.raises(SettingsError, match="PROPWATCH_MQTT_URL"):
        load_settings()


def test_bad_database_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPWATCH_DATABASE_URL", "mysql://localhost/x")
    with pytest.raises(SettingsError, match="PROPWATCH_DATABASE_URL"):
        load_settings()


def test_bad_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPWATCH_WEB_PORT", "eighty")
    with pytest.raises(SettingsError, match="PROPWATCH_WEB_PORT"):
        load_settings()


@pytest.mark.parametrize(
    ("url", "problem"),
    [("mqtt://", "host"), ("mqtt://h:99999", "port"), ("tcp://h:1883", "scheme"), ("mqtt://h:1883/x", "path")],
)
def test_malformed_mqtt_urls_are_refused_with_the_reason(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        MqttEndpoint.parse(url)


def test_logged_url_masks_the_password() -> None:
    endpoint = MqttEndpoint.parse("mqtt://gw:secret@h:1883")
    assert "secret" not in endpoint.url()
    assert endpoint.url(with_password=True) == "mqtt://gw:secret@h:1883"


def test_gateway_sites_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPWATCH_GATEWAY_SITES", " S001, S002 ,,")
    assert load_settings().sites == ("S001", "S002")


def test_a_topic_wildcard_in_gateway_sites_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPWATCH_GATEWAY_SITES", "S001,+")
    with pytest.raises(SettingsError, match="PROPWATCH_GATEWAY_SITES"):
        load_settings()


def test_gateway_limits_default_to_the_gateway_s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BURST", "PER_MINUTE", "MAX_AGE_DAYS", "MAX_ROWS"):
        monkeypatch.delenv(f"PROPWATCH_GATEWAY_DEAD_LETTER_{name}", raising=False)
    monkeypatch.delenv("PROPWATCH_GATEWAY_LATE_EVENT_AFTER_S", raising=False)
    monkeypatch.delenv("PROPWATCH_GATEWAY_STALL_AFTER_S", raising=False)
    assert load_settings().gateway_limits == GatewayLimits(DeadLetterPolicy(), 60.0, 30.0)


def test_gateway_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPWATCH_GATEWAY_DEAD_LETTER_BURST", "5")
    monkeypatch.setenv("PROPWATCH_GATEWAY_DEAD_LETTER_PER_MINUTE", "0.5")
    monkeypatch.setenv("PROPWATCH_GATEWAY_DEAD_LETTER_MAX_AGE_DAYS", "2")
    monkeypatch.setenv("PROPWATCH_GATEWAY_DEAD_LETTER_MAX_ROWS", "1000")
    monkeypatch.setenv("PROPWATCH_GATEWAY_LATE_EVENT_AFTER_S", "300")
    monkeypatch.setenv("PROPWATCH_GATEWAY_STALL_AFTER_S", "10")
    limits = load_settings().gateway_limits
    assert limits.dead_letters == DeadLetterPolicy(burst=5, per_minute=0.5, max_age=timedelta(days=2), max_rows=1000)
    assert (limits.late_event_after_s, limits.stall_after_s) == (300.0, 10.0)


@pytest.mark.parametrize(("variable", "value"), [
    ("PROPWATCH_GATEWAY_DEAD_LETTER_BURST", "0"),
    ("PROPWATCH_GATEWAY_DEAD_LETTER_PER_MINUTE", "-1"),
    ("PROPWATCH_GATEWAY_DEAD_LETTER_MAX_AGE_DAYS", "a fortnight"),
    ("PROPWATCH_GATEWAY_DEAD_LETTER_MAX_ROWS", "0"),
    ("PROPWATCH_GATEWAY_LATE_EVENT_AFTER_S", "0"),
    ("PROPWATCH_GATEWAY_STALL_AFTER_S", "soon"),
])
def test_a_bad_gateway_limit_names_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()
