"""``python -m gateway``: run one gateway worker from ``PROPWATCH_*`` settings until SIGTERM/SIGINT.

Besides the common ones it uses ``PROPWATCH_GATEWAY_CLIENT_ID`` (default ``propwatch-gateway``),
``PROPWATCH_GATEWAY_SHARED_GROUP`` (set it to run several workers on one shared subscription),
``PROPWATCH_GATEWAY_SITES`` (the sites this worker takes, to partition by site) and
``PROPWATCH_GATEWAY_TLS_CA_FILE`` (the broker's CA for ``mqtts://`` when it is not in the system store).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from gateway.service import Gateway
from propwatch.schema import upgrade_database
from propwatch.settings import SettingsError, load_settings


def main() -> int:
    """Run until a termination signal; return the exit status."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.database_url is None or settings.mqtt is None:
        print("PROPWATCH_DATABASE_URL and PROPWATCH_MQTT_URL must be set to run the gateway alone", file=sys.stderr)
        return 2
    upgrade_database(settings.database_url)
    gateway = Gateway(
        endpoint=settings.mqtt,
        database_url=settings.database_url,
        protocol=settings.mqtt_protocol,
        client_id=settings.gateway_client_id,
        shared_group=settings.gateway_shared_group,
        sites=settings.sites,
        session_expiry_s=settings.mqtt_session_expiry_s,
        tls_ca_file=settings.gateway_tls_ca_file,
    )
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    gateway.start()
    done.wait()
    gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
