"""Owners' votes (Civil Code art. 278): exact quorum and thresholds, changeable ballots, kept evidence."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import psycopg
import pytest

from dispatch.fund import draws, votes
from dispatch.fund.errors import FundError, InvalidState
from dispatch.fund.estate import BuildingUnit, Household, add_building_unit, add_household, configure_site
from ingest.registry import Building, Site, upsert_building, upsert_site

from .helpers import MONDAY_10_SHANGHAI

OPEN = MONDAY_10_SHANGHAI
HOMES = [f"V-U1-{n}01" for n in range(1, 7)]  # six homes of 50 m² exclusive area each


@pytest.fixture
def six_homes(db: psycopg.Connection) -> list[str]:
    upsert_site(db, Site(id="V", name="投票小区", region="110105"))
    upsert_building(db, Building(id="V-B1", site_id="V", name="1号楼"))
    add_building_unit(db, BuildingUnit("V-U1", "V", "V-B1", "1单元"))
    for home in HOMES:
        add_household(db, Household(id=home, site_id="V", building_id="V-B1", unit_id="V-U1", room=home[-3:],
                                    building_area=Decimal("62.50"), exclusive_area=Decimal("50.00")))
    configure_site(db, "V", has_committee=True, actor="clerk:li")
    return HOMES


def _vote(db: psycopg.Connection, matter: str, ballots: dict[str, str]) -> votes.VoteOutcome:
    vote = votes.open_vote(db, site_id="V", scope_type="building", scope_id="V-B1", matter=matter,  # type: ignore[arg-type]
                           title="更换电梯", closes_at=OPEN + timedelta(days=14), actor="committee:chen", now=OPEN)
    for home, choice in ballots.items():
        votes.cast_ballot(db, vote.id, home, choice, actor=f"owner:{home}", now=OPEN)  # type: ignore[arg-type]
    return votes.close_vote(db, vote.id, actor="committee:chen", now=OPEN + timedelta(days=14))


def outcome(matter: str, *, total: tuple[str, int], part: tuple[str, int], yes: tuple[str, int]) -> votes.VoteOutcome:
    return votes.decide(matter=matter, total_area=Decimal(total[0]), total_heads=total[1],  # type: ignore[arg-type]
                        participating_area=Decimal(part[0]), participating_heads=part[1],
                        yes_area=Decimal(yes[0]), yes_heads=yes[1])


def test_quorum_at_exactly_two_thirds_of_area_and_heads_is_met() -> None:
    assert outcome("use", total=("300.00", 9), part=("200.00", 6), yes=("200.00", 6)).quorum_met


def test_quorum_one_hundredth_of_a_square_metre_short_is_not_met() -> None:
    result = outcome("use", total=("300.00", 9), part=("199.99", 6), yes=("199.99", 6))
    assert (result.quorum_met, result.approved) == (False, False)


def test_quorum_needs_two_thirds_of_heads_as_well_as_area() -> None:
    assert not outcome("use", total=("300.00", 9), part=("290.00", 5), yes=("290.00", 5)).quorum_met


def test_using_the_fund_with_exactly_half_the_participating_area_fails() -> None:
    assert not outcome("use", total=("300.00", 9), part=("200.00", 6), yes=("100.00", 4)).approved


def test_using_the_fund_with_exactly_half_the_participating_heads_fails() -> None:
    assert not outcome("use", total=("300.00", 9), part=("200.00", 6), yes=("150.00", 3)).approved


def test_using_the_fund_with_just_over_half_of_both_passes() -> None:
    assert outcome("use", total=("300.00", 9), part=("200.00", 6), yes=("100.01", 4)).approved


def test_raising_the_fund_with_exactly_three_quarters_of_both_passes() -> None:
    assert outcome("raise", total=("300.00", 8), part=("200.00", 8), yes=("150.00", 6)).approved


def test_raising_the_fund_just_under_three_quarters_of_area_fails() -> None:
    assert not outcome("raise", total=("300.00", 8), part=("200.00", 8), yes=("149.99", 6)).approved


def test_raising_the_fund_just_under_three_quarters_of_heads_fails() -> None:
    assert not outcome("raise", total=("300.00", 8), part=("200.00", 8), yes=("200.00", 5)).approved


def test_the_outcome_reports_exact_fractions() -> None:
    result = outcome("use", total=("300.00", 9), part=("200.00", 6), yes=("100.00", 4))
    assert (result.area_turnout, result.head_turnout, result.yes_area_share, result.yes_head_share) == (
        Fraction(2, 3), Fraction(2, 3), Fraction(1, 2), Fraction(2, 3))


def test_four_of_six_equal_homes_voting_meet_quorum_and_three_yes_pass(
    db: psycopg.Connection, six_homes: list[str]
) -> None:
    result = _vote(db, "use", dict(zip(six_homes[:4], ["yes", "yes", "yes", "no"], strict=True)))
    assert (result.quorum_met, result.approved) == (True, True)


def test_two_yes_of_four_equal_homes_is_exactly_half_and_fails(db: psycopg.Connection, six_homes: list[str]) -> None:
    result = _vote(db, "use", dict(zip(six_homes[:4], ["yes", "yes", "no", "abstain"], strict=True)))
    assert (result.quorum_met, result.approved) == (True, False)


def test_three_of_four_equal_homes_raise_the_fund_at_exactly_three_quarters(
    db: psycopg.Connection, six_homes: list[str]
) -> None:
    result = _vote(db, "raise", dict(zip(six_homes[:4], ["yes", "yes", "yes", "no"], strict=True)))
    assert result.approved


def test_a_changed_ballot_replaces_the_earlier_one_and_both_are_kept(
    db: psycopg.Connection, six_homes: list[str]
) -> None:
    vote = votes.open_vote(db, site_id="V", scope_type="site", scope_id="V", matter="use", title="t",
                           closes_at=OPEN + timedelta(days=1), actor="committee:chen", now=OPEN)
    for home in six_homes[:4]:
        votes.cast_ballot(db, vote.id, home, "no", actor=f"owner:{home}", now=OPEN)
    for home in six_homes[:3]:
        votes.cast_ballot(db, vote.id, home, "yes", actor=f"owner:{home}", now=OPEN + timedelta(hours=1))
    result = votes.close_vote(db, vote.id, actor="committee:chen", now=OPEN + timedelta(hours=2))
    assert (result.participating_heads, result.yes_heads, result.approved) == (4, 3, True)
    assert len(votes.ballot_history(db, vote.id)) == 7


def test_ballots_after_the_close_are_refused(db: psycopg.Connection, six_homes: list[str]) -> None:
    vote = votes.open_vote(db, site_id="V", scope_type="site", scope_id="V", matter="use", title="t",
                           closes_at=OPEN + timedelta(days=1), actor="committee:chen", now=OPEN)
    votes.close_vote(db, vote.id, actor="committee:chen", now=OPEN + timedelta(hours=1))
    with pytest.raises(InvalidState):
        votes.cast_ballot(db, vote.id, six_homes[0], "yes", actor="owner:x", now=OPEN + timedelta(hours=2))


def test_only_households_in_the_scope_may_vote(db: psycopg.Connection, six_homes: list[str]) -> None:
    vote = votes.open_vote(db, site_id="V", scope_type="unit", scope_id="V-U1", matter="use", title="t",
                           closes_at=OPEN + timedelta(days=1), actor="committee:chen", now=OPEN)
    with pytest.raises(FundError):
        votes.cast_ballot(db, vote.id, "S1B1-U1-101", "yes", actor="owner:x", now=OPEN)


def test_ballot_history_cannot_be_rewritten(db: psycopg.Connection, six_homes: list[str]) -> None:
    vote = votes.open_vote(db, site_id="V", scope_type="site", scope_id="V", matter="use", title="t",
                           closes_at=OPEN + timedelta(days=1), actor="committee:chen", now=OPEN)
    votes.cast_ballot(db, vote.id, six_homes[0], "no", actor="owner:x", now=OPEN)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("UPDATE fund_ballots SET choice = 'yes'")


def test_an_approved_use_vote_authorises_a_draw_that_completes_like_any_other(
    db: psycopg.Connection, six_homes: list[str]
) -> None:
    vote = votes.open_vote(db, site_id="V", scope_type="site", scope_id="V", matter="use", title="屋面翻新",
                           closes_at=OPEN + timedelta(days=1), actor="committee:chen", now=OPEN)
    for home in six_homes:
        votes.cast_ballot(db, vote.id, home, "yes", actor=f"owner:{home}", now=OPEN)
    votes.close_vote(db, vote.id, actor="committee:chen", now=OPEN + timedelta(hours=1))
    draw = draws.open_voted_draw(db, vote_id=vote.id, item="屋面翻新", contractor="某防水公司",
                                 estimate=Decimal("600.00"), actor="committee:chen")
    assert (draw.state, draw.route) == ("approved", "owners_vote")
    assert draws.complete(db, draw.id, actual_cost=Decimal("600.00"), actor="committee:chen").state == "completed"


def test_a_failed_vote_authorises_no_draw(db: psycopg.Connection, six_homes: list[str]) -> None:
    outcome_ = _vote(db, "use", {six_homes[0]: "yes"})
    with pytest.raises(InvalidState):
        draws.open_voted_draw(db, vote_id=outcome_.vote_id, item="x", contractor="y", estimate=Decimal("1.00"),
                              actor="committee:chen")
