"""Shared-part income and expenses (notice clause 8; Civil Code art. 282): recorded with date, amount, an
organisation as counterparty, basis and recorder; summed exactly by category and month for the year."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from dispatch import fund

from .conftest import SITE, Estate, Headers, audit_actions

Login = Callable[..., Headers]


def entry(**changes: Any) -> dict[str, Any]:
    return {"direction": "income", "category": "advertising", "amount": "1800.10", "occurred_on": "2026-03-25",
            "counterparty": "示例传媒广告有限公司", "basis": "电梯广告合同 2026-01", **changes}


def record(client: TestClient, login: Login, role: str = "operator", **changes: Any) -> Any:
    return client.post(f"/api/v1/fund/sites/{SITE}/shared-parts", json=entry(**changes), headers=login(role))


def test_a_record_keeps_its_counterparty_basis_and_recorder(client: TestClient, login: Login,
                                                            estate: Estate) -> None:
    res = record(client, login)
    assert res.status_code == 201, res.text
    body = res.json()
    assert (body["amount"], body["counterparty"], body["recorded_by"]) == ("1800.10", "示例传媒广告有限公司",
                                                                          "operator-own1")


def test_a_person_as_counterparty_is_refused(client: TestClient, login: Login, estate: Estate) -> None:
    res = record(client, login, counterparty="张三")
    assert res.status_code == 422 and "not an organisation" in res.json()["error"]["message"]


def test_a_category_of_the_other_direction_is_refused(client: TestClient, login: Login, estate: Estate) -> None:
    res = record(client, login, direction="expense", category="advertising")
    assert res.status_code == 422 and "operating_cost" in res.json()["error"]["message"]


def test_the_year_sums_exactly_by_category_and_month(client: TestClient, login: Login, db: psycopg.Connection,
                                                     estate: Estate) -> None:
    record(client, login, amount="0.10", occurred_on="2026-01-31")
    record(client, login, amount="0.20", occurred_on="2026-01-01")
    record(client, login, category="parking", amount="3200.00", occurred_on="2026-02-25",
           counterparty="示例停车管理有限公司")
    record(client, login, role="committee", direction="expense", category="operating_cost", amount="0.30",
           occurred_on="2026-01-15", counterparty="国网示例供电公司")
    record(client, login, amount="999.99", occurred_on="2025-12-31")

    summary = client.get(f"/api/v1/fund/sites/{SITE}/shared-parts/summary/2026", headers=login("owner")).json()

    assert (summary["income"], summary["expenses"], summary["balance"]) == ("3200.30", "0.30", "3200.00")
    assert [(c["category"], c["amount"]) for c in summary["by_category"]] == [
        ("parking", "3200.00"), ("advertising", "0.30"), ("operating_cost", "0.30")]
    assert summary["by_month"][0] == {"month": "2026-01", "income": "0.30", "expenses": "0.30", "balance": "0.00"}
    assert len(summary["by_month"]) == 12 and summary["by_month"][11]["income"] == "0.00"
    assert fund.shared_parts_summary(db, SITE, 2026).to_json() == summary


def test_records_are_listed_newest_first_for_oversight_and_not_for_owners(client: TestClient, login: Login,
                                                                          estate: Estate) -> None:
    record(client, login, occurred_on="2026-01-01")
    record(client, login, occurred_on="2026-05-01")
    listed = client.get(f"/api/v1/fund/sites/{SITE}/shared-parts?year=2026", headers=login("committee")).json()
    owner = client.get(f"/api/v1/fund/sites/{SITE}/shared-parts", headers=login("owner"))
    assert [e["occurred_on"] for e in listed["items"]] == ["2026-05-01", "2026-01-01"]
    assert owner.status_code == 403


def test_records_are_append_only(client: TestClient, login: Login, db: psycopg.Connection, estate: Estate) -> None:
    record(client, login)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("UPDATE fund_shared_part_entries SET amount = 1")


def test_every_record_is_audited(client: TestClient, login: Login, db: psycopg.Connection, estate: Estate) -> None:
    first = record(client, login).json()["id"]
    second = record(client, login, role="committee").json()["id"]
    assert audit_actions(db, "fund_shared_part") == [("fund_shared_part.record", "operator", str(first)),
                                                      ("fund_shared_part.record", "committee", str(second))]
