"""The monthly credit evaluation: factors from measured data, weights shared when a factor has no data, star
bands, recomputation in place."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from dispatch.workorders import open_from_report
from supervision.companies import Company
from supervision.credit import InvalidMonth, credit_history, evaluate, latest_credit, parse_month, recompute
from supervision.inspections import InspectionItem, record_inspection, set_opinion
from supervision.model import credit_model
from tests.dispatch.conftest import step_to

from .conftest import MONTH, SITE, T0

M = timedelta(minutes=1)


def water_report(conn: psycopg.Connection, when, address: str = "2号楼101"):
    return open_from_report(conn, site_id=SITE, origin="owner_report", category="water_outage",
                            description="no water", address=address, reporter_contact="139", actor="user:desk",
                            now=when)


def inspect(conn: psycopg.Connection, company_id: int, score: str, day: date = date(2026, 11, 12)) -> None:
    record_inspection(conn, site_id=SITE, company_id=company_id, inspected_on=day, inspector_id=1,
                      inspector="inspector", items=[InspectionItem("消防通道", "pass")], score=Decimal(score))


def a_good_month(conn: psycopg.Connection, company: Company) -> None:
    """A water report acknowledged at its 10-minute deadline and repaired in time, an inspection scoring 90 and
    a good opinion."""
    order = water_report(conn, T0)
    for state, offset in [("ACKED", 10 * M), ("DISPATCHED", 20 * M), ("ON_SITE", 50 * M), ("RESOLVED", 180 * M)]:
        step_to(conn, order.id, state, now=T0 + offset)
    inspect(conn, company.id, "90")
    set_opinion(conn, company_id=company.id, month=MONTH, rating="good", text="", author="subdistrict1")


def scores(result) -> dict[str, Decimal | None]:
    return {f.id: f.score for f in result.factors}


def test_a_good_month_is_scored_from_the_factors_that_have_data(company: Company, served: psycopg.Connection) -> None:
    a_good_month(served, company)
    result = evaluate(served, company.id, MONTH)
    assert scores(result) == {
        "sla_compliance": Decimal("100.00"), "response_time": Decimal("74.07"),  # 600 s between 180 s and 1800 s
        "complaint_handling": Decimal("100.00"), "complaint_timeliness": None, "complaint_satisfaction": None,
        "preventive_kept": None, "inspections": Decimal("90.00"), "opinion": Decimal("85.00"),
        "booking_satisfaction": None}
    # (25·100 + 10·74.07 + 15·100 + 10·90 + 10·85) / 70
    assert (result.score, result.stars) == (Decimal("92.72"), 5)


def test_a_breached_sla_and_a_complaint_lower_the_score_through_the_factors_they_touch(
        company: Company, served: psycopg.Connection) -> None:
    a_good_month(served, company)
    before = recompute(served, company.id, MONTH)
    water_report(served, T0 + timedelta(days=1), address="5号楼202")  # never acknowledged: every step overdue
    after = recompute(served, company.id, MONTH)
    moved = {fid for fid, score in scores(after).items() if score != scores(before)[fid]}
    assert moved == {"sla_compliance", "complaint_handling"}
    changed = {f.id: (f.counts, f.score) for f in after.factors if f.id in moved}
    assert changed == {"sla_compliance": ({"met": 1, "decided": 2}, Decimal("50.00")),
                       "complaint_handling": ({"handled": 1, "filed": 2}, Decimal("50.00"))}
    assert (before.score, after.score) == (Decimal("92.72"), Decimal("64.15"))
    assert (before.stars, after.stars) == (5, 2)


def test_recomputing_a_month_replaces_its_evaluation(company: Company, served: psycopg.Connection) -> None:
    a_good_month(served, company)
    first = recompute(served, company.id, MONTH)
    again = recompute(served, company.id, MONTH)
    stored = credit_history(served, company.id)
    assert len(stored) == 1
    assert (stored[0].score, stored[0].stars, stored[0].model_version) == (first.score, first.stars,
                                                                         credit_model().version)
    assert [f.counts for f in stored[0].factors] == [f.counts for f in again.factors]


def test_a_company_with_no_data_gets_no_score_and_no_stars(company: Company, served: psycopg.Connection) -> None:
    result = recompute(served, company.id, MONTH)
    assert (result.score, result.stars) == (None, None)
    assert all(f.no_data and f.effective_weight == 0 and f.contribution is None for f in result.factors)
    assert credit_history(served, company.id)[0].score is None


def test_a_factor_without_data_gives_its_weight_to_the_others(company: Company, served: psycopg.Connection) -> None:
    a_good_month(served, company)
    result = evaluate(served, company.id, MONTH)
    weights = {f.id: f.effective_weight for f in result.factors}
    assert weights["inspections"] == Decimal("14.29")  # 10 of the 70 points of weight that have data
    assert weights["complaint_timeliness"] == 0
    # contributions are rounded to the cent one by one: their sum is the score within a cent per factor
    contributions = sum(f.contribution for f in result.factors if f.contribution is not None)
    assert abs(contributions - result.score) <= Decimal("0.05")


def test_the_star_level_changes_exactly_at_a_band_boundary(company: Company, served: psycopg.Connection) -> None:
    inspect(served, company.id, "85.00")  # the only factor with data
    at_boundary = recompute(served, company.id, MONTH)
    assert (at_boundary.score, at_boundary.stars) == (Decimal("85.00"), 5)
    inspect(served, company.id, "84.98", day=date(2026, 11, 20))
    below = recompute(served, company.id, MONTH)
    assert (below.score, below.stars) == (Decimal("84.99"), 4)


def test_the_bands_come_from_the_data_file() -> None:
    model = credit_model()
    assert [model.stars(Decimal(s)) for s in ("100", "85", "84.99", "80", "79.99", "70", "60", "59.99", "0")] == \
        [5, 5, 4, 4, 3, 3, 2, 1, 1]


def test_a_month_can_be_evaluated_once_it_has_begun_in_china() -> None:
    assert parse_month("2026-12", now=datetime(2026, 11, 30, 16, 0, tzinfo=UTC)) == date(2026, 12, 1)
    with pytest.raises(InvalidMonth, match="has not begun"):
        parse_month("2026-12", now=datetime(2026, 11, 30, 15, 59, tzinfo=UTC))
    for text in ("2026", "2026-13", "2026-1-1", "late"):
        with pytest.raises(InvalidMonth, match="YYYY-MM"):
            parse_month(text)


def test_a_month_under_way_is_a_preview_and_not_published(company: Company, served: psycopg.Connection) -> None:
    # MONTH is November 2026: on 5 December its evaluation is published; December's, five days in, is not.
    a_good_month(served, company)
    recompute(served, company.id, MONTH)
    december = date(2026, 12, 1)
    recompute(served, company.id, december)
    now = datetime(2026, 12, 5, 4, tzinfo=UTC)
    assert [m.month for m in credit_history(served, company.id)] == [december, MONTH]
    assert [m.month for m in credit_history(served, company.id, ended_only=True, now=now)] == [MONTH]
    assert latest_credit(served, company.id, now=now).month == MONTH
