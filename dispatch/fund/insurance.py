"""Elevator safety liability insurance bought from the fund (notice clause 16; DOMAIN.md §1.8).

A purchase is a draw of purpose ``elevator_insurance`` carrying its policy: number, insurer, period, premium and
the elevators covered. Where the owners' assembly lets the committee buy it (the default), the committee approves
it within the amount the assembly authorised (clause 6), or the sub-district office organises and approves it
for an estate without a committee (clause 16), like an emergency draw. Where the site's settings say
``insurance_by_vote``, or the committee's amount does not cover the premium, the owners vote first (``use``) and
the draw is a voted one. Once paid, ``draws.complete`` apportions the premium over the scope's households cent
exact, charges the ledger and publishes the disclosure, like any other draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from dispatch.fund.draws import (
    Draw,
    Organiser,
    _check_organiser,
    _fetch,
    _now,
    _positive_money,
    _record,
    _scope_households,
    _within_committee_limit,
    open_voted_draw,
)
from dispatch.fund.errors import InvalidState, NotFound, UnknownElevator, VoteRequired
from dispatch.fund.estate import ScopeType, get_site_settings
from dispatch.fund.workdays import working_days_deadline
from ingest.registry import get_devices, site_timezone

PURPOSE = "elevator_insurance"


@dataclass(frozen=True)
class Policy:
    """The insurance policy a draw paid for."""

    draw_id: int
    site_id: str
    policy_number: str
    insurer: str
    period_start: date
    period_end: date
    premium: Decimal
    elevators: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyTerms:
    """What an application states about the policy."""

    policy_number: str
    insurer: str
    period_start: date
    period_end: date
    premium: Decimal
    elevators: tuple[str, ...]


def _check_terms(conn: psycopg.Connection, site_id: str, terms: PolicyTerms) -> None:
    _positive_money(terms.premium, "premium")
    if terms.period_end <= terms.period_start:
        raise InvalidState("the policy period must end after it starts")
    if not terms.elevators:
        raise UnknownElevator("a policy covers at least one elevator")
    found = {d.id: d for d in get_devices(conn, sorted(set(terms.elevators)))}
    wrong = sorted(e for e in set(terms.elevators)
                   if e not in found or found[e].site_id != site_id or found[e].type != "elevator")
    if wrong:
        raise UnknownElevator(f"not elevators of site {site_id}: {', '.join(wrong)}")


def apply_for_insurance(
    conn: psycopg.Connection, *, site_id: str, terms: PolicyTerms, actor: str, scope_type: ScopeType = "site",
    scope_id: str | None = None, organiser: Organiser = "property", vote_id: int | None = None,
    now: datetime | None = None,
) -> Draw:
    """Apply for a draw paying an elevator insurance premium over ``scope`` (default: the whole site).

    Without ``vote_id`` the draw goes to the site's steward for approval (the committee within its authorised
    amount, else the sub-district office); ``VoteRequired`` where the site's settings ask for a vote or the
    premium is above the committee's amount. With ``vote_id`` (an approved ``use`` vote) the draw is approved by
    that vote. Raises ``UnknownElevator`` for a device that is not an elevator of the site, ``WrongOrganiser`` when
    the sub-district office applies for an estate with a committee.
    """
    now = _now(now)
    scope_id = scope_id or site_id
    settings = get_site_settings(conn, site_id)
    _check_organiser(settings, organiser)
    _check_terms(conn, site_id, terms)
    _scope_households(conn, site_id, scope_type, scope_id)
    with conn.transaction():
        if vote_id is not None:
            draw = _voted(conn, site_id, vote_id, terms, actor, now)
        else:
            if settings.insurance_by_vote:
                raise VoteRequired(f"site {site_id}'s owners' assembly decided that each elevator insurance "
                                   "purchase needs an owners' vote (Civil Code art. 278)")
            if settings.has_committee:
                _within_committee_limit(settings, terms.premium, "premium")
            due = working_days_deadline(now, settings.rules.review_working_days, site_timezone(conn, site_id).key)
            row = conn.execute(
                """INSERT INTO fund_draws (site_id, kind, purpose, item, contractor, scope_type, scope_id, estimate,
                       state, route, organiser, rule_set, area_basis, review_due_at, deemed_approval, opened_by,
                       opened_at)
                   VALUES (%s, 'insurance', %s, %s, %s, %s, %s, %s, 'pending', %s, %s, %s, %s, %s, false, %s, %s)
                   RETURNING id""",
                (site_id, PURPOSE, _item(terms), terms.insurer, scope_type, scope_id, terms.premium,
                 settings.steward, organiser, settings.rule_set, settings.effective_basis, due, actor, now),
            ).fetchone()
            _record(conn, row[0], "opened", actor, now, role=organiser,
                    data={"kind": "insurance", "policy_number": terms.policy_number, "estimate": str(terms.premium)})
            draw = _fetch(conn, "id = %s", (row[0],))[0]
        _insert_policy(conn, draw.id, site_id, terms)
    return draw


def _item(terms: PolicyTerms) -> str:
    return (f"电梯安全责任保险 elevator safety liability insurance {terms.policy_number} "
            f"({terms.period_start.isoformat()}–{terms.period_end.isoformat()}, {len(set(terms.elevators))} elevators)")


def _voted(conn: psycopg.Connection, site_id: str, vote_id: int, terms: PolicyTerms, actor: str,
           now: datetime) -> Draw:
    row = conn.execute("SELECT site_id FROM fund_votes WHERE id = %s", (vote_id,)).fetchone()
    if row is None or row[0] != site_id:
        raise NotFound(f"vote {vote_id} is not a vote of site {site_id}")
    if _fetch(conn, "vote_id = %s", (vote_id,)):
        raise InvalidState(f"vote {vote_id} already authorised a draw")
    draw = open_voted_draw(conn, vote_id=vote_id, item=_item(terms), contractor=terms.insurer,
                           estimate=terms.premium, actor=actor, now=now)
    conn.execute("UPDATE fund_draws SET purpose = %s WHERE id = %s", (PURPOSE, draw.id))
    return _fetch(conn, "id = %s", (draw.id,))[0]


def _insert_policy(conn: psycopg.Connection, draw_id: int, site_id: str, terms: PolicyTerms) -> None:
    conn.execute(
        """INSERT INTO fund_insurance_policies (draw_id, site_id, policy_number, insurer, period_start, period_end,
               premium) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (draw_id, site_id, terms.policy_number, terms.insurer, terms.period_start, terms.period_end, terms.premium),
    )
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO fund_insurance_elevators (draw_id, device_id) VALUES (%s, %s)",
                        [(draw_id, e) for e in sorted(set(terms.elevators))])


def get_policy(conn: psycopg.Connection, draw_id: int) -> Policy | None:
    """The policy a draw pays for, ``None`` for a draw that is not an insurance purchase."""
    with conn.cursor(row_factory=class_row(Policy)) as cur:
        cur.execute(
            """SELECT p.draw_id, p.site_id, p.policy_number, p.insurer, p.period_start, p.period_end, p.premium,
                      coalesce((SELECT array_agg(device_id ORDER BY device_id) FROM fund_insurance_elevators e
                                WHERE e.draw_id = p.draw_id), '{}') AS elevators
               FROM fund_insurance_policies p WHERE p.draw_id = %s""",
            (draw_id,),
        )
        policy = cur.fetchone()
    return policy if policy is None else Policy(**{**policy.__dict__, "elevators": tuple(policy.elevators)})


def site_policies(conn: psycopg.Connection, site_id: str) -> list[tuple[Policy, Draw]]:
    """Every insurance purchase of a site with its draw, newest first."""
    ids = [r[0] for r in conn.execute(
        "SELECT draw_id FROM fund_insurance_policies WHERE site_id = %s ORDER BY period_start DESC, draw_id DESC",
        (site_id,))]
    draws = {d.id: d for d in _fetch(conn, "id = ANY(%s)", (ids,))}
    return [(get_policy(conn, i), draws[i]) for i in ids]  # type: ignore[misc]

