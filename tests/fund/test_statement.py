"""The annual statement (Order 165 art. 30): totals, projects with apportionment, each home's account."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import psycopg

from dispatch.fund import draws, ledger
from dispatch.fund.statement import annual_statement, to_csv

from .conftest import FIRST_DEPOSIT, Estate
from .helpers import repaired_and_approved

IN_2026 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
NEW_YEAR_2027_SHANGHAI = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 Jan 2027 in Shanghai


def _year_of_activity(db: psycopg.Connection, estate: Estate) -> None:
    draw = repaired_and_approved(db, estate.site_id, "1000.00", scope=("unit", "S1B1-U1"), now=IN_2026)
    draws.complete(db, draw.id, actor="crew:sun", now=IN_2026)
    ledger.credit_interest(db, "S1B1-U1-101", Decimal("30.00"), actor="bank", memo="interest", now=IN_2026)
    ledger.deposit(db, "S1B1-U1-101", Decimal("5.00"), actor="clerk:li", now=NEW_YEAR_2027_SHANGHAI)


def test_totals_cover_deposits_use_interest_and_remainder(db: psycopg.Connection, estate: Estate) -> None:
    _year_of_activity(db, estate)
    statement = annual_statement(db, estate.site_id, 2026)
    homes = len(estate.households)
    assert (statement.deposited, statement.used, statement.interest) == (
        FIRST_DEPOSIT * homes, Decimal("1000.00"), Decimal("30.00"))
    assert statement.closing == FIRST_DEPOSIT * homes - Decimal("1000.00") + Decimal("30.00")


def test_the_year_ends_at_local_midnight_not_utc(db: psycopg.Connection, estate: Estate) -> None:
    _year_of_activity(db, estate)
    assert annual_statement(db, estate.site_id, 2027).deposited == Decimal("5.00")


def test_each_project_carries_its_apportionment(db: psycopg.Connection, estate: Estate) -> None:
    _year_of_activity(db, estate)
    [project] = annual_statement(db, estate.site_id, 2026).projects
    assert sum(s.share for s in project.shares) == Decimal("1000.00")
    assert len(project.shares) == 2


def test_each_home_has_an_account_line(db: psycopg.Connection, estate: Estate) -> None:
    _year_of_activity(db, estate)
    lines = {(a.building_id, a.unit_name, a.room): a for a in annual_statement(db, estate.site_id, 2026).accounts}
    assert len(lines) == len(estate.households)
    home = lines[("S1B1", "U1", "101")]
    assert home.closing == home.opening + home.deposited + home.interest - home.used - home.refunded


def test_csv_has_summary_projects_and_accounts_and_no_owner(db: psycopg.Connection, estate: Estate) -> None:
    _year_of_activity(db, estate)
    text = to_csv(annual_statement(db, estate.site_id, 2026))
    rows = list(csv.reader(io.StringIO(text)))
    kinds = [row[0] for row in rows if row]
    assert kinds.count("project") == 1 + 2 and kinds.count("account") == 1 + len(estate.households)
    assert "owner-" not in text
