"""Demo data for supervision: a property company serving the demo estate, its project and manager, two
inspections and an opinion last month, and last month's credit evaluation. Safe to call on every demo start: what
exists already is kept, the credit month is recomputed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg

from supervision.companies import create_company
from supervision.credit import recompute
from supervision.inspections import InspectionItem, record_inspection, set_opinion
from supervision.projects import create_project, project_at
from supervision.schedule import previous_month

DEMO_COMPANY = {"name": "甬安物业服务有限公司", "credit_code": "91330201730123456Q", "phone": "0574-87361234",
                "address": "浙江省宁波市海曙区中山西路 88 号"}
DEMO_ACTOR = "system:demo"
DEMO_ITEMS = (
    ("电梯维保记录及年检标志", "pass", "维保记录齐全, 年检合格标志在有效期内"),
    ("消防通道及消防设施", "pass", ""),
    ("二次供水水箱清洗消毒记录", "fail", "上半年清洗记录缺失, 要求一周内补正"),
    ("公共区域保洁与绿化", "pass", ""),
    ("信息公示栏内容", "pass", "项目经理及投诉电话已公示"),
)


def seed_demo(conn: psycopg.Connection, site_id: str, *, now: datetime | None = None) -> None:
    """The demo company, project, inspections, opinion and last month's credit for ``site_id``."""
    now = now or datetime.now(UTC)
    company_id = _company(conn)
    month = previous_month(now)
    if project_at(conn, site_id, now) is None:
        create_project(conn, company_id=company_id, site_id=site_id, starts_on=date(month.year - 1, 1, 1),
                       ends_on=date(month.year + 2, 12, 31), service_level="二级", fee_per_m2_month=Decimal("2.30"),
                       manager_name="陈建国", manager_phone="13957800123")
    serving = project_at(conn, site_id, now)
    if serving is None or serving.company_id != company_id:
        return  # another company serves the estate: leave its records alone
    done = conn.execute("SELECT count(*) FROM supervision_inspections WHERE site_id = %s AND company_id = %s",
                        (site_id, company_id)).fetchone()[0]
    planned = ((month + timedelta(days=7), Decimal("88.00"), DEMO_ITEMS[:2] + DEMO_ITEMS[3:]),
               (month + timedelta(days=21), Decimal("76.50"), DEMO_ITEMS))
    for day, score, items in planned[done:]:
        record_inspection(conn, site_id=site_id, company_id=company_id, inspected_on=day, inspector_id=0,
                          inspector=DEMO_ACTOR, items=[InspectionItem(*i) for i in items], score=score)
    set_opinion(conn, company_id=company_id, month=month, rating="good", author=DEMO_ACTOR,
                text="服务总体良好; 二次供水记录须按期补正", now=now)
    recompute(conn, company_id, month, now=now)


def _company(conn: psycopg.Connection) -> int:
    found = conn.execute("SELECT id FROM supervision_companies WHERE credit_code = %s",
                         (DEMO_COMPANY["credit_code"],)).fetchone()
    return found[0] if found else create_company(conn, **DEMO_COMPANY).id
