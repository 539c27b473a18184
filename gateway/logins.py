"""The broker logins of a gateway worker: one per lane, because the broker binds each client id to its user
name and a lane is a session of its own (``gateway.lane``).

The telemetry lane logs in as the worker's user name, the safety lane as the same name with ``-safety``
appended and the same password. Broker access files list both for every gateway login
(``gateway.credentials``), so an operator configures one login per worker, as before the lanes.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.protocol.endpoint import MqttEndpoint

SAFETY_SUFFIX = "-safety"


def lane_usernames(username: str) -> tuple[str, str]:
    """The user names a gateway login ``username`` stands for: telemetry lane's, then safety lane's."""
    return username, username + SAFETY_SUFFIX


def safety_endpoint(endpoint: MqttEndpoint) -> MqttEndpoint:
    """Where and as whom the safety lane connects, given the gateway's ``endpoint``."""
    if not endpoint.username:
        return endpoint
    return replace(endpoint, username=lane_usernames(endpoint.username)[1])
