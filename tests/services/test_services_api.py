"""Services and prices (clause 11), home-service bookings (clause 15) and board items (clause 19) through the API,
against the seeded demo estate: rules, per-role access and the audit trail."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from dashboard.users import create_user
from dispatch.fund import estate
from ingest.database import connect
from services import bookings

ROLES = ("admin", "operator", "crew", "committee", "subdistrict", "owner", "public")
_codes = itertools.count()


def _audit(api: TestClient, as_role, target_type: str, target_id: str) -> list[str]:
    res = api.get(f"/api/v1/audit?target_type={target_type}&target_id={target_id}", headers=as_role("admin"))
    return [e["action"] for e in res.json()["items"]]


@pytest.fixture
def new_service(world, api: TestClient, as_role) -> Callable[..., dict]:
    """A published bookable extra service of the estate, first priced on 2025-01-01."""

    def make(price: str = "45.00", **extra: object) -> dict:
        body = {"code": f"svc-{next(_codes)}", "kind": "extra", "name": "家电清洗", "content": "空调、油烟机清洗",
                "standard": "上门后2小时内完成", "price": price, "unit": "元/次", "basis": "物业服务合同补充协议第五条",
                "effective_from": "2025-01-01", "bookable": True, **extra}
        res = api.post(f"/api/v1/sites/{world.site_id}/services", json=body, headers=as_role("operator"))
        assert res.status_code == 201, res.text
        return res.json()

    return make


def _slot(days: int = 2) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return {"slot_start": start.isoformat(), "slot_end": (start + timedelta(hours=2)).isoformat()}


@pytest.fixture
def booking(api: TestClient, as_role, new_service) -> Callable[[], dict]:
    def make() -> dict:
        res = api.post("/api/v1/bookings", json={"service_id": new_service()["id"], **_slot(), "note": "厨房"},
                       headers=as_role("owner"))
        assert res.status_code == 201, res.text
        return res.json()

    return make


def _act(api: TestClient, as_role, booking_id: int, action: str, role: str, **body: object):
    return api.post(f"/api/v1/bookings/{booking_id}/{action}", json=body or None, headers=as_role(role))


# --- services and prices --------------------------------------------------------------------------------------


def test_an_operator_lists_a_service_and_the_committee_reads_it_with_its_price(world, api: TestClient, as_role,
                                                                               new_service) -> None:
    made = new_service()
    read = api.get(f"/api/v1/services/{made['id']}", headers=as_role("committee")).json()
    assert (read["price"], read["unit"], read["standard"]) == ("45.00", "元/次", "上门后2小时内完成")
    assert read["updated_by"] == world.passwords["operator"][0] and read["updated_role"] == "operator"
    assert _audit(api, as_role, "service", str(made["id"])) == ["service.create"]


def test_owners_see_only_published_services(world, api: TestClient, as_role, new_service) -> None:
    hidden = new_service(published=False)
    listed = api.get(f"/api/v1/sites/{world.site_id}/services", headers=as_role("owner")).json()
    assert hidden["id"] not in {s["id"] for s in listed}
    assert hidden["id"] in {s["id"] for s in api.get(f"/api/v1/sites/{world.site_id}/services",
                                                     headers=as_role("operator")).json()}


def test_only_an_extra_service_can_be_bookable(world, api: TestClient, as_role, new_service) -> None:
    res = api.post(f"/api/v1/sites/{world.site_id}/services", headers=as_role("operator"), json={
        "code": "fee-bookable", "kind": "fee", "name": "x", "content": "x", "standard": "x", "price": "1.00",
        "unit": "元/月", "basis": "x", "effective_from": "2025-01-01", "bookable": True})
    assert res.status_code == 422


def test_a_price_adjustment_is_kept_in_history_with_its_basis(api: TestClient, as_role, new_service) -> None:
    made = new_service("45.00")
    today = datetime.now(UTC).date().isoformat()
    res = api.post(f"/api/v1/services/{made['id']}/prices", headers=as_role("operator"), json={
        "price": "52.00", "effective_from": today, "basis": "2026年业主大会决议第3号"})
    assert res.status_code == 201, res.text
    history = api.get(f"/api/v1/services/{made['id']}/prices", headers=as_role("subdistrict")).json()
    assert [(h["price"], h["previous_price"], h["basis"]) for h in history] == [
        ("45.00", None, "物业服务合同补充协议第五条"), ("52.00", "45.00", "2026年业主大会决议第3号")]
    assert api.get(f"/api/v1/services/{made['id']}", headers=as_role("owner")).json()["price"] == "52.00"
    assert _audit(api, as_role, "service", str(made["id"]))[0] == "service.price"


def test_a_price_cannot_be_rewritten_before_the_newest_adjustment(api: TestClient, as_role, new_service) -> None:
    made = new_service()
    res = api.post(f"/api/v1/services/{made['id']}/prices", headers=as_role("operator"),
                   json={"price": "1.00", "effective_from": "2025-01-01", "basis": "更正"})
    assert res.status_code == 409


def test_a_price_adjustment_needs_its_basis(api: TestClient, as_role, new_service) -> None:
    made = new_service()
    res = api.post(f"/api/v1/services/{made['id']}/prices", headers=as_role("operator"),
                   json={"price": "50.00", "effective_from": "2030-01-01", "basis": ""})
    assert res.status_code == 422


def test_the_price_history_cannot_be_edited_in_the_database(world, new_service) -> None:
    made = new_service("45.00")
    with connect(world.database_url) as conn:
        conn.execute("UPDATE service_prices SET price = 1 WHERE service_id = %s", (made["id"],))
        conn.execute("DELETE FROM service_prices WHERE service_id = %s", (made["id"],))
        rows = conn.execute("SELECT price FROM service_prices WHERE service_id = %s", (made["id"],)).fetchall()
    assert rows == [(Decimal("45.00"),)]


# --- bookings ----------------------------------------------------------------------------------------------------


def test_a_booking_goes_from_requested_to_rated_at_the_price_of_booking_day(api: TestClient, as_role,
                                                                            new_service) -> None:
    service = new_service("45.00")
    made = api.post("/api/v1/bookings", json={"service_id": service["id"], **_slot()}, headers=as_role("owner"))
    assert made.status_code == 201 and made.json()["state"] == "requested" and made.json()["price"] == "45.00"
    booking_id = made.json()["id"]
    api.post(f"/api/v1/services/{service['id']}/prices", headers=as_role("operator"), json={
        "price": "60.00", "effective_from": datetime.now(UTC).date().isoformat(), "basis": "合同第八条"})
    assert _act(api, as_role, booking_id, "confirm", "operator").json()["state"] == "confirmed"
    assert _act(api, as_role, booking_id, "done", "operator").json()["state"] == "done"
    rated = _act(api, as_role, booking_id, "rate", "owner", rating=4, comment="准时").json()
    assert (rated["state"], rated["rating"], rated["price"]) == ("rated", 4, "45.00")
    assert _audit(api, as_role, "booking", str(booking_id)) == [
        "booking.rate", "booking.done", "booking.confirm", "booking.request"]


def test_an_owner_cancels_a_requested_booking(api: TestClient, as_role, booking) -> None:
    made = booking()
    res = _act(api, as_role, made["id"], "cancel", "owner")
    assert res.status_code == 200 and res.json()["cancelled_role"] == "owner"


def test_an_owner_cannot_cancel_a_confirmed_booking(api: TestClient, as_role, booking) -> None:
    made = booking()
    _act(api, as_role, made["id"], "confirm", "operator")
    assert _act(api, as_role, made["id"], "cancel", "owner").status_code == 409


def test_an_operator_cancels_a_confirmed_booking_only_with_a_reason(api: TestClient, as_role, booking) -> None:
    made = booking()
    _act(api, as_role, made["id"], "confirm", "operator")
    assert _act(api, as_role, made["id"], "cancel", "operator").status_code == 422
    res = _act(api, as_role, made["id"], "cancel", "operator", reason="保洁员生病，已电话致歉")
    assert res.status_code == 200 and res.json()["cancel_reason"] == "保洁员生病，已电话致歉"


def test_a_delivered_booking_cannot_be_cancelled(api: TestClient, as_role, booking) -> None:
    made = booking()
    _act(api, as_role, made["id"], "confirm", "operator")
    _act(api, as_role, made["id"], "done", "operator")
    assert _act(api, as_role, made["id"], "cancel", "operator", reason="x").status_code == 409


def test_a_booking_is_rated_once_from_1_to_5_after_it_is_done(api: TestClient, as_role, booking) -> None:
    made = booking()
    assert _act(api, as_role, made["id"], "rate", "owner", rating=5).status_code == 409
    _act(api, as_role, made["id"], "confirm", "operator")
    _act(api, as_role, made["id"], "done", "operator")
    assert _act(api, as_role, made["id"], "rate", "owner", rating=6).status_code == 422
    assert _act(api, as_role, made["id"], "rate", "owner", rating=5).status_code == 200
    assert _act(api, as_role, made["id"], "rate", "owner", rating=1).status_code == 409


def _book_at(api: TestClient, as_role, service_id: int, start: datetime, hours: float):
    return api.post("/api/v1/bookings", json={"service_id": service_id, "slot_start": start.isoformat(),
                                              "slot_end": (start + timedelta(hours=hours)).isoformat()},
                    headers=as_role("owner"))


def _reason(res) -> str:
    assert res.status_code == 422, res.text
    return res.json()["error"]["details"]["reason"]


def test_a_slot_needs_an_hours_notice(api: TestClient, as_role, new_service) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=30)
    assert _reason(_book_at(api, as_role, new_service()["id"], soon, 1)) == "SlotNotAhead"


def test_a_slot_in_the_past_is_refused(api: TestClient, as_role, new_service) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert _reason(_book_at(api, as_role, new_service()["id"], yesterday, 1)) == "SlotNotAhead"


def test_a_slot_beyond_ninety_days_is_refused(api: TestClient, as_role, new_service) -> None:
    far = datetime.now(UTC) + timedelta(days=91)
    assert _reason(_book_at(api, as_role, new_service()["id"], far, 1)) == "SlotTooFarAhead"


def test_a_slot_ending_before_it_starts_is_refused(api: TestClient, as_role, new_service) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    assert _reason(_book_at(api, as_role, new_service()["id"], start, -1)) == "SlotEndsBeforeStart"


def test_a_slot_shorter_than_the_priced_unit_is_refused(api: TestClient, as_role, new_service) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    service = new_service(unit="元/2小时")["id"]
    assert _reason(_book_at(api, as_role, service, start, 1)) == "SlotShorterThanUnit"


def test_a_time_priced_service_is_booked_in_whole_units(api: TestClient, as_role, new_service) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    service = new_service(unit="元/2小时")["id"]
    assert _reason(_book_at(api, as_role, service, start, 3)) == "SlotNotWholeUnits"
    assert _book_at(api, as_role, service, start, 4).status_code == 201


def test_a_slot_shorter_than_the_services_own_minimum_is_refused(api: TestClient, as_role, new_service) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    service = new_service(unit="元/小时", standard="2小时起", min_slot_minutes=120)["id"]
    assert _reason(_book_at(api, as_role, service, start, 1)) == "SlotShorterThanMinimum"
    assert _book_at(api, as_role, service, start, 2).status_code == 201


def test_a_visit_window_is_at_least_an_hour(api: TestClient, as_role, new_service) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    assert _reason(_book_at(api, as_role, new_service()["id"], start, 0.5)) == "SlotShorterThanUnit"


def test_a_slot_longer_than_a_working_day_is_refused(api: TestClient, as_role, new_service) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    assert _reason(_book_at(api, as_role, new_service(unit="元/小时")["id"], start, 9)) == "SlotTooLong"


def test_a_service_that_is_not_bookable_cannot_be_booked(api: TestClient, as_role, new_service) -> None:
    res = api.post("/api/v1/bookings", json={"service_id": new_service(bookable=False)["id"], **_slot()},
                   headers=as_role("owner"))
    assert res.status_code == 409


def test_an_owner_sees_only_their_own_households_bookings(world, api: TestClient, as_role, booking) -> None:
    mine = booking()
    with connect(world.database_url) as conn:
        other = estate.list_households(conn, world.site_id)[1]
        create_user(conn, username="neighbour", password="neighbour-pass-1", role="owner", display_name="邻居",
                    site_ids=[world.site_id], household_id=other.id)
        conn.commit()
    token = api.post("/api/v1/auth/token", data={"username": "neighbour", "password": "neighbour-pass-1"})
    neighbour = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert api.get(f"/api/v1/bookings/{mine['id']}", headers=neighbour).status_code == 404
    assert mine["id"] not in {b["id"] for b in api.get("/api/v1/bookings", headers=neighbour).json()}
    assert mine["id"] in {b["id"] for b in api.get("/api/v1/bookings", headers=as_role("owner")).json()}
    assert _act(api, as_role, mine["id"], "cancel", "owner").status_code == 200
    assert api.post(f"/api/v1/bookings/{mine['id']}/rate", json={"rating": 1}, headers=neighbour).status_code == 404


def test_the_operator_sees_the_estates_bookings(world, api: TestClient, as_role, booking) -> None:
    made = booking()
    listed = api.get(f"/api/v1/bookings?site_id={world.site_id}&state=requested", headers=as_role("operator"))
    assert made["id"] in {b["id"] for b in listed.json()}


def test_booking_satisfaction_counts_the_bookings_rated_in_the_period_and_their_mean(world, new_service) -> None:
    service_id = new_service()["id"]
    start = datetime(2031, 3, 1, tzinfo=UTC)
    with connect(world.database_url) as conn:
        household = estate.list_households(conn, world.site_id)[0].id
        for day, rating in ((1, 3), (2, 4), (40, 1)):
            at = start + timedelta(days=day)
            made = bookings.book(conn, service_id=service_id, household_id=household, site_id=world.site_id,
                                 slot_start=at + timedelta(hours=1), slot_end=at + timedelta(hours=2), note="",
                                 actor="owner", now=at)
            bookings.confirm(conn, made.id, actor="operator", now=at)
            bookings.mark_done(conn, made.id, actor="operator", now=at + timedelta(hours=2))
            bookings.rate(conn, made.id, rating=rating, now=at + timedelta(hours=3))
        found = bookings.booking_satisfaction(conn, world.site_id, start, start + timedelta(days=31))
        conn.rollback()
    assert (found.rated, found.mean_rating, found.rating_sum) == (2, Decimal("3.50"), 7)


# --- board items -------------------------------------------------------------------------------------------------


def test_an_operators_parking_figures_reach_the_board_with_their_role(world, api: TestClient, as_role) -> None:
    res = api.put(f"/api/v1/sites/{world.site_id}/board-items/parking", headers=as_role("operator"),
                  json={"total": 420, "sold": 265, "rented": 108, "visitor": 20, "note": "东门访客车位"})
    assert res.status_code == 200 and res.json()["vacant"] == 27
    parking = api.get(f"/api/v1/public/sites/{world.site_id}/board").json()["sections"]["parking"]
    assert (parking["sold"], parking["vacant"], parking["updated_by"]) == (265, 27, "operator")
    assert _audit(api, as_role, "board_item", f"{world.site_id}/parking")[0] == "board.parking"


def test_parking_figures_that_do_not_add_up_are_refused(world, api: TestClient, as_role) -> None:
    res = api.put(f"/api/v1/sites/{world.site_id}/board-items/parking", headers=as_role("operator"),
                  json={"total": 10, "sold": 8, "rented": 3, "visitor": 0})
    assert res.status_code == 422


def test_a_months_apportionment_is_shown_with_its_rate_per_m2(world, api: TestClient, as_role) -> None:
    res = api.put(f"/api/v1/sites/{world.site_id}/board-items/apportionments/2030-03/water",
                  headers=as_role("operator"), json={"total": "1000.00", "basis": "总表减分表", "method": "area"})
    assert res.status_code == 200 and Decimal(res.json()["rate"]) > 0
    items = api.get(f"/api/v1/public/sites/{world.site_id}/board").json()["sections"]["utility_apportionment"]
    assert {"month": "2030-03", "utility": "water", "total": "1000.00"}.items() <= items["items"][0].items()
    assert _audit(api, as_role, "board_item", f"{world.site_id}/apportionment/2030-03/water") == \
        ["board.apportionment"]


def test_an_apportionment_of_year_zero_is_refused(world, api: TestClient, as_role) -> None:
    res = api.put(f"/api/v1/sites/{world.site_id}/board-items/apportionments/0000-10/power",
                  headers=as_role("operator"), json={"total": "1.00", "basis": "x", "method": "area"})
    assert res.status_code == 422


def test_a_fee_statement_needs_a_real_period(world, api: TestClient, as_role) -> None:
    url = f"/api/v1/sites/{world.site_id}/board-items/fee-statements"
    body = {"income": "10.00", "spending": "4.00"}
    assert api.put(f"{url}/2026-13", json=body, headers=as_role("operator")).status_code == 422
    saved = api.put(f"{url}/2026-H1", json=body, headers=as_role("operator"))
    assert saved.status_code == 200 and saved.json()["balance"] == "6.00"


def test_the_estates_complaint_phones_are_replaced_and_lead_the_board(world, api: TestClient, as_role) -> None:
    res = api.put(f"/api/v1/sites/{world.site_id}/board-items/complaint-phones", headers=as_role("admin"), json={
        "phones": [{"name": "物业服务中心投诉电话", "phone": "0571-8800 1234", "hours": "8:00-20:00"}]})
    assert res.status_code == 200, res.text
    phones = api.get(f"/api/v1/public/sites/{world.site_id}/board").json()["sections"]["complaint_phones"]
    assert phones["phones"][0]["phone"] == "0571-8800 1234" and phones["updated_by"] == "admin"


def test_the_committee_reads_the_board_items_with_who_changed_them(world, api: TestClient, as_role) -> None:
    items = api.get(f"/api/v1/sites/{world.site_id}/board-items", headers=as_role("committee"))
    assert items.status_code == 200 and items.json()["parking"]["updated_by"]


# --- who may call what ----------------------------------------------------------------------------------------

READERS = ("admin", "operator", "committee", "subdistrict", "owner")
PUBLISHERS = ("admin", "operator")
PARTIES = ("admin", "operator", "owner")
ENDPOINTS = [
    ("GET", "/api/v1/sites/{site}/services", None, READERS),
    ("POST", "/api/v1/sites/{site}/services", {"code": "role-check", "kind": "contract", "name": "x", "content": "x",
                                               "standard": "x", "price": "0.00", "unit": "含在物业服务费内",
                                               "basis": "x", "effective_from": "2025-01-01"}, PUBLISHERS),
    ("GET", "/api/v1/services/{service}", None, READERS),
    ("PATCH", "/api/v1/services/{service}", {"standard": "预约后24小时内上门"}, PUBLISHERS),
    ("GET", "/api/v1/services/{service}/prices", None, READERS),
    ("POST", "/api/v1/services/{service}/prices", {"price": "1.00", "effective_from": "2020-01-01", "basis": "x"},
     PUBLISHERS),
    ("POST", "/api/v1/bookings", {"service_id": 0, "slot_start": "2020-01-01T00:00:00Z",
                                  "slot_end": "2020-01-01T01:00:00Z"}, ("owner",)),
    ("GET", "/api/v1/bookings", None, PARTIES),
    ("GET", "/api/v1/bookings/{booking}", None, PARTIES),
    ("POST", "/api/v1/bookings/{booking}/confirm", None, PUBLISHERS),
    ("POST", "/api/v1/bookings/{booking}/done", None, PUBLISHERS),
    ("POST", "/api/v1/bookings/{booking}/cancel", {"reason": "x"}, PARTIES),
    ("POST", "/api/v1/bookings/{booking}/rate", {"rating": 5}, ("owner",)),
    ("GET", "/api/v1/sites/{site}/board-items", None, READERS),
    ("PUT", "/api/v1/sites/{site}/board-items/parking", {"total": 420, "sold": 260, "rented": 110, "visitor": 20},
     PUBLISHERS),
    ("PUT", "/api/v1/sites/{site}/board-items/apportionments/2025-01/power",
     {"total": "1.00", "basis": "x", "method": "household"}, PUBLISHERS),
    ("PUT", "/api/v1/sites/{site}/board-items/fee-statements/2024", {"income": "1.00", "spending": "1.00"},
     PUBLISHERS),
    ("PUT", "/api/v1/sites/{site}/board-items/complaint-phones",
     {"phones": [{"name": "物业服务中心投诉电话", "phone": "0571-8800 1234"}]}, PUBLISHERS),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_each_endpoint_lets_in_only_its_roles(world, api: TestClient, as_role, method: str, path: str,
                                              body: dict | None, allowed: tuple[str, ...]) -> None:
    with connect(world.database_url) as conn:
        service = conn.execute("SELECT id FROM service_items WHERE site_id = %s AND code = 'housekeeping'",
                               (world.site_id,)).fetchone()[0]
        booking_id = conn.execute("SELECT min(id) FROM service_bookings WHERE site_id = %s",
                                  (world.site_id,)).fetchone()[0]
    url = path.format(site=world.site_id, service=service, booking=booking_id)
    answers = {role: api.request(method, url, json=body, headers=as_role(role)).status_code for role in ROLES}
    assert all(answers[role] == 403 for role in ROLES if role not in allowed), answers
    assert all(answers[role] not in (401, 403, 500) for role in allowed), answers
    assert api.request(method, url, json=body).status_code == 401
