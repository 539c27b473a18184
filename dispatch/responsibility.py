"""The responsibility list (事件部件处置权责清单): who handles which alarm category, how fast, and who is next.

The list is YAML data (format in docs/dispatch.md). ``parse_list`` validates it with line-numbered messages,
``import_list`` stores it as a new version, ``lookup`` answers "who is responsible for this category and
component here?" from the newest version, most specific scope first (building > site > any; an exact
component beats ``*``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg.types.json import Jsonb

from dispatch.durations import format_duration, parse_duration
from dispatch.errors import ResponsibilityListError, ResponsibilityNotFound
from dispatch.units import Unit, upsert_unit
from ingest.registry import site_region
from rules.categories import categories

FORMAT = "propwatch-responsibility/1"
ANY = "*"
SLA_STEPS: tuple[str, ...] = ("ack", "dispatch", "arrive", "resolve")
BREACH_ACTIONS: frozenset[str] = frozenset({"platform_dispatch"})
_ITEM_KEYS = frozenset({
    "category", "component", "site", "building", "unit", "skill", "sop", "sla", "sla_regions", "on_breach",
    "escalation", "accept_timeout", "emergency", "source",
})
_UNIT_KEYS = frozenset({"id", "kind", "name", "name_en", "site_ids", "contacts"})


@dataclass(frozen=True)
class ResponsibilityItem:
    """One line of the list: for (category, component, scope) the unit, SOP, SLA and escalation chain."""

    category: str
    component: str
    site: str
    building: str
    unit: str
    skill: str
    sop: str
    sla: dict[str, timedelta]
    sla_regions: dict[str, dict[str, timedelta]]
    on_breach: dict[str, str]
    escalation: list[list[str]]
    accept_timeout: timedelta
    emergency: bool
    fund_category: str | None
    source: str
    line: int = field(default=0, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.category, self.component, self.site, self.building)


@dataclass(frozen=True)
class ResponsibilityList:
    """A parsed, validated list: the units it declares and its items in file order."""

    units: list[Unit]
    items: list[ResponsibilityItem]
    accept_timeout: timedelta


@dataclass(frozen=True)
class Responsibility:
    """The answer of ``lookup``: the item that applies, with the SLA already resolved for the site's region."""

    version: int
    category: str
    component: str
    site: str
    building: str
    unit_id: str
    skill: str
    sop: str
    sla: dict[str, timedelta]
    on_breach: dict[str, str]
    escalation: list[list[str]]
    accept_timeout: timedelta
    emergency: bool
    fund_category: str | None
    source: str


def default_list_path() -> Path:
    """The responsibility list shipped with propwatch (covers every category of rules/categories.yaml)."""
    return Path(str(resources.files("dispatch") / "data" / "responsibility.yaml"))


# --- parsing -------------------------------------------------------------------------------------------------


def parse_list(text: str | dict[str, Any]) -> ResponsibilityList:
    """Parse and validate a list; raise ``ResponsibilityListError`` naming the line of every problem.

    A document already loaded (a mapping, as a JSON API receives it) is accepted too; its line numbers are those
    of its YAML rendering.
    """
    if not isinstance(text, str):
        text = yaml.safe_dump(text, allow_unicode=True, sort_keys=False, width=120)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ResponsibilityListError([f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise ResponsibilityListError(["line 1: the list must be a mapping with `format`, `units` and `items`"])
    problems: list[str] = []
    lines = _LineIndex(root)
    if data.get("format") != FORMAT:
        problems.append(f"line {lines.key('format')}: `format` must be {FORMAT!r}")
    accept_timeout = timedelta(minutes=5)
    defaults = data.get("defaults") or {}
    if "accept_timeout" in defaults:
        try:
            accept_timeout = parse_duration(defaults["accept_timeout"])
        except ValueError as exc:
            problems.append(f"line {lines.key('defaults')}: defaults.accept_timeout: {exc}")
    units = _parse_units(data.get("units") or [], lines, problems)
    items = [
        item
        for index, raw in enumerate(data.get("items") or [])
        if (item := _parse_item(raw, lines.item(index), accept_timeout, problems)) is not None
    ]
    if not items:
        problems.append(f"line {lines.key('items')}: `items` must list at least one item")
    _check_overlaps(items, problems)
    _check_gaps(items, lines.key("items"), problems)
    if problems:
        raise ResponsibilityListError(problems)
    return ResponsibilityList(units=units, items=items, accept_timeout=accept_timeout)


class _LineIndex:
    """1-based line numbers of top-level keys, unit entries and item entries (and their keys)."""

    def __init__(self, root: yaml.MappingNode) -> None:
        self._keys = {k.value: (k.start_mark.line + 1, v) for k, v in root.value if isinstance(k, yaml.ScalarNode)}

    def key(self, name: str) -> int:
        return self._keys.get(name, (1, None))[0]

    def _entry(self, section: str, index: int) -> yaml.Node | None:
        node = self._keys.get(section, (1, None))[1]
        if isinstance(node, yaml.SequenceNode) and index < len(node.value):
            return node.value[index]
        return None

    def unit(self, index: int) -> int:
        node = self._entry("units", index)
        return node.start_mark.line + 1 if node else self.key("units")

    def item(self, index: int) -> _ItemLines:
        node = self._entry("items", index)
        if not isinstance(node, yaml.MappingNode):
            return _ItemLines(node.start_mark.line + 1 if node else self.key("items"), {})
        keys = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
        return _ItemLines(node.start_mark.line + 1, keys)


@dataclass(frozen=True)
class _ItemLines:
    line: int
    keys: dict[str, int]

    def of(self, key: str) -> int:
        return self.keys.get(key, self.line)


def _parse_units(raw_units: Any, lines: _LineIndex, problems: list[str]) -> list[Unit]:
    if not isinstance(raw_units, list):
        problems.append(f"line {lines.key('units')}: `units` must be a list")
        return []
    units: dict[str, Unit] = {}
    for index, raw in enumerate(raw_units):
        line = lines.unit(index)
        if not isinstance(raw, dict) or not {"id", "kind", "name"} <= raw.keys():
            problems.append(f"line {line}: a unit needs `id`, `kind` and `name`")
            continue
        if unknown := sorted(set(raw) - _UNIT_KEYS):
            problems.append(f"line {line}: unit {raw['id']!r} has unknown keys {unknown}")
        if raw["id"] in units:
            problems.append(f"line {line}: unit {raw['id']!r} is declared twice")
        units[raw["id"]] = Unit(
            id=str(raw["id"]), kind=str(raw["kind"]), name=str(raw["name"]), name_en=raw.get("name_en"),
            site_ids=list(raw.get("site_ids") or []), contacts=dict(raw.get("contacts") or {}),
        )
    return list(units.values())


def _parse_item(
    raw: Any, where: _ItemLines, accept_timeout: timedelta, problems: list[str]
) -> ResponsibilityItem | None:
    if not isinstance(raw, dict):
        problems.append(f"line {where.line}: an item must be a mapping")
        return None
    before = len(problems)
    for key in sorted(set(raw) - _ITEM_KEYS):
        problems.append(f"line {where.of(key)}: unknown key {key!r} (allowed: {', '.join(sorted(_ITEM_KEYS))})")
    for key in ("category", "unit", "sop", "sla", "escalation", "source"):
        if not raw.get(key):
            problems.append(f"line {where.line}: item is missing `{key}`")
    if len(problems) > before:
        return None
    category = str(raw["category"])
    known = categories().get(category)
    component = str(raw.get("component") or (known.component if known else ""))
    if not component:
        problems.append(f"line {where.line}: category {category!r} is not in rules/categories.yaml; give `component`")
    elif known and known.component not in ("any", component) and component != ANY:
        problems.append(
            f"line {where.of('component')}: category {category!r} concerns {known.component!r}, not {component!r}"
        )
    site, building = str(raw.get("site", ANY)), str(raw.get("building", ANY))
    if building != ANY and site == ANY:
        problems.append(f"line {where.of('building')}: a building scope needs its `site`")
    sla = _durations(raw["sla"], where.of("sla"), "sla", problems)
    regions_raw = raw.get("sla_regions") or {}
    sla_regions = {
        str(region): _durations(limits, where.of("sla_regions"), f"sla_regions.{region}", problems)
        for region, limits in (regions_raw.items() if isinstance(regions_raw, dict) else [])
    }
    on_breach = {str(k): str(v) for k, v in (raw.get("on_breach") or {}).items()}
    for step, action in on_breach.items():
        if step not in SLA_STEPS or action not in BREACH_ACTIONS:
            problems.append(
                f"line {where.of('on_breach')}: on_breach {step}: {action} — step must be one of {SLA_STEPS}, "
                f"action one of {sorted(BREACH_ACTIONS)}"
            )
    escalation = raw["escalation"]
    if not isinstance(escalation, list) or not all(isinstance(level, list) and level for level in escalation):
        problems.append(f"line {where.of('escalation')}: `escalation` must be a list of levels, each a list of units")
        escalation = []
    emergency = raw.get("emergency") or False
    fund_category = None
    if emergency:
        fund_category = emergency.get("fund_category") if isinstance(emergency, dict) else None
        if not fund_category:
            problems.append(f"line {where.of('emergency')}: `emergency` must be {{fund_category: <category>}}")
    timeout = accept_timeout
    if "accept_timeout" in raw:
        try:
            timeout = parse_duration(raw["accept_timeout"])
        except ValueError as exc:
            problems.append(f"line {where.of('accept_timeout')}: accept_timeout: {exc}")
    if len(problems) > before:
        return None
    return ResponsibilityItem(
        category=category, component=component, site=site, building=building, unit=str(raw["unit"]),
        skill=str(raw.get("skill") or component), sop=str(raw["sop"]), sla=sla, sla_regions=sla_regions,
        on_breach=on_breach, escalation=[[str(u) for u in level] for level in escalation],
        accept_timeout=timeout, emergency=bool(emergency), fund_category=fund_category, source=str(raw["source"]),
        line=where.line,
    )


def _durations(raw: Any, line: int, name: str, problems: list[str]) -> dict[str, timedelta]:
    if not isinstance(raw, dict):
        problems.append(f"line {line}: `{name}` must map steps ({', '.join(SLA_STEPS)}) to durations")
        return {}
    result = {}
    for step, text in raw.items():
        if step not in SLA_STEPS:
            problems.append(f"line {line}: `{name}` has unknown step {step!r} (steps: {', '.join(SLA_STEPS)})")
            continue
        try:
            result[step] = parse_duration(text)
        except ValueError as exc:
            problems.append(f"line {line}: {name}.{step}: {exc}")
    return result


def _check_overlaps(items: list[ResponsibilityItem], problems: list[str]) -> None:
    seen: dict[tuple[str, str, str, str], ResponsibilityItem] = {}
    for item in items:
        if item.key in seen:
            problems.append(
                f"line {item.line}: overlaps the item at line {seen[item.key].line} "
                f"(same category {item.category!r}, component {item.component!r}, "
                f"site {item.site!r}, building {item.building!r}); keep one"
            )
        else:
            seen[item.key] = item


def _check_gaps(items: list[ResponsibilityItem], items_line: int, problems: list[str]) -> None:
    # Narrower scopes only override; every category needs a site-wide item or some site has no unit at all.
    for category in categories().values():
        accepted = {ANY} if category.component == "any" else {ANY, category.component}
        if not any(
            i.category == category.id and i.site == ANY and i.building == ANY and i.component in accepted
            for i in items
        ):
            problems.append(
                f"line {items_line}: gap: category {category.id!r} ({category.en}) has no site-wide item with "
                f"component {' or '.join(sorted(accepted))!r}: no unit would be responsible for it"
            )


# --- storage -------------------------------------------------------------------------------------------------


def to_document(lst: ResponsibilityList) -> dict[str, Any]:
    """The list as a YAML-shaped document (what ``export_list`` writes and ``parse_list`` reads)."""
    items = []
    for item in lst.items:
        doc: dict[str, Any] = {"category": item.category, "component": item.component}
        if item.site != ANY:
            doc["site"] = item.site
        if item.building != ANY:
            doc["building"] = item.building
        doc |= {"unit": item.unit, "skill": item.skill, "sop": item.sop,
                "sla": {k: format_duration(v) for k, v in item.sla.items()}}
        if item.sla_regions:
            doc["sla_regions"] = {
                region: {k: format_duration(v) for k, v in limits.items()}
                for region, limits in item.sla_regions.items()
            }
        if item.on_breach:
            doc["on_breach"] = dict(item.on_breach)
        doc["escalation"] = item.escalation
        if item.accept_timeout != lst.accept_timeout:
            doc["accept_timeout"] = format_duration(item.accept_timeout)
        if item.emergency:
            doc["emergency"] = {"fund_category": item.fund_category}
        doc["source"] = item.source
        items.append(doc)
    units = [
        {k: v for k, v in vars(u).items() if v not in (None, [], {})} for u in lst.units
    ]
    return {"format": FORMAT, "defaults": {"accept_timeout": format_duration(lst.accept_timeout)},
            "units": units, "items": items}


def import_list(conn: psycopg.Connection, lst: ResponsibilityList, *, actor: str) -> int:
    """Store ``lst`` as the current version (upserting the units it declares) and return its version number.

    Importing a list identical to the current version records nothing and returns the current version.
    """
    document = to_document(lst)
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    with conn.transaction():
        conn.execute("LOCK TABLE responsibility_versions IN SHARE ROW EXCLUSIVE MODE")
        current = conn.execute(
            "SELECT version, digest FROM responsibility_versions ORDER BY version DESC LIMIT 1"
        ).fetchone()
        if current and current[1] == digest:
            return current[0]
        for unit in lst.units:
            upsert_unit(conn, unit, actor=actor)
        _check_units_exist(conn, lst)
        version = conn.execute(
            "INSERT INTO responsibility_versions (imported_by, digest, body) VALUES (%s, %s, %s) RETURNING version",
            (actor, digest, Jsonb(document)),
        ).fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO responsibility_items (version, position, category, component, site_id, building_id,
                       unit_id, skill, sop, sla, on_breach, escalation, accept_timeout_s, emergency, fund_category,
                       source)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                [
                    (version, position, i.category, i.component, i.site, i.building, i.unit, i.skill, i.sop,
                     Jsonb(_sla_json(i)), Jsonb(i.on_breach), Jsonb(i.escalation),
                     int(i.accept_timeout.total_seconds()), i.emergency, i.fund_category, i.source)
                    for position, i in enumerate(lst.items)
                ],
            )
    return version


def import_default(conn: psycopg.Connection, lst: ResponsibilityList, *, actor: str) -> int:
    """Import a shipped default list as ``actor`` unless a person has saved a version since ``actor`` last did.

    A restart re-seeds the shipped list so that its new categories arrive, but it never overwrites an edit:
    once the newest version is someone else's, the shipped list waits for a person to merge it.
    """
    row = conn.execute(
        "SELECT version, imported_by FROM responsibility_versions ORDER BY version DESC LIMIT 1").fetchone()
    if row is not None and row[1] != actor:
        return row[0]
    return import_list(conn, lst, actor=actor)


def _check_units_exist(conn: psycopg.Connection, lst: ResponsibilityList) -> None:
    known = {row[0] for row in conn.execute("SELECT id FROM dispatch_units")}
    problems = [
        f"line {item.line}: unit {unit!r} is neither declared in `units` nor registered"
        for item in lst.items
        for unit in sorted({item.unit, *(u for level in item.escalation for u in level)})
        if unit not in known
    ]
    if problems:
        raise ResponsibilityListError(problems)


def _sla_json(item: ResponsibilityItem) -> dict[str, Any]:
    def seconds(limits: dict[str, timedelta]) -> dict[str, int]:
        return {step: int(limit.total_seconds()) for step, limit in limits.items()}

    return {"default": seconds(item.sla), "regions": {r: seconds(v) for r, v in item.sla_regions.items()}}


def current_version(conn: psycopg.Connection) -> int | None:
    """The newest version number, or ``None`` before the first import."""
    row = conn.execute("SELECT max(version) FROM responsibility_versions").fetchone()
    return row[0]


def export_list(conn: psycopg.Connection) -> str:
    """The current version as YAML text that ``parse_list`` accepts (empty string before the first import)."""
    row = conn.execute("SELECT body FROM responsibility_versions ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return ""
    return yaml.safe_dump(row[0], allow_unicode=True, sort_keys=False, width=120)


def lookup(
    conn: psycopg.Connection, *, category: str, component: str, site_id: str, building_id: str | None = None
) -> Responsibility:
    """The most specific item of the current version for this category, component and place.

    Raises ``ResponsibilityNotFound`` when nothing covers it (no list imported, or an unknown category).
    """
    row = conn.execute(
        """SELECT i.version, i.category, i.component, i.site_id, i.building_id, i.unit_id, i.skill, i.sop, i.sla,
                  i.on_breach, i.escalation, i.accept_timeout_s, i.emergency, i.fund_category, i.source
           FROM responsibility_items i
           WHERE i.version = (SELECT max(version) FROM responsibility_versions)
             AND i.category = %(category)s
             AND i.component IN (%(component)s, '*')
             AND i.site_id IN (%(site)s, '*')
             AND i.building_id IN (coalesce(%(building)s, '*'), '*')
           ORDER BY (i.building_id <> '*') DESC, (i.site_id <> '*') DESC, (i.component <> '*') DESC
           LIMIT 1""",
        {"category": category, "component": component, "site": site_id, "building": building_id},
    ).fetchone()
    if row is None:
        raise ResponsibilityNotFound(
            f"no responsibility item for category {category!r}, component {component!r} at site {site_id!r}"
        )
    sla_json, region = row[8], site_region(conn, site_id)
    # Region keys match the site's region exactly or as a prefix (GB/T 2260 codes nest), the longest winning.
    matching = [key for key in sla_json["regions"] if region.startswith(key)]
    override = sla_json["regions"][max(matching, key=len)] if matching else {}
    limits = {**sla_json["default"], **override}
    return Responsibility(
        version=row[0], category=row[1], component=row[2], site=row[3], building=row[4], unit_id=row[5],
        skill=row[6], sop=row[7], sla={step: timedelta(seconds=s) for step, s in limits.items()},
        on_breach=row[9], escalation=row[10], accept_timeout=timedelta(seconds=row[11]), emergency=row[12],
        fund_category=row[13], source=row[14],
    )


def responsible_unit(conn: psycopg.Connection, *, category: str, site_id: str) -> str | None:
    """The unit the current list makes responsible for ``category`` site-wide at ``site_id``, or ``None`` when
    nothing covers it."""
    known = categories().get(category)
    component = ANY if known is None or known.component == "any" else known.component
    try:
        return lookup(conn, category=category, component=component, site_id=site_id).unit_id
    except ResponsibilityNotFound:
        return None
