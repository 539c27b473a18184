"""Owners' votes over the API (Civil Code art. 278): the committee opens and closes, each household has one ballot
it may change until the close, the count is exact, and the result is published to the estate and the board."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from fastapi.testclient import TestClient

from dispatch import fund

from .conftest import CENT_SHORT, SITE, Estate, Headers, audit_actions, build_estate, vote_body

Login = Callable[..., Headers]


def open_vote(client: TestClient, login: Login, site: str = SITE, **changes: object) -> int:
    res = client.post(f"/api/v1/fund/sites/{site}/votes", json=vote_body(**changes),
                      headers=login("committee", site=site))
    assert res.status_code == 201, res.text
    return res.json()["id"]


def ballot(client: TestClient, login: Login, vote_id: int, household: str, choice: str, site: str = SITE) -> dict:
    res = client.post(f"/api/v1/owners/votes/{vote_id}/ballot", json={"choice": choice},
                      headers=login("owner", household=household, site=site))
    assert res.status_code == 200, res.text
    return res.json()


def close(client: TestClient, login: Login, vote_id: int, site: str = SITE) -> dict:
    res = client.post(f"/api/v1/fund/votes/{vote_id}/close", headers=login("committee", site=site))
    assert res.status_code == 200, res.text
    return res.json()["result"]


def test_exactly_two_thirds_of_area_and_heads_taking_part_passes_on_the_last_households_ballot(
        client: TestClient, login: Login, estate: Estate) -> None:
    first, last, _ = estate.households
    without_last = open_vote(client, login)
    with_last = open_vote(client, login)
    for vote_id in (without_last, with_last):
        ballot(client, login, vote_id, first, "yes")
    ballot(client, login, with_last, last, "yes")

    short = close(client, login, without_last)
    passed = close(client, login, with_last)

    assert (short["area_turnout"], short["quorum_met"], short["approved"]) == ("1/3", False, False)
    assert (passed["area_turnout"], passed["head_turnout"]) == ("2/3", "2/3")
    assert (passed["participating_area"], passed["total_area"]) == ("200.00", "300.00")
    assert (passed["quorum_met"], passed["approved"]) == (True, True)


def test_one_cent_of_area_less_than_two_thirds_fails_the_quorum(client: TestClient, login: Login,
                                                                db: psycopg.Connection, estate: Estate) -> None:
    short = build_estate(db, "OWN3", CENT_SHORT)
    first, second, _ = short.households
    vote_id = open_vote(client, login, site="OWN3")
    ballot(client, login, vote_id, first, "yes", site="OWN3")
    ballot(client, login, vote_id, second, "yes", site="OWN3")

    result = close(client, login, vote_id, site="OWN3")

    assert (result["participating_area"], result["total_area"]) == ("199.99", "300.00")
    assert result["area_turnout"] == "19999/30000" and result["head_turnout"] == "2/3"
    assert (result["quorum_met"], result["approved"]) == (False, False)


def test_using_the_fund_needs_more_than_half_so_an_even_split_fails(client: TestClient, login: Login,
                                                                   estate: Estate) -> None:
    first, second, _ = estate.households
    vote_id = open_vote(client, login)
    ballot(client, login, vote_id, first, "yes")
    ballot(client, login, vote_id, second, "no")

    result = close(client, login, vote_id)

    assert (result["quorum_met"], result["yes_area_share"], result["yes_head_share"]) == (True, "1/2", "1/2")
    assert result["approved"] is False
    assert result["rule"]["approval"] == {"area": "1/2", "heads": "1/2", "comparison": "more_than"}
    assert "art. 278" in result["rule"]["approval_source"]


def test_raising_the_fund_passes_at_exactly_three_quarters_of_participants(client: TestClient, login: Login,
                                                                           db: psycopg.Connection) -> None:
    four = build_estate(db, "OWN4", tuple((f"10{i}", "120.00", "100.00") for i in range(1, 5)))
    vote_id = open_vote(client, login, site="OWN4", matter="raise")
    for household, choice in zip(four.households, ("yes", "yes", "yes", "no"), strict=True):
        ballot(client, login, vote_id, household, choice, site="OWN4")

    result = close(client, login, vote_id, site="OWN4")

    assert (result["yes_area_share"], result["yes_head_share"], result["approved"]) == ("3/4", "3/4", True)


def test_a_household_may_change_its_ballot_until_the_close_and_only_the_last_one_counts(
        client: TestClient, login: Login, estate: Estate) -> None:
    first, second, _ = estate.households
    vote_id = open_vote(client, login)
    assert ballot(client, login, vote_id, first, "yes")["my_choice"] == "yes"
    ballot(client, login, vote_id, second, "yes")
    assert ballot(client, login, vote_id, first, "no")["my_choice"] == "no"

    result = close(client, login, vote_id)
    late = client.post(f"/api/v1/owners/votes/{vote_id}/ballot", json={"choice": "yes"},
                       headers=login("owner", household=first))

    assert (result["participating_heads"], result["yes_heads"], result["approved"]) == (2, 1, False)
    assert late.status_code == 409


def test_a_household_outside_the_votes_scope_may_not_vote(client: TestClient, login: Login, db: psycopg.Connection,
                                                          estate: Estate) -> None:
    vote_id = open_vote(client, login, scope_type="unit", scope_id=f"{estate.building_id}-U1")
    other = client.post(f"/api/v1/owners/votes/{vote_id}/ballot", json={"choice": "yes"},
                        headers=login("owner", household="OWN2-B1-U1-101", site="OWN2"))
    assert other.status_code == 403


def test_an_unknown_matter_and_a_past_closing_time_are_refused(client: TestClient, login: Login,
                                                               estate: Estate) -> None:
    unknown = client.post(f"/api/v1/fund/sites/{SITE}/votes", json=vote_body(matter="paint_it_pink"),
                          headers=login("committee"))
    past = client.post(f"/api/v1/fund/sites/{SITE}/votes", json=vote_body(closes_at="2020-01-01T00:00:00+08:00"),
                       headers=login("committee"))
    assert unknown.status_code == 422 and "paint_it_pink" in unknown.json()["error"]["message"]
    assert past.status_code == 409


def test_the_sub_district_office_may_not_run_a_vote_where_the_estate_has_a_committee(
        client: TestClient, login: Login, estate: Estate) -> None:
    res = client.post(f"/api/v1/fund/sites/{SITE}/votes", json=vote_body(), headers=login("subdistrict"))
    assert res.status_code == 403 and "committee" in res.json()["error"]["message"]


def test_the_sub_district_office_runs_the_vote_of_an_estate_without_a_committee(
        client: TestClient, login: Login, db: psycopg.Connection, estate: Estate) -> None:
    build_estate(db, "OWN5", CENT_SHORT, has_committee=False)
    res = client.post("/api/v1/fund/sites/OWN5/votes", json=vote_body(), headers=login("subdistrict", site="OWN5"))
    assert res.status_code == 201, res.text
    closed = client.post(f"/api/v1/fund/votes/{res.json()['id']}/close", headers=login("subdistrict", site="OWN5"))
    assert closed.status_code == 200 and closed.json()["result"]["quorum_met"] is False


def test_an_open_vote_shows_no_tally_and_a_closed_one_is_published_to_owners_and_the_board(
        client: TestClient, login: Login, db: psycopg.Connection, estate: Estate) -> None:
    first, second, _ = estate.households
    vote_id = open_vote(client, login)
    ballot(client, login, vote_id, first, "yes")
    ballot(client, login, vote_id, second, "yes")
    while_open = client.get(f"/api/v1/fund/votes/{vote_id}", headers=login("owner")).json()

    close(client, login, vote_id)
    owners_view = client.get(f"/api/v1/fund/sites/{SITE}/vote-results", headers=login("owner")).json()
    board = fund.published_results(db, SITE)

    assert while_open["result"] is None and while_open["my_choice"] == "yes"
    assert [r["vote_id"] for r in owners_view] == [vote_id]
    assert [r.vote.id for r in board] == [vote_id] and board[0].outcome.approved
    assert first not in str(owners_view) and first not in str(board[0].to_json())


def test_my_votes_lists_the_votes_of_my_household_with_my_choice(client: TestClient, login: Login,
                                                                 estate: Estate) -> None:
    vote_id = open_vote(client, login)
    ballot(client, login, vote_id, estate.households[0], "abstain")
    mine = client.get("/api/v1/owners/me/votes", headers=login("owner")).json()
    assert [(v["id"], v["my_choice"]) for v in mine] == [(vote_id, "abstain")]
    assert mine[0]["opened_at"].endswith("+08:00")


def test_every_vote_change_is_audited(client: TestClient, login: Login, db: psycopg.Connection,
                                      estate: Estate) -> None:
    vote_id = open_vote(client, login)
    ballot(client, login, vote_id, estate.households[0], "yes")
    close(client, login, vote_id)
    assert audit_actions(db, "fund_vote") == [("fund_vote.open", "committee", str(vote_id)),
                                              ("fund_vote.ballot", "owner", str(vote_id)),
                                              ("fund_vote.close", "committee", str(vote_id))]
