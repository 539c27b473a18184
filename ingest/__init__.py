"""Storage: connections, migrations, the estate registry, time-series writes and history queries."""
