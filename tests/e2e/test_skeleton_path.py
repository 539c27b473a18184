"""The walking skeleton, for real: simulated elevator -> MQTT -> gateway -> PostgreSQL -> rules -> dispatch -> API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dispatch.responsibility import lookup
from dispatch.units import get_unit
from gateway.protocol.endpoint import MqttEndpoint
from ingest.database import connect
from propwatch.embedded import EmbeddedBroker
from propwatch.pipeline import Pipeline
from propwatch.seed import Login, seed_demo
from simulators.estate import EstateLayout, demo_estate
from simulators.site import SiteSimulator

pytestmark = pytest.mark.slow


def _wait_for(probe: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def estate(site_id: str) -> EstateLayout:
    return demo_estate(site_id, buildings=1)


@pytest.fixture
def logins(db_url: str, estate: EstateLayout) -> dict[str, Login]:
    with connect(db_url) as conn:
        return {login.role: login for login in seed_demo(conn, estate)}


@pytest.fixture
def running_system(db_url: str, own_broker: EmbeddedBroker, estate: EstateLayout,
                   logins: dict[str, Login]) -> Iterator[SiteSimulator]:
    pipeline = Pipeline(database_url=db_url, endpoint=MqttEndpoint.parse(own_broker.handle.url))
    pipeline.start()
    # 10x: the simulated firmware reports an entrapment 20 simulated seconds after it starts (DOMAIN.md §1.4).
    simulator = SiteSimulator(estate, mqtt_url=own_broker.handle.url, seed=7, speedup=10)
    simulator.start()
    yield simulator
    simulator.stop()
    pipeline.stop()


@pytest.fixture
def api(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(database_url=db_url)) as client:
        yield client


def _bearer(api: TestClient, login: Login) -> dict[str, str]:
    response = api.post("/api/v1/auth/token", data={"username": login.username, "password": login.password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_trapped_passenger_reaches_an_alarm_and_a_work_order_for_the_maintenance_unit(
    running_system: SiteSimulator, api: TestClient, estate: EstateLayout, logins: dict[str, Login], db_url: str,
) -> None:
    elevator = next(d for d in estate.devices if d.type == "elevator")
    running_system.inject(elevator.id, "trapped", duration_s=60)
    headers = _bearer(api, logins["operator"])

    def trapped_alarm() -> dict | None:
        items = api.get("/api/v1/alarms", headers=headers).json()["items"]
        return next((a for a in items if a["device_id"] == elevator.id and a["category"] == "elevator_entrapment"),
                    None)

    alarm = _wait_for(trapped_alarm)
    assert (alarm["severity"], alarm["state"]) == ("P0", "active")

    def order_for_alarm() -> dict | None:
        items = api.get("/api/v1/work-orders", headers=headers).json()["items"]
        return next((o for o in items if o["device_id"] == elevator.id), None)

    order = _wait_for(order_for_alarm)
    assert order["category"] == "elevator_entrapment"
    with connect(db_url) as conn:
        responsible = lookup(conn, category="elevator_entrapment", component="elevator", site_id=estate.site_id)
        assert get_unit(conn, responsible.unit_id).kind == "elevator_maintenance"
    assert order["unit_id"] == responsible.unit_id


def test_api_refuses_alarms_without_a_token(api: TestClient) -> None:
    assert api.get("/api/v1/alarms").status_code == 401
