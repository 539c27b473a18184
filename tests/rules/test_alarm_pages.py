"""Alarm pages: filtered, ordered and counted in the database, so totals stay right however deep the page."""

from __future__ import annotations

import psycopg
import pytest

from rules.alarms import page_alarms

from .conftest import T0


def insert_alarms(db: psycopg.Connection, site_id: str, count: int, *, severity: str = "P2",
                  state: str = "active", device_id: str | None = None) -> None:
    """``count`` alarms of one site, one per second of ``last_seen`` after T0 (the i-th seen i seconds in)."""
    db.execute(
        """INSERT INTO alarms (fingerprint, rule_id, category, severity, state, site_id, device_id, title_zh,
                               title_en, first_seen, last_seen)
           SELECT concat_ws('/', %(site)s::text, %(severity)s::text, %(state)s::text, %(device)s::text, i),
                  'test.rule', 'test', %(severity)s, %(state)s, %(site)s, %(device)s, '测试', 'test', %(t0)s,
                  %(t0)s + i * interval '1 second'
           FROM generate_series(1, %(count)s) AS i""",
        {"site": site_id, "severity": severity, "state": state, "device": device_id, "t0": T0, "count": count},
    )


def test_a_page_past_the_first_thousand_alarms_has_the_right_items_and_total(db) -> None:
    insert_alarms(db, "S-A", 1_250)
    items, total = page_alarms(db, sites=None, limit=100, offset=1_200)
    assert total == 1_250
    assert len(items) == 50
    assert [a.last_seen for a in items] == sorted((a.last_seen for a in items), reverse=True)
    assert items[-1].fingerprint == "S-A/P2/active/1"


def test_a_page_beyond_the_last_alarm_is_empty_and_still_counts_every_match(db) -> None:
    insert_alarms(db, "S-A", 1_050)
    assert page_alarms(db, sites=None, limit=50, offset=2_000) == ([], 1_050)


def test_no_match_is_an_empty_page_with_total_zero(db) -> None:
    assert page_alarms(db, sites=None, limit=50, offset=0) == ([], 0)


def test_pages_are_ordered_by_severity_then_most_recently_seen(db) -> None:
    insert_alarms(db, "S-A", 3, severity="P3")
    insert_alarms(db, "S-A", 2, severity="P0")
    items, _ = page_alarms(db, sites=None, limit=10, offset=0)
    assert [(a.severity, a.last_seen.timestamp() - T0.timestamp()) for a in items] == [
        ("P0", 2), ("P0", 1), ("P3", 3), ("P3", 2), ("P3", 1)]


def test_sites_limit_the_page_and_the_total_to_those_sites(db) -> None:
    insert_alarms(db, "S-A", 1_100)
    insert_alarms(db, "S-B", 30)
    insert_alarms(db, "S-C", 20)
    items, total = page_alarms(db, sites=["S-B", "S-C"], limit=100, offset=0)
    assert total == 50
    assert {a.site_id for a in items} == {"S-B", "S-C"}


def test_an_empty_list_of_sites_matches_nothing(db) -> None:
    insert_alarms(db, "S-A", 5)
    assert page_alarms(db, sites=[], limit=10, offset=0) == ([], 0)


def test_states_device_and_severity_filters_apply_together(db) -> None:
    insert_alarms(db, "S-A", 4, severity="P1", state="active", device_id="D1")
    insert_alarms(db, "S-A", 3, severity="P1", state="cleared", device_id="D1")
    insert_alarms(db, "S-A", 2, severity="P2", state="active", device_id="D1")
    insert_alarms(db, "S-A", 1, severity="P1", state="active", device_id="D2")
    _, total = page_alarms(db, sites=None, states=["active", "acknowledged"], device_id="D1", severity="P1",
                           limit=10, offset=0)
    assert total == 4


def test_an_unknown_state_is_refused(db) -> None:
    with pytest.raises(ValueError, match="unknown alarm states: open"):
        page_alarms(db, sites=None, states=["open"], limit=10, offset=0)
