"""The navigation bar: which pages each role sees, in order. Pages check the same role groups themselves."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard import roles
from dashboard.roles import Group


@dataclass(frozen=True)
class NavLink:
    """One link of the bar: the page's path, its UI-string key, the roles that see it, the ``page`` id it lights."""

    path: str
    label: str
    group: Group
    page: str


NAV: tuple[NavLink, ...] = (
    NavLink("/console", "console", roles.CONTROL_ROOM, "console"),
    NavLink("/estate", "estate", roles.CONTROL_ROOM, "estate"),
    NavLink("/work-orders", "work_orders", roles.OVERSIGHT, "work_orders"),
    NavLink("/fund-approvals", "fund", roles.OVERSIGHT, "fund"),
    NavLink("/votes", "votes", ("admin", "operator", "committee", "subdistrict"), "votes"),
    NavLink("/kpi", "kpi", roles.OVERSIGHT, "kpi"),
    NavLink("/responsibility", "responsibility", roles.CONTROL_ROOM, "responsibility"),
    NavLink("/service-desk", "service_desk", roles.PUBLISHERS, "service_desk"),
    NavLink("/board-items", "board_upkeep", roles.PUBLISHERS, "board_items"),
    NavLink("/supervision", "supervision", roles.SUPERVISORS, "supervision"),
    NavLink("/admin", "admin", roles.ADMINS, "admin"),
    NavLink("/crew", "crew", roles.CREW, "crew"),
    NavLink("/my-fund", "my_fund", roles.OWNERS, "my_fund"),
    NavLink("/my-services", "home_services", roles.OWNERS, "my_services"),
    NavLink("/my-reports", "my_reports", roles.OWNERS, "my_reports"),
    NavLink("/my-votes", "my_votes", roles.OWNERS, "my_votes"),
    NavLink("/board", "board", ("public",), "board"),
)


def links_for(role: str) -> list[NavLink]:
    """The links ``role`` sees, in the bar's order."""
    return [link for link in NAV if role in link.group]
