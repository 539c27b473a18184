"""Income from the owners' shared parts and the expenses charged against it (notice clause 8; Civil Code art. 282).

Each record names its site, direction (income or expense), category (``data/shared_parts.yaml``), date in the
estate's calendar, exact amount, counterparty (an organisation, never a person), basis (the contract or decision
it rests on) and who recorded it. Records are evidence: append-only (no correction workflow yet).
``shared_parts_summary`` gives the year by category and by month for the annual disclosure and the public board.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Literal

import psycopg
import yaml
from psycopg import sql
from psycopg.rows import class_row

from dispatch.fund.errors import InvalidAmount, NotAnOrganisation, UnknownCategory, UnknownPlace
from ingest.registry import get_site

Direction = Literal["income", "expense"]
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Category:
    """A kind of shared-part income or expense."""

    id: str
    direction: str
    zh: str
    en: str


@dataclass(frozen=True)
class SharedPartRules:
    """The categories of each direction and the name forms an organisation's name ends with."""

    categories: dict[str, Category]
    organisation_suffixes: tuple[str, ...]
    source: str

    def category(self, direction: str, category_id: str) -> Category:
        """The category, checked against the direction; ``UnknownCategory`` otherwise."""
        found = self.categories.get(category_id)
        if found is None or found.direction != direction:
            known = sorted(c.id for c in self.categories.values() if c.direction == direction)
            raise UnknownCategory(f"{category_id!r} is not a shared-part {direction} category; known: "
                                  f"{', '.join(known)}")
        return found

    def is_organisation(self, name: str) -> bool:
        """Whether ``name`` has the form of a registered organisation's name."""
        return any(name.strip().endswith(suffix.strip()) for suffix in self.organisation_suffixes)


def parse_shared_part_rules(text: str) -> SharedPartRules:
    """Parse the YAML text of ``data/shared_parts.yaml``."""
    doc = yaml.safe_load(text)
    categories = {raw["id"]: Category(raw["id"], direction, raw["zh"], raw["en"])
                  for direction in ("income", "expense") for raw in doc[direction]}
    return SharedPartRules(categories, tuple(doc["organisation_suffixes"]["values"]), doc["source"])


@cache
def load_shared_part_rules() -> SharedPartRules:
    """The shipped categories (read once)."""
    text = (resources.files("dispatch.fund") / "data" / "shared_parts.yaml").read_text(encoding="utf-8")
    return parse_shared_part_rules(text)


@dataclass(frozen=True)
class SharedPartEntry:
    """One income or expense record."""

    id: int
    site_id: str
    direction: str
    category: str
    amount: Decimal
    occurred_on: date
    counterparty: str
    basis: str
    recorded_by: str
    recorded_at: datetime


ENTRY_COLUMNS = ("id, site_id, direction, category, amount, occurred_on, counterparty, basis, recorded_by, "
                 "recorded_at")
WHERE_YEAR = "site_id = %(site)s AND (%(year)s::int IS NULL OR extract(year FROM occurred_on) = %(year)s)"


def _sql(text: str) -> sql.Composed:
    return sql.SQL(text).format(columns=sql.SQL(ENTRY_COLUMNS), where=sql.SQL(WHERE_YEAR))


def record_entry(
    conn: psycopg.Connection, *, site_id: str, direction: Direction, category: str, amount: Decimal,
    occurred_on: date, counterparty: str, basis: str, actor: str, now: datetime | None = None,
) -> SharedPartEntry:
    """Record one income or expense of a site's shared parts.

    Raises ``UnknownCategory`` for a category not listed for the direction, ``InvalidAmount`` unless the amount is
    positive in whole cents, ``NotAnOrganisation`` when the counterparty's name is not an organisation's,
    ``UnknownPlace`` for an unknown site.
    """
    rules = load_shared_part_rules()
    rules.category(direction, category)
    if not isinstance(amount, Decimal) or amount <= 0 or amount != amount.quantize(CENT):
        raise InvalidAmount(f"amount must be a positive Decimal in whole cents, got {amount!r}")
    if not rules.is_organisation(counterparty):
        raise NotAnOrganisation(
            f"counterparty {counterparty!r} is not an organisation's registered name (it must end with a form such "
            "as 公司 or 中心): shared-part records name companies, not people")
    if get_site(conn, site_id) is None:
        raise UnknownPlace(f"site {site_id} does not exist")
    with conn.cursor(row_factory=class_row(SharedPartEntry)) as cur:
        cur.execute(
            _sql("""INSERT INTO fund_shared_part_entries (site_id, direction, category, amount, occurred_on,
                        counterparty, basis, recorded_by, recorded_at)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {columns}"""),
            (site_id, direction, category, amount, occurred_on, counterparty.strip(), basis, actor,
             now or datetime.now(UTC)),
        )
        entry = cur.fetchone()
    assert entry is not None
    return entry


def page_entries(conn: psycopg.Connection, site_id: str, *, year: int | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[list[SharedPartEntry], int]:
    """One page of a site's records (of one year, by date), newest first, and how many match in all."""
    params = {"site": site_id, "year": year, "limit": limit, "offset": offset}
    total = conn.execute(_sql("SELECT count(*) FROM fund_shared_part_entries WHERE {where}"), params).fetchone()[0]
    with conn.cursor(row_factory=class_row(SharedPartEntry)) as cur:
        cur.execute(_sql("SELECT {columns} FROM fund_shared_part_entries WHERE {where}"
                         " ORDER BY occurred_on DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"), params)
        return cur.fetchall(), total


@dataclass(frozen=True)
class CategoryTotal:
    """The year's total of one category."""

    direction: str
    category: str
    zh: str
    en: str
    amount: Decimal


@dataclass(frozen=True)
class MonthTotal:
    """One calendar month of the year: income, expenses and their difference."""

    month: str  # YYYY-MM
    income: Decimal
    expenses: Decimal
    balance: Decimal


@dataclass(frozen=True)
class SharedPartsSummary:
    """A site's shared-part income and expenses for a calendar year: totals, by category, by month."""

    site_id: str
    year: int
    income: Decimal
    expenses: Decimal
    balance: Decimal
    by_category: tuple[CategoryTotal, ...]
    by_month: tuple[MonthTotal, ...]
    source: str

    def to_json(self) -> dict:
        """JSON-ready, amounts as strings."""
        return {
            "site_id": self.site_id, "year": self.year, "income": str(self.income), "expenses": str(self.expenses),
            "balance": str(self.balance), "source": self.source,
            "by_category": [{"direction": c.direction, "category": c.category, "zh": c.zh, "en": c.en,
                             "amount": str(c.amount)} for c in self.by_category],
            "by_month": [{"month": m.month, "income": str(m.income), "expenses": str(m.expenses),
                          "balance": str(m.balance)} for m in self.by_month],
        }


def shared_parts_summary(conn: psycopg.Connection, site_id: str, year: int) -> SharedPartsSummary:
    """The year's income, expenses and balance of a site's shared parts, by category and by month (all twelve
    months, empty ones at zero). Names no person; safe for the public board."""
    rules = load_shared_part_rules()
    rows: Sequence[tuple[str, str, int, Decimal]] = conn.execute(
        """SELECT direction, category, extract(month FROM occurred_on)::int, sum(amount)
           FROM fund_shared_part_entries WHERE site_id = %s AND extract(year FROM occurred_on) = %s
           GROUP BY 1, 2, 3""",
        (site_id, year),
    ).fetchall()
    by_category: dict[tuple[str, str], Decimal] = {}
    months = {m: {"income": ZERO, "expense": ZERO} for m in range(1, 13)}
    for direction, category, month, amount in rows:
        by_category[(direction, category)] = by_category.get((direction, category), ZERO) + amount
        months[month][direction] += amount
    income = sum((m["income"] for m in months.values()), ZERO)
    expenses = sum((m["expense"] for m in months.values()), ZERO)
    categories = tuple(
        CategoryTotal(direction, category, *_names(rules, category), amount)
        for (direction, category), amount in sorted(by_category.items(), key=lambda kv: (kv[0][0] != "income",
                                                                                          -kv[1], kv[0][1]))
    )
    return SharedPartsSummary(
        site_id=site_id, year=year, income=income, expenses=expenses, balance=income - expenses,
        by_category=categories,
        by_month=tuple(MonthTotal(f"{year}-{m:02d}", v["income"], v["expense"], v["income"] - v["expense"])
                       for m, v in months.items()),
        source=rules.source,
    )


def _names(rules: SharedPartRules, category: str) -> tuple[str, str]:
    found = rules.categories.get(category)
    return (found.zh, found.en) if found else (category, category)
