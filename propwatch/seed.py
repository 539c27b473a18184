"""The demo estate: registry, responsibility list, crews, fund households, the services and board items the
property company publishes, the company serving the estate with its credit, and one user per role."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from dashboard.users import ROLES, create_user, set_password
from dispatch import fund
from dispatch.crew import CrewMember, upsert_crew_member
from dispatch.preventive import create_plan
from dispatch.responsibility import default_list_path, import_default, lookup, parse_list
from ingest.database import connect
from ingest.migrations import is_migrated
from ingest.records import Batch, Sample
from ingest.registry import Building, Device, Site, upsert_building, upsert_device, upsert_site
from ingest.writer import Writer
from rules.anomaly.config import DetectorConfig
from rules.anomaly.dbstore import DatabaseModelStore
from rules.anomaly.refresh import anomaly_targets, warm_up_models
from services import demo as services_demo
from simulators.estate import EstateLayout
from simulators.offline import run_offline
from supervision import demo as supervision_demo

SEED_ACTOR = "system:seed"
# Simulated history stored before the demo starts, so its anomaly rules are armed at once: a door close time
# reported every minute needs about 4.3 h of readings before its detector is calibrated (docs/anomaly.md).
ANOMALY_HISTORY = timedelta(hours=5)


@dataclass(frozen=True)
class Login:
    role: str
    username: str
    password: str


def register_estate(conn: psycopg.Connection, layout: EstateLayout) -> None:
    """Put the simulated estate's site, buildings and devices into the registry."""
    upsert_site(conn, Site(id=layout.site_id, name=layout.name, name_en=layout.name_en, region=layout.region))
    for building in layout.buildings:
        upsert_building(conn, Building(id=building.id, site_id=layout.site_id, name=building.name,
                                       floors=building.floors))
    for device in layout.devices:
        upsert_device(conn, Device(id=device.id, site_id=layout.site_id, building_id=device.building_id,
                                   type=device.type, name=device.name, model=device.model,
                                   attributes=dict(device.attributes)))


DEMO_CREW = (
    CrewMember(id="crew-demo-2", unit_id="property-eng", name="工程部维修工 乙", phone="",
               skills=["water_supply", "drainage", "fire_system", "inspection"], on_shift=True),
    CrewMember(id="crew-demo-3", unit_id="fire-maint", name="消防维保技师 丙", phone="",
               skills=["fire_system", "inspection"], on_shift=True),
    CrewMember(id="crew-demo-4", unit_id="property-service", name="客服秩序员 丁", phone="",
               skills=["patrol", "cleaning", "greening"], on_shift=True),
)


def seed_demo(conn: psycopg.Connection, layout: EstateLayout) -> list[Login]:
    """Seed everything the demo needs (idempotent) and return fresh random logins, one per role."""
    with conn.transaction():
        register_estate(conn, layout)
        if not is_migrated(conn, "dispatch"):
            raise RuntimeError("database not migrated: run `propwatch db upgrade` first")
        import_default(conn, parse_list(default_list_path().read_text(encoding="utf-8")), actor=SEED_ACTOR)
        elevator_unit = lookup(conn, category="elevator_entrapment", component="elevator",
                               site_id=layout.site_id).unit_id
        crew = CrewMember(id="crew-demo-1", unit_id=elevator_unit, name="维保工程师 甲", phone="",
                          skills=["elevator"], on_shift=True)
        upsert_crew_member(conn, crew)
        # The other units the list sends the demo's faults to have a crew member too, without a login, so every
        # order can be dispatched (water and drainage to the property's engineering team, fire to its
        # maintenance company, complaints to the service team).
        for member in DEMO_CREW:
            upsert_crew_member(conn, member)
        fund.seed_demo(conn, layout.site_id, [(b.id, b.name) for b in layout.buildings])
        schedule_preventive_maintenance(conn, layout)
        services_demo.seed_demo(conn, layout.site_id, actor=SEED_ACTOR)
        supervision_demo.seed_demo(conn, layout.site_id)
        owner_household = fund.estate.list_households(conn, layout.site_id)[0].id
        return [
            _ensure_login(conn, role, layout.site_id, crew=crew, household_id=owner_household)
            for role in ROLES
        ]


def schedule_preventive_maintenance(conn: psycopg.Connection, layout: EstateLayout) -> None:
    """Half-monthly service for every elevator and the weekly pump test for every fire system."""
    plans = {"elevator": ("elevator_half_monthly", timedelta(days=10)),
             "fire_system": ("fire_pump_weekly", timedelta(days=5))}
    now = datetime.now(UTC)
    for device in layout.devices:
        if device.type in plans:
            template, first_due_in = plans[device.type]
            create_plan(conn, template=template, site_id=layout.site_id, building_id=device.building_id,
                        device_id=device.id, first_due=now + first_due_in, actor=SEED_ACTOR)


def _ensure_login(conn: psycopg.Connection, role: str, site_id: str, *, crew: CrewMember,
                  household_id: str) -> Login:
    # A new random password on every run: demo credentials are never fixed defaults.
    username = f"demo-{role}"
    password = secrets.token_urlsafe(12)
    if not set_password(conn, username, password):
        create_user(
            conn,
            username=username,
            password=password,
            role=role,
            display_name=f"Demo {role}",
            site_ids=[site_id],
            crew_member_id=crew.id if role == "crew" else None,
            unit_id=crew.unit_id if role == "crew" else None,
            household_id=household_id if role == "owner" else None,
        )
    return Login(role, username, password)


def seed_anomaly_history(database_url: str, layout: EstateLayout, *, now: datetime,
                         history: timedelta = ANOMALY_HISTORY) -> None:
    """Store ``history`` of simulated readings of the metrics the anomaly rules watch, for the devices they
    cover, and train their detectors from it, so those rules are armed when the pipeline starts. Nothing is done
    when every detector already has a model past its warm-up (the demo's data directory is reused)."""
    with connect(database_url) as conn:
        targets = anomaly_targets(conn)
    store = DatabaseModelStore(database_url)
    try:
        armed = store.newest_rows([target.key for target in targets])
    finally:
        store.close()
    pending = [t for t in targets if armed.get(t.key, 0) < DetectorConfig().warmup_rows]
    if not pending:
        return
    metrics: dict[str, set[str]] = {}
    for target in pending:
        metrics.setdefault(target.device_id, set()).update(target.channels)
    sent = run_offline(layout, start=now - history, duration_s=history.total_seconds(), seed=7,
                       devices=sorted(metrics))
    samples = []
    for message in sent:
        if message.kind == "telemetry" and not message.malformed:
            values = json.loads(message.payload)["metrics"]
            watched = {name: value for name, value in values.items() if name in metrics[message.device]}
            if watched:
                samples.append(Sample(message.device, message.ts, watched))
    with connect(database_url) as conn:
        Writer(conn).write(Batch(samples, []))
    warm_up_models(database_url, now=now)
