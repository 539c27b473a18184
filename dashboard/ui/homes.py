"""Homes and buildings named the way a person reads them ("1号楼 1单元 101", "Bldg 1, Unit 1, Room 101"), never
by their registry ids (``S001-B01-U1``), which stay in CSV and JSON for machines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dashboard.security import Conn
from dispatch.fund import estate
from ingest import registry

# The estate's own names are Chinese ("1号楼", "2单元"); a numbered one reads "Bldg 1" / "Unit 2" in English.
# A name in any other form ("会所", "A座") is the estate's proper name and is shown as it is in both languages.
_NUMBERED_BUILDING = re.compile(r"^(\w+?)\s*(?:号楼|栋|幢)$")
_NUMBERED_UNIT = re.compile(r"^(\w+?)\s*单元$")


def _english(name: str, pattern: re.Pattern[str], word: str) -> str:
    found = pattern.match(name)
    return f"{word} {found.group(1)}" if found else name


@dataclass(frozen=True)
class HomeNames:
    """The building and unit names of one estate, by id, to label homes and buildings in a page's language."""

    buildings: dict[str, str]
    units: dict[str, estate.BuildingUnit]

    def building(self, building_id: str, lang: str) -> str:
        """A building's name ("1号楼" / "Bldg 1"); its id only when the registry has no such building."""
        name = self.buildings.get(building_id, building_id)
        return _english(name, _NUMBERED_BUILDING, "Bldg") if lang == "en" else name

    def unit(self, unit_id: str, lang: str) -> str:
        """A unit's name ("1单元" / "Unit 1")."""
        found = self.units.get(unit_id)
        name = found.name if found else unit_id
        return _english(name, _NUMBERED_UNIT, "Unit") if lang == "en" else name

    def home(self, building_id: str, unit_id: str, room: str, lang: str) -> str:
        """A home: "1号楼 1单元 101" in Chinese, "Bldg 1, Unit 1, Room 101" in English."""
        found = self.units.get(unit_id)
        return self.home_in_unit(building_id, found.name if found else unit_id, room, lang)

    def home_in_unit(self, building_id: str, unit_name: str, room: str, lang: str) -> str:
        """A home whose unit is known by its name (a published disclosure keeps the name, not the id)."""
        if lang == "en":
            return f"{self.building(building_id, lang)}, {_english(unit_name, _NUMBERED_UNIT, 'Unit')}, Room {room}"
        return f"{self.building(building_id, lang)} {unit_name} {room}"

    def household(self, household: estate.Household, lang: str) -> str:
        """A household as a home label."""
        return self.home(household.building_id, household.unit_id, household.room, lang)

    def scope(self, scope_type: str, scope_id: str, lang: str) -> str:
        """The place a vote or a draw covers: a building, or a unit with its building, by name; the whole estate
        needs no name (empty)."""
        if scope_type == "building":
            return self.building(scope_id, lang)
        if scope_type == "unit":
            found = self.units.get(scope_id)
            building = self.building(found.building_id, lang) if found else ""
            return f"{building}{', ' if lang == 'en' else ' '}{self.unit(scope_id, lang)}"
        return ""


def home_names(conn: Conn, site_id: str) -> HomeNames:
    """The names of an estate's buildings and units, read once for a page."""
    return HomeNames({b.id: b.name for b in registry.list_buildings(conn, site_id=site_id)},
                     {u.id: u for u in estate.list_building_units(conn, site_id)})


def household_labels(conn: Conn, site_id: str, lang: str) -> dict[str, str]:
    """Every home of an estate by household id, labelled in the page's language (a list naming many homes)."""
    names = home_names(conn, site_id)
    return {h.id: names.household(h, lang) for h in estate.list_households(conn, site_id)}
