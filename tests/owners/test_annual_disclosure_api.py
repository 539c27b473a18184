"""The annual disclosure (notice clauses 8 and 17; Order 165 art. 30): generated from the ledger and the shared-part
records, reviewed with a comment and published by the committee; a published version is immutable, re-generating
makes a new version; owners and the board see only what was published."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
from fastapi.testclient import TestClient

from dispatch import fund
from dispatch.fund import draws, insurance, ledger, shared_parts

from .conftest import SITE, Estate, Headers, audit_actions

Login = Callable[..., Headers]


@pytest.fixture
def year_2025(db: psycopg.Connection, estate: Estate) -> None:
    """2025: the first deposits (in the estate fixture), interest, an insurance premium paid, shared-part records."""
    for household in estate.households:
        ledger.credit_interest(db, household, Decimal("67.50"), actor="bank", now=datetime(2025, 3, 21, tzinfo=UTC))
    terms = insurance.PolicyTerms("P-2025", "示例财产保险股份有限公司", date(2025, 3, 1), date(2026, 3, 1),
                                  Decimal("2600.00"), estate.elevators)
    draw = insurance.apply_for_insurance(db, site_id=SITE, terms=terms, actor="operator",
                                         now=datetime(2025, 2, 20, tzinfo=UTC))
    draws.approve(db, draw.id, actor="committee", role="committee", now=datetime(2025, 2, 21, tzinfo=UTC))
    draws.complete(db, draw.id, actual_cost=Decimal("2600.00"), actor="operator",
                   now=datetime(2025, 3, 1, tzinfo=UTC))
    shared_parts.record_entry(db, site_id=SITE, direction="income", category="advertising", amount=Decimal("1800.00"),
                              occurred_on=date(2025, 6, 25), counterparty="示例传媒广告有限公司", basis="合同",
                              actor="operator")


def generate(client: TestClient, login: Login, year: int = 2025) -> dict:
    res = client.post(f"/api/v1/fund/sites/{SITE}/annual-disclosures", json={"year": year},
                      headers=login("committee"))
    assert res.status_code == 201, res.text
    return res.json()


def review_and_publish(client: TestClient, login: Login, disclosure_id: int) -> dict:
    reviewed = client.post(f"/api/v1/fund/annual-disclosures/{disclosure_id}/review",
                           json={"comment": "已与银行对账单核对"}, headers=login("committee"))
    assert reviewed.status_code == 200, reviewed.text
    published = client.post(f"/api/v1/fund/annual-disclosures/{disclosure_id}/publish", headers=login("committee"))
    assert published.status_code == 200, published.text
    return published.json()


def test_the_draft_carries_the_years_ledger_insurance_and_shared_parts(client: TestClient, login: Login,
                                                                       year_2025: None) -> None:
    draft = generate(client, login)
    content = draft["content"]
    assert (draft["state"], draft["version"]) == ("draft", 1)
    assert content["fund"] == {"opening": "0.00", "deposited": "54000.00", "interest": "202.50",
                               "used": "2600.00", "refunded": "0.00", "closing": "51602.50", "households": 3}
    assert [(d["purpose"], d["total"]) for d in content["draws"]] == [("elevator_insurance", "2600.00")]
    assert content["insurance"][0]["policy_number"] == "P-2025"
    assert (content["shared_parts"]["income"], content["shared_parts"]["balance"]) == ("1800.00", "1800.00")
    assert content["period_start"] == "2025-01-01T00:00:00+08:00"
    assert "owner" not in str(content["accounts"])


def test_owners_see_a_disclosure_only_once_it_is_published(client: TestClient, login: Login, db: psycopg.Connection,
                                                           year_2025: None) -> None:
    draft = generate(client, login)
    hidden = client.get(f"/api/v1/fund/annual-disclosures/{draft['id']}", headers=login("owner"))
    hidden_list = client.get(f"/api/v1/fund/sites/{SITE}/annual-disclosures", headers=login("owner")).json()

    published = review_and_publish(client, login, draft["id"])
    shown = client.get(f"/api/v1/fund/annual-disclosures/{draft['id']}", headers=login("owner"))

    assert hidden.status_code == 404 and hidden_list == []
    assert (published["state"], published["review_comment"]) == ("published", "已与银行对账单核对")
    assert published["published_at"].endswith("+08:00")
    assert shown.status_code == 200
    assert [d.id for d in fund.published_disclosures(db, SITE)] == [draft["id"]]


def test_a_draft_cannot_be_published_before_it_is_reviewed(client: TestClient, login: Login, estate: Estate) -> None:
    draft = generate(client, login)
    res = client.post(f"/api/v1/fund/annual-disclosures/{draft['id']}/publish", headers=login("committee"))
    assert res.status_code == 409 and "reviewed" in res.json()["error"]["message"]


def test_a_published_disclosure_is_immutable(client: TestClient, login: Login, db: psycopg.Connection,
                                             year_2025: None) -> None:
    draft = generate(client, login)
    review_and_publish(client, login, draft["id"])

    again = client.post(f"/api/v1/fund/annual-disclosures/{draft['id']}/review", json={"comment": "改"},
                        headers=login("committee"))
    republish = client.post(f"/api/v1/fund/annual-disclosures/{draft['id']}/publish", headers=login("committee"))

    assert again.status_code == 409 and "generate a new version" in again.json()["error"]["message"]
    assert republish.status_code == 200
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("UPDATE fund_annual_disclosures SET content = '{}' WHERE id = %s", (draft["id"],))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("DELETE FROM fund_annual_disclosures WHERE id = %s", (draft["id"],))


def test_regenerating_makes_a_new_version_and_the_published_one_stays_until_the_next_is_published(
        client: TestClient, login: Login, db: psycopg.Connection, year_2025: None, estate: Estate) -> None:
    first = generate(client, login)
    review_and_publish(client, login, first["id"])
    ledger.credit_interest(db, estate.households[0], Decimal("0.01"), actor="bank",
                           now=datetime(2025, 12, 21, tzinfo=UTC))

    second = generate(client, login)
    still = [d.version for d in fund.published_disclosures(db, SITE)]
    review_and_publish(client, login, second["id"])
    now = [(d.version, d.content["fund"]["interest"]) for d in fund.published_disclosures(db, SITE)]

    assert (second["version"], second["state"]) == (2, "draft")
    assert still == [1] and now == [(2, "202.51")]


def test_the_sub_district_office_may_not_publish_for_an_estate_with_a_committee(client: TestClient, login: Login,
                                                                                estate: Estate) -> None:
    draft = generate(client, login)
    res = client.post(f"/api/v1/fund/annual-disclosures/{draft['id']}/review", json={"comment": "x"},
                      headers=login("subdistrict"))
    assert res.status_code == 403


def test_every_step_is_audited(client: TestClient, login: Login, db: psycopg.Connection, estate: Estate) -> None:
    draft = generate(client, login)
    review_and_publish(client, login, draft["id"])
    assert [a for a, _, _ in audit_actions(db, "fund_annual_disclosure")] == [
        "fund_annual.generate", "fund_annual.review", "fund_annual.publish"]
