"""Household fund accounts and their append-only ledger.

Every movement is a ledger row with the actor and time; the account keeps a running balance updated in the
same transaction under a row lock, and ``reconcile`` proves the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

import psycopg
from psycopg.rows import class_row

from dispatch.fund.errors import InvalidAmount, NotFound, SiteNotConfigured
from dispatch.fund.estate import get_site_settings

EntryKind = Literal["deposit", "interest", "draw", "refund", "transfer"]
CENT = Decimal("0.01")


@dataclass(frozen=True)
class LedgerEntry:
    """One movement on one account. Credits are positive, debits negative."""

    id: int
    household_id: str
    kind: str
    amount: Decimal
    balance_after: Decimal
    draw_id: int | None
    memo: str
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class Account:
    """A household's account: running balance, first deposit, and when it was flagged for top-up."""

    household_id: str
    site_id: str
    balance: Decimal
    first_deposit: Decimal | None
    topup_flagged_at: datetime | None


@dataclass(frozen=True)
class AccountDifference:
    """An account whose stored balance disagrees with its ledger."""

    household_id: str
    ledger_sum: Decimal
    stored_balance: Decimal
    last_balance_after: Decimal


@dataclass(frozen=True)
class ReconcileReport:
    """Result of checking every account of a site against its ledger."""

    site_id: str
    accounts: int
    ledger_total: Decimal
    stored_total: Decimal
    differences: list[AccountDifference] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """True when no account differs and the site totals agree."""
        return not self.differences and self.ledger_total == self.stored_total


def _money(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or amount != amount.quantize(CENT):
        raise InvalidAmount(f"amount {amount!r} must be a Decimal in whole cents")
    return amount


def post(
    conn: psycopg.Connection,
    household_id: str,
    kind: EntryKind,
    amount: Decimal,
    *,
    actor: str,
    memo: str = "",
    draw_id: int | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Append one signed entry and move the running balance with it, atomically."""
    _money(amount)
    with conn.transaction():
        row = conn.execute(
            "SELECT site_id, balance, first_deposit FROM fund_accounts WHERE household_id = %s FOR UPDATE",
            (household_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"household {household_id} has no fund account")
        site_id, old_balance, first_deposit = row
        new_balance = old_balance + amount
        with conn.cursor(row_factory=class_row(LedgerEntry)) as cur:
            cur.execute(
                """INSERT INTO fund_ledger (household_id, site_id, kind, amount, balance_after, draw_id, memo,
                       actor, created_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()))
                   RETURNING id, household_id, kind, amount, balance_after, draw_id, memo, actor, created_at""",
                (household_id, site_id, kind, amount, new_balance, draw_id, memo, actor, now),
            )
            entry = cur.fetchone()
        assert entry is not None
        if kind == "deposit" and first_deposit is None:
            first_deposit = amount
        conn.execute(
            "UPDATE fund_accounts SET balance = %s, first_deposit = %s WHERE household_id = %s",
            (new_balance, first_deposit, household_id),
        )
        return entry


def deposit(
    conn: psycopg.Connection, household_id: str, amount: Decimal, *, actor: str, memo: str = "",
    now: datetime | None = None,
) -> LedgerEntry:
    """Credit a deposit (the first one fixes the top-up reference); lifts a top-up flag once covered."""
    if amount <= 0:
        raise InvalidAmount("a deposit must be positive")
    with conn.transaction():
        entry = post(conn, household_id, "deposit", amount, actor=actor, memo=memo, now=now)
        ratio = _topup_ratio(conn, get_account(conn, household_id).site_id)
        if ratio is not None:  # a site without fund settings has no threshold yet
            refresh_topup_flags(conn, [household_id], ratio=ratio, now=now)
        return entry


def credit_interest(
    conn: psycopg.Connection, household_id: str, amount: Decimal, *, actor: str, memo: str = "",
    now: datetime | None = None,
) -> LedgerEntry:
    """Credit interest earned on the account."""
    if amount <= 0:
        raise InvalidAmount("interest must be positive")
    return post(conn, household_id, "interest", amount, actor=actor, memo=memo, now=now)


def refund(
    conn: psycopg.Connection, household_id: str, amount: Decimal, *, actor: str, memo: str,
    now: datetime | None = None,
) -> LedgerEntry:
    """Pay money back to the owner (e.g. the building is destroyed, Order 165 art. 29)."""
    if amount <= 0:
        raise InvalidAmount("a refund amount must be positive")
    return post(conn, household_id, "refund", -amount, actor=actor, memo=memo, now=now)


def transfer_on_sale(
    conn: psycopg.Connection, household_id: str, new_owner_user: str | None, *, actor: str,
    now: datetime | None = None,
) -> LedgerEntry:
    """Record a sale: the balance stays with the home (Order 165 art. 28), the owner changes."""
    with conn.transaction():
        entry = post(conn, household_id, "transfer", Decimal("0.00"), actor=actor,
                     memo="balance carried over to the new owner on sale", now=now)
        conn.execute(
            "UPDATE fund_households SET owner_user = %s, developer_held = false WHERE id = %s",
            (new_owner_user, household_id),
        )
        return entry


def get_account(conn: psycopg.Connection, household_id: str) -> Account:
    """The household's account; ``NotFound`` if it has none."""
    with conn.cursor(row_factory=class_row(Account)) as cur:
        cur.execute(
            """SELECT household_id, site_id, balance, first_deposit, topup_flagged_at FROM fund_accounts
               WHERE household_id = %s""",
            (household_id,),
        )
        account = cur.fetchone()
    if account is None:
        raise NotFound(f"household {household_id} has no fund account")
    return account


def balance(conn: psycopg.Connection, household_id: str) -> Decimal:
    """The balance derived from the ledger (not the running column), so it is right by construction."""
    get_account(conn, household_id)
    row = conn.execute(
        "SELECT coalesce(sum(amount), 0.00) FROM fund_ledger WHERE household_id = %s", (household_id,)
    ).fetchone()
    return Decimal(row[0]).quantize(CENT)


def history(conn: psycopg.Connection, household_id: str) -> list[LedgerEntry]:
    """Every entry of the household's account, oldest first."""
    with conn.cursor(row_factory=class_row(LedgerEntry)) as cur:
        cur.execute(
            """SELECT id, household_id, kind, amount, balance_after, draw_id, memo, actor, created_at
               FROM fund_ledger WHERE household_id = %s ORDER BY id""",
            (household_id,),
        )
        return cur.fetchall()


def refresh_topup_flags(
    conn: psycopg.Connection, household_ids: Sequence[str], *, ratio: Decimal, now: datetime | None = None
) -> None:
    """Flag accounts whose balance is below ``ratio`` of their first deposit; lift the flag from the others.

    An account keeps the time it was first flagged until it is covered again.
    """
    conn.execute(
        """UPDATE fund_accounts SET topup_flagged_at =
               CASE WHEN first_deposit IS NOT NULL AND balance < first_deposit * %s
                    THEN coalesce(topup_flagged_at, coalesce(%s, now())) END
           WHERE household_id = ANY(%s)""",
        (ratio, now, list(household_ids)),
    )


def _topup_ratio(conn: psycopg.Connection, site_id: str) -> Decimal | None:
    try:
        return get_site_settings(conn, site_id).rules.topup_ratio
    except SiteNotConfigured:
        return None


def low_accounts(conn: psycopg.Connection, site_id: str) -> list[Account]:
    """Accounts of a site flagged for top-up, by household id."""
    with conn.cursor(row_factory=class_row(Account)) as cur:
        cur.execute(
            """SELECT household_id, site_id, balance, first_deposit, topup_flagged_at FROM fund_accounts
               WHERE site_id = %s AND topup_flagged_at IS NOT NULL ORDER BY household_id""",
            (site_id,),
        )
        return cur.fetchall()


def reconcile(conn: psycopg.Connection, site_id: str) -> ReconcileReport:
    """Compare each account's running balance with the sum of its ledger and its last ``balance_after``."""
    rows = conn.execute(
        """SELECT a.household_id, a.balance,
                  coalesce(l.total, 0.00),
                  coalesce(l.last_after, 0.00)
           FROM fund_accounts a
           LEFT JOIN LATERAL (
               SELECT sum(amount) AS total,
                      (SELECT balance_after FROM fund_ledger x WHERE x.household_id = a.household_id
                       ORDER BY x.id DESC LIMIT 1) AS last_after
               FROM fund_ledger e WHERE e.household_id = a.household_id
           ) l ON true
           WHERE a.site_id = %s ORDER BY a.household_id""",
        (site_id,),
    ).fetchall()
    differences = [
        AccountDifference(household_id, ledger_sum, stored, last_after)
        for household_id, stored, ledger_sum, last_after in rows
        if not (stored == ledger_sum == last_after)
    ]
    return ReconcileReport(
        site_id=site_id,
        accounts=len(rows),
        ledger_total=sum((r[2] for r in rows), Decimal("0.00")),
        stored_total=sum((r[1] for r in rows), Decimal("0.00")),
        differences=differences,
    )
