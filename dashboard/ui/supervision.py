"""The sub-district's supervision pages: companies and projects, inspections, credit, red and black lists.

The pages read the ``supervision`` package in the same scope as its API (docs/supervision.md, "Access"): admins
see every company, the sub-district the companies serving or having served its estates. Every change is made by
the page's script through the audited supervision API, so the pages themselves only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.errors import forbidden
from dashboard.i18n import STRINGS, translate
from dashboard.security import Conn
from dashboard.ui.alarm_detail import clock, local_time
from dashboard.ui.rendering import lang_of, page_user, render
from dashboard.users import User
from ingest import registry
from supervision import companies, credit, inspections, lists, projects
from supervision.companies import Company
from supervision.credit import CreditMonth, Factor
from supervision.lists import LIST_TIMEZONE, ListEntry
from supervision.model import credit_model

router = APIRouter(include_in_schema=False)
Supervisor = Annotated[User, Depends(page_user(roles.SUPERVISORS))]

RATE_COUNTS: dict[str, tuple[str, str]] = {
    "sla_compliance": ("met", "decided"), "complaint_handling": ("handled", "filed"),
    "complaint_timeliness": ("replied_on_time", "replies_due"), "preventive_kept": ("kept", "due")}
"""The share factors' raw counts (hits, out of), as ``supervision.credit`` names them."""

CHART_MONTHS = 12
"""Ended months drawn in a company's score chart: a year shows the trend without crowding a phone."""


@dataclass(frozen=True)
class CompanyRow:
    """One line of the companies list: the company, the estates it serves or served, its latest published
    (ended-month) credit and the list entries in effect now."""

    company: Company
    sites: list[str]
    credit: CreditMonth | None
    redlisted: bool
    blacklisted: bool


@dataclass(frozen=True)
class FactorLine:
    """A factor of an evaluation as the page explains it: its name, the raw counts in words, and the figures."""

    factor: Factor
    name: str
    why: str


@dataclass(frozen=True)
class ChartBar:
    """A month's bar in the score chart: the month's number, its year on the first bar and in January, and the
    score and stars (``None``: not evaluated or no data, drawn as a gap)."""

    month: str
    year: str
    score: Decimal | None
    stars: int | None


def chart_bars(history: list[CreditMonth], under_way: date) -> list[ChartBar]:
    """The ``CHART_MONTHS`` ended months before ``under_way``, oldest first, each with its stored score if any."""
    by_month = {m.month: m for m in history}
    first = under_way
    for _ in range(CHART_MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
    bars, month = [], first
    while month < under_way:
        found = by_month.get(month)
        bars.append(ChartBar(f"{month.month}", f"{month.year}" if month == first or month.month == 1 else "",
                             found.score if found else None, found.stars if found else None))
        month = credit.next_month(month)
    return bars


@dataclass(frozen=True)
class EntryRow:
    """A red or black list entry with its company's name and its state now (``sup_state_*``)."""

    entry: ListEntry
    company_name: str
    state: str


def _visible_company(conn: psycopg.Connection, user: User, company_id: int) -> Company:
    """The company when the user's estates include one it serves or served; 404 then 403 as in the API."""
    found = companies.get_company(conn, company_id)
    if user.role not in roles.ADMINS and not set(companies.company_sites(conn, company_id)) & set(user.site_ids):
        raise forbidden("this company serves no estate in your scope")
    return found


def _companies(conn: psycopg.Connection, user: User) -> list[Company]:
    return companies.list_companies(conn, sites=None if user.role in roles.ADMINS else user.site_ids)


def _site_names(conn: psycopg.Connection, user: User, lang: str) -> dict[str, str]:
    """Names of the sites the user sees, by id (admins: every site), in English on English pages when the
    estate has an English name."""
    english = lang == "en"
    return {s.id: (s.name_en or s.name) if english else s.name
            for s in registry.list_sites(conn) if user.sees_site(s.id)}


def china_time(at: datetime | None) -> str:
    """A time on the list keeper's calendar (China time) with its zone marker; empty for none."""
    return local_time(at, LIST_TIMEZONE) if at else ""


def _fmt(template: str, **values: Any) -> str:
    """``template`` with its ``{name}`` fields filled from ``values``, the way the pages' scripts fill theirs."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", str(value))
    return template


def explain(factor: Factor, lang: str) -> str:
    """The raw counts behind a factor in words, e.g. ``2 / 3 张工单各环节均按时`` (the model's own measure
    text is English only, so each factor has its own sentence)."""
    counts, t = factor.counts, (lambda key: translate(key, lang))
    if factor.no_data:
        return t("sup_why_none_given")
    if factor.id == "response_time":
        acked = counts["acknowledged"]
        return _fmt(t("sup_why_response_time"), n=acked, mean=clock(timedelta(seconds=counts["ack_seconds"] / acked)))
    if factor.id in ("complaint_satisfaction", "opinion"):
        return ", ".join(f"{t('sup_rating_' + rating)} {n}" for rating, n in counts.items() if n)
    if factor.id == "inspections":
        return _fmt(t("sup_why_inspections"), n=counts.get("inspections", 0), sum=counts.get("score_sum", "0"))
    if factor.id == "booking_satisfaction":
        return _fmt(t("sup_why_booking_satisfaction"), n=counts.get("rated", 0), sum=counts.get("rating_sum", "0"))
    if factor.id in RATE_COUNTS:
        hits, total = RATE_COUNTS[factor.id]
        return _fmt(t(f"sup_why_{factor.id}"), hits=counts.get(hits, 0), total=counts.get(total, 0))
    return factor.measure  # a factor newer than these pages: the model's own words


def factor_lines(month: CreditMonth, lang: str) -> list[FactorLine]:
    """The month's factors, in the model's order, each named and explained in ``lang``."""
    return [FactorLine(f, translate(f"sup_factor_{f.id}", lang) if f"sup_factor_{f.id}" in STRINGS else f.id,
                       explain(f, lang)) for f in month.factors]


def entry_state(entry: ListEntry, now: datetime) -> str:
    """The entry's state now: revoked, draft, in effect, not yet in effect, or ended."""
    today = now.astimezone(LIST_TIMEZONE).date()
    if entry.revoked_at is not None:
        return "revoked"
    if not entry.published:
        return "draft"
    if entry.in_effect(now):
        return "in_effect"
    return "scheduled" if entry.effective_from > today else "ended"


def contract_state(starts_on: date, ends_on: date, today: date) -> str:
    """Where a contract stands on the estate's ``today``: ``now``, ``ended`` or ``future``."""
    if today < starts_on:
        return "future"
    return "ended" if today > ends_on else "now"


def _local_day(conn: psycopg.Connection, site_id: str, now: datetime) -> date:
    return now.astimezone(registry.site_timezone(conn, site_id)).date()


def _flags(conn: psycopg.Connection, company_id: int) -> tuple[bool, bool]:
    """(red-listed, black-listed) by the entries in effect now."""
    found = {e.list for e in lists.entries_in_effect(conn, company_id)}
    return "red" in found, "black" in found


def _month_label(month: date) -> str:
    return f"{month:%Y-%m}"


@router.get("/supervision")
def company_list(request: Request, conn: Conn, user: Supervisor) -> HTMLResponse:
    """Companies serving the user's estates with their latest published credit and red and black badges."""
    names = _site_names(conn, user, lang_of(request))
    rows = []
    for company in _companies(conn, user):
        red, black = _flags(conn, company.id)
        served = [names.get(site, site) for site in companies.company_sites(conn, company.id)
                  if user.sees_site(site)]
        rows.append(CompanyRow(company, served, credit.latest_credit(conn, company.id), red, black))
    return render(request, "supervision.html", user, page="supervision", tab="companies", rows=rows,
                  month_label=_month_label)


@router.get("/supervision/companies/{company_id}")
def company_page(company_id: int, request: Request, conn: Conn, user: Supervisor) -> HTMLResponse:
    """One company: its contracts, its monthly credit (ended months, and the month under way as a preview), why
    the latest ended month scored as it did, its opinions and list entries; recompute a month."""
    company = _visible_company(conn, user, company_id)
    lang = lang_of(request)
    names = _site_names(conn, user, lang)
    now = datetime.now(UTC)
    history = credit.credit_history(conn, company_id, limit=CHART_MONTHS, ended_only=True)
    latest = next((m for m in history if m.score is not None), None)
    under_way = credit.current_month(now)
    contracts = projects.list_projects(conn, sites=None if user.role in roles.ADMINS else user.site_ids,
                                       company_id=company_id)
    preview = credit.evaluate(conn, company_id, under_way, now=now) if any(
        p.starts_on < credit.next_month(under_way) and p.ends_on >= under_way for p in contracts) else None
    red, black = _flags(conn, company_id)
    states = {p.id: contract_state(p.starts_on, p.ends_on, _local_day(conn, p.site_id, now))
              for p in contracts}
    earliest = min((p.starts_on for p in contracts), default=under_way)
    return render(
        request, "supervision_company.html", user, page="supervision", tab="companies", company=company,
        contracts=contracts, contract_state=states, site_names=names, history=history, latest=latest,
        latest_lines=factor_lines(latest, lang) if latest else [], preview=preview,
        preview_lines=factor_lines(preview, lang) if preview else [],
        bars=chart_bars(history, under_way),
        opinions=inspections.list_opinions(conn, company_id), redlisted=red, blacklisted=black,
        entries=[EntryRow(e, company.name, entry_state(e, now)) for e in lists.list_entries(conn, company_id)],
        month_label=_month_label, china_time=china_time, model=credit_model(),
        first_month=f"{earliest:%Y-%m}", this_month=f"{under_way:%Y-%m}")


@router.get("/supervision/inspections")
def inspection_page(request: Request, conn: Conn, user: Supervisor) -> HTMLResponse:
    """Record an inspection of one of the user's estates (with the month's opinion of its company) and read the
    latest inspections, newest first."""
    names = _site_names(conn, user, lang_of(request))
    found = inspections.list_inspections(conn, sites=None if user.role in roles.ADMINS else user.site_ids,
                                         limit=100)
    zones: dict[str, tzinfo] = {site: registry.site_timezone(conn, site) for site in {i.site_id for i in found}}
    today = {site: datetime.now(registry.site_timezone(conn, site)).date().isoformat() for site in names}
    company_names = {c.id: c.name for c in _companies(conn, user)}
    return render(request, "supervision_inspections.html", user, page="supervision", tab="inspections",
                  site_names=names, site_today=today, inspections=found, company_names=company_names,
                  recorded_at=lambda i: local_time(i.created_at, zones[i.site_id]),
                  ratings=credit_model().factors["opinion"].ratings)


@router.get("/supervision/lists")
def list_page(request: Request, conn: Conn, user: Supervisor) -> HTMLResponse:
    """Add a red or black list entry with evidence and period; publish drafts; revoke with a reason."""
    now = datetime.now(UTC)
    found = _companies(conn, user)
    rows = [EntryRow(e, c.name, entry_state(e, now)) for c in found for e in lists.list_entries(conn, c.id)]
    rows.sort(key=lambda r: r.entry.added_at, reverse=True)
    return render(request, "supervision_lists.html", user, page="supervision", tab="lists", companies=found,
                  entries=rows, china_time=china_time,
                  today=now.astimezone(LIST_TIMEZONE).date().isoformat())
