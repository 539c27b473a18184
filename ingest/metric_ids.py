"""Metric names and their small integer ids: the index of a metric's value in a stored row's ``vals`` array.

Ids are assigned on first use and never change or go away, so an id read from a row some other, committed
transaction wrote can be cached for the life of the process. An id assigned in the caller's own open
transaction is not cached: a rollback would take it away.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

ASSIGN = """
WITH wanted AS (SELECT DISTINCT unnest(%(names)s::text[]) AS name),
assigned AS (
    INSERT INTO metric_names (name)
    SELECT name FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM metric_names m WHERE m.name = w.name)
    ORDER BY name
    ON CONFLICT (name) DO NOTHING
    RETURNING id, name
)
SELECT id, name, (xmin = pg_current_xact_id_if_assigned()::xid) IS NOT TRUE FROM metric_names
WHERE name = ANY(%(names)s)
UNION ALL
SELECT id, name, false FROM assigned
"""
MAX_ATTEMPTS = 3


class MetricIds:
    """Name -> id for one writer (not thread-safe: one writer thread owns it)."""

    def __init__(self) -> None:
        self._committed: dict[str, int] = {}

    def resolve(self, cur: psycopg.Cursor, names: Iterable[str]) -> dict[str, int]:
        """Ids of ``names``, assigning new ones in the cursor's transaction."""
        known = self._committed
        ids = {name: known.get(name, 0) for name in names}
        missing = [name for name, id_ in ids.items() if not id_]
        for _ in range(MAX_ATTEMPTS):
            if not missing:
                return ids
            # A name another writer is assigning concurrently comes back from neither branch (our INSERT waits
            # for theirs, then skips the name); the next statement sees it committed.
            for id_, name, committed in cur.execute(ASSIGN, {"names": missing}).fetchall():
                ids[name] = id_
                if committed:
                    known[name] = id_
            missing = [name for name, id_ in ids.items() if not id_]
        raise RuntimeError(f"could not assign metric ids to {missing}")
