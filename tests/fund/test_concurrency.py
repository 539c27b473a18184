"""A work order draws once, whatever retries and races: two threads on two connections at each step."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import psycopg

from dispatch.fund import draws, ledger
from ingest.database import connect

from .conftest import Estate
from .helpers import new_work_order, open_draw, repaired_and_approved, verify_repair

T = TypeVar("T")


def race(db_url: str, action: Callable[[psycopg.Connection], T], *, threads: int = 2) -> list[T]:
    """Run ``action`` at the same moment on ``threads`` connections; re-raise the first failure."""
    barrier = threading.Barrier(threads)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        with connect(db_url, autocommit=True) as conn:
            barrier.wait()
            try:
                results.append(action(conn))
            except BaseException as exc:
                errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    if errors:
        raise errors[0]
    return results


def test_concurrent_openings_for_one_work_order_create_one_draw(
    db: psycopg.Connection, db_url: str, estate: Estate
) -> None:
    order = new_work_order(db, estate.site_id)
    opened = race(db_url, lambda conn: open_draw(conn, estate.site_id, work_order=order), threads=4)
    assert len({d.id for d in opened}) == 1
    assert db.execute("SELECT count(*) FROM fund_draws WHERE work_order_id = %s", (order.id,)).fetchone()[0] == 1


def test_concurrent_approvals_record_one_decision(db: psycopg.Connection, db_url: str, estate: Estate) -> None:
    draw = open_draw(db, estate.site_id)
    approved = race(db_url, lambda conn: draws.approve(conn, draw.id, actor="committee:chen", role="committee",
                                                       comment="ok"))
    assert [d.state for d in approved] == ["approved", "approved"]
    assert [e.event for e in draws.draw_events(db, draw.id)] == ["opened", "approved"]


def test_concurrent_completions_charge_each_household_once(db: psycopg.Connection, db_url: str, estate: Estate) -> None:
    draw = repaired_and_approved(db, estate.site_id, "8000.00")
    race(db_url, lambda conn: draws.complete(conn, draw.id, actor="crew:sun"), threads=3)
    rows = db.execute("SELECT household_id, count(*) FROM fund_ledger WHERE draw_id = %s GROUP BY 1",
                      (draw.id,)).fetchall()
    assert sorted(h for h, _ in rows) == sorted(estate.households)
    assert {n for _, n in rows} == {1}
    assert ledger.reconcile(db, estate.site_id).balanced


def test_retrying_the_whole_emergency_path_draws_once(db: psycopg.Connection, estate: Estate) -> None:
    order = verify_repair(db, new_work_order(db, estate.site_id), "1234.56")
    for _attempt in range(3):
        draw = open_draw(db, estate.site_id, work_order=order)
        draws.approve(db, draw.id, actor="committee:chen", role="committee", comment="")
        draws.complete(db, draw.id, actual_cost=Decimal("1234.56"), actor="crew:sun")
    assert db.execute("SELECT sum(amount) FROM fund_ledger WHERE kind = 'draw'").fetchone()[0] == Decimal("-1234.56")
