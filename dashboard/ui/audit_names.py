"""What the audit viewer calls the objects its entries name, instead of their internal ids: a work order by its
number, a booking by its service and home, a person by their display name, a crew member by name, an estate,
building or device by its name, a silence by what it silences, an alarm by its title, a fund draw by its item.

The audit trail keeps ids (they never change); names are looked up when the page shows them.
"""

from __future__ import annotations

from collections.abc import Iterable

from dashboard.security import Conn
from dashboard.ui.homes import household_labels
from dashboard.users import get_user
from dispatch.crew import get_crew_member
from dispatch.fund.draws import get_draw
from dispatch.workorders.queries import get_work_order
from ingest import registry
from rules.alarms import get_alarm
from rules.silences import get_silence
from services.bookings import get_booking
from services.errors import NotFound

MOST_REFERENCES = 300
NAMED = frozenset({"site", "building", "device", "work_order", "booking", "user", "crew_member", "silence", "alarm",
                   "fund_draw"})
ALIASES = {"sign_in": "user"}  # a sign-in's target is the user signing in


def _number(key: str) -> int:
    """A record id; ``ValueError`` for anything a bigint column cannot hold, which names nothing."""
    number = int(key)
    if not 0 < number < 2**63:
        raise ValueError(key)
    return number


class _Names:
    """One page's lookups, with the estate-wide tables (buildings, homes) read once."""

    def __init__(self, conn: Conn, english: bool) -> None:
        self.conn, self.english = conn, english
        self._buildings: dict[str, str] | None = None
        self._homes: dict[str, dict[str, str]] = {}

    def site(self, key: str) -> str | None:
        site = registry.get_site(self.conn, key)
        return None if site is None else (site.name_en or site.name) if self.english else site.name

    def building(self, key: str) -> str | None:
        if self._buildings is None:
            self._buildings = {b.id: b.name for b in registry.list_buildings(self.conn)}
        return self._buildings.get(key)

    def device(self, key: str) -> str | None:
        found = registry.get_devices(self.conn, [key])
        return found[0].name if found else None

    def work_order(self, key: str) -> str | None:
        order = get_work_order(self.conn, _number(key))
        return order.number if order else None

    def booking(self, key: str) -> str | None:
        try:
            booking = get_booking(self.conn, _number(key))
        except NotFound:
            return None
        if booking.site_id not in self._homes:
            self._homes[booking.site_id] = household_labels(self.conn, booking.site_id, "en" if self.english else "zh")
        home = self._homes[booking.site_id].get(booking.household_id, booking.household_id)
        return f"{booking.service_name} · {home}"

    def user(self, key: str) -> str | None:
        user = get_user(self.conn, _number(key))
        return user.display_name if user else None

    def crew_member(self, key: str) -> str | None:
        member = get_crew_member(self.conn, key)
        return member.name if member else None

    def silence(self, key: str) -> str | None:
        found = get_silence(self.conn, _number(key))
        return None if found is None else self.name(found.scope_type, found.scope_id)

    def alarm(self, key: str) -> str | None:
        alarm = get_alarm(self.conn, _number(key))
        return None if alarm is None else alarm.title_en if self.english else alarm.title_zh

    def fund_draw(self, key: str) -> str | None:
        draw = get_draw(self.conn, _number(key))
        return draw.item if draw else None

    def name(self, kind: str, key: str) -> str | None:
        """The name of one object, ``None`` for a kind without names here or an object that is gone."""
        kind = ALIASES.get(kind, kind)
        if kind not in NAMED:
            return None
        try:
            return getattr(self, kind)(key)
        except ValueError:  # an id of the wrong shape (``sign_in:-`` of an unknown username) names nothing
            return None


def audit_names(conn: Conn, references: Iterable[str], *, english: bool) -> dict[str, str]:
    """``{"work_order:3": "WO-…", "building:S001-B01": "1号楼", …}`` for each ``kind:id`` reference that names
    something (at most ``MOST_REFERENCES``); references to nothing are left out, and the page shows the id."""
    names = _Names(conn, english)
    found: dict[str, str] = {}
    for reference in list(dict.fromkeys(references))[:MOST_REFERENCES]:
        kind, _, key = reference.partition(":")
        name = names.name(kind, key) if key else None
        if name:
            found[reference] = name
    return found
