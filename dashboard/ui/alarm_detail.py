"""What the alarm detail page shows: the alarm and where it is, its timeline in the estate's time zone, the
device's readings around it (drawn by static/js/alarm_chart.js with ECharts) and its work order. Gathered here so
the page route stays one call."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

import psycopg

from dashboard.i18n import site_name
from dashboard.ui import charts
from dashboard.users import User
from dispatch.workorders import OrderFilter, WorkOrder, page_work_orders
from gateway.protocol.catalog import catalog
from ingest import history, registry
from rules import alarms, console_query
from rules.alarms import Alarm, AlarmTransition
from rules.errors import RulePackError
from rules.store import effective_pack

# The readings shown around an alarm: from this long before it became active to this long after it cleared (or
# to now while it is open), in buckets of at least BUCKET and at most MAX_POINTS of them.
AROUND = timedelta(minutes=30)
BUCKET = timedelta(seconds=30)
MAX_POINTS = 360
# Event rules name no metric: the device's first few metrics are shown instead, measured ones first.
FALLBACK_METRICS = 3
# Catalogue units of metrics that are state codes or counters, not measurements (gateway/protocol/catalog).
NOT_MEASURES = frozenset({"code", "count"})


@dataclass(frozen=True)
class TimelineEntry:
    """One transition as the page shows it: ``kind`` names its translated label (``tl_*`` in dashboard.i18n);
    ``detail`` is what the engine saw in the reader's words (the events by name), ``None`` when the label and
    the comment say it all."""

    at: str
    kind: str
    from_state: str | None
    to_state: str
    actor: str | None
    detail: str | None
    comment: str | None


# What an operator's or the engine's transition was, from the cause each writes (rules.alarms, rules.lifecycle).
_CAUSES = (("cleared on acknowledgement", "tl_ack_cleared"), ("acknowledged", "tl_ack"), ("assigned to", "tl_assigned"),
           ("cleared by hand", "tl_hand_cleared"), ("cleared as its work order closed", "tl_order_cleared"))


# The transitions a person made: their label, who and the comment tell everything the cause would.
_BY_PEOPLE = frozenset({"tl_ack_cleared", "tl_ack", "tl_assigned", "tl_hand_cleared", "tl_order_cleared"})
# The engine names the events of an event rule in its causes: ``event trapped``, ``cleared: event
# normal_operation``, ``event door_reopen x5 within 120 s`` (rules/kinds/event.py).
_EVENT_CAUSE = re.compile(r"\bevent ([a-z0-9_/]+)(?: x(\d+))?")


def transition_detail(kind: str, cause: str, device_type: str | None, lang: str) -> str | None:
    """What the engine saw, as the page shows it under the label: the events of an event cause by their catalogue
    names (事件：困人); another engine cause in English only (its wording is English); nothing for a person's
    action, whose comment is shown instead."""
    if kind in _BY_PEOPLE:
        return None
    match = _EVENT_CAUSE.search(cause)
    if match:
        names = "/".join(charts.event_name(device_type, code, lang) for code in match[1].split("/"))
        times = f" ×{match[2]}" if match[2] else ""
        return f"Event: {names}{times}" if lang == "en" else f"事件：{names}{times}"
    return cause if lang == "en" else None


def transition_kind(to_state: str, cause: str, values: dict[str, object]) -> str:
    """The ``tl_*`` label key of one transition."""
    for prefix, kind in _CAUSES:
        if cause.startswith(prefix):
            return kind
    if values.get("latched"):
        return "tl_latched"
    return {"pending": "tl_pending", "active": "tl_raised", "cleared": "tl_cleared"}.get(to_state, "tl_other")


@dataclass(frozen=True)
class Chart:
    """The readings of one metric around the alarm, as the alarm page's script draws them: ``points`` are
    ``[UTC time, avg, min, max]`` per bucket; ``labels`` name a state metric's codes; ``bands`` are the alarm
    rule's thresholds on the metric."""

    metric: str
    name: str
    unit: str
    state: bool
    labels: list[tuple[int, str]]
    bands: list[charts.Band]
    points: list[tuple[str, float, float, float]]


@dataclass(frozen=True)
class Moment:
    """A moment of the alarm's life drawn as a line on its charts: ``kind`` is its label key."""

    kind: str
    at: str


@dataclass(frozen=True)
class ChartWindow:
    """What the alarm page's charts share: the window, the estate's zone and the alarm's moments."""

    zone: str
    start: str
    end: str
    moments: list[Moment]
    charts: list[Chart] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlarmPage:
    """Everything the alarm page renders."""

    alarm: Alarm
    site_name: str
    building_name: str | None
    floor: str | None
    device_name: str | None
    zone: str
    first_seen: str
    activated_at: str | None
    returned_at: str | None
    acked_at: str | None
    open_for: str
    timeline: list[TimelineEntry]
    charts: ChartWindow
    window: str
    value_at_alarm: str | None
    """The alarm's value as the reader says it: the event by name (困人), a state metric's label (下行), else the
    number with its unit."""
    value_hint: str | None
    """The code behind a state's label (原始代码 0), shown on hover for engineers."""
    order: WorkOrder | None
    clearable: bool
    last_transition_id: int
    """The newest transition shown: the page reloads for a newer one only."""


def utc_marker(at: datetime, zone: tzinfo) -> str:
    """The zone's offset from UTC at ``at``: ``UTC+8``, ``UTC+5:30``, ``UTC-3``."""
    offset = at.astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(at: datetime, zone: tzinfo) -> str:
    """``at`` in the estate's zone with the offset as a marker: ``2026-12-07 20:01:02 UTC+8``."""
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M:%S} {utc_marker(at, zone)}"


def zone_text(zone: tzinfo, now: datetime, lang: str) -> str:
    """The estate's zone as a reader knows it, its offset first: ``UTC+8（Asia/Shanghai）``."""
    return f"{utc_marker(now, zone)} ({zone})" if lang == "en" else f"{utc_marker(now, zone)}（{zone}）"


def _maybe_local(at: datetime | None, zone: tzinfo) -> str | None:
    return local_time(at, zone) if at else None


def clock(span: timedelta) -> str:
    """A duration as ``mm:ss`` under an hour, else ``h:mm``; never negative."""
    seconds = max(0, int(span.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"


def alarm_page(conn: psycopg.Connection, alarm: Alarm, user: User, *, now: datetime, english: bool) -> AlarmPage:
    """The page of ``alarm`` (already checked to lie in ``user``'s scope) as of ``now``; ``english`` picks the
    estate's English name where it has one."""
    zone = registry.site_timezone(conn, alarm.site_id)
    transitions = alarms.alarm_history(conn, alarm.id)
    site = registry.get_site(conn, alarm.site_id)
    device = registry.get_device(conn, alarm.device_id) if alarm.device_id else None
    building = next((b for b in registry.list_buildings(conn, site_id=alarm.site_id)
                     if b.id == alarm.building_id), None)
    start = alarm.activated_at or alarm.first_seen
    end = alarm.cleared_at or now
    lang = "en" if english else "zh-CN"
    window_end = min(now, end + AROUND)
    device_type = device.type if device else None
    metrics = _metrics(conn, alarm, device_type)
    value_at_alarm, value_hint = _value_text(alarm, device_type, metrics, lang)
    return AlarmPage(
        alarm=alarm, site_name=site_name(site, lang) if site else alarm.site_id,
        building_name=building.name if building else alarm.building_id,
        floor=str(device.attributes.get("floor")) if device and device.attributes.get("floor") is not None else None,
        device_name=device.name if device else None, zone=zone_text(zone, now, lang),
        first_seen=local_time(alarm.first_seen, zone), activated_at=_maybe_local(alarm.activated_at, zone),
        returned_at=_maybe_local(alarm.returned_at, zone), acked_at=_maybe_local(alarm.acked_at, zone),
        open_for=clock(end - start),
        timeline=[_entry(t, zone, device_type, lang) for t in transitions],
        charts=ChartWindow(str(zone), (start - AROUND).isoformat(), window_end.isoformat(), _moments(alarm),
                           _charts(conn, alarm, device, metrics, start - AROUND, window_end, lang)),
        window=f"{local_time(start - AROUND, zone)} – {local_time(window_end, zone)}",
        value_at_alarm=value_at_alarm, value_hint=value_hint,
        order=_order_of(conn, alarm, user), clearable=console_query.clearable(conn, alarm.id),
        last_transition_id=max((t.id for t in transitions), default=0))


def _entry(transition: AlarmTransition, zone: tzinfo, device_type: str | None, lang: str) -> TimelineEntry:
    kind = transition_kind(transition.to_state, transition.cause, transition.values)
    comment = transition.values.get("comment") or transition.values.get("reason")
    return TimelineEntry(local_time(transition.at, zone), kind, transition.from_state, transition.to_state,
                         transition.actor, transition_detail(kind, transition.cause, device_type, lang),
                         str(comment) if comment else None)


def _metrics(conn: psycopg.Connection, alarm: Alarm, device_type: str | None) -> list[str]:
    """The metric the alarm's rule watches, or for an event rule the device's first few measured metrics (those
    with a physical unit before state codes and counters)."""
    try:
        rule = effective_pack(conn).rule(alarm.rule_id)
    except (KeyError, RulePackError):
        rule = None
    metric = getattr(rule.spec, "metric", None) if rule else None
    if metric:
        return [metric]
    if not alarm.device_id:
        return []
    units = _units(device_type)
    seen = list(history.latest(conn, alarm.device_id))
    seen.sort(key=lambda m: units.get(m, "code") in NOT_MEASURES)
    return seen[:FALLBACK_METRICS]


def _units(device_type: str | None) -> dict[str, str]:
    specs = catalog().get(device_type or "")
    return {name: spec.unit for name, spec in specs.metrics.items()} if specs else {}


def _moments(alarm: Alarm) -> list[Moment]:
    """The alarm's raise, return to normal, acknowledgement and clearing, those it has had (UTC)."""
    found = [("activated_at", alarm.activated_at or alarm.first_seen), ("returned_at", alarm.returned_at),
             ("acked_at", alarm.acked_at), ("dev_alarm_cleared", alarm.cleared_at)]
    return [Moment(kind, at.isoformat()) for kind, at in found if at is not None]


def _value_text(alarm: Alarm, device_type: str | None, metrics: list[str],
                lang: str) -> tuple[str | None, str | None]:
    """The alarm's value as the reader says it, and the code behind a state's label: an event rule's event by
    name (with the count when the rule counts several), a state metric's label, else the number with the
    metric's unit."""
    if alarm.value is None:
        return None, None
    code = alarm.detail.get("code")
    if code:
        name = charts.event_name(device_type, str(code), lang)
        return (name if alarm.value <= 1 else f"{name} ×{alarm.value:g}"), None
    spec = charts.metric_spec(device_type, metrics[0]) if len(metrics) == 1 else None
    label = spec.label(alarm.value, lang) if spec else None
    if label:
        return label, f"{alarm.value:g}"
    unit = charts.unit_label(spec.unit, lang) if spec else ""
    return f"{alarm.value:g} {unit}".rstrip(), None


def _charts(conn: psycopg.Connection, alarm: Alarm, device: registry.Device | None, metrics: list[str],
            start: datetime, end: datetime, lang: str) -> list[Chart]:
    """Each metric's readings in ``[start, end)``, bucketed so a chart has at most MAX_POINTS points, with the
    alarm rule's thresholds on it."""
    if device is None or end <= start:
        return []
    bucket = max(BUCKET, timedelta(seconds=-(-(end - start).total_seconds() // MAX_POINTS)))
    bands = charts.thresholds(conn, device, lang)
    found = []
    for metric in metrics:
        spec = charts.metric_spec(device.type, metric)
        unit = spec.unit if spec else ""
        buckets = history.rollup(conn, device.id, metric, start, end, bucket=bucket)
        found.append(Chart(metric, charts.metric_name(metric, lang), charts.unit_label(unit, lang),
                           unit in charts.STATES, charts.value_labels(spec, lang),
                           [b for b in bands.get(metric, []) if b.rule_id == alarm.rule_id],
                           [(b.bucket.isoformat(), b.avg, b.min, b.max) for b in buckets]))
    return found


def _order_of(conn: psycopg.Connection, alarm: Alarm, user: User) -> WorkOrder | None:
    """The work order dispatch opened for the alarm (an order lists the first alarm of its incident)."""
    if not alarm.device_id or not user.sees_site(alarm.site_id):
        return None
    orders, _ = page_work_orders(conn, sites=[alarm.site_id], where=OrderFilter(device_id=alarm.device_id),
                                 limit=50, offset=0)
    return next((order for order in orders if order.alarm_id == alarm.id), None)
