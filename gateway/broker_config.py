"""Render the project's Mosquitto configuration from the shipped template."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gateway.protocol import MAX_PAYLOAD_BYTES

TEMPLATE = resources.files("gateway") / "mosquitto" / "propwatch.conf.template"
# Payloads above the protocol's limit but within this bound reach the gateway and are dead-lettered as
# ``oversize`` with their device named and a truncated copy, so an operator sees why; anything larger is cut at
# the broker (the client is disconnected, Mosquitto logs it), so no device can make the broker hold more than
# three retained messages of this size (docs/ingest.md, "Broker security"). 256 KiB: sixteen times the
# protocol's limit, room for a firmware's runaway buffer, and 768 KiB per device login at worst.
MAX_PACKET_SIZE = 16 * MAX_PAYLOAD_BYTES


@dataclass(frozen=True)
class BrokerConfig:
    """A Mosquitto configuration.

    With ``password_file`` and ``acl_file`` (``gateway.credentials.write_broker_auth``) the broker is secured:
    no anonymous clients, and every listener replaces a client's id by its user name, so nobody can take over
    another login's session. Without them it is open to anonymous clients: the test suite's shared broker,
    never a deployment.
    """

    port: int
    data_dir: Path
    bind: str = "127.0.0.1"
    persistence: bool = True
    password_file: Path | None = None
    acl_file: Path | None = None
    # Bounds the broker's memory per client without dropping by count; 0 would be unbounded.
    max_queued_bytes: int = 512 * 1024 * 1024
    max_packet_size: int = MAX_PACKET_SIZE
    # Mosquitto started as root drops to user "mosquitto" unless told otherwise; an embedded broker whose
    # data directory belongs to root must stay root to write its persistence file.
    run_as: str | None = None
    # A second, TLS-only listener (mqtts://) when a port and the server's certificate and key are given.
    tls_port: int | None = None
    certfile: Path | None = None
    keyfile: Path | None = None

    def __post_init__(self) -> None:
        if (self.password_file is None) != (self.acl_file is None):
            raise ValueError("a secured broker needs both password_file and acl_file")
        if self.tls_port and not (self.certfile and self.keyfile):
            raise ValueError("a TLS listener needs certfile and keyfile")

    @property
    def secured(self) -> bool:
        """Whether clients must log in (and are bound to their login's client id and topics)."""
        return self.password_file is not None

    def render(self) -> str:
        """The configuration file text."""
        auth = [f"password_file {self.password_file}", f"acl_file {self.acl_file}"] if self.secured else []
        return TEMPLATE.read_text(encoding="utf-8").format(
            listeners="\n".join(self._listeners()),
            persistence="true" if self.persistence else "false",
            data_dir=self.data_dir,
            allow_anonymous="false" if self.secured else "true",
            auth_lines="\n".join(auth),
            user_line=f"user {self.run_as}" if self.run_as else "",
            max_queued_bytes=self.max_queued_bytes,
            max_packet_size=self.max_packet_size,
        )

    def write(self, path: Path) -> Path:
        """Write the configuration to ``path`` and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(), encoding="utf-8")
        return path

    def _listeners(self) -> list[str]:
        # use_username_as_clientid is a listener option: every listener needs it, or that one is a way around.
        bound = ["use_username_as_clientid true"] if self.secured else []
        lines = [f"listener {self.port} {self.bind}", *bound]
        if self.tls_port:
            lines += [f"listener {self.tls_port} {self.bind}", f"certfile {self.certfile}", f"keyfile {self.keyfile}",
                      *bound]
        return lines
