"""Fund draws: emergency and committee-authorised draws opened from work orders, voted draws, elevator insurance
draws (``insurance``), their review, completion and charging.

Lifecycle: ``pending`` (awaiting review) → ``approved`` | ``rejected``; ``approved`` → ``completed`` (actual
cost apportioned, ledger charged, disclosure published). Voted draws start ``approved``: the owners' vote
was the approval. Every step is recorded in ``fund_draw_events`` with the actor and time.

A work order's draw follows its repair: it opens once the repair has been assessed on site, takes the order's
fund category, and completes only when the repair is verified, at the cost the order records.

A work order draws at most once: a unique index on ``work_order_id`` settles races between openers, the draw
row lock serialises approvals and completion, and a unique index on (draw, household) in the ledger refuses
a second charge whatever happens above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from dispatch.fund import disclosure
from dispatch.fund.apportion import apportion
from dispatch.fund.errors import (
    CategoryMismatch,
    CostMismatch,
    EmptyScope,
    InvalidAmount,
    InvalidState,
    NotEmergency,
    NotFound,
    UnknownWorkOrder,
    VoteRequired,
    WrongApprover,
    WrongOrderState,
    WrongOrganiser,
)
from dispatch.fund.estate import Household, Scope, ScopeType, SiteSettings, get_site_settings, list_households
from dispatch.fund.ledger import post, refresh_topup_flags
from dispatch.fund.regions import load_regions
from dispatch.fund.workdays import working_days_deadline
from dispatch.workorders import WorkOrder, events, get_work_order, journal
from ingest.registry import site_timezone

DrawState = Literal["pending", "approved", "rejected", "completed"]
ApproverRole = Literal["committee", "subdistrict"]
Organiser = Literal["property", "subdistrict"]
# A draw is asked for once someone has assessed the repair on site and before the order is closed; NEW to EN_ROUTE
# have no assessment (nor, often, a confirmed fault), CANCELLED and FALSE_ALARM no repair.
DRAWABLE_ORDER_STATES = frozenset({"ON_SITE", "IN_PROGRESS", "ON_HOLD", "RESOLVED", "VERIFIED"})
# Who hears that a review ran past its deadline: the sub-district office supervises the committee (notice
# clauses 6-8), the housing authority (the fund's regulator) every reviewer. Unit ids for notification routing.
REVIEW_OVERDUE_RECIPIENTS: dict[str, tuple[str, ...]] = {
    "committee": ("subdistrict", "housing-authority"),
    "subdistrict": ("housing-authority",),
}
DEEMED_ACTOR = "system:deemed-approval"
ESCALATION_ACTOR = "system:review-deadline"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Draw:
    """A request to pay a repair from the owners' fund, and what became of it."""

    id: int
    site_id: str
    kind: str
    work_order_id: int | None
    work_order_number: str | None
    vote_id: int | None
    item: str
    fund_category: str | None
    contractor: str
    scope_type: str
    scope_id: str
    estimate: Decimal
    actual_cost: Decimal | None
    variance_flagged: bool | None
    state: str
    route: str
    organiser: str
    rule_set: str
    area_basis: str
    review_due_at: datetime | None
    deemed_approval: bool
    escalated_at: datetime | None
    opened_by: str
    opened_at: datetime
    decided_by: str | None
    decided_role: str | None
    decided_at: datetime | None
    decision_comment: str | None
    completed_by: str | None
    completed_at: datetime | None
    purpose: str = "repair"  # or elevator_insurance (notice clause 16)


@dataclass(frozen=True)
class DrawEvent:
    """One recorded step of a draw: ``comment`` is what a person wrote, ``data`` the facts the system records
    (the kind and estimate of an application, the missed review deadline, the actual cost), for pages to word in
    the reader's language (the keys per step: dispatch/fund/migrations/0004_draw_event_facts.sql)."""

    id: int
    draw_id: int
    event: str
    actor: str
    role: str | None
    comment: str | None
    at: datetime
    data: dict[str, Any]


DRAW_COLUMNS = """id, site_id, kind, work_order_id, work_order_number, vote_id, item, fund_category, contractor,
    scope_type, scope_id, estimate, actual_cost, variance_flagged, state, route, organiser, rule_set, area_basis,
    review_due_at, deemed_approval, escalated_at, opened_by, opened_at, decided_by, decided_role, decided_at,
    decision_comment, completed_by, completed_at, purpose"""


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def _positive_money(amount: Decimal, what: str) -> Decimal:
    if not isinstance(amount, Decimal) or amount <= 0 or amount != amount.quantize(CENT):
        raise InvalidAmount(f"{what} must be a positive Decimal in whole cents, got {amount!r}")
    return amount


def _record(conn: psycopg.Connection, draw_id: int, event: str, actor: str, at: datetime, *,
            role: str | None = None, comment: str | None = None, data: dict[str, Any] | None = None) -> None:
    conn.execute(
        """INSERT INTO fund_draw_events (draw_id, event, actor, role, comment, at, data)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (draw_id, event, actor, role, comment, at, Jsonb(data or {})),
    )


def _fetch(conn: psycopg.Connection, where: str, params: Sequence[object], *, lock: bool = False) -> list[Draw]:
    query = sql.SQL("SELECT {columns} FROM fund_draws WHERE {where} ORDER BY id {lock}").format(
        columns=sql.SQL(DRAW_COLUMNS), where=sql.SQL(where), lock=sql.SQL("FOR UPDATE" if lock else "")
    )
    with conn.cursor(row_factory=class_row(Draw)) as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        return cur.fetchall()


def get_draw(conn: psycopg.Connection, draw_id: int) -> Draw | None:
    """One draw by id, or ``None``."""
    found = _fetch(conn, "id = %s", (draw_id,))
    return found[0] if found else None


def _locked(conn: psycopg.Connection, draw_id: int) -> Draw:
    found = _fetch(conn, "id = %s", (draw_id,), lock=True)
    if not found:
        raise NotFound(f"draw {draw_id} not found")
    return found[0]


def list_draws(
    conn: psycopg.Connection, *, site_id: str | None = None, states: Sequence[DrawState] | None = None
) -> list[Draw]:
    """Draws, optionally of one site and in some states, oldest first."""
    return _fetch(
        conn,
        "(%(site)s::text IS NULL OR site_id = %(site)s) AND (%(states)s::text[] IS NULL OR state = ANY(%(states)s))",
        {"site": site_id, "states": list(states) if states is not None else None},  # type: ignore[arg-type]
    )


def page_draws(
    conn: psycopg.Connection,
    *,
    sites: Sequence[str] | None,
    states: Sequence[DrawState] | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Draw], int]:
    """One page of the draws of some sites (``None``: every site) in some states, newest first, and how many
    match in all. An empty ``sites`` matches nothing."""
    where = sql.SQL("(%(sites)s::text[] IS NULL OR site_id = ANY(%(sites)s))"
                    " AND (%(states)s::text[] IS NULL OR state = ANY(%(states)s))")
    params = {"sites": None if sites is None else list(sites), "states": list(states) if states else None,
              "limit": limit, "offset": offset}
    total = conn.execute(sql.SQL("SELECT count(*) FROM fund_draws WHERE {}").format(where), params).fetchone()[0]
    query = sql.SQL("SELECT {columns} FROM fund_draws WHERE {where} ORDER BY opened_at DESC, id DESC"
                    " LIMIT %(limit)s OFFSET %(offset)s").format(columns=sql.SQL(DRAW_COLUMNS), where=where)
    with conn.cursor(row_factory=class_row(Draw)) as cur:
        return cur.execute(query, params).fetchall(), total


def draw_events(conn: psycopg.Connection, draw_id: int) -> list[DrawEvent]:
    """The audit trail of a draw, in order."""
    with conn.cursor(row_factory=class_row(DrawEvent)) as cur:
        cur.execute(
            "SELECT id, draw_id, event, actor, role, comment, at, data FROM fund_draw_events WHERE draw_id = %s "
            "ORDER BY id",
            (draw_id,),
        )
        return cur.fetchall()


def _scope_households(conn: psycopg.Connection, site_id: str, scope_type: str, scope_id: str) -> list[Household]:
    households = list_households(conn, site_id, Scope(scope_type, scope_id))  # type: ignore[arg-type]
    if not households:
        raise EmptyScope(f"no households in {scope_type} {scope_id} of site {site_id}")
    return households


def open_emergency_draw(
    conn: psycopg.Connection,
    *,
    site_id: str,
    work_order_id: int,
    item: str,
    contractor: str,
    scope_type: ScopeType,
    scope_id: str,
    estimate: Decimal,
    actor: str,
    fund_category: str | None = None,
    organiser: Organiser = "property",
    now: datetime | None = None,
) -> Draw:
    """Open an emergency draw for a work order whose category is on the site's emergency list, or return the one
    it has.

    The fund category is the work order's; ``fund_category``, when given, must be the same (``CategoryMismatch``).
    The review goes to the owners' committee where the site has one, else to the sub-district office, due after
    the region's working-day limit (counted in the site's time zone). Raises ``UnknownWorkOrder`` when the work
    order does not exist or is another site's, ``WrongOrderState`` unless its repair has been assessed on site
    (``DRAWABLE_ORDER_STATES``), ``NotEmergency`` when its category is not on the list, ``WrongOrganiser`` when
    the sub-district organises the draw of an estate that has a committee.
    """
    now = _now(now)
    settings = get_site_settings(conn, site_id)
    _check_organiser(settings, organiser)
    existing = _fetch(conn, "work_order_id = %s", (work_order_id,))
    if existing:
        return existing[0]
    order = _drawable_order(conn, site_id, work_order_id, fund_category)
    rules = settings.rules
    if not rules.is_emergency(order.fund_category):
        raise NotEmergency(
            f"{order.number} ({order.category}, fund category {order.fund_category!r}) is not on the {rules.id} "
            "emergency list; an ordinary repair needs the committee's authorisation or an owners' vote")
    _positive_money(estimate, "estimate")
    _scope_households(conn, site_id, scope_type, scope_id)
    due = working_days_deadline(now, rules.review_working_days, site_timezone(conn, site_id).key)
    return _insert_order_draw(
        conn, kind="emergency", order=order, item=item, fund_category=order.fund_category, contractor=contractor,
        scope_type=scope_type, scope_id=scope_id, estimate=estimate, route=_route(settings), settings=settings,
        review_due_at=due, deemed_approval=rules.deemed_approval, organiser=organiser, actor=actor, now=now)


def open_authorised_draw(
    conn: psycopg.Connection,
    *,
    site_id: str,
    work_order_id: int,
    item: str,
    contractor: str,
    scope_type: ScopeType,
    scope_id: str,
    estimate: Decimal,
    actor: str,
    fund_category: str | None = None,
    organiser: Organiser = "property",
    now: datetime | None = None,
) -> Draw:
    """Open a draw for an ordinary (non-emergency) repair that the owners' committee may approve alone because
    the estimate is within the amount the owners' assembly authorised it (notice clause 6), or return the one the
    order has.

    Raises ``VoteRequired`` where the estate has no committee, no authorised amount, or the estimate is above it
    (then the owners vote: ``votes.open_vote`` and ``open_voted_draw``); otherwise as ``open_emergency_draw``.
    The committee has the region's working-day limit to decide; silence is never approval here, only escalated.
    """
    now = _now(now)
    settings = get_site_settings(conn, site_id)
    _check_organiser(settings, organiser)
    existing = _fetch(conn, "work_order_id = %s", (work_order_id,))
    if existing:
        return existing[0]
    order = _drawable_order(conn, site_id, work_order_id, fund_category)
    _positive_money(estimate, "estimate")
    _within_committee_limit(settings, estimate, "estimate")
    _scope_households(conn, site_id, scope_type, scope_id)
    due = working_days_deadline(now, settings.rules.review_working_days, site_timezone(conn, site_id).key)
    return _insert_order_draw(
        conn, kind="authorised", order=order, item=item, fund_category=order.fund_category, contractor=contractor,
        scope_type=scope_type, scope_id=scope_id, estimate=estimate, route="committee", settings=settings,
        review_due_at=due, deemed_approval=False, organiser=organiser, actor=actor, now=now)


def _drawable_order(conn: psycopg.Connection, site_id: str, work_order_id: int,
                    fund_category: str | None) -> WorkOrder:
    order = get_work_order(conn, work_order_id)
    if order is None or order.site_id != site_id:
        raise UnknownWorkOrder(f"work order {work_order_id} is not a work order of site {site_id}")
    if fund_category is not None and fund_category != order.fund_category:
        raise CategoryMismatch(
            f"{order.number} is fund category {order.fund_category!r}, not {fund_category!r}: a draw takes the "
            "category of its work order")
    if order.state not in DRAWABLE_ORDER_STATES:
        raise WrongOrderState(
            f"{order.number} is {order.state}: a draw needs a repair assessed on site (order "
            f"{', '.join(sorted(DRAWABLE_ORDER_STATES))}); cancelled, false-alarm and closed orders draw nothing")
    return order


def _route(settings: SiteSettings) -> ApproverRole:
    return "committee" if settings.has_committee else "subdistrict"


def _check_organiser(settings: SiteSettings, organiser: Organiser) -> None:
    if organiser == "subdistrict" and settings.has_committee:
        raise WrongOrganiser(
            f"site {settings.site_id} has an owners' committee: the sub-district office organises draws only for "
            "an estate without one (notice clause 16)")


def _within_committee_limit(settings: SiteSettings, amount: Decimal, what: str) -> None:
    if not settings.has_committee:
        raise VoteRequired(
            f"site {settings.site_id} has no owners' committee to approve an ordinary repair: the owners must vote "
            "(Civil Code art. 278)")
    limit = settings.committee_limit
    if limit is None or amount > limit:
        authorised = "no amount" if limit is None else f"¥{limit}"
        raise VoteRequired(
            f"the {what} ¥{amount} is above what the owners' assembly authorised the committee of site "
            f"{settings.site_id} to approve alone ({authorised}, notice clause 6): the owners must vote")


def _within_authority(conn: psycopg.Connection, draw: Draw, amount: Decimal, what: str) -> None:
    """A committee-authorised repair, and insurance the committee buys, stay within the committee's authorised
    amount; the sub-district office buys insurance for an estate without a committee (clause 16) with no limit."""
    if draw.kind == "authorised" or (draw.kind == "insurance" and draw.route == "committee"):
        _within_committee_limit(get_site_settings(conn, draw.site_id), amount, what)


def _insert_order_draw(
    conn: psycopg.Connection, *, kind: str, order: WorkOrder, item: str, fund_category: str | None,
    contractor: str, scope_type: str, scope_id: str, estimate: Decimal, route: str, settings: SiteSettings,
    review_due_at: datetime, deemed_approval: bool, organiser: Organiser, actor: str, now: datetime,
) -> Draw:
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO fund_draws (site_id, kind, work_order_id, work_order_number, item, fund_category,
                   contractor, scope_type, scope_id, estimate, state, route, rule_set, area_basis, review_due_at,
                   deemed_approval, organiser, opened_by, opened_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending', %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (work_order_id) WHERE work_order_id IS NOT NULL DO NOTHING
               RETURNING id""",
            (order.site_id, kind, order.id, order.number, item, fund_category, contractor, scope_type, scope_id,
             estimate, route, settings.rule_set, settings.effective_basis, review_due_at, deemed_approval,
             organiser, actor, now),
        ).fetchone()
        if row is None:  # a concurrent request for the same work order won the insert
            return _fetch(conn, "work_order_id = %s", (order.id,))[0]
        _record(conn, row[0], "opened", actor, now, role=organiser, data={"kind": kind, "estimate": str(estimate)})
    return _fetch(conn, "id = %s", (row[0],))[0]


def open_voted_draw(
    conn: psycopg.Connection,
    *,
    vote_id: int,
    item: str,
    contractor: str,
    estimate: Decimal,
    actor: str,
    now: datetime | None = None,
) -> Draw:
    """Open the draw an approved owners' vote on using the fund authorises (Civil Code art. 278); idempotent."""
    now = _now(now)
    existing = _fetch(conn, "vote_id = %s", (vote_id,))
    if existing:
        return existing[0]
    vote = conn.execute(
        """SELECT v.site_id, v.scope_type, v.scope_id, v.matter, v.closed_by, v.closed_at, r.approved
           FROM fund_votes v LEFT JOIN fund_vote_results r ON r.vote_id = v.id WHERE v.id = %s""",
        (vote_id,),
    ).fetchone()
    if vote is None:
        raise NotFound(f"vote {vote_id} not found")
    site_id, scope_type, scope_id, matter, closed_by, closed_at, approved = vote
    if matter != "use" or not approved:
        raise InvalidState(f"vote {vote_id} did not approve using the fund")
    _positive_money(estimate, "estimate")
    settings = get_site_settings(conn, site_id)
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO fund_draws (site_id, kind, vote_id, item, contractor, scope_type, scope_id, estimate,
                   state, route, organiser, rule_set, area_basis, deemed_approval, opened_by, opened_at, decided_by,
                   decided_role, decided_at)
               VALUES (%s, 'voted', %s, %s, %s, %s, %s, %s, 'approved', 'owners_vote', 'owners', %s, %s, false, %s,
                       %s, %s, 'owners_vote', %s)
               ON CONFLICT (vote_id) WHERE vote_id IS NOT NULL DO NOTHING RETURNING id""",
            (site_id, vote_id, item, contractor, scope_type, scope_id, estimate, settings.rule_set,
             settings.effective_basis, actor, now, closed_by, closed_at),
        ).fetchone()
        if row is None:
            return _fetch(conn, "vote_id = %s", (vote_id,))[0]
        _record(conn, row[0], "opened", actor, now,
                data={"kind": "voted", "vote_id": vote_id, "estimate": str(estimate)})
    return _fetch(conn, "id = %s", (row[0],))[0]


def _decide(conn: psycopg.Connection, draw_id: int, verdict: Literal["approved", "rejected"], *, actor: str,
            role: ApproverRole, comment: str, now: datetime | None) -> Draw:
    now = _now(now)
    with conn.transaction():
        draw = _locked(conn, draw_id)
        if role != draw.route:
            raise WrongApprover(f"draw {draw_id} is reviewed by the {draw.route}, not the {role}")
        if draw.state == verdict or (verdict == "approved" and draw.state == "completed"):
            return draw  # a retried or concurrent identical decision: the first one stands
        if draw.state != "pending":
            raise InvalidState(f"draw {draw_id} is {draw.state}; it cannot be {verdict}")
        if verdict == "approved":
            # The assembly may have lowered the amount since the draw was opened.
            _within_authority(conn, draw, draw.estimate, "estimate")
        conn.execute(
            """UPDATE fund_draws SET state = %s, decided_by = %s, decided_role = %s, decided_at = %s,
                   decision_comment = %s WHERE id = %s""",
            (verdict, actor, role, now, comment, draw_id),
        )
        _record(conn, draw_id, verdict, actor, now, role=role, comment=comment)
    return _fetch(conn, "id = %s", (draw_id,))[0]


def approve(conn: psycopg.Connection, draw_id: int, *, actor: str, role: ApproverRole, comment: str = "",
            now: datetime | None = None) -> Draw:
    """Approve a pending draw as the site's reviewer; approving again returns it unchanged."""
    return _decide(conn, draw_id, "approved", actor=actor, role=role, comment=comment, now=now)


def reject(conn: psycopg.Connection, draw_id: int, *, actor: str, role: ApproverRole, comment: str = "",
           now: datetime | None = None) -> Draw:
    """Reject a pending draw as the site's reviewer; rejecting again returns it unchanged."""
    return _decide(conn, draw_id, "rejected", actor=actor, role=role, comment=comment, now=now)


def apply_deemed_approvals(conn: psycopg.Connection, now: datetime) -> list[Draw]:
    """Act on pending draws past their review deadline and return those acted on.

    Where the region deems silence to be approval (e.g. Fujian), the draw becomes approved; elsewhere it is
    escalated once (``escalated_at`` set) and stays pending for the reviewer or the housing authority, and a
    ``fund_review_overdue`` notification goes out on the work order (``REVIEW_OVERDUE_RECIPIENTS``). The dispatch
    scheduler runs this on every pass; all state is in the draw rows, so a restart neither repeats nor loses one.
    """
    now = _now(now)
    acted: list[int] = []
    with conn.transaction():
        overdue = _fetch(
            conn, "state = 'pending' AND review_due_at <= %s AND (deemed_approval OR escalated_at IS NULL)",
            (now,), lock=True,
        )
        for draw in overdue:
            if draw.deemed_approval:
                comment = f"no decision by {draw.review_due_at.isoformat()}; deemed approved ({draw.rule_set})"
                conn.execute(
                    """UPDATE fund_draws SET state = 'approved', decided_by = %s, decided_role = 'deemed',
                           decided_at = %s, decision_comment = %s WHERE id = %s""",
                    (DEEMED_ACTOR, now, comment, draw.id),
                )
                _record(conn, draw.id, "deemed_approved", DEEMED_ACTOR, now,
                        data={"review_due_at": draw.review_due_at.isoformat(), "rule_set": draw.rule_set})
            else:
                conn.execute("UPDATE fund_draws SET escalated_at = %s WHERE id = %s", (now, draw.id))
                _record(conn, draw.id, "escalated", ESCALATION_ACTOR, now,
                        data={"review_due_at": draw.review_due_at.isoformat()})
                _notify_overdue(conn, draw, now)
            acted.append(draw.id)
    return _fetch(conn, "id = ANY(%s)", (acted,))


def _notify_overdue(conn: psycopg.Connection, draw: Draw, now: datetime) -> None:
    order = get_work_order(conn, draw.work_order_id) if draw.work_order_id is not None else None
    if order is None:
        return
    recipients = [{"kind": "unit", "id": unit} for unit in REVIEW_OVERDUE_RECIPIENTS[draw.route]]
    journal.enqueue(conn, order, "fund_review_overdue", recipients, now=now, draw_id=draw.id, route=draw.route,
                    review_due_at=draw.review_due_at.isoformat() if draw.review_due_at else None)


def _weights(households: Sequence[Household], basis: str) -> dict[str, Decimal]:
    return {h.id: h.building_area if basis == "building" else h.exclusive_area for h in households}


def complete(conn: psycopg.Connection, draw_id: int, *, actor: str, actual_cost: Decimal | None = None,
             now: datetime | None = None) -> Draw:
    """Record the actual cost of an approved draw and charge it; completing again at the same cost returns it
    unchanged.

    A work order's draw completes only once its repair is verified, at the cost the order records (labour and
    parts): ``actual_cost``, when given, must equal it. A voted draw takes ``actual_cost``. In one transaction:
    apportion the cost by area over the scope's households (cent-exact), post one ledger charge per household,
    flag a variance beyond the region's ratio, publish the disclosure and flag accounts that fell below their
    top-up threshold. Raises ``WrongOrderState`` before verification, ``CostMismatch`` for a cost that disagrees
    with the order's or with the draw's completed cost, ``VoteRequired`` for a committee-authorised draw that
    came out above the committee's authorised amount, ``InvalidState`` unless the draw is approved.
    """
    now = _now(now)
    if actual_cost is not None:
        _positive_money(actual_cost, "actual cost")
    with conn.transaction():
        draw = _locked(conn, draw_id)
        if draw.state == "completed":
            cost = actual_cost if actual_cost is not None else _recorded_cost(conn, draw)
            if cost is not None and cost != draw.actual_cost:
                raise CostMismatch(f"draw {draw_id} was completed at ¥{draw.actual_cost}, not ¥{cost}")
            return draw
        if draw.state != "approved":
            raise InvalidState(f"draw {draw_id} is {draw.state}; only an approved draw can be completed")
        cost = _recorded_cost(conn, draw) if draw.work_order_id is not None else actual_cost
        if cost is None:
            raise InvalidAmount(f"draw {draw_id} has no work order: its completion needs the actual cost")
        if actual_cost is not None and actual_cost != cost:
            raise CostMismatch(f"{draw.work_order_number} records a cost of ¥{cost}, not ¥{actual_cost}")
        _within_authority(conn, draw, cost, "actual cost")
        _charge(conn, draw, cost, actor=actor, now=now)
    return _fetch(conn, "id = %s", (draw_id,))[0]


def _recorded_cost(conn: psycopg.Connection, draw: Draw) -> Decimal | None:
    """The cost the draw's work order records once its repair is verified; ``None`` for a voted draw."""
    if draw.work_order_id is None:
        return None
    order = get_work_order(conn, draw.work_order_id)
    if order is None or not _verified(conn, order):
        state = order.state if order else "missing"
        raise WrongOrderState(
            f"{draw.work_order_number} is {state}: draw {draw.id} completes only after its repair is verified")
    if order.cost_total <= 0:
        raise InvalidAmount(f"{order.number} records no cost: record its labour and parts before completing")
    return order.cost_total


def _verified(conn: psycopg.Connection, order: WorkOrder) -> bool:
    if order.state == "VERIFIED":
        return True
    # Once verified an order can only be closed; a CLOSED order was verified if it passed through VERIFIED.
    return order.state == "CLOSED" and any(
        e.kind == "transition" and e.to_state == "VERIFIED" for e in events(conn, order.id))


def _charge(conn: psycopg.Connection, draw: Draw, actual_cost: Decimal, *, actor: str, now: datetime) -> None:
    rules = load_regions().get(draw.rule_set)
    households = _scope_households(conn, draw.site_id, draw.scope_type, draw.scope_id)
    weights = _weights(households, draw.area_basis)
    shares = apportion(actual_cost, weights)
    memo = f"draw {draw.id}: {draw.item}" + (f" ({draw.work_order_number})" if draw.work_order_number else "")
    for household in households:  # ordered by id, so concurrent charges lock accounts in the same order
        if shares[household.id] > 0:
            post(conn, household.id, "draw", -shares[household.id], actor=actor, memo=memo, draw_id=draw.id, now=now)
    variance = abs(actual_cost - draw.estimate) > draw.estimate * rules.variance_ratio
    conn.execute(
        """UPDATE fund_draws SET state = 'completed', actual_cost = %s, variance_flagged = %s,
               completed_by = %s, completed_at = %s WHERE id = %s""",
        (actual_cost, variance, actor, now, draw.id),
    )
    disclosure.publish(conn, draw_id=draw.id, households=households, weights=weights, shares=shares, now=now)
    refresh_topup_flags(conn, [h.id for h in households], ratio=rules.topup_ratio, now=now)
    _record(conn, draw.id, "completed", actor, now, data={
        "actual_cost": str(actual_cost), "estimate": str(draw.estimate), "variance_flagged": variance})
