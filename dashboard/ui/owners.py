"""The owners' and committee's pages: votes and ballots, reports and their follow-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.security import Conn
from dashboard.ui.alarm_detail import local_time
from dashboard.ui.estate_accounts import estate_accounts
from dashboard.ui.homes import HomeNames, home_names
from dashboard.ui.rendering import lang_of, page_user, render
from dashboard.users import User
from dispatch import complaints
from dispatch.fund import estate, votes
from dispatch.fund.errors import FundError
from dispatch.fund.vote_rules import load_vote_rules
from ingest import registry
from rules.categories import categories

router = APIRouter(include_in_schema=False)

# A report list on a phone: the newest this many; older reports are in the API.
REPORTS_SHOWN = 50
# The closing time the vote form proposes: two weeks, a common notice period for an owners' vote.
DEFAULT_VOTE_DAYS = 14


@dataclass(frozen=True)
class Turnout:
    """Who has voted so far in an open vote, by households and exclusive area: what the quorum depends on.
    The yes/no split stays sealed until the close, as the API keeps it (no running count sways late voters)."""

    voted_heads: int
    total_heads: int
    voted_area: Decimal
    total_area: Decimal


@dataclass(frozen=True)
class VoteView:
    """A vote as the pages show it: times in the estate's zone with the marker, its turnout or its result."""

    vote: votes.Vote
    opened: str
    closes: str
    closed: str | None
    turnout: Turnout | None
    result: votes.VoteOutcome | None
    my_choice: str | None = None


def _turnout(conn: Conn, vote: votes.Vote) -> Turnout:
    # The scope's homes today stand in for the electorate frozen at the opening (the same unless homes were
    # added since); every ballot cast is read through the library's evidence list.
    homes = estate.list_households(conn, vote.site_id, estate.Scope(vote.scope_type, vote.scope_id))  # type: ignore[arg-type]
    voted = {b.household_id for b in votes.ballot_history(conn, vote.id)}
    return Turnout(len(voted & {h.id for h in homes}), len(homes),
                   sum((h.exclusive_area for h in homes if h.id in voted), Decimal(0)),
                   sum((h.exclusive_area for h in homes), Decimal(0)))


@dataclass(frozen=True)
class ScopeChoice:
    """A place a vote can cover, with the electorate it would have if opened now: homes and exclusive area."""

    site_id: str
    type: str
    id: str
    label: str
    homes: int
    area: Decimal


def scope_choices(conn: Conn, site_id: str, names: HomeNames, lang: str) -> list[ScopeChoice]:
    """The whole estate, then each building and each of its units, each with its homes and exclusive area (what
    the quorum is counted on); a building or unit without homes cannot hold a vote and is left out."""
    homes = estate.list_households(conn, site_id)

    def choice(scope_type: str, scope_id: str, label: str, members: list[estate.Household]) -> ScopeChoice:
        return ScopeChoice(site_id, scope_type, scope_id, label, len(members),
                           sum((h.exclusive_area for h in members), Decimal(0)))

    chosen = [choice("site", site_id, "", homes)]
    for building_id in sorted({h.building_id for h in homes}):
        in_building = [h for h in homes if h.building_id == building_id]
        chosen.append(choice("building", building_id, names.building(building_id, lang), in_building))
        for unit_id in sorted({h.unit_id for h in in_building}):
            chosen.append(choice("unit", unit_id, names.scope("unit", unit_id, lang),
                                 [h for h in in_building if h.unit_id == unit_id]))
    return chosen


def vote_view(conn: Conn, vote: votes.Vote, *, household_id: str | None = None) -> VoteView:
    """What a page needs of one vote."""
    zone = registry.site_timezone(conn, vote.site_id)
    closed = vote.closed_at is not None
    return VoteView(vote, local_time(vote.opened_at, zone), local_time(vote.closes_at, zone),
                    local_time(vote.closed_at, zone) if vote.closed_at else None,
                    None if closed else _turnout(conn, vote), votes.result(conn, vote.id) if closed else None,
                    votes.current_choice(conn, vote.id, household_id) if household_id else None)


def _sites(conn: Conn, user: User) -> list[registry.Site]:
    return [s for s in registry.list_sites(conn) if user.sees_site(s.id)]


def _steward_sites(conn: Conn, user: User, sites: list[registry.Site]) -> list[str]:
    """The estates whose owners the user represents (committee, or the sub-district office without one)."""
    chosen = []
    for site in sites:
        try:
            if estate.get_site_settings(conn, site.id).steward == user.role:
                chosen.append(site.id)
        except FundError:  # an estate whose fund is not configured has no votes to run
            continue
    return chosen


@router.get("/votes")
def votes_page(request: Request, conn: Conn,
               user: Annotated[User, Depends(page_user(roles.OVERSIGHT))]) -> HTMLResponse:
    """The owners' votes of the user's estates: the steward opens and closes them; everyone here reads the
    turnout, the thresholds and the published results, and each estate's shared-part year and annual disclosures."""
    sites = _sites(conn, user)
    lang = lang_of(request)
    names = {s.id: home_names(conn, s.id) for s in sites}
    views = [vote_view(conn, v) for s in sites for v in votes.list_votes(conn, s.id)]
    steward_sites = _steward_sites(conn, user, sites) if user.role in roles.APPROVERS else []
    zone = registry.site_timezone(conn, sites[0].id) if sites else None
    default_close = (datetime.now(zone) + timedelta(days=DEFAULT_VOTE_DAYS)).strftime("%Y-%m-%dT%H:%M") if zone else ""
    return render(request, "votes.html", user, page="votes", views=views, sites=sites,
                  steward_sites=steward_sites, homes=names,
                  scopes=[c for site in steward_sites for c in scope_choices(conn, site, names[site], lang)],
                  rules=list(load_vote_rules().values()), default_close=default_close,
                  offset=zone and local_time(datetime.now(zone), zone).rsplit(" ", 1)[1],
                  iso_offset=zone and datetime.now(zone).isoformat()[-6:],
                  estates=[estate_accounts(conn, s.id, drafts=True) for s in sites])


@router.get("/my-votes")
def my_votes(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.OWNERS))]) -> HTMLResponse:
    """The votes the owner's household is in: open ones to cast or change a ballot, closed ones with results."""
    household = estate.get_household(conn, user.household_id) if user.household_id else None
    views = [] if household is None else [
        vote_view(conn, v, household_id=household.id)
        for v in votes.list_votes(conn, household.site_id, household_id=household.id)]
    return render(request, "my_votes.html", user, page="my_votes", household=household, views=views,
                  homes={household.site_id: home_names(conn, household.site_id)} if household else {})


@router.get("/my-reports")
def my_reports(request: Request, conn: Conn,
               user: Annotated[User, Depends(page_user(roles.OWNERS))]) -> HTMLResponse:
    """File a report for the owner's estate and follow the ones they filed, newest first."""
    household = estate.get_household(conn, user.household_id) if user.household_id else None
    site_id = household.site_id if household else (user.site_ids[0] if user.site_ids else None)
    filed, _ = complaints.page_complaints(conn, sites=[site_id] if site_id else [], reporter_user=user.username,
                                          limit=REPORTS_SHOWN, offset=0)
    zone = registry.site_timezone(conn, site_id) if site_id else None
    home = home_names(conn, household.site_id).household(household, lang_of(request)) if household else ""
    return render(request, "my_reports.html", user, page="my_reports", site_id=site_id, household=household, home=home,
                  categories=list(categories().values()), filed=[c.order for c in filed],
                  when=lambda at: local_time(at, zone) if zone else at.isoformat())
