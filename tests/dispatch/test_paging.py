"""Listing work orders a page at a time: filters, order and totals are computed by the database."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from dispatch.workorders import open_from_report, page_work_orders, transition
from ingest.registry import Site, upsert_site

from .conftest import SITE, T0

OTHER_SITE = "S2"


@pytest.fixture
def template(estate: psycopg.Connection) -> int:
    """A real report order, cancelled so that no state filter below counts it."""
    order = open_from_report(estate, site_id=SITE, origin="owner_report", category="water_outage",
                             description="no water", address="1号楼", reporter_contact="139", actor="user:desk",
                             now=T0 - timedelta(days=1))
    transition(estate, order.id, "CANCELLED", actor="user:desk", note="test template", now=T0 - timedelta(days=1))
    return order.id


def copies(conn: psycopg.Connection, template: int, *, count: int, site_id: str, state: str, first: int) -> list[int]:
    """``count`` copies of the template order in ``site_id`` and ``state``, the n-th created ``first + n``
    minutes after T0; returns their ids oldest first."""
    rows = conn.execute(
        """INSERT INTO work_orders (number, site_id, category, component, severity, origin, state, title, unit_id,
               skill, accept_timeout_s, escalation, emergency, created_at, updated_at)
           SELECT number || '-' || %(site)s || '-' || (n + %(first)s), %(site)s, category, component, severity,
                  origin, %(state)s, title, unit_id, skill, accept_timeout_s, escalation, emergency,
                  %(t0)s + (n + %(first)s) * interval '1 minute', %(t0)s
           FROM work_orders, generate_series(1, %(count)s) AS n WHERE id = %(template)s
           ORDER BY n
           RETURNING id""",
        {"site": site_id, "state": state, "t0": T0, "first": first, "count": count, "template": template},
    ).fetchall()
    return [row[0] for row in rows]


def test_a_page_past_the_first_thousand_orders_is_newest_first_with_the_full_total(
    estate: psycopg.Connection, template: int
) -> None:
    ids = copies(estate, template, count=1200, site_id=SITE, state="NEW", first=0)
    items, total = page_work_orders(estate, sites=[SITE], states=["NEW"], limit=50, offset=1100)
    assert total == 1200
    assert [o.id for o in items] == list(reversed(ids))[1100:1150]


def test_the_total_counts_only_the_orders_of_the_given_sites_and_states(
    estate: psycopg.Connection, template: int
) -> None:
    upsert_site(estate, Site(id=OTHER_SITE, name="另一个小区", region="default"))
    copies(estate, template, count=1100, site_id=SITE, state="ACKED", first=0)
    copies(estate, template, count=30, site_id=SITE, state="CLOSED", first=2000)
    other = copies(estate, template, count=20, site_id=OTHER_SITE, state="ACKED", first=3000)
    assert page_work_orders(estate, sites=[SITE], states=["ACKED"], limit=10, offset=1095)[1] == 1100
    assert page_work_orders(estate, sites=[SITE], states=["CLOSED"], limit=10, offset=0)[1] == 30
    items, total = page_work_orders(estate, sites=[OTHER_SITE], limit=5, offset=0)
    assert (total, [o.id for o in items]) == (20, list(reversed(other))[:5])


def test_no_site_filter_means_every_site_and_an_empty_one_means_none(estate: psycopg.Connection, template: int) -> None:
    upsert_site(estate, Site(id=OTHER_SITE, name="另一个小区", region="default"))
    copies(estate, template, count=3, site_id=SITE, state="NEW", first=0)
    copies(estate, template, count=4, site_id=OTHER_SITE, state="NEW", first=10)
    assert page_work_orders(estate, sites=None, states=["NEW"], limit=100, offset=0)[1] == 7
    assert page_work_orders(estate, sites=[], limit=100, offset=0) == ([], 0)


def test_a_page_beyond_the_last_order_is_empty_and_still_counts_them_all(
    estate: psycopg.Connection, template: int
) -> None:
    copies(estate, template, count=1050, site_id=SITE, state="NEW", first=0)
    assert page_work_orders(estate, sites=[SITE], states=["NEW"], limit=50, offset=1050) == ([], 1050)


def test_unit_and_assignee_filters_narrow_the_count(estate: psycopg.Connection, template: int) -> None:
    ids = copies(estate, template, count=12, site_id=SITE, state="DISPATCHED", first=0)
    estate.execute("UPDATE work_orders SET assignee_id = 'pe-1' WHERE id = ANY (%s)", (ids[:5],))
    mine, total = page_work_orders(estate, sites=None, states=["DISPATCHED"], unit_id="property-eng",
                                   assignee_id="pe-1", limit=3, offset=0)
    assert (total, [o.id for o in mine]) == (5, list(reversed(ids[:5]))[:3])
    assert page_work_orders(estate, sites=None, unit_id="fire-maint", limit=3, offset=0) == ([], 0)
