"""Administration pages: the hub, users and crew, alarm rules, silences, the responsibility list, preventive
plans and the audit trail. Each page reads and changes its data through the JSON API; the rules page is drawn
here from the effective rule pack, which no API lists."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.i18n import work_order_states
from dashboard.roles import ROLES
from dashboard.security import Conn
from dashboard.strings.admin import (
    ACTION_NAMES,
    ATTRIBUTE_NAMES,
    COMPONENT_NAMES,
    OBJECT_NAMES,
    SETTING_NAMES,
    SKILL_NAMES,
    STRINGS,
)
from dashboard.strings.devices import METRIC_NAMES
from dashboard.ui.audit_names import audit_names
from dashboard.ui.rendering import lang_of, page_user, render
from dashboard.users import User
from dispatch import preventive, units
from gateway.protocol.catalog import catalog
from ingest import registry
from rules.categories import categories
from rules.checker import Checker
from rules.kinds import KINDS, Setting
from rules.model import Level, Rule
from rules.overrides import RULE_SETTINGS, Overrides
from rules.store import effective_pack, pack_text

router = APIRouter(include_in_schema=False)
admin_page = page_user(roles.ADMINS)

HUB = ("users", "rules", "silences", "responsibility", "plans", "audit")


def _page(request: Request, name: str, user: User, page: str = "admin", **context: Any) -> HTMLResponse:
    """Render an administration page with every ``adm_`` string for its script, in the page's language."""
    index = 1 if lang_of(request) == "en" else 0
    strings = {key: pair[index] for key, pair in STRINGS.items()}
    return render(request, name, user, page=page, js_strings=strings, **context)


def pack_name(site_id: str) -> str:
    """The stored rule pack holding the overrides made on the rules page for one estate."""
    return f"admin-{site_id}"


def _english(request: Request) -> bool:
    return lang_of(request) == "en"


def _named(names: dict[str, tuple[str, str]], key: str, english: bool) -> str:
    """A code by its name in the reader's language; a code without a name stays as it is."""
    return names[key][english] if key in names else key


def _sites(conn: Conn, english: bool) -> list[dict[str, str]]:
    """The estates with their names in the reader's language (the Chinese name where no English one was given)."""
    return [{"id": s.id, "name": (s.name_en or s.name) if english else s.name, "tz": s.timezone}
            for s in registry.list_sites(conn)]


@router.get("/admin")
def hub(request: Request, user: Annotated[User, Depends(admin_page)]) -> HTMLResponse:
    """Links to every administration page; operators and everyone else get the friendly 403."""
    return _page(request, "admin_hub.html", user, sections=HUB)


@router.get("/admin/users")
def users_page(request: Request, conn: Conn, user: Annotated[User, Depends(admin_page)]) -> HTMLResponse:
    """Web users and crew members: lists from the API, forms for creating and changing them."""
    english = _english(request)
    return _page(request, "admin_users.html", user, sites=_sites(conn, english), roles_list=ROLES,
                  units=[{"id": u.id, "name": (u.name_en or u.name) if english else u.name}
                         for u in units.list_units(conn)],
                  skills={key: names[english] for key, names in SKILL_NAMES.items()})


@router.get("/admin/silences")
def silences_page(request: Request, conn: Conn, user: Annotated[User, Depends(admin_page)]) -> HTMLResponse:
    """Silences from the API; the estates, buildings and devices offered as scopes by name (picked, not typed),
    and for naming the scopes of the silences listed."""
    sites = _sites(conn, _english(request))
    return _page(request, "admin_silences.html", user, sites=sites,
                  buildings=[{"id": b.id, "site_id": b.site_id, "name": b.name}
                             for b in registry.list_buildings(conn)],
                  devices=[{"id": d.id, "site_id": d.site_id, "building_id": d.building_id, "name": d.name}
                           for d in registry.list_devices(conn)])


@router.get("/admin/plans")
def plans_page(request: Request, conn: Conn, user: Annotated[User, Depends(admin_page)]) -> HTMLResponse:
    """Preventive plans from the API; the templates and estates offered to the form."""
    return _page(request, "admin_plans.html", user, sites=_sites(conn, _english(request)),
                  templates_list=[{"id": t.id, "zh": t.title_zh, "en": t.title_en}
                                  for t in preventive.templates().values()])


@router.get("/admin/audit")
def audit_page(request: Request, conn: Conn, user: Annotated[User, Depends(admin_page)]) -> HTMLResponse:
    """The audit trail from the API; the estates, for their names and time zones, the work-order states, for the
    summaries of state changes, and the actions (by family) and object types the filters offer by name."""
    families: dict[str, list[str]] = {}
    for action in ACTION_NAMES:
        families.setdefault(action.split(".")[0], []).append(action)
    return _page(request, "admin_audit.html", user, sites=_sites(conn, _english(request)),
                  states=work_order_states(lang_of(request)), action_families=list(families.items()),
                  object_types=list(OBJECT_NAMES))


@router.get("/admin/audit/names")
def audit_names_json(request: Request, conn: Conn, _: Annotated[User, Depends(admin_page)],
                     ref: Annotated[list[str] | None, Query(max_length=300)] = None) -> dict[str, str]:
    """The names the audit page shows for the objects its entries name (``ref=work_order:3&ref=device:…``), in the
    reader's language; a reference to nothing is left out and the page shows its id."""
    return audit_names(conn, ref or [], english=_english(request))


@router.get("/responsibility")
def responsibility(request: Request, conn: Conn,
                   user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))]) -> HTMLResponse:
    """The list as a table for the control room; a form editor for admins. The categories' names ride along
    (the list holds their ids only); a preventive maintenance category is named by its template."""
    english = _english(request)
    names = {c.id: c.en if english else c.zh for c in categories().values()}
    for template in preventive.templates().values():
        names.setdefault(template.category, template.title_en if english else template.title_zh)
    return _page(request, "responsibility.html", user, page="responsibility", sites=_sites(conn, english),
                  category_names=names)


@router.get("/admin/rules")
def rules_page(request: Request, conn: Conn, user: Annotated[User, Depends(admin_page)],
               site_id: str | None = None) -> HTMLResponse:
    """The rules in effect on one estate (the default pack, the stored packs, the estate's overrides), and the
    overrides of this page's own pack for that estate, which the form adds to and publishes again."""
    english = _english(request)
    sites = _sites(conn, english)
    site = next((s for s in sites if s["id"] == site_id), sites[0] if sites else None)
    rows: list[dict[str, Any]] = []
    own: list[dict[str, Any]] = []
    if site is not None:
        pack = effective_pack(conn)
        applied = Overrides(pack.overrides)
        for rule in pack.rules:
            effective = applied.apply(rule, {"site": site["id"]})
            rows.append(_rule_row(rule, effective, english))
        text = pack_text(conn, pack_name(site["id"]))
        own = list((yaml.safe_load(text) or {}).get("overrides") or []) if text else []
    return _page(request, "admin_rules.html", user, sites=sites, site=site, rules=rows, own_overrides=own,
                  pack=pack_name(site["id"]) if site else "")


def _rule_row(default: Rule, rule: Rule, english: bool) -> dict[str, Any]:
    """What the rules table shows of one rule on one estate, in the reader's language, and the settings the form
    may change."""
    types = catalog()
    device = types.get(rule.device_type or "")
    metric = getattr(rule.spec, "metric", None)
    unit = device.metrics[metric].unit if device and metric in device.metrics else ""
    codes = getattr(rule.spec, "codes", ())
    events = [device.events[c] for c in codes if c in device.events] if device else []
    # The catalogue names device types in Chinese only; English takes the component's UI name.
    device_name = "" if device is None else _named(COMPONENT_NAMES, device.name, english) if english else device.name_zh
    settings = {s.key: _setting(s, rule) for s in RULE_SETTINGS}
    settings.update({s.key: _setting(s, rule.spec) for s in KINDS[rule.kind].settings})
    types = {s.key: _value_type(s) for s in (*RULE_SETTINGS, *KINDS[rule.kind].settings)}
    return {
        "id": rule.id, "title_zh": rule.title_zh, "title_en": rule.title_en, "kind": rule.kind,
        "device_type": device_name, "metric": metric or "",
        "metric_name": _named(METRIC_NAMES, metric, english) if metric else "", "unit": unit,
        "events": ", ".join(e.en for e in events) if english else "、".join(e.zh for e in events),
        "levels": _levels(rule, english), "severity": rule.severity, "enabled": rule.enabled,
        "changed": rule != default, "settings": settings, "types": types,
    }


def _value_type(setting: Setting) -> str:
    """What the form accepts for a setting, as the pack reader reads it: ``duration`` (``30s``), ``level`` (a
    number here; a level relative to a device attribute is written in a pack), ``bool``, ``severity`` or
    ``number``."""
    if setting.key in ("enabled", "manual_clear"):
        return "bool"
    if setting.key == "severity":
        return "severity"
    if setting.read is Checker.duration:
        return "duration"
    return "level" if setting.read is Checker.level else "number"


def _levels(rule: Rule, english: bool) -> str:
    """The kind's own settings, then the timing, as one line named in the reader's language:
    ``Below 0.1 · Clear at 0.12 · Lasting 1m``."""
    parts = [f"{_named(SETTING_NAMES, s.key, english)} {_setting(s, rule.spec, english)}"
             for s in KINDS[rule.kind].settings if getattr(rule.spec, s.field) not in (None, 0.0)]
    parts += [f"{_named(SETTING_NAMES, key, english)} {_seconds(value)}"
              for key, value in (("for", rule.for_s), ("clear_for", rule.clear_for_s)) if value]
    return " · ".join(parts)


def _setting(setting: Setting, holder: object, english: bool | None = None) -> str:
    value = getattr(holder, setting.field)
    if setting.read is Checker.duration and isinstance(value, int | float):
        return _seconds(value)
    return _shown(value, english)


def _shown(value: Any, english: bool | None = None) -> str:
    """A setting as an author would write it in a pack, or, given the reader's language, with the device
    attribute a level is relative to named in it."""
    if value is None:
        return ""
    if isinstance(value, Level):
        if value.attribute is None:
            return _number(value.constant)
        attribute = value.attribute if english is None else _named(ATTRIBUTE_NAMES, value.attribute, english)
        return f"{attribute} × {_number(value.factor)}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _seconds(value: float) -> str:
    whole = int(value)
    for unit, size in (("h", 3600), ("m", 60)):
        if whole >= size and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{_number(value)}s"
