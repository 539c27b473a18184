"""Owners' votes on using or raising the fund and other joint matters (Civil Code art. 278), counted exactly.

The thresholds are data (``data/vote_rules.yaml``, read by ``vote_rules``): today owners holding at least 2/3 of
the exclusive area AND at least 2/3 of the headcount must take part; using the fund needs more than 1/2 of the
participating area AND headcount, raising it at least 3/4 of both. A vote keeps the rule it was opened under.
One household is one head with its exclusive area; its latest ballot before the close counts, and every ballot
ever cast is kept as evidence. Arithmetic is in ``Fraction`` so boundaries are exact. Closing a vote publishes its
result (``published_results``): to the estate's owners and on the public board.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from dispatch.fund.errors import EmptyScope, InvalidAmount, InvalidState, NotFound, NotInElectorate, UnknownMatter
from dispatch.fund.estate import Scope, ScopeType, list_households
from dispatch.fund.vote_rules import MatterRule, load_vote_rules

Matter = str  # an id of data/vote_rules.yaml: use, raise, rebuild, change_use, other
Choice = Literal["yes", "no", "abstain"]
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Vote:
    """A vote of the owners in one scope on one matter."""

    id: int
    site_id: str
    scope_type: str
    scope_id: str
    matter: str
    title: str
    opened_by: str
    opened_at: datetime
    closes_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    amount: Decimal | None = None
    description: str = ""
    rules: dict | None = None

    @property
    def rule(self) -> MatterRule:
        """The rule the vote was opened under (today's rule for a vote opened before rules were stored)."""
        return MatterRule.from_json(self.rules) if self.rules else rule_for(self.matter)


@dataclass(frozen=True)
class Ballot:
    """One ballot as cast; a later ballot from the same household replaces it in the count."""

    id: int
    vote_id: int
    household_id: str
    choice: str
    actor: str
    cast_at: datetime


@dataclass(frozen=True)
class VoteOutcome:
    """The count of a closed vote, with the exact ratios it was decided on."""

    vote_id: int
    matter: str
    total_area: Decimal
    total_heads: int
    participating_area: Decimal
    participating_heads: int
    yes_area: Decimal
    yes_heads: int
    quorum_met: bool
    approved: bool

    @property
    def area_turnout(self) -> Fraction:
        """Participating share of all exclusive area."""
        return Fraction(self.participating_area) / Fraction(self.total_area)

    @property
    def head_turnout(self) -> Fraction:
        """Participating share of all owners."""
        return Fraction(self.participating_heads, self.total_heads)

    @property
    def yes_area_share(self) -> Fraction:
        """Yes share of the participating area (0 when nobody took part)."""
        return Fraction(self.yes_area) / Fraction(self.participating_area) if self.participating_area else Fraction(0)

    @property
    def yes_head_share(self) -> Fraction:
        """Yes share of the participating owners (0 when nobody took part)."""
        return Fraction(self.yes_heads, self.participating_heads) if self.participating_heads else Fraction(0)


def rule_for(matter: str) -> MatterRule:
    """Today's rule for a matter; ``UnknownMatter`` if the data file has none."""
    rules = load_vote_rules()
    if matter not in rules:
        raise UnknownMatter(f"unknown vote matter {matter!r}; known: {', '.join(sorted(rules))}")
    return rules[matter]


def decide(*, matter: Matter, total_area: Decimal, total_heads: int, participating_area: Decimal,
           participating_heads: int, yes_area: Decimal, yes_heads: int, vote_id: int = 0,
           rule: MatterRule | None = None) -> VoteOutcome:
    """Apply art. 278's quorum and thresholds (``rule``, default today's rule of ``matter``) to the counts (pure)."""
    rule = rule or rule_for(matter)
    outcome = VoteOutcome(vote_id, matter, total_area, total_heads, participating_area, participating_heads,
                          yes_area, yes_heads, quorum_met=False, approved=False)
    quorum = rule.quorum.met(outcome.area_turnout, outcome.head_turnout)
    passed = rule.approval.met(outcome.yes_area_share, outcome.yes_head_share)
    return VoteOutcome(vote_id, matter, total_area, total_heads, participating_area, participating_heads,
                       yes_area, yes_heads, quorum_met=quorum, approved=quorum and passed)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


VOTE_COLUMNS = ("id, site_id, scope_type, scope_id, matter, title, opened_by, opened_at, closes_at, closed_by, "
                "closed_at, amount, description, rules")
SELECT_VOTE = sql.SQL("SELECT {columns} FROM fund_votes WHERE id = %s {lock}")
LOCKS = {None: sql.SQL(""), "share": sql.SQL("FOR SHARE"), "update": sql.SQL("FOR UPDATE")}


def get_vote(conn: psycopg.Connection, vote_id: int, *, lock: Literal["share", "update"] | None = None) -> Vote:
    """One vote, optionally row-locked; ``NotFound`` if there is none."""
    with conn.cursor(row_factory=class_row(Vote)) as cur:
        cur.execute(SELECT_VOTE.format(columns=sql.SQL(VOTE_COLUMNS), lock=LOCKS[lock]), (vote_id,))
        vote = cur.fetchone()
    if vote is None:
        raise NotFound(f"vote {vote_id} not found")
    return vote


def open_vote(
    conn: psycopg.Connection, *, site_id: str, scope_type: ScopeType, scope_id: str, matter: Matter, title: str,
    closes_at: datetime, actor: str, now: datetime | None = None, amount: Decimal | None = None,
    description: str = "",
) -> Vote:
    """Open a vote on ``matter`` (a ``data/vote_rules.yaml`` id), optionally about an amount; the owners of the
    scope at this moment, with their exclusive areas, form the electorate, and today's rule is kept with it."""
    now = _now(now)
    rule = rule_for(matter)
    if amount is not None and (amount <= 0 or amount != amount.quantize(CENT)):
        raise InvalidAmount(f"a vote's amount must be a positive Decimal in whole cents, got {amount!r}")
    if closes_at <= now:
        raise InvalidState("a vote must close after it opens")
    households = list_households(conn, site_id, Scope(scope_type, scope_id))
    if not households:
        raise EmptyScope(f"no households in {scope_type} {scope_id} of site {site_id}")
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO fund_votes (site_id, scope_type, scope_id, matter, title, opened_by, opened_at, closes_at,
                   amount, description, rules)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (site_id, scope_type, scope_id, matter, title, actor, now, closes_at, amount, description,
             Jsonb(rule.to_json())),
        ).fetchone()
        assert row is not None
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO fund_vote_electorate (vote_id, household_id, exclusive_area) VALUES (%s, %s, %s)",
                [(row[0], h.id, h.exclusive_area) for h in households],
            )
    return get_vote(conn, row[0])


def cast_ballot(
    conn: psycopg.Connection, vote_id: int, household_id: str, choice: Choice, *, actor: str,
    now: datetime | None = None,
) -> Ballot:
    """Cast or change a household's ballot; refused once the vote is closed or past its closing time."""
    now = _now(now)
    with conn.transaction():
        vote = get_vote(conn, vote_id, lock="share")  # a close waits for ballots in flight, and vice versa
        if vote.closed_at is not None or now >= vote.closes_at:
            raise InvalidState(f"vote {vote_id} is closed")
        eligible = conn.execute(
            "SELECT 1 FROM fund_vote_electorate WHERE vote_id = %s AND household_id = %s", (vote_id, household_id)
        ).fetchone()
        if eligible is None:
            raise NotInElectorate(f"household {household_id} is not in the electorate of vote {vote_id}")
        with conn.cursor(row_factory=class_row(Ballot)) as cur:
            cur.execute(
                """INSERT INTO fund_ballots (vote_id, household_id, choice, actor, cast_at)
                   VALUES (%s, %s, %s, %s, %s) RETURNING id, vote_id, household_id, choice, actor, cast_at""",
                (vote_id, household_id, choice, actor, now),
            )
            ballot = cur.fetchone()
    assert ballot is not None
    return ballot


def ballot_history(conn: psycopg.Connection, vote_id: int) -> list[Ballot]:
    """Every ballot cast in a vote, in order: the evidence behind the outcome."""
    with conn.cursor(row_factory=class_row(Ballot)) as cur:
        cur.execute(
            "SELECT id, vote_id, household_id, choice, actor, cast_at FROM fund_ballots WHERE vote_id = %s "
            "ORDER BY id",
            (vote_id,),
        )
        return cur.fetchall()


def _count(conn: psycopg.Connection, vote: Vote) -> VoteOutcome:
    total_area, total_heads, part_area, part_heads, yes_area, yes_heads = conn.execute(
        """WITH latest AS (
               SELECT DISTINCT ON (household_id) household_id, choice FROM fund_ballots
               WHERE vote_id = %(vote)s ORDER BY household_id, id DESC)
           SELECT sum(e.exclusive_area), count(*),
                  coalesce(sum(e.exclusive_area) FILTER (WHERE l.choice IS NOT NULL), 0),
                  count(l.choice),
                  coalesce(sum(e.exclusive_area) FILTER (WHERE l.choice = 'yes'), 0),
                  count(*) FILTER (WHERE l.choice = 'yes')
           FROM fund_vote_electorate e LEFT JOIN latest l USING (household_id)
           WHERE e.vote_id = %(vote)s""",
        {"vote": vote.id},
    ).fetchone()
    return decide(matter=vote.matter, total_area=total_area, total_heads=total_heads,  # type: ignore[arg-type]
                  participating_area=part_area, participating_heads=part_heads, yes_area=yes_area,
                  yes_heads=yes_heads, vote_id=vote.id, rule=vote.rule)


def close_vote(conn: psycopg.Connection, vote_id: int, *, actor: str, now: datetime | None = None) -> VoteOutcome:
    """Close the vote, count the latest ballot of each household and store and publish the outcome; closing again
    returns it."""
    now = _now(now)
    with conn.transaction():
        vote = get_vote(conn, vote_id, lock="update")
        if vote.closed_at is not None:
            return result(conn, vote_id)
        outcome = _count(conn, vote)
        conn.execute("UPDATE fund_votes SET closed_by = %s, closed_at = %s WHERE id = %s", (actor, now, vote_id))
        conn.execute(
            """INSERT INTO fund_vote_results (vote_id, total_area, total_heads, participating_area,
                   participating_heads, yes_area, yes_heads, quorum_met, approved, published_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (vote_id, outcome.total_area, outcome.total_heads, outcome.participating_area,
             outcome.participating_heads, outcome.yes_area, outcome.yes_heads, outcome.quorum_met, outcome.approved,
             now),
        )
    return outcome


def result(conn: psycopg.Connection, vote_id: int) -> VoteOutcome:
    """The stored outcome of a closed vote; ``InvalidState`` while it is open."""
    row = conn.execute(
        """SELECT v.matter, r.total_area, r.total_heads, r.participating_area, r.participating_heads, r.yes_area,
                  r.yes_heads, r.quorum_met, r.approved
           FROM fund_votes v JOIN fund_vote_results r ON r.vote_id = v.id WHERE v.id = %s""",
        (vote_id,),
    ).fetchone()
    if row is None:
        raise InvalidState(f"vote {vote_id} has no result (not closed, or unknown)")
    return VoteOutcome(vote_id, *row)


def list_votes(conn: psycopg.Connection, site_id: str, *, household_id: str | None = None) -> list[Vote]:
    """The votes of a site, newest first; with ``household_id``, only those the household may vote in."""
    query = sql.SQL("SELECT {columns} FROM fund_votes v WHERE site_id = %(site)s"
                    " AND (%(household)s::text IS NULL OR EXISTS (SELECT 1 FROM fund_vote_electorate e"
                    " WHERE e.vote_id = v.id AND e.household_id = %(household)s))"
                    " ORDER BY opened_at DESC, id DESC").format(columns=sql.SQL(VOTE_COLUMNS))
    with conn.cursor(row_factory=class_row(Vote)) as cur:
        cur.execute(query, {"site": site_id, "household": household_id})
        return cur.fetchall()


def current_choice(conn: psycopg.Connection, vote_id: int, household_id: str) -> str | None:
    """The household's latest ballot in the vote, ``None`` if it has not voted."""
    row = conn.execute(
        "SELECT choice FROM fund_ballots WHERE vote_id = %s AND household_id = %s ORDER BY id DESC LIMIT 1",
        (vote_id, household_id),
    ).fetchone()
    return row[0] if row else None


def in_electorate(conn: psycopg.Connection, vote_id: int, household_id: str) -> bool:
    """Whether the household was in the vote's scope when it opened."""
    return conn.execute("SELECT 1 FROM fund_vote_electorate WHERE vote_id = %s AND household_id = %s",
                        (vote_id, household_id)).fetchone() is not None


@dataclass(frozen=True)
class PublishedResult:
    """A closed vote's result as published to the estate's owners and on the public board: counts, the exact
    shares as fractions, and the rule with its source. No household or owner is named."""

    vote: Vote
    outcome: VoteOutcome
    published_at: datetime

    def to_json(self) -> dict:
        """JSON-ready: money and areas as strings, shares as exact fractions (``"2/3"``)."""
        o, v = self.outcome, self.vote
        return {
            "vote_id": v.id, "site_id": v.site_id, "scope_type": v.scope_type, "scope_id": v.scope_id,
            "matter": v.matter, "title": v.title, "description": v.description,
            "amount": None if v.amount is None else str(v.amount),
            "opened_at": v.opened_at.isoformat(), "closed_at": v.closed_at.isoformat() if v.closed_at else None,
            "published_at": self.published_at.isoformat(),
            "total_area": str(o.total_area), "total_heads": o.total_heads,
            "participating_area": str(o.participating_area), "participating_heads": o.participating_heads,
            "yes_area": str(o.yes_area), "yes_heads": o.yes_heads,
            "area_turnout": str(o.area_turnout), "head_turnout": str(o.head_turnout),
            "yes_area_share": str(o.yes_area_share), "yes_head_share": str(o.yes_head_share),
            "quorum_met": o.quorum_met, "approved": o.approved, "rule": v.rule.to_json(),
        }


def published_results(conn: psycopg.Connection, site_id: str) -> list[PublishedResult]:
    """Every published vote result of a site, newest first. Safe to show without a login (the public board)."""
    rows = conn.execute(
        "SELECT r.vote_id, r.published_at FROM fund_vote_results r JOIN fund_votes v ON v.id = r.vote_id "
        "WHERE v.site_id = %s AND r.published_at IS NOT NULL ORDER BY r.published_at DESC, r.vote_id DESC",
        (site_id,),
    ).fetchall()
    return [PublishedResult(get_vote(conn, vote_id), result(conn, vote_id), published_at)
            for vote_id, published_at in rows]
