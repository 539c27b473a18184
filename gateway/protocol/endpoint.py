"""Where the MQTT broker is and how to log in: parsed from a ``mqtt://`` or ``mqtts://`` URL."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class MqttEndpoint:
    """A broker address with optional credentials; ``tls`` is true for ``mqtts://``."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> MqttEndpoint:
        """Parse ``mqtt[s]://[user[:password]@]host[:port]``; raise ``ValueError`` naming what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(f"scheme must be mqtt:// or mqtts://, got {parts.scheme or 'none'!r}")
        if not parts.hostname:
            raise ValueError("a host is required, e.g. mqtt://127.0.0.1:1883")
        if parts.path not in ("", "/"):
            raise ValueError(f"no path is allowed after the port, got {parts.path!r}")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError as exc:
            raise ValueError(f"port is not a number between 1 and 65535: {exc}") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            tls=parts.scheme == "mqtts",
        )

    def url(self, *, with_password: bool = False) -> str:
        """The URL again; the password is masked unless asked for, so it can be logged."""
        scheme = "mqtts" if self.tls else "mqtt"
        auth = ""
        if self.username:
            secret = (self.password or "") if with_password else "***"
            auth = f"{self.username}:{secret}@" if self.password is not None else f"{self.username}@"
        return f"{scheme}://{auth}{self.host}:{self.port}"
