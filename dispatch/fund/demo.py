"""Demo data for the fund: units, households with plausible areas, first deposits, and one voted repair."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg

from dispatch.fund import draws, votes
from dispatch.fund.estate import BuildingUnit, Household, add_building_unit, add_household, configure_site
from dispatch.fund.ledger import deposit, get_account

DEMO_ACTOR = "system:seed"
UNITS_PER_BUILDING = 2
FLOORS = 6
ROOMS_PER_FLOOR = 2
# Order 165 art. 7: the first deposit is 5–8% of the local construction cost per m² of building area [P-sw];
# 6% of an assumed ¥2,500/m² for the demo.
DEMO_DEPOSIT_PER_M2 = Decimal("150.00")
# Pooled common area (公摊) makes exclusive area roughly 75–85% of building area.
EXCLUSIVE_SHARE_RANGE = (75, 85)


def _household(site_id: str, building_id: str, unit_no: int, floor: int, room_no: int,
               rng: random.Random) -> Household:
    building_area = Decimal(rng.randint(6000, 14000)) / 100
    exclusive_area = (building_area * rng.randint(*EXCLUSIVE_SHARE_RANGE) / 100).quantize(Decimal("0.01"))
    room = f"{floor}{room_no:02d}"
    return Household(
        id=f"{building_id}-U{unit_no}-{room}",
        site_id=site_id,
        building_id=building_id,
        unit_id=f"{building_id}-U{unit_no}",
        room=room,
        building_area=building_area,
        exclusive_area=exclusive_area,
        # The top floor of the last unit is still unsold: the developer holds it and pays its share.
        developer_held=(unit_no == UNITS_PER_BUILDING and floor == FLOORS),
    )


def seed_demo(conn: psycopg.Connection, site_id: str, buildings: list[tuple[str, str]]) -> None:
    """Create units, households, first deposits and fund settings (committee exists) for the given
    ``(building_id, name)`` pairs of an existing site, plus one completed voted repair; safe to re-run."""
    with conn.transaction():
        configure_site(conn, site_id, has_committee=True, actor=DEMO_ACTOR)
        for building_id, _name in buildings:
            rng = random.Random(f"{site_id}/{building_id}")  # same areas on every run
            for unit_no in range(1, UNITS_PER_BUILDING + 1):
                add_building_unit(conn, BuildingUnit(f"{building_id}-U{unit_no}", site_id, building_id,
                                                     f"{unit_no}单元"), actor=DEMO_ACTOR)
                for floor in range(1, FLOORS + 1):
                    for room_no in range(1, ROOMS_PER_FLOOR + 1):
                        household = _household(site_id, building_id, unit_no, floor, room_no, rng)
                        add_household(conn, household, actor=DEMO_ACTOR)
                        if get_account(conn, household.id).first_deposit is None:
                            deposit(conn, household.id, household.building_area * DEMO_DEPOSIT_PER_M2,
                                    actor=DEMO_ACTOR, memo="首次交存 first deposit")
        if buildings and not draws.list_draws(conn, site_id=site_id):
            _voted_repair(conn, site_id, buildings[0][0])


def _voted_repair(conn: psycopg.Connection, site_id: str, building_id: str) -> None:
    """A roof repair the building's owners voted for, completed and disclosed."""
    now = datetime.now(UTC)
    vote = votes.open_vote(conn, site_id=site_id, scope_type="building", scope_id=building_id, matter="use",
                           title="屋面防水翻新 roof waterproofing renewal", closes_at=now + timedelta(days=14),
                           actor=DEMO_ACTOR, now=now)
    electorate = [row[0] for row in conn.execute(
        "SELECT household_id FROM fund_vote_electorate WHERE vote_id = %s ORDER BY household_id", (vote.id,))]
    for index, household_id in enumerate(electorate):
        choice = "no" if index % 5 == 4 else "yes"
        votes.cast_ballot(conn, vote.id, household_id, choice, actor=f"owner:{household_id}", now=now)
    votes.close_vote(conn, vote.id, actor=DEMO_ACTOR, now=now)
    draw = draws.open_voted_draw(conn, vote_id=vote.id, item="屋面防水翻新 roof waterproofing renewal",
                                 contractor="示例防水工程有限公司 (demo contractor)", estimate=Decimal("48000.00"),
                                 actor=DEMO_ACTOR, now=now)
    draws.complete(conn, draw.id, actual_cost=Decimal("46850.00"), actor=DEMO_ACTOR, now=now)
