"""Supervision of property companies (notice clauses 20 and 21) over ``supervision``: companies and their
projects, sub-district inspections and opinions, the monthly credit evaluation, red and black lists; and the
public face of a company's credit under ``/api/v1/public`` (no sign-in, no personal data).

Scope: admins see every company; anyone else sees a company that serves or served one of their estates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import forbidden, not_found
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from dispatch.workorders import get_work_order
from supervision import companies, credit, inspections, lists, projects
from supervision.companies import Company
from supervision.credit import CreditMonth
from supervision.inspections import Inspection, InspectionItem, Opinion
from supervision.lists import ListEntry
from supervision.projects import Project, ProjectView

router = APIRouter(prefix="/api/v1", tags=["supervision"])

Admin = Annotated[User, Depends(require(roles.ADMINS))]
Supervisor = Annotated[User, Depends(require(roles.SUPERVISORS))]
Inspector = Annotated[User, Depends(require(roles.INSPECTORS))]
Reader = Annotated[User, Depends(require(roles.OVERSIGHT))]
Phone = Annotated[str, Field(max_length=64)]


class CompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(min_length=1, max_length=32, description="统一社会信用代码, GB 32100-2015")
    phone: Phone = ""
    address: str = Field("", max_length=500)


class CompanyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    credit_code: str | None = Field(None, min_length=1, max_length=32)
    phone: Phone | None = None
    address: str | None = Field(None, max_length=500)


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: int
    site_id: str = Field(min_length=1, max_length=64)
    starts_on: date
    ends_on: date
    service_level: str = Field(min_length=1, max_length=100)
    fee_per_m2_month: Decimal = Field(ge=0, max_digits=14, decimal_places=2, description="yuan per m² per month")
    manager_name: str = Field(min_length=1, max_length=100)
    manager_phone: Phone


class ProjectPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_on: date | None = None
    ends_on: date | None = None
    service_level: str | None = Field(None, min_length=1, max_length=100)
    fee_per_m2_month: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    manager_name: str | None = Field(None, min_length=1, max_length=100)
    manager_phone: Phone | None = None


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=200)
    result: Literal["pass", "fail"]
    remarks: str = Field("", max_length=2000)


class InspectionIn(BaseModel):
    """An inspection; ``company_id`` defaults to the company serving the site that day."""

    model_config = ConfigDict(extra="forbid")
    site_id: str = Field(min_length=1, max_length=64)
    company_id: int | None = None
    inspected_on: date
    items: list[ItemIn] = Field(min_length=1, max_length=200)
    score: Decimal = Field(ge=0, le=100, max_digits=5, decimal_places=2)


class OpinionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: Literal["excellent", "good", "qualified", "unqualified"]
    text: str = Field("", max_length=4000)


class ListEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    list: Literal["red", "black"]
    reason: str = Field(min_length=1, max_length=2000)
    evidence: str = Field("", max_length=8000)
    evidence_links: list[Annotated[str, Field(max_length=1000)]] = Field(default_factory=list, max_length=50)
    work_order_ids: list[int] = Field(default_factory=list, max_length=200)
    effective_from: date
    effective_until: date | None = None
    published: bool = False


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class PublicFactor(BaseModel):
    id: str
    measure: str
    score: Decimal | None
    effective_weight: Decimal
    contribution: Decimal | None
    no_data: bool


class PublicMonth(BaseModel):
    month: date
    score: Decimal | None
    stars: int | None
    model_version: str
    factors: list[PublicFactor]


class PublicEntry(BaseModel):
    """A published list entry without the officials' names or internal order ids."""

    list: str
    reason: str
    evidence: str
    evidence_links: list[str]
    effective_from: date
    effective_until: date | None
    published_at: datetime | None
    in_effect: bool
    revoked_at: datetime | None
    revoke_reason: str | None


class PublicCredit(BaseModel):
    company_id: int
    name: str
    credit_code: str
    months: list[PublicMonth]
    list_entries: list[PublicEntry]


def _visible_company(conn: Conn, user: User, company_id: int) -> Company:
    """The company, if the caller's scope covers one of the estates it serves or served (404, then 403)."""
    found = companies.get_company(conn, company_id)
    if user.role not in roles.ADMINS and not set(companies.company_sites(conn, company_id)) & set(user.site_ids):
        raise forbidden("this company serves no estate in your scope")
    return found


def _visible_entry(conn: Conn, user: User, entry_id: int) -> ListEntry:
    entry = lists.get_entry(conn, entry_id)
    _visible_company(conn, user, entry.company_id)
    return entry


# --- companies and projects ---------------------------------------------------------------------------------------


@router.get("/companies", response_model=list[Company], summary="Property companies (sub-district: its estates')")
def list_companies(conn: Conn, user: Supervisor) -> list[Company]:
    """By name; a sub-district user sees the companies serving or having served its estates."""
    return companies.list_companies(conn, sites=None if user.role in roles.ADMINS else user.site_ids)


@router.post("/companies", response_model=Company, status_code=201, summary="Register a property company")
def create_company(body: CompanyIn, conn: Conn, user: Admin) -> Company:
    """422 for a credit code that fails GB 32100-2015 (length, code table, check character); 409 for a code
    already registered."""
    made = companies.create_company(conn, **body.model_dump())
    audit.record(conn, user, "company.create", "company", str(made.id), detail={"credit_code": made.credit_code})
    return made


@router.get("/companies/{company_id}", response_model=Company, summary="One property company")
def get_company(company_id: int, conn: Conn, user: Supervisor) -> Company:
    return _visible_company(conn, user, company_id)


@router.patch("/companies/{company_id}", response_model=Company, summary="Change a company's name, code or contacts")
def update_company(company_id: int, body: CompanyPatch, conn: Conn, user: Admin) -> Company:
    changes = body.model_dump(exclude_unset=True)
    changed = companies.update_company(conn, company_id, **changes)
    audit.record(conn, user, "company.update", "company", str(company_id), detail={"fields": sorted(changes)})
    return changed


@router.delete("/companies/{company_id}", status_code=204, summary="Remove a company nothing refers to")
def delete_company(company_id: int, conn: Conn, user: Admin) -> Response:
    """409 once the company has a project or any supervision record."""
    companies.delete_company(conn, company_id)
    audit.record(conn, user, "company.delete", "company", str(company_id))
    return Response(status_code=204)


@router.get("/projects", response_model=list[Project], summary="Contracts of companies with estates")
def list_projects(conn: Conn, user: Supervisor, site_id: Annotated[str | None, Query(max_length=64)] = None,
                  company_id: int | None = None) -> list[Project]:
    """Latest contract first, of the caller's estates."""
    return projects.list_projects(conn, sites=scope_site(user, site_id), company_id=company_id)


@router.post("/projects", response_model=Project, status_code=201, summary="Record a company's contract for an estate")
def create_project(body: ProjectIn, conn: Conn, user: Admin) -> Project:
    """409 when the period overlaps another contract of the estate; 422 for an unknown site or a period that ends
    before it starts."""
    made = projects.create_project(conn, **body.model_dump())
    audit.record(conn, user, "project.create", "project", str(made.id), site_id=made.site_id,
                 detail={"company_id": made.company_id, "starts_on": str(made.starts_on),
                         "ends_on": str(made.ends_on)})
    return made


@router.patch("/projects/{project_id}", response_model=Project, summary="Change a contract: period, fee, manager")
def update_project(project_id: int, body: ProjectPatch, conn: Conn, user: Admin) -> Project:
    changes = body.model_dump(exclude_unset=True)
    changed = projects.update_project(conn, project_id, **changes)
    audit.record(conn, user, "project.update", "project", str(project_id), site_id=changed.site_id,
                 detail={"fields": sorted(changes)})
    return changed


@router.get("/sites/{site_id}/project", response_model=ProjectView,
            summary="The company serving an estate now: contacts, contract, manager, credit, list entries")
def site_project(site_id: str, conn: Conn, user: Reader) -> ProjectView:
    """404 when no contract covers today."""
    check_site(user, site_id)
    view = projects.current_project(conn, site_id)
    if view is None:
        raise not_found("project of site", site_id)
    return view


# --- inspections and opinions ------------------------------------------------------------------------------------


@router.post("/inspections", response_model=Inspection, status_code=201, summary="Record an inspection (日常检查)")
def record_inspection(body: InspectionIn, conn: Conn, user: Inspector) -> Inspection:
    """Of an estate in the inspector's scope; 422 when no company serves it that day (or the named one does not)."""
    check_site(user, body.site_id)
    made = inspections.record_inspection(
        conn, site_id=body.site_id, company_id=body.company_id, inspected_on=body.inspected_on, inspector_id=user.id,
        inspector=user.username, items=[InspectionItem(**i.model_dump()) for i in body.items], score=body.score)
    audit.record(conn, user, "inspection.create", "inspection", str(made.id), site_id=made.site_id,
                 detail={"company_id": made.company_id, "score": str(made.score)})
    return made


@router.get("/inspections", response_model=list[Inspection], summary="Inspections of the caller's estates")
def list_inspections(conn: Conn, user: Reader, site_id: Annotated[str | None, Query(max_length=64)] = None,
                     company_id: int | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[Inspection]:
    """Newest first."""
    return inspections.list_inspections(conn, sites=scope_site(user, site_id), company_id=company_id,
                                        limit=limit, offset=offset)


@router.get("/inspections/{inspection_id}", response_model=Inspection, summary="One inspection")
def get_inspection(inspection_id: int, conn: Conn, user: Reader) -> Inspection:
    found = inspections.get_inspection(conn, inspection_id)
    check_site(user, found.site_id)
    return found


@router.put("/companies/{company_id}/opinions/{month}", response_model=Opinion,
            summary="The sub-district's opinion (评价意见) of a company for a month (YYYY-MM)")
def set_opinion(company_id: int, month: str, body: OpinionIn, conn: Conn, user: Inspector) -> Opinion:
    """Replaces the month's earlier opinion; 422 for a month not begun."""
    _visible_company(conn, user, company_id)
    made = inspections.set_opinion(conn, company_id=company_id, month=credit.parse_month(month), rating=body.rating,
                                   text=body.text, author=user.username)
    audit.record(conn, user, "opinion.set", "company", str(company_id), detail={"month": month, "rating": body.rating})
    return made


@router.get("/companies/{company_id}/opinions", response_model=list[Opinion], summary="A company's opinions")
def list_opinions(company_id: int, conn: Conn, user: Reader) -> list[Opinion]:
    _visible_company(conn, user, company_id)
    return inspections.list_opinions(conn, company_id)


# --- credit --------------------------------------------------------------------------------------------------------


@router.get("/companies/{company_id}/credit", response_model=list[CreditMonth],
            summary="A company's monthly credit evaluations, factor by factor")
def company_credit(company_id: int, conn: Conn, user: Reader,
                   limit: Annotated[int, Query(ge=1, le=120)] = 24) -> list[CreditMonth]:
    """Latest month first; each factor with its measured value, score, weights, contribution and raw counts."""
    _visible_company(conn, user, company_id)
    return credit.credit_history(conn, company_id, limit=limit)


@router.post("/companies/{company_id}/credit/{month}/recompute", response_model=CreditMonth,
             summary="Evaluate a company's month (YYYY-MM) now from the data as it stands")
def recompute_credit(company_id: int, month: str, conn: Conn, user: Supervisor) -> CreditMonth:
    """Replaces the month's stored evaluation; 422 for a month not begun."""
    _visible_company(conn, user, company_id)
    result = credit.recompute(conn, company_id, credit.parse_month(month))
    audit.record(conn, user, "credit.recompute", "company", str(company_id),
                 detail={"month": month, "score": str(result.score) if result.score is not None else None,
                         "stars": result.stars})
    return result


# --- red and black lists -------------------------------------------------------------------------------------------


@router.get("/companies/{company_id}/list-entries", response_model=list[ListEntry],
            summary="A company's red and black list entries, drafts and revoked ones included")
def list_entries(company_id: int, conn: Conn, user: Reader) -> list[ListEntry]:
    _visible_company(conn, user, company_id)
    return lists.list_entries(conn, company_id)


@router.post("/companies/{company_id}/list-entries", response_model=ListEntry, status_code=201,
             summary="Put a company on the red or black list")
def add_entry(company_id: int, body: ListEntryIn, conn: Conn, user: Inspector) -> ListEntry:
    """Evidence may name work orders of the caller's estates (403 for others, 422 for unknown ones)."""
    _visible_company(conn, user, company_id)
    for order_id in body.work_order_ids:
        order = get_work_order(conn, order_id)
        if order is not None and not user.sees_site(order.site_id):
            raise forbidden(f"work order {order_id} is outside your scope")
    fields = body.model_dump()
    made = lists.add_entry(conn, company_id=company_id, list_name=fields.pop("list"), added_by=user.username,
                           **fields)
    audit.record(conn, user, "list_entry.add", "list_entry", str(made.id),
                 detail={"company_id": company_id, "list": made.list, "published": made.published})
    return made


@router.post("/list-entries/{entry_id}/publish", response_model=ListEntry, summary="Publish a draft entry")
def publish_entry(entry_id: int, conn: Conn, user: Inspector) -> ListEntry:
    """409 for a revoked entry."""
    _visible_entry(conn, user, entry_id)
    made = lists.publish_entry(conn, entry_id)
    audit.record(conn, user, "list_entry.publish", "list_entry", str(entry_id), detail={"company_id": made.company_id})
    return made


@router.post("/list-entries/{entry_id}/revoke", response_model=ListEntry, summary="Revoke an entry with the reason")
def revoke_entry(entry_id: int, body: RevokeIn, conn: Conn, user: Inspector) -> ListEntry:
    """409 for an entry revoked already."""
    _visible_entry(conn, user, entry_id)
    made = lists.revoke_entry(conn, entry_id, reason=body.reason, revoked_by=user.username)
    audit.record(conn, user, "list_entry.revoke", "list_entry", str(entry_id), detail={"company_id": made.company_id})
    return made


# --- public --------------------------------------------------------------------------------------------------------


@router.get("/public/companies/{company_id}/credit", response_model=PublicCredit, tags=["public"],
            summary="A company's published credit and list entries (no sign-in)")
def public_credit(company_id: int, conn: Conn) -> PublicCredit:
    """The last 12 evaluated months that have ended and the published list entries, with no names of officials."""
    found = companies.get_company(conn, company_id)
    months = [PublicMonth(month=m.month, score=m.score, stars=m.stars, model_version=m.model_version,
                          factors=[PublicFactor(id=f.id, measure=f.measure, score=f.score,
                                                effective_weight=f.effective_weight, contribution=f.contribution,
                                                no_data=f.no_data) for f in m.factors])
              for m in credit.credit_history(conn, company_id, limit=12, ended_only=True)]
    now = datetime.now(UTC)
    entries = [PublicEntry(list=e.list, reason=e.reason, evidence=e.evidence, evidence_links=e.evidence_links,
                           effective_from=e.effective_from, effective_until=e.effective_until,
                           published_at=e.published_at, in_effect=e.in_effect(now), revoked_at=e.revoked_at,
                           revoke_reason=e.revoke_reason)
               for e in lists.list_entries(conn, company_id, published_only=True)]
    return PublicCredit(company_id=found.id, name=found.name, credit_code=found.credit_code, months=months,
                        list_entries=entries)
