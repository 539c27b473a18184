"""The broker logins of a gateway worker: one per session, because the broker binds each client id to its user
name and each lane (``gateway.lane``) and the retained-copy sweeper (``gateway.retained``) is a session of its own.

The telemetry lane logs in as the worker's user name, the safety lane as the same name with ``-safety``
appended, the sweeper with ``-sweep``, all with the same password. Broker access files list the three for every
gateway login (``gateway.credentials``), so an operator configures one login per worker.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.protocol.endpoint import MqttEndpoint

SAFETY_SUFFIX = "-safety"
SWEEP_SUFFIX = "-sweep"


def lane_usernames(username: str) -> tuple[str, str]:
    """The user names of a gateway login ``username``'s lanes: telemetry lane's, then safety lane's."""
    return username, username + SAFETY_SUFFIX


def gateway_usernames(username: str) -> tuple[str, str, str]:
    """Every user name a gateway login ``username`` stands for: its two lanes', then its sweeper's."""
    return *lane_usernames(username), username + SWEEP_SUFFIX


def safety_endpoint(endpoint: MqttEndpoint) -> MqttEndpoint:
    """Where and as whom the safety lane connects, given the gateway's ``endpoint``."""
    if not endpoint.username:
        return endpoint
    return replace(endpoint, username=lane_usernames(endpoint.username)[1])


def sweep_endpoint(endpoint: MqttEndpoint) -> MqttEndpoint:
    """Where and as whom the retained-copy sweeper connects, given the gateway's ``endpoint``."""
    if not endpoint.username:
        return endpoint
    return replace(endpoint, username=endpoint.username + SWEEP_SUFFIX)
