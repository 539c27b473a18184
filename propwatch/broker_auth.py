"""The broker's secrets and logins as every propwatch command sees them.

Two secrets decide every login: the **master key** (``PROPWATCH_MQTT_MASTER_KEY``), under which each device's
password is derived from its id, and the **gateway's password** (``PROPWATCH_MQTT_GATEWAY_PASSWORD``), whose
user name is ``PROPWATCH_GATEWAY_CLIENT_ID`` because the broker binds client ids to user names. An embedded
broker with either unset generates it once and keeps it in ``<data dir>/secrets`` (mode 0600), so device
passwords survive restarts; the commands that serve an external broker read a kept one but never invent one.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway.credentials import BrokerAccess, Credential, access_from_registry
from ingest.database import connect
from ingest.registry import list_devices
from propwatch.embedded import EmbeddedBroker
from propwatch.settings import Settings

log = logging.getLogger(__name__)
SECRETS_DIR = "secrets"
MASTER_KEY_FILE = "mqtt-master-key"
GATEWAY_PASSWORD_FILE = "mqtt-gateway-password"
MASTER_KEY_MIN_CHARS = 32
GATEWAY_PASSWORD_MIN_CHARS = 16
# token_urlsafe(32) gives 43 characters: 256 bits of key.
GENERATED_BYTES = 32


class MissingSecret(RuntimeError):
    """A broker secret is neither configured nor kept in the data directory; the message names the variable."""


@dataclass(frozen=True)
class BrokerSecrets:
    """What every login of one broker derives from."""

    master_key: bytes
    gateway: Credential


def embedded_secrets(settings: Settings, data_dir: Path) -> BrokerSecrets:
    """The secrets of an embedded broker: configured, else kept under ``data_dir``, else generated and kept."""
    return BrokerSecrets(_master_key(settings, data_dir, generate=True),
                         Credential(settings.gateway_client_id, _gateway_password(settings, data_dir, generate=True)))


def master_key(settings: Settings, data_dir: Path) -> bytes:
    """The configured master key, else the one an embedded broker kept under ``data_dir``.

    Raises ``MissingSecret`` rather than inventing one: a key made up here would match no deployed device.
    """
    return _master_key(settings, data_dir, generate=False)


def gateway_login(settings: Settings, data_dir: Path) -> Credential:
    """The gateway's login with its configured password (or the one in ``PROPWATCH_MQTT_URL``, or the one kept
    under ``data_dir``); ``MissingSecret`` if there is none."""
    return Credential(settings.gateway_client_id, _gateway_password(settings, data_dir, generate=False))


def _master_key(settings: Settings, data_dir: Path, *, generate: bool) -> bytes:
    if settings.mqtt_master_key is not None:
        return settings.mqtt_master_key.get_secret_value().encode()
    kept = _kept(data_dir / SECRETS_DIR / MASTER_KEY_FILE, "PROPWATCH_MQTT_MASTER_KEY", MASTER_KEY_MIN_CHARS,
                 generate=generate)
    return kept.encode()


def _gateway_password(settings: Settings, data_dir: Path, *, generate: bool) -> str:
    if settings.mqtt_gateway_password is not None:
        return settings.mqtt_gateway_password.get_secret_value()
    # The login the gateway already connects with, when the broker URL carries it.
    endpoint = settings.mqtt
    if endpoint is not None and endpoint.username == settings.gateway_client_id and endpoint.password:
        return endpoint.password
    return _kept(data_dir / SECRETS_DIR / GATEWAY_PASSWORD_FILE, "PROPWATCH_MQTT_GATEWAY_PASSWORD",
                 GATEWAY_PASSWORD_MIN_CHARS, generate=generate)


def _kept(path: Path, variable: str, min_chars: int, *, generate: bool) -> str:
    """The secret kept in ``path``; created there (owner-only) when ``generate`` and absent."""
    if not path.exists():
        if not generate:
            raise MissingSecret(f"{variable} is not set (and no {path} kept by an embedded broker)")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: two processes starting on one data dir must not each keep a different key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _kept(path, variable, min_chars, generate=False)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(GENERATED_BYTES) + "\n")
        log.info("generated %s, kept in %s", variable, path)
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < min_chars:
        raise MissingSecret(f"{path} holds fewer than {min_chars} characters; remove it or set {variable}")
    return value


def registry_access(database_url: str, gateways: Iterable[Credential], key: bytes) -> BrokerAccess:
    """Logins of ``gateways`` and of every device now in the registry."""
    with connect(database_url) as conn:
        return access_from_registry(conn, gateways=gateways, master_key=key)


def read_gateway_logins(path: Path) -> tuple[Credential, ...]:
    """``user:password`` lines (blank lines and ``#`` comments skipped); ``ValueError`` names a bad line."""
    logins = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or len(password) < GATEWAY_PASSWORD_MIN_CHARS:
            raise ValueError(f"{path}:{number}: expected user:password with a password of at least "
                             f"{GATEWAY_PASSWORD_MIN_CHARS} characters")
        logins.append(Credential(user, password))
    if not logins:
        raise ValueError(f"{path}: no gateway logins")
    return tuple(logins)


def _device_logins(access: BrokerAccess) -> frozenset[tuple[str, str]]:
    return frozenset((d.device_id, d.site_id) for d in access.devices)


class RegistryLogins:
    """Keeps an embedded broker's logins equal to the registry.

    Every ``interval_s`` it reads the registry; when a device was added, removed or moved to another site, it
    rewrites the password and ACL files and has Mosquitto read them again. The registry has no change
    notification, and a poll of a few thousand rows every few seconds costs milliseconds.
    """

    def __init__(self, database_url: str, broker: EmbeddedBroker, gateways: Iterable[Credential], key: bytes, *,
                 current: BrokerAccess, interval_s: float) -> None:
        self._database_url = database_url
        self._broker = broker
        self._gateways = tuple(gateways)
        self._key = key
        self._interval_s = interval_s
        self._known = _device_logins(current)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="broker-logins", daemon=True)

    def start(self) -> None:
        """Start polling in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=10)

    def sync(self) -> bool:
        """Reload the broker if the registry's devices changed since the last look; whether it did."""
        with connect(self._database_url) as conn:
            logins = frozenset((d.id, d.site_id) for d in list_devices(conn))
            if logins == self._known:
                return False
            # Hashing every password again (PBKDF2) is the costly part: only when something changed.
            access = access_from_registry(conn, gateways=self._gateways, master_key=self._key)
        self._broker.reload(access)
        logins = _device_logins(access)
        log.info("broker logins reloaded: %d devices (%+d)", len(logins), len(logins) - len(self._known))
        self._known = logins
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.sync()
            except Exception:
                # A database outage must not end the broker's service; the next poll tries again.
                log.exception("reading the registry for broker logins failed; retrying")
