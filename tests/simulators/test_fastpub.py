"""The load generator's minimal MQTT client."""

import pytest

from gateway.protocol.endpoint import MqttEndpoint
from simulators.fastpub import FastPublisher, _receive_maximum, topic_block, varint


@pytest.mark.parametrize(("n", "encoded"), [(0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (16384, b"\x80\x80\x01")])
def test_variable_byte_integer(n, encoded):
    assert varint(n) == encoded


def test_receive_maximum_is_found_among_other_connack_properties():
    properties = bytes([0x22, 0, 10, 0x1F, 0, 3]) + b"abc" + bytes([0x26, 0, 1]) + b"k" + bytes([0, 1]) + b"v"
    properties += bytes([0x21, 0, 20])
    assert _receive_maximum(varint(len(properties)) + properties) == 20


def test_receive_maximum_defaults_to_the_protocol_maximum():
    assert _receive_maximum(b"\x00") == 65535


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_every_qos1_publish_is_acknowledged(mqtt_url, site_id, protocol):
    endpoint = MqttEndpoint.parse(mqtt_url)
    publisher = FastPublisher(endpoint.host, endpoint.port, f"{site_id}-fp", protocol=protocol, qos=1, window=50)
    try:
        for seq in range(500):
            publisher.publish(topic_block(f"pw/v1/{site_id}/{site_id}-D1/telemetry"), b'{"seq":%d}' % seq)
        assert publisher.drain(5) and publisher.acked == 500 and publisher.refused == 0
    finally:
        publisher.close()
