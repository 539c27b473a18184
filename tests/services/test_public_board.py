"""The public information board (notice clause 19): every section by name, without sign-in, no personal data."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.dashboard.world import open_emergency_draw

SECTIONS = ["project_manager", "complaint_phones", "service_standards", "fee_standards", "maintenance_units",
            "parking", "utility_apportionment", "fee_income_spending", "shared_income_spending",
            "elevator_spending", "fund_disclosures", "vote_results", "annual_disclosures"]
CLAUSE_19 = SECTIONS[:10]


def _board(api: TestClient, site_id: str) -> dict:
    res = api.get(f"/api/v1/public/sites/{site_id}/board")
    assert res.status_code == 200, res.text
    return res.json()


def test_the_board_answers_every_section_by_its_key_in_order(world, api: TestClient) -> None:
    board = _board(api, world.site_id)
    assert board["section_keys"] == SECTIONS
    assert list(board["sections"]) == SECTIONS
    for key in SECTIONS:
        section = board["sections"][key]
        assert section["key"] == key and section["title_zh"] and section["title_en"]


def test_every_clause_19_section_has_data_for_the_demo_estate(world, api: TestClient) -> None:
    sections = _board(api, world.site_id)["sections"]
    empty = [key for key in CLAUSE_19 if sections[key]["status"] != "ok"]
    assert not empty, f"sections without data on the demo estate: {empty}"


def test_maintained_sections_say_when_and_by_which_role_they_changed(world, api: TestClient) -> None:
    sections = _board(api, world.site_id)["sections"]
    for key in ("complaint_phones", "service_standards", "fee_standards", "parking", "utility_apportionment",
                "fee_income_spending"):
        assert sections[key]["updated_at"], key
        assert sections[key]["updated_by"] in ("system", "operator", "admin"), key


def test_the_elevator_and_fire_maintainers_are_listed_with_their_duty_phones(world, api: TestClient) -> None:
    units = _board(api, world.site_id)["sections"]["maintenance_units"]["units"]
    assert {u["kind"] for u in units} == {"elevator_maintenance", "fire_maintenance"}
    assert all(u["phones"].get("duty_phone") for u in units), units


def test_the_complaint_phones_put_the_estates_own_before_the_national_ones(world, api: TestClient) -> None:
    phones = [p["phone"] for p in _board(api, world.site_id)["sections"]["complaint_phones"]["phones"]]
    assert phones[0].startswith("0571") and {"12345", "96333", "119"} <= set(phones)


def test_the_fee_standards_show_todays_price_and_the_adjustment_with_its_basis(world, api: TestClient) -> None:
    fees = _board(api, world.site_id)["sections"]["fee_standards"]
    residential = next(i for i in fees["items"] if i["code"] == "residential_fee")
    assert residential["price"] == "2.50" and residential["unit"] == "元/m²·月"
    change = next(c for c in fees["price_changes"] if c["code"] == "residential_fee")
    assert (change["previous_price"], change["price"]) == ("2.30", "2.50")
    assert "业主大会决议" in change["basis"] and change["effective_from"] == "2026-07-01"


def test_the_board_names_no_owner_and_no_crew_member(world, api: TestClient) -> None:
    text = api.get(f"/api/v1/public/sites/{world.site_id}/board").text
    for private in ("维保工程师", "demo-owner", "demo-operator", "owner_user", "household_id", "booked_by"):
        assert private not in text


def test_the_fund_sections_follow_with_the_demo_years_vote_and_disclosure(world, api: TestClient) -> None:
    sections = _board(api, world.site_id)["sections"]
    assert all(sections[key]["status"] == "ok" for key in SECTIONS[10:]), [sections[k] for k in SECTIONS[10:]]


def test_the_project_manager_and_the_companys_phone_are_public(world, api: TestClient) -> None:
    manager = _board(api, world.site_id)["sections"]["project_manager"]
    assert manager["company_name"] and manager["manager_name"] and manager["manager_phone"]


def test_an_unknown_estate_has_no_board(api: TestClient) -> None:
    assert api.get("/api/v1/public/sites/NOPE/board").status_code == 404


def test_the_board_page_is_zh_cn_first_and_shows_every_section(world, api: TestClient) -> None:
    page = api.get(f"/board/{world.site_id}")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    for key in SECTIONS:
        assert f'data-section="{key}"' in page.text
    assert "信息公示栏" in page.text and "电梯维修保养支出情况" in page.text and "/static/board.css" in page.text


def test_the_board_page_switches_to_english(world, api: TestClient) -> None:
    page = api.get(f"/board/{world.site_id}?lang=en")
    assert page.status_code == 200 and "Elevator maintenance spending" in page.text


def test_an_estate_with_nothing_published_says_no_data_section_by_section(api: TestClient) -> None:
    sections = _board(api, "OTHERSITE")["sections"]
    assert list(sections) == SECTIONS
    for key in ("project_manager", "service_standards", "fee_standards", "parking", "utility_apportionment",
                "fee_income_spending", "shared_income_spending", "fund_disclosures", "vote_results",
                "annual_disclosures"):
        assert sections[key]["status"] == "no_data" and sections[key]["updated_at"] is None, key
    assert sections["elevator_spending"]["year_total"] == "0.00"
    page = api.get("/board/OTHERSITE?lang=zh")  # the client may carry another test's language
    assert page.status_code == 200 and page.text.count("暂无数据") >= 10


def test_a_rejected_draw_is_published_with_its_reason_and_the_reviewers_role_only(
        world, api: TestClient, as_role, trapped, order_for) -> None:
    _, device_id = trapped()
    draw_id = open_emergency_draw(world, order_id=order_for(device_id))
    reason = "请补充两家维保单位比价"
    res = api.post(f"/api/v1/fund/draws/{draw_id}/reject", json={"comment": reason}, headers=as_role("committee"))
    assert res.status_code == 200, res.text
    section = _board(api, world.site_id)["sections"]["fund_disclosures"]
    rejected = next(r for r in section["rejections"] if r["draw_id"] == draw_id)
    assert (rejected["reason"], rejected["decided_role"]) == (reason, "committee")
    assert world.passwords["committee"][0] not in str(rejected)
