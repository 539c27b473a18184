"""An order keeps its title in each language apart: zh-CN in ``title``, English in ``title_en`` where the system
words it (alarm, reported category, preventive template); the upgrade splits titles stored as "中文 / English"."""

from __future__ import annotations

import psycopg

from dispatch.alarm_sync import handle_transition
from dispatch.workorders import get_work_order, open_from_report
from propwatch.schema import upgrade_database

from .conftest import DEVICES, SITE, T0, Alarm, alarm_transition


def test_an_alarm_order_keeps_the_alarm_title_in_each_language(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"],
                  title_zh="电梯困人", title_en="Passenger trapped in elevator")
    order = handle_transition(estate, alarm_transition(1, alarm))
    assert (order.title, order.title_en) == ("电梯困人", "Passenger trapped in elevator")


def test_an_upgraded_alarm_order_takes_both_titles_of_the_graver_alarm(estate: psycopg.Connection) -> None:
    fault = Alarm(id=1, category="elevator_fault", severity="P2", device_id=DEVICES["elevator"],
                  title_zh="电梯故障", title_en="Elevator fault")
    trapped = Alarm(id=2, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"],
                    title_zh="电梯困人", title_en="Passenger trapped in elevator")
    handle_transition(estate, alarm_transition(1, fault))
    upgraded = handle_transition(estate, alarm_transition(2, trapped))
    assert (upgraded.title, upgraded.title_en) == ("电梯困人", "Passenger trapped in elevator")


def test_a_reported_order_is_titled_by_its_category_in_each_language(estate: psycopg.Connection) -> None:
    order = open_from_report(estate, site_id=SITE, origin="owner_report", category="noise",
                             description="楼上深夜装修", address="1号楼3楼", reporter_contact="13800000000",
                             actor="owner:1", now=T0)
    assert (order.title, order.title_en, order.description) == ("噪声扰民", "Noise nuisance", "楼上深夜装修")


def test_the_upgrade_splits_titles_stored_in_both_languages(estate: psycopg.Connection, db_url: str) -> None:
    old = handle_transition(estate, alarm_transition(1, Alarm(id=1, category="elevator_fault", severity="P2",
                                                                device_id=DEVICES["elevator"])))
    typed = handle_transition(estate, alarm_transition(2, Alarm(id=2, category="drainage_flood", severity="P1",
                                                                device_id=DEVICES["drainage"])))
    estate.execute("UPDATE work_orders SET title = %s WHERE id = %s", ("电梯困人 / Passenger trapped in elevator",
                                                                      old.id))
    estate.execute("UPDATE work_orders SET title = %s WHERE id = %s", ("地下室 B2 积水", typed.id))
    # The database as it was before the migration: no English column, the migration not applied.
    estate.execute("ALTER TABLE work_orders DROP COLUMN title_en")
    estate.execute("DELETE FROM schema_migrations WHERE package = 'dispatch' AND version = '0006'")

    upgrade_database(db_url)

    split, kept = get_work_order(estate, old.id), get_work_order(estate, typed.id)
    assert (split.title, split.title_en) == ("电梯困人", "Passenger trapped in elevator")
    assert (kept.title, kept.title_en) == ("地下室 B2 积水", None)
