"""The seeded demo estate of the dashboard tests (one per package), its app client and users of every role."""

from tests.dashboard.conftest import api, as_role, engine, order_for, trapped, world  # noqa: F401
