"""The `propwatch` command line as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict

DEFAULT_PACK = Path(__file__).resolve().parents[2] / "rules" / "packs" / "default.yaml"


def _propwatch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "propwatch", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def _as_url(conninfo: str) -> str:
    params = conninfo_to_dict(conninfo)
    query = f"?host={quote(params['host'])}" if params.get("host", "").startswith("/") else ""
    host = "" if query else params.get("host", "")
    port = f":{params['port']}" if params.get("port") and not query else ""
    return f"postgresql://{params.get('user', '')}@{host}{port}/{params['dbname']}{query}"


def test_a_bad_setting_stops_with_exit_code_2_and_names_the_variable() -> None:
    result = _propwatch("db", "upgrade", PROPWATCH_MQTT_URL="http://broker:1883")
    assert result.returncode == 2
    assert "PROPWATCH_MQTT_URL" in result.stderr


def test_db_upgrade_on_a_migrated_database_applies_nothing(db_url: str) -> None:
    result = _propwatch("db", "upgrade", PROPWATCH_DATABASE_URL=_as_url(db_url))
    assert result.returncode == 0, result.stderr
    assert "applied 0 migrations" in result.stdout


def test_rules_check_accepts_the_default_pack() -> None:
    result = _propwatch("rules", "check", str(DEFAULT_PACK))
    assert result.returncode == 0, result.stdout + result.stderr


def test_simulate_hands_its_options_to_the_simulators() -> None:
    result = _propwatch("simulate", "--help")
    assert result.returncode == 0
    assert "load" in result.stdout and "faults" in result.stdout
