"""Editing the responsibility list as data: its JSON schema, checking an edit, the diff against the current
version, saving it as a new version, and reading old versions.

An edit is checked in two passes: the shape against ``dispatch/data/responsibility.schema.json`` (messages name
the JSON path), then the rules that need the whole list (``parse_list``: gaps, overlaps, categories). The diff
compares normalised documents (``to_document``), so reformatting the YAML changes nothing. Saving names the
version the edit started from; if someone saved in between, ``StaleVersion`` asks for a fresh diff instead of
overwriting their change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import psycopg
import yaml
from jsonschema import Draft202012Validator

from dispatch.errors import ResponsibilityListError, ResponsibilityVersionNotFound, StaleVersion
from dispatch.responsibility import ResponsibilityList, current_version, import_list, parse_list, to_document


@dataclass(frozen=True)
class Change:
    """One difference between two lists: an item, unit or default ``added``, ``removed`` or ``changed``.

    ``key`` is ``category/component/site/building`` for items, the id for units, the name for defaults;
    ``fields`` maps each changed field to ``{"from": old, "to": new}``.
    """

    op: str
    section: str
    key: str
    fields: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Review:
    """An edit checked against the current version: ``problems`` (empty when valid) and, when valid, the
    ``changes`` saving it would make, and the version they are measured from."""

    base_version: int | None
    problems: list[str]
    changes: list[Change]

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class VersionInfo:
    """A stored version of the list: who imported it and when, and how many items it has."""

    version: int
    imported_at: datetime
    imported_by: str
    items: int


@cache
def schema() -> dict[str, Any]:
    """The list's JSON schema (draft 2020-12)."""
    text = (resources.files("dispatch") / "data" / "responsibility.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def schema_problems(document: Any) -> list[str]:
    """Where ``document`` breaks the schema, one message per problem naming its JSON path."""
    validator = Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(document)'}: {e.message}" for e in errors]


def load(source: str | dict[str, Any]) -> ResponsibilityList:
    """Check a list given as YAML text or as a document (schema, then the whole-list rules) and return it parsed.

    Raises ``ResponsibilityListError`` with every problem.
    """
    if isinstance(source, str):
        try:
            document = yaml.safe_load(source)
        except yaml.YAMLError:
            return parse_list(source)  # names the line of the syntax error
    else:
        document = source
    problems = schema_problems(document)
    if problems:
        raise ResponsibilityListError(problems)
    return parse_list(source)


def review(conn: psycopg.Connection, source: str | dict[str, Any]) -> Review:
    """What saving ``source`` would do: its problems, or the changes against the current version."""
    base = current_version(conn)
    try:
        edited = to_document(load(source))
    except ResponsibilityListError as exc:
        return Review(base, exc.problems, [])
    current = version_document(conn, base) if base is not None else {"defaults": {}, "units": [], "items": []}
    return Review(base, [], diff(current, edited))


def save(conn: psycopg.Connection, source: str | dict[str, Any], *, base_version: int | None, actor: str) -> int:
    """Store ``source`` as the next version if the list is still at ``base_version``; return the version.

    An edit identical to the current version stores nothing and returns it. Raises ``StaleVersion`` when another
    version was saved since ``base_version`` and ``ResponsibilityListError`` with every problem.
    """
    parsed = load(source)
    with conn.transaction():
        conn.execute("LOCK TABLE responsibility_versions IN SHARE ROW EXCLUSIVE MODE")
        current = current_version(conn)
        if current != base_version:
            raise StaleVersion(f"the list is at version {current}, not {base_version}: review the edit again")
        return import_list(conn, parsed, actor=actor)


def list_versions(conn: psycopg.Connection) -> list[VersionInfo]:
    """Every stored version, newest first."""
    rows = conn.execute(
        """SELECT v.version, v.imported_at, v.imported_by,
                  (SELECT count(*) FROM responsibility_items i WHERE i.version = v.version)
           FROM responsibility_versions v ORDER BY v.version DESC"""
    ).fetchall()
    return [VersionInfo(*row) for row in rows]


def version_document(conn: psycopg.Connection, version: int) -> dict[str, Any]:
    """The document of one stored version. Raises ``ResponsibilityVersionNotFound``."""
    row = conn.execute("SELECT body FROM responsibility_versions WHERE version = %s", (version,)).fetchone()
    if row is None:
        raise ResponsibilityVersionNotFound(f"the responsibility list has no version {version}")
    return row[0]


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """The changes from document ``old`` to ``new`` (both as ``to_document`` writes them): defaults, units by
    id, items by category/component/site/building, each in the order of ``new`` then removals."""
    changes = _section("defaults", {k: {"value": v} for k, v in (old.get("defaults") or {}).items()},
                       {k: {"value": v} for k, v in (new.get("defaults") or {}).items()})
    changes += _section("units", {u["id"]: u for u in old.get("units") or []},
                        {u["id"]: u for u in new.get("units") or []})
    changes += _section("items", {_item_key(i): i for i in old.get("items") or []},
                        {_item_key(i): i for i in new.get("items") or []})
    return changes


def _item_key(item: dict[str, Any]) -> str:
    return "/".join(str(item.get(k, "*")) for k in ("category", "component", "site", "building"))


def _section(section: str, old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[Change]:
    changes = []
    for key, entry in new.items():
        if key not in old:
            changes.append(Change("added", section, key, {f: {"from": None, "to": v} for f, v in entry.items()}))
        elif fields := {f: {"from": old[key].get(f), "to": entry.get(f)}
                        for f in dict.fromkeys([*old[key], *entry]) if old[key].get(f) != entry.get(f)}:
            changes.append(Change("changed", section, key, fields))
    changes += [Change("removed", section, key, {f: {"from": v, "to": None} for f, v in entry.items()})
                for key, entry in old.items() if key not in new]
    return changes
