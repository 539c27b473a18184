"""Who may do what: the roles and the named groups of roles every router and page checks against.

A group is named for what its members do, not for one endpoint, so a new endpoint picks the group whose job it
serves and an access change is made here once.
"""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["admin", "operator", "crew", "committee", "subdistrict", "owner", "public"]
Group = tuple[Role, ...]

ROLES: Group = get_args(Role)

ADMINS: Group = ("admin",)
"""Users, the audit trail, dead letters, the responsibility list's text, silencing a rule everywhere."""

HANDLERS: Group = ("admin", "operator")
"""Act for the control room: acknowledge and clear alarms, open work orders and fund draws."""

CONTROL_ROOM: Group = ("admin", "operator", "subdistrict")
"""Watch the estate: alarms, sites and devices, presence, the responsibility list and its units."""

FIELD: Group = ("admin", "operator", "crew")
"""Work on an order: move it through its states, attach photos."""

CREW: Group = ("crew",)
"""Take an order and work on it from the crew app."""

LIVE: Group = ("admin", "operator", "crew", "subdistrict")
"""Follow live alarm and work-order events."""

ORDER_READERS: Group = ("admin", "operator", "crew", "committee", "subdistrict")
"""Read work orders (crew: their own unit's)."""

OVERSIGHT: Group = ("admin", "operator", "committee", "subdistrict")
"""Read fund draws, KPIs and the work-order overview."""

APPROVERS: Group = ("committee", "subdistrict")
"""Approve or reject fund draws (the owners' committee, or the sub-district office where there is none)."""

OWNERS: Group = ("owner",)
"""Read their own household's fund account and statement; vote for their household."""

ESTATE_READERS: Group = ("admin", "operator", "committee", "subdistrict", "owner")
"""Read an estate's owners' votes, published vote results, shared-part summaries and annual fund disclosures."""

REPORTERS: Group = ("admin", "operator", "owner")
"""File complaints: the control room for callers and 12345 tickets, owners for their own estate (and read them)."""

EVERYONE: Group = ROLES
"""Any signed-in user."""

PUBLISHERS: Group = ("admin", "operator")
"""Maintain what the property company publishes: services, prices, board items; confirm and finish bookings."""

SERVICE_READERS: Group = ("admin", "operator", "committee", "subdistrict", "owner")
"""Read an estate's service list, price history and board items (owners: to book from it)."""

BOOKING_PARTIES: Group = ("admin", "operator", "owner")
"""Read and cancel home-service bookings (owners: their own household's)."""

SUPERVISORS: Group = ("admin", "subdistrict")
"""Read property companies and their contracts (sub-district: those serving its estates); recompute credit."""

INSPECTORS: Group = ("subdistrict",)
"""Inspect estates, give the monthly opinion of their companies, keep the red and black lists (notice 20-21)."""
