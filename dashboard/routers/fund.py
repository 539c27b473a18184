"""Maintenance-fund draws and approvals (``dispatch.fund``), each estate's fund settings, the owner's own
balance, and the committee's business (issue 20): owners' votes (Civil Code art. 278), shared-part income and
expenses, the annual disclosure, and elevator insurance bought from the fund."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import ApiError, forbidden, not_found
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from dispatch import workorders
from dispatch.fund import annual, draws, estate, insurance, ledger, shared_parts, votes
from dispatch.fund.draws import ApproverRole, Draw, DrawState, Organiser
from dispatch.fund.estate import SiteSettings
from dispatch.fund.ledger import LedgerEntry
from dispatch.fund.regions import load_regions
from dispatch.fund.shared_parts import SharedPartEntry
from dispatch.fund.vote_rules import load_vote_rules
from ingest import registry

router = APIRouter(prefix="/api/v1/fund", tags=["fund"])


class Decision(BaseModel):
    comment: str = Field("", max_length=2000)


class EmergencyDrawIn(BaseModel):
    """Apply for a draw for a work order: an emergency repair (notice clause 16; Order 165 art. 24), or an ordinary
    repair the owners' committee approves within the amount the owners' assembly authorised (clause 6)."""

    work_order_id: int = Field(ge=1)
    kind: Literal["emergency", "authorised"] = "emergency"
    item: str = Field(min_length=1, max_length=500)
    contractor: str = Field(min_length=1, max_length=200)
    scope_type: Literal["site", "building", "unit"] = "building"
    scope_id: str = Field(min_length=1, max_length=128)
    estimate: Decimal = Field(gt=0, le=100_000_000, decimal_places=2)
    fund_category: str | None = Field(
        None, max_length=64, description="optional; the work order's category is used, a different one is refused")


class CompletionIn(BaseModel):
    actual_cost: Decimal | None = Field(
        None, gt=0, le=100_000_000, decimal_places=2,
        description="a work order's draw costs what its verified order records; a voted draw needs it")


class SiteSettingsIn(BaseModel):
    """Whether the estate has an owners' committee and what its owners' assembly authorised it to approve alone."""

    has_committee: bool
    committee_limit: Decimal | None = Field(None, ge=0, le=100_000_000, decimal_places=2)
    rule_set: str | None = Field(None, max_length=64, description="default: the rule set of the estate's region")
    area_basis: Literal["building", "exclusive"] | None = None
    insurance_by_vote: bool = Field(False, description="each elevator insurance purchase needs an owners' vote")


class SiteSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site_id: str
    has_committee: bool
    committee_limit: Decimal | None
    rule_set: str
    area_basis: str | None
    insurance_by_vote: bool
    updated_by: str


class AccountOut(BaseModel):
    household_id: str
    balance: Decimal
    history: list[LedgerEntry]


def _draw_or_404(conn: Conn, user: User, draw_id: int) -> Draw:
    draw = draws.get_draw(conn, draw_id)
    if draw is None:
        raise not_found("draw", draw_id)
    check_site(user, draw.site_id)
    return draw


@router.get("/draws", response_model=Page[Draw], summary="Fund draws in your scope")
def list_draws(conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))],
               page: Annotated[Pagination, Depends(pagination)],
               site_id: Annotated[str | None, Query(max_length=64)] = None,
               state: Annotated[DrawState | None, Query()] = None) -> Page[Draw]:
    """Newest first; filter by site and state."""
    found, total = draws.page_draws(conn, sites=scope_site(user, site_id), states=[state] if state else None,
                                    limit=page.limit, offset=page.offset)
    return Page[Draw](items=found, total=total, limit=page.limit, offset=page.offset)


@router.get("/draws/{draw_id}", response_model=Draw, summary="One draw")
def get_draw(draw_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))]) -> Draw:
    """404 when unknown, 403 outside your sites."""
    return _draw_or_404(conn, user, draw_id)


@router.post("/draws/{draw_id}/approve", response_model=Draw,
             summary="Approve a draw (owners' committee or sub-district office)")
def approve(draw_id: int, body: Decision, conn: Conn,
            user: Annotated[User, Depends(require(roles.APPROVERS))]) -> Draw:
    """403 unless you are the site's reviewer; 409 when the draw is not awaiting a decision."""
    draw = _draw_or_404(conn, user, draw_id)
    # require(APPROVERS) let only approver roles through
    decided = draws.approve(conn, draw_id, actor=user.username, role=cast(ApproverRole, user.role),
                            comment=body.comment)
    audit.record(conn, user, "fund_draw.approve", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"comment": body.comment})
    return decided


@router.post("/draws/{draw_id}/reject", response_model=Draw, summary="Reject a draw with a reason")
def reject(draw_id: int, body: Decision, conn: Conn,
           user: Annotated[User, Depends(require(roles.APPROVERS))]) -> Draw:
    """422 without a reason; otherwise as approving."""
    if not body.comment.strip():
        raise ApiError(422, "invalid", "a rejection needs a reason")
    draw = _draw_or_404(conn, user, draw_id)
    decided = draws.reject(conn, draw_id, actor=user.username, role=cast(ApproverRole, user.role),
                           comment=body.comment)
    audit.record(conn, user, "fund_draw.reject", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"comment": body.comment})
    return decided


@router.post("/draws", response_model=Draw, status_code=201,
             summary="Apply for a draw for a work order (emergency, or within the committee's authorised amount)")
def open_draw(body: EmergencyDrawIn, conn: Conn,
              user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> Draw:
    """The draw takes the work order's fund category and goes to the site's reviewer (the committee, or the
    sub-district office where there is none, which then also organises it). 409 unless the repair has been
    assessed on site, or above the committee's authorised amount; 422 off the emergency list or for another
    category; 403 for the sub-district office where the estate has a committee."""
    order = workorders.get_work_order(conn, body.work_order_id)
    if order is None:
        raise ApiError(422, "invalid", f"work order {body.work_order_id} does not exist", {"field": "work_order_id"})
    check_site(user, order.site_id)
    # The control room's other member is the sub-district office, which organises draws where there is no committee.
    organiser: Organiser = "property" if user.role in roles.HANDLERS else "subdistrict"
    opener = draws.open_emergency_draw if body.kind == "emergency" else draws.open_authorised_draw
    draw = opener(conn, site_id=order.site_id, work_order_id=order.id, item=body.item, contractor=body.contractor,
                  scope_type=body.scope_type, scope_id=body.scope_id, estimate=body.estimate,
                  fund_category=body.fund_category, organiser=organiser, actor=user.username)
    # What was stored, not what was asked: a repeated request returns the draw the order already has.
    audit.record(conn, user, "fund_draw.open", "fund_draw", str(draw.id), site_id=order.site_id,
                 detail={"work_order_id": draw.work_order_id, "item": draw.item, "contractor": draw.contractor,
                         "scope_type": draw.scope_type, "scope_id": draw.scope_id, "estimate": str(draw.estimate),
                         "fund_category": draw.fund_category, "state": draw.state})
    return draw


@router.post("/draws/{draw_id}/complete", response_model=Draw,
             summary="Report the repair done (publishes the disclosure)")
def complete(draw_id: int, body: CompletionIn, conn: Conn,
             user: Annotated[User, Depends(require(roles.HANDLERS))]) -> Draw:
    """Charges the cost the verified work order records, apportioned by area over the scope, and posts the
    public disclosure. 409 unless approved and the repair verified, or when a cost given disagrees with the
    order's or with the draw's completed cost."""
    draw = _draw_or_404(conn, user, draw_id)
    completed = draws.complete(conn, draw_id, actual_cost=body.actual_cost, actor=user.username)
    audit.record(conn, user, "fund_draw.complete", "fund_draw", str(draw_id), site_id=draw.site_id,
                 detail={"actual_cost": str(completed.actual_cost)})
    return completed


@router.get("/sites/{site_id}/settings", response_model=SiteSettingsOut, summary="An estate's fund settings")
def get_settings(site_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))]
                 ) -> SiteSettingsOut:
    """Whether it has an owners' committee, the committee's authorised amount, the rule set; 409 unconfigured."""
    check_site(user, site_id)
    return SiteSettingsOut.model_validate(estate.get_site_settings(conn, site_id))


@router.put("/sites/{site_id}/settings", response_model=SiteSettingsOut,
            summary="Record an estate's committee (or its absence) and the committee's authorised amount")
def put_settings(site_id: str, body: SiteSettingsIn, conn: Conn,
                 user: Annotated[User, Depends(require(roles.ADMINS))]) -> SiteSettingsOut:
    """Without a committee the sub-district office organises and approves draws (notice clause 16), and there is
    no authorised amount (422 if one is given). 404 for an unknown estate."""
    if registry.get_site(conn, site_id) is None:
        raise not_found("site", site_id)
    check_site(user, site_id)
    known = load_regions().rule_sets
    if body.rule_set is not None and body.rule_set not in known:
        raise ApiError(422, "invalid", f"unknown rule set {body.rule_set!r}; known: {', '.join(sorted(known))}")
    saved: SiteSettings = estate.configure_site(
        conn, site_id, has_committee=body.has_committee, committee_limit=body.committee_limit,
        rule_set=body.rule_set, area_basis=body.area_basis, insurance_by_vote=body.insurance_by_vote,
        actor=user.username)
    audit.record(conn, user, "fund_settings.update", "fund_site", site_id, site_id=site_id,
                 detail=body.model_dump(mode="json"))
    return SiteSettingsOut.model_validate(saved)


@router.get("/me", response_model=AccountOut, summary="The owner's own household account: balance and movements")
def my_account(conn: Conn, user: Annotated[User, Depends(require(roles.OWNERS))]) -> AccountOut:
    """Only the caller's household (clause 17: owners query in real time); 404 when it has no account."""
    if not user.household_id:
        raise ApiError(409, "conflict", "your account is not linked to a household")
    return AccountOut(household_id=user.household_id, balance=ledger.balance(conn, user.household_id),
                      history=ledger.history(conn, user.household_id))


# --- committee and sub-district business (issue 20) ------------------------------------------------------------

def in_zone(at: datetime | None, zone: ZoneInfo) -> str | None:
    """An instant as ISO 8601 in the estate's time zone, with its offset."""
    return at.astimezone(zone).isoformat() if at else None


def _as_steward(conn: Conn, user: User, site_id: str) -> SiteSettings:
    """403 unless the caller is the estate's steward: its owners' committee, or the sub-district office where it
    has none (notice clauses 6-8, 16)."""
    check_site(user, site_id)
    settings = estate.get_site_settings(conn, site_id)
    if user.role != settings.steward:
        raise forbidden(f"site {site_id}'s owners are represented by the {settings.steward}, not the {user.role}")
    return settings


def _known_site(conn: Conn, user: User, site_id: str) -> ZoneInfo:
    if registry.get_site(conn, site_id) is None:
        raise not_found("site", site_id)
    check_site(user, site_id)
    return registry.site_timezone(conn, site_id)


class VoteIn(BaseModel):
    """Open an owners' vote. ``matter`` picks the thresholds (``GET /fund/vote-rules``)."""

    matter: str = Field(min_length=1, max_length=32)
    title: str = Field(min_length=1, max_length=500)
    description: str = Field("", max_length=5000)
    amount: Decimal | None = Field(None, gt=0, le=100_000_000, decimal_places=2,
                                   description="the sum the matter is about, e.g. a fund use")
    scope_type: Literal["site", "building", "unit"] = "site"
    scope_id: str | None = Field(None, max_length=128, description="default: the whole site")
    closes_at: datetime


class VoteOut(BaseModel):
    """A vote; ``result`` once it is closed (and so published)."""

    id: int
    site_id: str
    scope_type: str
    scope_id: str
    matter: str
    title: str
    description: str
    amount: Decimal | None
    opened_by: str
    opened_at: str
    closes_at: str
    closed_at: str | None
    rule: dict[str, Any]
    result: dict[str, Any] | None = None
    my_choice: str | None = None


def vote_out(conn: Conn, vote: votes.Vote, *, household_id: str | None = None) -> VoteOut:
    """The API view of a vote, times in the estate's zone, with the caller household's current choice."""
    zone = registry.site_timezone(conn, vote.site_id)
    result = None
    if vote.closed_at is not None:
        result = next(r.to_json() for r in votes.published_results(conn, vote.site_id) if r.vote.id == vote.id)
    return VoteOut(id=vote.id, site_id=vote.site_id, scope_type=vote.scope_type, scope_id=vote.scope_id,
                   matter=vote.matter, title=vote.title, description=vote.description, amount=vote.amount,
                   opened_by=vote.opened_by, opened_at=in_zone(vote.opened_at, zone) or "",
                   closes_at=in_zone(vote.closes_at, zone) or "", closed_at=in_zone(vote.closed_at, zone),
                   rule=vote.rule.to_json(), result=result,
                   my_choice=votes.current_choice(conn, vote.id, household_id) if household_id else None)


def _vote_in_scope(conn: Conn, user: User, vote_id: int) -> votes.Vote:
    vote = votes.get_vote(conn, vote_id)
    check_site(user, vote.site_id)
    return vote


@router.get("/vote-rules", summary="The matters owners vote on and their thresholds, with sources")
def vote_rules(user: Annotated[User, Depends(require(roles.ESTATE_READERS))]) -> list[dict[str, Any]]:
    """Civil Code art. 278: quorum and approval by area and by head count, exact fractions."""
    return [rule.to_json() for rule in load_vote_rules().values()]


@router.get("/sites/{site_id}/votes", response_model=list[VoteOut], summary="An estate's owners' votes")
def list_votes(site_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.ESTATE_READERS))]
               ) -> list[VoteOut]:
    """Newest first; a closed vote carries its published result."""
    _known_site(conn, user, site_id)
    return [vote_out(conn, v) for v in votes.list_votes(conn, site_id)]


@router.post("/sites/{site_id}/votes", response_model=VoteOut, status_code=201,
             summary="Open an owners' vote (the committee, or the sub-district office where there is none)")
def open_vote(site_id: str, body: VoteIn, conn: Conn, user: Annotated[User, Depends(require(roles.APPROVERS))]
              ) -> VoteOut:
    """The owners of the scope now, with their exclusive areas, form the electorate; the matter's rule is kept with
    the vote. 422 for an unknown matter or a closing time in the past, 403 unless you represent the estate."""
    _known_site(conn, user, site_id)
    _as_steward(conn, user, site_id)
    if body.closes_at.tzinfo is None:
        raise ApiError(422, "invalid", "closes_at needs a time zone offset", {"field": "closes_at"})
    vote = votes.open_vote(conn, site_id=site_id, scope_type=body.scope_type, scope_id=body.scope_id or site_id,
                           matter=body.matter, title=body.title, description=body.description, amount=body.amount,
                           closes_at=body.closes_at, actor=user.username)
    audit.record(conn, user, "fund_vote.open", "fund_vote", str(vote.id), site_id=site_id,
                 detail={"matter": vote.matter, "title": vote.title, "scope_type": vote.scope_type,
                         "scope_id": vote.scope_id, "amount": None if vote.amount is None else str(vote.amount),
                         "closes_at": vote.closes_at.isoformat()})
    return vote_out(conn, vote)


@router.get("/votes/{vote_id}", response_model=VoteOut, summary="One vote")
def get_vote(vote_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.ESTATE_READERS))]) -> VoteOut:
    """No tally while it is open; its published result once closed. 404 unknown, 403 outside your estates."""
    vote = _vote_in_scope(conn, user, vote_id)
    return vote_out(conn, vote, household_id=user.household_id if user.role in roles.OWNERS else None)


@router.post("/votes/{vote_id}/close", response_model=VoteOut, summary="Close a vote, count it, publish the result")
def close_vote(vote_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.APPROVERS))]) -> VoteOut:
    """Counts each household's latest ballot exactly (fractions) against the vote's rule and publishes the result
    to the estate's owners and the public board; closing again returns it."""
    vote = _vote_in_scope(conn, user, vote_id)
    _as_steward(conn, user, vote.site_id)
    outcome = votes.close_vote(conn, vote_id, actor=user.username)
    audit.record(conn, user, "fund_vote.close", "fund_vote", str(vote_id), site_id=vote.site_id,
                 detail={"quorum_met": outcome.quorum_met, "approved": outcome.approved})
    return vote_out(conn, votes.get_vote(conn, vote_id))


@router.get("/sites/{site_id}/vote-results", summary="An estate's published vote results")
def vote_results(site_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.ESTATE_READERS))]
                 ) -> list[dict[str, Any]]:
    """Counts, exact shares as fractions, the rule and its source; names no household."""
    _known_site(conn, user, site_id)
    return [r.to_json() for r in votes.published_results(conn, site_id)]


class SharedPartIn(BaseModel):
    """One income from the owners' shared parts, or an expense charged against it (Civil Code art. 282)."""

    direction: Literal["income", "expense"]
    category: str = Field(min_length=1, max_length=64)
    amount: Decimal = Field(gt=0, le=100_000_000, decimal_places=2)
    occurred_on: date
    counterparty: str = Field(min_length=2, max_length=200, description="a company or organisation, never a person")
    basis: str = Field(min_length=1, max_length=500, description="the contract or decision it rests on")


@router.get("/sites/{site_id}/shared-parts", response_model=Page[SharedPartEntry],
            summary="An estate's shared-part income and expense records")
def list_shared_parts(site_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))],
                      page: Annotated[Pagination, Depends(pagination)],
                      year: Annotated[int | None, Query(ge=1990, le=2200)] = None) -> Page[SharedPartEntry]:
    """Newest first, optionally of one year."""
    _known_site(conn, user, site_id)
    found, total = shared_parts.page_entries(conn, site_id, year=year, limit=page.limit, offset=page.offset)
    return Page[SharedPartEntry](items=found, total=total, limit=page.limit, offset=page.offset)


@router.post("/sites/{site_id}/shared-parts", response_model=SharedPartEntry, status_code=201,
             summary="Record a shared-part income or expense")
def record_shared_part(site_id: str, body: SharedPartIn, conn: Conn,
                       user: Annotated[User, Depends(require(roles.OVERSIGHT))]) -> SharedPartEntry:
    """422 for a category not listed for the direction, or a counterparty that is not an organisation."""
    _known_site(conn, user, site_id)
    entry = shared_parts.record_entry(conn, site_id=site_id, direction=body.direction, category=body.category,
                                      amount=body.amount, occurred_on=body.occurred_on,
                                      counterparty=body.counterparty, basis=body.basis, actor=user.username)
    audit.record(conn, user, "fund_shared_part.record", "fund_shared_part", str(entry.id), site_id=site_id,
                 detail=body.model_dump(mode="json"))
    return entry


@router.get("/sites/{site_id}/shared-parts/summary/{year}",
            summary="A year of shared-part income and expenses by category and month")
def shared_parts_summary(site_id: str, year: int, conn: Conn,
                         user: Annotated[User, Depends(require(roles.ESTATE_READERS))]) -> dict[str, Any]:
    """Totals, balance, by category and by month (all twelve); amounts as exact decimal strings."""
    _known_site(conn, user, site_id)
    if not 1990 <= year <= 2200:
        raise ApiError(422, "invalid", "year out of range", {"field": "year"})
    return shared_parts.shared_parts_summary(conn, site_id, year).to_json()


class AnnualOut(BaseModel):
    """One version of an annual disclosure."""

    id: int
    site_id: str
    year: int
    version: int
    state: str
    content: dict[str, Any]
    generated_by: str
    generated_at: str
    reviewed_by: str | None
    reviewed_at: str | None
    review_comment: str | None
    published_by: str | None
    published_at: str | None


def annual_out(conn: Conn, found: annual.AnnualDisclosure) -> AnnualOut:
    """The API view, times in the estate's zone."""
    zone = registry.site_timezone(conn, found.site_id)
    return AnnualOut(id=found.id, site_id=found.site_id, year=found.year, version=found.version, state=found.state,
                     content=found.content, generated_by=found.generated_by,
                     generated_at=in_zone(found.generated_at, zone) or "", reviewed_by=found.reviewed_by,
                     reviewed_at=in_zone(found.reviewed_at, zone), review_comment=found.review_comment,
                     published_by=found.published_by, published_at=in_zone(found.published_at, zone))


class AnnualIn(BaseModel):
    year: int = Field(ge=1990, le=2200)


class ReviewIn(BaseModel):
    comment: str = Field(min_length=1, max_length=5000)


def _annual_in_scope(conn: Conn, user: User, disclosure_id: int) -> annual.AnnualDisclosure:
    found = annual.get(conn, disclosure_id)
    check_site(user, found.site_id)
    if user.role in roles.OWNERS and found.state != "published":
        raise not_found("annual disclosure", disclosure_id)  # owners see what was published, nothing before
    return found


@router.get("/sites/{site_id}/annual-disclosures", response_model=list[AnnualOut],
            summary="An estate's annual fund disclosures")
def list_annual(site_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.ESTATE_READERS))]
                ) -> list[AnnualOut]:
    """Owners: the newest published version of each year. Oversight: every version in every state."""
    _known_site(conn, user, site_id)
    found = (annual.published_disclosures(conn, site_id) if user.role in roles.OWNERS
             else annual.list_versions(conn, site_id))
    return [annual_out(conn, d) for d in found]


@router.post("/sites/{site_id}/annual-disclosures", response_model=AnnualOut, status_code=201,
             summary="Generate (a new version of) a year's disclosure from the ledger and shared-part records")
def generate_annual(site_id: str, body: AnnualIn, conn: Conn,
                    user: Annotated[User, Depends(require(roles.APPROVERS))]) -> AnnualOut:
    """A draft; 403 unless you represent the estate."""
    _known_site(conn, user, site_id)
    _as_steward(conn, user, site_id)
    draft = annual.generate(conn, site_id, body.year, actor=user.username)
    audit.record(conn, user, "fund_annual.generate", "fund_annual_disclosure", str(draft.id), site_id=site_id,
                 detail={"year": draft.year, "version": draft.version})
    return annual_out(conn, draft)


@router.get("/annual-disclosures/{disclosure_id}", response_model=AnnualOut, summary="One annual disclosure")
def get_annual(disclosure_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.ESTATE_READERS))]
               ) -> AnnualOut:
    """404 for owners until it is published."""
    return annual_out(conn, _annual_in_scope(conn, user, disclosure_id))


@router.post("/annual-disclosures/{disclosure_id}/review", response_model=AnnualOut,
             summary="Review a draft disclosure with a comment")
def review_annual(disclosure_id: int, body: ReviewIn, conn: Conn,
                  user: Annotated[User, Depends(require(roles.APPROVERS))]) -> AnnualOut:
    """409 once reviewed or published (a published one is immutable: generate a new version)."""
    found = _annual_in_scope(conn, user, disclosure_id)
    reviewed = annual.review(conn, disclosure_id, actor=user.username, role=user.role, comment=body.comment)
    audit.record(conn, user, "fund_annual.review", "fund_annual_disclosure", str(disclosure_id),
                 site_id=found.site_id, detail={"comment": body.comment})
    return annual_out(conn, reviewed)


@router.post("/annual-disclosures/{disclosure_id}/publish", response_model=AnnualOut,
             summary="Publish a reviewed disclosure to the owners and the public board")
def publish_annual(disclosure_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.APPROVERS))]
                   ) -> AnnualOut:
    """409 unless reviewed; publishing again returns it."""
    found = _annual_in_scope(conn, user, disclosure_id)
    published = annual.publish(conn, disclosure_id, actor=user.username, role=user.role)
    audit.record(conn, user, "fund_annual.publish", "fund_annual_disclosure", str(disclosure_id),
                 site_id=found.site_id, detail={"year": found.year, "version": found.version})
    return annual_out(conn, published)


class InsuranceIn(BaseModel):
    """Apply for a draw paying elevator safety liability insurance (notice clause 16)."""

    policy_number: str = Field(min_length=1, max_length=100)
    insurer: str = Field(min_length=2, max_length=200)
    period_start: date
    period_end: date
    premium: Decimal = Field(gt=0, le=100_000_000, decimal_places=2)
    elevators: list[str] = Field(min_length=1, max_length=500)
    scope_type: Literal["site", "building", "unit"] = "site"
    scope_id: str | None = Field(None, max_length=128, description="default: the whole site")
    vote_id: int | None = Field(None, ge=1, description="an approved owners' vote on this use, where one is needed")


class InsuranceOut(BaseModel):
    policy: insurance.Policy
    draw: Draw


@router.post("/sites/{site_id}/insurance", response_model=InsuranceOut, status_code=201,
             summary="Apply for an elevator insurance draw")
def apply_insurance(site_id: str, body: InsuranceIn, conn: Conn,
                    user: Annotated[User, Depends(require(roles.OVERSIGHT))]) -> InsuranceOut:
    """Goes to the committee (within its authorised amount) or, without one, the sub-district office, which then
    also organises it; approve with ``POST /fund/draws/{id}/approve``. 409 when a vote is needed (the site's
    rules, or a premium above the committee's amount), 422 for a device that is not an elevator of the site."""
    _known_site(conn, user, site_id)
    organiser = {"subdistrict": "subdistrict", "committee": "owners"}.get(user.role, "property")
    terms = insurance.PolicyTerms(policy_number=body.policy_number, insurer=body.insurer,
                                  period_start=body.period_start, period_end=body.period_end, premium=body.premium,
                                  elevators=tuple(body.elevators))
    draw = insurance.apply_for_insurance(conn, site_id=site_id, terms=terms, actor=user.username,
                                         scope_type=body.scope_type, scope_id=body.scope_id,
                                         organiser=cast(Organiser, organiser), vote_id=body.vote_id)
    audit.record(conn, user, "fund_insurance.apply", "fund_draw", str(draw.id), site_id=site_id,
                 detail=body.model_dump(mode="json"))
    return InsuranceOut(policy=insurance.get_policy(conn, draw.id), draw=draw)


@router.get("/sites/{site_id}/insurance", response_model=list[InsuranceOut],
            summary="An estate's elevator insurance purchases")
def list_insurance(site_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))]
                   ) -> list[InsuranceOut]:
    """Newest policy period first, each with its draw."""
    _known_site(conn, user, site_id)
    return [InsuranceOut(policy=p, draw=d) for p, d in insurance.site_policies(conn, site_id)]
