"""A draw's steps keep what the system records as facts (kind, estimate, missed deadline, actual cost), never as
English text, so pages word them in the reader's language; steps recorded before (the table is append-only) read
the same from their English comment."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg

from dashboard.i18n import translate
from dashboard.ui.draw_steps import draw_steps
from dispatch.fund import draws

from .conftest import Estate
from .helpers import open_draw


def test_an_application_records_its_kind_and_estimate_as_facts(db: psycopg.Connection, estate: Estate) -> None:
    draw = open_draw(db, estate.site_id, estimate="850.00")
    [opened] = draws.draw_events(db, draw.id)
    assert (opened.comment, opened.data) == (None, {"kind": "emergency", "estimate": "850.00"})


def test_an_escalation_records_the_missed_deadline_as_a_fact(db: psycopg.Connection, estate: Estate) -> None:
    draw = open_draw(db, estate.site_id)
    draws.apply_deemed_approvals(db, draw.review_due_at + timedelta(minutes=1))
    escalated = draws.draw_events(db, draw.id)[-1]
    assert (escalated.event, escalated.comment) == ("escalated", None)
    assert escalated.data == {"review_due_at": draw.review_due_at.isoformat()}


def test_a_step_recorded_before_the_upgrade_reads_in_chinese(db: psycopg.Connection, estate: Estate) -> None:
    draw = open_draw(db, estate.site_id, estimate="850.00")
    # The table is append-only: a step of before the upgrade is a row with its facts in an English comment.
    db.execute("""INSERT INTO fund_draw_events (draw_id, event, actor, comment, at)
                  VALUES (%s, 'completed', 'dispatcher:zhao', 'actual 900.00 vs estimate 850.00; variance flagged',
                          now())""", (draw.id,))
    db.execute("""INSERT INTO fund_draw_events (draw_id, event, actor, role, comment, at)
                  VALUES (%s, 'approved', 'committee:li', 'committee', '同意', now())""", (draw.id,))
    zone = ZoneInfo("Asia/Shanghai")
    said = [step.note(lambda key: translate(key, "zh")) for step in draw_steps(draws.draw_events(db, draw.id), zone)]
    assert said == ["应急使用，预算 ¥850.00", "实际费用 ¥900.00，预算 ¥850.00 · 实际费用与预算偏差超限，已标记", "同意"]
