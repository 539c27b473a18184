"""Render the project's Mosquitto configuration from the shipped template."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

TEMPLATE = resources.files("gateway") / "mosquitto" / "propwatch.conf.template"


@dataclass(frozen=True)
class BrokerConfig:
    port: int
    data_dir: Path
    bind: str = "127.0.0.1"
    persistence: bool = True
    allow_anonymous: bool = True
    password_file: Path | None = None
    acl_file: Path | None = None
    # Bounds the broker's memory per client without dropping by count; 0 would be unbounded.
    max_queued_bytes: int = 512 * 1024 * 1024
    # Slightly above the protocol's payload limit so oversize payloads reach the gateway and are
    # dead-lettered with a reason rather than vanishing at the broker.
    max_packet_size: int = 256 * 1024
    # Mosquitto started as root drops to user "mosquitto" unless told otherwise; an embedded broker whose
    # data directory belongs to root must stay root to write its persistence file.
    run_as: str | None = None
    # A second, TLS-only listener (mqtts://) when a port and the server's certificate and key are given.
    tls_port: int | None = None
    certfile: Path | None = None
    keyfile: Path | None = None

    def render(self) -> str:
        """The configuration file text."""
        auth = []
        if self.password_file:
            auth.append(f"password_file {self.password_file}")
        if self.acl_file:
            auth.append(f"acl_file {self.acl_file}")
        tls = []
        if self.tls_port:
            if not (self.certfile and self.keyfile):
                raise ValueError("a TLS listener needs certfile and keyfile")
            tls = [f"listener {self.tls_port} {self.bind}", f"certfile {self.certfile}", f"keyfile {self.keyfile}"]
        return TEMPLATE.read_text(encoding="utf-8").format(
            port=self.port,
            bind=self.bind,
            persistence="true" if self.persistence else "false",
            data_dir=self.data_dir,
            allow_anonymous="true" if self.allow_anonymous else "false",
            auth_lines="\n".join(auth),
            user_line=f"user {self.run_as}" if self.run_as else "",
            max_queued_bytes=self.max_queued_bytes,
            max_packet_size=self.max_packet_size,
            tls_lines="\n".join(tls),
        )

    def write(self, path: Path) -> Path:
        """Write the configuration to ``path`` and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(), encoding="utf-8")
        return path
