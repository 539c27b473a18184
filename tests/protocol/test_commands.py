"""The downlink ``cmd`` payload."""

import pytest

from gateway.protocol import Rejection, RejectionReason
from gateway.protocol.commands import CommandMessage, decode_command, encode_command


def test_inject_command_round_trips():
    command = CommandMessage(action="inject", fault="trapped", duration_s=120, params={"passengers": 2})
    assert decode_command(encode_command(command)) == command


def test_duration_and_params_are_optional():
    command = decode_command(b'{"action": "inject", "fault": "pipe_burst"}')
    assert command.duration_s is None and command.params == {}


@pytest.mark.parametrize(("payload", "reason"), [
    (b'{"action": "explode", "fault": "trapped"}', RejectionReason.SCHEMA_VIOLATION),
    (b'{"action": "inject", "fault": "trapped", "duration_s": -5}', RejectionReason.SCHEMA_VIOLATION),
    (b'{"action": "inject"', RejectionReason.BAD_JSON),
])
def test_malformed_commands_are_rejected_with_a_reason(payload, reason):
    with pytest.raises(Rejection) as caught:
        decode_command(payload)
    assert caught.value.reason is reason
