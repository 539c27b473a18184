"""Checking the place an order or a plan names against the estate registry (``ingest.registry``).

A place that does not exist, or a building or device of another estate, is the caller's mistake
(``UnknownPlace``, an ``Invalid``), found before anything is written rather than as a foreign-key failure.
"""

from __future__ import annotations

import psycopg

from dispatch.errors import UnknownPlace
from ingest.registry import Site, get_device, get_site, list_buildings


def check_place(
    conn: psycopg.Connection, site_id: str, *, building_id: str | None = None, device_id: str | None = None
) -> Site:
    """The site, once it is known to exist and ``building_id`` and ``device_id`` (when given) to be its own."""
    site = get_site(conn, site_id)
    if site is None:
        raise UnknownPlace(f"site {site_id!r} does not exist", field="site_id")
    if building_id is not None and building_id not in {b.id for b in list_buildings(conn, site_id=site_id)}:
        raise UnknownPlace(f"building {building_id!r} is not a building of site {site_id!r}", field="building_id")
    if device_id is not None:
        device = get_device(conn, device_id)
        if device is None or device.site_id != site_id:
            raise UnknownPlace(f"device {device_id!r} is not a device of site {site_id!r}", field="device_id")
    return site
