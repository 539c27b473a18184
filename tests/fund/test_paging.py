"""Listing draws a page at a time: filters, order and totals are computed by the database."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from dispatch.fund import draws

from .conftest import Estate, EstateFactory
from .helpers import MONDAY_10_SHANGHAI, open_draw


def copies(conn: psycopg.Connection, template: draws.Draw, *, count: int, site_id: str, state: str,
           first: int) -> list[int]:
    """``count`` copies of a real draw in ``site_id`` and ``state``, each on a copy of its work order (a work
    order draws once), the n-th opened ``first + n`` minutes after the template; returns their ids oldest first."""
    orders = conn.execute(
        """INSERT INTO work_orders (number, site_id, category, component, severity, origin, state, title, unit_id,
               skill, accept_timeout_s, escalation, emergency, created_at, updated_at)
           SELECT number || '-' || %(site)s || '-' || (n + %(first)s), %(site)s, category, component, severity,
                  origin, state, title, unit_id, skill, accept_timeout_s, escalation, emergency, created_at,
                  updated_at
           FROM work_orders, generate_series(1, %(count)s) AS n WHERE id = %(order)s
           ORDER BY n
           RETURNING id""",
        {"site": site_id, "first": first, "count": count, "order": template.work_order_id},
    ).fetchall()
    rows = conn.execute(
        """INSERT INTO fund_draws (site_id, kind, work_order_id, work_order_number, item, fund_category, contractor,
               scope_type, scope_id, estimate, state, route, rule_set, area_basis, review_due_at, deemed_approval,
               opened_by, opened_at)
           SELECT %(site)s, kind, o.id, work_order_number, item, fund_category, contractor, scope_type, scope_id,
                  estimate, %(state)s, route, rule_set, area_basis, review_due_at, deemed_approval, opened_by,
                  opened_at + (o.n + %(first)s) * interval '1 minute'
           FROM fund_draws, unnest(%(orders)s::bigint[]) WITH ORDINALITY AS o (id, n) WHERE fund_draws.id = %(draw)s
           ORDER BY o.n
           RETURNING id""",
        {"site": site_id, "state": state, "first": first, "orders": [r[0] for r in orders], "draw": template.id},
    ).fetchall()
    return [row[0] for row in rows]


def test_a_page_past_the_first_thousand_draws_is_newest_first_with_the_full_total(
    db: psycopg.Connection, estate: Estate
) -> None:
    template = open_draw(db, estate.site_id, now=MONDAY_10_SHANGHAI - timedelta(days=1))
    ids = copies(db, template, count=1200, site_id=estate.site_id, state="approved", first=0)
    items, total = draws.page_draws(db, sites=[estate.site_id], states=["approved"], limit=50, offset=1100)
    assert total == 1200
    assert [d.id for d in items] == list(reversed(ids))[1100:1150]


def test_the_total_counts_only_the_draws_of_the_given_sites_and_states(
    db: psycopg.Connection, make_estate: EstateFactory
) -> None:
    first, second = make_estate(site_id="S1"), make_estate(site_id="S2")
    template = open_draw(db, first.site_id, now=MONDAY_10_SHANGHAI - timedelta(days=1))
    copies(db, template, count=1010, site_id=first.site_id, state="pending", first=0)
    copies(db, template, count=15, site_id=first.site_id, state="rejected", first=2000)
    other = copies(db, template, count=25, site_id=second.site_id, state="pending", first=3000)
    assert draws.page_draws(db, sites=[first.site_id], states=["pending"], limit=10, offset=1005)[1] == 1011
    assert draws.page_draws(db, sites=[first.site_id], states=["rejected"], limit=10, offset=0)[1] == 15
    items, total = draws.page_draws(db, sites=[second.site_id], limit=5, offset=0)
    assert (total, [d.id for d in items]) == (25, list(reversed(other))[:5])
    assert draws.page_draws(db, sites=None, limit=1, offset=0)[1] == 1051


def test_an_empty_site_list_matches_no_draw(db: psycopg.Connection, estate: Estate) -> None:
    open_draw(db, estate.site_id)
    assert draws.page_draws(db, sites=[], limit=10, offset=0) == ([], 0)


def test_a_page_beyond_the_last_draw_is_empty_and_still_counts_them_all(db: psycopg.Connection, estate: Estate) -> None:
    template = open_draw(db, estate.site_id)
    copies(db, template, count=1020, site_id=estate.site_id, state="rejected", first=0)
    assert draws.page_draws(db, sites=None, states=["rejected"], limit=50, offset=1020) == ([], 1020)
