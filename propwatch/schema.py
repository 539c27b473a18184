"""Which packages own tables, in the order their migrations apply (dependencies first)."""

from __future__ import annotations

import logging

from ingest.database import connect
from ingest.migrations import StorageChoice, StorageModeError, UpgradeReport, upgrade

log = logging.getLogger(__name__)

MIGRATION_PACKAGES: tuple[str, ...] = (
    "ingest", "gateway", "rules", "dispatch", "dispatch.fund", "services", "supervision", "dashboard",
)


def upgrade_database(url: str, *, storage: StorageChoice = "auto") -> UpgradeReport:
    """Apply every pending migration to the database at ``url`` and log the storage mode.

    ``storage`` is ``PROPWATCH_STORAGE``: the mode a new database gets (``ingest.migrations.choose_mode``).
    """
    try:
        with connect(url) as conn:
            report = upgrade(conn, MIGRATION_PACKAGES, storage=storage)
    except StorageModeError as exc:
        raise StorageModeError(f"{exc} [PROPWATCH_STORAGE={storage}: auto, timescaledb or plain]") from None
    if report.mode == "timescaledb":
        log.info("storage: TimescaleDB (readings and events are hypertables)")
    else:
        log.info("storage: plain PostgreSQL")
    if report.applied:
        log.info("applied %d migrations: %s", len(report.applied), ", ".join(report.applied))
    return report
