"""Mosquitto password and ACL files generated from the device registry.

Each device logs in with its id as user name and may publish only under ``pw/v1/+/<its id>/#`` (and read
its command topic); the gateway user reads every device topic and may publish commands.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ingest.registry import list_devices

# mosquitto_passwd (2.x) format: $7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512 digest>
PBKDF2_ITERATIONS = 101
SALT_BYTES = 12
DIGEST_BYTES = 64


@dataclass(frozen=True)
class Credential:
    """A broker login: user name and clear-text password (kept by the device or its provisioning tool)."""

    username: str
    password: str


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


def render_password_file(credentials: Iterable[Credential]) -> str:
    """``user:hash`` lines, one per credential, sorted by user name."""
    lines = []
    for cred in sorted(credentials, key=lambda c: c.username):
        if ":" in cred.username or "\n" in cred.username:
            raise ValueError(f"user name {cred.username!r} may not contain ':' or a newline")
        lines.append(f"{cred.username}:{hash_password(cred.password)}")
    return "\n".join(lines) + "\n"


def render_acl_file(gateway_user: str) -> str:
    """The ACL: the gateway reads all device topics and writes commands; a device writes only its own."""
    return "\n".join([
        f"user {gateway_user}",
        "topic read pw/v1/#",
        "topic write pw/v1/+/+/cmd",
        "",
        "# Every other user is a device whose user name is its device id.",
        "pattern write pw/v1/+/%u/#",
        "pattern read pw/v1/+/%u/cmd",
        "",
    ])


def derive_device_password(master_key: bytes, device_id: str) -> str:
    """A device's broker password derived from a master key, so the registry never stores device secrets.

    Provisioning computes the same value to flash into the device; rotating the key rotates every password.
    """
    return base64.urlsafe_b64encode(hmac.digest(master_key, device_id.encode(), "sha256")).decode().rstrip("=")


def write_broker_auth_from_registry(
    conn: psycopg.Connection, directory: Path, *, gateway: Credential, master_key: bytes
) -> tuple[Path, Path]:
    """Password and ACL files for every registered device (passwords from ``derive_device_password``)."""
    devices = {d.id: derive_device_password(master_key, d.id) for d in list_devices(conn)}
    return write_broker_auth(directory, gateway=gateway, devices=devices)


def write_broker_auth(
    directory: Path, *, gateway: Credential, devices: Mapping[str, str]
) -> tuple[Path, Path]:
    """Write ``passwd`` and ``acl`` into ``directory`` for the gateway and ``devices`` (id -> password)."""
    directory.mkdir(parents=True, exist_ok=True)
    passwd = directory / "passwd"
    acl = directory / "acl"
    creds = [gateway, *(Credential(device_id, secret) for device_id, secret in devices.items())]
    passwd.write_text(render_password_file(creds), encoding="utf-8")
    acl.write_text(render_acl_file(gateway.username), encoding="utf-8")
    # The broker reads these as its own user; nobody else needs to.
    passwd.chmod(0o600)
    acl.chmod(0o600)
    return passwd, acl
