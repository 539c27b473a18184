"""Settings come from PROPWATCH_* variables; a bad value names the variable."""

from __future__ import annotations

import pytest

from gateway.protocol.endpoint import MqttEndpoint
from propwatch.settings import SettingsError, load_settings


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
