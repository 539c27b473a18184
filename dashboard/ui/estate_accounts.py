"""What the committee and the owners read of an estate's own accounts besides the fund: this year's income and
expenses of the shared parts (Civil Code art. 282) and the annual fund disclosures (Order 165 art. 30)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from dashboard.ui.alarm_detail import local_time
from dispatch.fund import annual, shared_parts
from dispatch.fund.shared_parts import SharedPartsSummary
from ingest import registry


@dataclass(frozen=True)
class Disclosed:
    """One annual disclosure version as a page lists it, its publication in the estate's time."""

    year: int
    version: int
    state: str
    published: str | None


@dataclass(frozen=True)
class EstateAccounts:
    """An estate's shared-part year so far and its annual disclosures, newest first."""

    site_id: str
    shared: SharedPartsSummary
    disclosures: list[Disclosed]


def estate_accounts(conn: psycopg.Connection, site_id: str, *, drafts: bool) -> EstateAccounts:
    """This year's shared-part summary (in the estate's calendar) and the annual disclosures: the published ones,
    or with ``drafts`` every version in every state (the committee and the control room)."""
    zone = registry.site_timezone(conn, site_id)
    found = annual.list_versions(conn, site_id) if drafts else annual.published_disclosures(conn, site_id)
    return EstateAccounts(
        site_id, shared_parts.shared_parts_summary(conn, site_id, datetime.now(zone).year),
        [Disclosed(d.year, d.version, d.state, local_time(d.published_at, zone) if d.published_at else None)
         for d in found])
