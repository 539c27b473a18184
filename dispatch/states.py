"""The work-order state machine and its mapping to government disposal codes (GB/T 24476-style deal_status).

States and transitions follow DOMAIN.md §6.1 (the suggested canonical set); the codes follow DOMAIN.md §1.5:
01 发生 occurred, 02 响应 responded, 04 到场 on site, 00 处置完成 done, 05 误报 false alarm.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    NEW = "NEW"
    ACKED = "ACKED"
    DISPATCHED = "DISPATCHED"
    EN_ROUTE = "EN_ROUTE"
    ON_SITE = "ON_SITE"
    IN_PROGRESS = "IN_PROGRESS"
    ON_HOLD = "ON_HOLD"
    RESOLVED = "RESOLVED"
    VERIFIED = "VERIFIED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"
    FALSE_ALARM = "FALSE_ALARM"


# A false alarm can only be declared before work starts; cancelling is possible from any open state.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.NEW: frozenset({State.ACKED, State.CANCELLED, State.FALSE_ALARM}),
    State.ACKED: frozenset({State.DISPATCHED, State.CANCELLED, State.FALSE_ALARM}),
    State.DISPATCHED: frozenset({State.EN_ROUTE, State.ON_SITE, State.CANCELLED, State.FALSE_ALARM}),
    State.EN_ROUTE: frozenset({State.ON_SITE, State.CANCELLED, State.FALSE_ALARM}),
    State.ON_SITE: frozenset({State.IN_PROGRESS, State.RESOLVED, State.CANCELLED, State.FALSE_ALARM}),
    State.IN_PROGRESS: frozenset({State.ON_HOLD, State.RESOLVED, State.CANCELLED}),
    State.ON_HOLD: frozenset({State.IN_PROGRESS, State.CANCELLED}),
    State.RESOLVED: frozenset({State.VERIFIED, State.CLOSED, State.IN_PROGRESS}),
    State.VERIFIED: frozenset({State.CLOSED}),
    State.CLOSED: frozenset(),
    State.CANCELLED: frozenset(),
    State.FALSE_ALARM: frozenset(),
}

# Open = the incident is still being handled; a new alarm on the same incident joins the order.
OPEN_STATES: frozenset[State] = frozenset({State.NEW, State.ACKED, State.DISPATCHED, State.EN_ROUTE, State.ON_SITE,
                                           State.IN_PROGRESS, State.ON_HOLD})
TERMINAL_STATES: frozenset[State] = frozenset({State.CLOSED, State.CANCELLED, State.FALSE_ALARM})

# A cancelled order (duplicate, withdrawn report) reports 05: no fault was handled, which is what the
# platform's false-alarm code means to it; the cancellation note says why.
GOV_CODES: dict[State, str] = {
    State.NEW: "01",
    State.ACKED: "02",
    State.DISPATCHED: "02",
    State.EN_ROUTE: "02",
    State.ON_SITE: "04",
    State.IN_PROGRESS: "04",
    State.ON_HOLD: "04",
    State.RESOLVED: "00",
    State.VERIFIED: "00",
    State.CLOSED: "00",
    State.CANCELLED: "05",
    State.FALSE_ALARM: "05",
}

# Which timestamp column a state stamps (the first time it is reached) and which SLA step that satisfies.
STAMPS: dict[State, str] = {
    State.ACKED: "acked_at",
    State.DISPATCHED: "dispatched_at",
    State.EN_ROUTE: "en_route_at",
    State.ON_SITE: "on_site_at",
    State.RESOLVED: "resolved_at",
    State.CLOSED: "closed_at",
}
SATISFIES: dict[State, tuple[str, ...]] = {
    State.ACKED: ("ack",),
    State.DISPATCHED: ("ack", "dispatch"),
    State.EN_ROUTE: ("ack", "dispatch"),
    State.ON_SITE: ("ack", "dispatch", "arrive"),
    State.IN_PROGRESS: ("ack", "dispatch", "arrive"),
    State.ON_HOLD: ("ack", "dispatch", "arrive"),
    State.RESOLVED: ("ack", "dispatch", "arrive", "resolve"),
}


def can_transition(from_state: State, to_state: State) -> bool:
    """Whether the state machine allows ``from_state`` → ``to_state``."""
    return to_state in TRANSITIONS[from_state]
