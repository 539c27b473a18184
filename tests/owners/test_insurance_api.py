"""Elevator safety liability insurance bought from the fund (notice clause 16): applied for with its policy, approved
by the committee within its authorised amount (the sub-district office without a committee, an owners' vote where
the estate's rules say so), paid and apportioned cent-exact, and visible in the ledger and the public records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from dispatch import fund

from .conftest import CENT_SHORT, SITE, Estate, Headers, audit_actions, build_estate

Login = Callable[..., Headers]


def policy(estate: Estate, **changes: Any) -> dict[str, Any]:
    return {"policy_number": "PICC-ELI-2026-001", "insurer": "示例财产保险股份有限公司", "period_start": "2026-03-01",
            "period_end": "2027-03-01", "premium": "2600.00", "elevators": list(estate.elevators), **changes}


def apply(client: TestClient, login: Login, estate: Estate, role: str = "operator", **changes: Any) -> Any:
    return client.post(f"/api/v1/fund/sites/{estate.site_id}/insurance", json=policy(estate, **changes),
                       headers=login(role, site=estate.site_id))


def test_the_committee_approves_and_the_premium_is_charged_cent_exact(client: TestClient, login: Login,
                                                                      db: psycopg.Connection, estate: Estate) -> None:
    applied = apply(client, login, estate, premium="2600.00")
    assert applied.status_code == 201, applied.text
    draw = applied.json()["draw"]
    assert (draw["kind"], draw["purpose"], draw["state"], draw["route"]) == (
        "insurance", "elevator_insurance", "pending", "committee")
    assert applied.json()["policy"]["elevators"] == sorted(estate.elevators)

    approved = client.post(f"/api/v1/fund/draws/{draw['id']}/approve", json={"comment": "同意"},
                           headers=login("committee"))
    paid = client.post(f"/api/v1/fund/draws/{draw['id']}/complete", json={"actual_cost": "2600.00"},
                       headers=login("operator"))

    assert approved.status_code == 200 and paid.json()["state"] == "completed"
    charges = db.execute("SELECT amount FROM fund_ledger WHERE draw_id = %s ORDER BY household_id",
                         (draw["id"],)).fetchall()
    assert sorted(-c[0] for c in charges) == [Decimal("866.66"), Decimal("866.67"), Decimal("866.67")]
    mine = client.get("/api/v1/owners/me/fund", headers=login("owner")).json()["lines"]["items"][0]
    assert (mine["draw_id"], mine["draw_purpose"]) == (draw["id"], "elevator_insurance")
    assert fund.public_disclosures(db, SITE)[0].purpose == "elevator_insurance"


def test_a_premium_above_the_committees_amount_needs_an_owners_vote(client: TestClient, login: Login,
                                                                    estate: Estate) -> None:
    res = apply(client, login, estate, premium="20000.01")
    assert res.status_code == 409 and "the owners must vote" in res.json()["error"]["message"]


def test_where_the_assembly_wants_a_vote_the_insurance_is_bought_on_an_approved_vote(
        client: TestClient, login: Login, estate: Estate) -> None:
    settings = client.put(f"/api/v1/fund/sites/{SITE}/settings", headers=login("admin"),
                          json={"has_committee": True, "committee_limit": "20000.00", "insurance_by_vote": True})
    assert settings.status_code == 200 and settings.json()["insurance_by_vote"] is True
    without = apply(client, login, estate)
    vote = client.post(f"/api/v1/fund/sites/{SITE}/votes", headers=login("committee"), json={
        "matter": "use", "title": "购买电梯安全责任保险", "amount": "2600.00",
        "closes_at": (datetime.now(UTC) + timedelta(days=7)).isoformat()}).json()
    for household in estate.households[:2]:
        client.post(f"/api/v1/owners/votes/{vote['id']}/ballot", json={"choice": "yes"},
                    headers=login("owner", household=household))
    client.post(f"/api/v1/fund/votes/{vote['id']}/close", headers=login("committee"))

    bought = apply(client, login, estate, role="committee", vote_id=vote["id"])

    assert without.status_code == 409 and "vote" in without.json()["error"]["message"]
    assert bought.status_code == 201, bought.text
    assert (bought.json()["draw"]["kind"], bought.json()["draw"]["purpose"], bought.json()["draw"]["state"]) == (
        "voted", "elevator_insurance", "approved")


def test_the_sub_district_office_buys_and_approves_where_there_is_no_committee(
        client: TestClient, login: Login, db: psycopg.Connection, estate: Estate) -> None:
    bare = build_estate(db, "OWN6", CENT_SHORT, has_committee=False)
    applied = apply(client, login, bare, role="subdistrict", premium="2600.00")
    assert applied.status_code == 201, applied.text
    draw = applied.json()["draw"]
    approved = client.post(f"/api/v1/fund/draws/{draw['id']}/approve", json={"comment": ""},
                           headers=login("subdistrict", site="OWN6"))
    assert (draw["organiser"], draw["route"], approved.json()["state"]) == ("subdistrict", "subdistrict", "approved")


def test_the_sub_district_office_may_not_buy_for_an_estate_with_a_committee(client: TestClient, login: Login,
                                                                            estate: Estate) -> None:
    assert apply(client, login, estate, role="subdistrict").status_code == 403


def test_a_device_that_is_not_an_elevator_of_the_estate_is_refused(client: TestClient, login: Login,
                                                                   estate: Estate) -> None:
    res = apply(client, login, estate, elevators=["OWN2-B1-EL1"])
    assert res.status_code == 422 and "OWN2-B1-EL1" in res.json()["error"]["message"]


def test_the_insurance_list_and_the_audit_trail(client: TestClient, login: Login, db: psycopg.Connection,
                                                estate: Estate) -> None:
    draw_id = apply(client, login, estate).json()["draw"]["id"]
    listed = client.get(f"/api/v1/fund/sites/{SITE}/insurance", headers=login("committee")).json()
    assert [(p["policy"]["policy_number"], p["draw"]["id"]) for p in listed] == [("PICC-ELI-2026-001", draw_id)]
    assert audit_actions(db, "fund_draw") == [("fund_insurance.apply", "operator", str(draw_id))]
