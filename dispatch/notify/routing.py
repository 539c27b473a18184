"""Which channels a notification goes through: routes by recipient unit, escalation level and kind.

A notification names its recipients (units, crew members); each route that matches a recipient sends to that
recipient through the route's channels. Recipients no route matches are reported as unrouted, so a notice that
reaches nobody is visible instead of silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from dispatch.notify.message import Notification, Notifier, Recipient


@dataclass(frozen=True)
class Channel:
    """A configured way to deliver: its name, its type (webhook, wecom, sms, email, log …) and the notifier."""

    name: str
    type: str
    notifier: Notifier


@dataclass(frozen=True)
class Route:
    """Send notices for ``units`` (``None``: every unit; a crew member counts as their unit) at ``levels``
    (``None``: every level, 0 being notices that are not escalations) of ``kinds`` (``None``: all) through
    ``channels``, adding ``phones`` and ``emails`` to the recipients' own contact addresses."""

    channels: tuple[str, ...]
    units: frozenset[str] | None = None
    levels: frozenset[int] | None = None
    kinds: frozenset[str] | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()

    def matches(self, notification: Notification, recipient: Recipient) -> bool:
        """Whether this route applies to ``recipient`` of ``notification``."""
        unit = recipient.id if recipient.kind == "unit" else recipient.unit_id
        return ((self.units is None or unit in self.units)
                and (self.levels is None or notification.level in self.levels)
                and (self.kinds is None or notification.kind in self.kinds))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``first`` after the first failure, doubling up to ``longest``, ``attempts`` in all."""

    first: timedelta = timedelta(seconds=30)
    longest: timedelta = timedelta(minutes=30)
    attempts: int = 8

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th attempt failed."""
        return min(self.first * 2 ** max(attempts - 1, 0), self.longest)


@dataclass(frozen=True)
class Plan:
    """A notification's deliveries: the recipients per channel name, and those no route reaches."""

    deliveries: dict[str, list[Recipient]] = field(default_factory=dict)
    unrouted: list[Recipient] = field(default_factory=list)


class Router:
    """The channels and routes of a deployment, and the retry policy of its deliveries."""

    def __init__(self, channels: Sequence[Channel], routes: Sequence[Route], *,
                 retry: RetryPolicy | None = None) -> None:
        self._channels = {c.name: c for c in channels}
        unknown = sorted({name for r in routes for name in r.channels} - set(self._channels))
        if unknown:
            raise ValueError(f"routes name channels that are not configured: {', '.join(unknown)}")
        self._routes = list(routes)
        self.retry = retry or RetryPolicy()

    @classmethod
    def single(cls, notifier: Notifier, *, name: str = "default", retry: RetryPolicy | None = None) -> Router:
        """Every notification to every recipient through one notifier."""
        return cls([Channel(name, type(notifier).__name__, notifier)], [Route(channels=(name,))], retry=retry)

    def channel(self, name: str) -> Channel | None:
        """The channel of that name, or ``None`` (a delivery routed under a configuration since changed)."""
        return self._channels.get(name)

    def plan(self, notification: Notification, recipients: Sequence[Recipient]) -> Plan:
        """The channels each recipient is reached through, in route order."""
        plan = Plan()
        for recipient in recipients:
            names = [n for route in self._routes if route.matches(notification, recipient) for n in route.channels]
            if not names:
                plan.unrouted.append(recipient)
            for name in dict.fromkeys(names):
                plan.deliveries.setdefault(name, []).append(recipient)
        return plan

    def addressed(self, notification: Notification, channel: str, recipients: Sequence[Recipient]) -> list[Recipient]:
        """``recipients`` with the phones and e-mail addresses of the routes that send them through ``channel``."""
        result = []
        for recipient in recipients:
            routes = [r for r in self._routes if channel in r.channels and r.matches(notification, recipient)]
            phones = [*recipient.phones, *(p for r in routes for p in r.phones)]
            emails = [*recipient.emails, *(e for r in routes for e in r.emails)]
            result.append(replace(recipient, phones=tuple(dict.fromkeys(phones)),
                                  emails=tuple(dict.fromkeys(emails))))
        return result

