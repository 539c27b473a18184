"""The owner portal (issue 20; notice clause 17): the caller's own household's fund account, read live from the
ledger, its yearly statement (JSON or CSV), and the votes it may take part in, with one ballot per household that
may change until the vote closes. Every answer concerns the caller's household only."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Cookie, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from dashboard import audit, roles
from dashboard.errors import ApiError
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.routers.fund import VoteOut, in_zone, vote_out
from dashboard.security import Conn, check_site, require
from dashboard.ui.homes import home_names
from dashboard.ui.statement_csv import statement_csv
from dashboard.users import User
from dispatch.fund import account, estate, ledger, votes
from dispatch.fund.account import LedgerLine
from dispatch.fund.errors import NotInElectorate
from ingest import registry

router = APIRouter(prefix="/api/v1", tags=["owners"])


class LineOut(BaseModel):
    """One ledger line: credits positive, debits negative; a draw names what it paid (and its work order)."""

    id: int
    kind: str
    amount: Decimal
    balance_after: Decimal
    memo: str
    at: str
    draw_id: int | None
    draw_item: str | None
    draw_purpose: str | None
    work_order_id: int | None
    work_order_number: str | None


class FundAccountOut(BaseModel):
    household_id: str
    building_id: str
    unit_id: str
    room: str
    timezone: str
    balance: Decimal
    lines: Page[LineOut]


class StatementOut(BaseModel):
    household_id: str
    building_id: str
    unit_name: str
    room: str
    year: int
    timezone: str
    period_start: str
    period_end: str
    opening: Decimal
    deposited: Decimal
    interest: Decimal
    used: Decimal
    refunded: Decimal
    closing: Decimal
    lines: list[LineOut]


class BallotIn(BaseModel):
    choice: Literal["yes", "no", "abstain"]


def csv_download(text: str, filename: str) -> Response:
    """A CSV file to save: UTF-8 with a byte-order mark, because Excel on Chinese Windows reads a CSV without one
    as GBK and garbles every Chinese memo; named by ``filename`` (ASCII) in Content-Disposition."""
    return Response(("\ufeff" + text).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _household(conn: Conn, user: User) -> estate.Household:
    """The caller's household; 409 when the login is not linked to one."""
    household = estate.get_household(conn, user.household_id) if user.household_id else None
    if household is None:
        raise ApiError(409, "conflict", "your account is not linked to a household")
    return household


def _line(line: LedgerLine, zone: ZoneInfo) -> LineOut:
    return LineOut(id=line.id, kind=line.kind, amount=line.amount, balance_after=line.balance_after, memo=line.memo,
                   at=in_zone(line.created_at, zone) or "", draw_id=line.draw_id, draw_item=line.draw_item,
                   draw_purpose=line.draw_purpose, work_order_id=line.work_order_id,
                   work_order_number=line.work_order_number)


@router.get("/owners/me/fund", response_model=FundAccountOut, summary="My household's fund account, every line")
def my_fund(conn: Conn, user: Annotated[User, Depends(require(roles.OWNERS))],
            page: Annotated[Pagination, Depends(pagination)]) -> FundAccountOut:
    """Balance from the ledger and one page of its lines, newest first: deposits, interest, draws (with the draw
    and the work order they paid), refunds, transfers. Times in the estate's zone with their offset."""
    household = _household(conn, user)
    zone = registry.site_timezone(conn, household.site_id)
    lines, total = account.account_lines(conn, household.id, limit=page.limit, offset=page.offset)
    return FundAccountOut(
        household_id=household.id, building_id=household.building_id, unit_id=household.unit_id,
        room=household.room, timezone=zone.key, balance=ledger.balance(conn, household.id),
        lines=Page[LineOut](items=[_line(x, zone) for x in lines], total=total, limit=page.limit,
                            offset=page.offset))


@router.get("/owners/me/fund/statement/{year}", response_model=StatementOut,
            summary="My household's statement of a year (JSON, or CSV with format=csv)",
            responses={200: {"content": {"text/csv": {}}}})
def my_statement(year: int, conn: Conn, user: Annotated[User, Depends(require(roles.OWNERS))],
                 format: Annotated[Literal["json", "csv"], Query()] = "json",
                 lang: Annotated[Literal["zh", "en"] | None, Query()] = None,
                 pw_lang: Annotated[str | None, Cookie()] = None) -> StatementOut | Response:
    """Opening and closing balance, the year's deposits, interest, use and refunds, and each line of the year.
    JSON is for machines (ids, codes, ISO times); the CSV is a document for the owner, in ``lang`` (else the
    page language the owner chose, else zh-CN): the home by name, kinds in words, estate time to the second."""
    if not 1990 <= year <= 2200:
        raise ApiError(422, "invalid", "year out of range", {"field": "year"})
    household = _household(conn, user)
    zone = registry.site_timezone(conn, household.site_id)
    found = account.household_statement(conn, household.id, year)
    if format == "csv":
        document = statement_csv(found, zone, home_names(conn, household.site_id), lang or
                                 ("en" if pw_lang == "en" else "zh"))
        return csv_download(document, f"fund-{household.id}-{year}.csv")
    return StatementOut(
        household_id=found.household_id, building_id=found.building_id, unit_name=found.unit_name, room=found.room,
        year=year, timezone=zone.key, period_start=in_zone(found.period_start, zone) or "",
        period_end=in_zone(found.period_end, zone) or "", opening=found.opening, deposited=found.deposited,
        interest=found.interest, used=found.used, refunded=found.refunded, closing=found.closing,
        lines=[_line(x, zone) for x in found.lines])


@router.get("/owners/me/votes", response_model=list[VoteOut], summary="The votes my household may take part in")
def my_votes(conn: Conn, user: Annotated[User, Depends(require(roles.OWNERS))]) -> list[VoteOut]:
    """Newest first, each with my household's current choice and, once closed, the published result."""
    household = _household(conn, user)
    return [vote_out(conn, v, household_id=household.id)
            for v in votes.list_votes(conn, household.site_id, household_id=household.id)]


@router.post("/owners/votes/{vote_id}/ballot", response_model=VoteOut,
             summary="Cast or change my household's ballot")
def cast_ballot(vote_id: int, body: BallotIn, conn: Conn, user: Annotated[User, Depends(require(roles.OWNERS))]
                ) -> VoteOut:
    """One ballot per household; a later one replaces it until the vote closes (409 after). 403 when the household
    was not in the vote's scope when it opened; 404 for an unknown vote."""
    vote = votes.get_vote(conn, vote_id)
    check_site(user, vote.site_id)
    household = _household(conn, user)
    if not votes.in_electorate(conn, vote_id, household.id):
        raise NotInElectorate(f"your household is not in the electorate of vote {vote_id}")
    ballot = votes.cast_ballot(conn, vote_id, household.id, body.choice, actor=user.username)
    audit.record(conn, user, "fund_vote.ballot", "fund_vote", str(vote_id), site_id=vote.site_id,
                 detail={"household_id": household.id, "choice": ballot.choice, "ballot_id": ballot.id})
    return vote_out(conn, vote, household_id=household.id)
