"""The alarm console over the API (``console=true``, counts, bulk acknowledge), the alarm detail page and the
friendly error pages, against alarms raised by the real rules engine.

Every test raises its alarms on new lifts, and narrows the console to them by searching their device ids, so
alarms other tests leave in the shared estate do not count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from ingest.database import connect
from ingest.records import Batch, DeviceEvent
from ingest.registry import Device, Site, upsert_device, upsert_site
from rules.alarms import list_alarms
from tests.dashboard.world import OTHER_SITE, World

HTML = {"Accept": "text/html,application/xhtml+xml"}


def returns_to_normal(engine, device_id: str) -> None:
    later = datetime.now(UTC) + timedelta(seconds=5)
    engine.process(Batch(events=[DeviceEvent(device_id, later, "normal_operation", seq=2)]), now=later)


def console(api: TestClient, headers: dict[str, str], **params: str) -> dict:
    res = api.get("/api/v1/alarms", params={"console": "true", **params}, headers=headers)
    assert res.status_code == 200, res.text
    return res.json()


def counts(api: TestClient, headers: dict[str, str]) -> dict[str, dict[str, int]]:
    res = api.get("/api/v1/alarms/counts", headers=headers)
    assert res.status_code == 200, res.text
    return {c["severity"]: {"open": c["open"], "unacked": c["unacked"]} for c in res.json()}


# --- latching --------------------------------------------------------------------------------------------------

def test_a_p0_that_returns_to_normal_unacknowledged_stays_on_the_console_latched(api, as_role, trapped,
                                                                                  engine) -> None:
    alarm_id, lift = trapped()
    returns_to_normal(engine, lift)
    [alarm] = console(api, as_role("operator"), q=lift)["items"]
    assert (alarm["id"], alarm["state"], alarm["latched"]) == (alarm_id, "active", True)


def test_the_latched_view_holds_only_alarms_that_returned_unacknowledged(api, as_role, trapped, engine) -> None:
    latched_id, latched_lift = trapped()
    returns_to_normal(engine, latched_lift)
    _, still_trapped = trapped()
    op = as_role("operator")
    assert [a["id"] for a in console(api, op, view="latched", q=latched_lift)["items"]] == [latched_id]
    assert console(api, op, view="latched", q=still_trapped)["total"] == 0


def test_a_latched_alarm_leaves_the_console_once_acknowledged(api, as_role, trapped, engine) -> None:
    alarm_id, lift = trapped()
    returns_to_normal(engine, lift)
    op = as_role("operator")
    api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "乘客已自行离开"}, headers=op)
    assert console(api, op, q=lift)["total"] == 0


def test_an_acknowledged_alarm_whose_condition_holds_stays_in_the_acknowledged_view(api, as_role,
                                                                                     trapped) -> None:
    alarm_id, lift = trapped()
    op = as_role("operator")
    api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "已通知维保"}, headers=op)
    assert [a["id"] for a in console(api, op, view="acknowledged", q=lift)["items"]] == [alarm_id]
    assert console(api, op, view="unacked", q=lift)["total"] == 0


def test_a_cleared_alarm_is_in_the_history_view_not_clearable(api, as_role, trapped, engine) -> None:
    alarm_id, lift = trapped()
    returns_to_normal(engine, lift)
    op = as_role("operator")
    api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "ok"}, headers=op)
    [alarm] = console(api, op, view="history", q=lift)["items"]
    assert (alarm["id"], alarm["state"], alarm["clearable"]) == (alarm_id, "cleared", False)


def test_an_open_alarm_is_not_in_the_history_view(api, as_role, trapped) -> None:
    _, lift = trapped()
    assert console(api, as_role("operator"), view="history", q=lift)["total"] == 0


# --- filters and search ----------------------------------------------------------------------------------------

def test_the_console_filters_by_severity(api, as_role, trapped) -> None:
    _, lift = trapped()
    op = as_role("operator")
    assert console(api, op, q=lift, severity="P0")["total"] == 1
    assert console(api, op, q=lift, severity="P3")["total"] == 0


def test_several_severities_may_be_asked_for_at_once(api, as_role, trapped) -> None:
    _, lift = trapped()
    res = api.get("/api/v1/alarms", params=[("console", "true"), ("q", lift), ("severity", "P1"), ("severity", "P0")],
                  headers=as_role("operator"))
    assert res.json()["total"] == 1


def test_the_console_filters_by_category(api, as_role, trapped) -> None:
    _, lift = trapped()
    op = as_role("operator")
    assert console(api, op, q=lift, category="elevator_entrapment")["total"] == 1
    assert console(api, op, q=lift, category="fire_alarm")["total"] == 0


def test_the_console_filters_by_estate_and_building(api, as_role, trapped, world: World) -> None:
    _, lift = trapped()
    op = as_role("operator")
    assert console(api, op, q=lift, site_id=world.site_id, building_id=world.building_id)["total"] == 1
    assert console(api, op, q=lift, building_id="no-such-building")["total"] == 0


def test_an_estate_outside_your_scope_is_refused(api, as_role) -> None:
    res = api.get("/api/v1/alarms", params={"console": "true", "site_id": OTHER_SITE}, headers=as_role("operator"))
    assert res.status_code == 403


def test_search_finds_an_alarm_by_part_of_its_device_id(api, as_role, trapped) -> None:
    alarm_id, lift = trapped()
    found = console(api, as_role("operator"), q=lift.lower()[-6:])["items"]
    assert alarm_id in [a["id"] for a in found]


def test_search_finds_an_alarm_by_its_device_name(api, as_role, trapped) -> None:
    alarm_id, lift = trapped()  # the fixture names the lift "<id>号梯"
    found = console(api, as_role("operator"), q=f"{lift}号梯")["items"]
    assert [a["id"] for a in found] == [alarm_id]


def test_search_finds_alarms_by_title(api, as_role, trapped) -> None:
    alarm_id, _ = trapped()
    found = console(api, as_role("operator"), q="困人", limit="500")["items"]
    assert alarm_id in [a["id"] for a in found]


def test_a_search_that_matches_nothing_lists_nothing(api, as_role) -> None:
    assert console(api, as_role("operator"), q="没有这样的报警%_")["total"] == 0


def test_state_is_not_a_console_filter(api, as_role) -> None:
    res = api.get("/api/v1/alarms", params={"console": "true", "state": "cleared"}, headers=as_role("operator"))
    assert res.status_code == 422


def test_console_filters_need_console_true(api, as_role) -> None:
    res = api.get("/api/v1/alarms", params={"q": "困人"}, headers=as_role("operator"))
    assert res.status_code == 422


# --- counts and paging -----------------------------------------------------------------------------------------

def test_the_counts_rise_with_a_new_p0_and_fall_when_it_is_acknowledged(api, as_role, trapped) -> None:
    op = as_role("operator")
    before = counts(api, op)["P0"]
    alarm_id, _ = trapped()
    raised = counts(api, op)["P0"]
    api.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "ok"}, headers=op)
    acked = counts(api, op)["P0"]
    assert (raised["open"] - before["open"], raised["unacked"] - before["unacked"]) == (1, 1)
    assert (acked["open"], acked["unacked"]) == (raised["open"], raised["unacked"] - 1)


def test_the_counts_list_every_severity(api, as_role) -> None:
    assert list(counts(api, as_role("operator"))) == ["P0", "P1", "P2", "P3"]


def test_the_console_pages_with_the_total_counted_in_full(api, as_role, trapped, world: World) -> None:
    for _ in range(3):
        trapped()
    op = as_role("operator")
    total = console(api, op, q=world.building_id)["total"]
    page = console(api, op, q=world.building_id, limit="2", offset="1")
    assert total >= 3 and len(page["items"]) == 2 and page["total"] == total
    past = console(api, op, q=world.building_id, limit="2", offset=str(total + 10))
    assert (past["items"], past["total"]) == ([], total)


def test_unacknowledged_alarms_come_before_acknowledged_ones_of_the_same_severity(api, as_role, trapped,
                                                                                    world: World) -> None:
    acked_id, _ = trapped()
    api.post(f"/api/v1/alarms/{acked_id}/ack", json={"comment": "ok"}, headers=as_role("operator"))
    trapped()
    items = console(api, as_role("operator"), q=world.building_id, severity="P0", limit="500")["items"]
    states = [a["state"] for a in items]
    assert states == sorted(states, key=lambda s: s == "acknowledged")


# --- shelving --------------------------------------------------------------------------------------------------

def test_an_alarm_whose_device_is_silenced_shows_in_the_shelved_view_with_who_and_until(api, as_role,
                                                                                      trapped) -> None:
    alarm_id, lift = trapped()
    op = as_role("operator")
    now = datetime.now(UTC)
    res = api.post("/api/v1/silences", headers=op, json={
        "scope_type": "device", "scope_id": lift, "reason": "维保中", "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat()})
    assert res.status_code == 201, res.text
    [alarm] = console(api, op, view="shelved", q=lift)["items"]
    assert alarm["id"] == alarm_id
    assert alarm["shelf"]["by"] and alarm["shelf"]["reason"] == "维保中"
    assert datetime.fromisoformat(alarm["shelf"]["until"]) > now + timedelta(hours=1)


def test_an_alarm_nobody_shelved_is_not_in_the_shelved_view(api, as_role, trapped) -> None:
    _, lift = trapped()
    assert console(api, as_role("operator"), view="shelved", q=lift)["total"] == 0


# --- bulk acknowledge ------------------------------------------------------------------------------------------

def test_bulk_acknowledge_acknowledges_every_alarm_with_the_comment(api, as_role, trapped) -> None:
    first, _ = trapped()
    second, _ = trapped()
    res = api.post("/api/v1/alarms/ack", json={"ids": [first, second], "comment": "批量确认：已派维保"},
                   headers=as_role("operator"))
    assert res.status_code == 200, res.text
    done = res.json()
    assert sorted(a["id"] for a in done["acknowledged"]) == sorted([first, second]) and done["skipped"] == []
    assert {a["ack_comment"] for a in done["acknowledged"]} == {"批量确认：已派维保"}


def test_bulk_acknowledge_writes_one_audit_row_per_alarm(api, as_role, trapped) -> None:
    first, _ = trapped()
    second, _ = trapped()
    api.post("/api/v1/alarms/ack", json={"ids": [first, second], "comment": "ok"}, headers=as_role("operator"))
    for alarm_id in (first, second):
        trail = api.get(f"/api/v1/audit?target_type=alarm&target_id={alarm_id}", headers=as_role("admin")).json()
        assert [(e["action"], e["detail"]["bulk"]) for e in trail["items"]] == [("alarm.ack", True)]


def test_bulk_acknowledge_skips_an_alarm_acknowledged_meanwhile(api, as_role, trapped) -> None:
    first, _ = trapped()
    second, _ = trapped()
    op = as_role("operator")
    api.post(f"/api/v1/alarms/{first}/ack", json={"comment": "已处理"}, headers=op)
    done = api.post("/api/v1/alarms/ack", json={"ids": [first, second], "comment": "ok"}, headers=op).json()
    assert [a["id"] for a in done["acknowledged"]] == [second]
    assert [s["id"] for s in done["skipped"]] == [first]


def test_bulk_acknowledge_needs_a_comment(api, as_role, trapped) -> None:
    alarm_id, _ = trapped()
    res = api.post("/api/v1/alarms/ack", json={"ids": [alarm_id], "comment": ""}, headers=as_role("operator"))
    assert res.status_code == 422


def test_bulk_acknowledge_with_only_spaces_says_a_comment_is_required_and_acknowledges_nothing(
        api, as_role, trapped) -> None:
    first, _ = trapped()
    second, _ = trapped()
    op = as_role("operator")
    res = api.post("/api/v1/alarms/ack", json={"ids": [first, second], "comment": "   "}, headers=op)
    assert res.status_code == 422
    assert res.json()["error"]["details"] == {"reason": "CommentRequired", "field": "comment"}
    assert {api.get(f"/api/v1/alarms/{i}", headers=op).json()["state"] for i in (first, second)} == {"active"}


def test_bulk_acknowledge_with_an_alarm_of_another_estate_acknowledges_nothing(api, as_role, trapped, engine,
                                                                               world: World) -> None:
    # An estate of its own: the package's other estate must keep no alarm (its operator sees none elsewhere).
    with connect(world.database_url) as conn:
        upsert_site(conn, Site("ELSEWHERE", "别处小区"))
        upsert_device(conn, Device("ELSEWHERE-EL01", "ELSEWHERE", "elevator", "elsewhere lift"))
        conn.commit()
    mine, _ = trapped()
    now = datetime.now(UTC)
    engine.process(Batch(events=[DeviceEvent("ELSEWHERE-EL01", now, "trapped", seq=1)]), now=now)
    with connect(world.database_url) as conn:
        [theirs] = list_alarms(conn, device_id="ELSEWHERE-EL01", states=["active"])
    op = as_role("operator")
    res = api.post("/api/v1/alarms/ack", json={"ids": [mine, theirs.id], "comment": "ok"}, headers=op)
    assert res.status_code == 403
    assert api.get(f"/api/v1/alarms/{mine}", headers=op).json()["state"] == "active"


def test_bulk_acknowledge_of_an_unknown_alarm_is_404(api, as_role) -> None:
    res = api.post("/api/v1/alarms/ack", json={"ids": [987654321], "comment": "ok"}, headers=as_role("operator"))
    assert res.status_code == 404


# --- roles -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["crew", "committee", "owner", "public"])
@pytest.mark.parametrize(("method", "path"), [("GET", "/api/v1/alarms?console=true"), ("GET", "/api/v1/alarms/counts"),
                                              ("POST", "/api/v1/alarms/ack")])
def test_roles_outside_the_control_room_are_refused(api, as_role, role: str, method: str, path: str) -> None:
    body = {"ids": [1], "comment": "x"} if method == "POST" else None
    assert api.request(method, path, json=body, headers=as_role(role)).status_code == 403


def test_the_sub_district_reads_the_console_but_may_not_acknowledge(api, as_role, trapped) -> None:
    alarm_id, lift = trapped()
    sub = as_role("subdistrict")
    assert console(api, sub, q=lift)["total"] == 1
    res = api.post("/api/v1/alarms/ack", json={"ids": [alarm_id], "comment": "x"}, headers=sub)
    assert res.status_code == 403


# --- the alarm page and error pages ----------------------------------------------------------------------------

def signed_in(api: TestClient, world: World, role: str) -> TestClient:
    username, password = world.passwords[role]
    form = api.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    res = api.post("/login", data={"username": username, "password": password, "csrf_token": token[1]},
                   follow_redirects=False)
    assert res.status_code == 303, res.text
    return api


def test_the_alarm_page_shows_the_timeline_in_the_estates_zone(api, world: World, trapped, engine) -> None:
    alarm_id, lift = trapped()
    returns_to_normal(engine, lift)
    page = signed_in(api, world, "operator").get(f"/alarms/{alarm_id}", headers=HTML)
    assert page.status_code == 200
    assert "UTC+8" in page.text and "恢复未确认" in page.text and 'data-kind="tl_latched"' in page.text


def test_the_alarm_page_of_an_unknown_alarm_is_a_friendly_404(api, world: World) -> None:
    page = signed_in(api, world, "operator").get("/alarms/987654321", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html") and "页面不存在" in page.text
    assert 'href="/"' in page.text


def test_a_page_your_role_may_not_open_is_a_friendly_403(api, world: World) -> None:
    page = signed_in(api, world, "crew").get("/console", headers=HTML)
    assert page.status_code == 403 and "无权访问此页面" in page.text


def test_the_api_answers_json_even_to_a_browser(api, as_role) -> None:
    res = api.get("/api/v1/alarms/987654321", headers={**as_role("operator"), **HTML})
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"


def test_a_page_while_the_database_is_down_is_a_friendly_503(db_url: str) -> None:
    from dashboard.app import create_app

    from .tcp_proxy import DatabaseRelay

    relay = DatabaseRelay(db_url)
    try:
        with TestClient(create_app(database_url=relay.conninfo, secret_key="k" * 32),
                        raise_server_exceptions=False) as client:
            relay.cut()
            page = client.get("/console", headers=HTML)
            api_answer = client.get("/api/v1/alarms", headers=HTML)
    finally:
        relay.cut()
    assert page.status_code == 503 and "服务暂时不可用" in page.text and page.headers["retry-after"] == "2"
    assert api_answer.status_code == 503 and api_answer.json()["error"]["code"] == "unavailable"


def test_the_console_says_an_event_alarm_may_be_cleared_by_hand(api, as_role, trapped) -> None:
    _, lift = trapped()  # an event rule: an operator may clear it (a measured condition may not)
    [alarm] = console(api, as_role("operator"), q=lift)["items"]
    assert alarm["clearable"] is True


def test_the_console_says_a_latched_alarm_may_not_be_cleared_only_acknowledged(api, as_role, trapped,
                                                                               engine) -> None:
    _, lift = trapped()
    returns_to_normal(engine, lift)
    [alarm] = console(api, as_role("operator"), q=lift)["items"]
    assert alarm["clearable"] is False


# --- how the pages write times and durations -------------------------------------------------------------------

@pytest.mark.parametrize(("span", "shown"), [
    (timedelta(seconds=59), "00:59"), (timedelta(minutes=59, seconds=59), "59:59"),
    (timedelta(hours=2, minutes=5), "2:05"), (timedelta(hours=239), "239:00"), (timedelta(seconds=-47), "00:00")])
def test_durations_are_mm_ss_under_an_hour_then_h_mm_and_never_negative(span: timedelta, shown: str) -> None:
    from dashboard.ui.alarm_detail import clock

    assert clock(span) == shown


def test_times_are_shown_in_the_estates_zone_with_its_offset() -> None:
    from zoneinfo import ZoneInfo

    from dashboard.ui.alarm_detail import local_time

    at = datetime(2026, 12, 7, 20, 1, 2, tzinfo=UTC)
    assert local_time(at, ZoneInfo("Asia/Shanghai")) == "2026-12-08 04:01:02 UTC+8"
    assert local_time(at, ZoneInfo("Asia/Kolkata")) == "2026-12-08 01:31:02 UTC+5:30"


def test_the_estates_zone_is_named_with_its_offset_first() -> None:
    from zoneinfo import ZoneInfo

    from dashboard.ui.alarm_detail import zone_text

    now = datetime(2026, 12, 7, 20, 1, 2, tzinfo=UTC)
    assert zone_text(ZoneInfo("Asia/Shanghai"), now, "zh-CN") == "UTC+8（Asia/Shanghai）"
    assert zone_text(ZoneInfo("Asia/Kolkata"), now, "en") == "UTC+5:30 (Asia/Kolkata)"


def test_a_page_address_that_does_not_parse_is_a_friendly_404(api, world: World) -> None:
    page = signed_in(api, world, "operator").get("/alarms/not-a-number", headers=HTML)
    assert page.status_code == 404 and "页面不存在" in page.text
