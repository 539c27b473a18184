"""Maintenance-fund pages: the draws list, one draw with its apportionment and decision, the control room's
application for a draw, and the owner's own account with statements and the draws that charged the home."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.errors import not_found
from dashboard.i18n import translate
from dashboard.security import Conn, check_site, scope_site
from dashboard.ui.alarm_detail import local_time
from dashboard.ui.draw_steps import draw_steps
from dashboard.ui.estate_accounts import estate_accounts
from dashboard.ui.homes import home_names
from dashboard.ui.ledger_lines import line_text
from dashboard.ui.owners import ScopeChoice, scope_choices
from dashboard.ui.rendering import lang_of, page_user, render
from dashboard.users import User
from dispatch.fund import account, draws, estate, insurance, ledger
from dispatch.fund.apportion import apportion
from dispatch.fund.draws import DRAWABLE_ORDER_STATES, DrawState
from dispatch.fund.errors import FundError
from dispatch.workorders import WorkOrder, get_work_order, list_work_orders
from ingest import registry

router = APIRouter(include_in_schema=False)

# Enough lines for a household's ledger on one phone page; the API pages further.
LEDGER_LINES = 200
# Draws on the list page: a year of an estate's draws; the API pages further.
DRAWS_SHOWN = 200
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(100_000_000)  # the API's limit on an estimate (dashboard/routers/fund.py)


@dataclass(frozen=True)
class ShareRow:
    """One home's share of an amount: where it is (never who owns it), its area on the draw's basis, its share."""

    building_id: str
    unit_id: str
    room: str
    area: Decimal
    share: Decimal


@dataclass(frozen=True)
class Preview:
    """An amount apportioned over a scope's homes, cent-exact (``dispatch.fund.apportion``): the shares sum to it."""

    amount: Decimal
    basis: str
    total_area: Decimal
    rows: list[ShareRow]

    @property
    def total(self) -> Decimal:
        """The sum of the shares, shown beside the amount so anyone can see they agree."""
        return sum((r.share for r in self.rows), Decimal("0.00"))


def preview(conn: Conn, site_id: str, scope_type: str, scope_id: str, amount: Decimal, basis: str) -> Preview:
    """Each home's share of ``amount`` over the scope, by the same rule a completed draw charges."""
    households = estate.list_households(conn, site_id, estate.Scope(scope_type, scope_id))  # type: ignore[arg-type]
    weights = {h.id: h.building_area if basis == "building" else h.exclusive_area for h in households}
    shares = apportion(amount, weights) if households else {}
    rows = [ShareRow(h.building_id, h.unit_id, h.room, weights[h.id], shares[h.id]) for h in households]
    return Preview(amount, basis, sum(weights.values(), Decimal(0)), rows)


def review_deadline(at: datetime, zone: tzinfo) -> str:
    """A review deadline as the rules count it: the end of the last working day reads ``2026-12-15 24:00 UTC+8``
    rather than the next day's midnight, which would name a day the reviewer does not have."""
    local = at.astimezone(zone)
    marker = local_time(at, zone).rsplit(" ", 1)[1]
    if local.time() == datetime.min.time():
        return f"{local - timedelta(days=1):%Y-%m-%d} 24:00 {marker}"
    return f"{local:%Y-%m-%d %H:%M} {marker}"


@dataclass(frozen=True)
class TimeLeft:
    """Time to a deadline, or past it: whole days, hours and minutes (never hundreds of hours); pages name each
    unit (``wo_span_hm``), since ``2:15`` alone reads as minutes and seconds too."""

    days: int
    hours: int
    minutes: int
    overdue: bool


def time_left(deadline: datetime, now: datetime) -> TimeLeft:
    """How long until ``deadline`` (or since, when past), to the minute."""
    minutes = int(abs((deadline - now).total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    return TimeLeft(days, rest // 60, rest % 60, deadline < now)


def insurance_titles(conn: Conn, site_ids: set[str], lang: str) -> dict[int, str]:
    """The title of each elevator insurance purchase, by draw id, worded from its policy in the reader's language:
    the library names such a draw itself, once and in two languages, so its stored item is not shown."""
    wording = translate("own_insurance_title", lang)
    return {p.draw_id: wording.format(policy=p.policy_number, start=p.period_start, end=p.period_end,
                                      n=len(p.elevators))
            for site in site_ids for p, _ in insurance.site_policies(conn, site)}


@router.get("/fund-approvals")
def fund(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.OVERSIGHT))],
         state: Annotated[DrawState | None, Query()] = None) -> HTMLResponse:
    """Draws newest first (pending ones first), filtered by state in the address; the reviewer decides on a card
    or on the draw's page."""
    found, total = draws.page_draws(conn, sites=scope_site(user, None), states=[state] if state else None,
                                    limit=DRAWS_SHOWN, offset=0)
    found.sort(key=lambda d: d.state != "pending")  # stable: newest first within each group
    zones = {d.site_id: registry.site_timezone(conn, d.site_id) for d in found}
    due = {d.id: review_deadline(d.review_due_at, zones[d.site_id]) for d in found if d.review_due_at}
    titles = insurance_titles(conn, set(zones), lang_of(request))
    return render(request, "fund.html", user, page="fund", draws=found, total=total, state=state, due=due,
                  titles=titles, now=datetime.now(UTC), homes={site: home_names(conn, site) for site in zones})


def _drawable_orders(conn: Conn, user: User) -> list[WorkOrder]:
    """Orders of the user's estates whose repair was assessed on site, that carry a fund category and have no
    draw yet (a work order draws once)."""
    sites = user.site_ids or [s.id for s in registry.list_sites(conn)]
    drawn = {d.work_order_id for site in sites for d in draws.list_draws(conn, site_id=site)}
    found = [o for site in sites for o in list_work_orders(conn, site_id=site, states=sorted(DRAWABLE_ORDER_STATES))]
    return [o for o in found if o.fund_category and o.id not in drawn]


def _amount(text: str | None) -> Decimal | None:
    """A positive sum of money in cents within what the API accepts, or ``None``."""
    try:
        value = Decimal(text or "")
        exact = value.is_finite() and 0 < value <= MAX_AMOUNT and value == value.quantize(CENT)
    except InvalidOperation:
        return None
    return value.quantize(CENT) if exact else None


@router.get("/fund-approvals/apply")
def apply(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))],
          work_order_id: Annotated[int | None, Query()] = None,
          scope: Annotated[str | None, Query(max_length=140, pattern="^((site|building|unit):.+)?$")] = None,
          estimate: Annotated[str | None, Query(max_length=20)] = None,
          kind: Annotated[str, Query(pattern="^(emergency|authorised)$")] = "emergency",
          item: Annotated[str, Query(max_length=500)] = "",
          contractor: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """Apply for a draw: pick an order, fill the form, pick the scope from the estate's buildings and units by name
    (the order's building first), see each home's share (a GET of this page), then submit to the API. Nothing is
    stored until the submit."""
    orders = _drawable_orders(conn, user)
    order = next((o for o in orders if o.id == work_order_id), None)
    lang = lang_of(request)
    names = {site: home_names(conn, site) for site in sorted({o.site_id for o in orders})}
    # Every estate's places are on the page; the form shows those of the chosen order's estate (fund.js).
    scopes = [c for site, found in names.items() for c in scope_choices(conn, site, found, lang)]
    shown, scope_type, scope_id = None, "", ""
    amount = _amount(estimate)
    if order is not None:
        settings = estate.get_site_settings(conn, order.site_id)
        scope_type, scope_id = scope.split(":", 1) if scope else _default_scope(order, scopes)
        if amount is not None:
            shown = preview(conn, order.site_id, scope_type, scope_id, amount, settings.effective_basis)
    return render(request, "draw_apply.html", user, page="fund", orders=orders, order=order, scopes=scopes,
                  scope_type=scope_type, scope_id=scope_id, estimate=estimate or "", preview=shown, kind=kind,
                  item=item, contractor=contractor, homes=order and names[order.site_id],
                  bad_estimate=bool(estimate) and amount is None)


def _default_scope(order: WorkOrder, scopes: list[ScopeChoice]) -> tuple[str, str]:
    """The order's building when it has homes (a repair in one building is paid by its homes), else the estate."""
    if any(c.site_id == order.site_id and c.type == "building" and c.id == order.building_id for c in scopes):
        return "building", str(order.building_id)
    return "site", order.site_id


@router.get("/fund-approvals/{draw_id}")
def draw_page(draw_id: int, request: Request, conn: Conn,
              user: Annotated[User, Depends(page_user(roles.OVERSIGHT))]) -> HTMLResponse:
    """One draw: what, how much, over which homes, who reviews it and by when, its steps; the decision and the
    completion for those who may take them."""
    draw = draws.get_draw(conn, draw_id)
    if draw is None:
        raise not_found("draw", draw_id)
    check_site(user, draw.site_id)
    zone = registry.site_timezone(conn, draw.site_id)
    order = get_work_order(conn, draw.work_order_id) if draw.work_order_id else None
    amount = draw.actual_cost or draw.estimate
    shares = None
    if draw.state != "rejected":  # a rejected draw charges nobody: a share table would read as if it had
        with suppress(FundError):
            shares = preview(conn, draw.site_id, draw.scope_type, draw.scope_id, amount, draw.area_basis)
    steps = draw_steps(draws.draw_events(conn, draw.id), zone)
    left = time_left(draw.review_due_at, datetime.now(UTC)) if draw.state == "pending" and draw.review_due_at else None
    title = insurance_titles(conn, {draw.site_id}, lang_of(request)).get(draw.id, draw.item)
    return render(request, "draw.html", user, page="fund", draw=draw, title=title, order=order, preview=shares,
                  steps=steps, homes=home_names(conn, draw.site_id),
                  review_due=review_deadline(draw.review_due_at, zone) if draw.review_due_at else None,
                  opened=local_time(draw.opened_at, zone), left=left,
                  can_decide=user.role == draw.route and draw.state == "pending",
                  can_complete=user.role in roles.HANDLERS and draw.state == "approved")


@router.get("/my-fund")
def my_fund(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.OWNERS))]) -> HTMLResponse:
    """The owner's own fund account (notice clause 17: owners query in real time): balance, ledger, the yearly
    statement of each year with lines, the draws that charged the home, the estate's shared-part year and its
    published annual disclosures."""
    household = estate.get_household(conn, user.household_id) if user.household_id else None
    if household is None:
        return render(request, "my_fund.html", user, page="my_fund", household=None)
    zone = registry.site_timezone(conn, household.site_id)
    lines, _ = account.account_lines(conn, household.id, limit=LEDGER_LINES, offset=0)
    years = sorted({line.created_at.astimezone(zone).year for line in lines}, reverse=True)
    charged = [line for line in lines if line.kind == "draw"]
    return render(request, "my_fund.html", user, page="my_fund", household=household,
                  home=home_names(conn, household.site_id).household(household, lang_of(request)),
                  balance=ledger.balance(conn, household.id), lines=lines, years=years, charged=charged,
                  when=lambda at: local_time(at, zone), line_text=lambda line: line_text(line, lang_of(request)),
                  accounts=estate_accounts(conn, household.site_id, drafts=False))
