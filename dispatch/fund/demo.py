"""Demo data for the fund: units, households with plausible areas, first deposits early last year, a year of
interest, an elevator insurance purchase, shared-part income and expenses, last year's published annual
disclosure, and one voted repair (a closed vote with its published result)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import psycopg

from dispatch.fund import annual, draws, insurance, shared_parts, votes
from dispatch.fund.estate import BuildingUnit, Household, add_building_unit, add_household, configure_site
from dispatch.fund.ledger import credit_interest, deposit, get_account
from ingest.registry import list_devices, site_timezone

DEMO_ACTOR = "system:seed"
UNITS_PER_BUILDING = 2
FLOORS = 6
ROOMS_PER_FLOOR = 2
# Order 165 art. 7: the first deposit is 5–8% of the local construction cost per m² of building area [P-sw];
# 6% of an assumed ¥2,500/m² for the demo.
DEMO_DEPOSIT_PER_M2 = Decimal("150.00")
# Pooled common area (公摊) makes exclusive area roughly 75–85% of building area.
EXCLUSIVE_SHARE_RANGE = (75, 85)
# Demo assumptions, not rules: the assembly authorised the committee ¥20,000 (notice clause 6); the fund earns
# about a one-year fixed-deposit rate, credited quarterly on the 21st as Chinese banks settle interest.
DEMO_COMMITTEE_LIMIT = Decimal("20000.00")
DEMO_ANNUAL_RATE = Decimal("0.0150")
INTEREST_DAYS = ((3, 21), (6, 21), (9, 21), (12, 21))
# DOMAIN.md §1.8: about ¥1,300 premium per elevator per year (Tianjin eco-city) ◐ [P-tj].
DEMO_PREMIUM_PER_ELEVATOR = Decimal("1300.00")
# (direction, category, counterparty, monthly amount, basis) of last year's and this year's shared-part records.
# What stands for text a person typed (bases, items, reviewers' comments) is Chinese only, as a property manager
# types it; what the system records (deposits, interest) pages word from the ledger line's kind.
DEMO_SHARED_PARTS = (
    ("income", "advertising", "示例传媒广告有限公司", Decimal("1800.00"), "电梯轿厢广告屏合同"),
    ("income", "parking", "示例停车管理有限公司", Decimal("3200.00"), "地面共有车位租赁协议"),
    ("expense", "operating_cost", "国网示例供电公司", Decimal("126.40"), "广告屏电费"),
    ("expense", "management_fee", "示例物业服务有限公司", Decimal("500.00"), "业主大会决议：代管酬金"),
)


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
    zone = site_timezone(conn, site_id)
    last_year = datetime.now(zone).year - 1
    first_deposit_at = datetime(last_year, 1, 15, 10, tzinfo=zone)
    with conn.transaction():
        configure_site(conn, site_id, has_committee=True, committee_limit=DEMO_COMMITTEE_LIMIT, actor=DEMO_ACTOR)
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
                                    actor=DEMO_ACTOR, memo="首次交存", now=first_deposit_at)
        if not buildings:
            return
        if not insurance.site_policies(conn, site_id):
            _insurance(conn, site_id, last_year)
        _interest(conn, site_id, last_year)
        _shared_parts(conn, site_id, last_year)
        if not annual.published_disclosures(conn, site_id):
            _annual_disclosure(conn, site_id, last_year)
        if not [d for d in draws.list_draws(conn, site_id=site_id) if d.kind == "voted"]:
            _voted_repair(conn, site_id, buildings[0][0])


def _insurance(conn: psycopg.Connection, site_id: str, year: int) -> None:
    """Last year's elevator safety liability insurance for every elevator, approved by the committee, paid."""
    elevators = tuple(d.id for d in list_devices(conn, site_id=site_id) if d.type == "elevator")
    if not elevators:
        return
    zone = site_timezone(conn, site_id)
    applied, approved, paid = (datetime(year, 2, 20, 10, tzinfo=zone), datetime(year, 2, 24, 15, tzinfo=zone),
                               datetime(year, 3, 1, 9, tzinfo=zone))
    terms = insurance.PolicyTerms(policy_number=f"DEMO-ELI-{year}-{site_id}", insurer="示例财产保险股份有限公司",
                                  period_start=date(year, 3, 1), period_end=date(year + 1, 3, 1),
                                  premium=DEMO_PREMIUM_PER_ELEVATOR * len(elevators), elevators=elevators)
    draw = insurance.apply_for_insurance(conn, site_id=site_id, terms=terms, actor=DEMO_ACTOR, now=applied)
    draws.approve(conn, draw.id, actor="demo-committee", role="committee", comment="业委会同意",
                  now=approved)
    draws.complete(conn, draw.id, actual_cost=terms.premium, actor=DEMO_ACTOR, now=paid)


def _interest(conn: psycopg.Connection, site_id: str, year: int) -> None:
    """Quarterly interest of ``year`` on every account, each quarter once."""
    zone = site_timezone(conn, site_id)
    for month, day in INTEREST_DAYS:
        at = datetime(year, month, day, 9, tzinfo=zone)
        done = conn.execute("SELECT 1 FROM fund_ledger WHERE site_id = %s AND kind = 'interest' AND created_at = %s",
                            (site_id, at)).fetchone()
        if done:
            continue
        for (household_id,) in conn.execute("SELECT household_id FROM fund_accounts WHERE site_id = %s "
                                            "ORDER BY household_id", (site_id,)).fetchall():
            amount = (get_account(conn, household_id).balance * DEMO_ANNUAL_RATE / 4).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP)
            if amount > 0:
                credit_interest(conn, household_id, amount, actor=DEMO_ACTOR, memo=f"{year}年{month}月结息",
                                now=at)


def _shared_parts(conn: psycopg.Connection, site_id: str, year: int) -> None:
    """Monthly shared-part income and expenses from January of ``year`` to last month, once."""
    if shared_parts.page_entries(conn, site_id, limit=1)[1]:
        return
    today = datetime.now(site_timezone(conn, site_id)).date()
    month = date(year, 1, 1)
    while month < today.replace(day=1):
        for direction, category, counterparty, amount, basis in DEMO_SHARED_PARTS:
            shared_parts.record_entry(conn, site_id=site_id, direction=direction, category=category, amount=amount,
                                      occurred_on=month.replace(day=25), counterparty=counterparty, basis=basis,
                                      actor=DEMO_ACTOR)
        month = (month + timedelta(days=32)).replace(day=1)


def _annual_disclosure(conn: psycopg.Connection, site_id: str, year: int) -> None:
    """Last year's disclosure generated, reviewed and published by the committee in January."""
    zone = site_timezone(conn, site_id)
    draft = annual.generate(conn, site_id, year, actor=DEMO_ACTOR, now=datetime(year + 1, 1, 10, 9, tzinfo=zone))
    annual.review(conn, draft.id, actor="demo-committee", role="committee", comment="已核对银行对账单",
                  now=datetime(year + 1, 1, 12, 9, tzinfo=zone))
    annual.publish(conn, draft.id, actor="demo-committee", role="committee",
                   now=datetime(year + 1, 1, 15, 9, tzinfo=zone))


def _voted_repair(conn: psycopg.Connection, site_id: str, building_id: str) -> None:
    """A roof repair the building's owners voted for, completed and disclosed."""
    now = datetime.now(UTC)
    vote = votes.open_vote(conn, site_id=site_id, scope_type="building", scope_id=building_id, matter="use",
                           title="屋面防水翻新", closes_at=now + timedelta(days=14),
                           actor=DEMO_ACTOR, now=now)
    electorate = [row[0] for row in conn.execute(
        "SELECT household_id FROM fund_vote_electorate WHERE vote_id = %s ORDER BY household_id", (vote.id,))]
    for index, household_id in enumerate(electorate):
        choice = "no" if index % 5 == 4 else "yes"
        votes.cast_ballot(conn, vote.id, household_id, choice, actor=f"owner:{household_id}", now=now)
    votes.close_vote(conn, vote.id, actor=DEMO_ACTOR, now=now)
    draw = draws.open_voted_draw(conn, vote_id=vote.id, item="屋面防水翻新",
                                 contractor="示例防水工程有限公司", estimate=Decimal("48000.00"),
                                 actor=DEMO_ACTOR, now=now)
    draws.complete(conn, draw.id, actual_cost=Decimal("46850.00"), actor=DEMO_ACTOR, now=now)
