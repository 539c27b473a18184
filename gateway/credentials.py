"""Who may log in to the broker and what each login may do: Mosquitto's password and ACL files.

Every device logs in with its id as user name and may publish on exactly its own three topics, its site
pinned — ``pw/v1/<site>/<id>/telemetry``, ``…/event``, ``…/state`` — and read its ``…/cmd`` topic. Nothing
else: not another device's topics, not another site segment, not a sub-topic of its own, so it cannot retain
(or register a will) anywhere but there. Each gateway worker has a login of its own whose user name is also
its client id, because the broker binds client ids to user names (docs/ingest.md, "Broker security"); every
gateway login stands for three, its name and its name with ``-safety`` and ``-sweep`` appended (same
password): one per lane, and the sweeper that deletes retained copies on telemetry and event topics, which
alone may write there (``gateway.logins``, ``gateway.retained``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from gateway.logins import gateway_usernames, lane_usernames
from gateway.protocol import TopicKind, topic_for
from gateway.protocol.topics import IDENTIFIER
from ingest.registry import list_devices

# mosquitto_passwd (2.x) format: $7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512 digest>
PBKDF2_ITERATIONS = 101
SALT_BYTES = 12
DIGEST_BYTES = 64
GATEWAY_READ = "pw/v1/#"
GATEWAY_WRITE = "pw/v1/+/+/cmd"
SWEEPER_TOPICS = ("pw/v1/+/+/telemetry", "pw/v1/+/+/event")
DEVICE_PUBLISHES = (TopicKind.TELEMETRY, TopicKind.EVENT, TopicKind.STATE)


@dataclass(frozen=True)
class Credential:
    """A broker login: user name and clear-text password (kept by the device or its provisioning tool)."""

    username: str
    password: str


@dataclass(frozen=True)
class DeviceCredential:
    """A device's login: its id is its user name (and, on the broker, its client id); its site pins its topics."""

    device_id: str
    site_id: str
    password: str


@dataclass(frozen=True)
class BrokerAccess:
    """Every login of one broker: the gateway workers' and the devices'.

    Raises ``ValueError`` for a user name the ACL cannot express safely, a name used twice, or a device whose
    id is a gateway's user name (it would share the gateway's client id, hence its session).
    """

    gateways: tuple[Credential, ...]
    devices: tuple[DeviceCredential, ...]

    def __post_init__(self) -> None:
        if not self.gateways:
            raise ValueError("at least one gateway login is needed")
        for gateway in self.gateways:
            if not IDENTIFIER.match(gateway.username):
                raise ValueError(f"gateway user name {gateway.username!r} must match {IDENTIFIER.pattern}")
        for device in self.devices:
            for name in (device.device_id, device.site_id):
                if not IDENTIFIER.match(name):
                    raise ValueError(f"id {name!r} must match {IDENTIFIER.pattern}")
        names = [name for g in self.gateways for name in gateway_usernames(g.username)]
        names += [d.device_id for d in self.devices]
        duplicates = sorted(name for name, uses in Counter(names).items() if uses > 1)
        if duplicates:
            raise ValueError(f"user names used twice (a gateway's name may not be a device id): {duplicates}")

    def device(self, device_id: str) -> DeviceCredential:
        """The login of ``device_id``; ``KeyError`` if it has none."""
        for device in self.devices:
            if device.device_id == device_id:
                return device
        raise KeyError(device_id)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A ``$7$`` hash that Mosquitto's ``password_file`` accepts, as ``mosquitto_passwd`` writes it."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, DIGEST_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash."""
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    expected = base64.b64decode(digest)
    actual = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations), len(expected))
    return hmac.compare_digest(actual, expected)


def derive_device_password(master_key: bytes, device_id: str) -> str:
    """A device's broker password derived from a master key, so the registry never stores device secrets.

    Provisioning computes the same value to flash into the device; rotating the key rotates every password.
    """
    return base64.urlsafe_b64encode(hmac.digest(master_key, device_id.encode(), "sha256")).decode().rstrip("=")


def access_from_registry(
    conn: psycopg.Connection, *, gateways: Iterable[Credential], master_key: bytes
) -> BrokerAccess:
    """Logins for the gateways and every registered device (passwords from ``derive_device_password``)."""
    devices = tuple(
        DeviceCredential(d.id, d.site_id, derive_device_password(master_key, d.id)) for d in list_devices(conn)
    )
    return BrokerAccess(tuple(gateways), devices)


def render_password_file(access: BrokerAccess) -> str:
    """``user:hash`` lines, one per login, sorted by user name."""
    logins = [(name, g.password) for g in access.gateways for name in gateway_usernames(g.username)]
    logins += [(d.device_id, d.password) for d in access.devices]
    return "".join(f"{user}:{hash_password(password)}\n" for user, password in sorted(logins))


def render_acl_file(access: BrokerAccess) -> str:
    """Mosquitto's ACL: each gateway lane reads every device topic and writes commands; each gateway's sweeper
    reads and writes (empties) telemetry and event topics; each device writes only its own three topics and reads
    only its command topic. No ``pattern`` lines: they cannot pin the site."""
    lines = []
    for name in sorted(name for g in access.gateways for name in lane_usernames(g.username)):
        lines += [f"user {name}", f"topic read {GATEWAY_READ}", f"topic write {GATEWAY_WRITE}", ""]
    for gateway in sorted(access.gateways, key=lambda g: g.username):
        lines.append(f"user {gateway_usernames(gateway.username)[2]}")
        lines += [f"topic readwrite {topic}" for topic in SWEEPER_TOPICS] + [""]
    for device in sorted(access.devices, key=lambda d: d.device_id):
        lines.append(f"user {device.device_id}")
        lines += [f"topic write {topic_for(device.site_id, device.device_id, kind)}" for kind in DEVICE_PUBLISHES]
        lines += [f"topic read {topic_for(device.site_id, device.device_id, TopicKind.CMD)}", ""]
    return "\n".join(lines)


def write_broker_auth(directory: Path, access: BrokerAccess) -> tuple[Path, Path]:
    """Write ``passwd`` and ``acl`` for ``access`` into ``directory``; return their paths.

    A running Mosquitto reads both again on SIGHUP (a device added to the registry needs a new file).
    """
    directory.mkdir(parents=True, exist_ok=True)
    passwd = directory / "passwd"
    acl = directory / "acl"
    for path, text in ((passwd, render_password_file(access)), (acl, render_acl_file(access))):
        # Created owner-only before the secrets go in: the broker reads these as its own user; nobody else needs to.
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(text, encoding="utf-8")
    return passwd, acl
