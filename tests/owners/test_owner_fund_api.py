"""The owner's own fund account (notice clause 17): every ledger line, newest first, with the draw and the work order
a charge paid; the yearly statement as JSON and CSV; times in the estate's zone; nothing of another household."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from fastapi.testclient import TestClient

from dispatch.fund import draws, ledger
from tests.fund.helpers import repaired_and_approved

from .conftest import SITE, Estate, Headers

Login = Callable[..., Headers]
NEW_YEAR_0030_BEIJING = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)  # 2026-01-01 00:30 +08:00


@pytest.fixture
def history(db: psycopg.Connection, estate: Estate) -> dict[str, int]:
    """On the first home: interest in 2025, a refund half an hour into 2026 (Beijing), an emergency elevator draw
    over the estate with its work order, and a sale. On the second home: a refund of its own."""
    mine, other, _ = estate.households
    ledger.credit_interest(db, mine, Decimal("67.50"), actor="bank", memo="结息",
                           now=datetime(2025, 3, 21, 1, tzinfo=UTC))
    ledger.refund(db, mine, Decimal("100.00"), actor="clerk", memo="多交退还", now=NEW_YEAR_0030_BEIJING)
    ledger.refund(db, other, Decimal("55.55"), actor="clerk", memo="多交退还", now=NEW_YEAR_0030_BEIJING)
    draw = repaired_and_approved(db, SITE, "3000.00")
    draws.complete(db, draw.id, actor="operator", now=datetime(2026, 11, 24, 2, tzinfo=UTC))
    ledger.transfer_on_sale(db, mine, None, actor="clerk", now=datetime(2026, 11, 25, 2, tzinfo=UTC))
    return {"draw_id": draw.id, "work_order_id": draw.work_order_id}


def test_the_account_lists_every_line_newest_first_with_what_a_draw_paid(
        client: TestClient, login: Login, history: dict[str, int]) -> None:
    res = client.get("/api/v1/owners/me/fund", headers=login("owner"))
    assert res.status_code == 200, res.text
    body = res.json()
    kinds = [line["kind"] for line in body["lines"]["items"]]
    charge = body["lines"]["items"][1]
    assert kinds == ["transfer", "draw", "refund", "interest", "deposit"]
    assert (charge["amount"], charge["draw_id"], charge["work_order_id"]) == (
        "-1000.00", history["draw_id"], history["work_order_id"])
    assert charge["work_order_number"] and charge["draw_purpose"] == "repair"
    assert body["balance"] == "16967.50" == body["lines"]["items"][0]["balance_after"]


def test_times_are_in_the_estates_zone_with_their_offset(client: TestClient, login: Login,
                                                         history: dict[str, int]) -> None:
    lines = client.get("/api/v1/owners/me/fund", headers=login("owner")).json()["lines"]["items"]
    refund = next(line for line in lines if line["kind"] == "refund")
    assert refund["at"] == "2026-01-01T00:30:00+08:00"


def test_the_account_is_paged(client: TestClient, login: Login, history: dict[str, int]) -> None:
    page = client.get("/api/v1/owners/me/fund?limit=2&offset=2", headers=login("owner")).json()["lines"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    assert [line["kind"] for line in page["items"]] == ["refund", "interest"]


def test_an_owner_sees_only_their_own_household(client: TestClient, login: Login, estate: Estate,
                                                history: dict[str, int]) -> None:
    mine = client.get("/api/v1/owners/me/fund", headers=login("owner")).json()
    theirs = client.get("/api/v1/owners/me/fund", headers=login("owner", household=estate.households[1])).json()
    assert mine["household_id"] == estate.households[0] and "-55.55" not in str(mine)
    assert theirs["household_id"] == estate.households[1] and "-55.55" in str(theirs)


def test_a_login_not_linked_to_a_household_gets_a_conflict(client: TestClient, login: Login, db: psycopg.Connection,
                                                           estate: Estate) -> None:
    from dashboard.users import create_user

    create_user(db, username="unlinked", password="correct-horse-42", role="owner", display_name="x",
                site_ids=[SITE])
    token = client.post("/api/v1/auth/token", data={"username": "unlinked", "password": "correct-horse-42"})
    res = client.get("/api/v1/owners/me/fund", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert res.status_code == 409


def test_a_charge_is_visible_as_soon_as_it_commits(client: TestClient, login: Login, db: psycopg.Connection,
                                                   estate: Estate) -> None:
    before = client.get("/api/v1/owners/me/fund", headers=login("owner")).json()["balance"]
    ledger.credit_interest(db, estate.households[0], Decimal("0.01"), actor="bank", memo="结息")
    after = client.get("/api/v1/owners/me/fund", headers=login("owner")).json()["balance"]
    assert Decimal(after) - Decimal(before) == Decimal("0.01")


def test_the_yearly_statement_counts_the_year_in_the_estates_zone(client: TestClient, login: Login,
                                                                  history: dict[str, int]) -> None:
    y2025 = client.get("/api/v1/owners/me/fund/statement/2025", headers=login("owner")).json()
    y2026 = client.get("/api/v1/owners/me/fund/statement/2026", headers=login("owner")).json()
    assert (y2025["opening"], y2025["deposited"], y2025["interest"], y2025["refunded"], y2025["closing"]) == (
        "0.00", "18000.00", "67.50", "0.00", "18067.50")
    assert (y2026["opening"], y2026["refunded"], y2026["used"], y2026["closing"]) == (
        "18067.50", "100.00", "1000.00", "16967.50")
    assert y2026["period_start"] == "2026-01-01T00:00:00+08:00"
    assert [line["kind"] for line in y2026["lines"]] == ["refund", "draw", "transfer"]


def statement_rows(client: TestClient, login: Login, query: str = "") -> list[list[str]]:
    res = client.get(f"/api/v1/owners/me/fund/statement/2026?format=csv{query}", headers=login("owner"))
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))


def test_the_yearly_statement_csv_reads_as_a_document_in_chinese(client: TestClient, login: Login,
                                                                   history: dict[str, int]) -> None:
    rows = statement_rows(client, login)
    assert rows[0] == ["房屋", "年度", "年初余额(元)", "交存(元)", "利息(元)", "使用(元)", "退还(元)", "年末余额(元)"]
    assert rows[1] == ["1号楼 1单元 101", "2026", "18067.50", "0.00", "0.00", "1000.00", "100.00", "16967.50"]
    assert rows[3] == ["时间(UTC+8)", "类型", "金额(元)", "余额(元)", "摘要", "分摊范围", "工单"]
    assert rows[4] == ["2026-01-01 00:30:00", "退还", "-100.00", "17967.50", "退还：多交退还", "", ""]
    charge, sale = rows[5], rows[6]
    assert charge[:4] == ["2026-11-24 10:00:00", "使用", "-1000.00", "16967.50"] and charge[5] == "全小区"
    assert charge[6].startswith("WO-")
    assert sale[1:] == ["过户", "0.00", "16967.50", "过户，余额随房屋转给新业主", "", ""]


def test_the_yearly_statement_csv_in_english_when_the_reader_chose_it(client: TestClient, login: Login,
                                                                       history: dict[str, int]) -> None:
    rows = statement_rows(client, login, "&lang=en")
    assert rows[0][:3] == ["Home", "Year", "Opening balance (CNY)"]
    assert rows[1][0] == "Bldg 1, Unit 1, Room 101"
    assert rows[4][:2] == ["2026-01-01 00:30:00", "Refund"] and rows[3][0] == "Time (UTC+8)"


def test_a_typed_item_that_looks_like_a_formula_stays_text_in_excel(client: TestClient, login: Login,
                                                                     db: psycopg.Connection, estate: Estate) -> None:
    draw = repaired_and_approved(db, SITE, "300.00", item='=HYPERLINK("http://example.com","维修")')
    draws.complete(db, draw.id, actor="operator", now=datetime(2026, 11, 24, 2, tzinfo=UTC))
    charge = next(row for row in statement_rows(client, login)[4:] if row[1] == "使用")
    assert charge[4] == '\'=HYPERLINK("http://example.com","维修")'


def test_the_statement_csv_opens_in_excel_on_chinese_windows(client: TestClient, login: Login,
                                                             history: dict[str, int], estate: Estate) -> None:
    # Excel takes a CSV without a byte-order mark for the system code page (GBK) and garbles Chinese memos.
    res = client.get("/api/v1/owners/me/fund/statement/2026?format=csv", headers=login("owner"))
    assert res.content.startswith(b"\xef\xbb\xbf")
    assert res.content[3:].decode("utf-8").startswith("房屋,")
    assert res.headers["content-disposition"] == f'attachment; filename="fund-{estate.households[0]}-2026.csv"'


def test_a_year_before_the_account_opened_is_all_zero(client: TestClient, login: Login, estate: Estate) -> None:
    res = client.get("/api/v1/owners/me/fund/statement/2020", headers=login("owner")).json()
    assert (res["opening"], res["closing"], res["lines"]) == ("0.00", "0.00", [])
    assert (datetime.fromisoformat(res["period_end"]) - datetime.fromisoformat(res["period_start"])) == timedelta(
        days=366)
