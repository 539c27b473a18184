"""Red and black list entries: in effect while published, within their period and not revoked; a black-listed
company is flagged on the view of every project it serves."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dispatch.workorders import open_from_report
from supervision import current_project
from supervision.companies import Company
from supervision.lists import EntryRevoked, InvalidEntry, add_entry, entries_in_effect, publish_entry, revoke_entry

from .conftest import SITE

NOW = datetime(2026, 11, 10, 4, tzinfo=UTC)


def blacklist(conn: psycopg.Connection, company_id: int, *, published: bool = True, **extra):
    return add_entry(conn, company_id=company_id, list_name="black", reason="电梯困人救援多次超时",
                     effective_from=date(2026, 11, 1), effective_until=date(2027, 10, 31), added_by="subdistrict1",
                     evidence="三次困人救援超过 30 分钟", evidence_links=["https://example.org/notice/1"],
                     published=published, now=NOW, **extra)


def test_a_published_black_list_entry_flags_the_project(company: Company, served: psycopg.Connection) -> None:
    entry = blacklist(served, company.id)
    view = current_project(served, SITE, NOW)
    assert view.blacklisted and not view.redlisted
    assert [e.id for e in view.list_entries] == [entry.id]


def test_a_draft_flags_nothing_until_published(company: Company, served: psycopg.Connection) -> None:
    entry = blacklist(served, company.id, published=False)
    assert not current_project(served, SITE, NOW).blacklisted
    publish_entry(served, entry.id, now=NOW)
    assert current_project(served, SITE, NOW).blacklisted


def test_an_entry_is_in_effect_only_within_its_period(company: Company, served: psycopg.Connection) -> None:
    blacklist(served, company.id)
    assert entries_in_effect(served, company.id, datetime(2026, 10, 31, 15, 59, tzinfo=UTC)) == []  # Oct 31 local
    assert len(entries_in_effect(served, company.id, datetime(2026, 10, 31, 16, 0, tzinfo=UTC))) == 1  # Nov 1
    assert entries_in_effect(served, company.id, datetime(2027, 10, 31, 16, 0, tzinfo=UTC)) == []  # Nov 1 2027


def test_a_revoked_entry_keeps_its_reason_and_stops_flagging(company: Company, served: psycopg.Connection) -> None:
    entry = blacklist(served, company.id)
    later = datetime(2026, 12, 1, tzinfo=UTC)
    revoked = revoke_entry(served, entry.id, reason="复核后撤销", revoked_by="subdistrict1", now=later)
    assert (revoked.revoke_reason, revoked.revoked_by) == ("复核后撤销", "subdistrict1")
    assert current_project(served, SITE, NOW).blacklisted  # before the revocation
    assert not current_project(served, SITE, later).blacklisted
    with pytest.raises(EntryRevoked):
        revoke_entry(served, entry.id, reason="again", revoked_by="subdistrict1")


def test_evidence_may_name_work_orders_that_exist(company: Company, served: psycopg.Connection) -> None:
    order = open_from_report(served, site_id=SITE, origin="owner_report", category="water_outage",
                             description="x", address="1号楼", reporter_contact="", actor="user:desk", now=NOW)
    assert blacklist(served, company.id, work_order_ids=[order.id]).work_order_ids == [order.id]
    with pytest.raises(InvalidEntry, match="do not exist"):
        blacklist(served, company.id, work_order_ids=[order.id + 1000])


def test_evidence_links_are_web_addresses_only(company: Company, served: psycopg.Connection) -> None:
    with pytest.raises(InvalidEntry, match="http"):
        add_entry(served, company_id=company.id, list_name="black", reason="x", effective_from=date(2026, 11, 1),
                  added_by="subdistrict1", evidence_links=["javascript:alert(1)"])


def test_the_public_board_shows_a_black_listed_company_as_such(company: Company, served: psycopg.Connection,
                                                               db_url: str, tmp_path) -> None:
    blacklist(served, company.id)
    served.commit()
    with TestClient(create_app(database_url=db_url, secret_key="k", uploads_dir=tmp_path)) as client:
        page = client.get(f"/board/{SITE}")
    assert page.status_code == 200
    assert '<span class="list-badge black">黑名单</span>' in page.text
