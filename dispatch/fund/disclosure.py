"""Public disclosure of each completed draw (notice clause (16); Civil Code art. 281; Fujian [P-fj]).

A disclosure states the item, work order number, contractor, total, cost per m² and each home's share keyed
by building, unit and room. It never carries owner names, logins or phone numbers: the tables that hold it
have no column for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from dispatch.fund.estate import Household

RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class DisclosureShare:
    """One home's share of a draw."""

    building_id: str
    unit_name: str
    room: str
    area: Decimal
    share: Decimal


@dataclass(frozen=True)
class Disclosure:
    """What the estate's public board shows for one completed draw."""

    draw_id: int
    site_id: str
    item: str
    fund_category: str | None
    scope_type: str
    scope_id: str
    work_order_number: str | None
    contractor: str
    total: Decimal
    area_basis: str
    total_area: Decimal
    cost_per_m2: Decimal
    requested_at: datetime
    approved_at: datetime | None
    completed_at: datetime | None
    published_at: datetime
    purpose: str = "repair"  # or elevator_insurance: the board sums both into elevator spending
    shares: tuple[DisclosureShare, ...] = ()


def publish(
    conn: psycopg.Connection,
    *,
    draw_id: int,
    households: Sequence[Household],
    weights: Mapping[str, Decimal],
    shares: Mapping[str, Decimal],
    now: datetime,
) -> None:
    """Write the disclosure of a completed draw (called by ``draws.complete`` in its transaction)."""
    total = sum(shares.values(), Decimal("0.00"))
    total_area = sum(weights.values(), Decimal("0.00"))
    unit_names = dict(
        conn.execute(
            "SELECT id, name FROM fund_building_units WHERE id = ANY(%s)",
            (sorted({h.unit_id for h in households}),),
        ).fetchall()
    )
    row = conn.execute(
        """INSERT INTO fund_disclosures (draw_id, site_id, item, work_order_number, contractor, total, area_basis,
               total_area, cost_per_m2, published_at)
           SELECT id, site_id, item, work_order_number, contractor, %s, area_basis, %s, %s, %s
           FROM fund_draws WHERE id = %s
           RETURNING id""",
        (total, total_area, (total / total_area).quantize(RATE_PLACES), now, draw_id),
    ).fetchone()
    assert row is not None
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO fund_disclosure_shares (disclosure_id, building_id, unit_name, room, area, share)
               VALUES (%s, %s, %s, %s, %s, %s)""",
            [(row[0], h.building_id, unit_names[h.unit_id], h.room, weights[h.id], shares[h.id])
             for h in households],
        )


def public_disclosures(conn: psycopg.Connection, site_id: str) -> list[Disclosure]:
    """Every disclosure of a site with its shares, newest first. Safe to show without a login."""
    with conn.cursor(row_factory=class_row(Disclosure)) as cur:
        cur.execute(
            """SELECT d.draw_id, d.site_id, d.item, w.fund_category, w.scope_type, w.scope_id, d.work_order_number,
                      d.contractor, d.total, d.area_basis,
                      d.total_area, d.cost_per_m2, w.opened_at AS requested_at, w.decided_at AS approved_at,
                      w.completed_at, d.published_at, w.purpose
               FROM fund_disclosures d JOIN fund_draws w ON w.id = d.draw_id
               WHERE d.site_id = %s ORDER BY d.published_at DESC, d.draw_id DESC""",
            (site_id,),
        )
        disclosures = cur.fetchall()
    return [_with_shares(conn, d) for d in disclosures]


def _with_shares(conn: psycopg.Connection, disclosure: Disclosure) -> Disclosure:
    with conn.cursor(row_factory=class_row(DisclosureShare)) as cur:
        cur.execute(
            """SELECT s.building_id, s.unit_name, s.room, s.area, s.share FROM fund_disclosure_shares s
               JOIN fund_disclosures d ON d.id = s.disclosure_id
               WHERE d.draw_id = %s ORDER BY s.building_id, s.unit_name, s.room""",
            (disclosure.draw_id,),
        )
        shares = tuple(cur.fetchall())
    return dataclasses.replace(disclosure, shares=shares)
