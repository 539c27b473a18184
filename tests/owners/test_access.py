"""Who may call each owner-portal and committee endpoint: every role (admin, operator, crew, committee, sub-district
office, owner, public) and an anonymous caller, on an estate with an owners' committee. A role let in may still be
refused for what it asks (409, 422); a role not let in gets 403, an anonymous caller 401. Where the estate has a
committee, the sub-district office is refused the committee's own acts (403)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from dispatch.fund import annual, votes

from .conftest import ROLES, SITE, Estate, Headers

READERS = {"admin", "operator", "committee", "subdistrict", "owner"}
OVERSIGHT = {"admin", "operator", "committee", "subdistrict"}
STEWARD = {"committee"}  # the committee acts; the sub-district office passes the role gate but is refused (403)
OWNER = {"owner"}
FUTURE = (datetime.now(UTC) + timedelta(days=7)).isoformat()
# (method, path, body, roles that get past authorisation)
ENDPOINTS: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/api/v1/owners/me/fund", None, OWNER),
    ("GET", "/api/v1/owners/me/fund/statement/2026", None, OWNER),
    ("GET", "/api/v1/owners/me/votes", None, OWNER),
    ("POST", "/api/v1/owners/votes/{vote}/ballot", {"choice": "yes"}, OWNER),
    ("GET", "/api/v1/fund/vote-rules", None, READERS),
    ("GET", "/api/v1/fund/sites/{site}/votes", None, READERS),
    ("POST", "/api/v1/fund/sites/{site}/votes", {"matter": "use", "title": "x", "closes_at": FUTURE}, STEWARD),
    ("GET", "/api/v1/fund/votes/{vote}", None, READERS),
    ("POST", "/api/v1/fund/votes/{vote}/close", None, STEWARD),
    ("GET", "/api/v1/fund/sites/{site}/vote-results", None, READERS),
    ("GET", "/api/v1/fund/sites/{site}/shared-parts", None, OVERSIGHT),
    ("POST", "/api/v1/fund/sites/{site}/shared-parts", {"direction": "income", "category": "parking", "amount": "1.00",
                                                        "occurred_on": "2026-11-01", "counterparty": "某停车有限公司",
                                                        "basis": "x"}, OVERSIGHT),
    ("GET", "/api/v1/fund/sites/{site}/shared-parts/summary/2026", None, READERS),
    ("GET", "/api/v1/fund/sites/{site}/annual-disclosures", None, READERS),
    ("POST", "/api/v1/fund/sites/{site}/annual-disclosures", {"year": 2025}, STEWARD),
    ("GET", "/api/v1/fund/annual-disclosures/{disclosure}", None, READERS - OWNER),  # owners: 404 until published
    ("POST", "/api/v1/fund/annual-disclosures/{disclosure}/review", {"comment": "ok"}, STEWARD),
    ("POST", "/api/v1/fund/annual-disclosures/{disclosure}/publish", None, STEWARD),
    ("GET", "/api/v1/fund/sites/{site}/insurance", None, OVERSIGHT),
    ("POST", "/api/v1/fund/sites/{site}/insurance", {"policy_number": "A-1", "insurer": "某保险股份有限公司",
                                                     "period_start": "2026-03-01", "period_end": "2027-03-01",
                                                     "premium": "100.00", "elevators": ["OWN1-B1-EL1"]},
     OVERSIGHT - {"subdistrict"}),  # the sub-district office buys only where there is no committee
]


@pytest.fixture
def ids(db: psycopg.Connection, estate: Estate) -> dict[str, str]:
    vote = votes.open_vote(db, site_id=SITE, scope_type="site", scope_id=SITE, matter="use", title="x",
                           closes_at=datetime.now(UTC) + timedelta(days=7), actor="committee")
    draft = annual.generate(db, SITE, 2025, actor="committee")
    return {"site": SITE, "vote": str(vote.id), "disclosure": str(draft.id)}


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_each_role_gets_what_its_group_allows(client: TestClient, login: Callable[..., Headers],
                                              ids: dict[str, str], method: str, path: str, body: Any,
                                              allowed: set[str]) -> None:
    url = path.format(**ids)
    anonymous = client.request(method, url, json=body)
    assert anonymous.status_code == 401, anonymous.text
    for role in ("public", "crew", "owner", "operator", "subdistrict", "admin", "committee"):
        res = client.request(method, url, json=body, headers=login(role))
        if role in allowed:
            assert res.status_code not in (401, 403) and res.status_code < 500, f"{role}: {res.text}"
        else:
            assert res.status_code in (403, 404), f"{role} got {res.status_code}: {res.text}"
    assert set(ROLES) >= allowed
