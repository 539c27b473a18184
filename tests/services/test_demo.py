"""The demo estate's published services and board items are seeded once: a second seeding changes nothing."""

from __future__ import annotations

from ingest.database import connect
from services import board, bookings, catalog, demo


def test_seeding_the_demo_twice_changes_nothing(world) -> None:
    with connect(world.database_url) as conn:
        before = (catalog.list_services(conn, world.site_id), board.list_fee_statements(conn, world.site_id),
                  bookings.list_bookings(conn, site_ids=[world.site_id], state="rated"))
        demo.seed_demo(conn, world.site_id, actor="system:seed")
        after = (catalog.list_services(conn, world.site_id), board.list_fee_statements(conn, world.site_id),
                 bookings.list_bookings(conn, site_ids=[world.site_id], state="rated"))
        conn.rollback()
    assert [len(x) for x in after] == [len(x) for x in before]


def test_every_demo_price_has_its_basis(world) -> None:
    with connect(world.database_url) as conn:
        services = catalog.list_services(conn, world.site_id)
        assert services and all(p.basis for s in services for p in catalog.price_history(conn, s.id))
