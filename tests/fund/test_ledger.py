"""Accounts and the append-only ledger: balances derive from entries, the database refuses edits."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from dispatch.fund import ledger
from dispatch.fund.errors import FundError
from dispatch.fund.estate import households_of_owner

from .conftest import FIRST_DEPOSIT, Estate

pytestmark = pytest.mark.usefixtures("estate")
HOME = "S1B1-U1-101"


def test_balance_is_the_sum_of_the_entries(db: psycopg.Connection) -> None:
    ledger.credit_interest(db, HOME, Decimal("12.34"), actor="bank:icbc", memo="2026 interest")
    assert ledger.balance(db, HOME) == FIRST_DEPOSIT + Decimal("12.34")


def test_history_lists_entries_oldest_first_with_actor_and_time(db: psycopg.Connection) -> None:
    ledger.deposit(db, HOME, Decimal("500.00"), actor="clerk:wang", memo="top-up")
    entries = ledger.history(db, HOME)
    assert [(e.kind, e.amount, e.actor) for e in entries] == [
        ("deposit", FIRST_DEPOSIT, "clerk:li"), ("deposit", Decimal("500.00"), "clerk:wang")]
    assert entries[-1].balance_after == FIRST_DEPOSIT + Decimal("500.00")
    assert all(e.created_at.utcoffset().total_seconds() == 0 for e in entries)


def test_first_deposit_is_remembered_as_the_top_up_reference(db: psycopg.Connection) -> None:
    ledger.deposit(db, HOME, Decimal("1.00"), actor="clerk:wang")
    assert ledger.get_account(db, HOME).first_deposit == FIRST_DEPOSIT


def test_ledger_rows_cannot_be_updated(db: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.execute("UPDATE fund_ledger SET amount = 1 WHERE household_id = %s", (HOME,))


def test_ledger_rows_cannot_be_deleted(db: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.execute("DELETE FROM fund_ledger WHERE household_id = %s", (HOME,))


def test_ledger_cannot_be_truncated(db: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.execute("TRUNCATE fund_ledger CASCADE")


def test_amounts_must_be_whole_cents(db: psycopg.Connection) -> None:
    with pytest.raises(FundError, match="whole cents"):
        ledger.deposit(db, HOME, Decimal("1.005"), actor="clerk:wang")


def test_a_sale_keeps_the_balance_with_the_home_and_changes_the_owner(db: psycopg.Connection) -> None:
    ledger.transfer_on_sale(db, HOME, "owner-new", actor="clerk:wang")
    assert ledger.balance(db, HOME) == FIRST_DEPOSIT
    assert ledger.history(db, HOME)[-1].kind == "transfer"
    assert db.execute("SELECT owner_user FROM fund_households WHERE id = %s", (HOME,)).fetchone()[0] == "owner-new"


def test_a_refund_pays_out_of_the_account(db: psycopg.Connection) -> None:
    ledger.refund(db, HOME, FIRST_DEPOSIT, actor="clerk:wang", memo="building demolished")
    assert ledger.balance(db, HOME) == Decimal("0.00")


def test_reconcile_finds_a_fresh_estate_balanced(db: psycopg.Connection, estate: Estate) -> None:
    report = ledger.reconcile(db, estate.site_id)
    assert report.balanced
    assert report.accounts == len(estate.households)
    assert report.ledger_total == FIRST_DEPOSIT * len(estate.households)


def test_reconcile_reports_an_account_whose_stored_balance_was_tampered_with(
    db: psycopg.Connection, estate: Estate
) -> None:
    db.execute("UPDATE fund_accounts SET balance = balance + 1 WHERE household_id = %s", (HOME,))
    report = ledger.reconcile(db, estate.site_id)
    assert not report.balanced
    assert [(d.household_id, d.ledger_sum, d.stored_balance) for d in report.differences] == [
        (HOME, FIRST_DEPOSIT, FIRST_DEPOSIT + 1)]


def test_an_owner_finds_their_own_homes_and_balances(db: psycopg.Connection) -> None:
    [home] = households_of_owner(db, f"owner-{HOME}")
    assert (home.id, ledger.balance(db, home.id)) == (HOME, FIRST_DEPOSIT)
